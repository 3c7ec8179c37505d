"""Garbage collection: dependents of deleted owners, and terminated pods.

- The garbage collector (``pkg/controller/garbagecollector``) deletes an object
  whose controller ownerReference names an owner that no longer exists
  (background propagation, the default for ``kubectl delete``):
  :class:`GCDeleteDependent`; the ReplicaSets of a deleted Deployment go the
  same way (:class:`GCDeleteReplicaSet`), then their pods.
- Foreground and orphan propagation (``processDeletingDependentsItem``,
  ``orphanDependents``): an owner of pods (an RC, ReplicaSet, StatefulSet,
  DaemonSet or Job; its controller creates and deletes no pod meanwhile)
  deleted with ``propagationPolicy: Foreground`` keeps existing, with a deletionTimestamp and the
  ``foregroundDeletion`` finalizer, while the collector deletes its dependents
  (:class:`GCDeleteDependent`); once none is left in the API the finalizer is
  removed and the owner goes (:class:`GCRemoveOwner`). With ``Orphan`` the
  collector removes the dependents' ownerReferences in one pass
  (:class:`GCOrphanDependents`), then the owner goes; the pods keep running,
  owned by nobody.
- A Deployment deleted that way (its dependents are ReplicaSets, theirs are
  pods): ``Foreground`` deletes each ReplicaSet that still has pods with
  ``Foreground`` as well (``attemptToDeleteItem``: an owner waiting for its
  dependents and a dependent that has dependents of its own), one without pods
  with its default (Background) policy (:class:`GCDeleteReplicaSet`); the
  Deployment goes once none of its ReplicaSets is left. ``Orphan`` removes
  the ReplicaSets' ownerReferences (:func:`~kspec.simulation.state.released`):
  they and their pods live on. While it waits, the deployment controller
  only writes status (``syncStatusOnly``).
- The garbage collector's own finalizers on a pod (``orphan`` or
  ``foregroundDeletion`` in its ``metadata.finalizers``): once the pod is
  being deleted the collector has no dependent to wait for or orphan
  (``attemptToOrphan``, ``processDeletingDependentsItem``), so it removes the
  finalizer: :class:`GCRemovePodFinalizer`. Any other finalizer waits for a
  controller of the user's (:func:`~kspec.simulation.state.remove_finalizer`).
- The pod GC (``pkg/controller/podgc/gc_controller.go``, ``gcTerminated``)
  deletes terminated (Succeeded or Failed) pods once there are more than
  ``--terminated-pod-gc-threshold`` of them (12500 by default, so never in a
  small scenario unless the scenario lowers it), oldest first; the model has
  no creation times, so any terminated pod may go: :class:`PodGCDeleteTerminated`.
  (``gcOrphaned`` and ``gcUnscheduledTerminating`` have nothing to do here:
  nodes are never deleted, and the API server removes an unbound pod at once,
  unless a finalizer holds it, which podgc's delete with grace period 0 does
  not change either.)
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.user import mark_deletion
from kspec.simulation.state import (DELETIONS, RELEASED, State, World, deletion_pending, delete_pod, is_terminal,
                                    released, remove_finalizer, status_of, update_pod, with_status)

__all__ = ["GCDeleteDependent", "GCDeleteReplicaSet", "GCRemoveOwner", "GCOrphanDependents", "GCRemovePodFinalizer",
           "PodGCDeleteTerminated", "GarbageCollector", "PodGC"]

GC_FINALIZERS = ("orphan", "foregroundDeletion")  # metav1.FinalizerOrphanDependents, FinalizerDeleteDependents


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
    propagation: str = "Background"

    def __str__(self) -> str:
        how = "" if self.propagation == "Background" else f", propagationPolicy={self.propagation}"
        return f"GCDeleteReplicaSet({self.replica_set}, owner={self.owner}{how})"


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
    replica_sets: tuple[str, ...] = ()  # a Deployment's

    def __str__(self) -> str:
        orphaned = ", ".join(self.pods + self.replica_sets) or "nothing"
        return f"GCOrphanDependents({self.owner}: orphaned {orphaned})"


@attrs.frozen
class GCRemovePodFinalizer(Action):
    """A deleted pod's ``orphan`` or ``foregroundDeletion`` finalizer goes: a pod has no dependents."""

    actor: ClassVar[str] = "gc"
    pod: str
    finalizer: str


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
                yield GCDeleteDependent(pod.name, world.workloads[pod.owner].ref), delete_pod(state, i, world)
            if pod.deleting:
                for finalizer in world.groups[pod.group].finalizers:
                    if finalizer in GC_FINALIZERS:
                        yield GCRemovePodFinalizer(pod.name, finalizer), remove_finalizer(world, state, i, finalizer)
        if DELETIONS in world.status_slots:
            yield from self._finalize(world, state)
        for w, workload in enumerate(world.workloads):
            d = workload.deployment
            if d < 0 or state.replicas[w] is None or released(world, state, w):
                continue
            if state.replicas[d] is None:
                yield GCDeleteReplicaSet(workload.ref, world.workloads[d].ref), _gone(state, w)
            elif deletion_pending(world, state, d) == "Foreground" and not deletion_pending(world, state, w):
                if any(p.owner == w for p in state.pods):  # it has dependents: deleted in the foreground too
                    yield (GCDeleteReplicaSet(workload.ref, world.workloads[d].ref, "Foreground"),
                           mark_deletion(world, state, w, "Foreground"))
                else:
                    yield GCDeleteReplicaSet(workload.ref, world.workloads[d].ref), _gone(state, w)

    @staticmethod
    def _finalize(world: World, state: State):
        """The owners whose foregroundDeletion or orphan finalizer can be removed now."""
        for w, pending in enumerate(status_of(world, state, DELETIONS)):
            if pending is None:
                continue
            if world.workloads[w].kind == "Deployment":
                yield from _finalize_deployment(world, state, w, pending)
                continue
            owned = [i for i, p in enumerate(state.pods) if p.owner == w]
            gone = _gone(state, w)
            if pending == "Foreground" and not owned:
                yield GCRemoveOwner(world.workloads[w].ref), mark_deletion(world, gone, w, None)
            elif pending == "Orphan":
                nxt = gone
                for i in owned:
                    nxt = update_pod(nxt, i, owner=-1)
                names = tuple(state.pods[i].name for i in owned)
                yield GCOrphanDependents(world.workloads[w].ref, names), mark_deletion(world, nxt, w, None)


def _gone(state: State, w: int) -> State:
    """``state`` with workload ``w`` removed from the API."""
    return attrs.evolve(state, replicas=state.replicas[:w] + (None,) + state.replicas[w + 1:], rv=state.rv + 1)


def _finalize_deployment(world: World, state: State, d: int, pending: str):
    """A Deployment's foregroundDeletion finalizer goes once none of its
    ReplicaSets is left in the API; its orphan finalizer goes with their
    ownerReferences (each ReplicaSet :func:`~kspec.simulation.state.released`)."""
    owned = [rs for rs in world.workloads[d].replica_sets
             if state.replicas[rs] is not None and not released(world, state, rs)]
    gone = _gone(state, d)
    if pending == "Foreground" and not owned:
        yield GCRemoveOwner(world.workloads[d].ref), mark_deletion(world, gone, d, None)
    elif pending == "Orphan":
        marks = status_of(world, gone, RELEASED)
        marks = tuple(flag or w in owned for w, flag in enumerate(marks))
        names = tuple(world.workloads[rs].name for rs in owned)
        yield (GCOrphanDependents(world.workloads[d].ref, replica_sets=names),
               mark_deletion(world, with_status(world, gone, RELEASED, marks), d, None))


class PodGC:
    actor = "gc"
    fair = True

    def steps(self, world: World, state: State):
        terminated = [i for i, p in enumerate(state.pods) if is_terminal(p) and not p.deleting]
        if len(terminated) > world.pod_gc_threshold:
            for i in terminated:
                yield PodGCDeleteTerminated(state.pods[i].name), delete_pod(state, i, world)
