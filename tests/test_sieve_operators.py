"""The user operators of ``models/sieve/``: one per Sieve (OSDI'22) bug class, buggy beside fixed.

Each buggy scenario is caught with a short trace, and the trace replays as
``kspec explore --emit-test`` writes it. Each fixed scenario holds, and not
vacuously: the steps that broke its buggy sibling replay in the fixed model
too, up to the point where the fixed operator does the right thing (or
rightly does nothing). Verdicts and state counts are pinned in the scenario
files and re-checked by ``tests/test_scenarios.py``.
"""

from __future__ import annotations

import importlib.util

import pytest

from kspec.checker.model import Verdict
from kspec.checker.replay import emit_test
from kspec.simulation.controllers.protocol import cache_of
from kspec.simulation.scenario import ScenarioError, load_scenario
from support.scenarios import MODELS, explored
from support.stepping import enabled, follow, kinds, operator

# (scenario, violated property, the actions of its shortest counterexample)
CAUGHT = [
    ("sieve-stale-state-buggy", "one-leader-at-most",
     ["PodDelete", "KubeletKillPod", "LeaderCreate", "ControllerRestart", "LeaderCreate"]),
    ("sieve-unobserved-state-buggy", "leader-converges", ["PodDelete", "KubeletKillPod", "ControllerRestart"]),
    ("sieve-intermediate-state-buggy", "backup-agent-converges",
     ["DbCreateServer", "SchedulerBind", "KubeletStartPod", "ControllerRestart"]),
]
MAX_STEPS = 8






@pytest.mark.parametrize("name, prop, expected", CAUGHT, ids=[c[0] for c in CAUGHT])
def test_each_buggy_operator_is_caught_with_a_short_trace(name, prop, expected):
    _, result = explored(name)
    res = result[prop]
    assert res.verdict is Verdict.VIOLATED
    assert len(res.trace) <= MAX_STEPS
    assert kinds(res.trace) == expected


def test_the_stale_state_trace_relists_from_a_lagging_api_server():
    """kubernetes#59848: the restart's list comes from an API server one event
    behind, where the replacement just created does not exist yet."""
    _, result = explored("sieve-stale-state-buggy")
    restart = result["one-leader-at-most"].trace.actions[3]
    assert (restart.controller, restart.relisted_behind) == ("leader-operator", 1)


@pytest.mark.parametrize("name", ["sieve-unobserved-state-buggy", "sieve-intermediate-state-buggy"])
def test_the_liveness_bugs_are_lassos_that_stay_stuck(name):
    """After the restart no fair actor is ever enabled again: nothing left will fix it."""
    _, result = explored(name)
    res, = [r for r in result.properties if r.verdict is Verdict.VIOLATED]
    assert res.cycle_start == len(res.trace)


@pytest.mark.parametrize("name", [c[0] for c in CAUGHT])
def test_each_buggy_trace_replays_as_emitted(name, tmp_path):
    """The pytest file ``--emit-test`` writes for the counterexample, run in this process."""
    _, result = explored(name)
    path = tmp_path / f"test_{name.replace('-', '_')}.py"
    path.write_text(emit_test(MODELS / f"{name}.yaml", {}, result, test_path=path))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, n) for n in dir(module) if n.startswith("test_")]
    assert len(tests) == 1
    tests[0]()


@pytest.mark.parametrize("name", [f"sieve-{bug}-state-fixed" for bug in ("stale", "unobserved", "intermediate")])
def test_each_fixed_operator_holds(name):
    _, result = explored(name)
    assert result.complete
    assert [r.name for r in result.properties if r.verdict is not Verdict.HOLDS] == []


def test_stale_state_fixed_meets_the_lagging_relist_and_creates_nothing():
    """The buggy trace up to its restart replays in the fixed model; there the
    cache shows no leader, the API shows one, and the quorum read keeps the
    operator from creating a second."""
    buggy, result = explored("sieve-stale-state-buggy")
    prefix = [repr(a) for a in result["one-leader-at-most"].trace.actions[:4]]
    model, _ = explored("sieve-stale-state-fixed")
    last = follow(model, prefix)[-1]
    op = operator(model)
    leaders = [p for p in last.pods if not p.deleting]
    assert len(leaders) == 1 and leaders[0].name not in {p.name for p in cache_of(model.world, last, op)}
    assert not any(a.startswith("LeaderCreate") for a in enabled(model, last))
    # the buggy operator, in the same place, creates
    assert any(a.startswith("LeaderCreate") for a in enabled(buggy, follow(buggy, prefix)[-1]))


@pytest.mark.parametrize("name, fixed_step", [("sieve-unobserved-state", "LeaderCreate"),
                                              ("sieve-intermediate-state", "DbCreateBackup")])
def test_fixed_operator_recovers_where_the_buggy_one_is_stuck(name, fixed_step):
    """The buggy lasso's steps replay in the fixed model, and there the fixed
    operator acts: level-triggered, it compares what should exist with what does."""
    _, result = explored(f"{name}-buggy")
    res, = [r for r in result.properties if r.verdict is Verdict.VIOLATED]
    model, _ = explored(f"{name}-fixed")
    last = follow(model, [repr(a) for a in res.trace.actions])[-1]
    assert [a for a in enabled(model, last) if a.startswith(fixed_step)]


@pytest.mark.parametrize("name", ["sieve-stale-state-buggy", "sieve-stale-state-fixed", "sieve-unobserved-state-buggy"])
def test_a_settled_leader_is_left_alone(name):
    """Reconciling a converged state changes nothing: with the leader running
    and the cache in step, no version of the leader operator has a step."""
    model, _ = explored(name)
    start, = model.init_states()
    assert all(rec.lag == 0 for rec in start.informers)
    assert not [a for a, _ in model.controller_steps(start)]


def test_an_unknown_version_is_a_scenario_error_at_its_line(tmp_path):
    text = (MODELS / "sieve-intermediate-state-fixed.yaml").read_text().replace("version: fixed", "version: nope")
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text.replace("sieve/", f"{MODELS / 'sieve'}/"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario, allow_outside=True)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "- module:" in row)
    message = str(err.value)  # at the controller's `module:` line
    assert f"bad.yaml:{line}: error:" in message and "version must be one of buggy, fixed, got 'nope'" in message
