"""The bundled scenarios: verdicts and state counts pinned in each file's ``expect:``.

A change in a state count is something to review, not to paper over: update
the scenario file when the model's semantics change on purpose.
"""

from __future__ import annotations

import pytest

from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from kspec.simulation.scenario import ScenarioError, load_scenario
from support.scenarios import MODELS, explored

FAST = ["myapp-antiaffinity-node-crash", "rolling-update", "statefulset-partition", "daemonset-node-crash",
        "drain-with-pdb", "drain-blocked-by-pdb", "statefulset-force-delete",
        "unresponsive-pod-returns", "pinned-tainted-node", "scale-down-not-ready",
        "overlapping-rcs", "custom-singleton-buggy", "custom-singleton-fixed"]
SIEVE = [f"sieve-{bug}-state-{version}" for bug in ("stale", "unobserved", "intermediate")
         for version in ("buggy", "fixed")]
SIEVE += ["sieve-stale-delete-buggy", "sieve-stale-delete-fixed"]  # a DELETE with and without preconditions
SIEVE += ["sieve-stale-replicas-buggy", "sieve-stale-replicas-fixed"]  # a user operator without and with Expectations
FAST += SIEVE  # the user operators of models/sieve/ (tests/test_sieve_operators.py reads their traces)
# the control plane: informer caches, expectations, slow-start batches, etcd quorum, zone-aware eviction
CONTROL_PLANE = ["rc-stale-cache-surplus", "rc-stale-cache-expectations-hold", "rc-restart-between-batches",
                 "etcd-quorum-loss", "control-plane-partition-naive", "control-plane-partition-zone-aware"]
FAST += CONTROL_PLANE
# built-in controllers other than the replication manager reading through their informer caches
INFORMED = ["job-stale-cache-surplus", "job-stale-cache-expectations-hold",
            "statefulset-stale-cache-deletes-replacement", "statefulset-stale-cache-one-behind-holds",
            "endpoints-stale-cache-lists-deleted-pod", "endpoints-stale-cache-time-travel"]
# the scheduler cache: assumed pods over a lagging informer, lost on restart (tests/test_scheduler_cache.py)
INFORMED += ["scheduler-restart-double-booking", "scheduler-stale-cache-assumed-holds"]
# the DaemonSet controller's expectations over a lagging cache (tests/test_daemonset_cache.py)
INFORMED += ["daemonset-stale-cache-duplicate", "daemonset-stale-cache-expectations-hold"]
# the deployment controller's pod lister behind the API server (tests/test_deployment_cache.py)
INFORMED += ["deployment-recreate-stale-pod-lister", "deployment-rolling-stale-cache-holds"]
FAST += INFORMED
# update strategies: StatefulSet partition and OnDelete, DaemonSet surge and maxUnavailable, the overshoot of kubernetes#95498
ROLLOUTS = ["statefulset-rollout-partition", "statefulset-rollout-ondelete", "daemonset-rollout-surge",
            "daemonset-rollout-unavailable", "rollout-overshoot"]
FAST += ROLLOUTS
# Jobs and CronJobs (tests/test_job_scenarios.py reads their traces)
BATCH = ["job-replacement-while-terminating", "job-replace-only-failed", "cronjob-forbid-node-crash"]
FAST += BATCH
# horizontal pod autoscaling (tests/test_hpa_scenarios.py reads their traces)
FAST += ["hpa-load-swings"]
# generations and finalizers (tests/test_generation_finalizers.py reads their traces)
GENERATIONS_FINALIZERS = ["rollout-status-generation", "finalizer-stuck-terminating", "finalizer-removed-by-controller",
                          "deployment-delete-foreground"]
FAST += GENERATIONS_FINALIZERS
# Foreground and Orphan deletion of StatefulSets, DaemonSets and Jobs; their generations
# (tests/test_propagation_generations.py reads their traces)
PROPAGATION_GENERATIONS = ["statefulset-delete-foreground", "statefulset-delete-orphan", "daemonset-delete-foreground",
                           "job-delete-foreground", "job-delete-orphan", "statefulset-rollout-status-generation",
                           "daemonset-rollout-status-generation"]
FAST += PROPAGATION_GENERATIONS
# 2.5 s, 30 s and 10 s; myapp-antiaffinity-node-crash is the fast sibling of the first
SLOW = ["myapp-node-crash", "myapp-two-faults", "rolling-update-node-crash", "job-indexed-node-crash",
        "hpa-rollout-ratchet"]  # 18 s: bench/bench_hpa.py


def check_expected(name, symmetry=True):
    model, result = explored(name, symmetry)
    expected = model.expected
    assert result.complete, result.bound
    for prop, verdict in expected["verdicts"].items():
        assert str(result[prop].verdict) == verdict, (name, prop)
    key = "states" if result.stats.symmetry else "states_no_symmetry"
    if key in expected:
        assert result.stats.distinct_states == expected[key], (name, key)
    return model, result


@pytest.mark.parametrize("name", FAST)
def test_bundled_scenario_verdicts_and_states(name):
    check_expected(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_bundled_scenario_verdicts_and_states_slow(name):
    check_expected(name)


# Scenarios whose pinned ``states_no_symmetry`` is re-checked, with the verdicts
# compared to the reduced run; the slow ones take 1.5 to 7 s without symmetry.
NO_SYMMETRY = ["pinned-tainted-node", "scale-down-not-ready", "overlapping-rcs", "statefulset-partition",
               "custom-singleton-fixed", "daemonset-node-crash", "drain-with-pdb", "drain-blocked-by-pdb"] + SIEVE
NO_SYMMETRY += CONTROL_PLANE + ROLLOUTS + ["cronjob-forbid-node-crash"]
NO_SYMMETRY += [name for name in INFORMED
                if name not in ("job-stale-cache-surplus", "deployment-rolling-stale-cache-holds")] + GENERATIONS_FINALIZERS
NO_SYMMETRY += [name for name in PROPAGATION_GENERATIONS if name != "job-delete-foreground"]
NO_SYMMETRY_SLOW = ["myapp-antiaffinity-node-crash", "rolling-update", "statefulset-force-delete",
                    "unresponsive-pod-returns", "myapp-node-crash", "job-replacement-while-terminating",
                    "job-replace-only-failed", "job-stale-cache-surplus", "job-delete-foreground",
                    "deployment-rolling-stale-cache-holds"]
# 710,917 and 764,248 states without symmetry: minutes each, beyond the suite's budget.
NO_SYMMETRY_TOO_BIG = ["myapp-two-faults", "rolling-update-node-crash"]


def test_every_bundled_scenario_has_its_expect_checked():
    """A new scenario file joins a list here, so its ``expect:`` is re-checked."""
    names = {path.stem for path in MODELS.glob("*.yaml")}
    assert sorted(FAST + SLOW) == sorted(names)
    pinned = {name for name in names if "states_no_symmetry" in load_scenario(MODELS / f"{name}.yaml").expected}
    without_representative = {"custom-singleton-buggy"}  # its states_no_symmetry is its only count, checked above
    assert sorted(NO_SYMMETRY + NO_SYMMETRY_SLOW + NO_SYMMETRY_TOO_BIG) == sorted(pinned - without_representative)


@pytest.mark.parametrize("name", NO_SYMMETRY + [pytest.param(name, marks=pytest.mark.slow) for name in NO_SYMMETRY_SLOW])
def test_symmetry_never_changes_a_verdict(name):
    _, with_sym = explored(name, True)
    model, without = explored(name, False)
    assert without.stats.distinct_states == model.expected["states_no_symmetry"]
    assert [(p.name, p.verdict) for p in with_sym.properties] == [(p.name, p.verdict) for p in without.properties]
    assert with_sym.stats.distinct_states <= without.stats.distinct_states


def test_unresponsive_pod_returns_shortest_split_brain_trace():
    """partition -> Unknown -> 300 s pass -> eviction -> replacement created ->
    bound -> started, while the evicted pod still runs on the cut-off node."""
    model, result = explored("unresponsive-pod-returns")
    trace = result["at-most-replicas-running"].trace
    kinds = [type(a).__name__ for a in trace.actions]
    assert kinds == ["NodePartition", "NodeLifecycleMarkUnknown", "ClockTick", "TaintManagerEvict", "RCSync",
                     "SchedulerBind", "KubeletStartPod"]
    last = trace.last
    evicted = [p for p in last.pods if p.deleting]
    assert len(evicted) == 1 and evicted[0].run == "up"  # still running on the cut-off node
    assert not last.nodes[evicted[0].node].reachable
    assert sum(1 for p in last.pods if p.run == "up") == 4
    assert result["rc-never-exceeds-replicas"].verdict is Verdict.HOLDS  # the API view never shows 4


def test_pinned_tainted_node_is_a_create_evict_lasso():
    """kubernetes/kubernetes#75913: convergence fails as a lasso."""
    _, result = explored("pinned-tainted-node")
    res = result["rc-replicas-converge"]
    assert res.verdict is Verdict.VIOLATED and res.cycle_start is not None
    cycle = [type(a).__name__ for a in res.trace.actions[res.cycle_start:]]
    assert "RCSync" in cycle and ("TaintManagerEvict" in cycle or "KubeletRejectPod" in cycle)


@pytest.mark.slow  # shares the exploration of the slow pinned-count check of myapp-node-crash
def test_myapp_node_crash_loses_backend_endpoint_when_both_replicas_share_the_node():
    model, result = explored("myapp-node-crash")
    res = result["service-always-has-endpoint"]
    assert res.verdict is Verdict.VIOLATED
    crashed = res.trace.actions[0]
    assert type(crashed).__name__ == "NodeCrash"
    start = res.trace.steps[0].state
    node = model.world.node_index[crashed.node]
    assert sum(1 for p in start.pods if p.group == 0 and p.node == node) == 2  # both backend pods there


def test_rolling_update_surge_bounds_replica_set_specs_not_pods():
    """rolloutRolling scales the new ReplicaSet on spec.replicas sums, so pods
    of the old ReplicaSet the replication manager has not deleted yet count
    twice: 3 old + 2 new pods with maxSurge 1."""
    model, result = explored("rolling-update")
    trace = result["deployment-max-surge"].trace
    names = [type(a).__name__ for a in trace.actions]
    assert names[0] == "UserRollout" and names[-1] == "RCSync"
    scales = [str(a) for a in trace.actions if type(a).__name__ == "DeploymentSync"]
    assert any("3 -> 2" in a for a in scales) and any("1 -> 2" in a for a in scales)
    last = trace.last
    assert sum(1 for p in last.pods if not p.deleting) == 5


def test_recreate_strategy_leaves_the_service_without_endpoints(tmp_path):
    """rolloutRecreate takes every old pod down before the new ReplicaSet starts: downtime by design."""
    (tmp_path / "web").mkdir()
    manifest = (MODELS / "web" / "web.yaml").read_text().replace(
        "    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 1\n      maxUnavailable: 0\n",
        "    type: Recreate\n")
    assert "Recreate" in manifest
    (tmp_path / "web" / "web.yaml").write_text(manifest)
    scenario = tmp_path / "recreate.yaml"
    scenario.write_text('manifests: [web/]\nnodes: ["3:cpu=2,memory=4Gi"]\nscheduler: least-allocated\n'
                        "operations:\n  - rollout: {workload: web}\n"
                        "checks: [deployment-converges, service-always-has-endpoint, deployment-min-available,"
                        " rollout-serves-both-versions]\n")
    model = load_scenario(scenario)
    result = Explorer(model, symmetry=True, progress=False).run()
    assert result["deployment-converges"].verdict is Verdict.HOLDS
    assert result["service-always-has-endpoint"].verdict is Verdict.VIOLATED
    assert result["deployment-min-available"].verdict is Verdict.VIOLATED
    assert result["rollout-serves-both-versions"].verdict is Verdict.VIOLATED  # never two versions at once


def test_statefulset_waits_for_the_evicted_identity_instead_of_running_two():
    """stateful_set_control.go: a terminating replica blocks the sync, and the
    replacement would reuse its name, so the set stays one short while the node
    is cut off; the RC in unresponsive-pod-returns runs four copies instead."""
    _, result = explored("statefulset-partition")
    res = result["rc-replicas-converge"]
    assert res.verdict is Verdict.VIOLATED and res.cycle_start == len(res.trace)  # stays in the last state
    names = [type(a).__name__ for a in res.trace.actions]
    assert names[0] == "NodePartition" and "TaintManagerEvict" in names and "StatefulSetSync" not in names
    last = res.trace.last
    assert [p.name for p in last.pods if p.deleting] == ["db-0"] and len(last.pods) == 3


def test_start_one_is_one_of_the_settled_states():
    settled = load_scenario(MODELS / "myapp-node-crash.yaml").init_states()
    one = load_scenario(MODELS / "myapp-node-crash.yaml", {"start": "one"}).init_states()
    assert len(settled) == 12 and len(one) == 1 and one[0] in settled


def test_force_deleting_a_statefulset_pod_on_a_cut_off_node_runs_two_copies(tmp_path):
    """The Kubernetes docs' warning about force deletion, found: the orphan keeps
    running on the cut-off node while the new db-0 starts. After a crash of a
    node that stays dead the same force delete is safe; if it may come back,
    it is not (its kubelet restarts db-0 before the orphan is noticed)."""
    _, result = explored("statefulset-force-delete")
    trace = result["at-most-replicas-running"].trace
    names = [type(a).__name__ for a in trace.actions]
    assert names[0] == "NodePartition" and "UserForceDelete" in names and names[-1] == "KubeletStartPod"
    last = trace.last
    cut_off = [n for n, rec in enumerate(last.nodes) if not rec.reachable]
    assert len(cut_off) == 1 and len(last.nodes[cut_off[0]].orphans) == 1
    assert last.pod("db-0").node != cut_off[0] and last.pod("db-0").run == "up"
    crash = tmp_path / "crash.yaml"
    crash.write_text((MODELS / "statefulset-force-delete.yaml").read_text()
                     .replace("{node-partition: 1, node-heal: 1}", "{node-crash: 1}")
                     .replace("manifests: [db/]", f"manifests: [{MODELS / 'db'}]").split("expect:")[0])
    result = Explorer(load_scenario(crash, allow_outside=True), symmetry=True, progress=False).run()
    assert result["at-most-replicas-running"].verdict is Verdict.HOLDS
    assert result["four-copies-running"].verdict is Verdict.VIOLATED


def test_custom_edge_triggered_controller_loses_the_deletion_it_never_saw():
    _, result = explored("custom-singleton-buggy")
    res = result["leader-converges"]
    assert res.verdict is Verdict.VIOLATED
    names = [type(a).__name__ for a in res.trace.actions]
    assert "ControllerRestart" in names and "PodDelete" in names
    assert names.index("ControllerRestart") < names.index("LeaderRelist")


def test_overlapping_rcs_adoption_race_goes_either_way():
    _, result = explored("overlapping-rcs")
    for name in ("orphan-adopted-by-stable", "orphan-adopted-by-canary"):
        trace = result[name].trace
        assert [type(a).__name__ for a in trace.actions] == ["RCSync"]


def test_overlapping_rcs_flagged_by_the_static_check(run_cli):
    out = run_cli("check", MODELS / "overlap")
    assert "[controllers-overlap] ReplicationController/web-stable" in out.stdout + out.stderr


# --------------------------------------------------------------------------- the scenario format


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "m" / "rc.yaml").write_text((MODELS / "myapp" / "frontend-rc.yaml").read_text())
    (tmp_path / "m" / "nodes.yaml").write_text((MODELS / "myapp" / "nodes.yaml").read_text())
    return path


def test_scenario_errors_name_file_and_line(tmp_path):
    path = write(tmp_path, "manifests: [m/]\nfaults:\n  budget: 1\n  kinds: [node-melt]\nchecks:\n  - rc-replicas-converge\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert f"{path}:4: error:" in text and "node-melt" in text
    assert "sometimes" not in text  # no sometimes companion is required (tests/test_vacuity.py)


def test_scenario_unknown_key_and_missing_manifests(tmp_path):
    path = write(tmp_path, "manifest: [m/]\nchecks: [fault-then-converged]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "unknown key 'manifest'" in str(err.value) and "manifests: missing required key" in str(err.value)


def test_scenario_bad_property_parameter_points_at_its_line(tmp_path):
    path = write(tmp_path, "manifests: [m/]\nchecks:\n  - fault-then-converged\n  - rc-replicas-converge: {workload: nope}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{path}:4:" in str(err.value) and "nope" in str(err.value)


def test_scenario_parameters_override_the_budget(tmp_path):
    path = write(tmp_path, "manifests: [m/]\nfaults: {budget: 1, kinds: [node-crash]}\nchecks: [fault-then-converged]\n")
    assert load_scenario(path, {"budget": 3}).budget.total == 3
    with pytest.raises(ScenarioError):
        load_scenario(path, {"colour": "red"})


def test_cli_explore_scenario_exit_codes(run_cli):
    out = run_cli("explore", MODELS / "pinned-tainted-node.yaml")
    assert out.exit_code == 1, out.stderr
    assert "rc-replicas-converge" in out.stdout and "violated" in out.stdout
    out = run_cli("explore", MODELS / "custom-singleton-fixed.yaml")
    assert out.exit_code == 0, out.stdout + out.stderr
