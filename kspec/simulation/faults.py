"""Faults: transitions the environment takes, limited by a budget in the state.

Each fault is a step of the actor ``fault``, which is never weakly fair (a
fault may happen, it never has to). Every fault uses one unit of the total
budget and of its kind's own cap; the counts live in ``State.faults``, so the
state space stays finite and convergence is judged after faults stop.

=====================  ==========================================================
``node-crash``         the machine stops: every container on it dies, heartbeats stop
``node-restart``       a crashed machine boots again (its kubelet re-reads the API)
``node-partition``     the node loses the API server: containers keep running,
                       heartbeats and API access stop
``node-heal``          the partition ends
``container-crash``    a running container exits (non-zero)
``pod-hang``           a container stops responding but keeps running
``pod-recover``        a hung container responds again
``pod-delete``         someone deletes an active pod (``kubectl delete pod``)
``controller-restart`` a controller process restarts and loses its in-memory
                       state (only controllers that keep memory); an informed
                       one lists again, possibly from a lagging API server
``pod-fail``           a bound pod's phase becomes Failed (kubelet eviction under
                       node pressure, graceful node shutdown): its containers stop
``watch-drop``         a controller's watch loses its next event (until the pod's
                       next event or a relist)
``relist``             a controller's reflector lists again (cache rebuilt)
``expectations-expire`` a workload's unmet expectations time out (5 minutes
                       upstream), so the next sync acts on the cache as it is
``control-plane-partition`` every node loses the API server at once
``etcd-member-crash``  an etcd member stops; without a majority every write fails
``etcd-member-restart`` a stopped etcd member comes back
=====================  ==========================================================
"""

from __future__ import annotations

from typing import ClassVar, Mapping, Sequence

import attrs

from kspec.errors import KspecError
from kspec.checker.model import Action
from kspec.simulation.informer import drop_next, informer_index, relist
from kspec.simulation.state import (CRASHED, FAILED, HUNG, NOT_RUNNING, UP, State, World, delete_pod, is_active,
                                    update_node, update_pod)

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultBudget", "NodeCrash", "NodeRestart", "NodePartition", "NodeHeal",
           "ContainerCrash", "PodHang", "PodRecover", "PodDelete", "ControllerRestart", "PodFail", "WatchDrop", "Relist",
           "ExpectationsExpire", "ControlPlanePartition", "EtcdMemberCrash", "EtcdMemberRestart", "apply_fault",
           "can_fire"]

@attrs.frozen
class NodeCrash(Action):
    actor: ClassVar[str] = "fault"
    node: str


@attrs.frozen
class NodeRestart(Action):
    actor: ClassVar[str] = "fault"
    node: str


@attrs.frozen
class NodePartition(Action):
    actor: ClassVar[str] = "fault"
    node: str


@attrs.frozen
class NodeHeal(Action):
    actor: ClassVar[str] = "fault"
    node: str


@attrs.frozen
class ContainerCrash(Action):
    actor: ClassVar[str] = "fault"
    pod: str


@attrs.frozen
class PodHang(Action):
    actor: ClassVar[str] = "fault"
    pod: str


@attrs.frozen
class PodRecover(Action):
    actor: ClassVar[str] = "fault"
    pod: str


@attrs.frozen
class PodDelete(Action):
    actor: ClassVar[str] = "fault"
    pod: str


@attrs.frozen
class ControllerRestart(Action):
    """A controller process restarts; an informed one relists from an API
    server ``relisted_behind`` events behind the latest (0: up to date)."""

    actor: ClassVar[str] = "fault"
    controller: str
    relisted_behind: int = 0

    def __str__(self) -> str:
        n = self.relisted_behind
        behind = f", relisted {n} event{'s' if n > 1 else ''} behind" if n else ""
        return f"ControllerRestart({self.controller}{behind})"


@attrs.frozen
class PodFail(Action):
    actor: ClassVar[str] = "fault"
    pod: str


@attrs.frozen
class WatchDrop(Action):
    actor: ClassVar[str] = "fault"
    controller: str
    event: str


@attrs.frozen
class Relist(Action):
    actor: ClassVar[str] = "fault"
    controller: str


@attrs.frozen
class ExpectationsExpire(Action):
    actor: ClassVar[str] = "fault"
    workload: str


@attrs.frozen
class ControlPlanePartition(Action):
    actor: ClassVar[str] = "fault"


@attrs.frozen
class EtcdMemberCrash(Action):
    actor: ClassVar[str] = "fault"
    down: int  # members down after the crash


@attrs.frozen
class EtcdMemberRestart(Action):
    actor: ClassVar[str] = "fault"
    down: int


@attrs.frozen
class FaultBudget:
    """Which faults may happen and how many: ``total`` in all, and at most
    ``caps[kind]`` of each kind (default: the total)."""

    kinds: tuple[str, ...] = ()
    total: int = 0
    caps: tuple[int, ...] = ()

    @property
    def pooled(self) -> bool:
        """No kind's cap is below the total: only how many faults were used can
        matter, not which kinds. The state then keeps one pooled count
        (``State.faults == (used,)``) instead of one count per kind.

        Sound because it is a bisimulation quotient: a fault of kind ``k`` is
        enabled iff ``used < total and count[k] < caps[k]``, and with
        ``caps[k] >= total`` the second conjunct follows from the first
        (``count[k] <= used``); no controller and no library property reads
        the per-kind counts (``fault-then-converged`` reads ``faults_used``).
        Two states that differ only in which kinds were used therefore have
        the same successors (up to the same difference) and the same property
        values, so merging them changes no verdict, only the state count.
        """
        return all(cap >= self.total for cap in self.caps)

    def initial_counts(self) -> tuple[int, ...]:
        """``State.faults`` before any fault: one pooled count, or one per kind."""
        return (0,) if self.pooled else tuple(0 for _ in self.kinds)

    def counts_after(self, faults: tuple[int, ...], k: int) -> tuple[int, ...]:
        """``State.faults`` after one more fault of kind index ``k``."""
        if self.pooled:
            return (faults[0] + 1,)
        return faults[:k] + (faults[k] + 1,) + faults[k + 1:]

    def allows(self, faults: tuple[int, ...], k: int) -> bool:
        """Whether one more fault of kind index ``k`` fits the budget."""
        if sum(faults) >= self.total:
            return False
        return self.pooled or faults[k] < self.caps[k]

    @classmethod
    def of(cls, kinds: Sequence[str] | Mapping[str, int], total: int | None = None) -> "FaultBudget":
        if isinstance(kinds, Mapping):
            names = tuple(kinds)
            caps = tuple(int(kinds[k]) for k in names)
            total = sum(caps) if total is None else total
        else:
            names = tuple(kinds)
            total = 1 if total is None else total
            caps = tuple(total for _ in names)
        for kind in names:
            if kind not in FAULT_KINDS:
                raise KspecError(f"unknown fault kind {kind!r}; the kinds are: {', '.join(FAULT_KINDS)}")
        if len(set(names)) != len(names):
            raise KspecError("a fault kind is listed twice")
        return cls(names, total, caps)


def _node_crash(world: World, state: State):
    for n, rec in enumerate(state.nodes):
        if rec.up:
            nxt = update_node(state, n, up=False, orphans=())
            for i, pod in enumerate(nxt.pods):
                if pod.node == n and pod.run != NOT_RUNNING:
                    nxt = update_pod(nxt, i, run=NOT_RUNNING)
            yield NodeCrash(world.node_names[n]), nxt


def _node_restart(world: World, state: State):
    for n, rec in enumerate(state.nodes):
        if not rec.up:
            yield NodeRestart(world.node_names[n]), update_node(state, n, up=True)


def _node_partition(world: World, state: State):
    for n, rec in enumerate(state.nodes):
        if rec.reachable and rec.up:
            yield NodePartition(world.node_names[n]), update_node(state, n, reachable=False)


def _node_heal(world: World, state: State):
    for n, rec in enumerate(state.nodes):
        if not rec.reachable:
            yield NodeHeal(world.node_names[n]), update_node(state, n, reachable=True, together=False)


def _container_crash(world: World, state: State):
    for i, pod in enumerate(state.pods):
        if pod.run == UP:
            yield ContainerCrash(pod.name), update_pod(state, i, run=CRASHED)


def _pod_hang(world: World, state: State):
    for i, pod in enumerate(state.pods):
        if pod.run == UP:
            yield PodHang(pod.name), update_pod(state, i, run=HUNG)


def _pod_recover(world: World, state: State):
    for i, pod in enumerate(state.pods):
        if pod.run == HUNG:
            yield PodRecover(pod.name), update_pod(state, i, run=UP)


def _pod_delete(world: World, state: State):
    for i, pod in enumerate(state.pods):
        if is_active(pod):
            yield PodDelete(pod.name), delete_pod(state, i, world)


def _controller_restart(world: World, state: State):
    """Memory lost; an informed controller lists again from an API server up to
    ``staleness`` events behind (one step per possible lag: the "time travel"
    of a cache filled from a lagging API server)."""
    for controller in world.controllers:
        slot = world.memory_slots.get(controller.actor)
        k = informer_index(world, controller.actor)
        if slot is None and k is None:
            continue
        after = state
        if slot is not None:
            restarted = getattr(controller, "restarted_memory", None)
            fresh = restarted(world, state.memory[slot]) if restarted else controller.initial_memory(world)
            after = attrs.evolve(state, memory=state.memory[:slot] + (fresh,) + state.memory[slot + 1:])
        if k is None:
            if after != state:
                yield ControllerRestart(controller.actor), after
            continue
        seen = set()
        for lag in range(len(state.log) + 1):
            nxt = relist(world, after, k, lag, new_process=True)
            if nxt != state and nxt not in seen:
                seen.add(nxt)
                yield ControllerRestart(controller.actor, lag), nxt


def _pod_fail(world: World, state: State):
    for i, pod in enumerate(state.pods):
        if pod.node >= 0 and is_active(pod):
            yield PodFail(pod.name), update_pod(state, i, phase=FAILED, ready=False, run=NOT_RUNNING)


def _watch_drop(world: World, state: State):
    for k, rec in enumerate(state.informers):
        if rec.lag:
            event = state.log[len(state.log) - rec.lag]
            yield WatchDrop(world.informed[k].actor, repr(event)), drop_next(world, state, k)


def _relist(world: World, state: State):
    for k, rec in enumerate(state.informers):
        if rec.lag or rec.missed:
            yield Relist(world.informed[k].actor), relist(world, state, k)


def _expectations_expire(world: World, state: State):
    for controller in world.controllers:
        expire = getattr(controller, "expire", None)
        if expire is not None and controller.actor in world.memory_slots:
            for workload, nxt in expire(world, state):
                yield ExpectationsExpire(workload), nxt


def _control_plane_partition(world: World, state: State):
    if any(rec.reachable and rec.up for rec in state.nodes):
        nxt = state
        for n, rec in enumerate(state.nodes):
            if rec.reachable:
                nxt = update_node(nxt, n, reachable=False, together=True)
        yield ControlPlanePartition(), nxt


def _etcd_member_crash(world: World, state: State):
    if state.etcd_down < world.etcd_members:
        yield EtcdMemberCrash(state.etcd_down + 1), attrs.evolve(state, etcd_down=state.etcd_down + 1)


def _etcd_member_restart(world: World, state: State):
    if state.etcd_down:
        yield EtcdMemberRestart(state.etcd_down - 1), attrs.evolve(state, etcd_down=state.etcd_down - 1)


# every fault kind a scenario may name, and its steps
_FAULTS = {
    "node-crash": _node_crash,
    "node-restart": _node_restart,
    "node-partition": _node_partition,
    "node-heal": _node_heal,
    "container-crash": _container_crash,
    "pod-hang": _pod_hang,
    "pod-recover": _pod_recover,
    "pod-delete": _pod_delete,
    "controller-restart": _controller_restart,
    "pod-fail": _pod_fail,
    "watch-drop": _watch_drop,
    "relist": _relist,
    "expectations-expire": _expectations_expire,
    "control-plane-partition": _control_plane_partition,
    "etcd-member-crash": _etcd_member_crash,
    "etcd-member-restart": _etcd_member_restart,
}
FAULT_KINDS = tuple(_FAULTS)


def can_fire(world: World, kind: str) -> str | None:
    """Why fault ``kind`` can never happen in this world (None: it can)."""
    consistency = world.consistency
    stale = consistency is not None and not consistency.fresh and (consistency.staleness or 0) > 0
    if kind == "controller-restart" and not world.memory_slots and not world.informed:
        return ("no controller keeps memory or a cache to lose (set consistency: so that the replication manager "
                "keeps its expectations, or add a user controller with memory)")
    if kind in ("watch-drop", "relist") and not (stale and world.informed):
        return "no controller's cache ever lags (set consistency: {staleness: N} with N of 1 or more)"
    if kind == "expectations-expire" and not any(hasattr(c, "expire") for c in world.controllers
                                                 if c.actor in world.memory_slots and _has_expectations(world, c)):
        return ("no controller keeps expectations (the replication manager keeps them under consistency: "
                "for ReplicationControllers and ReplicaSets)")
    return None


def _has_expectations(world: World, controller) -> bool:
    """The replication manager keeps expectations only for the workloads it manages."""
    return controller.actor != "replication" or bool(world.replicated)


def apply_fault(world: World, state: State, kind: str):
    """Every way fault ``kind`` can happen in ``state``, ignoring the budget:
    ``(action, next_state)`` pairs (used by scenario ``prepare`` steps too)."""
    return _FAULTS[kind](world, state)


class FaultInjector:
    """Faults as steps of the ``fault`` actor, within the state's budget."""

    actor = "fault"
    fair = False

    def __init__(self, budget: FaultBudget):
        self.budget = budget

    def steps(self, world: World, state: State):
        budget = self.budget
        faults = state.faults
        if sum(faults) >= budget.total:
            return
        for k, kind in enumerate(budget.kinds):
            if not budget.allows(faults, k):
                continue
            counts = budget.counts_after(faults, k)
            for action, nxt in apply_fault(world, state, kind):
                yield action, State(nxt.pods, nxt.nodes, nxt.endpoints, nxt.replicas, nxt.memory, counts, nxt.ops,
                                    nxt.rv, nxt.log, nxt.informers, nxt.etcd_down, nxt.status)
