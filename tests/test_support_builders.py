"""The test builders (``tests/support``) make exactly the records the model makes."""

from __future__ import annotations

import pathlib

from hypothesis import given, settings, strategies as st

import kspec
from kspec.simulation.state import NOT_RUNNING, PENDING, RUN_STATES, RUNNING, UP, NodeRec, PodRec, State, World
from support import profiles
from support.states import owned_pod, pod, running_pod, state

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
WORLD = World(kspec.load([MODELS / "myapp"]))


def test_pod_defaults_are_the_records_defaults():
    assert pod("web-0") == PodRec("web-0", 0)
    builder = {"owner": -1, "node": -1, "phase": PENDING, "ready": False, "deleting": False,
               "unschedulable": False, "run": NOT_RUNNING}
    assert PodRec._field_defaults == builder


@given(st.text(max_size=5), st.integers(-1, 3), st.integers(-1, 3), st.integers(-1, 3),
       st.sampled_from([PENDING, RUNNING]), st.booleans(), st.booleans(), st.booleans(), st.sampled_from(RUN_STATES))
def test_pod_keywords_are_the_positional_fields_in_order(name, group, owner, node, phase, ready, deleting,
                                                         unschedulable, run):
    built = pod(name, group=group, owner=owner, node=node, phase=phase, ready=ready, deleting=deleting,
                unschedulable=unschedulable, containers=run)
    assert built == PodRec(name, group, owner, node, phase, ready, deleting, unschedulable, run)


def test_owned_and_running_pods_take_group_and_owner_from_the_workload():
    frontend = [w.name for w in WORLD.workloads].index("frontend")
    group = WORLD.workloads[frontend].group
    assert owned_pod(WORLD, frontend, "frontend-0") == PodRec("frontend-0", group, frontend)
    assert running_pod(WORLD, frontend, "frontend-0", node=1) == PodRec(
        "frontend-0", group, frontend, 1, RUNNING, True, False, False, UP)


def test_state_defaults_to_healthy_nodes_no_endpoints_and_manifest_replicas():
    b, a = pod("b"), pod("a")
    built = state(WORLD, [b, a])
    assert built == State((a, b), tuple(NodeRec() for _ in WORLD.nodes), tuple(() for _ in WORLD.services),
                          tuple(w.replicas for w in WORLD.workloads), (), (), 0)
    assert state(WORLD, faults=(0,), ops=1, replicas=(0, 0)) == State(
        (), built.nodes, built.endpoints, (0, 0), (), (0,), 1)


def test_examples_scale_with_the_profile():
    assert profiles.examples(40).max_examples == 40 * settings.default.max_examples // profiles.FAST_EXAMPLES
