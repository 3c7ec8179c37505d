"""Endpoints controller: each Service's ready addresses are the ready pods it selects.

Upstream ``pkg/controller/endpoint/endpoints_controller.go`` (``syncService``)
with ``podutil.ShouldPodBeInEndpoints``: a pod is listed when the Service's
selector matches it in the Service's namespace, it has an IP (its kubelet
started it), it is not Succeeded or Failed, and it is not terminating; it is a
ready address when its Ready condition is True. ``publishNotReadyAddresses``
lists terminating and not-ready pods as ready addresses too. Services without
a selector are left alone. The state keeps only the ready addresses: they are
what kube-proxy routes to (:mod:`kspec.simulation.network`).

One :class:`EndpointsSync` step per Service whose Endpoints are stale; until it
runs, kube-proxy keeps routing to the old addresses, which is the window the
``endpoints-only-ready-pods`` property looks at.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.informer import cached_state
from kspec.simulation.state import State, World, has_ip, is_terminal
from kspec.util.bounded import put_bounded

__all__ = ["EndpointsSync", "EndpointsController", "desired_addresses"]


@attrs.frozen
class EndpointsSync(Action):
    actor: ClassVar[str] = "endpoints"
    service: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = []
        if self.added:
            parts.append("+" + ", +".join(self.added))
        if self.removed:
            parts.append("-" + ", -".join(self.removed))
        return f"EndpointsSync({self.service}: {' '.join(parts)})"


def desired_addresses(world: World, state: State, service: int) -> tuple[str, ...]:
    info = world.services[service]
    if info.selector is None:
        return state.endpoints[service]
    selects = world.service_selects[service]
    names = []
    for pod in state.pods:
        if not selects[pod.group] or is_terminal(pod) or not has_ip(pod):
            continue
        if info.publish_not_ready or (pod.ready and not pod.deleting):
            names.append(pod.name)
    return tuple(names)  # state.pods is sorted by name


class EndpointsController:
    """One :class:`EndpointsSync` per Service whose Endpoints differ from what
    the controller sees. Named in a scenario's ``consistency.controllers`` it
    sees the pods through its informer cache (upstream's pod lister), so it
    may write an address of a pod the API has already deleted or marked not
    ready; the Endpoints it compares with are read fresh. ``services``: the
    indexes of ``World.services`` it syncs (None: all; slicing leaves out
    those no check reads, :mod:`kspec.simulation.slicing`)."""

    actor = "endpoints"
    fair = True

    SYNCS = 10_000  # sync actions memoised; the oldest half is dropped when full

    def __init__(self, services: frozenset[int] | None = None):
        self.services = services
        self._syncs: dict = {}  # (Service name, wanted, held) -> the sync action

    def __getstate__(self):
        return dict(self.__dict__, _syncs={})

    def steps(self, world: World, state: State):
        return self.steps_toward(world, state, self.wanted(world, state))

    def wanted(self, world: World, state: State) -> tuple[tuple[int, tuple[str, ...]], ...]:
        """(Service index, the addresses a sync would write) for each Service
        with a selector it syncs: what it reads of ``state`` is the pods (its
        cache's, when it has one), never the Endpoints."""
        view = cached_state(world, state, self.actor)
        return tuple((s, desired_addresses(world, view, s)) for s, info in enumerate(world.services)
                     if info.selector is not None and (self.services is None or s in self.services))

    def steps_toward(self, world: World, state: State, wanted):
        """One sync per Service of ``wanted`` whose Endpoints differ from it."""
        for s, want in wanted:
            have = state.endpoints[s]
            if want != have:
                endpoints = state.endpoints[:s] + (want,) + state.endpoints[s + 1:]
                yield self._sync(world, s, want, have), State(
                    state.pods, state.nodes, endpoints, state.replicas, state.memory, state.faults, state.ops,
                    state.rv + 1, state.log, state.informers, state.etcd_down, state.status)

    def _sync(self, world: World, s: int, want: tuple, have: tuple) -> EndpointsSync:
        """The action writing ``want`` over ``have`` to Service ``s`` (memoised:
        the same syncs recur in most states of a search)."""
        name = world.services[s].name
        key = (name, want, have)
        action = self._syncs.get(key)
        if action is None:
            added = tuple(n for n in want if n not in have)
            removed = tuple(n for n in have if n not in want)
            action = EndpointsSync(name, added, removed)
            put_bounded(self._syncs, key, action, self.SYNCS)
        return action
