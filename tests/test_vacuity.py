"""Sanity checks that help instead of trip: vacuity and how close a ``sometimes`` came.

A check that holds while what must happen for it to mean something never
does is reported as vacuous, with the reason, in text, JSON and reports; it
exits 0, or 3 under ``--strict``. A violated ``sometimes`` says what was never
reached and the nearest state by the property's own measure. A scenario no
longer needs a ``sometimes`` companion.
"""

from __future__ import annotations

import json
import pathlib
import shutil

import attrs
import pytest
from hypothesis import given, strategies as st

from kspec.checker.explain import result_to_json
from kspec.checker.explore import Explorer, explore
from kspec.checker.model import (Action, ModelError, Verdict, Witness, always, eventually_always, leads_to,
                                 nearest_by_parts, sometimes)
from kspec.checker.vacuity import nearest_key
from kspec.simulation.scenario import load_scenario
from kspec.simulation.scenario_cel import split_top_level
from support.scenarios import explored

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"


# --------------------------------------------------------------------------- the checker, without Kubernetes


@attrs.frozen
class Inc(Action):
    actor = "counter"


@attrs.frozen
class Counter:
    """Counts 0, 1, ..., size - 1 and wraps to 0; ``props`` is its properties."""

    size: int
    props: tuple = ()

    def init_states(self):
        return [0]

    def actions(self, state):
        return [Inc()]

    def next_state(self, state, action):
        return (state + 1) % self.size

    def properties(self):
        return self.props

    def within_boundary(self, state):
        return True


def guarded(witness_value: int):
    """An ``always`` that needs the counter to reach ``witness_value`` to mean something."""
    return attrs.evolve(always("below-100", lambda s: s < 100),
                        witnesses=[Witness(f"the counter never reaches {witness_value}", lambda s: s == witness_value)])


def test_an_always_whose_witness_is_never_reached_holds_vacuously():
    result = explore(Counter(4, (guarded(7),)))
    res = result["below-100"]
    assert res.verdict is Verdict.HOLDS and result.verdict is Verdict.HOLDS
    assert res.vacuous == "the counter never reaches 7"
    assert "holds (vacuous: the counter never reaches 7)" in str(res)
    assert res.to_json()["vacuous"] == "the counter never reaches 7"


def test_a_witness_reached_leaves_no_flag():
    res = explore(Counter(4, (guarded(3),)))["below-100"]
    assert res.verdict is Verdict.HOLDS and res.vacuous is None and "vacuous" not in res.to_json()


@given(size=st.integers(1, 12), witness=st.integers(0, 15))
def test_vacuous_exactly_when_no_reachable_state_is_a_witness(size, witness):
    assert (explore(Counter(size, (guarded(witness),)))["below-100"].vacuous is not None) == (witness >= size)


@given(size=st.integers(1, 12), witness=st.integers(0, 15))
def test_witnesses_change_no_state_count(size, witness):
    plain = explore(Counter(size, (always("below-100", lambda s: s < 100),)))
    watched = explore(Counter(size, (guarded(witness),)))
    assert plain.stats.distinct_states == watched.stats.distinct_states == size
    assert plain.stats.transitions == watched.stats.transitions


def test_a_witness_is_evaluated_only_until_a_state_reaches_it():
    calls = []

    def reached(s):
        calls.append(s)
        return s == 2
    prop = attrs.evolve(always("below-100", lambda s: s < 100), witnesses=[Witness("never 2", reached)])
    explore(Counter(10, (prop,)))
    assert calls == [0, 1, 2]


def test_liveness_is_vacuous_by_default_when_nothing_has_to_happen():
    fair = ["counter"]
    result = explore(Counter(4, (eventually_always("small", lambda s: s < 100, fair),
                                 eventually_always("never-3", lambda s: s != 3, fair),
                                 leads_to("from-9", lambda s: s == 9, lambda s: s == 0, fair))))
    assert result["small"].verdict is Verdict.HOLDS
    assert "nothing ever had to converge" in result["small"].vacuous
    assert result["never-3"].verdict is Verdict.VIOLATED and result["never-3"].vacuous is None
    assert result["from-9"].verdict is Verdict.HOLDS and "never holds" in result["from-9"].vacuous


def test_an_incomplete_search_says_nothing_about_vacuity():
    res = explore(Counter(10, (guarded(50),)), max_states=3)["below-100"]
    assert res.verdict is Verdict.INCONCLUSIVE and res.vacuous is None


def test_closeness_belongs_to_sometimes_only():
    with pytest.raises(ModelError, match="closeness only applies to sometimes"):
        attrs.evolve(always("x", lambda s: True), closeness=lambda s: 0)


def test_a_violated_sometimes_says_what_was_never_reached_and_how_close():
    closeness, nearest = nearest_by_parts([("odd", lambda s: s % 2 == 1), ("at least 4", lambda s: s >= 4),
                                           ("at least 9", lambda s: s >= 9)])
    prop = sometimes("odd-and-big", lambda s: s % 2 == 1 and s >= 9, "an odd count of 9 or more",
                     closeness=closeness, nearest=nearest)
    result = explore(Counter(7, (prop,)))
    res = result["odd-and-big"]
    assert res.verdict is Verdict.VIOLATED
    assert res.unreached == "an odd count of 9 or more"
    assert res.nearest == "at most 2 of 3 parts held at once: odd, at least 4 held; at least 9 did not"
    assert [step.state for step in res.nearest_trace.steps] == [0, 1, 2, 3, 4, 5]  # the first such state: 5
    assert str(res).startswith("odd-and-big (sometimes): violated: never reached: an odd count of 9 or more; "
                               "nearest state (5 steps from the start): at most 2 of 3 parts")
    doc = result_to_json(result)["properties"][0]
    assert doc["unreached"] == "an odd count of 9 or more"
    assert doc["nearest"]["state"] == res.nearest and len(doc["nearest"]["trace"]) == 6
    assert doc["explanation"] == f"no reachable state satisfies odd-and-big; nearest: {res.nearest}"


def test_a_sometimes_without_a_measure_still_says_what_was_never_reached():
    res = explore(Counter(3, (sometimes("five", lambda s: s == 5),)))["five"]
    assert res.verdict is Verdict.VIOLATED and res.unreached == "five" and res.nearest is None


@given(size=st.integers(1, 12), target=st.integers(-3, 20))
def test_the_nearest_state_is_the_first_with_the_best_measure(size, target):
    prop = sometimes("never", lambda s: False, closeness=lambda s: -abs(s - target), nearest=str)
    res = explore(Counter(size, (prop,)))["never"]
    best = min(range(size), key=lambda s: (abs(s - target), s))
    assert res.nearest == str(best) and res.nearest_trace.last == best


@given(st.lists(st.integers(-5, 5), min_size=1))
def test_nearest_key_is_the_first_maximum(values):
    keys = list(range(len(values)))
    assert nearest_key(values.__getitem__, keys, lambda: None) == values.index(max(values))


# --------------------------------------------------------------------------- CEL checks


@pytest.mark.parametrize("source, operator, parts", [
    ('a && (b || c) && d["&&"]', "&&", ['a', '(b || c)', 'd["&&"]']),
    ("a && b || c", "&&", ["a && b || c"]),  # || binds less tightly: one part
    ("a || b && c", "||", ["a", "b && c"]),
    ("a ? b : c || d", "||", ["a ? b : c || d"]),
    ("pods.exists(p, p.ready && p.running)", "&&", ["pods.exists(p, p.ready && p.running)"]),
    ("'x && y' == s &&\n  t", "&&", ["'x && y' == s", "t"]),
])
def test_split_top_level(source, operator, parts):
    assert split_top_level(source, operator) == parts


# --------------------------------------------------------------------------- scenarios


def scenario(tmp_path, text: str, *folders: str) -> pathlib.Path:
    for folder in folders:
        shutil.copytree(MODELS / folder, tmp_path / folder, dirs_exist_ok=True)  # a scenario reads only beside it
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def run(path):
    model = load_scenario(path)
    return model, Explorer(model, symmetry=True, progress=False).run()


STATEFULSET_NODE_CRASH = """\
manifests: [db/]
nodes: ["3:cpu=2,memory=4Gi"]
scheduler: least-allocated          # one db pod per node
faults: {kinds: [node-crash]}
checks:
  - at-most-replicas-running
  - fault-then-converged
  - expression:
      name: all-running-after-a-fault
      kind: sometimes
      cel: faults_used > 0 && pods.all(p, p.running) && pods.size() == 3
"""


def test_statefulset_node_crash_needs_no_sometimes_companion_and_says_how_close_recovery_came(tmp_path):
    """The StatefulSet controller never replaces db-N while its pod object
    exists (pkg/controller/statefulset/stateful_set_control.go: a pod is
    recreated only once it is gone), and the pod on a crashed node stays
    terminating: ``fault-then-converged`` is violated by design, and says
    which pod never runs again."""
    path = scenario(tmp_path, STATEFULSET_NODE_CRASH.replace("  - fault-then-converged\n", "")
                    .split("  - expression:")[0], "db")
    model, result = run(path)  # only an always check: accepted
    assert [p.name for p in model.properties()] == ["at-most-replicas-running"]
    assert result["at-most-replicas-running"].verdict is Verdict.HOLDS
    assert result["at-most-replicas-running"].vacuous is None  # a fault fires, db is one pod short

    _, result = run(scenario(tmp_path, STATEFULSET_NODE_CRASH, "db"))
    res = result["fault-then-converged"]
    assert res.verdict is Verdict.VIOLATED
    assert res.unreached.startswith("Sometimes, after at least one fault, every workload has exactly its replicas")
    assert res.nearest.startswith("after a fault, the nearest state had every workload at its replicas and pod db-")
    assert res.nearest.endswith("not running and Ready")
    cel = result["all-running-after-a-fault"]
    assert cel.verdict is Verdict.VIOLATED
    # two of the three parts hold from the start, and no state gets the third without losing one
    assert cel.nearest == ("at most 2 of 3 parts held at once: pods.all(p, p.running), pods.size() == 3 held; "
                           "faults_used > 0 did not")
    assert len(cel.nearest_trace) == 0


def frontend_only(tmp_path, faults: str, checks: str) -> pathlib.Path:
    shutil.copytree(MODELS / "myapp", tmp_path / "m")
    (tmp_path / "m" / "services.yaml").unlink()
    (tmp_path / "m" / "backend-rc.yaml").unlink()
    return scenario(tmp_path, f"manifests: [m/]\nfaults: {faults}\nchecks:\n{checks}")


def test_faults_that_never_fire_make_every_check_vacuous(tmp_path):
    # node-restart needs a crashed node, and nothing crashes one
    path = frontend_only(tmp_path, "{kinds: [node-restart]}", "  - rc-never-exceeds-replicas\n  - no-overcommit\n")
    _, result = run(path)
    res = result["rc-never-exceeds-replicas"]
    assert res.verdict is Verdict.HOLDS
    assert "no fault ever fires (the scenario allows 1 fault)" in res.vacuous
    assert "ReplicationController/frontend never has fewer active pods than replicas" in res.vacuous
    assert result["no-overcommit"].vacuous == ("no pod ever waits to be scheduled, so the scheduler never places one; "
                                               "no fault ever fires (the scenario allows 1 fault)")


def test_a_node_crash_gives_every_check_its_witness(tmp_path):
    path = frontend_only(tmp_path, "{kinds: [node-crash]}", "  - rc-never-exceeds-replicas\n  - no-overcommit\n"
                                                             "  - rc-replicas-converge\n")
    _, result = run(path)
    assert [(r.verdict, r.vacuous) for r in result.properties] == [(Verdict.HOLDS, None)] * 3


def test_a_service_check_without_a_service_is_vacuous(tmp_path):
    path = frontend_only(tmp_path, "{kinds: [node-crash]}", "  - service-always-has-endpoint\n  - rc-replicas-converge\n")
    _, result = run(path)
    assert result["service-always-has-endpoint"].vacuous == "there is no Service with a selector to check"
    assert result["rc-replicas-converge"].verdict is Verdict.HOLDS and result["rc-replicas-converge"].vacuous is None


def test_a_cel_implication_whose_antecedent_never_holds_is_vacuous(tmp_path):
    checks = """  - expression:
      name: crashed-nodes-hold-no-ready-pod
      kind: always
      cel: '!nodes.exists(n, !n.up && n.name == "node-9") || pods.all(p, !p.ready)'
"""
    _, result = run(frontend_only(tmp_path, "{kinds: [node-crash]}", checks))
    res = result["crashed-nodes-hold-no-ready-pod"]
    assert res.verdict is Verdict.HOLDS
    assert res.vacuous == ('`!nodes.exists(n, !n.up && n.name == "node-9")` holds in every reachable state, '
                           "so `pods.all(p, !p.ready)` is never tested")


# Library invariants with no witness of their own (only the scenario's "a fault
# fires"): each should declare what it needs in WITNESSES. An eventually_always
# check has the checker's default (its condition fails somewhere).
WITHOUT_OWN_WITNESS = {"statefulset-respects-partition", "daemonset-max-unavailable", "deployment-running-within-surge",
                       "job-pods-within-parallelism", "job-one-pod-per-index", "cronjob-one-job-at-a-time",
                       "cronjob-one-job-running"}


def test_fixme_library_checks_without_their_own_witness():
    from kspec.simulation import properties as library
    missing = {name for name, entry in library.LIBRARY.items()
               if entry.kind == "always" and name not in library.WITNESSES}
    assert missing <= WITHOUT_OWN_WITNESS, sorted(missing - WITHOUT_OWN_WITNESS)


def test_bundled_drain_blocked_by_pdb_min_available_is_vacuous():
    """The drain never evicts anything, so maxUnavailable is never put to the test; the pinned verdict stays."""
    _, result = explored("drain-blocked-by-pdb")
    res = result["deployment-min-available"]
    assert res.verdict is Verdict.HOLDS and res.vacuous.startswith("no fault, edit or rollout ever disturbs Deployment/web")


def test_bundled_statefulset_partition_never_runs_four_copies_and_says_three_at_most():
    _, result = explored("statefulset-partition")
    res = result["four-copies-running"]
    assert res.verdict is Verdict.VIOLATED
    assert res.nearest == "at most 3 containers of StatefulSet/db ran at once, not 4"


# --------------------------------------------------------------------------- the command line and reports


def test_vacuous_exits_0_and_3_under_strict_and_shows_everywhere(tmp_path, run_cli):
    path = frontend_only(tmp_path, "{kinds: [node-restart]}", "  - rc-never-exceeds-replicas\n")
    out = run_cli("explore", path)
    assert out.exit_code == 0, out.output
    assert "rc-never-exceeds-replicas (always): holds (vacuous: " in out.stdout
    assert "verdict: holds (1 vacuous)" in out.stdout
    assert run_cli("explore", path, "--strict").exit_code == 3
    doc = json.loads(run_cli("explore", path, "-o", "json").stdout)
    assert "no fault ever fires" in doc["properties"][0]["vacuous"]
    for suffix, mark in [(".md", "holds (*vacuous*)"), (".html", 'class="verdict v-vacuous"'),
                         (".txt", "holds (vacuous)"), (".json", '"vacuous": "ReplicationController/frontend'),
                         (".xml", "vacuous: ReplicationController/frontend")]:
        report = tmp_path / f"r{suffix}"
        assert run_cli("explore", path, "--report", report).exit_code == 0
        assert mark in report.read_text(), suffix
    assert run_cli("report", path, "-o", tmp_path / "r.md").exit_code == 0
    assert run_cli("report", path, "-o", tmp_path / "r.md", "--strict").exit_code == 3


def test_help_says_what_vacuous_means(run_cli):
    text = " ".join(run_cli("explore", "--help").stdout.split())
    assert "reported as vacuous" in text and "3 under --strict" in text
