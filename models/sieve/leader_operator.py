"""A user's leader operator in three versions: two of Sieve's (OSDI'22) bug classes and their fixes.

The operator keeps exactly one ``app=leader`` pod: a leader that must never
run twice (two at once is a split brain) and must come back when it goes. It
reads its informer cache (``cache_of``) and learns of changes from its event
handler (``observe``), as a controller-runtime or client-go operator does.
Each version fixes the previous one's bug and shows the next class:

``version: edge`` (Sieve's *unobserved state*)
    Edge-triggered: the delete handler queues a replacement, and the worker
    creates one per queued deletion. A deletion the operator never receives
    as an event is never acted on. A restart is such a gap: the queue is lost,
    and the new process's first list only reports the pods that exist (Add
    events), not the ones that went while it was down.
    ``models/sieve-unobserved-state-buggy.yaml``: pod deleted, kubelet removes
    it, controller restarts, then nothing, forever (a lasso).

``version: level`` (fixes the above; Sieve's *stale state*)
    Level-triggered: every sync compares the desired state (one active
    leader) with the cache, whatever the events were, so a missed deletion is
    handled like any other. Because the cache lags its own writes, a creation
    is *expected* (``ControllerExpectations``, as the replication manager
    does) and the operator waits until its cache shows it. Surplus leaders are
    deleted, one step per candidate. The expectation is memory too: a restart
    loses it, and the new process may list from an API server behind the one
    it wrote to (kubernetes#59848, "time travel"), where the replacement it
    just created does not exist yet. ``models/sieve-stale-state-buggy.yaml``:
    pod deleted, kubelet removes it, replacement created, restart relisting
    one event behind, a second leader created: two at once.

``version: quorum`` (fixes both)
    The level-triggered operator that confirms what its cache says with a
    quorum read of the API (a list with ``resourceVersion=""``, served from
    etcd: here ``state.pods``) before a create, which cannot be undone. A
    cache may lag; a quorum read never does. Deletions still read the cache.
    ``models/sieve-stale-state-fixed.yaml`` holds.
"""

from typing import ClassVar, NamedTuple

import attrs

from kspec.api.labels import selector_from_map
from kspec.checker.model import Action
from kspec.simulation.controllers.protocol import (NotFound, cache_of, delete_cached_pod, memory_of, template_group,
                                                   with_memory)
from kspec.simulation.state import create_pod, is_active

LEADER = {"app": "leader"}
SELECTOR = selector_from_map(LEADER)
VERSIONS = ("edge", "level", "quorum")


@attrs.frozen
class LeaderReplace(Action):
    """The edge-triggered worker: a queued deletion, a replacement created."""

    actor: ClassVar[str] = "leader-operator"
    created: str


@attrs.frozen
class LeaderCreate(Action):
    """No active leader in the operator's view: it creates one."""

    actor: ClassVar[str] = "leader-operator"
    created: str


@attrs.frozen
class LeaderDeleteSurplus(Action):
    """More than one active leader in the operator's view: it deletes one."""

    actor: ClassVar[str] = "leader-operator"
    deleted: str


class Queue(NamedTuple):
    """The edge-triggered operator's memory: deletions seen, not yet replaced."""

    deletions: int = 0

    def __repr__(self) -> str:
        return f"{self.deletions} deletion(s) queued"


class Expecting(NamedTuple):
    """The level-triggered operator's memory: creations its cache has yet to show."""

    creations: int = 0

    def __repr__(self) -> str:
        return f"expects {self.creations} creation(s)"


def is_leader(world, pod) -> bool:
    return SELECTOR.matches(world.groups[pod.group].labels)


def active_leaders(world, pods) -> list:
    return [p for p in pods if is_leader(world, p) and is_active(p)]


class LeaderOperator:
    """What every version shares: the actor, the pod template, the memory's shape."""

    actor = "leader-operator"
    fair = True

    def templates(self):
        return [{"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"generateName": "leader-", "labels": dict(LEADER)},
                 "spec": {"containers": [{"name": "leader", "image": "example/leader:1.0",
                                          "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}]

    def rename_memory(self, memory, pods):
        return memory  # a count: no pod names to rename

    def create(self, world, state):
        """POST a leader pod: the state after it and the new pod's name."""
        return create_pod(world, state, template_group(world, "leader-"))


class EdgeTriggeredLeaderOperator(LeaderOperator):
    """Acts on Delete events only (see the module docstring: ``version: edge``)."""

    def initial_memory(self, world):
        return Queue()

    def observe(self, world, state, event):
        """The delete handler queues a replacement."""
        if event.after is None and is_leader(world, event.before):
            queued = memory_of(world, state, self).deletions
            return with_memory(world, state, self, Queue(queued + 1))
        return state

    def steps(self, world, state):
        queued = memory_of(world, state, self).deletions
        if queued:
            nxt, created = self.create(world, state)
            yield LeaderReplace(created), with_memory(world, nxt, self, Queue(queued - 1))


class LevelTriggeredLeaderOperator(LeaderOperator):
    """Compares the cache with one leader on every sync (``version: level``;
    with ``quorum_read``, ``version: quorum``)."""

    def __init__(self, quorum_read: bool):
        self.quorum_read = quorum_read

    def initial_memory(self, world):
        return Expecting()

    def observe(self, world, state, event):
        """The add handler lowers the expectation (``CreationObserved``)."""
        expected = memory_of(world, state, self).creations
        if expected and event.before is None and is_leader(world, event.after):
            return with_memory(world, state, self, Expecting(expected - 1))
        return state

    def steps(self, world, state):
        if memory_of(world, state, self).creations:
            return  # a creation not yet in the cache: it cannot be trusted to count it
        leaders = active_leaders(world, cache_of(world, state, self))
        if not leaders:
            if self.quorum_read and active_leaders(world, state.pods):
                return  # the quorum read sees a leader the cache does not show yet
            nxt, created = self.create(world, state)
            yield LeaderCreate(created), with_memory(world, nxt, self, Expecting(1))
        elif len(leaders) > 1:
            for pod in leaders:
                try:
                    yield LeaderDeleteSurplus(pod.name), delete_cached_pod(state, pod)
                except NotFound:
                    continue  # gone already: the cache has yet to hear of it


def build_controller(version: str = "edge"):
    """The operator in one of :data:`VERSIONS` (see the module docstring)."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
    if version == "edge":
        return EdgeTriggeredLeaderOperator()
    return LevelTriggeredLeaderOperator(quorum_read=version == "quorum")
