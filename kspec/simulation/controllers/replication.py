"""ReplicationController and ReplicaSet: keep ``replicas`` active pods.

Follows ``pkg/controller/replicaset/replica_set.go`` (``syncReplicaSet``,
``manageReplicas``, ``getPodsToDelete``), which also runs ReplicationControllers
(``pkg/controller/replication`` wraps it), and
``pkg/controller/controller_ref_manager.go`` (``ClaimPods``). One sync is one
step, read in the upstream order:

1. observe: every pod in the workload's namespace (the informer's list);
2. filter: ``controller.FilterActivePods`` (no deletionTimestamp, not
   Succeeded or Failed);
3. claim: a pod owned by this workload stays if the selector matches and is
   released if not; an orphan that matches and is not being deleted is
   adopted (its controller ownerReference is set); a pod owned by another
   controller is never touched, so with overlapping selectors an orphan goes
   to whichever controller syncs first;
4. diff: ``len(claimed) - replicas`` (capped by ``burstReplicas`` = 500);
5. act: create the missing pods from the template, or delete the surplus,
   choosing with ``controller.ActivePodsWithRanks`` (:func:`deletion_key`);
6. status: computed from what was observed (:func:`status`), not stored: it
   is a function of the pods and no controller in the model reads it.

Upstream breaks ties between pods that compare equal on the modelled criteria
by readiness time, restart count, creation time and finally UID, none of
which the state holds; so a tie is nondeterministic here (one step per
choice), which covers every upstream outcome.
"""

from __future__ import annotations

import itertools
from typing import ClassVar, Iterable

import attrs

from kspec.simulation.controllers.protocol import describe_sync
from kspec.checker.model import Action
from kspec.api.objects import WorkloadStatus
from kspec.simulation.state import (
    PENDING, RUNNING, TERMINAL_PHASES, State, World, create_pod, delete_pod, is_active, update_pod,
)

__all__ = ["RCSync", "ReplicationControllerLoop", "deletion_key", "pods_to_delete", "claim", "status", "BURST_REPLICAS"]

BURST_REPLICAS = 500  # replicaset.BurstReplicas
PHASE_ORDINAL = {PENDING: 0, "Unknown": 1, RUNNING: 2}  # podPhaseToOrdinal


@attrs.frozen
class RCSync(Action):
    """One sync of a ReplicationController or ReplicaSet: the pods it adopted,
    released, created and deleted (names as they were at that step)."""

    actor: ClassVar[str] = "replication"
    workload: str
    adopt: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()

    def __str__(self) -> str:
        return describe_sync("RCSync", self.workload, adopt=self.adopt, release=self.release, create=self.create,
                             delete=self.delete)


def claim(world: World, state: State, w: int, active: Iterable[int]) -> tuple[list[int], list[int], list[int]]:
    """``PodControllerRefManager.ClaimPods`` over the active pods (indexes):
    returns (claimed, to adopt, to release)."""
    claimed, adopt, release = [], [], []
    selects = world.selects[w]
    for i in active:
        pod = state.pods[i]
        matches = selects[pod.group]
        if pod.owner == w:
            (claimed if matches else release).append(i)
        elif pod.owner < 0 and matches and not pod.deleting:
            adopt.append(i)
            claimed.append(i)
    return claimed, adopt, release


def deletion_key(world: World, state: State, index: int, rank: int) -> tuple:
    """``ActivePodsWithRanks.Less`` as a sort key (smaller is deleted first):
    unassigned before assigned; Pending before Unknown before Running; not
    ready before ready; lower ``pod-deletion-cost`` first; more related active
    pods on the same node (``rank``) first."""
    pod = state.pods[index]
    return (pod.node >= 0, PHASE_ORDINAL.get(pod.phase, 2), pod.ready, world.groups[pod.group].deletion_cost, -rank)


def pods_to_delete(world: World, state: State, w: int, claimed: list[int], diff: int) -> list[tuple[int, ...]]:
    """``getPodsToDelete``: every set of ``diff`` pods the upstream ranking may
    pick (several only when pods tie on every modelled criterion)."""
    if diff >= len(claimed):
        return [tuple(claimed)]
    on_node: dict[int, int] = {}
    for pod in state.pods:  # getPodsRankedByRelatedPodsOnSameNode: related = pods this workload owns
        if pod.owner == w and is_active(pod):
            on_node[pod.node] = on_node.get(pod.node, 0) + 1
    keyed = sorted(((deletion_key(world, state, i, on_node.get(state.pods[i].node, 0)), i) for i in claimed))
    boundary = keyed[diff - 1][0]
    sure = [i for key, i in keyed if key < boundary]
    tied = [i for key, i in keyed if key == boundary]
    need = diff - len(sure)
    return [tuple(sorted(sure + list(choice))) for choice in itertools.combinations(tied, need)]


def status(world: World, state: State, w: int) -> WorkloadStatus:
    """``calculateStatus``: replicas and readyReplicas of the pods the workload owns."""
    owned = [p for p in state.pods if p.owner == w and is_active(p)]
    ready = sum(1 for p in owned if p.ready)
    return WorkloadStatus(replicas=len(owned), ready_replicas=ready, available_replicas=ready)


class ReplicationControllerLoop:
    """The replication manager: one :class:`RCSync` step per workload that has work."""

    actor = "replication"
    fair = True

    def steps(self, world: World, state: State):
        for w in world.replicated:  # RCs and ReplicaSets (Deployments: .deployment, StatefulSets: .statefulset)
            yield from self.sync(world, state, w)

    @staticmethod
    def _settled(world: World, state: State, w: int, namespace: str, replicas: int) -> bool:
        """Whether a sync of ``w`` would do nothing (nothing to adopt or
        release, as many claimed pods as replicas), in one pass over the pods:
        the common case, checked before the sync builds its lists."""
        selects = world.selects[w]
        groups = world.groups
        claimed = 0
        for pod in state.pods:
            if pod.deleting or pod.phase in TERMINAL_PHASES or groups[pod.group].namespace != namespace:
                continue
            owner = pod.owner
            if owner == w:
                if not selects[pod.group]:
                    return False  # to release
                claimed += 1
            elif owner < 0 and selects[pod.group]:
                return False  # to adopt
        return claimed == replicas

    def sync(self, world: World, state: State, w: int):
        replicas = state.replicas[w]
        if replicas is None:  # the workload was deleted: nothing to sync (the GC removes its pods)
            return
        namespace = world.workloads[w].namespace
        if self._settled(world, state, w, namespace, replicas):
            return
        name = world.workloads[w].name
        active = [i for i, p in enumerate(state.pods)
                  if is_active(p) and world.groups[p.group].namespace == namespace]
        claimed, adopt, release = claim(world, state, w, active)
        diff = len(claimed) - replicas
        base = state
        for i in adopt:
            base = update_pod(base, i, owner=w)
        for i in release:
            base = update_pod(base, i, owner=-1)
        adopt_names = tuple(state.pods[i].name for i in adopt)
        release_names = tuple(state.pods[i].name for i in release)
        if diff < 0:
            nxt, created = base, []
            for _ in range(min(-diff, BURST_REPLICAS)):
                nxt, pod_name = create_pod(world, nxt, world.workloads[w].group, owner=w)
                created.append(pod_name)
            yield RCSync(name, adopt_names, release_names, tuple(created)), nxt
        elif diff > 0:
            for choice in pods_to_delete(world, base, w, claimed, min(diff, BURST_REPLICAS)):
                names = tuple(base.pods[i].name for i in choice)
                nxt = base
                for pod_name in names:
                    nxt = delete_pod(nxt, nxt.index_of(pod_name))
                yield RCSync(name, adopt_names, release_names, (), names), nxt
        elif adopt or release:
            yield RCSync(name, adopt_names, release_names), base
