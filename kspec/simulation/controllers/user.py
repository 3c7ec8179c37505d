"""User operations: edits a person makes, each at most once per behaviour.

``kubectl scale rc/frontend --replicas=2`` (the article: "if replicas changes
to 5 it starts 2 more, and scaling down works the same way"), ``kubectl
delete rc/frontend`` (background propagation: the garbage collector then
deletes its pods), and for a Deployment ``kubectl set image`` or ``kubectl
rollout restart`` (``rollout``: the template changes, so the deployment
controller rolls to a new ReplicaSet), ``kubectl drain`` of a node
(``drain``: cordon, then :mod:`kspec.simulation.controllers.drain` evicts), and
``kubectl delete pod --force --grace-period=0`` of a terminating pod of a
workload (``force-delete``: the pod object goes, its containers may not).
Operations are steps of the actor ``user``, never weakly
fair, recorded in ``State.ops`` (one bit each) so each happens at most once.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.state import DELETIONS, NOT_RUNNING, State, World, status_of, with_status

__all__ = ["Operation", "UserScale", "UserDeleteWorkload", "UserRollout", "UserDrain", "UserForceDelete",
           "UserOperations", "mark_deletion"]


@attrs.frozen
class Operation:
    """One planned operation: ``scale`` (with ``replicas``), ``delete`` or
    ``rollout`` (a Deployment's template edit) of workload ``workload``."""

    verb: str
    workload: int = -1
    replicas: int | None = None
    image: str | None = None
    node: int = -1  # drain
    propagation: str = "Background"  # delete: the DELETE's propagationPolicy


@attrs.frozen
class UserScale(Action):
    actor: ClassVar[str] = "user"
    workload: str
    replicas: int


@attrs.frozen
class UserDeleteWorkload(Action):
    """``kubectl delete`` of a workload. Background (the default): the object
    goes at once and the garbage collector deletes its pods; Foreground and
    Orphan: the object stays with a deletionTimestamp and the
    ``foregroundDeletion`` or ``orphan`` finalizer until the garbage collector
    has deleted, or orphaned, its pods."""

    actor: ClassVar[str] = "user"
    workload: str
    propagation: str = "Background"

    def __str__(self) -> str:
        how = "" if self.propagation == "Background" else f", propagationPolicy={self.propagation}"
        return f"UserDeleteWorkload({self.workload}{how})"


@attrs.frozen
class UserForceDelete(Action):
    """``kubectl delete pod POD --force --grace-period=0`` on a terminating pod:
    the API object goes at once, whatever its kubelet is doing; containers
    still running on a machine that is up become orphans there."""

    actor: ClassVar[str] = "user"
    pod: str


@attrs.frozen
class UserDrain(Action):
    """``kubectl drain NODE --ignore-daemonsets`` starts: the node is cordoned
    (the :mod:`kspec.simulation.controllers.drain` actor then evicts its pods)."""

    actor: ClassVar[str] = "user"
    node: str


@attrs.frozen
class UserRollout(Action):
    """A Deployment's, StatefulSet's or DaemonSet's pod template changes (a new image, or a restart annotation)."""

    actor: ClassVar[str] = "user"
    workload: str
    image: str | None = None


class UserOperations:
    actor = "user"
    fair = False

    def __init__(self, operations: tuple[Operation, ...]):
        self.operations = tuple(operations)

    def steps(self, world: World, state: State):
        for bit, op in enumerate(self.operations):
            if state.ops & (1 << bit):
                continue
            if op.verb == "drain":
                nodes = state.nodes[:op.node] + (state.nodes[op.node]._replace(cordoned=True),) + state.nodes[op.node + 1:]
                yield (UserDrain(world.node_names[op.node]),
                       attrs.evolve(state, nodes=nodes, ops=state.ops | (1 << bit), rv=state.rv + 1))
                continue
            if op.verb == "force-delete":
                yield from self._force_delete(world, state, bit, op.workload)
                continue
            if state.replicas[op.workload] is None:
                continue
            name = world.workloads[op.workload].ref
            if op.verb == "delete" and op.propagation != "Background":
                yield (UserDeleteWorkload(name, op.propagation),
                       attrs.evolve(mark_deletion(world, state, op.workload, op.propagation), ops=state.ops | (1 << bit)))
                continue
            replicas = list(state.replicas)
            if op.verb == "scale":
                replicas[op.workload] = op.replicas
                action = UserScale(name, op.replicas)
            elif op.verb == "rollout":
                action = UserRollout(name, op.image)
            else:
                replicas[op.workload] = None
                action = UserDeleteWorkload(name)
            yield action, attrs.evolve(state, replicas=tuple(replicas), ops=state.ops | (1 << bit), rv=state.rv + 1)

    @staticmethod
    def _force_delete(world: World, state: State, bit: int, workload: int):
        """One step per terminating pod of ``workload``: that pod force-deleted. A
        pod with finalizers is not offered: grace period 0 does not remove an
        object whose finalizers remain, so it stays as it is (the model keeps no
        grace period to shorten)."""
        for i, pod in enumerate(state.pods):
            if pod.owner != workload or not pod.deleting or world.groups[pod.group].finalizers:
                continue
            nodes = state.nodes
            if pod.node >= 0 and pod.run != NOT_RUNNING and nodes[pod.node].up:
                rec = nodes[pod.node]
                orphans = tuple(sorted(rec.orphans + (pod.group,)))
                nodes = nodes[:pod.node] + (rec._replace(orphans=orphans),) + nodes[pod.node + 1:]
            pods = state.pods[:i] + state.pods[i + 1:]
            yield UserForceDelete(pod.name), attrs.evolve(state, pods=pods, nodes=nodes, ops=state.ops | (1 << bit),
                                                          rv=state.rv + 1)


def mark_deletion(world: World, state: State, w: int, propagation: str | None) -> State:
    """``state`` with workload ``w``'s pending deletion set (or cleared with None)."""
    pending = status_of(world, state, DELETIONS)
    return with_status(world, state, DELETIONS, pending[:w] + (propagation,) + pending[w + 1:])
