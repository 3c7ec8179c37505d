"""Faults: transitions limited by a budget in the state."""

from __future__ import annotations

import pathlib

import pytest

import kspec
from kspec.errors import KspecError
from kspec.simulation.faults import FaultBudget, FaultInjector, apply_fault
from kspec.simulation.state import HUNG, NOT_RUNNING, UP, World
from support import states as build
from support.states import running_pod

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
WORLD = World(kspec.load([MODELS / "myapp"]))
WORLD.controllers, WORLD.memory_slots = (), {}
FRONTEND = 1  # workloads sorted by name: backend, frontend


def state(faults=(0, 0)):
    """Two Ready frontend pods on node-1 and node-2, the second one's containers hung."""
    pods = [running_pod(WORLD, FRONTEND, "frontend-0", node=0), running_pod(WORLD, FRONTEND, "frontend-1", node=1,
                                                                            containers=HUNG)]
    return build.state(WORLD, pods, replicas=(2, 3), faults=faults)


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


# --------------------------------------------------------------------------- pooled fault counts


def test_budget_pools_counts_only_when_no_cap_binds():
    assert FaultBudget.of(["node-crash", "pod-hang"], 2).pooled
    assert FaultBudget.of({"node-crash": 2, "pod-hang": 2}, 2).pooled
    assert not FaultBudget.of({"node-crash": 1, "pod-hang": 1}).pooled  # total 2, each kind capped at 1
    pooled = FaultBudget.of(["node-crash", "pod-hang"], 2)
    assert pooled.initial_counts() == (0,)
    assert pooled.counts_after((1,), 1) == (2,)
    assert pooled.allows((1,), 0) and not pooled.allows((2,), 0)
    capped = FaultBudget.of({"node-crash": 1, "pod-hang": 1})
    assert capped.initial_counts() == (0, 0)
    assert capped.counts_after((1, 0), 1) == (1, 1)
    assert not capped.allows((1, 0), 0) and capped.allows((1, 0), 1)


def test_pooled_injector_enables_exactly_what_per_kind_counts_enable():
    """Pooling is a quotient: the same faults are enabled for every per-kind
    split of the same total, so merging those states changes no successor."""
    pooled = FaultBudget.of(["node-crash", "pod-hang", "pod-recover"], 2)
    per_kind = pooled  # the same budget, read per kind
    for counts in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]:
        split = [k for k in range(3) if sum(counts) < per_kind.total and counts[k] < per_kind.caps[k]]
        assert split == [k for k in range(3) if pooled.allows((sum(counts),), k)]
    mine = [(a, s.faults_used) for a, s in FaultInjector(pooled).steps(WORLD, state((0,)))]
    assert all(used == 1 for _, used in mine)
    assert list(FaultInjector(pooled).steps(WORLD, state((2,)))) == []


def _scenario(tmp_path, kinds):
    myapp = MODELS / "myapp"
    path = tmp_path / "pool.yaml"
    path.write_text(f"""name: pool
manifests: [{myapp / 'frontend-rc.yaml'}, {myapp / 'nodes.yaml'}]
faults:
  budget: 2
  kinds: {kinds}
checks:
  - running-copies-reach: {{workload: frontend, count: 4, as: four-copies-running}}
  - at-most-replicas-running
  - rc-never-exceeds-replicas
  - rc-replicas-converge
  - fault-then-converged
""")
    return path


def test_pooled_counts_keep_every_verdict(tmp_path, monkeypatch):
    """The same scenario explored with pooled and with per-kind counts: the
    verdicts agree and pooling never adds states."""
    from kspec.checker.explore import Explorer
    from kspec.simulation.scenario import load_scenario

    path = _scenario(tmp_path, "[node-partition, node-heal, pod-hang, pod-recover]")
    pooled_model = load_scenario(path, allow_outside=True)
    assert pooled_model.budget.pooled
    pooled = Explorer(pooled_model, symmetry=True, progress=False).run()
    monkeypatch.setattr(FaultBudget, "pooled", property(lambda self: False))
    split = Explorer(load_scenario(path, allow_outside=True), symmetry=True, progress=False).run()
    assert pooled.complete and split.complete
    assert [(p.name, p.verdict) for p in pooled.properties] == [(p.name, p.verdict) for p in split.properties]
    assert pooled.stats.distinct_states < split.stats.distinct_states
