"""DaemonSet: one pod on every node that should run it.

Follows ``pkg/controller/daemon/daemon_controller.go`` (``syncNodes``,
``podsShouldBeOnNode``) and ``NodeShouldRunDaemonPod``: one sync of one
DaemonSet is one step, over every node at once (upstream creates and deletes
in batches within one sync).

- A node *should run* the daemon pod (:func:`node_should_run_daemon_pod`, upstream's
  ``NodeShouldRunDaemonPod`` and ``predicates``) when the template's
  ``spec.nodeName``, if set, is that node's name, the pod's ``nodeSelector``
  and required node affinity match the node, and it has no NoSchedule or
  NoExecute taint the pod does not tolerate; it *should keep running* it
  unless the name or the selector stops matching or an untolerated NoExecute
  taint appears. Resources, host ports and ``spec.unschedulable`` are not
  checked (the scheduler's business since daemon pods are scheduled by the
  default scheduler). The controller adds tolerations for ``not-ready`` and
  ``unreachable`` (NoExecute, no time limit) and the pressure and
  ``unschedulable`` taints, so a daemon pod is never evicted from a node that
  stops answering; it just stops being Ready.
- A template with ``spec.nodeName`` makes one pod, for that node, bound at
  creation (``nodeName: node-2`` on three nodes: one pod, on node-2; a name
  that names no node: no pod at all).
- A node that should run it and has no active daemon pod gets one, named
  ``<daemonset>-<node>`` here (upstream generates a name and targets the node
  with ``matchFields`` node affinity; the name stands for that affinity, see
  :func:`target_node`); the default scheduler binds it to that node only,
  after its filters (so a full node leaves it Pending).
- A Failed pod is deleted (and made again by a later sync); a pod on a node
  that should not keep running it is deleted.

Update strategies, once a ``rollout`` operation has changed the template
(``syncDaemonSet``): the new template's pods are named ``<daemonset>-v2-<node>``.
A node with a daemon pod of either template, terminating ones included, gets
no new pod from the manage pass; with both an old and a new pod running there,
the old one goes once it is not Ready or the new one is available
(``podsShouldBeOnNode`` with surge). Only a sync whose manage pass changed
nothing goes on to the strategy (upstream waits for its expectations):
``OnDelete`` replaces nothing until someone deletes a pod; ``RollingUpdate``
runs :func:`rolling_update` with :func:`updated_desired_node_counts`, and
where upstream takes "the first" candidates in map order the model branches
on every choice. Available means Running and Ready (``minReadySeconds`` counts
as elapsed).

A DaemonSet being deleted (``propagationPolicy: Foreground`` or ``Orphan``:
it stays in the API with a deletionTimestamp while the garbage collector
works) is not synced at all (``syncDaemonSet`` returns at once, status
included): no pod is created or deleted.

Generations (in a scenario whose checks read them, see
:func:`~kspec.simulation.controllers.deployment.track_generations`): a
``rollout`` bumps ``metadata.generation``; every sync writes
``status.observedGeneration`` (``updateDaemonSetStatus``; reading the API the
model keeps no DaemonSet expectations, so each sync is one whose expectations
were met; reading a cache, a sync that unmet expectations hold back is no
step, as it writes no observedGeneration), so a sync with no pod to touch
still happens once after a spec change, to write it. The status until then
counts the pods for the template the controller last saw (:func:`status`);
:func:`rollout_status` is ``kubectl rollout status`` reading it
(``DaemonSetStatusViewer``).

Read through an informer cache (a scenario's ``consistency.controllers``
names ``daemonset``), the controller keeps upstream's memory and writes as
upstream does (:class:`DaemonSetController`): pods get names that never
collide, ``<daemonset>-<node>-<k>`` with the least free ``k`` (upstream's
``GenerateName`` gives a fresh name, so a second pod for one node is never
refused with AlreadyExists; the node stays readable in the name, and a
DaemonSet's pods are never renumbered by symmetry reduction, which keeps node
symmetry off with DaemonSets anyway), and ``podsShouldBeOnNode`` deletes all
but the oldest of several running pods on one node (scheduled before
unscheduled; creation times are not in the state, so the model branches on
which scheduled pod is the oldest).

Not modelled as steps: the failed-pod back-off (time is abstract), revision
history and a template changed twice.
"""

from __future__ import annotations

import itertools
from typing import ClassVar, NamedTuple

import attrs

from kspec.api.objects import Node, PodSpec
from kspec.simulation.controllers.deployment import (generation, observed_generation, record_observed,
                                                     status_revision, unobserved_spec, with_observed)
from kspec.simulation.controllers.protocol import WorkloadSlots, describe_sync, scaled_value
from kspec.checker.model import Action
from kspec.scheduling.filters import node_selector_matches, untolerated_taint
from kspec.simulation.informer import Event, cached_state
from kspec.simulation.state import (FAILED, RUNNING, State, World, create_pod, deletion_pending, delete_pod, free_name,
                                    has_quorum, is_terminal)

__all__ = ["DaemonSetSync", "DaemonSetBatch", "DaemonSetExpectationsExpired", "DaemonSetExpectations",
           "DaemonSetController", "DaemonSetStatus", "status", "rollout_status",
           "daemonset_status_viewer", "NodeDaemonPods", "RollingUpdatePlan", "current_group", "manage_plans",
           "node_should_run_daemon_pod", "pod_node", "pods_should_be_on_node", "rollout_plans", "rollout_syncs",
           "rolling_update", "should_run", "sync", "target_node", "updated_desired_node_counts"]

ACTOR = "daemonset"


@attrs.frozen
class DaemonSetSync(Action):
    """One sync of a DaemonSet: the pods it created and deleted."""

    actor: ClassVar[str] = "daemonset"
    daemonset: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    observed: int = 0  # the status.observedGeneration it wrote, when it changed

    def __str__(self) -> str:
        return with_observed(describe_sync("DaemonSetSync", self.daemonset, create=self.create, delete=self.delete),
                             self.observed)


def _informed(world: World) -> bool:
    """Whether the controller reads its informer cache (and names pods ``<daemonset>-<node>-<k>``)."""
    return ACTOR in world.memory_slots


def target_node(world: World, group: int, name: str) -> int:
    """``util.GetTargetNodeName`` for an unbound pod: the node its ``matchFields``
    affinity names, which its name carries here (``<daemonset>-<node>``, or
    ``<daemonset>-<node>-<k>`` when the controller reads its cache); -1 if none."""
    prefix = world.groups[group].prefix
    if not name.startswith(prefix):
        return -1
    rest = name[len(prefix):]
    if _informed(world):
        rest = rest.rpartition("-")[0]
    return world.node_index.get(rest, -1)


def pod_node(world: World, pod) -> int:
    """The node a daemon pod is for: the one it is bound to, else its target."""
    return pod.node if pod.node >= 0 else target_node(world, pod.group, pod.name)


def node_should_run_daemon_pod(spec: PodSpec, node: Node) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (shouldRun, shouldContinueRunning) for a
    daemon pod with ``spec`` (the template with the controller's tolerations,
    as ``NewPod`` makes it) on ``node``.

    A template ``nodeName`` naming another node, or a ``nodeSelector`` /
    required node affinity that does not match, rules the node out for both.
    An untolerated NoSchedule or NoExecute taint means no new pod; a running
    one keeps running unless a NoExecute taint is the untolerated one.
    """
    if spec.node_name and spec.node_name != node.metadata.name:
        return False, False
    if not node_selector_matches(spec, node):
        return False, False
    if untolerated_taint(node.spec.taints, spec.tolerations) is None:
        return True, True
    return False, untolerated_taint(node.spec.taints, spec.tolerations, ("NoExecute",)) is None


def should_run(world: World, state: State, w: int, node: int) -> tuple[bool, bool]:
    """:func:`node_should_run_daemon_pod` for DaemonSet ``w`` on ``node`` as the state shows it
    (the node controller's taints included)."""
    spec = world.groups[world.workloads[w].group].pod.spec
    return node_should_run_daemon_pod(spec, world.node_object(node, state.nodes[node]))


def current_group(world: World, state: State, w: int) -> int:
    """The pod group of the DaemonSet's current template (the second once its rollout is done)."""
    workload = world.workloads[w]
    return workload.revisions[world.current_revision(state, w)] if workload.revisions else workload.group


def _node_pods(world: World, state: State, w: int, node: int) -> list:
    """The DaemonSet's pods for ``node``, of every template revision, terminating ones included."""
    groups = world.workloads[w].revisions or (world.workloads[w].group,)
    if _informed(world):
        return [p for p in state.pods if p.group in groups and pod_node(world, p) == node]
    pods = (state.pod(world.groups[g].prefix + world.node_names[node]) for g in groups)
    return [p for p in pods if p is not None]


def _available(pod) -> bool:
    """``IsPodAvailable`` with ``minReadySeconds`` elapsed: Running, Ready and not terminating."""
    return pod.phase == RUNNING and pod.ready and not pod.deleting


def _surplus(pods: list, group: int) -> list:
    """``podsShouldBeOnNode`` with surge: of an old and a new pod both running on a node, the old
    one goes when it is not Ready or the new one is available."""
    live = [p for p in pods if not p.deleting and p.phase != FAILED]
    new = [p for p in live if p.group == group]
    old = [p for p in live if p.group != group]
    if new and old and (not old[0].ready or _available(new[0])):
        return old[:1]
    return []


def sync(world: World, state: State, w: int) -> tuple[State, list[str], list[str]]:
    """One manage pass (``syncNodes`` over ``podsShouldBeOnNode``): the next state and the pods
    created and deleted."""
    if state.replicas[w] is None or deletion_pending(world, state, w):  # the garbage collector's business
        return state, [], []
    group = current_group(world, state, w)
    created: list[str] = []
    deleted: list[str] = []
    for node in range(len(world.nodes)):
        run, keep = should_run(world, state, w, node)
        pods = _node_pods(world, state, w, node)
        gone = [p for p in pods if not p.deleting and (p.phase == FAILED or not keep)]
        for pod in gone or (_surplus(pods, group) if keep else []):
            state = delete_pod(state, state.index_of(pod.name))
            deleted.append(pod.name)
        if not pods and run:
            name = world.groups[group].prefix + world.node_names[node]
            state, _ = create_pod(world, state, group, owner=w, name=name)
            created.append(name)
    return state, created, deleted


def _rollout_nodes(world: World, state: State, w: int, group: int) -> tuple[list[NodeDaemonPods], int]:
    """The nodes that hold a pod of the DaemonSet, as ``rollingUpdate`` sees them, and how many
    nodes should run it (``desiredNumberScheduled``)."""
    nodes = []
    desired = 0
    for node in range(len(world.nodes)):
        run = should_run(world, state, w, node)[0]
        desired += run
        pods = _node_pods(world, state, w, node)
        if not pods:
            continue
        live = [p for p in pods if not p.deleting]
        new = [p for p in live if p.group == group]
        old = [p for p in live if p.group != group]
        nodes.append(NodeDaemonPods(world.node_names[node], run, tuple(p.name for p in new),
                                    bool(new) and _available(new[0]), tuple(p.name for p in old),
                                    bool(old) and _available(old[0])))
    return nodes, desired


def rollout_plans(world: World, state: State, w: int):
    """``rollingUpdate``: one (pods to delete, names of the nodes to get a new pod) per way of
    taking the plan's choices; nothing when the DaemonSet is not rolling out."""
    workload = world.workloads[w]
    strategy = workload.record.spec.update_strategy
    if state.replicas[w] is None or deletion_pending(world, state, w) or strategy.type != "RollingUpdate" \
            or not workload.revisions or world.current_revision(state, w) == 0:
        return
    nodes, desired = _rollout_nodes(world, state, w, current_group(world, state, w))
    surge, unavailable = updated_desired_node_counts(strategy.max_surge, strategy.max_unavailable, desired)
    plan = rolling_update(nodes, surge, unavailable, desired)
    for deletes in itertools.combinations(plan.delete_choices, plan.delete_count):
        for creates in itertools.combinations(plan.create_choices, plan.create_count):
            yield plan.delete + deletes, plan.create_on + creates


def rollout_syncs(world: World, state: State, w: int):
    """``rollingUpdate`` then ``syncNodes`` on the API: one (next state, created, deleted) per
    :func:`rollout_plans` plan that changes something."""
    group = current_group(world, state, w)
    for deletes, nodes in rollout_plans(world, state, w):
        nxt = state
        deleted = [name for name in deletes if not nxt.pod(name).deleting]
        for name in deleted:
            nxt = delete_pod(nxt, nxt.index_of(name))
        created = []
        for node in nodes:
            name = world.groups[group].prefix + node
            if nxt.pod(name) is None:  # upstream's generated name never collides; ours waits
                nxt, _ = create_pod(world, nxt, group, owner=w, name=name)
                created.append(name)
        if created or deleted:
            yield nxt, created, deleted


# --------------------------------------------------------------------------- reading through an informer cache


def _oldest(pods: list) -> list:
    """The pods ``podByCreationTimestampAndPhase`` may sort first: scheduled before unscheduled,
    then the oldest, which the state does not record (so any of them)."""
    bound = [p for p in pods if p.node >= 0]
    return bound or pods


def _allows_surge(world: World, w: int) -> bool:
    """``util.AllowsSurge``: a RollingUpdate whose ``maxSurge`` (of one node) is not 0."""
    strategy = world.workloads[w].record.spec.update_strategy
    return strategy.type == "RollingUpdate" and scaled_value(strategy.max_surge, 1, True) != 0


def pods_should_be_on_node(world: World, state: State, w: int, node: int) -> tuple[list[tuple[str, ...]], bool]:
    """``podsShouldBeOnNode`` for DaemonSet ``w`` on ``node``: every set of pods upstream may
    delete there (several only when it keeps "the oldest" of pods the state cannot order), and
    whether the node needs a new pod."""
    run, keep = should_run(world, state, w, node)
    pods = _node_pods(world, state, w, node)
    if run and not pods:
        return [()], True
    if not keep:
        return [tuple(p.name for p in pods if not p.deleting)], False
    doomed = [p.name for p in pods if not p.deleting and is_terminal(p)]
    running = [p for p in pods if not p.deleting and not is_terminal(p)]
    if not _allows_surge(world, w):  # all but the oldest go
        if len(running) <= 1:
            return [tuple(doomed)], False
        return [tuple(sorted(doomed + [p.name for p in running if p is not kept])) for kept in _oldest(running)], False
    if not running:
        return [tuple(doomed)], run
    group = current_group(world, state, w)
    choices = []
    for new in _oldest([p for p in running if p.group == group]) or [None]:
        for old in _oldest([p for p in running if p.group != group]) or [None]:
            extra = [p.name for p in running if p is not new and p is not old]
            if new is not None and old is not None and (not old.ready or _available(new)):
                extra.append(old.name)
            choices.append(tuple(sorted(doomed + extra)))
    return choices, False


def manage_plans(world: World, state: State, w: int) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``manage``: every (pods to delete, names of the nodes needing a pod) its
    :func:`pods_should_be_on_node` choices give, over every node."""
    if state.replicas[w] is None or deletion_pending(world, state, w):
        return []
    needing = []
    per_node = []
    for node in range(len(world.nodes)):
        choices, needs = pods_should_be_on_node(world, state, w, node)
        per_node.append(choices)
        if needs:
            needing.append(world.node_names[node])
    plans = {tuple(sorted(itertools.chain(*deletes))) for deletes in itertools.product(*per_node)}
    return [(deletes, tuple(needing)) for deletes in sorted(plans)]


@attrs.frozen
class DaemonSetBatch(Action):
    """The next slow-start batch of a sync creating daemon pods, with the sync's deletions after
    its last batch (``failed``: the writes failed, the rest of the sync is skipped)."""

    actor: ClassVar[str] = "daemonset"
    daemonset: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    failed: int = 0

    def __str__(self) -> str:
        if self.failed:
            return f"DaemonSetBatch({self.daemonset}: {self.failed} writes failed, rest of the sync skipped)"
        return describe_sync("DaemonSetBatch", self.daemonset, create=self.create, delete=self.delete)


@attrs.frozen
class DaemonSetExpectationsExpired(Action):
    """Expectations nothing can meet any more (the cache has every event) time out:
    ``ControllerExpectations``' 5-minute TTL always fires in the end."""

    actor: ClassVar[str] = "daemonset"
    daemonset: str


class DaemonSetExpectations(NamedTuple):
    """The controller's memory of one DaemonSet: ``ControlleeExpectations`` (``add``
    creations and ``delete`` deletions still expected, counts as ``SetExpectations``
    sets them), and the ``syncNodes`` in progress: ``pending`` nodes (indexes) still to
    get a pod of template ``group``, in batches of ``batch`` doubling each time, and the
    ``doomed`` pods it deletes once the creations are sent."""

    add: int = 0
    delete: int = 0
    pending: tuple[int, ...] = ()
    batch: int = 1
    doomed: tuple[str, ...] = ()
    group: int = -1

    @property
    def satisfied(self) -> bool:
        """``SatisfiedExpectations``: nothing expected is still to be seen."""
        return self.add <= 0 and self.delete <= 0

    def __repr__(self) -> str:
        parts = [f"add {self.add}"] if self.add else []
        parts += [f"del {self.delete}"] if self.delete else []
        parts += [f"{len(self.pending)} to create in batches of {self.batch}+"] if self.pending else []
        parts += [f"then delete {list(self.doomed)}"] if self.doomed else []
        return "expect(" + ", ".join(parts) + ")"


def _normal(exp: DaemonSetExpectations | None) -> DaemonSetExpectations | None:
    """A met record with no sync in progress behaves as no record at all; with no
    creation pending, the batch size and template are forgotten."""
    if exp is None or (exp.satisfied and not exp.pending and not exp.doomed):
        return None
    return exp if exp.pending else exp._replace(batch=1, group=-1)


class DaemonSetController(WorkloadSlots):
    """The DaemonSet controller: one :class:`DaemonSetSync` step per DaemonSet that has work.

    Named in a scenario's ``consistency.controllers`` it reads its informer
    cache and keeps upstream's memory (:class:`DaemonSetExpectations`, per
    DaemonSet): ``syncNodes`` sets the expectations (``SetExpectations`` with
    the number of pods it creates and deletes), creates in slow-start batches
    (1, 2, 4, ...; one step each, so a restart can fall between two), then
    deletes; the handlers (:meth:`observe`) lower them; ``syncDaemonSet`` runs
    ``manage`` and ``rollingUpdate`` only once they are satisfied. They expire
    after 5 minutes (the ``expectations-expire`` fault, or a fair step once
    nothing is left to arrive); a restart loses them."""

    actor = ACTOR
    fair = True

    names = "doomed"  # the pod names an expectations record holds
    normal = staticmethod(_normal)

    def workloads(self, world: World) -> tuple[int, ...]:
        return world.daemonsets

    def steps(self, world: World, state: State):
        if _informed(world):
            for w in world.daemonsets:
                yield from self.sync_informed(world, state, w)
            return
        for w in world.daemonsets:
            name = world.workloads[w].name
            unseen = None if deletion_pending(world, state, w) else unobserved_spec(world, state, w)
            seen = 0 if unseen is None else generation(world, state, w)
            nxt, created, deleted = sync(world, state, w)
            if created or deleted:
                yield DaemonSetSync(name, tuple(created), tuple(deleted), seen), _observe(world, nxt, w, unseen)
                continue
            rolled = False
            for nxt, created, deleted in rollout_syncs(world, state, w):
                rolled = True
                yield DaemonSetSync(name, tuple(created), tuple(deleted), seen), _observe(world, nxt, w, unseen)
            if not rolled and unseen is not None:  # nothing to do but write status.observedGeneration
                yield DaemonSetSync(name, observed=seen), _observe(world, state, w, unseen)

    # ---------------------------------------------------------------- memory (informed mode)

    def observe(self, world: World, state: State, event: Event) -> State:
        """The informer's handlers for a pod a DaemonSet owns: ``addPod`` ->
        ``CreationObserved`` (a pod added already terminating -> ``deletePod``);
        ``updatePod`` of a pod with a deletionTimestamp (each update) and
        ``deletePod`` -> ``DeletionObserved``."""
        pod = event.after if event.after is not None else event.before
        if pod.owner not in world.daemonsets or state.replicas[pod.owner] is None:  # resolveControllerRef: gone
            return state
        exp = self.slot(world, state, pod.owner)
        if exp is None:
            return state
        if event.after is None or event.after.deleting:
            exp = exp._replace(delete=max(0, exp.delete - 1))
        elif event.before is None:
            exp = exp._replace(add=max(0, exp.add - 1))
        else:
            return state
        return self.with_slot(world, state, pod.owner, exp)

    def expire(self, world: World, state: State):
        """Each DaemonSet whose unmet expectations can time out (no sync running)."""
        for w in world.daemonsets:
            exp = self.slot(world, state, w)
            if exp is not None and not exp.pending and not exp.doomed and not exp.satisfied:
                yield world.workloads[w].ref, self.with_slot(world, state, w, None)

    def _caught_up(self, world: World, state: State) -> bool:
        """The cache has every event and lost none: unmet expectations can
        only be met by time running out."""
        k = world.informer_slots.get(self.actor)
        return k is None or state.informers[k] == (0, ())

    def sync_informed(self, world: World, state: State, w: int):
        """``syncDaemonSet`` reading the informer cache: a sync in progress sends
        its next batch; unmet expectations hold ``manage`` back (they expire once
        nothing is left to arrive); otherwise ``manage``, or ``rollingUpdate`` when
        ``manage`` has nothing to do, is planned on the cache and its writes start."""
        name = world.workloads[w].name
        exp = self.slot(world, state, w)
        if exp is not None and (exp.pending or exp.doomed):
            yield self._next_batch(world, state, w, exp)
            return
        if exp is not None:
            if self._caught_up(world, state):  # nothing left to arrive: the TTL fires (isExpired)
                yield DaemonSetExpectationsExpired(name), self.with_slot(world, state, w, None)
            return
        view = cached_state(world, state, self.actor)
        plans = [plan for plan in manage_plans(world, view, w) if plan[0] or plan[1]]
        if not plans:
            plans = [plan for plan in rollout_plans(world, view, w) if plan[0] or plan[1]]
        unseen = None if deletion_pending(world, state, w) else unobserved_spec(world, state, w)
        seen = 0 if unseen is None else generation(world, state, w)
        group = current_group(world, view, w)
        for deletes, nodes in plans:
            exp = DaemonSetExpectations(add=len(nodes), delete=len(deletes),
                                        pending=tuple(world.node_index[n] for n in nodes), doomed=deletes, group=group)
            batch, nxt = self._next_batch(world, state, w, exp)
            yield DaemonSetSync(name, batch.create, batch.delete, seen), _observe(world, nxt, w, unseen)
        if not plans and unseen is not None:  # nothing to do but write status.observedGeneration
            yield DaemonSetSync(name, observed=seen), _observe(world, state, w, unseen)

    def _next_batch(self, world: World, state: State, w: int, exp: DaemonSetExpectations):
        """``syncNodes``' next slow-start batch, and after the last one its deletions: a
        DELETE of a pod already gone answers NotFound (``DeletionObserved``). Without
        quorum every write fails: the rest is skipped and no longer expected."""
        name = world.workloads[w].name
        size = min(exp.batch, len(exp.pending))
        if not has_quorum(world, state):
            failed = len(exp.pending) + len(exp.doomed)
            return DaemonSetBatch(name, failed=failed), self.with_slot(world, state, w, exp._replace(
                add=exp.add - len(exp.pending), delete=exp.delete - len(exp.doomed), pending=(), doomed=()))
        rest = exp._replace(pending=exp.pending[size:], batch=exp.batch * 2)
        nxt, created = state, []
        for node in exp.pending[:size]:
            pod_name = free_name(nxt, world.groups[exp.group].prefix + world.node_names[node] + "-")
            nxt, _ = create_pod(world, nxt, exp.group, owner=w, name=pod_name)
            created.append(pod_name)
        deleted = []
        if not rest.pending:
            for pod_name in exp.doomed:
                if nxt.pod(pod_name) is None:
                    rest = rest._replace(delete=rest.delete - 1)
                else:
                    nxt = delete_pod(nxt, nxt.index_of(pod_name))
                    deleted.append(pod_name)
            rest = rest._replace(doomed=())
        return DaemonSetBatch(name, tuple(created), tuple(deleted)), self.with_slot(world, nxt, w, rest)


def _observe(world: World, state: State, w: int, unseen: int | None) -> State:
    return state if unseen is None else record_observed(world, state, w, unseen)


@attrs.frozen
class DaemonSetStatus:
    """The ``status`` fields ``kubectl rollout status`` reads, as ``updateDaemonSetStatus``
    computes them: over the nodes that should run the pod (``desiredNumberScheduled``),
    those whose first daemon pod (scheduled first, then oldest) is of the update
    template (``updatedNumberScheduled``) and is Running and Ready (``numberAvailable``,
    ``minReadySeconds`` elapsed)."""

    desired_number_scheduled: int = 0
    updated_number_scheduled: int = 0
    number_available: int = 0


def _first_pod(world: World, state: State, w: int, node: int):
    """``podByCreationTimestampAndPhase``'s first daemon pod for ``node`` (terminal
    pods being deleted left out): bound before unbound, then the older template first."""
    pods = [p for p in _node_pods(world, state, w, node) if not (p.deleting and is_terminal(p))]
    revisions = world.workloads[w].revisions or (world.workloads[w].group,)
    pods.sort(key=lambda p: (p.node < 0, revisions.index(p.group) if p.group in revisions else 0))
    return pods[0] if pods else None


def status(world: World, state: State, w: int) -> DaemonSetStatus:
    """DaemonSet ``w``'s status as its last sync wrote it: the update template is
    the one it then saw (:func:`~kspec.simulation.controllers.deployment.status_revision`);
    the counts are the pods' now."""
    workload = world.workloads[w]
    update = workload.revisions[status_revision(world, state, w)] if workload.revisions else workload.group
    desired = updated = available = 0
    for node in range(len(world.nodes)):
        if not should_run(world, state, w, node)[0]:
            continue
        desired += 1
        pod = _first_pod(world, state, w, node)
        if pod is None:
            continue
        available += pod.phase == RUNNING and pod.ready
        updated += pod.group == update
    return DaemonSetStatus(desired, updated, available)


def rollout_status(world: World, state: State, w: int, guard: bool = True) -> tuple[str, bool]:
    """``kubectl rollout status`` on DaemonSet ``w``: :func:`daemonset_status_viewer`
    reading :func:`status` (``guard`` False: without its observedGeneration check)."""
    seen = observed_generation(world, state, w)
    observed = not guard or seen is None or seen >= generation(world, state, w)
    strategy = world.workloads[w].record.spec.update_strategy
    return daemonset_status_viewer(world.workloads[w].name, strategy.type, status(world, state, w), observed)


def daemonset_status_viewer(name: str, strategy: str, current: DaemonSetStatus, observed: bool) -> tuple[str, bool]:
    """``DaemonSetStatusViewer.Status`` (kubectl ``rollout_status.go``): its message
    (without the trailing newline) and whether the rollout is done. Only
    RollingUpdate has a status (OnDelete is an error, never done here); once
    ``generation <= observedGeneration``, done when ``updatedNumberScheduled``
    and ``numberAvailable`` both reach ``desiredNumberScheduled``."""
    if strategy != "RollingUpdate":
        return "error: rollout status is only available for RollingUpdate strategy type", False
    if not observed:
        return "Waiting for daemon set spec update to be observed...", False
    waiting = f'Waiting for daemon set "{name}" rollout to finish: '
    if current.updated_number_scheduled < current.desired_number_scheduled:
        return waiting + (f"{current.updated_number_scheduled} out of {current.desired_number_scheduled} "
                          "new pods have been updated..."), False
    if current.number_available < current.desired_number_scheduled:
        return waiting + (f"{current.number_available} of {current.desired_number_scheduled} "
                          "updated pods are available..."), False
    return f'daemon set "{name}" successfully rolled out', True


# --------------------------------------------------------------------------- RollingUpdate (update.go)


def updated_desired_node_counts(max_surge, max_unavailable, desired: int) -> tuple[int, int]:
    """``updatedDesiredNodeCounts`` with ``util.SurgeCount``/``UnavailableCount``: (maxSurge,
    maxUnavailable) over the ``desired`` nodes that should run the pod, percentages rounded up; both
    0 with a node to run on means an unavailability of 1."""
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, True)
    if desired > 0 and surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


@attrs.frozen
class NodeDaemonPods:
    """One node as ``rollingUpdate`` sees it: whether the DaemonSet should run there, its
    non-deleted daemon pods of the current template (``new``) and of older ones (``old``), and
    which of them are available."""

    node: str
    should_run: bool = True
    new: tuple[str, ...] = ()
    new_available: bool = False
    old: tuple[str, ...] = ()
    old_available: bool = False


@attrs.frozen
class RollingUpdatePlan:
    """What one ``rollingUpdate`` asks ``syncNodes`` to do: old pods to delete and nodes to get a new
    pod in any case, and ``delete_count`` of ``delete_choices`` (pods) and ``create_count`` of
    ``create_choices`` (nodes) more. Upstream walks its nodes in map order, so which of the choices
    it takes is arbitrary: a model branches on them."""

    delete: tuple[str, ...] = ()
    create_on: tuple[str, ...] = ()
    delete_choices: tuple[str, ...] = ()
    delete_count: int = 0
    create_choices: tuple[str, ...] = ()
    create_count: int = 0


def _unavailable_rollout(nodes: list[NodeDaemonPods], max_unavailable: int) -> RollingUpdatePlan:
    """Without surge: an unavailable old pod is replaced at once; available old pods are deleted
    while fewer than ``maxUnavailable`` nodes are unavailable (a node with two pods of one kind,
    with both kinds, or with none counts as unavailable, as does an unavailable new pod)."""
    unavailable = 0
    replace: list[str] = []
    candidates: list[str] = []
    for node in nodes:
        if len(node.new) > 1 or len(node.old) > 1 or bool(node.new) == bool(node.old):
            unavailable += 1
        elif node.new:
            unavailable += not node.new_available
        elif not node.old_available:
            replace.append(node.old[0])
            unavailable += 1
        else:
            candidates.append(node.old[0])
    take = max(0, min(max_unavailable - unavailable, len(candidates)))
    return RollingUpdatePlan(delete=tuple(replace), delete_choices=tuple(candidates), delete_count=take)


def _surge_rollout(nodes: list[NodeDaemonPods], max_surge: int, desired: int) -> RollingUpdatePlan:
    """With surge: a node whose old pod is unavailable gets a new pod at once (or loses the old one
    if it should no longer run it); up to ``maxSurge`` nodes with an available old pod get a new
    one; an old pod goes once the new pod beside it is available; old pods on nodes that should no
    longer run it go only as far as availability stays above the desired count."""
    surging = available = 0
    delete: list[str] = []
    leaving: list[str] = []
    allowed: list[str] = []
    candidates: list[str] = []
    for node in nodes:
        if len(node.new) > 1 or len(node.old) > 1:
            surging += 1
            continue
        if node.old:
            available += node.old_available
        elif node.new:
            available += node.new_available
        if not node.old:
            continue
        if not node.new:
            if not node.old_available and node.should_run:
                allowed.append(node.node)
            elif not node.old_available:
                delete.append(node.old[0])
            elif not node.should_run:
                leaving.append(node.old[0])
            else:
                candidates.append(node.node)
        elif not node.new_available:
            surging += 1
        else:
            delete.append(node.old[0])
    spare = max(0, min(available - desired, len(leaving)))
    take = max(0, min(max_surge - surging, len(candidates)))
    return RollingUpdatePlan(delete=tuple(delete), create_on=tuple(allowed), delete_choices=tuple(leaving),
                             delete_count=spare, create_choices=tuple(candidates), create_count=take)


def rolling_update(nodes: list[NodeDaemonPods], max_surge: int, max_unavailable: int, desired: int
                   ) -> RollingUpdatePlan:
    """``rollingUpdate`` of a DaemonSet (``update.go``), given :func:`updated_desired_node_counts`:
    node by node, which old pods to delete and where to create new ones (the manage loop then
    creates the pods of nodes that have none)."""
    if max_surge == 0:
        return _unavailable_rollout(nodes, max_unavailable)
    return _surge_rollout(nodes, max_surge, desired)
