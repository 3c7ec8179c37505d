"""A check over every Service, explored one Service at a time
(:mod:`kspec.simulation.split`), proven by comparison: on bundled scenarios
with several Services and on random small ones, the split verdicts (and
vacuity) equal those of the one unsliced model (``--no-slice``), and a
violating trace of a part replays on the unsliced model, where it breaks
the check over every Service.

The split rests on the shape of the checks in ``SPLIT_OVER_SERVICES``, each
tested here on reachable states: over every Service, the condition is the
conjunction (``all``) or disjunction (``any``) of the per-Service ones, each
witness is reached when one Service's is, and the nearest-state measure is
the closest Service's; and on the temporal operator commuting with the
quantifier (``always``/``eventually_always`` with ``all``, ``sometimes``
with ``any``).
"""

from __future__ import annotations

import json
import pathlib
import re
import runpy
import tempfile

import attrs
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from kspec.checker.explore import Explorer
from kspec.checker.model import Kind, Verdict, actor_of, successors
from kspec.errors import KspecError
from kspec.simulation import properties as properties_lib
from kspec.simulation.properties import LIBRARY, READS_ENDPOINTS, SPLIT_OVER_SERVICES, checked_services
from kspec.simulation.scenario import build_model, load_scenario, parse_scenario
from kspec.simulation.split import commutes, part_scenario, plan_split, splits
from support.manifests import served_rc, served_rcs
from support.profiles import examples
from support.stepping import first_states
from support.random_scenarios import scenarios
from support.scenarios import MODELS

SERVICE_CHECKS = ("service-always-has-endpoint", "endpoints-only-ready-pods", "service-reachable", "endpoint-lost")


# --------------------------------------------------------------------------- the data: which checks split


def test_split_checks_read_endpoints_and_commute_with_their_operator():
    for name, quantifier in SPLIT_OVER_SERVICES.items():
        assert name in READS_ENDPOINTS
        assert commutes(quantifier, LIBRARY[name].kind), name
        assert "service" in LIBRARY[name].params


def test_only_the_sound_pairs_commute():
    """``sometimes (forall s ...)`` and ``always (exists s ...)`` do not split, nor does ``leads_to``."""
    assert commutes("all", "always") and commutes("all", "eventually_always") and commutes("any", "sometimes")
    assert not commutes("all", "sometimes") and not commutes("any", "always")
    assert not commutes("any", "eventually_always") and not commutes("all", "leads_to") and not commutes("any", "leads_to")


def test_a_check_naming_its_service_does_not_split():
    assert splits("service-always-has-endpoint", {})
    assert splits("endpoint-lost", {"as": "lost"})
    assert not splits("service-always-has-endpoint", {"service": "web"})
    assert not splits("service-sees-workloads", {"service": "web", "workloads": ["a"]})
    assert not splits("rc-replicas-converge", {})


@pytest.mark.parametrize("name", sorted(SPLIT_OVER_SERVICES))
def test_a_split_check_is_all_or_any_of_its_per_service_checks(name):
    """On states of the unsliced myapp-two-faults (two Services), the check
    over every Service is ``all``/``any`` of the check on each Service, in
    its condition, witnesses and nearest-state measure."""
    model = load_scenario(MODELS / "myapp-two-faults.yaml", slicing=False)
    world = model.world
    whole = properties_lib.build(world, model.fair, name, {})
    parts = [properties_lib.build(world, model.fair, name, {"service": world.services[i].name})
             for i in checked_services(world)]
    combine = all if SPLIT_OVER_SERVICES[name] == "all" else any
    for state in first_states(model, 400):
        assert whole.condition(state) == combine(p.condition(state) for p in parts)
        for j, witness in enumerate(whole.witnesses):
            assert witness.condition(state) == any(p.witnesses[j].condition(state) for p in parts)
        if whole.closeness is not None:
            assert whole.closeness(state) == max(p.closeness(state) for p in parts)


# --------------------------------------------------------------------------- when the split applies




def _scenario(tmp_path: pathlib.Path, checks: str, extra: str = "") -> pathlib.Path:
    (tmp_path / "app.yaml").write_text(served_rcs(("web", 1), ("api", 2)))
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\n"
                    f"faults: {{budget: 1, kinds: [node-crash]}}\n{extra}checks: {checks}\n")
    return path


def test_the_split_applies_to_a_check_over_every_service(tmp_path):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoint-lost]")
    split = plan_split(load_scenario(path))
    assert split.services == ("api", "web")  # the World's order
    assert split.split_checks == ("service-always-has-endpoint", "endpoint-lost")
    assert split.parts == (None, "api", "web")
    only = plan_split(load_scenario(path, checked={"endpoint-lost"}), checked={"endpoint-lost"})
    assert only.parts == ("api", "web") and only.split_checks == ("endpoint-lost",)


def test_the_split_does_not_apply_where_slicing_cannot(tmp_path):
    path = _scenario(tmp_path, "[service-always-has-endpoint]")
    assert plan_split(load_scenario(path, slicing=False), enabled=False) is None  # --no-slice
    narrow = _scenario(tmp_path, "[{service-always-has-endpoint: {service: web}}]")
    assert plan_split(load_scenario(narrow)) is None  # sliced already
    cel = _scenario(tmp_path, "[service-always-has-endpoint, {expression: {name: listed, kind: always, "
                              "cel: 'size(services[\"web\"].endpoints) >= 0'}}]")
    assert plan_split(load_scenario(cel)) is None  # another check reads every Service
    cached = _scenario(tmp_path, "[service-always-has-endpoint]", "consistency: {staleness: 1, controllers: [endpoints]}\n")
    assert plan_split(load_scenario(cached)) is None
    assert plan_split(load_scenario(MODELS / "custom-singleton-buggy.yaml")) is None  # a user controller
    assert plan_split(load_scenario(MODELS / "endpoints-stale-cache-lists-deleted-pod.yaml")) is None


def test_a_scenario_with_one_service_is_explored_whole(tmp_path):
    (tmp_path / "app.yaml").write_text(served_rc("web", 1))
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nmanifests: [app.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\nchecks: [service-always-has-endpoint]\n")
    assert plan_split(load_scenario(path)) is None


# --------------------------------------------------------------------------- proof by comparison


def _project(state, keep: frozenset):
    """``state`` with the Endpoints of the Services not in ``keep`` empty (what a part's state holds)."""
    return attrs.evolve(state, endpoints=tuple(e if i in keep else () for i, e in enumerate(state.endpoints)))


def _unsliced_start(full, state, keep: frozenset):
    """A part's initial ``state`` with the other Services' Endpoints synced
    (as the unsliced model's settling syncs them); it must be an initial
    state of the unsliced model, up to symmetry."""
    while True:
        syncs = [nxt for _, action, nxt in successors(full, state)
                 if actor_of(action) == "endpoints" and _project(nxt, keep) == _project(state, keep)]
        if not syncs:
            break
        state = syncs[0]
    canon = full.representative if hasattr(full, "representative") else (lambda s: s)
    assert canon(state) in {canon(s) for s in full.init_states()}, "not an initial state of the unsliced model"
    return state


def _replays_unsliced(full, trace, keep: frozenset) -> list:
    """The states of the unsliced model ``full`` along a part's ``trace``:
    from the part's initial state with every Service synced, each step the
    same action, reaching a state that agrees with the recorded one on every
    Service the part syncs (the other Services' Endpoints syncs are simply
    not taken)."""
    path = [_unsliced_start(full, trace.states[0], keep)]
    for step in trace.steps[1:]:
        nxt = [n for _, action, n in successors(full, path[-1]) if repr(action) == repr(step.action)
               and _project(n, keep) == _project(step.state, keep)]
        assert nxt, f"{step.action} does not lead to the recorded state in the unsliced model"
        path.append(nxt[0])
    return path


def _synced(model) -> frozenset:
    """The Services whose Endpoints a part's model syncs."""
    return next((c.services for c in model.controllers if c.actor == "endpoints"), frozenset())


def _whole(full, limit: int | None = None):
    """One run of the unsliced model ``full``."""
    return Explorer(full, symmetry=hasattr(full, "representative"), max_states=limit, progress=False).run()


def _compare(model, full, whole, limit: int | None = None) -> tuple:
    """Split run of ``model`` against ``whole``, the complete run of the
    unsliced ``full``; returns their state counts."""
    symmetry = hasattr(full, "representative")
    split = plan_split(model)
    assert split is not None and whole.complete
    # each part's states are projections of the unsliced model's, so no part stores more than it did
    limit = None if limit is None else limit * len(split.parts)
    result, view = split.run(Explorer(model, symmetry=symmetry, max_states=limit, progress=False))
    assert result.complete
    assert {r.name: r.verdict for r in result.properties} == {r.name: r.verdict for r in whole.properties}
    assert {r.name: bool(r.vacuous) for r in result.properties} == {r.name: bool(r.vacuous) for r in whole.properties}
    props = {p.name: p for p in full.properties()}
    for res in result.properties:
        if res.verdict is Verdict.VIOLATED and res.kind is Kind.ALWAYS:
            part = build_model(part_scenario(model.scenario, None, view.parts[res.name]))
            path = _replays_unsliced(full, res.trace, _synced(part))
            assert not props[res.name].condition(path[-1])
            if not result.stats.reduction and not whole.stats.reduction:
                assert len(res.trace) == len(whole[res.name].trace)  # breadth first: as short as one run's
    return result.stats.distinct_states, whole.stats.distinct_states


def _over_every_service(scenario, extra=("endpoint-lost", "endpoints-only-ready-pods", "service-reachable")):
    """The scenario with its Service checks over every Service, plus ``extra`` ones."""
    checks = [(name, {k: v for k, v in params.items() if k != "service"} if name in SPLIT_OVER_SERVICES else params,
               line) for name, params, line in scenario.checks]
    checks += [(name, {}, 1) for name in extra if name not in {c[0] for c in checks}]
    return attrs.evolve(scenario, checks=tuple(checks))


def test_a_small_scenario_split_verdicts_equal_the_unsliced_ones(tmp_path):
    path = _scenario(tmp_path, f"[rc-replicas-converge, fault-then-converged, {', '.join(SERVICE_CHECKS)}]")
    full = load_scenario(path, slicing=False)
    _compare(load_scenario(path), full, _whole(full))


BUNDLED = ("myapp-node-crash", "myapp-antiaffinity-node-crash")  # 5 s and 3 s


@pytest.mark.slow
@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenario_split_verdicts_equal_the_unsliced_ones(name):
    scenario = _over_every_service(parse_scenario(MODELS / f"{name}.yaml"))
    full = build_model(scenario, slicing=False)
    split_states, whole_states = _compare(build_model(scenario), full, _whole(full))
    assert split_states < whole_states


@pytest.mark.slow
def test_myapp_two_faults_split_verdicts_equal_the_unsliced_ones():
    path = MODELS / "myapp-two-faults.yaml"
    full = load_scenario(path, slicing=False)
    split_states, whole_states = _compare(load_scenario(path), full, _whole(full))
    assert split_states < whole_states


def _everywhere(check):
    """A drawn scenario's check, over every Service when it is one that splits."""
    if not isinstance(check, dict):
        return check
    (name, body), = check.items()
    if name not in SPLIT_OVER_SERVICES:
        return check
    return {name: {k: v for k, v in body.items() if k != "service"}}


LIMIT = 3000


def _compare_random(drawn, extra: list[str]) -> None:
    """``drawn`` (two Services or more) with its Service checks over every
    Service and the ``extra`` ones added: split against unsliced."""
    assume(sum(1 for m in drawn.manifests if m["kind"] == "Service") >= 2)
    checks = [_everywhere(c) for c in drawn.scenario["checks"]]
    checks += [name for name in extra if all(next(iter(c)) != name for c in checks if isinstance(c, dict))]
    drawn = attrs.evolve(drawn, scenario={**drawn.scenario, "checks": checks})
    with tempfile.TemporaryDirectory() as tmp:
        path = drawn.write(pathlib.Path(tmp))
        try:
            model = load_scenario(path)
            model.init_states()
        except KspecError:
            assume(False)
        assume(plan_split(model) is not None)
        full = load_scenario(path, slicing=False)
        whole = _whole(full, LIMIT)
        assume(whole.complete)
        split_states, whole_states = _compare(model, full, whole, LIMIT)
        event(f"split explored {'fewer' if split_states < whole_states else 'as many or more'} states")
        split = plan_split(model).split_checks
        event("a split check violated" if any(whole[name].verdict is Verdict.VIOLATED for name in split)
              else "no split check violated")


def _random(count: int) -> settings:
    return settings(examples(count), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


_EXTRA = st.lists(st.sampled_from(SERVICE_CHECKS), min_size=1, max_size=3, unique=True)


@_random(4)  # the slow tier runs 60
@given(scenarios(), _EXTRA)
def test_random_scenarios_split_verdicts_equal_the_unsliced_ones(drawn, extra):
    _compare_random(drawn, extra)


@pytest.mark.slow
@_random(60)
@given(scenarios(), _EXTRA)
def test_random_scenarios_split_verdicts_equal_the_unsliced_ones_many(drawn, extra):
    _compare_random(drawn, extra)


# --------------------------------------------------------------------------- one run, as the user sees it


def test_the_output_reads_like_one_run_and_says_the_split(tmp_path, run_cli):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoint-lost]")
    out = run_cli("explore", path, "-o", "json")
    doc = json.loads(out.stdout)
    assert [p["name"] for p in doc["properties"]] == ["rc-replicas-converge", "service-always-has-endpoint",
                                                      "endpoint-lost"]
    assert "split by Service" in doc["stats"]["reduction"]["slice"]
    assert "split by Service" in out.stderr.splitlines()[-1]
    whole = json.loads(run_cli("explore", path, "--no-slice", "-o", "json").stdout)
    assert "split" not in whole["stats"]["reduction"]["slice"]
    assert [p["verdict"] for p in doc["properties"]] == [p["verdict"] for p in whole["properties"]]
    violated = next(p for p in doc["properties"] if p["name"] == "service-always-has-endpoint")
    assert violated["verdict"] == "violated" and re.fullmatch(r"Service (api|web) has 0 ready endpoints",
                                                             violated["explanation"])


@pytest.mark.parametrize("verb, flag", [("explore", "--report"), ("report", "-o")],
                         ids=["explore-report-states-the-split", "kspec-report-explores-in-the-same-parts"])
def test_a_report_states_the_split_among_its_assumptions(tmp_path, run_cli, verb, flag):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint]")
    report = tmp_path / "r.json"
    run_cli(verb, path, flag, report)
    text = report.read_text()
    assert "split by Service" in text and re.search(r"Service (api|web) has 0 ready endpoints", text)


def test_an_emitted_test_replays_the_violating_part(tmp_path, run_cli):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoints-only-ready-pods]")
    test = tmp_path / "test_replay.py"
    run_cli("explore", path, "--emit-test", test)
    assert re.search(r"load_part\(MODEL, PARAMS, CHECKED, '(api|web)', allow_outside=ALLOW_OUTSIDE\)", test.read_text())
    names = [name for name in runpy.run_path(str(test)) if name.startswith("test_")]
    assert len(names) == 2
    for name, function in runpy.run_path(str(test)).items():
        if name.startswith("test_"):
            function()


def test_max_states_bounds_the_whole_split_run(tmp_path):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoint-lost]")
    model = load_scenario(path)
    result, _ = plan_split(model).run(Explorer(model, symmetry=True, max_states=40, progress=False))
    assert result.stats.distinct_states <= 40
    assert result.bound == "max_states" and not result.complete
    assert Verdict.INCONCLUSIVE in {r.verdict for r in result.properties}


def test_a_time_limit_already_spent_leaves_every_check_inconclusive(tmp_path):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoint-lost]")
    model = load_scenario(path)
    result, _ = plan_split(model).run(Explorer(model, symmetry=True, time_limit=0.0, progress=False))
    assert {r.verdict for r in result.properties} == {Verdict.INCONCLUSIVE}
    assert result.bound == "time_limit"


def test_traces_are_as_short_as_one_breadth_first_run(tmp_path):
    """Without partial-order reduction, the trace kept for each split check is
    as short as the unsliced run's, the Services searched only for shorter
    traces included."""
    path = _scenario(tmp_path, f"[{', '.join(SERVICE_CHECKS)}]")
    full = load_scenario(path, slicing=False)
    whole = Explorer(full, symmetry=True, por=False, progress=False).run()
    model = load_scenario(path)
    result, _ = plan_split(model).run(Explorer(model, symmetry=True, por=False, progress=False))
    decided = [r for r in whole.properties if r.trace is not None]
    assert decided
    for res in decided:
        assert len(result[res.name].trace) == len(res.trace), res.name
    assert "searched only for shorter traces" in result.stats.slice_note


# --------------------------------------------------------------------------- parts in worker processes (--jobs)


@pytest.mark.parametrize("exhaustive", [False, True], ids=["decided", "exhaustive"])
def test_parts_in_worker_processes_give_the_same_verdicts_and_traces(tmp_path, run_cli, exhaustive):
    """``--jobs 2`` explores the checks that do not split beside the Services
    (which still run one after another, a later one searched only for a
    shorter trace): every verdict and trace is the one-process run's, and
    the output says how the models ran."""
    path = _scenario(tmp_path, f"[rc-replicas-converge, fault-then-converged, {', '.join(SERVICE_CHECKS)}]")
    flags = ["-o", "json", "--no-progress"] + (["--exhaustive"] if exhaustive else [])
    one = json.loads(run_cli("explore", path, *flags).stdout)
    two = json.loads(run_cli("explore", path, "--jobs", "2", *flags).stdout)
    assert two["properties"] == one["properties"]
    assert any(p["trace"] for p in two["properties"] if "trace" in p)
    assert two["stats"]["distinct_states"] == one["stats"]["distinct_states"]
    assert "explored in 2 processes (--jobs)" in two["stats"]["reduction"]["slice"]
    assert "processes" not in one["stats"]["reduction"]["slice"]


def test_more_jobs_than_one_per_service_still_gives_the_same_verdicts(tmp_path):
    """With a process per part the Services no longer wait for one another,
    so none is searched only for a shorter trace: more states, the same
    verdicts and traces (of equally short traces, the first Service's)."""
    path = _scenario(tmp_path, f"[rc-replicas-converge, {', '.join(SERVICE_CHECKS)}]")
    model = load_scenario(path)
    split = plan_split(model)
    one, _ = split.run(Explorer(model, symmetry=True, progress=False))
    many, _ = split.run(Explorer(model, symmetry=True, progress=False), jobs=len(split.parts))
    assert [(r.name, r.verdict, r.trace) for r in many.properties] == [
        (r.name, r.verdict, r.trace) for r in one.properties]
    assert many.stats.distinct_states >= one.stats.distinct_states


def test_worker_processes_keep_the_run_s_deadline(tmp_path):
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoint-lost]")
    model = load_scenario(path)
    result, _ = plan_split(model).run(Explorer(model, symmetry=True, time_limit=0.0, progress=False), jobs=2)
    assert {r.verdict for r in result.properties} == {Verdict.INCONCLUSIVE}
    assert result.bound == "time_limit" and not result.complete


def test_max_states_runs_the_parts_in_order_whatever_the_jobs(tmp_path):
    """``--max-states`` counts every part's states, so the parts run one after another."""
    path = _scenario(tmp_path, "[rc-replicas-converge, service-always-has-endpoint, endpoint-lost]")
    model = load_scenario(path)
    result, _ = plan_split(model).run(Explorer(model, symmetry=True, max_states=40, progress=False), jobs=2)
    assert result.stats.distinct_states <= 40 and result.bound == "max_states"
    assert "processes" not in result.stats.slice_note


def test_the_parts_reduction_notes_are_named_when_they_differ():
    from types import SimpleNamespace

    from kspec.simulation.split import _reduction_note

    def part(service, note):
        return SimpleNamespace(service=service, result=SimpleNamespace(stats=SimpleNamespace(reduction_note=note)))

    same = [part(None, "ample sets"), part("api", "ample sets")]
    assert _reduction_note(same) == "ample sets"
    differ = [part(None, "ample sets; given up"), part("api", "ample sets"), part("web", "ample sets")]
    assert _reduction_note(differ) == "the other checks: ample sets; given up | api, web: ample sets"
    assert _reduction_note([part("api", "")]) == ""
