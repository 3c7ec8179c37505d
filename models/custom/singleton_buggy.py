"""A deliberately buggy custom controller: edge-triggered, it forgets on restart.

The operator keeps one ``app=leader`` pod alive. It is written the way many
first operators are: it watches for *Delete events* and, on each, creates a
replacement. It finds the events by comparing the pods it saw last time (kept
in memory) with the pods it sees now. After a restart its memory is empty, and
the informer's first list only produces Add events for pods that exist: a pod
deleted while the controller was down is never seen to go, so it is never
replaced. ``kspec explore models/custom-singleton-buggy.yaml`` finds the lasso:
controller restart, pod deleted, the controller relists an empty cluster, and
nothing happens ever after.

The protocol (``kspec.simulation.controllers.protocol``): an ``actor`` name, ``steps(world,
state)`` yielding ``(action, next_state)`` pairs, ``initial_memory`` for what it
remembers, ``templates`` for the pods it creates.
"""

from typing import ClassVar

import attrs

from kspec.simulation.controllers.protocol import memory_of, template_group, with_memory
from kspec.api.labels import selector_from_map
from kspec.checker.model import Action
from kspec.simulation.state import create_pod

LEADER = {"app": "leader"}
SELECTOR = selector_from_map(LEADER)


@attrs.frozen
class LeaderRelist(Action):
    """The informer's initial list after a (re)start: Add events only."""

    actor: ClassVar[str] = "leader-operator"
    seen: tuple[str, ...]


@attrs.frozen
class LeaderRecreate(Action):
    """On a Delete event, create a replacement."""

    actor: ClassVar[str] = "leader-operator"
    deleted: str
    created: str


@attrs.frozen
class LeaderObserve(Action):
    """Other events (Add/Update): remember the pods, do nothing."""

    actor: ClassVar[str] = "leader-operator"
    seen: tuple[str, ...]


class EdgeTriggeredLeaderOperator:
    actor = "leader-operator"
    fair = True

    def templates(self):
        return [{"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "leader", "generateName": "leader-", "labels": dict(LEADER)},
                 "spec": {"containers": [{"name": "leader", "image": "example/leader:1.0",
                                          "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}]

    def initial_memory(self, world):
        return None  # nothing listed yet

    def steps(self, world, state):
        now = tuple(p.name for p in state.pods if SELECTOR.matches(world.groups[p.group].labels))
        seen = memory_of(world, state, self)
        if seen is None:
            yield LeaderRelist(now), with_memory(world, state, self, frozenset(now))
            return
        gone = sorted(seen - set(now))
        if gone:
            nxt, created = create_pod(world, state, template_group(world, "leader-"))
            yield LeaderRecreate(gone[0], created), with_memory(world, nxt, self, frozenset(now) | {created})
        elif frozenset(now) != seen:
            yield LeaderObserve(now), with_memory(world, state, self, frozenset(now))


controller = EdgeTriggeredLeaderOperator()
