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

Not modelled: adoption of orphans, volume claims, ``minReadySeconds`` (Running
and Ready counts as available), ``persistentVolumeClaimRetentionPolicy``, a
partition changed during the rollout, revision history.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.api.objects import UpdateStrategy
from kspec.simulation.controllers.protocol import describe_sync, scaled_value
from kspec.checker.model import Action
from kspec.simulation.informer import cached_state
from kspec.simulation.state import RUNNING, State, World, create_pod, delete_pod, is_terminal

__all__ = ["StatefulSetSync", "StatefulSetController", "max_unavailable", "ordinal", "pod_group", "revision_of", "sync",
           "sync_informed", "update_strategy"]


@attrs.frozen
class StatefulSetSync(Action):
    """One sync of a StatefulSet: the pods it created and deleted."""

    actor: ClassVar[str] = "statefulset"
    statefulset: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    error: str = ""  # the write that failed and ended the sync (read through a cache only)

    def __str__(self) -> str:
        text = describe_sync("StatefulSetSync", self.statefulset, create=self.create, delete=self.delete)
        return text[:-1] + f"; {self.error})" if self.error else text


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
    if replicas is None:  # deleted: the garbage collector removes its pods
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
            if created or deleted:
                yield StatefulSetSync(world.workloads[w].name, tuple(created), tuple(deleted)), nxt


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
    if nxt != state:
        yield StatefulSetSync(world.workloads[w].name, tuple(created), tuple(deleted), error), nxt
