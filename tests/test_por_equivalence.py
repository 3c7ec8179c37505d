"""Partial-order reduction, proven by comparison: every bundled scenario and
hundreds of random small ones explored with and without the reduction (and
with and without symmetry reduction) give the same verdict on every check,
and every trace found under the reduction replays step by step on the model
(the unreduced one: the same model, stepped through ``actions`` and
``next_state``), as an emitted regression test replays it
(:mod:`kspec.checker.replay`)."""

from __future__ import annotations

import pathlib
import runpy
import tempfile

import pytest
from hypothesis import HealthCheck, assume, event, given, settings

from kspec.checker.explore import Explorer
from kspec.checker.model import Kind, Verdict
from kspec.checker.replay import emit_test
from kspec.errors import KspecError
from kspec.simulation.scenario import load_scenario
from support.profiles import examples
from support.random_scenarios import scenarios
from support.scenarios import MODELS

FAST = ("custom-singleton-buggy", "custom-singleton-fixed", "daemonset-node-crash", "drain-blocked-by-pdb",
        "drain-with-pdb", "overlapping-rcs", "pinned-tainted-node", "scale-down-not-ready", "unresponsive-pod-returns")
SLOW = ("myapp-antiaffinity-node-crash", "myapp-node-crash", "myapp-two-faults", "rolling-update",
        "rolling-update-node-crash", "statefulset-force-delete", "statefulset-partition")


def _explore(model, properties, *, por: bool, symmetry: bool, max_states: int | None = None):
    symmetry = symmetry and hasattr(model, "representative")
    return Explorer(model, properties=properties, symmetry=symmetry, por=por, max_states=max_states,
                    progress=False).run()


def _verdicts(result) -> dict[str, Verdict]:
    return {r.name: r.verdict for r in result.properties}


def _replays(model, trace) -> None:
    """Each step of ``trace`` is a step of the model: the first state is an
    initial state, and each action, enabled there, leads to the next state."""
    states = [step.state for step in trace.steps]
    assert states[0] in model.init_states()
    for before, step in zip(states, trace.steps[1:]):
        assert step.action in list(model.actions(before)), f"{step.action} is not enabled"
        assert model.next_state(before, step.action) == step.state


def _traces_replay(model, result, folder: pathlib.Path, scenario: pathlib.Path) -> None:
    """Every trace of ``result`` replays on ``model``; the violated ones also
    through the regression test ``kspec explore --emit-test`` would write."""
    props = {p.name: p for p in model.properties()}
    violated = False
    for res in result.properties:
        if res.trace is None:
            continue
        _replays(model, res.trace)
        prop = props[res.name]
        if prop.kind is Kind.ALWAYS:
            assert not prop.condition(res.trace.steps[-1].state)
            violated = True
        elif prop.kind is Kind.SOMETIMES:
            assert prop.condition(res.trace.steps[-1].state)
    if violated:
        test = folder / "test_replay.py"
        test.write_text(emit_test(scenario, {}, result, test))
        for name, function in runpy.run_path(str(test)).items():
            if name.startswith("test_"):
                function()


def _safety(model) -> list[str]:
    return [p.name for p in model.properties() if not p.kind.is_liveness]


def _compare_bundled(name: str) -> None:
    model = load_scenario(MODELS / f"{name}.yaml")
    everything = [p.name for p in model.properties()]
    for properties in (everything, _safety(model)):
        if not properties:
            continue
        full = _explore(model, properties, por=False, symmetry=True)
        reduced = _explore(model, properties, por=True, symmetry=True)
        assert full.complete and reduced.complete
        assert _verdicts(reduced) == _verdicts(full)
        assert reduced.stats.distinct_states <= full.stats.distinct_states
        with tempfile.TemporaryDirectory() as tmp:
            _traces_replay(model, reduced, pathlib.Path(tmp), MODELS / f"{name}.yaml")


@pytest.mark.parametrize("name", FAST)
def test_bundled_scenario_same_verdicts_with_and_without_reduction(name):
    _compare_bundled(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_bundled_scenario_same_verdicts_with_and_without_reduction_slow(name):
    _compare_bundled(name)


# Every other bundled scenario: compared when the reduction applies to it, else it must say why not.
OTHERS_SLOW = ["daemonset-rollout-unavailable"]  # 2.5 s compared
OTHERS = sorted(set(p.stem for p in MODELS.glob("*.yaml")) - set(FAST) - set(SLOW) - set(OTHERS_SLOW)
                - {"hpa-rollout-ratchet", "job-indexed-node-crash"})  # 18 s and 15 s: off, see the next test


@pytest.mark.parametrize("name", OTHERS)
def test_other_bundled_scenarios_are_compared_or_say_why_not_reduced(name):
    _compare_or_say_why(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", OTHERS_SLOW)
def test_other_bundled_scenarios_are_compared_or_say_why_not_reduced_slow(name):
    _compare_or_say_why(name)


def _compare_or_say_why(name: str) -> None:
    model = load_scenario(MODELS / f"{name}.yaml")
    if model.undeclared_steps():
        return  # reduction off for the whole scenario, with that reason in the output
    _compare_bundled(name)


@pytest.mark.parametrize("name", ["hpa-rollout-ratchet", "job-indexed-node-crash"])
def test_the_slowest_scenarios_are_not_reduced(name):
    assert load_scenario(MODELS / f"{name}.yaml").undeclared_steps()


@pytest.mark.slow
def test_reduction_applies_to_safety_checks_and_says_so():
    """The reduction expands some states by an ample set when only safety
    checks are asked, and is off (with the reason) with --no-por."""
    model = load_scenario(MODELS / "myapp-antiaffinity-node-crash.yaml")
    on = _explore(model, ["service-always-has-endpoint"], por=True, symmetry=True)
    assert on.stats.reduction and on.stats.reduced_expansions > 0
    assert on.to_json()["stats"]["reduction"]["partial_order"] is True
    off = _explore(model, ["service-always-has-endpoint"], por=False, symmetry=True)
    assert not off.stats.reduction and "--no-por" in off.stats.reduction_text()


NAMED_LIVENESS = """\
name: myapp-live
manifests: [{myapp}]
scheduler: least-allocated
faults: {{budget: 2, kinds: [node-crash, node-restart, container-crash]}}
checks:
  - rc-replicas-converge: {{workload: frontend}}
  - service-always-has-endpoint: {{service: frontend}}
"""


@pytest.mark.slow
def test_reduction_applies_to_a_liveness_check_about_one_workload():
    """myapp under two faults with a convergence check on the frontend RC:
    thousands of states are expanded by an ample set, the reduced graph has
    no cycle (no second run) and every verdict is the full search's."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "myapp-live.yaml"
        path.write_text(NAMED_LIVENESS.format(myapp=MODELS / "myapp"))
        model = load_scenario(path, allow_outside=True)
        properties = [p.name for p in model.properties()]
        full = _explore(model, properties, por=False, symmetry=True)
        reduced = _explore(model, properties, por=True, symmetry=True)
    assert reduced.stats.reduction and reduced.stats.reduced_expansions > 1000
    assert "explored again in full" not in reduced.stats.reduction_text()
    assert _verdicts(reduced) == _verdicts(full) == {"rc-replicas-converge": Verdict.HOLDS,
                                                     "service-always-has-endpoint": Verdict.VIOLATED}


LIMIT = 3000  # states: random scenarios larger than this are not compared (assume)


def _compare_random(drawn) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        path = drawn.write(folder)
        try:
            model = load_scenario(path)
            model.init_states()
        except KspecError:
            assume(False)  # a scenario the loader refuses (e.g. a property that does not apply)
        properties = [p.name for p in model.properties()]
        baseline = _explore(model, properties, por=False, symmetry=False, max_states=LIMIT)
        assume(baseline.complete)
        expected = _verdicts(baseline)
        for por in (True, False):
            for symmetry in (True, False):
                result = _explore(model, properties, por=por, symmetry=symmetry, max_states=LIMIT)
                assert result.complete
                assert _verdicts(result) == expected, (por, symmetry)
                if por:
                    some = "some" if result.stats.reduced_expansions else "none"
                    live = " (with a liveness check)" if any(p.kind.is_liveness for p in model.properties()) else ""
                    event(f"ample expansions: {some}{live}")
                    _traces_replay(model, result, folder, path)


def _random(count: int) -> settings:
    return settings(examples(count), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@_random(8)  # the slow tier runs 200
@given(scenarios())
def test_random_scenarios_same_verdicts_with_and_without_reduction(drawn):
    _compare_random(drawn)


@pytest.mark.slow
@_random(200)  # scaled up under KSPEC_HYPOTHESIS_PROFILE=thorough
@given(scenarios())
def test_random_scenarios_same_verdicts_with_and_without_reduction_many(drawn):
    _compare_random(drawn)


@pytest.mark.slow
@_random(100)
@given(scenarios(liveness=True))
def test_random_scenarios_with_a_liveness_check_same_verdicts_with_and_without_reduction(drawn):
    """Every scenario checks the convergence of one workload, and no check
    makes every step visible, so the reduction has liveness work to do."""
    _compare_random(drawn)
