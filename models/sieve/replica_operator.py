"""A user's operator keeping N pods of its template: a stale cache makes it
create too many unless it keeps expectations (the replication manager's own
defence, ``pkg/controller/replicaset``: ``expectations.SatisfiedExpectations``
gates ``manageReplicas``).

The operator reads its pods from its informer cache and creates the missing
ones, one per step. Its cache may lag behind the API by the scenario's
``staleness`` events, so right after a creation the cache may still miss the
new pod.

``version: buggy``
    Acts on whatever its cache shows: with the cache one event behind it sees
    one pod too few after its own creation, and creates again.
    ``models/sieve-stale-replicas-buggy.yaml``: two pods where one is wanted.

``version: fixed``
    Keeps :class:`~kspec.simulation.controllers.protocol.Expectations` in
    memory: raised by one before each creation, lowered by its ``observe``
    handler when the ADD of the pod arrives, and acts only when they are
    satisfied. ``models/sieve-stale-replicas-fixed.yaml`` holds.
"""

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.protocol import (Expectations, cache_of, memory_of, template_group,
                                                   with_memory)
from kspec.simulation.state import create_pod, is_active

VERSIONS = ("buggy", "fixed")
TEMPLATE = "worker-"


@attrs.frozen
class WorkerCreate(Action):
    """One pod created from the operator's template."""

    actor: ClassVar[str] = "worker-operator"
    created: str


class ReplicaOperator:
    """Keeps ``replicas`` pods of its template (see the module docstring)."""

    actor = "worker-operator"
    fair = True

    def __init__(self, replicas: int, fixed: bool):
        self.replicas = replicas
        self.fixed = fixed

    def templates(self):
        return [{"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"generateName": TEMPLATE, "labels": {"app": "worker"}},
                 "spec": {"containers": [{"name": "worker", "image": "example/worker:1.0",
                                          "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}]

    def initial_memory(self, world):
        return Expectations()

    def rename_memory(self, memory, pods):
        return memory.renamed(pods)

    def memory_marks(self, memory):
        return memory.marks()

    def observe(self, world, state, event):
        if not self.fixed:
            return state
        group = template_group(world, TEMPLATE)
        expectations = memory_of(world, state, self)
        lowered = expectations.observed(event, lambda pod: pod.group == group)
        return state if lowered == expectations else with_memory(world, state, self, lowered)

    def steps(self, world, state):
        expectations = memory_of(world, state, self)
        if self.fixed and not expectations.satisfied:
            return
        group = template_group(world, TEMPLATE)
        mine = [p for p in cache_of(world, state, self) if p.group == group and is_active(p)]
        if len(mine) < self.replicas:
            nxt, created = create_pod(world, state, group)
            if self.fixed:
                nxt = with_memory(world, nxt, self, expectations.expect(adds=1))
            yield WorkerCreate(created), nxt


def build_controller(version: str = "buggy", replicas: int = 1):
    """The operator in one of :data:`VERSIONS`, keeping ``replicas`` pods."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
    return ReplicaOperator(int(replicas), fixed=version == "fixed")
