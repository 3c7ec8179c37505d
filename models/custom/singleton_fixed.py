"""The fixed version of ``singleton_buggy.py``: level-triggered, no memory.

Every reconcile looks at the whole current state (the level), not at what
changed (the edge): if no active ``app=leader`` pod exists, create one. Nothing
is remembered between reconciles, so a restart loses nothing, and a deletion
the controller never saw is handled like any other. This is how the built-in
controllers work (``pkg/controller/replicaset``: observe, diff, act).
"""

from typing import ClassVar

import attrs

from kspec.simulation.controllers.protocol import template_group
from kspec.api.labels import selector_from_map
from kspec.checker.model import Action
from kspec.simulation.state import create_pod, is_active

LEADER = {"app": "leader"}
SELECTOR = selector_from_map(LEADER)


@attrs.frozen
class LeaderEnsure(Action):
    actor: ClassVar[str] = "leader-operator"
    created: str


class LevelTriggeredLeaderOperator:
    actor = "leader-operator"
    fair = True

    def templates(self):
        return [{"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "leader", "generateName": "leader-", "labels": dict(LEADER)},
                 "spec": {"containers": [{"name": "leader", "image": "example/leader:1.0",
                                          "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}]

    def steps(self, world, state):
        active = [p for p in state.pods if SELECTOR.matches(world.groups[p.group].labels) and is_active(p)]
        if not active:
            nxt, created = create_pod(world, state, template_group(world, "leader-"))
            yield LeaderEnsure(created), nxt


controller = LevelTriggeredLeaderOperator()
