"""A search that stops once every check is decided (``Explorer(stop_when_decided=True)``, the CLI's default).

Once every ``always`` check is violated and every ``sometimes`` check
reached, no further state can change a verdict, and breadth-first search has
already found each check's shortest trace (a check is decided where it is
first seen, which a longer search never moves). With a liveness check, or one
still undecided, the search goes on to the end. ``--exhaustive`` explores
everything anyway. TLC and SPIN stop at the first violation by default;
this stops later, at the last verdict.
"""

from __future__ import annotations

import json
import pathlib
import tempfile

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings

from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from kspec.errors import KspecError
from kspec.simulation.scenario import load_scenario
from support.manifests import served_rcs
from support.profiles import examples
from support.random_scenarios import is_liveness, scenarios
from support.scenarios import MODELS

DECIDED_EARLY = ["endpoints-stale-cache-lists-deleted-pod", "control-plane-partition-naive"]


def both(model):
    """The run that stops once decided, and the full one."""
    symmetry = hasattr(model, "representative")
    return (Explorer(model, symmetry=symmetry, progress=False, stop_when_decided=True).run(),
            Explorer(model, symmetry=symmetry, progress=False).run())


def same_results(early, full) -> None:
    """Verdicts, and every trace state by state."""
    assert [(r.name, r.verdict) for r in early.properties] == [(r.name, r.verdict) for r in full.properties]
    for a, b in zip(early.properties, full.properties):
        assert (a.trace is None) == (b.trace is None)
        if a.trace is not None:
            assert [s.state for s in a.trace.steps] == [s.state for s in b.trace.steps]


@pytest.mark.parametrize("name", DECIDED_EARLY)
def test_a_decided_run_stops_with_the_verdicts_and_traces_of_the_full_one(name):
    early, full = both(load_scenario(MODELS / f"{name}.yaml"))
    same_results(early, full)
    assert early.complete and early.bound is None and early.stats.stopped_decided
    assert early.stats.distinct_states < full.stats.distinct_states and not full.stats.stopped_decided


def test_a_liveness_check_is_decided_only_at_the_end():
    """``eventually_always`` needs the whole graph: the search never stops early."""
    early, full = both(load_scenario(MODELS / "myapp-antiaffinity-node-crash.yaml"))
    assert not early.stats.stopped_decided
    assert early.stats.distinct_states == full.stats.distinct_states


def test_the_cli_stops_by_default_and_says_so(run_cli):
    path = MODELS / "endpoints-stale-cache-lists-deleted-pod.yaml"
    out = run_cli("explore", path, "-o", "json")
    doc = json.loads(out.stdout)
    assert doc["complete"] and doc["stats"]["stopped_when_decided"]
    assert "stopped once every check was decided (--exhaustive explores every state)" in out.stderr
    whole = json.loads(run_cli("explore", path, "-o", "json", "--exhaustive").stdout)
    assert not whole["stats"]["stopped_when_decided"]
    assert whole["stats"]["distinct_states"] == load_scenario(path).expected["states"]
    assert [p["verdict"] for p in doc["properties"]] == [p["verdict"] for p in whole["properties"]]


def test_a_report_says_the_search_stopped_once_decided(tmp_path, run_cli):
    report = tmp_path / "r.md"
    run_cli("report", MODELS / "endpoints-stale-cache-lists-deleted-pod.yaml", "-o", report, "--no-check",
            "--no-schedule")
    assert "stopped once every check was decided" in report.read_text()


def _safety_only(drawn):
    checks = [c for c in drawn.scenario["checks"] if not is_liveness(c)]
    return attrs.evolve(drawn, scenario={**drawn.scenario, "checks": checks})


def _compare_random(drawn) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _safety_only(drawn).write(pathlib.Path(tmp))
        try:
            model = load_scenario(path)
            model.init_states()
        except KspecError:
            assume(False)
        symmetry = hasattr(model, "representative")
        full = Explorer(model, symmetry=symmetry, progress=False, max_states=3000).run()
        assume(full.complete)
        early = Explorer(model, symmetry=symmetry, progress=False, max_states=3000, stop_when_decided=True).run()
        same_results(early, full)
        decided = all(r.verdict is Verdict.VIOLATED if r.kind.name == "ALWAYS" else r.verdict is Verdict.HOLDS
                      for r in full.properties)
        assert early.stats.stopped_decided == decided


@settings(examples(6), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios())
def test_random_scenarios_decided_early_keep_every_verdict_and_trace(drawn):
    _compare_random(drawn)


@pytest.mark.slow
@settings(examples(60), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios())
def test_random_scenarios_decided_early_keep_every_verdict_and_trace_many(drawn):
    _compare_random(drawn)




def test_a_split_run_says_which_parts_stopped(tmp_path, run_cli):
    """Split by Service, the Service parts stop once their check is violated;
    the part with the liveness check is explored to the end, so the run as a
    whole does not read as stopped."""
    (tmp_path / "app.yaml").write_text(served_rcs(("web", 2), ("api", 1)))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\n"
                        "faults: {budget: 1, kinds: [node-crash]}\n"
                        "checks: [rc-replicas-converge, service-always-has-endpoint]\n")
    doc = json.loads(run_cli("explore", scenario, "-o", "json").stdout)
    assert not doc["stats"]["stopped_when_decided"]
    assert "stopped once their checks were decided" in doc["stats"]["reduction"]["slice"]
    whole = json.loads(run_cli("explore", scenario, "-o", "json", "--exhaustive").stdout)
    assert "stopped once" not in whole["stats"]["reduction"]["slice"]
    assert [p["verdict"] for p in doc["properties"]] == [p["verdict"] for p in whole["properties"]]
