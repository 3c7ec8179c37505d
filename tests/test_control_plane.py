"""The control plane as controllers see it: informer caches, expectations,
slow-start batches, etcd quorum, the node lifecycle controller's eviction
rule, and the warnings for what a scenario can never exercise."""

from __future__ import annotations

import attrs
import pytest

from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from kspec.simulation.controllers.nodelifecycle import (FULL, NORMAL, PARTIAL, EvictionRule, compute_zone_state,
                                                        taint_allowed)
from kspec.simulation.controllers.replication import Expectations, RCBatch, RCSync
from kspec.simulation.informer import Event
from kspec.simulation.scenario import ScenarioError, _api_view, load_scenario
from kspec.simulation.state import FAILED, has_quorum
from support.scenarios import MODELS, explored

RC = f"[{MODELS / 'myapp' / 'frontend-rc.yaml'}, {MODELS / 'myapp' / 'nodes.yaml'}]"


def scenario(tmp_path, body: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(f"name: s\nmanifests: {RC}\nscheduler: least-allocated\n{body}")
    return load_scenario(path, allow_outside=True)


def verdicts(model, symmetry=True) -> dict[str, str]:
    result = Explorer(model, symmetry=symmetry, progress=False).run()
    assert result.complete
    return {p.name: str(p.verdict) for p in result.properties}, result


# --------------------------------------------------------------------------- expectations


def observe(model, state, event):
    manager = next(c for c in model.world.controllers if c.actor == "replication")
    return manager.observe(model.world, state, event)


def rc_memory(model, state):
    return state.memory[model.world.memory_slots["replication"]][0]


def test_expectations_are_lowered_by_the_informers_handlers_as_upstream(tmp_path):
    """controller_utils.go: CreationObserved lowers add on any add of an owned
    pod; DeletionObserved (UIDTrackingControllerExpectations) only for a pod
    whose deletion was expected; a met record behaves as none."""
    model = scenario(tmp_path, "consistency: {staleness: 1}\nchecks: [rc-replicas-converge, replacement-created]\n")
    start = model.init_states()[0]
    slot = model.world.memory_slots["replication"]
    expecting = attrs.evolve(start, memory=start.memory[:slot] + ((Expectations(add=1, deletes=("x",)),),)
                             + start.memory[slot + 1:])
    pod = start.pods[0]
    created = observe(model, expecting, Event(pod.name, None, pod))
    assert rc_memory(model, created) == Expectations(add=0, deletes=("x",))
    unrelated = observe(model, created, Event(pod.name, pod, None))  # not an expected deletion
    assert rc_memory(model, unrelated) == Expectations(add=0, deletes=("x",))
    gone = pod._replace(name="x")
    met = observe(model, created, Event("x", gone, gone._replace(deleting=True)))
    assert rc_memory(model, met) is None


def test_creations_go_in_slow_start_batches_of_1_2_4(tmp_path):
    """replica_set.go slowStartBatch (SlowStartInitialBatchSize 1): 7 pods are 1, then 2, then 4."""
    path = tmp_path / "rc7.yaml"
    path.write_text((MODELS / "myapp" / "frontend-rc.yaml").read_text().replace("replicas: 3", "replicas: 7"))
    (tmp_path / "nodes.yaml").write_text((MODELS / "myapp" / "nodes.yaml").read_text())
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\nmanifests: [rc7.yaml, nodes.yaml]\nstart: applied\nconsistency: {staleness: 0}\n"
                    "checks: [rc-replicas-converge, replacement-created]\n")
    model = load_scenario(spec)
    state = model.init_states()[0]
    sizes = []
    for _ in range(3):
        action, state = next((a, s) for a, s in model._step_map(state).items() if a.actor == "replication")
        assert isinstance(action, (RCSync, RCBatch))
        sizes.append(len(action.create))
    assert sizes == [1, 2, 4]
    assert not [a for a in model._step_map(state) if a.actor == "replication"]


def test_fresh_consistency_keeps_the_replication_manager_without_memory(tmp_path):
    model = scenario(tmp_path, "checks: [rc-replicas-converge, replacement-created]\n")
    assert model.world.memory_slots == {} and model.world.informed == ()


# --------------------------------------------------------------------------- the pinned scenarios


@pytest.mark.parametrize("name, prop, verdict", [
    ("rc-stale-cache-surplus", "rc-never-exceeds-replicas", "violated"),
    ("rc-stale-cache-expectations-hold", "rc-never-exceeds-replicas", "holds"),
    ("rc-restart-between-batches", "rc-replicas-converge", "holds"),
    ("etcd-quorum-loss", "rc-replicas-converge", "violated"),
    ("control-plane-partition-zone-aware", "no-pod-evicted", "holds"),
    ("control-plane-partition-naive", "no-pod-evicted", "violated"),
])
def test_upstream_behaviour_reproduced(name, prop, verdict):
    _, result = explored(name)
    assert str(result[prop].verdict) == verdict


def test_the_surplus_needs_an_expiry_while_the_creation_is_unseen():
    """The counterexample: the replacement is created, the expectations expire
    before its ADDED event reaches the cache, and the next sync creates again."""
    _, result = explored("rc-stale-cache-surplus")
    actions = [type(a).__name__ for a in result["rc-never-exceeds-replicas"].trace.actions]
    assert actions[-3:] == ["RCSync", "ExpectationsExpire", "RCSync"]


def test_no_write_succeeds_without_etcd_quorum():
    """Every state of etcd-quorum-loss without quorum: no successor changes what the API holds."""
    model, _ = explored("etcd-quorum-loss")
    seen, frontier, checked = set(), list(model.init_states()), 0
    while frontier:
        state = frontier.pop()
        if state in seen:
            continue
        seen.add(state)
        for action, nxt in model._step_map(state).items():
            if not has_quorum(model.world, state):
                assert _api_view(nxt) == _api_view(state), action
                checked += 1
            frontier.append(nxt)
    assert checked > 0


def test_pod_fail_marks_a_pod_failed_and_the_rc_replaces_it(tmp_path):
    """controller.FilterActivePods leaves Failed pods out: the RC creates a replacement."""
    model = scenario(tmp_path, "faults: {kinds: [pod-fail]}\nchecks: [rc-replicas-converge, {expression: {"
                     "name: replaced, kind: sometimes, cel: 'pods.exists(p, p.phase == \"Failed\") && "
                     "pods.filter(p, p.phase == \"Running\" && p.ready).size() == 3'}}]\n")
    result, _ = verdicts(model)
    assert result == {"rc-replicas-converge": "holds", "replaced": "holds"}
    start = model.init_states()[0]
    failed = [s for a, s in model._step_map(start).items() if type(a).__name__ == "PodFail"]
    assert failed and all(any(p.phase == FAILED and not p.ready for p in s.pods) for s in failed)


# --------------------------------------------------------------------------- symmetry with streams


@pytest.mark.parametrize("staleness, kinds", [
    (1, "{pod-delete: 1, watch-drop: 1, relist: 1}"),
    (2, "{pod-delete: 1, watch-drop: 1}"),
    (1, "{pod-delete: 1, controller-restart: 1}"),
])
def test_symmetry_keeps_every_verdict_with_informer_caches(tmp_path, staleness, kinds):
    """Renaming pods is exact when the stream, the caches' lost records and
    the expectations are renamed with them: the same verdicts either way."""
    body = (f"consistency: {{staleness: {staleness}}}\nfaults: {{kinds: {kinds}, budget: 2}}\n"
            "checks: [rc-replicas-converge, rc-never-exceeds-replicas, replacement-created]\n")
    reduced, with_symmetry = verdicts(scenario(tmp_path, body))
    plain, without = verdicts(scenario(tmp_path, body), symmetry=False)
    assert reduced == plain
    assert with_symmetry.stats.distinct_states <= without.stats.distinct_states


@pytest.mark.slow
def test_symmetry_keeps_every_verdict_with_every_stream_fault(tmp_path):
    body = ("consistency: {staleness: 1}\nfaults: {kinds: {pod-delete: 1, watch-drop: 1, controller-restart: 1, "
            "expectations-expire: 1}, budget: 3}\n"
            "checks: [rc-replicas-converge, rc-never-exceeds-replicas, replacement-created]\n")
    assert verdicts(scenario(tmp_path, body))[0] == verdicts(scenario(tmp_path, body), symmetry=False)[0]


# --------------------------------------------------------------------------- node lifecycle


@pytest.mark.parametrize("ready, not_ready, state", [
    (3, 0, NORMAL), (0, 1, FULL), (0, 3, FULL), (1, 2, NORMAL), (2, 3, PARTIAL), (1, 3, PARTIAL), (5, 3, NORMAL),
])
def test_compute_zone_state_as_upstream(ready, not_ready, state):
    """node_lifecycle_controller.go ComputeZoneState: fully disrupted when no
    node is ready; partially when more than 2 are not ready and at least the
    unhealthy-zone threshold (0.55) of the zone."""
    assert compute_zone_state(ready, not_ready) == state


def test_large_partially_disrupted_zones_keep_the_secondary_eviction_rate(tmp_path):
    """setLimiterInZone: a partially disrupted zone larger than
    largeClusterSizeThreshold evicts at the secondary rate, a small one not at all."""
    pools = 'nodes: ["4:cpu=2,memory=4Gi;zones=a"]\n'
    model = scenario(tmp_path, pools + "nodeLifecycle: {largeClusterSizeThreshold: 3}\n"
                     "checks: [rc-replicas-converge, replacement-created]\n")
    world = model.world
    state = model.init_states()[0]
    zone = world.zones[3]
    nodes = [i for i, z in enumerate(world.zones) if z == zone]
    assert len(nodes) >= 4
    for n in nodes[:3]:
        state = attrs.evolve(state, nodes=tuple(r._replace(ready="Unknown") if i == n else r
                                                for i, r in enumerate(state.nodes)))
    assert taint_allowed(world, state, nodes[0])
    world.lifecycle = EvictionRule(large_cluster_size_threshold=3, secondary_eviction_rate=0)
    assert not taint_allowed(world, state, nodes[0])
    world.lifecycle = EvictionRule()  # 50: a small cluster, no evictions in a partially disrupted zone
    assert not taint_allowed(world, state, nodes[0])


# --------------------------------------------------------------------------- warnings and errors


@pytest.mark.parametrize("body, code, text", [
    ("faults: {kinds: [controller-restart]}\n", "fault-never-fires", "controller-restart can never happen"),
    ("faults: {kinds: [watch-drop]}\n", "fault-never-fires", "cache ever lags"),
    ("consistency: {staleness: 0}\nfaults: {kinds: [watch-drop]}\n", "fault-never-fires", "cache ever lags"),
    ("faults: {kinds: [expectations-expire]}\n", "fault-never-fires", "keeps expectations"),
])
def test_a_fault_that_can_never_fire_is_a_warning(tmp_path, body, code, text):
    model = scenario(tmp_path, body + "checks: [rc-replicas-converge, replacement-created]\n")
    assert [(w.code, text in w.message, w.severity) for w in model.warnings] == [(code, True, "warning")]


def test_a_kind_the_scenario_ignores_is_a_warning_at_its_line(tmp_path):
    (tmp_path / "policy.yaml").write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                          "metadata: {name: deny-all}\nspec:\n  podSelector: {}\n"
                                          "  policyTypes: [Ingress]\n")
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nmanifests: [{MODELS / 'myapp' / 'frontend-rc.yaml'}, "
                    f"{MODELS / 'myapp' / 'nodes.yaml'}, policy.yaml]\nchecks: [rc-replicas-converge, "
                    "replacement-created]\n")
    model = load_scenario(path, allow_outside=True)
    (warning,) = model.warnings
    assert warning.line == 1 and warning.file.endswith("policy.yaml") and "NetworkPolicy/deny-all" in \
        warning.message and "every pod can reach" in warning.message


@pytest.mark.parametrize("body, where", [
    ("consistency: {staleness: 1, lag: 2}\n", "consistency.lag: unknown key 'lag'"),
    ("consistency: {staleness: -1}\n", "consistency.staleness: must be at least 0"),
    ("consistency: {controllers: [kubelet]}\n", "'kubelet' reads the API directly"),
    ("consistency: eventual\n", "consistency is fresh or"),
    ("etcd: {members: 2}\n", "etcd.members: an etcd cluster has an odd number of members"),
    ("nodeLifecycle: {evictions: random}\n", "nodeLifecycle.evictions: evictions is zone-aware or naive"),
    ("nodeLifecycle: {unhealthyZoneThreshold: high}\n", "expected a number of at least 0"),
])
def test_control_plane_settings_are_checked_at_their_line(tmp_path, body, where):
    with pytest.raises(ScenarioError) as err:
        scenario(tmp_path, body + "checks: [rc-replicas-converge, replacement-created]\n")
    assert any(where in str(d) and d.line == 4 for d in err.value.diagnostics), err.value.diagnostics


# --------------------------------------------------------------------------- deletion propagation


PROPAGATION_CHECKS = """checks:
  - expression: {name: owner-outlives-dependents, kind: always,
                 cel: 'workloads["frontend"].replicas != null || pods.size() == 0'}
  - expression: {name: no-pod-deleted, kind: always, cel: 'pods.all(p, !p.terminating)'}
  - expression: {name: orphans-run-on, kind: sometimes,
                 cel: 'workloads["frontend"].replicas == null && pods.filter(p, p.workload == "" && p.running).size() == 3'}
  - expression: {name: all-gone, kind: sometimes, cel: 'workloads["frontend"].replicas == null && pods.size() == 0'}
"""


@pytest.mark.parametrize("policy, expected", [
    ("Background", {"owner-outlives-dependents": "violated", "no-pod-deleted": "violated",
                    "orphans-run-on": "violated", "all-gone": "holds"}),
    ("Foreground", {"owner-outlives-dependents": "holds", "no-pod-deleted": "violated",
                    "orphans-run-on": "violated", "all-gone": "holds"}),
    ("Orphan", {"owner-outlives-dependents": "violated", "no-pod-deleted": "holds",
                "orphans-run-on": "holds", "all-gone": "violated"}),
])
def test_delete_propagation_as_the_garbage_collector_does_it(tmp_path, policy, expected):
    """garbagecollector: Background deletes the owner at once and its dependents
    after; Foreground keeps the owner (foregroundDeletion finalizer) until every
    dependent is gone from the API; Orphan removes the dependents'
    ownerReferences and leaves them running."""
    model = scenario(tmp_path, f"operations: [{{delete: {{workload: frontend, propagationPolicy: {policy}}}}}]\n"
                               + PROPAGATION_CHECKS)
    assert verdicts(model)[0] == expected


def test_propagation_is_checked_at_its_line(tmp_path):
    with pytest.raises(ScenarioError) as err:
        scenario(tmp_path, "operations: [{delete: {workload: frontend, propagationPolicy: Later}}]\n"
                           "checks: [rc-replicas-converge, replacement-created]\n")
    assert any("propagationPolicy is Background, Foreground or Orphan, got 'Later'" in str(d)
               for d in err.value.diagnostics)
