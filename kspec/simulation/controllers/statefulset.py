"""StatefulSet: stable pod identities ``<name>-0 .. <name>-(N-1)``, in order.

Follows ``pkg/controller/statefulset/stateful_set_control.go``
(``updateStatefulSet``): one sync of one StatefulSet is one step.

1. observe: the pods the StatefulSet owns, split by ordinal into *replicas*
   (ordinal below ``replicas``) and *condemned* (the rest);
2. replicas, lowest ordinal first: a Failed or Succeeded pod is deleted and
   made again; a missing one is created; with ``podManagementPolicy:
   OrderedReady`` (the default) the sync stops after one creation, and at the
   first pod that is terminating or not Running and Ready;
3. condemned, highest ordinal first: a terminating one is waited for; one
   that is not Running and Ready blocks unless it is the first unhealthy pod;
   one is deleted per sync (OrderedReady).

``Parallel`` does every creation and deletion of the sync at once and waits
for nothing. The name is the identity: a replacement for ``db-1`` can only
be created once the old ``db-1`` object is gone, so a pod evicted from a node
that is cut off stays (terminating) until its kubelet confirms or someone
force-deletes it, and no second copy ever runs. That is the difference with a
ReplicationController, and the cost is that the StatefulSet does not recover
while the node stays unreachable.

4. the update strategy, only when steps 2 and 3 did not stop the sync
   (``updateStatefulSetAfterInvariantEstablished``), once a ``rollout``
   operation has changed the template: ``OnDelete`` replaces nothing (a pod
   someone deletes comes back with the new template); ``RollingUpdate``
   deletes the pod with the highest ordinal at or above ``partition`` that has
   the old template and waits for it to come back Running and Ready before the
   next (one at a time); with ``maxUnavailable`` (upstream's
   ``MaxUnavailableStatefulSet`` feature, honoured here whenever the field is
   set) it deletes up to ``maxUnavailable`` minus the replicas already
   unavailable, highest ordinals first. A pod is made from the new template
   when its ordinal is at or above ``partition`` (``newVersionedStatefulSetPod``),
   so pods below the partition keep the old one: a partitioned rollout never
   completes, which is what a canary wants.

A StatefulSet being deleted (a ``delete`` with ``propagationPolicy:
Foreground`` or ``Orphan`` leaves it in the API with a deletionTimestamp
while the garbage collector works) is not synced past its status
(``updateStatefulSet``: "If the StatefulSet is being deleted, don't do
anything other than updating status"): no pod is created, replaced or
deleted, so a pod the collector deleted is not made again.

Generations (in a scenario whose checks read them, see
:func:`~kspec.simulation.controllers.deployment.track_generations`): a
``scale`` or ``rollout`` bumps ``metadata.generation``; every sync writes
``status.observedGeneration`` (``updateStatefulSetStatus``), so a sync with
no pod to touch still happens once after a spec change, to write it. The
status until then is the one computed for the template the controller last
saw (:func:`status`); :func:`rollout_status` is ``kubectl rollout status``
reading it (``StatefulSetStatusViewer``).

Not modelled: adoption of orphans, volume claims, ``minReadySeconds`` (Running
and Ready counts as available), ``persistentVolumeClaimRetentionPolicy``, a
partition changed during the rollout, revision history.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.api.objects import UpdateStrategy
from kspec.simulation.controllers.deployment import (generation, observed_generation, record_observed,
                                                     status_revision, unobserved_spec, with_observed)
from kspec.simulation.controllers.protocol import describe_sync, scaled_value
from kspec.checker.model import Action
from kspec.simulation.informer import cached_state
from kspec.simulation.state import RUNNING, State, World, create_pod, deletion_pending, delete_pod, is_terminal

__all__ = ["StatefulSetSync", "StatefulSetController", "StatefulSetStatus", "max_unavailable", "ordinal", "pod_group",
           "revision_of", "sync", "sync_informed", "update_strategy", "status", "rollout_status",
           "statefulset_status_viewer"]


@attrs.frozen
class StatefulSetSync(Action):
    """One sync of a StatefulSet: the pods it created and deleted."""

    actor: ClassVar[str] = "statefulset"
    statefulset: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    error: str = ""  # the write that failed and ended the sync (read through a cache only)
    observed: int = 0  # the status.observedGeneration it wrote, when it changed

    def __str__(self) -> str:
        text = describe_sync("StatefulSetSync", self.statefulset, create=self.create, delete=self.delete)
        if self.error:
            text = text[:-1] + f"; {self.error})"
        return with_observed(text, self.observed)


def ordinal(world: World, w: int, name: str) -> int:
    """``getOrdinal``: the number after the StatefulSet's name, -1 when there is none."""
    prefix = world.groups[world.workloads[w].group].prefix
    tail = name[len(prefix):] if name.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else -1


def _running_and_ready(pod) -> bool:
    return pod.phase == RUNNING and pod.ready


def _healthy(pod) -> bool:
    """``isHealthy``: Running and Ready and not terminating."""
    return _running_and_ready(pod) and not pod.deleting


def update_strategy(world: World, w: int) -> UpdateStrategy:
    """The StatefulSet's ``spec.updateStrategy`` (RollingUpdate, partition 0, when the record has none)."""
    record = world.workloads[w].record
    return record.spec.update_strategy if record is not None else UpdateStrategy()


def revision_of(world: World, w: int, pod) -> int:
    """Which template revision ``pod`` was made from (index into the workload's ``revisions``; 0 without a rollout)."""
    revisions = world.workloads[w].revisions
    return revisions.index(pod.group) if pod.group in revisions else 0


def pod_group(world: World, state: State, w: int, i: int) -> int:
    """``newVersionedStatefulSetPod``: the template of a new pod with ordinal ``i``. Below a
    RollingUpdate's ``partition`` the current (old) revision; at or above it, or with OnDelete,
    the update revision."""
    workload = world.workloads[w]
    if not workload.revisions:
        return workload.group
    strategy = update_strategy(world, w)
    if strategy.type == "RollingUpdate" and i < strategy.partition:
        return workload.revisions[0]
    return workload.revisions[world.current_revision(state, w)]


def max_unavailable(strategy: UpdateStrategy, replicas: int) -> int | None:
    """``getStatefulSetMaxUnavailable``: percentages of ``replicas`` rounded up, at least 1;
    None when the field is unset (one pod at a time)."""
    if strategy.max_unavailable is None:
        return None
    return max(1, scaled_value(strategy.max_unavailable, replicas, True))


def _update(world: World, state: State, w: int, replicas: int, ops: list) -> tuple[State, list[str]]:
    """``updateStatefulSetAfterInvariantEstablished``: the old-template pods a RollingUpdate
    deletes in this sync (their replacements come from the template's new revision)."""
    strategy = update_strategy(world, w)
    update = world.current_revision(state, w)
    if strategy.type != "RollingUpdate" or not world.workloads[w].revisions or update == 0:
        return state, []
    owned = {ordinal(world, w, p.name): p for p in state.pods if p.owner == w}
    targets = [owned.get(i) for i in range(replicas)]
    limit = max_unavailable(strategy, replicas)
    deleted: list[str] = []
    if limit is None:
        for pod in reversed(targets[strategy.partition:]):
            if pod is None:
                return state, deleted
            if revision_of(world, w, pod) != update and not pod.deleting:
                return _delete(state, pod.name, ops), [pod.name]
            if not _healthy(pod):
                return state, deleted
        return state, deleted
    unavailable = sum(1 for pod in targets if pod is None or not _healthy(pod))
    for pod in reversed(targets[strategy.partition:]):
        if len(deleted) >= limit - unavailable:
            break
        if pod is not None and revision_of(world, w, pod) != update and not pod.deleting:
            state = _delete(state, pod.name, ops)
            deleted.append(pod.name)
    return state, deleted


def _delete(state: State, name: str, ops: list) -> State:
    ops.append(("delete", name, -1))
    return delete_pod(state, state.index_of(name))


def _create(world: World, state: State, w: int, group: int, name: str, ops: list) -> tuple[State, str]:
    ops.append(("create", name, group))
    return create_pod(world, state, group, owner=w, name=name)


def sync(world: World, state: State, w: int, ops: list | None = None) -> tuple[State, list[str], list[str]]:
    """One ``updateStatefulSet``: the next state and the pods created and deleted
    (``ops`` gets each write in order: ``(verb, pod name, template)``)."""
    ops = [] if ops is None else ops
    replicas = state.replicas[w]
    if replicas is None or deletion_pending(world, state, w):  # the garbage collector removes or releases its pods
        return state, [], []
    workload = world.workloads[w]
    monotonic = workload.record is None or workload.record.spec.pod_management_policy != "Parallel"
    prefix = world.groups[workload.group].prefix
    owned = {ordinal(world, w, p.name): p for p in state.pods if p.owner == w}
    created: list[str] = []
    deleted: list[str] = []
    for i in range(replicas):
        pod = owned.get(i)
        if pod is not None and is_terminal(pod) and not pod.deleting:  # delete and recreate failed pods
            state = _delete(state, pod.name, ops)
            deleted.append(pod.name)
            pod = state.pod(pod.name)
        if pod is None:
            state, name = _create(world, state, w, pod_group(world, state, w, i), f"{prefix}{i}", ops)
            created.append(name)
            if monotonic:
                return state, created, deleted
            continue
        if monotonic and (pod.deleting or not _running_and_ready(pod)):
            return state, created, deleted
    healthy = [i for i in sorted(owned) if 0 <= i < replicas]
    unhealthy = [i for i in healthy + sorted(j for j in owned if j >= replicas)
                 if owned[i].deleting or not _running_and_ready(owned[i])]
    first_unhealthy = unhealthy[0] if unhealthy else None
    for i in sorted((j for j in owned if j >= replicas), reverse=True):
        pod = owned[i]
        if pod.deleting:
            if monotonic:
                return state, created, deleted
            continue
        if monotonic and not _running_and_ready(pod) and i != first_unhealthy:
            return state, created, deleted
        state = _delete(state, pod.name, ops)
        deleted.append(pod.name)
        if monotonic:
            return state, created, deleted
    state, updated = _update(world, state, w, replicas, ops)
    return state, created, deleted + updated


class StatefulSetController:
    """The StatefulSet controller: one :class:`StatefulSetSync` step per StatefulSet that has work."""

    actor = "statefulset"
    fair = True

    def steps(self, world: World, state: State):
        k = world.informer_slots.get(self.actor)
        for w in world.statefulsets:
            if k is not None:
                yield from sync_informed(world, state, w)
                continue
            nxt, created, deleted = sync(world, state, w)
            nxt, seen = _observe(world, state, nxt, w)
            if created or deleted or seen:
                yield StatefulSetSync(world.workloads[w].name, tuple(created), tuple(deleted), observed=seen), nxt


def sync_informed(world: World, state: State, w: int):
    """``updateStatefulSet`` planned on the controller's informer cache (upstream
    reads its pod lister and keeps no expectations), its writes sent to the API
    server in order: a DELETE names the pod and carries no UID precondition
    (``realStatefulPodControlObjectManager.DeletePod``), so it deletes whatever
    pod has that name now; a DELETE of a pod already gone answers NotFound and
    a CREATE of a name that exists answers AlreadyExists, and either error ends
    the sync (the writes before it stay done; the StatefulSet is queued again)."""
    ops: list = []
    sync(world, cached_state(world, state, StatefulSetController.actor), w, ops)
    nxt, created, deleted, error = state, [], [], ""
    for verb, name, group in ops:
        current = nxt.pod(name)
        if verb == "delete":
            if current is None:
                error = f"delete {name}: NotFound"
                break
            nxt = delete_pod(nxt, nxt.index_of(name))
            deleted.append(name)
        else:
            if current is not None:
                error = f"create {name}: AlreadyExists"
                break
            nxt, _ = create_pod(world, nxt, group, owner=w, name=name)
            created.append(name)
    nxt, seen = _observe(world, state, nxt, w)
    if nxt != state:
        yield StatefulSetSync(world.workloads[w].name, tuple(created), tuple(deleted), error, seen), nxt


def _observe(world: World, state: State, nxt: State, w: int) -> tuple[State, int]:
    """``updateStatefulSetStatus`` after a sync from ``state`` to ``nxt``:
    ``status.observedGeneration`` becomes the generation (returned, 0 when it
    was already observed or the scenario keeps no generations)."""
    unseen = unobserved_spec(world, state, w)
    if unseen is None:
        return nxt, 0
    return record_observed(world, nxt, w, unseen), generation(world, state, w)


@attrs.frozen
class StatefulSetStatus:
    """The ``status`` fields ``kubectl rollout status`` reads, as ``updateStatefulSet``
    computes them from the pods: ``readyReplicas`` (Running and Ready, terminating
    or not) and ``updatedReplicas`` (not terminating, of the update revision)."""

    ready_replicas: int = 0
    updated_replicas: int = 0


def status(world: World, state: State, w: int) -> StatefulSetStatus:
    """StatefulSet ``w``'s status as its last sync wrote it: the update revision
    is the template it then saw (:func:`~kspec.simulation.controllers.deployment.status_revision`);
    the counts are the pods' now (the model does not delay status writes otherwise)."""
    update = status_revision(world, state, w)
    pods = [p for p in state.pods if p.owner == w]
    return StatefulSetStatus(ready_replicas=sum(1 for p in pods if _running_and_ready(p)),
                             updated_replicas=sum(1 for p in pods if not p.deleting
                                                  and revision_of(world, w, p) == update))


def rollout_status(world: World, state: State, w: int, guard: bool = True) -> tuple[str, bool]:
    """``kubectl rollout status`` on StatefulSet ``w``: :func:`statefulset_status_viewer`
    reading :func:`status` (``guard`` False: without its observedGeneration check)."""
    seen = observed_generation(world, state, w)
    observed = not guard or seen is None or seen >= generation(world, state, w)
    return statefulset_status_viewer(state.replicas[w], update_strategy(world, w), status(world, state, w), observed)


def statefulset_status_viewer(replicas: int, strategy: UpdateStrategy, current: StatefulSetStatus,
                              observed: bool) -> tuple[str, bool]:
    """``StatefulSetStatusViewer.Status`` (kubectl ``rollout_status.go``): its
    message (without the trailing newline) and whether the rollout is done.

    Only RollingUpdate has a status (OnDelete is an error, never done here);
    the spec must be observed (``observedGeneration >= generation``), then
    ``readyReplicas >= replicas`` and ``updatedReplicas >= replicas -
    partition``. The API server defaults ``rollingUpdate.partition`` to 0, so
    the viewer's revision comparison for a RollingUpdate without
    ``rollingUpdate`` is never reached."""
    if strategy.type != "RollingUpdate":
        return "error: rollout status is only available for RollingUpdate strategy type", False
    if not observed:
        return "Waiting for statefulset spec update to be observed...", False
    if current.ready_replicas < replicas:
        return f"Waiting for {replicas - current.ready_replicas} pods to be ready...", False
    if current.updated_replicas < replicas - strategy.partition:
        return (f"Waiting for partitioned roll out to finish: {current.updated_replicas} out of "
                f"{replicas - strategy.partition} new pods have been updated..."), False
    return f"partitioned roll out complete: {current.updated_replicas} new pods have been updated...", True
