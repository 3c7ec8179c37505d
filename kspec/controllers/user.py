"""User operations: edits a person makes, each at most once per behaviour.

``kubectl scale rc/frontend --replicas=2`` (the article: "if replicas changes
to 5 it starts 2 more, and scaling down works the same way"), ``kubectl
delete rc/frontend`` (background propagation: the garbage collector then
deletes its pods), and for a Deployment ``kubectl set image`` or ``kubectl
rollout restart`` (``rollout``: the template changes, so the deployment
controller rolls to a new ReplicaSet), and ``kubectl drain`` of a node
(``drain``: cordon, then :mod:`kspec.controllers.drain` evicts). Operations are steps of the actor ``user``, never weakly
fair, recorded in ``State.ops`` (one bit each) so each happens at most once.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.model import Action
from kspec.state import State, World

__all__ = ["Operation", "UserScale", "UserDeleteWorkload", "UserRollout", "UserDrain", "UserOperations"]


@attrs.frozen
class Operation:
    """One planned operation: ``scale`` (with ``replicas``), ``delete`` or
    ``rollout`` (a Deployment's template edit) of workload ``workload``."""

    verb: str
    workload: int = -1
    replicas: int | None = None
    image: str | None = None
    node: int = -1  # drain


@attrs.frozen
class UserScale(Action):
    actor: ClassVar[str] = "user"
    workload: str
    replicas: int


@attrs.frozen
class UserDeleteWorkload(Action):
    actor: ClassVar[str] = "user"
    workload: str


@attrs.frozen
class UserDrain(Action):
    """``kubectl drain NODE --ignore-daemonsets`` starts: the node is cordoned
    (the :mod:`kspec.controllers.drain` actor then evicts its pods)."""

    actor: ClassVar[str] = "user"
    node: str


@attrs.frozen
class UserRollout(Action):
    """The Deployment's pod template changes (a new image, or a restart annotation)."""

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
            if state.replicas[op.workload] is None:
                continue
            name = world.workloads[op.workload].ref
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
