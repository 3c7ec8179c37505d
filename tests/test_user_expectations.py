"""``Expectations`` for users' controllers, as upstream's
``ControllerExpectations`` behave (``pkg/controller/controller_utils.go``)
and as the replica set controller's handlers lower them
(``pkg/controller/replicaset/replica_set.go``: ``addPod``, ``updatePod``,
``deletePod``); and the bundled operator that needs them."""

from __future__ import annotations

from hypothesis import given, strategies as st

from kspec.checker.explore import Explorer
from kspec.simulation.controllers.protocol import Expectations
from kspec.simulation.informer import Event
from kspec.simulation.scenario import load_scenario
from kspec.simulation.state import PodRec
from support.scenarios import MODELS

MINE = 0


def _pod(name: str, group: int = MINE, deleting: bool = False) -> PodRec:
    return PodRec(name, group, deleting=deleting)


def _owns(pod: PodRec) -> bool:
    return pod.group == MINE


def test_satisfied_expectations_are_met_when_nothing_is_pending():
    """``SatisfiedExpectations``: true with nothing expected, false while an add or a delete is."""
    assert Expectations().satisfied
    assert not Expectations().expect(adds=1).satisfied
    assert not Expectations().expect(deletes=["w-0"]).satisfied


def test_add_pod_lowers_creations_once_per_owned_pod():
    """``addPod`` -> ``CreationObserved``: one ADD of a pod the controller owns lowers adds by one."""
    exp = Expectations().expect(adds=2)
    exp = exp.observed(Event("w-0", None, _pod("w-0")), _owns)
    assert exp.adds == 1
    assert exp.observed(Event("x-0", None, _pod("x-0", group=1)), _owns).adds == 1  # not its pod
    assert exp.observed(Event("w-1", None, _pod("w-1")), _owns).satisfied


def test_update_to_terminating_is_a_deletion_seen():
    """``updatePod`` hands a pod with a deletionTimestamp to ``deletePod`` -> ``DeletionObserved``."""
    exp = Expectations().expect(deletes=["w-0"])
    assert exp.observed(Event("w-0", _pod("w-0"), _pod("w-0", deleting=True)), _owns).satisfied
    assert exp.observed(Event("w-0", _pod("w-0"), None), _owns).satisfied
    assert not exp.observed(Event("w-1", _pod("w-1"), None), _owns).satisfied  # another pod


def test_renamed_follows_the_pod_renaming_of_symmetry_reduction():
    exp = Expectations().expect(deletes=["w-3", "w-1"])
    assert exp.renamed({"w-3": "w-0", "w-1": "w-1"}).deletes == ("w-0", "w-1")
    assert list(exp.marks()) == [("w-1", "deletion expected"), ("w-3", "deletion expected")]


_events = st.builds(
    lambda name, kind, deleting: Event(name, None if kind == "add" else _pod(name),
                                       None if kind == "delete" else _pod(name, deleting=deleting)),
    st.sampled_from(["w-0", "w-1", "w-2"]), st.sampled_from(["add", "update", "delete"]), st.booleans())


@given(st.integers(0, 3), st.sets(st.sampled_from(["w-0", "w-1", "w-2"])), st.lists(_events, max_size=8))
def test_handlers_only_ever_lower_expectations(adds, deletes, events):
    """Observed events never raise what is expected (only ``expect`` does), and never below zero."""
    exp = Expectations().expect(adds=adds, deletes=deletes)
    for event in events:
        lowered = exp.observed(event, _owns)
        assert 0 <= lowered.adds <= exp.adds
        assert set(lowered.deletes) <= set(exp.deletes)
        exp = lowered


def _verdicts(name: str, symmetry: bool) -> dict:
    model = load_scenario(MODELS / f"{name}.yaml")
    result = Explorer(model, symmetry=symmetry, progress=False).run()
    return {r.name: str(r.verdict) for r in result.properties}, result


def test_a_user_operator_without_expectations_creates_twice_from_a_stale_cache():
    verdicts, result = _verdicts("sieve-stale-replicas-buggy", True)
    assert verdicts == {"one-worker": "violated", "never-two-workers": "violated"}
    trace = result["never-two-workers"].trace
    assert [str(step.action) for step in trace.steps[1:]] == ["WorkerCreate(created='worker-0')",
                                                              "WorkerCreate(created='worker-1')"]


def test_the_same_operator_with_expectations_holds_and_replaces_a_deleted_pod():
    verdicts, result = _verdicts("sieve-stale-replicas-fixed", True)
    assert verdicts == {"one-worker": "holds", "never-two-workers": "holds"}
    assert not any(r.vacuous for r in result.properties)
    assert _verdicts("sieve-stale-replicas-fixed", False)[0] == verdicts
