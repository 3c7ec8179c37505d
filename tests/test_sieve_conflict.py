"""A DELETE with preconditions, and the pod reaper of ``models/sieve/reaper_operator.py`` that needs one.

Upstream, ``metav1.DeleteOptions.preconditions`` carries the UID and
resourceVersion the client read; ``rest.BeforeDelete`` checks them first
(``staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go``), the storage
checks them again when the generic registry store's ``Delete`` writes
(``registry/generic/registry/store.go``, ``storage.Preconditions.Check``),
and ``storeerr.InterpretDeleteError`` turns a failed check into 409 Conflict.
A DELETE without them names the object only. ``delete_cached_pod`` has both
forms; the state keeps no UIDs or resourceVersions, so the check compares
the record read with the current one.

The reaper deletes pods its cache shows Running but not Ready. By name
(``sieve-stale-delete-buggy``) it kills a pod that recovered after its cache
last heard of it (Sieve's stale-state class); with preconditions
(``sieve-stale-delete-fixed``) the API server refuses that DELETE and the
reaper decides again later. Verdicts and state counts are pinned in the
scenario files and re-checked, with and without symmetry, by
``tests/test_scenarios.py``.
"""

from __future__ import annotations

import importlib.util

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.checker.model import Verdict
from kspec.simulation.controllers.protocol import Conflict, NotFound, cache_of, delete_cached_pod
from kspec.simulation.informer import api_record
from kspec.simulation.scenario import ScenarioError, load_scenario
from kspec.simulation.state import FAILED, NOT_RUNNING, PENDING, RUNNING, State
from support.scenarios import MODELS, explored
from support.stepping import enabled, follow, kinds, operator

BUGGY, FIXED = "sieve-stale-delete-buggy", "sieve-stale-delete-fixed"
PROP = "no-ready-pod-reaped"
CAUGHT = ["PodHang", "KubeletSyncStatus", "PodRecover", "KubeletSyncStatus", "ReaperDelete"]


def start_state():
    """The scenario's initial state: ``web-0`` Running and Ready on node-0."""
    model, _ = explored(FIXED)
    start, = model.init_states()
    return start


def with_pods(state: State, pods) -> State:
    return attrs.evolve(state, pods=tuple(pods))


def with_pod(state: State, **changes) -> State:
    """``state`` with its one pod changed (as another writer would have)."""
    pod, = state.pods
    return with_pods(state, (pod._replace(**changes),))


# ---------------------------------------------------------------- the precondition, as the API server checks it

def test_an_unchanged_pod_is_deleted_with_or_without_preconditions():
    state = start_state()
    seen, = state.pods
    assert delete_cached_pod(state, seen, preconditions=True) == delete_cached_pod(state, seen)
    assert delete_cached_pod(state, seen).pods[0].deleting


def test_a_pod_changed_since_it_was_read_is_a_conflict_only_with_preconditions():
    """``rest.BeforeDelete``: a resourceVersion in the precondition that is not
    the object's is a Conflict; without one the DELETE goes through."""
    state = start_state()
    seen = state.pods[0]._replace(ready=False)  # the cache still says not Ready
    with pytest.raises(Conflict, match="'web-0' was modified since it was read"):
        delete_cached_pod(state, seen, preconditions=True)
    assert delete_cached_pod(state, seen).pods[0].deleting


def test_a_same_name_replacement_is_a_conflict_only_with_preconditions():
    """A pod deleted and created again under its name has a new UID: the
    precondition read from the old one fails ("The object might have been
    deleted and then recreated"); a DELETE by name kills the replacement."""
    state = start_state()
    old = state.pods[0]._replace(ready=False)
    replaced = with_pod(state, node=-1, phase=PENDING, ready=False, run=NOT_RUNNING)
    with pytest.raises(Conflict):
        delete_cached_pod(replaced, old, preconditions=True)
    assert delete_cached_pod(replaced, old).pods == ()  # unbound: it goes at once


@pytest.mark.parametrize("preconditions", [False, True])
def test_a_gone_pod_is_not_found(preconditions):
    """``InterpretDeleteError``: NotFound comes before any precondition."""
    state = start_state()
    gone = with_pods(state, ())
    with pytest.raises(NotFound):
        delete_cached_pod(gone, state.pods[0], preconditions=preconditions)


def test_a_terminating_pod_read_as_terminating_is_left_as_it_is():
    """``pendingGraceful``: a DELETE of a pod already being deleted whose
    preconditions hold succeeds and changes nothing."""
    state = delete_cached_pod(start_state(), start_state().pods[0])
    seen, = state.pods
    assert delete_cached_pod(state, seen, preconditions=True) == state


def test_a_terminating_pod_read_before_its_deletion_is_a_conflict():
    """The preconditions are checked before the pending deletion is noticed
    (``BeforeDelete`` checks them first): the deletionTimestamp changed the
    resourceVersion."""
    start = start_state()
    state = delete_cached_pod(start, start.pods[0])
    with pytest.raises(Conflict):
        delete_cached_pod(state, start.pods[0], preconditions=True)
    assert delete_cached_pod(state, start.pods[0]) == state


def test_without_a_reader_a_pod_changed_and_changed_back_passes_the_precondition():
    """Upstream every write bumps the resourceVersion, so a pod that went not
    Ready and Ready again fails the precondition. Without the cache it was
    read from (``reader``) only the records can be compared: they are equal,
    and the DELETE goes through (tests/test_resource_version.py has the
    exact check)."""
    state = start_state()
    seen = state.pods[0]
    there_and_back = with_pod(with_pod(state, ready=False), ready=True)
    assert delete_cached_pod(there_and_back, seen, preconditions=True).pods[0].deleting


PODS = st.builds(lambda phase, ready, deleting, node: (phase, ready and phase == RUNNING, deleting, node),
                 st.sampled_from([PENDING, RUNNING, FAILED]), st.booleans(), st.booleans(), st.sampled_from([-1, 0]))


@given(read=PODS, now=PODS)
def test_preconditions_refuse_exactly_the_deletes_of_a_changed_pod(read, now):
    """For any pod read and pod now under that name: with preconditions the
    DELETE is a Conflict iff their API records differ, and otherwise does what
    the DELETE by name does."""
    state = start_state()
    fields = ("phase", "ready", "deleting", "node")
    current = with_pod(state, **dict(zip(fields, now)))
    seen = state.pods[0]._replace(**dict(zip(fields, read)))
    by_name = delete_cached_pod(current, seen)
    if api_record(seen) != api_record(current.pods[0]):
        with pytest.raises(Conflict):
            delete_cached_pod(current, seen, preconditions=True)
    else:
        assert delete_cached_pod(current, seen, preconditions=True) == by_name


# ---------------------------------------------------------------- the reaper, buggy and fixed





@pytest.mark.parametrize("symmetry", [True, False])
def test_the_buggy_reaper_kills_a_ready_pod_in_five_steps(symmetry):
    _, result = explored(BUGGY, symmetry)
    res = result[PROP]
    assert res.verdict is Verdict.VIOLATED
    assert kinds(res.trace) == CAUGHT


def test_the_buggy_reaper_decides_on_a_cache_one_event_behind():
    """At the DELETE the API shows web-0 Ready; the reaper's cache, one event
    behind, still shows it not Ready: a decision on a state older than the
    one it acts on."""
    model, result = explored(BUGGY)
    trace = result[PROP].trace
    before = trace.states[-2]
    pod, = before.pods
    cached, = cache_of(model.world, before, operator(model))
    assert pod.ready and not cached.ready
    assert before.informers[0].lag == 1
    victim, = trace.last.pods
    assert victim.deleting and victim.ready


def test_the_buggy_trace_replays_as_kspec_explore_emit_test_writes_it(run_cli, tmp_path):
    """``kspec explore --emit-test`` writes a pytest file; it runs here and passes."""
    path = tmp_path / "test_stale_delete.py"
    out = run_cli("explore", MODELS / f"{BUGGY}.yaml", "--emit-test", path)
    assert out.exit_code == 1, out.output
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, n) for n in dir(module) if n.startswith("test_")]
    assert [t.__name__ for t in tests] == ["test_no_ready_pod_reaped"]
    tests[0]()


@pytest.mark.parametrize("symmetry", [True, False])
def test_the_fixed_reaper_holds_and_still_reaps(symmetry):
    """Every check holds, and not vacuously: the fixed reaper does delete a
    hung pod (``unready-pod-reaped`` is reached, by a DELETE with preconditions)."""
    _, result = explored(FIXED, symmetry)
    assert result.complete
    assert [r.name for r in result.properties if r.verdict is not Verdict.HOLDS] == []
    example = result["unready-pod-reaped"].trace
    assert kinds(example)[-1] == "ReaperDelete" and example.actions[-1].preconditions


def test_the_fixed_reaper_gets_a_conflict_where_the_buggy_one_deletes():
    """The buggy trace up to its DELETE replays in the fixed model; there the
    cache says not Ready, the API says Ready, the DELETE with preconditions
    is a Conflict, and the reaper takes no step."""
    buggy, result = explored(BUGGY)
    prefix = [repr(a) for a in result[PROP].trace.actions[:-1]]
    model, _ = explored(FIXED)
    last = follow(model, prefix)[-1]
    cached, = cache_of(model.world, last, operator(model))
    with pytest.raises(Conflict):
        delete_cached_pod(last, cached, preconditions=True)
    assert not [a for a in enabled(model, last) if a.startswith("ReaperDelete")]
    assert [a for a in enabled(buggy, follow(buggy, prefix)[-1]) if a.startswith("ReaperDelete")]


def test_after_the_conflict_the_fixed_reaper_decides_again_on_a_fresh_cache():
    """The requeue: once the cache hears the pod is Ready, it has nothing to delete."""
    _, result = explored(BUGGY)
    prefix = [repr(a) for a in result[PROP].trace.actions[:-1]]
    model, _ = explored(FIXED)
    last = follow(model, prefix)[-1]
    delivered = [nxt for action, nxt in enabled(model, last).items() if action.startswith("InformerDeliver")]
    assert delivered
    for state in delivered:
        assert all(p.ready for p in cache_of(model.world, state, operator(model)))
        assert not [a for a, _ in model.controller_steps(state) if type(a).__name__ == "ReaperDelete"]


@pytest.mark.parametrize("name", [BUGGY, FIXED])
def test_a_healthy_pod_is_left_alone(name):
    """Reconciling a converged state changes nothing: with web-0 Ready and the
    cache level, neither version of the reaper has a step."""
    model, _ = explored(name)
    start, = model.init_states()
    assert not [a for a, _ in model.controller_steps(start)]


def test_an_unknown_version_is_a_scenario_error_at_its_line(tmp_path):
    text = (MODELS / f"{FIXED}.yaml").read_text().replace("version: fixed", "version: nope")
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text.replace("sieve/", f"{MODELS / 'sieve'}/"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario, allow_outside=True)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "- module:" in row)
    message = str(err.value)
    assert f"bad.yaml:{line}: error:" in message and "version must be one of buggy, fixed, got 'nope'" in message
