"""Node lifecycle controller and taint-based eviction.

Upstream: ``pkg/controller/nodelifecycle/node_lifecycle_controller.go``
(``monitorNodeHealth``, ``tryUpdateNodeHealth``, ``processTaintBaseEviction``,
``handleDisruption``, ``ComputeZoneState``) and the NoExecute taint manager
(``pkg/controller/tainteviction``).

- A node whose kubelet stops posting status (machine down or cut off) is, after
  ``node-monitor-grace-period``, marked ``Ready=Unknown``; in the same pass the
  controller marks every pod on it not Ready (``MarkPodsNotReady``) and queues
  the ``node.kubernetes.io/unreachable:NoExecute`` taint
  (:class:`NodeLifecycleMarkUnknown`). The taint is added at the zone's
  eviction rate (:class:`NodeLifecycleTaint`): a zone in partial disruption
  (more than 2 nodes and at least 55% of them not Ready) in a cluster of at
  most 50 nodes gets rate 0, so no taint; a zone in full disruption keeps the
  normal rate; and when *every* zone is fully disrupted the controller stops all
  evictions and removes the NoExecute taints (:class:`NodeLifecycleStopEvictions`),
  on the reasoning that the control plane is the one cut off.
- When the kubelet posts Ready again, the taint is removed
  (``markNodeAsReachable``, :class:`NodeLifecycleUntaint`).
- The taint manager (the ``taint-eviction-controller`` since 1.29, its own
  actor here) deletes a pod on a node with a NoExecute taint it does not
  tolerate at once, and one it tolerates for ``tolerationSeconds`` once that
  much time has passed since the taint was added (:class:`TaintManagerEvict`).
  Pods tolerate the unreachable taint for 300 s by default
  (DefaultTolerationSeconds admission). Once the kubelet posts Ready again the
  node controller lifts the taint within one monitor period (5 s), so a
  toleration that has not run out by then never will: the model lets the node
  controller win that race (a pod scheduled onto the node in that window,
  which upstream gets a fresh 300 s timer, is not evicted).

Time: the grace period is the delay before :class:`NodeLifecycleMarkUnknown`
fires (any time after heartbeats stop); the taint's age is the node's
``timer``, advanced by :class:`ClockTick` through the distinct
``tolerationSeconds`` values the scenario's pods use (``World.levels``).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.state import READY, UNKNOWN, State, World, delete_pod, update_node, update_pod

__all__ = ["NodeLifecycleMarkUnknown", "NodeLifecycleTaint", "NodeLifecycleUntaint", "NodeLifecycleStopEvictions",
           "TaintManagerEvict", "ClockTick", "NodeLifecycle", "TaintManager", "Clock",
           "zone_states", "taint_allowed", "FULL", "PARTIAL", "NORMAL", "EvictionRule", "rule_of"]

NORMAL, PARTIAL, FULL = "Normal", "PartialDisruption", "FullDisruption"
UNHEALTHY_ZONE_THRESHOLD = 0.55  # --unhealthy-zone-threshold
LARGE_CLUSTER_THRESHOLD = 50  # --large-cluster-size-threshold
SECONDARY_EVICTION_RATE = 0.01  # --secondary-node-eviction-rate


@attrs.frozen
class EvictionRule:
    """The node lifecycle controller's flags that decide whether a zone's
    unreachable nodes get the NoExecute taint (``setLimiterInZone``,
    ``handleDisruption``): ``zone-aware`` is upstream's rule; ``naive`` taints
    every unreachable node whatever its zone's state, the rule a reviewer may
    compare it with."""

    evictions: str = "zone-aware"
    unhealthy_zone_threshold: float = UNHEALTHY_ZONE_THRESHOLD
    large_cluster_size_threshold: int = LARGE_CLUSTER_THRESHOLD
    secondary_eviction_rate: float = SECONDARY_EVICTION_RATE

    @property
    def naive(self) -> bool:
        return self.evictions == "naive"


UPSTREAM = EvictionRule()


def rule_of(world: World) -> EvictionRule:
    return world.lifecycle or UPSTREAM


@attrs.frozen
class NodeLifecycleMarkUnknown(Action):
    actor: ClassVar[str] = "node-lifecycle"
    node: str


@attrs.frozen
class NodeLifecycleTaint(Action):
    actor: ClassVar[str] = "node-lifecycle"
    node: str


@attrs.frozen
class NodeLifecycleUntaint(Action):
    actor: ClassVar[str] = "node-lifecycle"
    node: str


@attrs.frozen
class NodeLifecycleStopEvictions(Action):
    actor: ClassVar[str] = "node-lifecycle"


@attrs.frozen
class TaintManagerEvict(Action):
    actor: ClassVar[str] = "taint-eviction"
    node: str
    pods: tuple[str, ...]
    taint: str

    def __str__(self) -> str:
        return f"TaintManagerEvict({', '.join(self.pods)} from {self.node}: {self.taint})"


@attrs.frozen
class ClockTick(Action):
    """Time passes on a tainted node until its next tolerationSeconds threshold."""

    actor: ClassVar[str] = "clock"
    node: str
    seconds: int


def compute_zone_state(ready: int, not_ready: int, threshold: float = UNHEALTHY_ZONE_THRESHOLD) -> str:
    """``ComputeZoneState``."""
    if ready == 0 and not_ready > 0:
        return FULL
    if not_ready > 2 and not_ready / (not_ready + ready) >= threshold:
        return PARTIAL
    return NORMAL


def zone_states(world: World, state: State) -> dict[str, tuple[str, int]]:
    """Zone -> (state, size) from the nodes' Ready conditions in the API."""
    counts: dict[str, list[int]] = {}
    for zone, rec in zip(world.zones, state.nodes):
        pair = counts.setdefault(zone, [0, 0])
        pair[0 if rec.ready == READY else 1] += 1
    threshold = rule_of(world).unhealthy_zone_threshold
    return {zone: (compute_zone_state(r, nr, threshold), r + nr) for zone, (r, nr) in counts.items()}


def all_fully_disrupted(zones) -> bool:
    return bool(zones) and all(s == FULL for s, _ in zones.values())


def stops_all_evictions(world: World, zones) -> bool:
    """Every zone fully disrupted: upstream assumes the control plane is the one
    cut off and stops evicting (the naive rule does not)."""
    return not rule_of(world).naive and all_fully_disrupted(zones)


def taint_allowed(world: World, state: State, node: int, zones=None) -> bool:
    """Whether the zone's NoExecute tainter runs (its rate limiter is not 0):
    ``setLimiterInZone`` gives a partially disrupted zone the secondary rate
    when it is larger than the large-cluster threshold, else 0."""
    rule = rule_of(world)
    if rule.naive:
        return True
    zones = zones if zones is not None else zone_states(world, state)
    if all_fully_disrupted(zones):
        return False
    zone_state, size = zones[world.zones[node]]
    if zone_state != PARTIAL:
        return True
    return size > rule.large_cluster_size_threshold and rule.secondary_eviction_rate > 0


def _untaint_all(state: State) -> State:
    for n, rec in enumerate(state.nodes):
        if rec.tainted:
            state = update_node(state, n, tainted=False, timer=0)
    return state


class NodeLifecycle:
    """Node health monitoring and NoExecute tainting (see the module docstring)."""

    actor = "node-lifecycle"
    fair = True

    def steps(self, world: World, state: State):
        if all(rec.ready == READY and rec.up and rec.reachable and not rec.tainted for rec in state.nodes):
            return  # every node healthy and untainted: nothing to mark, taint or untaint
        zones = zone_states(world, state)
        marked_together = False
        for n, rec in enumerate(state.nodes):
            name = world.node_names[n]
            if rec.ready == READY and not rec.heartbeating:
                if rec.together and marked_together:
                    continue
                cohort = [n]
                if rec.together:  # their grace periods end together: one monitorNodeHealth pass marks them all
                    marked_together = True
                    cohort = [m for m, r in enumerate(state.nodes) if r.together and r.ready == READY and not r.heartbeating]
                yield NodeLifecycleMarkUnknown(", ".join(world.node_names[m] for m in cohort)), \
                    self._mark_unknown(world, state, cohort)
            elif rec.ready == UNKNOWN and not rec.tainted and taint_allowed(world, state, n, zones):
                yield NodeLifecycleTaint(name), update_node(state, n, tainted=True, timer=0)
            elif rec.ready == READY and rec.tainted:
                yield NodeLifecycleUntaint(name), update_node(state, n, tainted=False, timer=0)
        if stops_all_evictions(world, zones) and any(rec.tainted for rec in state.nodes):
            yield NodeLifecycleStopEvictions(), _untaint_all(state)

    @staticmethod
    def _mark_unknown(world: World, state: State, nodes: list[int]) -> State:
        """``tryUpdateNodeHealth`` (Ready=Unknown, ``MarkPodsNotReady``) for
        ``nodes`` in one pass, then ``handleDisruption`` on the new zone states
        and the NoExecute taint for each node whose zone may be evicted."""
        nxt = state
        for n in nodes:
            nxt = update_node(nxt, n, ready=UNKNOWN)
            for i, pod in enumerate(nxt.pods):
                if pod.node == n and pod.ready:
                    nxt = update_pod(nxt, i, ready=False)
        new_zones = zone_states(world, nxt)
        if stops_all_evictions(world, new_zones):
            return _untaint_all(nxt)
        for n in nodes:
            if taint_allowed(world, nxt, n, new_zones):
                nxt = update_node(nxt, n, tainted=True, timer=0)
        return nxt


class TaintManager:
    """NoExecute taint-based eviction (``tainteviction.Controller``).

    Pods on one node whose toleration ran out at the same moment (same taint,
    same tolerationSeconds) are evicted in one step: their timers fire
    together upstream, and splitting them only multiplies interleavings.
    """

    actor = "taint-eviction"
    fair = True

    def steps(self, world: World, state: State):
        due: dict[int, list[tuple[int, str]]] = {}
        for i, pod in enumerate(state.pods):
            if pod.node < 0 or pod.deleting:
                continue
            reason = self.eviction_reason(world, state, pod)
            if reason is not None:
                due.setdefault(pod.node, []).append((i, reason))
        for node, items in due.items():
            names = tuple(state.pods[i].name for i, _ in items)
            nxt = state
            for name in names:
                nxt = delete_pod(nxt, nxt.index_of(name), world)
            reasons = sorted({r for _, r in items})
            yield TaintManagerEvict(world.node_names[node], names, ", ".join(reasons)), nxt

    @staticmethod
    def eviction_reason(world: World, state: State, pod) -> str | None:
        rec = state.nodes[pod.node]
        group = world.groups[pod.group]
        if rec.tainted:
            level = group.unreachable_level
            if level is not None and rec.timer >= level and (level == 0 or rec.ready != READY):
                return "node.kubernetes.io/unreachable:NoExecute"
        tolerations = group.pod.spec.tolerations
        for taint in world.static_noexecute[pod.node]:
            matching = [t for t in tolerations if t.tolerates(taint)]
            if not matching or all(t.toleration_seconds is not None for t in matching):
                return str(taint)
        return None


class Clock:
    """Time passing for tainted nodes (weakly fair: time does not stop)."""

    actor = "clock"
    fair = True

    def steps(self, world: World, state: State):
        for n, rec in enumerate(state.nodes):
            if rec.tainted and rec.timer < len(world.levels):
                yield ClockTick(world.node_names[n], world.levels[rec.timer]), update_node(state, n, timer=rec.timer + 1)
