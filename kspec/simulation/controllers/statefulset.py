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

Not modelled: adoption of orphans, update strategies (no template changes in
scenarios), volume claims, ``minReadySeconds``, ``persistentVolumeClaimRetentionPolicy``.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.simulation.controllers.protocol import describe_sync
from kspec.checker.model import Action
from kspec.simulation.state import RUNNING, State, World, create_pod, delete_pod, is_terminal

__all__ = ["StatefulSetSync", "StatefulSetController", "ordinal", "sync"]


@attrs.frozen
class StatefulSetSync(Action):
    """One sync of a StatefulSet: the pods it created and deleted."""

    actor: ClassVar[str] = "statefulset"
    statefulset: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()

    def __str__(self) -> str:
        return describe_sync("StatefulSetSync", self.statefulset, create=self.create, delete=self.delete)


def ordinal(world: World, w: int, name: str) -> int:
    """``getOrdinal``: the number after the StatefulSet's name, -1 when there is none."""
    prefix = world.groups[world.workloads[w].group].prefix
    tail = name[len(prefix):] if name.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else -1


def _running_and_ready(pod) -> bool:
    return pod.phase == RUNNING and pod.ready


def sync(world: World, state: State, w: int) -> tuple[State, list[str], list[str]]:
    """One ``updateStatefulSet``: the next state and the pods created and deleted."""
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
            state = delete_pod(state, state.index_of(pod.name))
            deleted.append(pod.name)
            pod = state.pod(pod.name)
        if pod is None:
            state, name = create_pod(world, state, workload.group, owner=w, name=f"{prefix}{i}")
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
                break
            continue
        if monotonic and not _running_and_ready(pod) and i != first_unhealthy:
            break
        state = delete_pod(state, state.index_of(pod.name))
        deleted.append(pod.name)
        if monotonic:
            break
    return state, created, deleted


class StatefulSetController:
    """The StatefulSet controller: one :class:`StatefulSetSync` step per StatefulSet that has work."""

    actor = "statefulset"
    fair = True

    def steps(self, world: World, state: State):
        for w in world.statefulsets:
            nxt, created, deleted = sync(world, state, w)
            if created or deleted:
                yield StatefulSetSync(world.workloads[w].name, tuple(created), tuple(deleted)), nxt
