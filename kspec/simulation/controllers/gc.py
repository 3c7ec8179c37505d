"""Garbage collection: dependents of deleted owners, and terminated pods.

- The garbage collector (``pkg/controller/garbagecollector``) deletes an object
  whose controller ownerReference names an owner that no longer exists
  (background propagation, the default for ``kubectl delete``):
  :class:`GCDeleteDependent`; the ReplicaSets of a deleted Deployment go the
  same way (:class:`GCDeleteReplicaSet`), then their pods.
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
from kspec.simulation.state import State, World, delete_pod, is_terminal

__all__ = ["GCDeleteDependent", "GCDeleteReplicaSet", "PodGCDeleteTerminated", "GarbageCollector", "PodGC"]


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
class PodGCDeleteTerminated(Action):
    actor: ClassVar[str] = "gc"
    pod: str


class GarbageCollector:
    actor = "gc"
    fair = True

    def steps(self, world: World, state: State):
        for i, pod in enumerate(state.pods):
            if pod.owner >= 0 and state.replicas[pod.owner] is None and not pod.deleting:
                yield GCDeleteDependent(pod.name, world.workloads[pod.owner].ref), delete_pod(state, i)
        for w, workload in enumerate(world.workloads):
            d = workload.deployment
            if d >= 0 and state.replicas[d] is None and state.replicas[w] is not None:
                replicas = state.replicas[:w] + (None,) + state.replicas[w + 1:]
                yield (GCDeleteReplicaSet(workload.ref, world.workloads[d].ref),
                       attrs.evolve(state, replicas=replicas, rv=state.rv + 1))


class PodGC:
    actor = "gc"
    fair = True

    def steps(self, world: World, state: State):
        terminated = [i for i, p in enumerate(state.pods) if is_terminal(p) and not p.deleting]
        if len(terminated) > world.pod_gc_threshold:
            for i in terminated:
                yield PodGCDeleteTerminated(state.pods[i].name), delete_pod(state, i)
