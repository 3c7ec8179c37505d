"""The shared corpus of real manifests: loaded faithfully, traps included."""

from __future__ import annotations

import json

import pytest

import kspec
from kspec.loading.manifests import load_objects
from kspec.api.objects import pod_requests
from kspec.api.quantity import parse_quantity as q


def test_each_application_loads_cleanly(corpus):
    expected = {
        "example-voting-app": {"Deployment": 5, "Service": 4},
        "microservices-demo": {"Deployment": 12, "Service": 12, "ServiceAccount": 11},
        "sock-shop": {"Namespace": 1, "Deployment": 14, "Service": 14},
        "kwok": {"Node": 3, "Pod": 1, "Deployment": 1},
    }
    for folder, kinds in expected.items():
        cluster = kspec.load(corpus / folder)
        counts: dict = {}
        for obj in cluster.objects:
            counts[obj.kind] = counts.get(obj.kind, 0) + 1
        assert counts == kinds, folder


def test_duplicates_across_folders_are_found_with_both_places(corpus):
    result = load_objects([corpus / "kubernetes-examples" / "web"])
    assert not result.ok
    pairs = {(a.kind, a.metadata.name) for a, _ in result.duplicates}
    assert ("Service", "redis-master") in pairs and ("ReplicationController", "redis-replica") in pairs
    for first, second in result.duplicates:
        assert first.source.file != second.source.file or first.source.line != second.source.line


def test_legacy_rc_without_selector_defaults_it_from_the_template(corpus):
    cluster = kspec.load(corpus / "kubernetes-examples/web/guestbook/legacy/frontend-controller.yaml")
    (rc,) = cluster.of_kind("ReplicationController")
    assert dict(rc.spec.selector_map) == {"app": "guestbook", "tier": "frontend"}
    assert rc.spec.replicas == 3


def test_init_containers_count_in_the_effective_request(corpus):
    cluster = kspec.load(corpus / "microservices-demo")
    generator = cluster.get("Deployment", "default", "loadgenerator")
    spec = generator.spec.template.spec
    assert [c.name for c in spec.init_containers] == ["frontend-check"]
    app_sum = sum((c.resources.requests.get("cpu", q(0)) for c in spec.containers), q(0))
    assert pod_requests(spec)["cpu"] >= app_sum


def test_kwok_nodes_keep_taints_and_allocatable(corpus):
    cluster = kspec.load(corpus / "kwok")
    tainted = [n for n in cluster.nodes if n.spec.taints]
    assert tainted, "kwok's fake nodes carry the kwok.x-k8s.io/node taint"
    gpu = cluster.get("Node", None, "virtual-gpu-node")
    assert gpu.status.allocatable["nvidia.com/gpu"] == q(8)
    assert gpu.status.allocatable["ephemeral-storage"] == q("15Ti")
    # test/kwok/fake-node.yaml has no status at all: nothing is allocatable until a kubelet reports
    assert not cluster.get("Node", None, "fake-node").status.allocatable


def test_inspect_json_on_the_voting_app(corpus, run_cli):
    result = run_cli("inspect", corpus / "example-voting-app", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    services = {s["name"]: s for s in doc["services"]}
    assert services["vote"]["selects"] == ["Deployment/vote"]
    worker = next(w for w in doc["workloads"] if w["ref"] == "Deployment/worker")
    assert worker["replicas"] == 1 and worker["pod_labels"] == {"app": "worker"}


@pytest.mark.slow  # 2.5 s: five Deployments under a node crash; the Cassandra case below is the fast one
def test_voting_app_deployments_run_as_replica_sets_under_a_node_crash(corpus, tmp_path):
    """Every voting-app tier is a one-replica Deployment: the controllers recreate
    each after a crash, but a Service has no endpoint until its pod is back."""
    from kspec.checker.explore import Explorer
    from kspec.checker.model import Verdict
    from kspec.simulation.scenario import load_scenario

    scenario = tmp_path / "vote.yaml"
    scenario.write_text(f"manifests: [{corpus / 'example-voting-app'}]\n"
                        'nodes: ["3:cpu=4,memory=8Gi"]\nscheduler: least-allocated\n'
                        "faults: {budget: 1, kinds: [node-crash]}\n"
                        "checks: [deployment-converges, rc-replicas-converge, {service-always-has-endpoint: "
                        "{service: vote}}, fault-then-converged]\n")
    model = load_scenario(scenario, allow_outside=True)
    assert [w.kind for w in model.world.workloads].count("Deployment") == 5
    assert model.warnings == ()
    result = Explorer(model, symmetry=True, progress=False).run()
    verdicts = {p.name: p.verdict for p in result.properties}
    assert verdicts == {"deployment-converges": Verdict.HOLDS, "rc-replicas-converge": Verdict.HOLDS,
                        "service-always-has-endpoint": Verdict.VIOLATED, "fault-then-converged": Verdict.HOLDS}


def test_cassandra_statefulset_never_runs_two_copies_under_a_partition(corpus, tmp_path):
    from kspec.checker.explore import Explorer
    from kspec.checker.model import Verdict
    from kspec.simulation.scenario import load_scenario

    scenario = tmp_path / "cassandra.yaml"
    scenario.write_text(f"manifests: [{corpus / 'kubernetes-examples' / 'databases' / 'cassandra'}]\n"
                        'nodes: ["3:cpu=4,memory=8Gi"]\nscheduler: least-allocated\n'
                        "faults: {kinds: {node-partition: 1}}\n"
                        "checks: [at-most-replicas-running, rc-replicas-converge, fault-then-converged]\n")
    model = load_scenario(scenario, allow_outside=True)
    assert model.warnings == () and [w.kind for w in model.world.workloads] == ["StatefulSet"]
    start, = model.init_states()
    assert [p.name for p in start.pods] == ["cassandra-0", "cassandra-1", "cassandra-2"]
    result = Explorer(model, symmetry=True, progress=False).run()
    assert {p.name: p.verdict for p in result.properties} == {
        "at-most-replicas-running": Verdict.HOLDS, "rc-replicas-converge": Verdict.VIOLATED,
        "fault-then-converged": Verdict.HOLDS}


def test_online_boutique_settles_along_one_order_and_fuzzes(corpus, tmp_path, run_cli, monkeypatch):
    """12 Deployments: every order of the rollout is too many to settle
    (start: settled says so and names the way out); start: one settles, and
    kspec fuzz explores node crashes from there."""
    import kspec.simulation.scenario
    from kspec.simulation.scenario import ScenarioError, load_scenario

    text = (f"manifests: [{corpus / 'microservices-demo'}]\n" 'nodes: ["3:cpu=8,memory=32Gi"]\n'
            "scheduler: least-allocated\nfaults: {budget: 1, kinds: [node-crash]}\n"
            "checks: [deployment-converges, fault-then-converged]\n")
    (tmp_path / "all.yaml").write_text(text)
    (tmp_path / "one.yaml").write_text("start: one\n" + text)
    monkeypatch.setattr(kspec.simulation.scenario, "SETTLE_LIMIT", 2000)  # the real limit (200,000) is hit as well, slowly
    with pytest.raises(ScenarioError, match="use start: one"):
        load_scenario(tmp_path / "all.yaml", allow_outside=True).init_states()
    monkeypatch.undo()
    start, = load_scenario(tmp_path / "one.yaml", allow_outside=True).init_states()
    assert sum(1 for p in start.pods if p.phase == "Running" and p.ready) == len(start.pods) == 12
    result = run_cli("fuzz", tmp_path / "one.yaml", "--max-examples", "20", "--seed", "1", "--allow-paths-outside")
    assert result.exit_code == 0 and "fault-then-converged (sometimes): holds" in result.stdout
