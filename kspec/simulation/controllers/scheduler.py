"""kube-scheduler: bind one pending pod per step to a node that passes the filters.

Filtering is :func:`kspec.scheduling.filters.filter_pod` (the default
profile's Filter plugins: NodeUnschedulable, NodeName, TaintToleration,
NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread,
InterPodAffinity) over the scheduler cache's view: the API Node records,
including the taints the node controller added (``node.kubernetes.io/unreachable``),
and every bound pod that is not Succeeded or Failed, terminating ones
included (the cache keeps a pod until its API object is gone).

The queue (``PrioritySort``) pops the highest-priority pending pod; among equal
priorities any pending pod may be next (the model does not keep creation
timestamps), one step per choice. Placement is selectable:

``all`` (default)
    one step per feasible node: every placement a scoring configuration could
    produce is explored (coverage);
``least-allocated``
    the default profile's NodeResourcesFit ``LeastAllocated`` score (integer,
    on non-zero requests, as :func:`kspec.scheduling.greedy.least_allocated`):
    one step per node with the highest score. Upstream's ``selectHost`` picks
    among equal top scores at random, so every tie is explored; since the
    choice never depends on node names, node symmetry stays on. Fewer states
    than ``all``, at the cost of placements only other scoring plugins would
    make.

A pod that fits nowhere stays Pending; the scheduler records
``PodScheduled=False`` with upstream's message
(``0/3 nodes are available: 3 Insufficient cpu.``) once, in a
:class:`SchedulerMarkUnschedulable` step, and retries when the cluster changes.

By default (and under ``consistency: fresh``) the scheduler reads the API.
When a scenario's ``consistency.controllers`` names ``scheduler`` it reads
what upstream's scheduler cache holds (``pkg/scheduler/backend/cache/cache.go``,
formerly ``pkg/scheduler/internal/cache``): the pods of its informer cache
(:mod:`kspec.simulation.informer`), queue included, plus the pods it has
*assumed*. ``schedulingCycle`` (``pkg/scheduler/schedule_one.go``) assumes
a pod on its node before the binding cycle sends the Binding, so the next
cycle counts it although no watch event has shown it bound; here the assume
and the Binding are one step, and a Binding the API server refuses (the pod
gone, being deleted or already bound) changes nothing, as ``ForgetPod``
undoes the assume. The memory (``State.memory``) is the set of assumed pod
names: ``AddPod`` drops a name when the cache sees the pod bound (the assume
is confirmed and the cache holds the binding itself), and so does the pod's
deletion. Assumed pods never expire: ``cleanupAssumedPods`` expired a
finished binding after a TTL that upstream has set to 0, "never", since
kubernetes#106361 (and the cache now keeps no TTL at all). A
``controller-restart`` loses the assumed pods and relists, possibly from an
API server that lags (kubernetes#59848): a binding the new process cannot
see is a free node to it, so it can place a second pod where only one fits,
and the kubelet's admission rejects one of them
(:func:`kspec.simulation.controllers.kubelet.admission_shortage`). So can a
binding its lagging cache has not seen yet that it did not make (a pod
created with ``spec.nodeName``).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.protocol import memory_of, with_memory
from kspec.simulation.informer import Event, cached_state
from kspec.simulation.state import PENDING, State, World, is_terminal, update_pod

from kspec.scheduling.filters import Snapshot, allocatable_vector, filter_pod
from kspec.scheduling.greedy import least_allocated, non_zero_requests
from kspec.simulation.controllers.daemonset import target_node

__all__ = ["SchedulerBind", "SchedulerMarkUnschedulable", "Scheduler", "default_choices", "feasible_nodes",
           "unschedulable_message", "scheduler_view"]

MODES = ("all", "least-allocated")


@attrs.frozen
class SchedulerBind(Action):
    actor: ClassVar[str] = "scheduler"
    pod: str
    node: str

    def __str__(self) -> str:
        return f"SchedulerBind({self.pod} -> {self.node})"


@attrs.frozen
class SchedulerMarkUnschedulable(Action):
    actor: ClassVar[str] = "scheduler"
    pod: str
    message: str

    def __str__(self) -> str:
        return f"SchedulerMarkUnschedulable({self.pod}: {self.message})"


def _cache_key(state: State, group: int):
    bound = tuple(sorted((p.group, p.node) for p in state.pods if p.node >= 0 and not is_terminal(p)))
    nodes = tuple((n.ready, n.tainted, n.cordoned) for n in state.nodes)
    return group, nodes, bound


def _snapshot(world: World, state: State) -> tuple[list, Snapshot]:
    nodes = [world.node_object(i, rec) for i, rec in enumerate(state.nodes)]
    pods = []
    seen: Counter = Counter()
    for p in sorted(state.pods, key=lambda p: (p.group, p.node)):
        if p.node >= 0 and not is_terminal(p):
            seen[p.group] += 1
            pods.append(world.pod_object(p.group, f"{world.groups[p.group].prefix}~{seen[p.group]}", p.node))
    return nodes, Snapshot(nodes, pods)


def feasible_nodes(world: World, state: State, group: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Node indexes where a new pod of ``group`` passes every filter, and the
    rejection reasons of the others (one per node). Cached per scheduling view."""
    return _feasible(world, state, _cache_key(state, group))


def _feasible(world: World, state: State, key) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """:func:`feasible_nodes` for the scheduling view ``key`` (:func:`_cache_key`)."""
    group = key[0]
    cache = world.__dict__.setdefault("_feasible_cache", {})
    hit = cache.get(key)
    if hit is None:
        nodes, snapshot = _snapshot(world, state)
        pod = world.pod_object(group, world.groups[group].prefix + "~new", -1)
        fits, reasons = [], []
        for i, node in enumerate(nodes):
            result = filter_pod(pod, node, snapshot)
            if result.fits:
                fits.append(i)
            else:
                reasons.extend(result.reasons[:1] or ("rejected",))
        hit = (tuple(fits), tuple(reasons))
        if len(cache) > 200_000:
            cache.clear()
        cache[key] = hit
    return hit


def unschedulable_message(total: int, reasons) -> str:
    """``0/3 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint ...``"""
    counts = Counter(reasons)
    detail = ", ".join(f"{n} {r}" for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"0/{total} nodes are available: {detail}."


def _scoring_inputs(world: World) -> tuple[tuple, tuple]:
    """Per group its non-zero (cpu, memory) requests, per node its allocatable
    (cpu, memory): fixed by the manifests, so computed once per world."""
    cached = world.__dict__.get("_scoring_inputs")
    if cached is None:
        requests = tuple(non_zero_requests(g.pod.spec) for g in world.groups)
        allocatable = tuple((v.get("cpu", 0), v.get("memory", 0)) for v in map(allocatable_vector, world.nodes))
        cached = world.__dict__["_scoring_inputs"] = (requests, allocatable)
    return cached


def _least_allocated(world: World, state: State, group: int, candidates) -> tuple[int, ...]:
    """The candidates with the highest NodeResourcesFit LeastAllocated score
    (``selectHost`` chooses among them at random: each is a step)."""
    requests, allocatable = _scoring_inputs(world)
    need = requests[group]
    used = {i: list(need) for i in candidates}
    for p in state.pods:
        if p.node in used and not is_terminal(p):
            cpu, memory = requests[p.group]
            used[p.node][0] += cpu
            used[p.node][1] += memory
    scores = {}
    for i in candidates:
        scores[i] = least_allocated(tuple(used[i]), allocatable[i])
    best = max(scores.values())
    return tuple(i for i in candidates if scores[i] == best)


def _daemon_target(world: World, pod, fits, reasons):
    """A DaemonSet pod's feasible nodes: its target node, if it passed the
    filters; every other node fails NodeAffinity (``matchFields metadata.name``)."""
    target = target_node(world, pod.group, pod.name)
    if target in fits:
        return (target,), ()
    rejected = [n for n in range(len(world.nodes)) if n not in fits]  # reasons come in this order
    own = [reasons[rejected.index(target)]] if target in rejected else []
    return (), tuple(own) + (DAEMON_AFFINITY_REASON,) * (len(world.nodes) - len(own))


DAEMON_AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector"


def default_choices(world: World, state: State, index: int) -> tuple[int, ...]:
    """The nodes the default scoring (``least-allocated``) would bind pending pod
    ``index`` of ``state`` to: the feasible nodes with the top LeastAllocated score.
    Traces use it to say when a ``scheduler: all`` step binds elsewhere. A
    scheduler reading its cache is scored on what it saw (:func:`scheduler_view`)."""
    pod = state.pods[index]
    slot = world.memory_slots.get(Scheduler.actor)
    if slot is not None and pod.node < 0:
        view = scheduler_view(world, state, state.memory[slot])
        seen = next((i for i, p in enumerate(view.pods) if p.name == pod.name and p.node < 0), None)
        if seen is not None:
            state, index, pod = view, seen, view.pods[seen]
    fits, reasons = feasible_nodes(world, state, pod.group)
    if world.groups[pod.group].daemon:
        fits, reasons = _daemon_target(world, pod, fits, reasons)
    return _least_allocated(world, state, pod.group, fits) if fits else ()


class Scheduler:
    """The default scheduler (see the module docstring)."""

    actor = "scheduler"
    fair = True

    def __init__(self, mode: str = "all"):
        if mode not in MODES:
            raise ValueError(f"scheduler mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode

    def pending(self, world: World, state: State) -> list[int]:
        """Pods in the scheduling queue, highest priority first."""
        queue = [i for i, p in enumerate(state.pods)
                 if p.node < 0 and not p.deleting and p.phase == PENDING
                 and world.groups[p.group].pinned_node == -1
                 and world.groups[p.group].pod.spec.scheduler_name == "default-scheduler"]
        if not queue:
            return queue
        top = max(world.groups[state.pods[i].group].pod.spec.priority or 0 for i in queue)
        return [i for i in queue if (world.groups[state.pods[i].group].pod.spec.priority or 0) == top]

    def steps(self, world: World, state: State):
        if self.actor in world.memory_slots:
            yield from self._steps_informed(world, state)
            return
        for i, nodes, message in self._plan(world, state, self.pending(world, state)):
            pod = state.pods[i]
            if message is not None:
                yield SchedulerMarkUnschedulable(pod.name, message), update_pod(state, i, unschedulable=True)
            for n in nodes:
                yield SchedulerBind(pod.name, world.node_names[n]), update_pod(state, i, node=n, unschedulable=False)

    def _plan(self, world: World, view: State, queue: list[int]):
        """Per pod of ``queue`` (indexes into ``view``): (index, the nodes it may
        be bound to, the PodScheduled=False message to record or None)."""
        views: dict[int, tuple] = {}  # group -> its scheduling view in this state
        for i in queue:
            pod = view.pods[i]
            key = views.get(pod.group)
            if key is None:
                key = views[pod.group] = _cache_key(view, pod.group)
            fits, reasons = _feasible(world, view, key)
            daemon = world.groups[pod.group].daemon
            if daemon:  # matchFields metadata.name: its own node only
                fits, reasons = _daemon_target(world, pod, fits, reasons)
            if not fits:
                if not pod.unschedulable:
                    yield i, (), unschedulable_message(len(view.nodes), reasons)
                continue
            if self.mode == "least-allocated":
                if daemon:
                    fits = _least_allocated(world, view, pod.group, fits)
                else:  # the scores read only what the view holds: bound pods' groups and nodes
                    top = world.__dict__.setdefault("_top_cache", {})
                    best = top.get(key)
                    if best is None:
                        best = _least_allocated(world, view, pod.group, fits)
                        if len(top) > 200_000:
                            top.clear()
                        top[key] = best
                    fits = best
            yield i, fits, None

    # ---------------------------------------------------------------- the scheduler cache (informed mode)

    def initial_memory(self, world: World) -> tuple[str, ...]:
        """No pod assumed (also after a restart: the cache is rebuilt from a list)."""
        return ()

    def rename_memory(self, memory: tuple[str, ...], pods: dict) -> tuple[str, ...]:
        return tuple(sorted(pods.get(name, name) for name in memory))

    def memory_marks(self, memory: tuple[str, ...]):
        """Each assumed pod's name (so symmetry tells an assumed pod from its twin)."""
        for name in memory:
            yield name, 0

    def observe(self, world: World, state: State, event: Event) -> State:
        """The cache's handlers: ``AddPod`` of a pod bound to a node confirms
        its assume (the cache now holds the binding itself); a deleted pod is
        forgotten."""
        memory = memory_of(world, state, self)
        if event.name not in memory or (event.after is not None and event.after.node < 0):
            return state
        return with_memory(world, state, self, tuple(name for name in memory if name != event.name))

    def _steps_informed(self, world: World, state: State):
        """``scheduleOne`` on the scheduler cache: plan on :func:`scheduler_view`,
        then assume and bind (or record PodScheduled=False) through the API."""
        assumed = memory_of(world, state, self)
        view = scheduler_view(world, state, assumed)
        queue = [i for i in self.pending(world, view) if view.pods[i].name not in assumed]  # skipPodSchedule
        for i, nodes, message in self._plan(world, view, queue):
            name = view.pods[i].name
            j = _unbound_index(state, name)
            if j is None:  # the API server refuses the write: ForgetPod, nothing changes
                continue
            if message is not None:
                yield SchedulerMarkUnschedulable(name, message), update_pod(state, j, unschedulable=True)
            for n in nodes:
                nxt = update_pod(state, j, node=n, unschedulable=False)
                yield (SchedulerBind(name, world.node_names[n]),
                       with_memory(world, nxt, self, tuple(sorted(assumed + (name,)))))


def scheduler_view(world: World, state: State, assumed: tuple[str, ...]) -> State:
    """What the scheduler cache holds: the scheduler's informer cache, with
    each assumed pod bound to the node the Binding named (the API's record of
    it; an assumed pod the API no longer holds is left as the cache has it)."""
    view = cached_state(world, state, Scheduler.actor)
    if not assumed:
        return view
    bound = {p.name: p.node for p in state.pods if p.name in assumed and p.node >= 0}
    pods = tuple(p._replace(node=bound[p.name], unschedulable=False) if p.node < 0 and p.name in bound else p
                 for p in view.pods)
    return attrs.evolve(view, pods=pods)


def _unbound_index(state: State, name: str) -> int | None:
    """The API index of pod ``name`` if a Binding to it can succeed (it exists,
    is not bound and not being deleted), else None."""
    for i, pod in enumerate(state.pods):
        if pod.name == name:
            return i if pod.node < 0 and not pod.deleting else None
    return None
