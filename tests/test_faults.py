"""Faults: transitions limited by a budget in the state."""

from __future__ import annotations

import pathlib

import pytest

import kspec
from kspec.errors import KspecError
from kspec.faults import FaultBudget, FaultInjector, apply_fault
from kspec.state import HUNG, NOT_RUNNING, RUNNING, UP, NodeRec, PodRec, State, World

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
WORLD = World(kspec.load([MODELS / "myapp"]))
WORLD.controllers, WORLD.memory_slots = (), {}


def state(faults=(0, 0)):
    pods = (PodRec("frontend-0", 1, 1, 0, RUNNING, True, False, False, UP),
            PodRec("frontend-1", 1, 1, 1, RUNNING, True, False, False, HUNG))
    return State(pods, tuple(NodeRec() for _ in WORLD.nodes), ((), ()), (2, 3), (), faults, 0)


def test_node_crash_kills_containers_partition_keeps_them():
    (_, crashed), = [s for s in apply_fault(WORLD, state(), "node-crash") if s[0].node == "node-1"]
    assert not crashed.nodes[0].up and crashed.pods[0].run == NOT_RUNNING
    (_, cut), = [s for s in apply_fault(WORLD, state(), "node-partition") if s[0].node == "node-1"]
    assert cut.nodes[0].up and not cut.nodes[0].reachable and cut.pods[0].run == UP


def test_pod_faults():
    assert [a.pod for a, _ in apply_fault(WORLD, state(), "pod-hang")] == ["frontend-0"]
    assert [a.pod for a, _ in apply_fault(WORLD, state(), "pod-recover")] == ["frontend-1"]
    (_, deleted), _ = list(apply_fault(WORLD, state(), "pod-delete"))
    assert deleted.pods[0].deleting


def test_budget_total_and_caps():
    injector = FaultInjector(FaultBudget.of({"node-crash": 1, "pod-hang": 1}))
    steps = list(injector.steps(WORLD, state()))
    assert {type(a).__name__ for a, _ in steps} == {"NodeCrash", "PodHang"}
    assert all(s.faults_used == 1 for _, s in steps)
    assert {type(a).__name__ for a, _ in injector.steps(WORLD, state((1, 0)))} == {"PodHang"}
    assert list(injector.steps(WORLD, state((1, 1)))) == []


def test_budget_rejects_unknown_kinds():
    with pytest.raises(KspecError, match="unknown fault kind"):
        FaultBudget.of(["node-melt"])


def test_controller_restart_only_for_controllers_with_memory():
    assert list(apply_fault(WORLD, state(), "controller-restart")) == []
