"""Scheduling answers that do not mislead.

No node is a usage error; pods without requests get a warning (feasibility
says nothing about them); failure tolerance tells *re-placeable after the
failure* from *keeps its disruption budget through the failure*, the second
whenever a PodDisruptionBudget or a replicated workload with pod
anti-affinity exists. The budget arithmetic follows the disruption
controller (pkg/controller/disruption/disruption.go: ``getExpectedScale``,
``desiredHealthy`` from ``GetScaledValueFromIntOrPercent`` rounding up).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from kspec.loading.manifests import load
from kspec.scheduling import solver
from kspec.scheduling.budgets import disruption_limits
from kspec.scheduling.problem import Problem

ROOT = Path(__file__).resolve().parent.parent
ZOOKEEPER = ROOT.parent / "shared" / "realworld" / "k8s-website" / "zookeeper" / "zookeeper.yaml"
ZOOKEEPER_FIXED = ROOT.parent / "shared" / "realworld" / "k8s-website-fixed" / "zookeeper.yaml"
POOL = "3:cpu=4,memory=16Gi"


def statefulset(anti_affinity_key: str | None = "app", replicas: int = 3, requests: bool = True,
                preferred: bool = False) -> str:
    """A ZooKeeper-like StatefulSet labelled ``app.kubernetes.io/name: zk`` whose anti-affinity selects ``key``."""
    affinity = ""
    if anti_affinity_key is not None:
        selector = f"{{matchExpressions: [{{key: {anti_affinity_key}, operator: In, values: [zk]}}]}}"
        term = f"{{labelSelector: {selector}, topologyKey: kubernetes.io/hostname}}"
        rule = (f"preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 100, podAffinityTerm: {term}}}]"
                if preferred else f"requiredDuringSchedulingIgnoredDuringExecution: [{term}]")
        affinity = f"      affinity:\n        podAntiAffinity:\n          {rule}\n"
    resources = "          resources: {requests: {cpu: 500m, memory: 1Gi}}\n" if requests else ""
    return (f"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: zk}}\nspec:\n  serviceName: zk-hs\n"
            f"  replicas: {replicas}\n  selector: {{matchLabels: {{app.kubernetes.io/name: zk}}}}\n  template:\n"
            f"    metadata: {{labels: {{app.kubernetes.io/name: zk, app: zk}}}}\n    spec:\n{affinity}"
            f"      containers:\n        - name: zk\n          image: zookeeper\n{resources}")


def budget(spec: str) -> str:
    return (f"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: zk-pdb}}\nspec:\n"
            f"  selector: {{matchLabels: {{app.kubernetes.io/name: zk}}}}\n  {spec}\n")


def write(tmp_path: Path, *documents: str) -> str:
    path = tmp_path / "app.yaml"
    path.write_text("---\n".join(documents))
    return str(path)


# --------------------------------------------------------------------------- no node, no requests


def test_no_node_is_a_usage_error(run_cli):
    result = run_cli("schedule", "models/myapp/backend-rc.yaml")
    assert result.exit_code == 2
    assert "no nodes to schedule on" in result.stderr and "INFEASIBLE" not in result.output


def test_pods_without_requests_get_a_warning_in_text_and_json(run_cli, tmp_path):
    path = write(tmp_path, statefulset(None, requests=False))
    text = run_cli("schedule", path, "--nodes", POOL)
    assert text.exit_code == 0
    assert ("kspec: warning: StatefulSet/zk requests no cpu or memory: only its pod slots are counted, "
            "so feasibility and tolerance say nothing about whether it really fits") in text.stderr
    doc = json.loads(run_cli("schedule", path, "--nodes", POOL, "-o", "json").stdout)
    assert doc["warnings"] == [text.stderr.split("kspec: warning: ")[1].splitlines()[0]]
    requested = json.loads(run_cli("schedule", write(tmp_path, statefulset(None)), "--nodes", POOL, "-o", "json").stdout)
    assert requested["warnings"] == []


# --------------------------------------------------------------------------- re-placeable versus budget kept


def answers(run_cli, path: str, *more: str):
    result = run_cli("schedule", path, "--nodes", POOL, "--tolerate-node-failures", "1", *more, "-o", "json")
    doc = json.loads(result.stdout)
    return result.exit_code, doc["tolerance"][0]["verdict"], [b["verdict"] for b in doc["budget_tolerance"]], doc


def test_a_mistyped_anti_affinity_is_re_placeable_but_loses_the_quorum(run_cli, tmp_path):
    """The kubernetes.io ZooKeeper tutorial's anti-affinity selects ``app`` while the pods are
    labelled ``app.kubernetes.io/name``: the three replicas may share a node."""
    labels_only = statefulset("app.kubernetes.io/instance")  # selects nothing: no spreading at all
    code, replaceable, kept, doc = answers(run_cli, write(tmp_path, labels_only, budget("maxUnavailable: 1")))
    assert (code, replaceable, kept) == (1, "feasible", ["infeasible"])
    breach = doc["budget_tolerance"][0]["breach"]
    assert breach["lost"] > breach["allowed"] == 1
    assert breach["limit"] == "PodDisruptionBudget/zk-pdb: at most 1 of the 3 pods of StatefulSet/zk down"


def test_a_working_anti_affinity_keeps_the_budget(run_cli, tmp_path):
    code, replaceable, kept, _ = answers(run_cli, write(tmp_path, statefulset("app"), budget("maxUnavailable: 1")))
    # one node per replica: the budget holds, but the lost replica has nowhere to go
    assert (code, replaceable, kept) == (1, "infeasible", ["feasible"])


def test_anti_affinity_without_a_budget_is_read_as_a_quorum(run_cli, tmp_path):
    code, _, kept, doc = answers(run_cli, write(tmp_path, statefulset("app.kubernetes.io/instance", preferred=True)))
    assert kept == ["infeasible"] and code == 1
    assert doc["budget_tolerance"][0]["limits"] == [
        "StatefulSet/zk: a majority of its 3 replicas up (pod anti-affinity, no PodDisruptionBudget), at most 1 down"]


def test_no_budget_and_no_anti_affinity_asks_only_re_placeable(run_cli, tmp_path):
    code, replaceable, kept, _ = answers(run_cli, write(tmp_path, statefulset(None)))
    assert (code, replaceable, kept) == (0, "feasible", [])


def test_text_says_both_answers(run_cli, tmp_path):
    result = run_cli("schedule", write(tmp_path, statefulset("app.kubernetes.io/instance"), budget("minAvailable: 2")),
                     "--nodes", POOL, "--tolerate-node-failures", "1")
    assert "any 1 node failure(s): TOLERANT (re-placeable: the lost pods fit on the nodes left;" in result.stdout
    assert "any 1 node failure(s), disruption budgets: NOT KEPT" in result.stdout
    assert "  why not: a placement the filters allow (StatefulSet/zk on " in result.stdout


def test_zone_loss_budget(run_cli, tmp_path):
    pool = "3:cpu=4,memory=16Gi;zones=a,b,c"
    spread = statefulset("app")
    result = run_cli("schedule", write(tmp_path, spread, budget("maxUnavailable: 1")), "--nodes", pool,
                     "--tolerate-zone-failure", "-o", "json")
    assert [b["kind"] for b in json.loads(result.stdout)["budget_tolerance"]] == ["zone"]
    assert json.loads(result.stdout)["budget_tolerance"][0]["verdict"] == "feasible"


@pytest.mark.skipif(not ZOOKEEPER.is_file(), reason="the public manifests (../shared/realworld) are not beside the repository")
def test_the_kubernetes_website_zookeeper(run_cli):
    code, replaceable, kept, _ = answers(run_cli, str(ZOOKEEPER))
    assert (code, replaceable, kept) == (1, "feasible", ["infeasible"])
    fixed = answers(run_cli, str(ZOOKEEPER_FIXED))
    assert (fixed[1], fixed[2]) == ("infeasible", ["feasible"])


def test_the_report_shows_both_claims(run_cli, tmp_path):
    out = tmp_path / "r.json"
    run_cli("report", write(tmp_path, statefulset("app.kubernetes.io/instance"), budget("maxUnavailable: 1")),
            "--nodes", POOL, "--no-check", "-o", str(out))
    rows = json.loads(out.read_text())["schedule"]["tolerances"]
    assert [(r["claim"], r["verdict"]) for r in rows] == [("re-placeable", "holds"), ("budget kept", "violated")]


# --------------------------------------------------------------------------- the limits


def limits_of(tmp_path, *documents, nodes=(POOL,)):
    cluster = load([write(tmp_path, *documents)], nodes=list(nodes))
    return disruption_limits(Problem(cluster))


@given(replicas=st.integers(1, 40), percent=st.integers(0, 100), which=st.sampled_from(["minAvailable", "maxUnavailable"]))
def test_percentages_round_up_as_the_disruption_controller(tmp_path_factory, replicas, percent, which):
    limit, = limits_of(tmp_path_factory.mktemp("pdb"), statefulset(None, replicas=replicas),
                       budget(f'{which}: "{percent}%"'))
    scaled = -(-replicas * percent // 100)  # ceil
    assert limit.allowed == (scaled if which == "maxUnavailable" else replicas - scaled)
    assert limit.expected == replicas


def test_integer_budgets_and_clamping(tmp_path):
    assert limits_of(tmp_path, statefulset(None), budget("minAvailable: 2"))[0].allowed == 1
    assert limits_of(tmp_path, statefulset(None), budget("minAvailable: 5"))[0].allowed == 0
    assert limits_of(tmp_path, statefulset(None), budget("maxUnavailable: 7"))[0].allowed == 3


def test_a_budget_selecting_nothing_is_no_limit(tmp_path):
    other = budget("maxUnavailable: 1").replace("app.kubernetes.io/name: zk}", "app.kubernetes.io/name: other}")
    assert limits_of(tmp_path, statefulset(None), other) == []


def test_a_bad_budget_is_a_diagnostic(run_cli, tmp_path):
    result = run_cli("schedule", write(tmp_path, statefulset("app"), budget('maxUnavailable: "ten"')),
                     "--nodes", POOL, "--tolerate-node-failures", "1")
    assert result.exit_code == 2
    assert "PodDisruptionBudget/zk-pdb" in result.stderr and "Traceback" not in result.output


def test_check_budgets_is_unsat_exactly_when_every_placement_spreads(tmp_path):
    cluster = load([write(tmp_path, statefulset("app"), budget("maxUnavailable: 1"))], nodes=["4:cpu=4,memory=16Gi"])
    problem = Problem(cluster)
    answer = solver.check_budgets(problem, disruption_limits(problem), kind="nodes", k=1, timeout=30)
    assert answer.verdict == "feasible" and answer.breach is None
    two = solver.check_budgets(problem, disruption_limits(problem), kind="nodes", k=2, timeout=30)
    assert two.verdict == "infeasible" and two.breach.lost == 2 and len(two.breach.failed) == 2
