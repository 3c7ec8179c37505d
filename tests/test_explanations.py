"""Every violation explained in one sentence, at the step that breaks it: text, JSON and reports.

The sentences name the object, the numbers compared and the bound they cross,
on the bundled scenarios that show each violation; the explainers agree with
the properties they explain on every state of small explorations (a sentence
exactly where the condition is false); ``-o json`` carries the sentence and
names the fields of the states' records (schema ``kspec-explore`` version 2).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given, strategies as st

from kspec.checker.explain import breaking_step, explain_result, explanation_of
from kspec.checker.explore import Explorer
from kspec.checker.model import Action, Kind, always, eventually_always
from kspec.checker.trace import build
from kspec.report.markdown import render as markdown
from kspec.report.sections import build_report, explore_section
from kspec.report.text import render as text
from kspec.simulation import properties as library
from kspec.simulation.modelfile import load_model

ROOT = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=None)
def violation(scenario: str, prop: str):
    """The explained result of ``prop`` on a bundled scenario, stopping at the first safety
    violation (explored once per test run)."""
    model = load_model(str(ROOT / "models" / scenario), {})
    result = Explorer(model, properties=(prop,), stop_at_first=True, symmetry=True).run()
    return model, explain_result(result, model.properties())


@pytest.mark.parametrize("scenario, prop, sentence", [
    ("rolling-update.yaml", "deployment-max-surge", "5 active pods of Deployment/web > 3 replicas + maxSurge 1"),
    ("myapp-node-crash.yaml", "service-always-has-endpoint", "Service backend-service has 0 ready endpoints"),
    ("drain-with-pdb.yaml", "deployment-min-available",
     "2 Ready pods of Deployment/web < 3 replicas - maxUnavailable 0"),
    ("statefulset-force-delete.yaml", "at-most-replicas-running",
     "4 containers of StatefulSet/db run at once (db-0 on node-1, db-1 on node-1, db-2 on node-2, "
     "a force-deleted pod's container on node-0) > 3 replicas"),
])
def test_a_safety_violation_is_explained_at_its_last_step(scenario, prop, sentence):
    _, result = violation(scenario, prop)
    trace = result[prop].trace
    assert trace.explanation == sentence
    assert [s.explanation for s in trace.steps] == [None] * (len(trace.steps) - 1) + [sentence]
    assert f"     => {sentence}" in str(result[prop])


def test_a_liveness_violation_is_explained_in_its_cycle():
    model = load_model(str(ROOT / "models/pinned-tainted-node.yaml"), {})
    result = explain_result(Explorer(model, properties=("rc-replicas-converge",), symmetry=True).run(),
                            model.properties())
    trace = result["rc-replicas-converge"].trace
    marked = [i for i, s in enumerate(trace.steps) if s.explanation]
    assert marked and marked[0] >= trace.cycle_start
    assert trace.explanation == ("ReplicationController/pinned has 0 active pods, not its 1 replicas, "
                                 "and it is never fixed for good from here")


def test_every_invariant_and_convergence_check_of_the_library_has_an_explainer():
    needing = {name for name, entry in library.LIBRARY.items() if entry.kind != "sometimes"}
    assert needing <= set(library.EXPLAINERS), sorted(needing - set(library.EXPLAINERS))


def _states(model, limit: int):
    """The first ``limit`` states breadth first (plain successors, no reduction)."""
    seen, queue = [], list(model.init_states())
    known = set(queue)
    while queue and len(seen) < limit:
        state = queue.pop(0)
        seen.append(state)
        for action in model.actions(state):
            nxt = model.next_state(state, action)
            if nxt is not None and nxt not in known:
                known.add(nxt)
                queue.append(nxt)
    return seen


@pytest.mark.parametrize("scenario", ["statefulset-force-delete.yaml", "rolling-update.yaml",
                                      "drain-blocked-by-pdb.yaml", "daemonset-node-crash.yaml",
                                      "unresponsive-pod-returns.yaml"])
def test_a_sentence_exactly_where_the_condition_is_false(scenario):
    model = load_model(str(ROOT / "models" / scenario), {})
    props = [p for p in model.properties() if p.explain is not None]
    assert props
    for state in _states(model, 250):
        for prop in props:
            assert prop.condition(state) == (prop.explain(state) is None), (prop.name, state)


def test_explore_json_names_states_and_carries_the_explanation(run_cli):
    # --no-slice: the one check asked for reads no Service, and the Services view is wanted here
    result = run_cli("explore", "models/rolling-update.yaml", "--property", "deployment-max-surge",
                     "--stop-at-first", "--no-slice", "-o", "json", "--no-progress")
    doc = json.loads(result.stdout)
    assert (doc["schema"], doc["version"]) == ("kspec-explore", 2)
    prop = doc["properties"][0]
    assert prop["explanation"] == "5 active pods of Deployment/web > 3 replicas + maxSurge 1"
    last = prop["trace"][-1]
    assert last["explanation"] == prop["explanation"]
    assert all("explanation" not in step for step in prop["trace"][:-1])
    pod = last["state"]["pods"][0]
    assert set(pod) == {"name", "group", "owner", "node", "phase", "ready", "deleting", "unschedulable", "run"}
    assert set(last["state"]["nodes"][0]) >= {"up", "reachable", "ready", "tainted", "cordoned", "orphans"}
    api, physical, services = last["views"]
    assert {lane["place"] for lane in api} >= {"node-1", "unscheduled"}
    assert all(set(lane) == {"place", "status", "items"} for lane in physical)
    assert services[0]["place"].startswith("Service ")


def test_report_rows_counterexamples_and_steps_carry_the_sentence():
    model, result = violation("myapp-node-crash.yaml", "service-always-has-endpoint")
    section = explore_section(result, model=model, model_path="models/myapp-node-crash.yaml")
    sentence = "Service backend-service has 0 ready endpoints"
    assert section.properties[0].explanation == sentence
    cx = section.counterexamples[0]
    assert cx.explanation == sentence and cx.steps[-1].explanation == sentence
    report = build_report([section], command_line=["kspec", "report"])
    assert report.verdicts[0].detail.startswith(sentence)
    assert f"**Why:** {sentence}" in markdown(report)
    assert f"=> {sentence}" in text(report)
    assert report.to_json()["explore"][0]["properties"][0]["explanation"] == sentence


# --------------------------------------------------------------------------- the generic part, on any model


@attrs.frozen
class Up(Action):
    actor = "counter"


class Counter:
    """Counts up to ``top`` and stays there."""

    def __init__(self, top: int):
        self.top = top

    def init_states(self):
        return [0]

    def actions(self, state):
        return [Up()]

    def next_state(self, state, action):
        return state + 1 if state < self.top else None

    def properties(self):
        return []

    def within_boundary(self, state):
        return True


@given(top=st.integers(1, 12), bound=st.integers(0, 12))
def test_the_breaking_step_of_an_invariant_is_the_first_bad_state(top, bound):
    prop = attrs.evolve(always("below", lambda s: s < bound), explain=lambda s: None if s < bound else f"{s} >= {bound}")
    states = list(range(min(top, bound) + 1))
    trace = build(states, [Up()] * (len(states) - 1), model=Counter(top))
    if bound > top:
        return
    assert breaking_step(prop, trace) == bound
    assert explanation_of(prop, trace.steps[bound].state) == f"{bound} >= {bound}"


@given(top=st.integers(1, 10), goal=st.integers(0, 12))
def test_a_convergence_lasso_is_explained_at_its_first_bad_state_in_the_cycle(top, goal):
    prop = eventually_always("reaches", lambda s: s == goal)
    states = list(range(top + 1))
    trace = build(states, [Up()] * top, cycle_start=top, model=Counter(top))
    if goal == top:
        return
    assert breaking_step(prop, trace) == top
    assert prop.kind is Kind.EVENTUALLY_ALWAYS
    assert explanation_of(prop, top) == "reaches is false here, and the behaviour never makes it true for good"


# --------------------------------------------------------------------------- scoring coverage under scheduler: all

RC = """\
apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx
          resources: {requests: {cpu: 500m, memory: 256Mi}}
"""


def _bind_paths(model):
    """Every path of scheduler binds from the applied manifests, up to both pods bound: (state, action) pairs."""
    frontier = [[(s, None)] for s in model.init_states()]
    done = []
    while frontier:
        path = frontier.pop()
        state = path[-1][0]
        if sum(1 for p in state.pods if p.node >= 0) == 2:
            done.append(path)
            continue
        for action in model.actions(state):
            nxt = model.next_state(state, action)
            if nxt is not None and action.actor in ("replication", "scheduler"):
                frontier.append(path + [(nxt, action)])
    return done


def test_a_bind_the_default_scoring_would_not_make_is_said_at_its_step(tmp_path):
    """Under ``scheduler: all`` both pods may land on one node; NodeResourcesFit's LeastAllocated
    (pkg/scheduler/framework/plugins/noderesources/least_allocated.go) ranks the empty node higher."""
    (tmp_path / "rc.yaml").write_text(RC)
    (tmp_path / "s.yaml").write_text("name: spread\nmanifests: [rc.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\n"
                                     "start: applied\nscheduler: all\nchecks: [rc-replicas-converge, replacement-created]\n")
    model = load_model(str(tmp_path / "s.yaml"), {})
    notes = {}
    for path in _bind_paths(model):
        binds = [(before, action, after) for (before, _), (after, action) in zip(path, path[1:])
                 if action.actor == "scheduler"]
        (_, _, first), (before, action, after) = binds
        together = {p.node for p in after.pods} == {p.node for p in first.pods if p.node >= 0}
        words = model.describe_step(before, action, after)
        notes[together] = [w for w in words if "not the default scoring's choice" in w]
    assert notes[False] == []
    assert len(notes[True]) == 1 and "LeastAllocated prefers node-" in notes[True][0]


def test_a_settled_placement_the_default_scoring_would_not_make_is_said_in_the_initial_state():
    model, result = violation("myapp-node-crash.yaml", "service-always-has-endpoint")
    initial = result["service-always-has-endpoint"].trace.steps[0].changes
    note = [line for line in initial if line.startswith("placement not the default scoring's choice")]
    assert note and "backend-0 on node-1 (it prefers node-2, node-3)" in note[0]
