"""Scenario checks written in CEL (kspec.simulation.scenario_cel): same verdicts as the
library's Python properties they restate, errors at their file and line."""

from __future__ import annotations

import pathlib
import shutil

import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from kspec.rules.cel import compile_expression
from kspec.simulation.scenario import ScenarioError, load_scenario
from kspec.simulation.scenario_cel import VARIABLES, state_view
from kspec.simulation.state import HUNG, NOT_RUNNING, PENDING, RUN_STATES, RUNNING, UP, NodeRec, World
from support.states import pod, state

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
WORLD = World(kspec.load([MODELS / "myapp"]))


def scenario(tmp_path, checks: str, extra: str = "faults: {budget: 1, kinds: [node-crash]}\n"):
    path = tmp_path / "s.yaml"
    shutil.copytree(MODELS / "myapp", tmp_path / "myapp", dirs_exist_ok=True)  # a scenario reads only beside it
    path.write_text(f"manifests: [myapp/]\n{extra}checks:\n{checks}")
    return path


def verdicts(path):
    result = Explorer(load_scenario(path), symmetry=True, progress=False).run()
    return result, {p.name: p.verdict for p in result.properties}


A_NODE_DOWN = """  - expression:
      name: a-node-down
      kind: sometimes
      cel: nodes.exists(n, !n.up)
"""


@pytest.mark.slow
def test_expressions_agree_with_the_library_properties_they_restate(tmp_path):
    checks = """  - service-always-has-endpoint: {service: backend-service}
  - expression:
      name: backend-endpoint
      cel: services["backend-service"].endpoints.size() > 0
  - rc-replicas-converge
  - expression:
      name: converge
      kind: eventually_always
      cel: >
        workloads.all(w, pods.filter(p, p.workload == w && p.phase in ["Pending", "Running"]
                                     && !p.terminating).size() == workloads[w].replicas)
  - fault-then-converged
""" + A_NODE_DOWN
    result, v = verdicts(scenario(tmp_path, checks))
    assert v["backend-endpoint"] is v["service-always-has-endpoint"] is Verdict.VIOLATED
    assert v["converge"] is v["rc-replicas-converge"] is Verdict.HOLDS
    assert v["a-node-down"] is v["fault-then-converged"] is Verdict.HOLDS
    assert len(result["backend-endpoint"].trace) == len(result["service-always-has-endpoint"].trace)


def test_sometimes_expression_alone_is_a_scenario_s_checks(tmp_path):
    """Alone it makes a scenario's checks (its verdict is checked above)."""
    model = load_scenario(scenario(tmp_path, A_NODE_DOWN))
    assert [p.name for p in model.properties()] == ["a-node-down"]


@pytest.mark.parametrize("body, line, message", [
    ("      name: x\n      cel: pods.exists(p, p.ready &&)\n", 7, "cel: CEL 1:26: Syntax error"),
    ("      name: x\n      cel: pods.size()\n", 7, "gives int, not bool"),
    ("      name: x\n      kind: never\n      cel: true\n", 7, "kind must be one of"),
    ("      cel: 'true'\n", 5, "name: missing required key"),
    ("      name: x\n      cel: 'true'\n      colour: red\n", 8, "unknown key 'colour'"),
])
def test_expression_errors_name_file_line_and_field(tmp_path, body, line, message):
    path = scenario(tmp_path, "  - fault-then-converged\n  - expression:\n" + body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert f"s.yaml:{line}:" in text and message in text, text


def test_duplicate_check_names_are_an_error(tmp_path):
    path = scenario(tmp_path, "  - fault-then-converged\n  - expression:\n      name: fault-then-converged\n"
                              "      kind: sometimes\n      cel: true\n")
    with pytest.raises(ScenarioError, match="two checks are named 'fault-then-converged'"):
        load_scenario(path)


def test_an_expression_that_fails_on_a_state_stops_with_one_line(tmp_path, run_cli):
    """What the schema check cannot see (an index past the end) fails on a state."""
    path = scenario(tmp_path, "  - fault-then-converged\n  - expression:\n      name: bad-index\n"
                              "      cel: pods[99].ready\n")
    result = run_cli("explore", path)
    assert result.exit_code == 2
    assert "check 'bad-index'" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- the view against the state


@st.composite
def states(draw):
    nodes = [NodeRec(up=draw(st.booleans()), reachable=draw(st.booleans())) for _ in WORLD.nodes]
    pods = []
    for k in range(draw(st.integers(0, 6))):
        group = draw(st.sampled_from([0, 1]))
        node = draw(st.integers(-1, len(nodes) - 1))
        run = draw(st.sampled_from(RUN_STATES)) if node >= 0 and nodes[node].up else NOT_RUNNING
        phase = RUNNING if node >= 0 and draw(st.booleans()) else PENDING
        pods.append(pod(f"{WORLD.groups[group].prefix}{k}", group=group, owner=draw(st.sampled_from([-1, group])),
                        node=node, phase=phase, ready=phase == RUNNING and draw(st.booleans()),
                        deleting=draw(st.booleans()), containers=run))
    return state(WORLD, pods, nodes, faults=(0,))


RUNNING_FRONTEND = compile_expression('pods.filter(p, p.workload == "frontend" && p.running).size()', VARIABLES)
UNBOUND = compile_expression('pods.filter(p, p.node == "").map(p, p.name)', VARIABLES)
CUT_OFF = compile_expression("nodes.filter(n, n.up && !n.reachable).size()", VARIABLES)


@given(states())
def test_state_view_matches_the_state(state):
    view = state_view(WORLD, state)
    frontend = [w.name for w in WORLD.workloads].index("frontend")
    running = sum(1 for p in state.pods if p.owner == frontend and p.run in (UP, HUNG) and state.nodes[p.node].up)
    assert RUNNING_FRONTEND.evaluate(view) == running
    assert UNBOUND.evaluate(view) == [p.name for p in state.pods if p.node < 0]
    assert CUT_OFF.evaluate(view) == sum(1 for n in state.nodes if n.up and not n.reachable)


def node_1_down(tmp_path):
    return scenario(tmp_path, "  - expression:\n      name: node-1-down\n      kind: sometimes\n"
                              "      cel: nodes.exists(n, n.name == \"node-1\" && !n.up)\n")


def test_nodes_named_by_a_check_or_a_drain_are_kept_out_of_node_symmetry(tmp_path):
    """A check about "node-1" is not invariant under swapping node-1 with its twins."""
    classes = load_scenario(node_1_down(tmp_path))._canon.classes
    assert classes[0] not in classes[1:] and classes[1] == classes[2]
    drain = load_scenario(MODELS / "drain-with-pdb.yaml")._canon.classes
    assert drain[0] not in drain[1:]


@pytest.mark.slow  # 7 s: myapp explored with node-1 out of the node symmetry
def test_a_check_about_one_node_is_decided_on_that_node(tmp_path):
    _, v = verdicts(node_1_down(tmp_path))
    assert v == {"node-1-down": Verdict.HOLDS}
