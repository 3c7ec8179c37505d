"""Jobs and CronJobs in scenarios: the job controller, the CronJob controller and
the kubelet's side of a Job's pods, on small scenarios written here and on the
bundled ones (``models/job-*.yaml``, ``models/cronjob-*.yaml``).

Test names cite the upstream function each behaviour follows
(``pkg/controller/job/job_controller.go``, ``pkg/controller/cronjob/``).
"""

from __future__ import annotations

import collections

import pytest
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import Explorer
from kspec.errors import LoadError
from kspec.simulation.controllers.cronjob import cron_record
from kspec.simulation.controllers.job import record_of
from kspec.simulation.controllers.jobspec import MAX_INT32
from kspec.simulation.scenario import ScenarioError, load_scenario
from kspec.simulation.state import FAILED, SUCCEEDED, well_formed
from support.scenarios import MODELS, explored

NODES = 'nodes: ["2:cpu=2,memory=4Gi"]\n'
ONE_NODE = 'nodes: ["1:cpu=2,memory=4Gi"]\n'


def _job(name="work", spec="completions: 2\nparallelism: 1", restart="Never"):
    fields = "".join(f"  {line}\n" for line in spec.splitlines())
    return (f"apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n{fields}"
            f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      restartPolicy: {restart}\n"
            "      containers: [{name: main, image: busybox, resources: {requests: {cpu: 100m}}}]\n")


def _model(tmp_path, manifest: str, rest: str = "", start: str = "applied", nodes: str = NODES):
    (tmp_path / "m.yaml").write_text(manifest)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"manifests: [m.yaml]\n{nodes}start: {start}\n{rest}checks: [job-completes]\n")
    return load_scenario(scenario)


def _reachable(model, limit=50_000):
    """Every state reachable from the model's initial states (no symmetry), with the action that led to it."""
    seen = {s: None for s in model.init_states()}
    queue = collections.deque(seen)
    while queue:
        state = queue.popleft()
        for action in model.actions(state):
            nxt = model.next_state(state, action)
            if nxt is not None and nxt not in seen:
                seen[nxt] = action
                queue.append(nxt)
        assert len(seen) < limit
    return seen


def _records(model, states):
    w = model.world.jobs[0]
    return [record_of(model.world, s, w) for s in states]


# --------------------------------------------------------------------------- the spec


def test_SetDefaults_Job_backoff_limit_is_max_int32_with_a_per_index_limit(tmp_path):
    spec = "completions: 2\ncompletionMode: Indexed\nbackoffLimitPerIndex: 1"
    model = _model(tmp_path, _job(spec=spec))
    assert model.world.job_specs[model.world.jobs[0]].backoff_limit == MAX_INT32
    assert _model(tmp_path, _job()).world.job_specs[0].backoff_limit == 6


@pytest.mark.parametrize("spec, field", [
    ("completionMode: Indexed\nparallelism: 2", "spec.completions"),
    ("completions: 2\nbackoffLimitPerIndex: 1", "spec.backoffLimitPerIndex"),
    ("completions: 2\npodReplacementPolicy: Sometimes", "spec.podReplacementPolicy"),
    ("completions: 2\nactiveDeadlineSeconds: 0", "spec.activeDeadlineSeconds"),
])
def test_ValidateJobSpec_problems_are_load_errors_at_the_job(tmp_path, spec, field):
    with pytest.raises(LoadError) as err:
        _model(tmp_path, _job(spec=spec))
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.line == 1 and diagnostic.field == field and "Job/work" in diagnostic.message


def test_ValidateJobSpec_pod_failure_policy_needs_restart_policy_never(tmp_path, run_cli):
    spec = "completions: 1\npodFailurePolicy:\n  rules: [{action: FailJob, onExitCodes: {operator: In, values: [1]}}]"
    (tmp_path / "m.yaml").write_text(_job(spec=spec, restart="OnFailure"))
    (tmp_path / "s.yaml").write_text(f"manifests: [m.yaml]\n{NODES}checks: [job-completes]\n")
    result = run_cli("explore", tmp_path / "s.yaml")
    assert result.exit_code == 2
    assert f"{tmp_path / 'm.yaml'}:1: error: spec.podFailurePolicy: Job/work: only allowed" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- the world


def test_indexed_job_has_a_template_per_index_with_its_annotation_and_a_counted_twin(tmp_path):
    """``addCompletionIndexAnnotation``: each index's pods carry it; pods are ``<job>-<index>-<n>``."""
    model = _model(tmp_path, _job(spec="completions: 3\nparallelism: 2\ncompletionMode: Indexed"))
    world = model.world
    pairs = world.job_groups[world.jobs[0]]
    assert len(pairs) == 3
    for index, (tracked, counted) in enumerate(pairs):
        a, b = world.groups[tracked], world.groups[counted]
        assert a.prefix == b.prefix == f"work-{index}-"
        assert a.finalizer and not b.finalizer and world.counted_twin[tracked] == counted
        assert a.pod.metadata.annotations["batch.kubernetes.io/job-completion-index"] == str(index)
        assert a.labels["batch.kubernetes.io/job-name"] == "work" and a.completion_index == index
    assert world.workloads[world.jobs[0]].kind == "Job" and world.jobs[0] not in world.pod_owners


def test_a_settled_start_with_a_job_is_a_warning(tmp_path):
    model = _model(tmp_path, _job(), start="settled")
    (warning,) = model.warnings
    assert warning.code == "job-settled" and warning.line == 3  # the scenario's start: line


# --------------------------------------------------------------------------- the job controller


def test_syncJob_runs_a_job_to_complete_and_counts_each_pod_once(tmp_path):
    model = _model(tmp_path, _job(spec="completions: 3\nparallelism: 2"))
    states = _reachable(model)
    finished = [s for s in states if record_of(model.world, s, 0).finished]
    assert finished and all(record_of(model.world, s, 0).condition == "Complete" for s in finished)
    for s in finished:
        record = record_of(model.world, s, 0)
        assert record.succeeded == 3 and record.failed == 0
        assert [p.phase for p in s.pods] == [SUCCEEDED] * 3
        assert not any(model.world.groups[p.group].finalizer for p in s.pods)  # every end counted
    assert max(len([p for p in s.pods if p.phase not in (SUCCEEDED, FAILED)]) for s in states) == 2
    done = finished[0]
    assert not model.controller_steps(done)  # reconciling a finished Job changes nothing


def test_manageJob_keeps_a_suspended_job_without_pods(tmp_path):
    model = _model(tmp_path, _job(spec="completions: 2\nsuspend: true"))
    assert all(not s.pods for s in _reachable(model))


def test_pastBackoffLimit_fails_the_job_after_backoff_limit_failures(tmp_path):
    model = _model(tmp_path, _job(spec="completions: 1\nbackoffLimit: 1"), "faults: {kinds: {container-crash: 2}}\n")
    records = _records(model, _reachable(model))
    failed = [r for r in records if r.condition is not None and r.condition != "Complete"]
    assert failed and {r.condition for r in failed} == {"BackoffLimitExceeded"} and {r.failed for r in failed} == {2}
    assert any(r.condition == "Complete" and r.failed == 1 for r in records)  # one failure is within the limit


def test_matchPodFailurePolicy_fail_job_on_exit_code_1(tmp_path):
    spec = "completions: 1\npodFailurePolicy:\n  rules: [{action: FailJob, onExitCodes: {operator: In, values: [1]}}]"
    model = _model(tmp_path, _job(spec=spec), "faults: {kinds: {container-crash: 1}}\n")
    conditions = {r.condition for r in _records(model, _reachable(model))}
    assert conditions == {None, "Complete", "PodFailurePolicy"}


def test_backoffLimitPerIndex_fails_an_index_not_the_job_until_all_are_done(tmp_path):
    spec = "completions: 2\nparallelism: 2\ncompletionMode: Indexed\nbackoffLimitPerIndex: 0"
    model = _model(tmp_path, _job(spec=spec), "faults: {kinds: {container-crash: 1}}\n")
    records = _records(model, _reachable(model))
    failed = [r for r in records if r.condition == "FailedIndexes"]
    assert failed and all(r.succeeded == 1 and len(r.completed_indexes) == 1 for r in failed)
    assert not any(r.condition == "BackoffLimitExceeded" for r in records)


def test_pastActiveDeadline_fails_the_job_and_deletes_its_active_pods(tmp_path):
    model = _model(tmp_path, _job(spec="completions: 2\nactiveDeadlineSeconds: 60"))
    states = _reachable(model)
    late = [s for s in states if record_of(model.world, s, 0).condition == "DeadlineExceeded"]
    assert late and any(record_of(model.world, s, 0).succeeded == 1 for s in late)
    assert all(p.deleting or p.phase in (SUCCEEDED, FAILED) for s in late for p in s.pods)
    assert any(record_of(model.world, s, 0).condition == "Complete" for s in states)


def test_ttlafterfinished_deletes_the_finished_job_and_its_pods(tmp_path):
    model = _model(tmp_path, _job(spec="completions: 1\nttlSecondsAfterFinished: 100"))
    ends = [s for s, action in _reachable(model).items() if not model.actions(s)]
    assert ends and all(s.replicas[0] is None and not s.pods for s in ends)


def test_kubelet_keeps_a_terminating_job_pod_until_its_finalizer_goes(tmp_path):
    """With the tracking finalizer the kubelet posts Failed and the object stays;
    the job controller counts it and removes the finalizer, and the object goes."""
    model = _model(tmp_path, _job(spec="completions: 1"), "faults: {kinds: {pod-delete: 1}}\n")
    kinds = collections.Counter()
    for state in _reachable(model):
        for pod in state.pods:
            if pod.deleting and pod.phase == FAILED:
                kinds[model.world.groups[pod.group].finalizer] += 1
    assert kinds[True] > 0 and kinds[False] == 0


def test_syncJob_replaces_a_terminating_pod_at_once_by_default():
    """``isPodFailed`` with podReplacementPolicy TerminatingOrFailed (the default):
    the evicted pod counts as failed while it still terminates, and its
    replacement is created in the same sync (kubernetes#115844)."""
    _, result = explored("job-replacement-while-terminating")
    trace = result["job-pods-within-parallelism"].trace
    last_action = trace.actions[-1]
    assert type(last_action).__name__ == "JobSync" and last_action.create and last_action.counted
    assert [type(a).__name__ for a in trace.actions][-2] == "TaintManagerEvict"
    assert any(p.deleting for p in trace.last.pods)


def test_onlyReplaceFailedPods_waits_and_a_dead_node_blocks_the_job():
    _, result = explored("job-replace-only-failed")
    res = result["job-finishes"]
    assert res.trace is not None and res.cycle_start == len(res.trace)
    assert any(p.deleting and p.phase not in (SUCCEEDED, FAILED) for p in res.trace.last.pods)


def test_cronjob_forbid_starts_the_next_run_beside_a_terminating_pod():
    """``syncCronJob`` with Forbid reads Jobs, not pods: the run that completed
    through its replacement leaves its evicted pod Terminating, and the next
    run starts beside it."""
    model, result = explored("cronjob-forbid-node-crash")
    trace = result["cronjob-one-job-running"].trace
    names = [type(a).__name__ for a in trace.actions]
    assert "NodeCrash" in names and "CronJobSync" in names[names.index("NodeCrash"):]
    record = cron_record(model.world, trace.last, 0)
    assert record.last == 600 and len(record.active) == 1


# --------------------------------------------------------------------------- the CronJob controller


def _cronjob(policy="Forbid", extra=""):
    fields = "".join(f"  {line}\n" for line in extra.splitlines())
    return ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tick}\nspec:\n"
            f"  schedule: \"*/5 * * * *\"\n  concurrencyPolicy: {policy}\n{fields}"
            "  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n"
            "          containers: [{name: main, image: busybox, resources: {requests: {cpu: 100m}}}]\n")


def _unfinished(model, state):
    return [w for w in model.world.jobs
            if state.replicas[w] is not None and not record_of(model.world, state, w).finished]


@pytest.mark.parametrize("policy, most", [("Forbid", 1), ("Replace", 1), ("Allow", 3)])
def test_syncCronJob_concurrency_policy_bounds_unfinished_runs(tmp_path, policy, most):
    model = _model(tmp_path, _cronjob(policy), nodes=ONE_NODE)
    states = _reachable(model)
    assert max(len(_unfinished(model, s)) for s in states) == most
    assert [model.world.workloads[w].name for w in model.world.jobs] == ["tick-5", "tick-10", "tick-15"]


def test_syncCronJob_replace_deletes_the_active_run(tmp_path):
    model = _model(tmp_path, _cronjob("Replace"), nodes=ONE_NODE)
    actions = {a for a in _reachable(model).values() if type(a).__name__ == "CronJobSync" and a.delete}
    assert actions and all(a.decision == "replace" for a in actions)


def test_cleanupFinishedJobs_keeps_successful_history_limit(tmp_path):
    model = _model(tmp_path, _cronjob("Allow", "successfulJobsHistoryLimit: 1"), nodes=ONE_NODE)
    ends = [s for s in _reachable(model) if not model.actions(s)]
    assert ends
    for s in ends:
        kept = [w for w in model.world.jobs if s.replicas[w] is not None]
        assert len(kept) == 1 and record_of(model.world, s, kept[0]).condition == "Complete"


def test_cronjob_bad_schedule_is_an_error_at_its_line(tmp_path, run_cli):
    (tmp_path / "m.yaml").write_text(_cronjob().replace("*/5 * * * *", "61 * * * *"))
    (tmp_path / "s.yaml").write_text(f"manifests: [m.yaml]\n{NODES}checks: [cronjob-runs-again]\n")
    result = run_cli("explore", tmp_path / "s.yaml")
    assert result.exit_code == 2 and f"{tmp_path / 'm.yaml'}:1: error: spec.schedule: CronJob/tick" in result.stderr


# --------------------------------------------------------------------------- encoding and symmetry


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), max_size=40))
def test_job_steps_keep_states_well_formed_and_representatives_named_once(choices):
    """Random walks over the Indexed Job under a node crash: every state is well
    formed, its representative too (a counted pod and a tracked pod of one
    index share a name prefix and never a name), and canonicalising is idempotent."""
    model = _indexed_model()
    state = model.init_states()[0]
    for choice in choices:
        actions = model.actions(state)
        if not actions:
            break
        state = model.next_state(state, actions[choice % len(actions)])
        assert well_formed(state, model.world) == []
        rep = model.representative(state)
        assert well_formed(rep, model.world) == [] and model.representative(rep) == rep


_INDEXED = []


def _indexed_model():
    if not _INDEXED:
        _INDEXED.append(load_scenario(MODELS / "job-indexed-node-crash.yaml"))
    return _INDEXED[0]


def test_indexed_job_small_variant_finishes_and_never_runs_an_index_twice(tmp_path):
    """The fast sibling of the bundled job-indexed-node-crash (two indexes)."""
    manifest = (MODELS / "batch" / "shards-job.yaml").read_text().replace("completions: 5", "completions: 2")
    (tmp_path / "m.yaml").write_text(manifest)
    (tmp_path / "s.yaml").write_text(f"manifests: [m.yaml]\n{NODES}start: applied\n"
                                     "faults: {kinds: {node-crash: 1}}\n"
                                     "checks: [job-one-pod-per-index, job-finishes, job-completes]\n")
    result = Explorer(load_scenario(tmp_path / "s.yaml"), progress=False).run()
    assert result.complete
    assert [str(p.verdict) for p in result.properties] == ["holds", "holds", "holds"]


def test_a_job_cannot_be_scaled(tmp_path):
    with pytest.raises(ScenarioError) as err:
        _model(tmp_path, _job(), "operations: [{scale: {workload: work, replicas: 3}}]\n")
    assert "Job/work has no replicas" in str(err.value)


@pytest.mark.parametrize("policy, verdict", [("TerminatingOrFailed", "violated"), ("Failed", "holds")])
def test_isPodFailed_under_partition_two_pods_of_one_index_run_unless_only_failed_are_replaced(tmp_path, policy,
                                                                                              verdict):
    """A pod evicted from a node cut off from the API server keeps running; the
    default policy starts its index's replacement beside it, ``Failed`` waits."""
    spec = f"completions: 1\ncompletionMode: Indexed\npodReplacementPolicy: {policy}"
    (tmp_path / "m.yaml").write_text(_job(spec=spec))
    (tmp_path / "s.yaml").write_text(f"manifests: [m.yaml]\n{NODES}start: applied\n"
                                     "faults: {kinds: {node-partition: 1}}\n"
                                     "checks: [job-one-pod-per-index, job-completes]\n")
    model = load_scenario(tmp_path / "s.yaml")
    result = Explorer(model, progress=False).run()
    assert str(result["job-one-pod-per-index"].verdict) == verdict
    if verdict == "violated":
        (prop,) = [p for p in model.properties() if p.name == "job-one-pod-per-index"]
        why = prop.explain(result["job-one-pod-per-index"].trace.last)
        assert why.startswith("2 pods of Job/work index 0 run at once")


def test_a_job_of_more_completions_than_a_scenario_can_explore_is_an_error_at_the_job(tmp_path):
    with pytest.raises(ScenarioError) as err:
        _model(tmp_path, _job(spec="completions: 100000\ncompletionMode: Indexed"))
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.line == 1 and diagnostic.field == "spec.completions" and "100,000 pods" in diagnostic.message


def test_a_cronjob_whose_runs_need_too_many_pods_is_an_error_at_the_cronjob(tmp_path):
    manifest = _cronjob().replace("    spec:\n      template:", "    spec:\n      completions: 400\n      template:")
    with pytest.raises(ScenarioError) as err:
        _model(tmp_path, manifest)
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.line == 1 and diagnostic.field == "spec.jobTemplate.spec.completions"


def test_mostRecentScheduleTime_a_late_sync_starts_only_the_latest_missed_run(tmp_path):
    """Two activations pass before the controller syncs: upstream starts only the
    most recent one, and the earlier Job is never created."""
    model = _model(tmp_path, _cronjob("Allow"), nodes=ONE_NODE)
    first, second = model.world.cronjobs[0].jobs[:2]
    states = _reachable(model)
    late = [s for s in states if s.replicas[second] is not None and cron_record(model.world, s, 0).last == 600]
    assert any(s.replicas[first] is None and record_of(model.world, s, first).condition is None for s in late)
