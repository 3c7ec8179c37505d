"""Cone-of-influence slicing: a scenario whose checks read no Service's
endpoints is explored without the endpoints controller, and every verdict
stays the same.

Soundness rests on two facts, each tested here: the library checks outside
``READS_ENDPOINTS`` never read ``State.endpoints`` (in their condition,
explainer, witnesses or nearest-state measure), and no step of another
controller, fault or operation depends on them (so the verdicts of every
bundled scenario it applies to, and of random small scenarios, are the same
with and without slicing)."""

from __future__ import annotations

import json
import pathlib
import runpy
import tempfile

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from click.testing import CliRunner

from kspec.checker.explore import Explorer
from kspec.cli import group
from kspec.errors import KspecError
from kspec.simulation.properties import LIBRARY, READS_ENDPOINTS
from kspec.simulation.scenario import load_scenario
from kspec.simulation.slicing import read_services
from kspec.simulation.state import State
from support.manifests import served_rc, served_rcs
from support.profiles import examples
from support.stepping import first_states
from support.random_scenarios import scenarios
from support.scenarios import MODELS


class _Unreadable(tuple):
    """Endpoints a check must not read (but those of the Services in
    ``readable``): any other look at them fails the test."""

    readable: frozenset = frozenset()

    def _fail(self, *args):
        raise AssertionError("read State.endpoints")

    def __getitem__(self, index):
        if isinstance(index, int) and index in self.readable:
            return tuple.__getitem__(self, index)
        self._fail()

    __iter__ = __len__ = __bool__ = __contains__ = _fail


def _poisoned(state: State, readable: frozenset = frozenset()) -> State:
    endpoints = _Unreadable(state.endpoints)
    endpoints.readable = readable
    return State(state.pods, state.nodes, endpoints, state.replicas, state.memory, state.faults,
                 state.ops, state.rv, state.log, state.informers, state.etcd_down, state.status)


def _evaluate(prop, state: State) -> None:
    prop.condition(state)
    for part in (prop.explain, prop.closeness, prop.nearest, prop.goal):
        if part is not None:
            part(state)
    for witness in prop.witnesses:
        witness.condition(state)


SCENARIOS = sorted(p.stem for p in MODELS.glob("*.yaml"))


def _named_checks(name: str) -> list[tuple[str, dict]]:
    """A scenario's checks as written (name, parameters), read from its file
    without building the model: which tests apply is decided at collection."""
    checks = []
    for item in yaml.safe_load((MODELS / f"{name}.yaml").read_text()).get("checks") or ():
        check, params = next(iter(item.items())) if isinstance(item, dict) else (item, {})
        checks.append((check, params or {}))
    return checks


WITH_OTHER_CHECKS = [n for n in SCENARIOS if any(c not in READS_ENDPOINTS and c != "expression"
                                                 for c, _ in _named_checks(n))]
WITH_ONE_SERVICE = [n for n in SCENARIOS if any(c in READS_ENDPOINTS and "service" in p for c, p in _named_checks(n))]


def _library_checks(model) -> list[tuple[str, object]]:
    return [(name, prop) for (name, _, _), prop in zip(model.scenario.checks, model.properties())
            if name != "expression"]


def test_every_library_check_outside_reads_endpoints_is_exercised_by_a_bundled_scenario():
    used = set()
    for name in SCENARIOS:
        used |= {check for check, _, _ in load_scenario(MODELS / f"{name}.yaml", slicing=False).scenario.checks}
    assert set(LIBRARY) - READS_ENDPOINTS - used == set()


@pytest.mark.parametrize("name", WITH_OTHER_CHECKS)
def test_checks_outside_reads_endpoints_never_read_them(name):
    """Every check of the scenario not in READS_ENDPOINTS, with its explainer
    and witnesses, evaluated on reachable states whose endpoints fail when read."""
    model = load_scenario(MODELS / f"{name}.yaml", slicing=False)
    checks = [(check, prop) for check, prop in _library_checks(model) if check not in READS_ENDPOINTS]
    assert checks
    for state in first_states(model, 300):
        poisoned = _poisoned(state)
        for _, prop in checks:
            _evaluate(prop, poisoned)


@pytest.mark.parametrize("name", WITH_ONE_SERVICE)
def test_checks_naming_one_service_read_only_its_endpoints(name):
    model = load_scenario(MODELS / f"{name}.yaml", slicing=False)
    checks = [(prop, read_services(model.world, [(check, params, 0)]))
              for (check, params, _), prop in zip(model.scenario.checks, model.properties())
              if check in READS_ENDPOINTS and "service" in params]
    assert checks
    for state in first_states(model, 300):
        for prop, read in checks:
            _evaluate(prop, _poisoned(state, read))


def test_reads_endpoints_lists_only_checks_that_read_them():
    """Each check in READS_ENDPOINTS reads endpoints in some state of a scenario that uses it."""
    reads = set()
    for name in SCENARIOS:
        model = load_scenario(MODELS / f"{name}.yaml", slicing=False)
        checks = [(check, prop) for check, prop in _library_checks(model)
                  if check in READS_ENDPOINTS and check not in reads]
        for state in first_states(model, 100) if checks else ():
            for check, prop in checks:
                try:
                    _evaluate(prop, _poisoned(state))
                except AssertionError:
                    reads.add(check)
    assert reads == READS_ENDPOINTS


def _verdicts(model, symmetry=True):
    result = Explorer(model, symmetry=symmetry and hasattr(model, "representative"), progress=False).run()
    assert result.complete
    return {r.name: r.verdict for r in result.properties}, result.stats.distinct_states


def _compare(name: str) -> None:
    sliced = load_scenario(MODELS / f"{name}.yaml")
    assert sliced.slice_note, "slicing should apply to this scenario"
    full = load_scenario(MODELS / f"{name}.yaml", slicing=False)
    assert not full.slice_note
    verdicts, states = _verdicts(sliced)
    full_verdicts, full_states = _verdicts(full)
    assert verdicts == full_verdicts
    assert states <= full_states


SLICED = ("myapp-antiaffinity-node-crash", "myapp-node-crash",  # checks read one Service's endpoints of two
          "statefulset-delete-foreground", "statefulset-delete-orphan",  # no check reads endpoints
          "statefulset-force-delete", "statefulset-partition", "statefulset-rollout-status-generation")


def test_slicing_applies_to_the_bundled_scenarios_listed():
    assert [name for name in SCENARIOS if load_scenario(MODELS / f"{name}.yaml").slice_note] == list(SLICED)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "myapp-node-crash" else n
                                  for n in SLICED])
def test_bundled_scenario_same_verdicts_with_and_without_slicing(name):
    _compare(name)


def test_slicing_is_off_when_a_check_reads_endpoints_or_a_user_controller_runs(tmp_path):
    assert not load_scenario(MODELS / "myapp-two-faults.yaml").slice_note  # service checks
    assert not load_scenario(MODELS / "custom-singleton-buggy.yaml").slice_note  # a user controller


def test_a_cel_check_naming_services_keeps_the_endpoints_controller(tmp_path):
    (tmp_path / "app.yaml").write_text(served_rc("web", 2))
    base = "name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\nfaults: {budget: 1, kinds: [node-crash]}\nchecks:\n"
    reads = tmp_path / "reads.yaml"
    reads.write_text(base + "  - expression: {name: web-listed, kind: always, cel: 'size(services[\"web\"].endpoints) >= 0'}\n")
    ignores = tmp_path / "ignores.yaml"
    ignores.write_text(base + "  - expression: {name: some-pod, kind: always, cel: 'size(pods) >= 0'}\n")
    assert not load_scenario(reads).slice_note
    assert load_scenario(ignores).slice_note


def test_output_says_what_was_left_out_and_no_slice_explores_it(tmp_path):
    (tmp_path / "app.yaml").write_text(served_rc("web", 2))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\nfaults: {budget: 1, kinds: [node-crash]}\n"
                        "checks: [rc-replicas-converge]\n")
    runner = CliRunner()
    on = runner.invoke(group, ["explore", str(scenario), "-o", "json"])
    off = runner.invoke(group, ["explore", str(scenario), "--no-slice", "-o", "json"])
    on_doc, off_doc = json.loads(on.stdout), json.loads(off.stdout)
    assert "endpoints controller left out" in on_doc["stats"]["reduction"]["slice"]
    assert off_doc["stats"]["reduction"]["slice"] == ""
    assert on_doc["stats"]["distinct_states"] < off_doc["stats"]["distinct_states"]
    assert [p["verdict"] for p in on_doc["properties"]] == [p["verdict"] for p in off_doc["properties"]]
    text = runner.invoke(group, ["explore", str(scenario)]).output
    assert "endpoints controller left out" in text.splitlines()[-1]



LIMIT = 3000


def _compare_random(drawn) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = drawn.write(pathlib.Path(tmp))
        try:
            sliced = load_scenario(path)
            sliced.init_states()
        except KspecError:
            assume(False)
        assume(sliced.slice_note)
        full = load_scenario(path, slicing=False)
        for symmetry in (True, False):
            a = Explorer(sliced, symmetry=symmetry and hasattr(sliced, "representative"), max_states=LIMIT,
                         progress=False).run()
            b = Explorer(full, symmetry=symmetry and hasattr(full, "representative"), max_states=LIMIT,
                         progress=False).run()
            assume(b.complete)
            assert a.complete
            assert {r.name: r.verdict for r in a.properties} == {r.name: r.verdict for r in b.properties}
            event(f"compared, {'fewer' if a.stats.distinct_states < b.stats.distinct_states else 'as many'} states")


def _random(count: int) -> settings:
    return settings(examples(count), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.slow
@_random(60)
@given(scenarios())
def test_random_scenarios_same_verdicts_with_and_without_slicing(drawn):
    _compare_random(drawn)


def test_a_check_naming_one_service_keeps_only_that_services_endpoints_synced(tmp_path):
    (tmp_path / "app.yaml").write_text(served_rcs(("web", 2), ("api", 1)))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\n"
                        "faults: {budget: 1, kinds: [node-crash]}\n"
                        "checks: [rc-replicas-converge, service-always-has-endpoint: {service: api}]\n")
    sliced = load_scenario(scenario)
    assert "endpoints synced only for api" in sliced.slice_note
    full = load_scenario(scenario, slicing=False)
    verdicts, states = _verdicts(sliced)
    full_verdicts, full_states = _verdicts(full)
    assert verdicts == full_verdicts and states < full_states
    state = sliced.init_states()[0]
    assert [lane.node for lane in sliced.swim_lanes(state)[2]] == ["Service api"]




@pytest.mark.parametrize("flag", [[], ["--no-slice"]])
def test_an_emitted_test_replays_on_the_model_explored(tmp_path, flag):
    """``--emit-test`` after a sliced or unsliced run writes a test that loads
    the model the same way, so the recorded steps (Endpoints syncs or not) replay."""
    (tmp_path / "app.yaml").write_text(served_rc("web", 2))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\n"
                        "faults: {budget: 1, kinds: [node-crash]}\n"
                        "checks: [rc-replicas-converge, {at-most-replicas-running: {workload: web}}]\n"
                        "operations: [{scale: {workload: web, replicas: 1}}]\n")
    test = tmp_path / "test_replay.py"
    out = CliRunner().invoke(group, ["explore", str(scenario), "--emit-test", str(test)] + flag)
    assert test.exists(), out.output
    namespace = runpy.run_path(str(test))
    names = [name for name in namespace if name.startswith("test_")]
    assert names
    for name in names:
        namespace[name]()


def test_property_limits_what_slicing_keeps_to_the_checks_asked_for(tmp_path):
    """``kspec explore --property``: slicing is judged on the checks the run
    checks, so asking for one Service's check keeps only that Service's
    Endpoints syncs, and the verdict is the one the full model gives."""
    (tmp_path / "app.yaml").write_text(served_rcs(("web", 2), ("api", 1)))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\n"
                        "faults: {budget: 1, kinds: [node-crash]}\n"
                        "checks: [service-always-has-endpoint, "
                        "{service-always-has-endpoint: {service: api, as: api-has-endpoint}}]\n")
    assert not load_scenario(scenario).slice_note
    assert "endpoints synced only for api" in load_scenario(scenario, checked={"api-has-endpoint"}).slice_note
    runner = CliRunner()
    one = json.loads(runner.invoke(group, ["explore", str(scenario), "--property", "api-has-endpoint", "--exhaustive",
                                           "-o", "json"]).stdout)
    full = json.loads(runner.invoke(group, ["explore", str(scenario), "--property", "api-has-endpoint", "--no-slice",
                                            "--exhaustive", "-o", "json"]).stdout)
    assert "synced only for api" in one["stats"]["reduction"]["slice"]
    assert one["stats"]["distinct_states"] < full["stats"]["distinct_states"]
    assert [p["verdict"] for p in one["properties"]] == [p["verdict"] for p in full["properties"]]
    test = tmp_path / "test_replay.py"
    runner.invoke(group, ["explore", str(scenario), "--property", "api-has-endpoint", "--emit-test", str(test)])
    namespace = runpy.run_path(str(test))
    for name in [n for n in namespace if n.startswith("test_")]:
        namespace[name]()
