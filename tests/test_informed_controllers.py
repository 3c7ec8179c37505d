"""Built-in controllers beyond the replication manager reading through their
informer caches: the job controller (expectations, finalizer expectations,
slow-start batches), the StatefulSet controller (writes by name, no
expectations) and the endpoints controller (the stale-endpoint class).

Each is checked against upstream's code (the function named in each test),
for symmetry reduction keeping every verdict, for restarts losing memory, and
for the scenario warnings when a named controller has nothing to read.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kspec.checker.explore import Explorer
from kspec.simulation.controllers.job import JobBatch, JobExpectations, JobSync
from kspec.simulation.controllers.statefulset import StatefulSetSync
from kspec.simulation.faults import apply_fault
from kspec.simulation.informer import Event
from kspec.simulation.scenario import load_scenario
from support.scenarios import MODELS, explored
from support.stepping import reachable_steps

JOB = f"[{MODELS / 'batch' / 'work-job.yaml'}]"
DB = f"[{MODELS / 'statefulset-stale' / 'db.yaml'}]"
BACKEND = (f"[{MODELS / 'myapp' / 'backend-rc.yaml'}, {MODELS / 'myapp' / 'services.yaml'}, "
           f"{MODELS / 'myapp' / 'nodes.yaml'}]")


def scenario(tmp_path, manifests: str, body: str, *, job_file: str | None = None):
    if job_file is not None:
        (tmp_path / "job.yaml").write_text(job_file)
        manifests = "[job.yaml]"
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nmanifests: {manifests}\nnodes: ['1:cpu=2,memory=4Gi']\n"
                    f"scheduler: least-allocated\n{body}")
    return load_scenario(path, allow_outside=True)


def job_scenario(tmp_path, body: str, **kw):
    return scenario(tmp_path, JOB, "start: applied\n" + body, **kw)


def verdicts(model, symmetry=True):
    result = Explorer(model, symmetry=symmetry, progress=False).run()
    assert result.complete
    return {p.name: str(p.verdict) for p in result.properties}, result


def job_memory(model, state):
    return state.memory[model.world.memory_slots["job"]][0]


def with_job_memory(model, state, exp):
    slot = model.world.memory_slots["job"]
    return attrs.evolve(state, memory=state.memory[:slot] + ((exp,),) + state.memory[slot + 1:])


# --------------------------------------------------------------------------- the job controller


def test_a_fresh_job_controller_keeps_no_memory(tmp_path):
    """Under consistency: fresh, and when consistency: does not name it, the job
    controller reads the API and keeps nothing (every pinned count unchanged)."""
    assert "job" not in job_scenario(tmp_path, "checks: [job-finishes]\n").world.memory_slots
    named_other = job_scenario(tmp_path, "consistency: {staleness: 1, controllers: []}\nchecks: [job-finishes]\n")
    assert "job" not in named_other.world.memory_slots and not named_other.world.informed


def test_job_expectations_are_lowered_by_the_handlers_as_upstream(tmp_path):
    """job_controller.go: addPod -> CreationObserved; updatePod with a
    deletionTimestamp and deletePod -> DeletionObserved (counts, each time);
    a pod without the tracking finalizer, or gone -> finalizerRemovalObserved."""
    model = job_scenario(tmp_path, "consistency: {staleness: 1, controllers: [job]}\nchecks: [job-finishes]\n")
    job = next(c for c in model.world.controllers if c.actor == "job")
    start = model.init_states()[0]
    pod = start.pods[0] if start.pods else None
    if pod is None:  # the Job has not started: make one of its pods
        action, start = next((a, s) for a, s in model._step_map(start).items() if isinstance(a, JobSync))
        pod = start.pods[0]
    state = with_job_memory(model, start, JobExpectations(add=2, delete=1, finalizers=(pod.name,)))
    added = job.observe(model.world, state, Event(pod.name, None, pod))
    assert job_memory(model, added) == JobExpectations(add=1, delete=1, finalizers=(pod.name,))
    terminating = pod._replace(deleting=True)
    once = job.observe(model.world, added, Event(pod.name, pod, terminating))
    assert job_memory(model, once) == JobExpectations(add=1, delete=0, finalizers=(pod.name,))
    twice = job.observe(model.world, once, Event(pod.name, terminating, terminating._replace(ready=False)))
    assert job_memory(model, twice).delete == -1  # each update of a terminating pod is observed again
    counted = pod._replace(group=model.world.counted_twin[pod.group])
    released = job.observe(model.world, added, Event(pod.name, pod, counted))
    assert job_memory(model, released) == JobExpectations(add=1, delete=1)
    gone = job.observe(model.world, with_job_memory(model, start, JobExpectations(delete=1, finalizers=(pod.name,))),
                       Event(pod.name, pod, None))
    assert job_memory(model, gone) is None  # met, nothing left to remember


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["add", "terminate", "count", "delete"]), st.integers(0, 2)),
                      max_size=8),
       add=st.integers(0, 3), delete=st.integers(0, 3))
def test_job_handlers_only_ever_lower_expectations(tmp_path_factory, steps, add, delete):
    """Whatever the events, the handlers never raise an expectation (only
    manageJob does), and a finalizer expectation goes only with an event that
    shows the finalizer gone or the pod deleted."""
    model, start = _handler_model(tmp_path_factory)
    job = next(c for c in model.world.controllers if c.actor == "job")
    pod = start.pods[0]
    names = [f"{pod.name[:-1]}{i}" for i in range(3)]
    exp = JobExpectations(add=add, delete=delete, finalizers=tuple(names))
    state = with_job_memory(model, start, exp)
    twin = model.world.counted_twin[pod.group]
    for verb, i in steps:
        p = pod._replace(name=names[i])
        event = {"add": Event(p.name, None, p), "terminate": Event(p.name, p, p._replace(deleting=True)),
                 "count": Event(p.name, p, p._replace(group=twin)), "delete": Event(p.name, p, None)}[verb]
        state = job.observe(model.world, state, event)
        new = job_memory(model, state)
        if exp is None or new is None:  # met: nothing is remembered, and no event brings it back
            assert new is None and (exp is None or (exp.add <= 1 and exp.delete <= 1 and len(exp.finalizers) <= 1))
        else:
            assert new.add <= exp.add and new.delete <= exp.delete and set(new.finalizers) <= set(exp.finalizers)
            assert (p.name in exp.finalizers and p.name not in new.finalizers) <= (verb in ("count", "delete"))
        exp = new


_HANDLER_MODEL = []


def _handler_model(tmp_path_factory):
    """A Job scenario read through a cache, and a state with one of its pods (built once)."""
    if not _HANDLER_MODEL:
        model = job_scenario(tmp_path_factory.mktemp("job"), "consistency: {staleness: 1, controllers: [job]}\n"
                                                             "checks: [job-finishes]\n")
        start = model.init_states()[0]
        made = next(s for a, s in model._step_map(start).items() if isinstance(a, JobSync))
        _HANDLER_MODEL.append((model, made))
    return _HANDLER_MODEL[0]


def test_job_creations_go_in_slow_start_batches_of_1_2_4(tmp_path):
    """manageJob: batch sizes start at SlowStartInitialBatchSize (1) and double."""
    text = (MODELS / "batch" / "work-job.yaml").read_text()
    text = text.replace("completions: 4", "completions: 7").replace("parallelism: 2", "parallelism: 7")
    model = scenario(tmp_path, "", "start: applied\nconsistency: {staleness: 0, controllers: [job]}\n"
                                   "checks: [job-finishes]\n", job_file=text)
    state = model.init_states()[0]
    sizes = []
    for _ in range(3):
        action, state = next((a, s) for a, s in model._step_map(state).items() if a.actor == "job")
        assert isinstance(action, (JobSync, JobBatch))
        sizes.append(len(action.create))
    assert sizes == [1, 2, 4]
    assert job_memory(model, state) is None  # every creation seen by a level cache: met


def test_a_job_never_counts_a_pod_whose_end_it_already_counted():
    """syncJob skips pods whose finalizer removal it expects
    (``expectedRmFinalizers``): a sync never counts a pod the API already
    holds without its tracking finalizer, however far behind the cache is."""
    model, _ = explored("job-stale-cache-surplus")
    groups = model.world.groups
    recounted = [(str(action), name) for state, action, _ in reachable_steps(model) if isinstance(action, JobSync)
                 for name in action.counted
                 if state.pod(name) is not None and not groups[state.pod(name).group].finalizer]
    assert recounted == []


def test_the_job_surplus_needs_an_expiry_while_a_creation_is_unseen():
    model, result = explored("job-stale-cache-surplus")
    kinds = [type(a).__name__ for a in result["job-pods-within-parallelism"].trace.actions]
    assert kinds == ["JobSync", "JobBatch", "ExpectationsExpire", "JobSync"]
    _, holds = explored("job-stale-cache-expectations-hold")
    assert str(holds["job-pods-within-parallelism"].verdict) == "holds"


def test_a_restart_takes_the_job_controllers_expectations(tmp_path):
    model = job_scenario(tmp_path, "consistency: {staleness: 1, controllers: [job]}\n"
                                   "faults: {kinds: [controller-restart]}\nchecks: [job-finishes]\n")
    state = with_job_memory(model, model.init_states()[0], JobExpectations(add=1, finalizers=("x",)))
    restarts = [nxt for action, nxt in apply_fault(model.world, state, "controller-restart")
                if action.controller == "job"]
    assert restarts and all(job_memory(model, nxt) is None for nxt in restarts)


RESTART = (1, "{pod-fail: 1, controller-restart: 1}")
MIXES = [(1, "{pod-fail: 1, expectations-expire: 1}"), (2, "{pod-fail: 1, watch-drop: 1}")]


@pytest.mark.parametrize("staleness, kinds", MIXES + [pytest.param(*RESTART, marks=pytest.mark.slow)])  # 2.5 s
def test_symmetry_keeps_every_job_verdict_with_a_cache(tmp_path, staleness, kinds):
    """The finalizer expectations hold pod names: renamed with the pods (and
    part of their signature), so the representative keeps every verdict (a
    Job of two completions here; of four in the slow variant)."""
    small = (MODELS / "batch" / "work-job.yaml").read_text().replace("completions: 4", "completions: 2")
    _same_verdicts_with_and_without_symmetry(tmp_path, staleness, kinds, small)


@pytest.mark.slow  # 4 to 25 s each
@pytest.mark.parametrize("staleness, kinds", MIXES + [RESTART])
def test_symmetry_keeps_every_job_verdict_with_a_cache_slow(tmp_path, staleness, kinds):
    job_file = (MODELS / "batch" / "work-job.yaml").read_text()
    _same_verdicts_with_and_without_symmetry(tmp_path, staleness, kinds, job_file)


def _same_verdicts_with_and_without_symmetry(tmp_path, staleness, kinds, job_file):
    body = (f"consistency: {{staleness: {staleness}, controllers: [job]}}\nfaults: {{kinds: {kinds}, budget: 2}}\n"
            "checks: [job-pods-within-parallelism, job-finishes, job-completes]\n")
    reduced, with_symmetry = verdicts(job_scenario(tmp_path, body, job_file=job_file))
    plain, without = verdicts(job_scenario(tmp_path, body, job_file=job_file), symmetry=False)
    assert reduced == plain
    assert with_symmetry.stats.distinct_states <= without.stats.distinct_states


def test_a_restart_between_job_syncs_loses_the_expectations_and_overshoots(tmp_path):
    """As for the replication manager: a restarted job controller starts with
    no expectations, so a creation its cache has not seen is made again."""
    small = (MODELS / "batch" / "work-job.yaml").read_text().replace("completions: 4", "completions: 2")
    body = ("consistency: {staleness: 1, controllers: [job]}\nfaults: {kinds: {controller-restart: 1}}\n"
            "checks: [job-pods-within-parallelism]\n")
    found, result = verdicts(job_scenario(tmp_path, body, job_file=small))
    assert found == {"job-pods-within-parallelism": "violated"}
    assert "ControllerRestart" in [type(a).__name__ for a in result["job-pods-within-parallelism"].trace.actions]


# --------------------------------------------------------------------------- the StatefulSet controller


def test_a_fresh_statefulset_controller_never_deletes_its_replacement(tmp_path):
    """Reading the API, the controller deletes only the failed db-0 (at once)."""
    body = ("faults: {kinds: {pod-fail: 1}}\nchecks:\n  - expression:\n      name: replacement-never-deleted\n"
            "      kind: always\n      cel: pods.all(p, !(p.workload == \"db\" && p.terminating))\n")
    assert verdicts(scenario(tmp_path, DB, body))[0]["replacement-never-deleted"] == "holds"


def test_a_stale_statefulset_sync_deletes_by_name_and_stops_at_already_exists():
    """realStatefulPodControlObjectManager.DeletePod names the pod (no UID
    precondition); CreateStatefulPod of a name that exists fails and ends the sync."""
    _, result = explored("statefulset-stale-cache-deletes-replacement")
    last = result["replacement-never-deleted"].trace.actions[-1]
    assert isinstance(last, StatefulSetSync)
    assert last.delete == ("db-0",) and last.create == () and last.error == "create db-0: AlreadyExists"


# --------------------------------------------------------------------------- the endpoints controller


def _api_view(model, state):
    """What the API and the machines hold, up to a renaming of pods (names a
    cache still holds keep a new pod from taking them, so names may differ)."""
    bare = attrs.evolve(state, log=(), informers=(), memory=(), faults=())
    canonical = model.representative(bare)
    return canonical.pods, canonical.endpoints, canonical.replicas, canonical.nodes


def _stale_writes(steps):
    """Endpoints syncs whose result lists a pod the API has terminating or gone."""
    return [action for _, action, nxt in steps if action.actor == "endpoints"
            and any(nxt.pod(name) is None or nxt.pod(name).deleting for addresses in nxt.endpoints
                    for name in addresses)]


def test_a_lagging_endpoints_cache_reaches_no_state_a_slow_fresh_controller_cannot(tmp_path):
    """syncService on a pod lister that only lags: some sync writes a list that
    keeps a pod the API already has terminating, yet every state is one a
    controller reading the API but slow to sync reaches too (nothing the
    endpoints controller writes feeds back into what it reads)."""
    stale = load_scenario(MODELS / "endpoints-stale-cache-lists-deleted-pod.yaml")
    stale_steps = list(reachable_steps(stale))
    assert _stale_writes(stale_steps)
    text = (MODELS / "endpoints-stale-cache-lists-deleted-pod.yaml").read_text()
    text = text.replace("consistency:\n  staleness: 1\n  controllers: [endpoints]\n", "")
    text = text.split("expect:")[0].replace("\n  - myapp/", f"\n  - {MODELS}/myapp/")
    (tmp_path / "fresh.yaml").write_text(text)
    fresh = load_scenario(tmp_path / "fresh.yaml", allow_outside=True)
    assert not fresh.world.informed and len(fresh.world.nodes) == len(stale.world.nodes)
    fresh_steps = list(reachable_steps(fresh))
    fresh_states = {_api_view(fresh, nxt) for _, _, nxt in fresh_steps}
    fresh_states |= {_api_view(fresh, s) for s in fresh.init_states()}
    assert all(_api_view(fresh, nxt) in fresh_states for _, _, nxt in stale_steps)
    assert not _stale_writes(fresh_steps)
    assert verdicts(stale)[0] == verdicts(fresh)[0]


def test_a_restarted_endpoints_controller_listing_from_the_past_empties_the_endpoints():
    """kubernetes#59848's time travel: the relist predates both pods' readiness."""
    _, result = explored("endpoints-stale-cache-time-travel")
    trace = result["service-always-has-endpoint"].trace
    restart, sync = trace.actions
    assert restart.controller == "endpoints" and restart.relisted_behind == 2
    assert sorted(sync.removed) == ["backend-0", "backend-1"] and sync.added == ()
    assert all(p.ready for p in trace.last.pods)  # both pods healthy all along


# --------------------------------------------------------------------------- footprints and warnings


@pytest.mark.parametrize("name", ["job-stale-cache-surplus", "statefulset-stale-cache-deletes-replacement",
                                  "endpoints-stale-cache-lists-deleted-pod"])
def test_partial_order_reduction_stays_off_with_caches(name):
    assert "informer" in load_scenario(MODELS / f"{name}.yaml").undeclared_steps()


@pytest.mark.parametrize("manifests, named, text", [
    (BACKEND, "job", "job has nothing to manage here (no Job)"),
    (BACKEND, "statefulset", "statefulset has nothing to manage here (no StatefulSet)"),
    (DB, "endpoints", "endpoints has nothing to manage here (no Service with a selector)"),
    (DB, "replication", "replication has nothing to manage here"),
    (DB, "my-operator", "my-operator names no controller of this scenario"),
])
def test_a_cache_no_controller_reads_is_a_warning_at_its_line(tmp_path, manifests, named, text):
    model = scenario(tmp_path, manifests, f"consistency:\n  staleness: 1\n  controllers: [{named}]\n"
                                          "checks: [rc-replicas-converge]\n")
    warnings = [w for w in model.warnings if w.code == "cache-never-read"]
    assert [(text in w.message, w.line, w.severity) for w in warnings] == [(True, 7, "warning")]


def test_a_disabled_controller_named_in_consistency_is_a_warning(tmp_path):
    model = scenario(tmp_path, DB, "disable: [statefulset]\nconsistency: {staleness: 1, controllers: [statefulset]}\n"
                                   "checks: [rc-replicas-converge]\n")
    assert ["statefulset is disabled" in w.message for w in model.warnings if w.code == "cache-never-read"] == [True]
