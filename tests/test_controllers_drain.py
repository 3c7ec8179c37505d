"""kubectl drain through the Eviction API, with PodDisruptionBudgets.

Cases follow ``pkg/registry/core/pod/storage/eviction.go`` (``canIgnorePDB``,
the one-budget rule, ``unhealthyPodEvictionPolicy: IfHealthyBudget``),
``pkg/controller/disruption`` (``getExpectedPodCount``, ``countHealthyPods``)
and ``k8s.io/kubectl/pkg/drain`` (DaemonSet pods skipped, unmanaged pods refused).
"""

from __future__ import annotations

import pathlib
import shutil

import pytest

import kspec
from kspec.simulation.controllers.drain import Drainer, budget_status, eviction_allowed, to_evict
from kspec.simulation.controllers.scheduler import Scheduler
from kspec.errors import LoadError
from kspec.simulation.state import NOT_RUNNING, PENDING, RUNNING, UP, NodeRec, World, update_pod
from support import states as build
from support.states import running_pod

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
NODES = ["3:cpu=2,memory=4Gi"]


def world(tmp_path, budget: str) -> World:
    (tmp_path / "pdb.yaml").write_text("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
                                       f"spec:\n  selector: {{matchLabels: {{app: web}}}}\n{budget}")
    return World(kspec.load([MODELS / "web", tmp_path / "pdb.yaml"], nodes=NODES))


def state(w: World, ready=(True, True, True), replicas=3, extra=(), cordoned=0):
    rs = w.workloads[0].replica_sets[0]
    pods = [running_pod(w, rs, f"web-x-{i}", node=i, ready=r) for i, r in enumerate(ready)]
    nodes = [NodeRec(cordoned=(i == cordoned)) for i in range(len(w.nodes))]
    return build.state(w, pods + list(extra), nodes, replicas=(replicas, replicas))


@pytest.mark.parametrize("budget, ready, expected", [
    ("  minAvailable: 2\n", (True, True, True), (3, 2)),  # an int: expected count is not needed
    ("  minAvailable: 50%\n", (True, True, False), (2, 2)),  # a percentage of the controller's scale, rounded up
    ("  maxUnavailable: 1\n", (True, True, True), (3, 2)),
    ("  maxUnavailable: 34%\n", (True, False, True), (2, 1)),  # 34% of 3 rounds up to 2 unavailable
])
def test_disruption_controller_getExpectedPodCount_and_countHealthyPods(tmp_path, budget, ready, expected):
    w = world(tmp_path, budget)
    assert budget_status(w, state(w, ready), 0) == expected


def test_eviction_needs_disruptions_allowed_for_a_ready_pod(tmp_path):
    w = world(tmp_path, "  minAvailable: 2\n")
    assert eviction_allowed(w, state(w), 0)  # 3 healthy, 2 desired: one disruption allowed
    assert not eviction_allowed(w, state(w, (True, True, False)), 0)  # 2 healthy: none


def test_unhealthy_pod_is_evicted_only_while_the_budget_is_healthy_IfHealthyBudget(tmp_path):
    w = world(tmp_path, "  minAvailable: 2\n")
    assert eviction_allowed(w, state(w, (False, True, True)), 0)  # 2 >= 2
    assert not eviction_allowed(w, state(w, (False, False, True)), 0)  # 1 < 2


def test_canIgnorePDB_for_terminating_and_pending_pods(tmp_path):
    w = world(tmp_path, "  minAvailable: 3\n")
    s = state(w)
    assert not eviction_allowed(w, s, 0)
    assert eviction_allowed(w, update_pod(s, 0, deleting=True), 0)
    assert eviction_allowed(w, update_pod(s, 0, phase=PENDING, ready=False, run=NOT_RUNNING), 0)


def test_a_pod_under_two_budgets_cannot_be_evicted(tmp_path):
    text = ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: NAME}\n"
            "spec:\n  selector: {matchLabels: {app: web}}\n  maxUnavailable: 3\n")
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(text.replace("NAME", name))
    w = World(kspec.load([MODELS / "web", tmp_path / "a.yaml", tmp_path / "b.yaml"], nodes=NODES))
    assert not eviction_allowed(w, state(w), 0)


def test_drain_evicts_one_pod_per_step_and_skips_unmanaged_nodes(tmp_path):
    w = world(tmp_path, "  minAvailable: 1\n")
    (action, nxt), = Drainer().steps(w, state(w))
    assert action.pod == "web-x-0" and nxt.pod("web-x-0").deleting
    bare = build.pod("debug", group=w.workloads[1].group, node=0, phase=RUNNING, ready=True, containers=UP)
    assert to_evict(w, state(w, extra=[bare]), 0) == []  # "cannot delete Pods that declare no controller"


def test_cordoned_node_gets_no_new_pods(tmp_path):
    w = world(tmp_path, "  minAvailable: 1\n")
    s = state(w, cordoned=0)
    rs = w.workloads[0].replica_sets[0]
    pending = build.owned_pod(w, rs, "web-x-9")
    s = build.state(w, s.pods + (pending,), s.nodes, endpoints=s.endpoints, replicas=s.replicas)
    nodes = sorted(a.node for a, _ in Scheduler().steps(w, s))
    assert "node-0" not in nodes and nodes


def test_budget_with_both_fields_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(LoadError) as err:
        world(tmp_path, "  minAvailable: 1\n  maxUnavailable: 1\n")
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.file.endswith("pdb.yaml") and diagnostic.line == 1 and diagnostic.field == "spec"
    assert "minAvailable and maxUnavailable cannot be both set" in diagnostic.message


def test_bad_budget_in_a_scenario_is_one_line_at_the_manifest(tmp_path, run_cli):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "pdb.yaml").write_text("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
                                             "spec:\n  selector: {matchLabels: {app: web}}\n  minAvailable: lots\n")
    scenario = tmp_path / "s.yaml"
    shutil.copytree(MODELS / "web", tmp_path / "web")  # a scenario reads only beside it
    scenario.write_text(f"manifests: [web/, m/]\nnodes: ['3:cpu=2,memory=4Gi']\n"
                        "operations:\n  - drain: {node: node-9}\nchecks: [drain-completes, fault-then-converged]\n")
    result = run_cli("explore", scenario)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "pdb.yaml:1: error: spec.minAvailable: PodDisruptionBudget/web:" in result.stderr
    (tmp_path / "m" / "pdb.yaml").unlink()
    result = run_cli("explore", scenario)
    assert result.exit_code == 2 and "s.yaml:4: error: no node named 'node-9'" in result.stderr
