"""Garbage collection: dependents of deleted owners, and terminated pods.

- The garbage collector (``pkg/controller/garbagecollector``) deletes an object
  whose controller ownerReference names an owner that no longer exists
  (background propagation, the default for ``kubectl delete``):
  :class:`GCDeleteDependent`; the ReplicaSets of a deleted Deployment go the
  same way (:class:`GCDeleteReplicaSet`), then their pods.
- Foreground and orphan propagation (``processDeletingDependentsItem``,
  ``orphanDependents``): an owner deleted with ``propagationPolicy:
  Foreground`` keeps existing, with a deletionTimestamp and the
  ``foregroundDeletion`` finalizer, while the collector deletes its dependents
  (:class:`GCDeleteDependent`); once none is left in the API the finalizer is
  removed and the owner goes (:class:`GCRemoveOwner`). With ``Orphan`` the
  collector removes the dependents' ownerReferences in one pass
  (:class:`GCOrphanDependents`), then the owner goes; the pods keep running,
  owned by nobody.
- The pod GC (``pkg/controller/podgc/gc_controller.go``, ``gcTerminated``)
  deletes terminated (Succeeded or Failed) pods once there are more than
  ``--terminated-pod-gc-threshold`` of them (12500 by default, so never in a
  small scenario unless the scenario lowers it), oldest first; the model has
  no creation times, so any terminated pod may go: :class:`PodGCDeleteTerminated`.
  (``gcOrphaned`` and ``gcUnscheduledTerminating`` have nothing to do here:
  nodes are never deleted, and the API server removes an unbound pod at once.)
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.user import mark_deletion
from kspec.simulation.state import DELETIONS, State, World, deletion_pending, delete_pod, is_terminal, status_of, update_pod

__all__ = ["GCDeleteDependent", "GCDeleteReplicaSet", "GCRemoveOwner", "GCOrphanDependents", "PodGCDeleteTerminated",
           "GarbageCollector", "PodGC"]


@attrs.frozen
class GCDeleteDependent(Action):
    actor: ClassVar[str] = "gc"
    pod: str
    owner: str


@attrs.frozen
class GCDeleteReplicaSet(Action):
    actor: ClassVar[str] = "gc"
    replica_set: str
    owner: str


@attrs.frozen
class GCRemoveOwner(Action):
    """The last dependent is gone: the ``foregroundDeletion`` finalizer is removed, the owner goes."""

    actor: ClassVar[str] = "gc"
    owner: str


@attrs.frozen
class GCOrphanDependents(Action):
    """The ``orphan`` finalizer: the dependents' ownerReferences are removed, then the owner goes."""

    actor: ClassVar[str] = "gc"
    owner: str
    pods: tuple[str, ...] = ()


@attrs.frozen
class PodGCDeleteTerminated(Action):
    actor: ClassVar[str] = "gc"
    pod: str


class GarbageCollector:
    actor = "gc"
    fair = True

    def steps(self, world: World, state: State):
        for i, pod in enumerate(state.pods):
            if pod.owner >= 0 and not pod.deleting and (state.replicas[pod.owner] is None or
                                                        deletion_pending(world, state, pod.owner) == "Foreground"):
                yield GCDeleteDependent(pod.name, world.workloads[pod.owner].ref), delete_pod(state, i)
        if DELETIONS in world.status_slots:
            yield from self._finalize(world, state)
        for w, workload in enumerate(world.workloads):
            d = workload.deployment
            if d >= 0 and state.replicas[d] is None and state.replicas[w] is not None:
                replicas = state.replicas[:w] + (None,) + state.replicas[w + 1:]
                yield (GCDeleteReplicaSet(workload.ref, world.workloads[d].ref),
                       attrs.evolve(state, replicas=replicas, rv=state.rv + 1))


    @staticmethod
    def _finalize(world: World, state: State):
        """The owners whose foregroundDeletion or orphan finalizer can be removed now."""
        for w, pending in enumerate(status_of(world, state, DELETIONS)):
            if pending is None:
                continue
            owned = [i for i, p in enumerate(state.pods) if p.owner == w]
            gone = attrs.evolve(state, replicas=state.replicas[:w] + (None,) + state.replicas[w + 1:])
            if pending == "Foreground" and not owned:
                yield GCRemoveOwner(world.workloads[w].ref), mark_deletion(world, gone, w, None)
            elif pending == "Orphan":
                nxt = gone
                for i in owned:
                    nxt = update_pod(nxt, i, owner=-1)
                names = tuple(state.pods[i].name for i in owned)
                yield GCOrphanDependents(world.workloads[w].ref, names), mark_deletion(world, nxt, w, None)


class PodGC:
    actor = "gc"
    fair = True

    def steps(self, world: World, state: State):
        terminated = [i for i, p in enumerate(state.pods) if is_terminal(p) and not p.deleting]
        if len(terminated) > world.pod_gc_threshold:
            for i in terminated:
                yield PodGCDeleteTerminated(state.pods[i].name), delete_pod(state, i)
