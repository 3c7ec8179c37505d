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

With a scenario's ``consistency:`` other than ``fresh`` the manager reads its
informer cache (:mod:`kspec.simulation.informer`) and keeps upstream's memory
(:class:`Expectations`, per workload, in ``State.memory``):

- ``ControllerExpectations`` (``pkg/controller/controller_utils.go``): a sync
  that creates ``n`` pods first expects ``n`` creations, one that deletes
  expects those pods' deletions (``UIDTrackingControllerExpectations``); the
  informer's handlers lower them as the events arrive (``addPod`` ->
  ``CreationObserved``, ``updatePod`` with a deletionTimestamp and ``deletePod``
  -> ``DeletionObserved``). ``syncReplicaSet`` runs ``manageReplicas`` only
  when the expectations are satisfied (met, absent, or expired after 5
  minutes: the ``expectations-expire`` fault).
- ``slowStartBatch``: creations go in batches of 1, 2, 4, ...; each batch is
  a step, so a ``controller-restart`` can fall between two batches (the rest
  is never created by that process) and other controllers act in between.
  A batch that fails (no etcd quorum) skips the rest and lowers the
  expectations by what was not created.
- A restart loses the memory (:meth:`ReplicationControllerLoop.initial_memory`).
"""

from __future__ import annotations

import itertools
from typing import ClassVar, Iterable, NamedTuple

import attrs

from kspec.simulation.controllers.protocol import WorkloadSlots, describe_sync
from kspec.simulation.informer import Event, cached_state
from kspec.checker.model import Action
from kspec.api.objects import WorkloadStatus
from kspec.simulation.state import (
    PENDING, RUNNING, TERMINAL_PHASES, State, World, create_pod, deletion_pending, delete_pod, has_quorum, is_active,
    update_pod,
)

__all__ = ["RCSync", "RCBatch", "RCExpectationsExpired", "Expectations", "ReplicationControllerLoop", "deletion_key", "pods_to_delete", "claim", "status", "BURST_REPLICAS"]

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


@attrs.frozen
class RCBatch(Action):
    """The next slow-start batch of a sync that is creating pods (``failed``:
    the batch's writes failed, the rest of the sync is skipped)."""

    actor: ClassVar[str] = "replication"
    workload: str
    create: tuple[str, ...] = ()
    failed: int = 0

    def __str__(self) -> str:
        if self.failed:
            return f"RCBatch({self.workload}: {self.failed} creations failed, rest of the sync skipped)"
        return describe_sync("RCBatch", self.workload, create=self.create)


@attrs.frozen
class RCExpectationsExpired(Action):
    """Expectations that nothing can meet any more (the cache has every event
    and the awaited ones never came) time out: ``ControllerExpectations``'
    TTL of 5 minutes always fires in the end, so this is weakly fair."""

    actor: ClassVar[str] = "replication"
    workload: str


class Expectations(NamedTuple):
    """``ControlleeExpectations`` of one workload, plus the sync in progress:
    ``add`` creations still expected, ``deletes`` the pods whose deletion is
    expected, ``pending`` pods the running sync has still to create in
    batches of ``batch``, ``batch`` doubling each time."""

    add: int = 0
    deletes: tuple[str, ...] = ()
    pending: int = 0
    batch: int = 1

    @property
    def satisfied(self) -> bool:
        return self.add <= 0 and not self.deletes

    def __repr__(self) -> str:
        parts = [f"add {self.add}"] if self.add else []
        parts += [f"del {list(self.deletes)}"] if self.deletes else []
        parts += [f"{self.pending} to create in batches of {self.batch}+"] if self.pending else []
        return "expect(" + ", ".join(parts) + ")"


def _normal(exp: Expectations | None) -> Expectations | None:
    """A met record with no sync in progress behaves as no record at all."""
    if exp is None or (exp.satisfied and not exp.pending):
        return None
    return exp


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


class ReplicationControllerLoop(WorkloadSlots):
    """The replication manager: one :class:`RCSync` step per workload that has work."""

    actor = "replication"
    fair = True

    names = "deletes"  # the pod names an expectations record holds
    normal = staticmethod(_normal)

    def workloads(self, world: World) -> tuple[int, ...]:
        return world.replicated

    def steps(self, world: World, state: State):
        informed = self.actor in world.memory_slots
        for w in world.replicated:  # RCs and ReplicaSets (Deployments: .deployment, StatefulSets: .statefulset)
            yield from (self.sync_informed(world, state, w) if informed else self.sync(world, state, w))

    # ---------------------------------------------------------------- memory (informed mode)

    def observe(self, world: World, state: State, event: Event) -> State:
        """The informer's handlers: ``addPod`` -> ``CreationObserved``;
        ``updatePod`` setting a deletionTimestamp, and ``deletePod`` ->
        ``DeletionObserved`` (only for a pod whose deletion was expected)."""
        pod = event.after if event.after is not None else event.before
        if pod.owner < 0 or pod.owner not in world.replicated_index:
            return state
        exp = self.slot(world, state, pod.owner)
        if exp is None:
            return state
        created = event.before is None and not event.after.deleting
        gone = event.after is None or (event.after.deleting and (event.before is None or not event.before.deleting))
        if created:
            exp = exp._replace(add=exp.add - 1)
        elif gone and pod.name in exp.deletes:
            exp = exp._replace(deletes=tuple(n for n in exp.deletes if n != pod.name))
        else:
            return state
        return self.with_slot(world, state, pod.owner, exp)

    def expire(self, world: World, state: State):
        """Each workload whose unmet expectations can time out (no sync running)."""
        for w in world.replicated:
            exp = self.slot(world, state, w)
            if exp is not None and not exp.pending and not exp.satisfied:
                yield world.workloads[w].ref, self.with_slot(world, state, w, None)

    def sync_informed(self, world: World, state: State, w: int):
        """``syncReplicaSet`` reading the informer cache, gated by expectations,
        creating in slow-start batches."""
        exp = self.slot(world, state, w)
        if exp is not None and exp.pending:
            yield self._next_batch(world, state, w, exp)
            return
        if exp is not None and not exp.satisfied:
            if self._caught_up(world, state):  # nothing left to arrive: the 5-minute TTL fires (isExpired)
                yield RCExpectationsExpired(world.workloads[w].ref), self.with_slot(world, state, w, None)
            return
        view = cached_state(world, state, self.actor)
        for action, _ in self.sync(world, view, w):
            yield self._apply(world, state, w, action)

    def _caught_up(self, world: World, state: State) -> bool:
        """The cache has every event and lost none: unmet expectations can
        only be met by time running out."""
        k = world.informer_slots.get(self.actor)
        return k is None or state.informers[k] == (0, ())

    def _next_batch(self, world: World, state: State, w: int, exp: Expectations):
        name = world.workloads[w].name
        size = min(exp.batch, exp.pending)
        rest = exp._replace(pending=exp.pending - size, batch=exp.batch * 2)
        if not has_quorum(world, state):  # every create fails: skip the rest, expect none of them
            return RCBatch(name, failed=size), self.with_slot(world, state, w, rest._replace(add=exp.add - exp.pending,
                                                                                          pending=0))
        nxt, created = self.with_slot(world, state, w, rest), []
        for _ in range(size):
            nxt, pod_name = create_pod(world, nxt, world.workloads[w].group, owner=w)
            created.append(pod_name)
        return RCBatch(name, tuple(created)), nxt

    def _apply(self, world: World, state: State, w: int, action: RCSync) -> tuple[RCSync, State]:
        """The writes a sync planned on its cache, sent to the API server: patches
        to pods that still exist, the first creation batch (the rest pending),
        deletions of pods still there (a pod already gone counts as observed)."""
        nxt = state
        for name in action.adopt:
            i = _index(nxt, name)
            if i is not None and nxt.pods[i].owner < 0:
                nxt = update_pod(nxt, i, owner=w)
        for name in action.release:
            i = _index(nxt, name)
            if i is not None and nxt.pods[i].owner == w:
                nxt = update_pod(nxt, i, owner=-1)
        if action.create:
            count = len(action.create)
            nxt = self.with_slot(world, nxt, w, Expectations(add=count, pending=count, batch=1))
            batch, nxt = self._next_batch(world, nxt, w, self.slot(world, nxt, w))
            return attrs.evolve(action, create=batch.create), nxt
        if action.delete:
            expected = []
            for name in action.delete:
                i = _index(nxt, name)
                if i is not None and not nxt.pods[i].deleting:
                    expected.append(name)
                    nxt = delete_pod(nxt, i, world)
            nxt = self.with_slot(world, nxt, w, Expectations(deletes=tuple(expected)))
        return action, nxt

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
        if deletion_pending(world, state, w):  # a deletionTimestamp: syncReplicaSet skips manageReplicas
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
                    nxt = delete_pod(nxt, nxt.index_of(pod_name), world)
                yield RCSync(name, adopt_names, release_names, (), names), nxt
        elif adopt or release:
            yield RCSync(name, adopt_names, release_names), base


def _index(state: State, name: str) -> int | None:
    for i, pod in enumerate(state.pods):
        if pod.name == name:
            return i
    return None
