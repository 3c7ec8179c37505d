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
                       state (only controllers that keep memory)
=====================  ==========================================================
"""

from __future__ import annotations

from typing import ClassVar, Mapping, Sequence

import attrs

from kspec.errors import KspecError
from kspec.checker.model import Action
from kspec.simulation.state import CRASHED, HUNG, NOT_RUNNING, UP, State, World, delete_pod, is_active, update_node, update_pod

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultBudget", "NodeCrash", "NodeRestart", "NodePartition", "NodeHeal",
           "ContainerCrash", "PodHang", "PodRecover", "PodDelete", "ControllerRestart", "apply_fault"]

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
    actor: ClassVar[str] = "fault"
    controller: str


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
            yield NodeHeal(world.node_names[n]), update_node(state, n, reachable=True)


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
            yield PodDelete(pod.name), delete_pod(state, i)


def _controller_restart(world: World, state: State):
    for controller in world.controllers:
        slot = world.memory_slots.get(controller.actor)
        if slot is None:
            continue
        restarted = getattr(controller, "restarted_memory", None)
        fresh = restarted(world, state.memory[slot]) if restarted else controller.initial_memory(world)
        if fresh != state.memory[slot]:
            memory = state.memory[:slot] + (fresh,) + state.memory[slot + 1:]
            yield ControllerRestart(controller.actor), attrs.evolve(state, memory=memory)


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
}
FAULT_KINDS = tuple(_FAULTS)


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
                                    nxt.rv)
