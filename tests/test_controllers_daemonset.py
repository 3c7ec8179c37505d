"""The DaemonSet controller as a pure transition function.

Cases follow ``pkg/controller/daemon`` (``syncNodes``, ``NodeShouldRunDaemonPod``,
``util.AddOrUpdateDaemonPodTolerations``) and the scheduler's handling of a
daemon pod's ``matchFields`` node affinity.
"""

from __future__ import annotations

import pathlib

from hypothesis import given, strategies as st

import kspec
from kspec.simulation.controllers.daemonset import DaemonSetController, should_run, target_node
from kspec.simulation.controllers.scheduler import Scheduler
from kspec.simulation.symmetry import node_classes
from kspec.simulation.state import (
    FAILED, NOT_RUNNING, PENDING, READY, RUNNING, UNKNOWN, UP, NodeRec, World, well_formed,
)
from support import states as build
from support.profiles import examples

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
NODES = MODELS / "myapp" / "nodes.yaml"
WORLD = World(kspec.load([MODELS / "agent", NODES]))
AGENT = 0
GROUP = WORLD.workloads[AGENT].group


def world_with(tmp_path, extra: str) -> World:
    text = (MODELS / "agent" / "agent.yaml").read_text().replace("    spec:\n      containers:",
                                                                  f"    spec:\n{extra}      containers:")
    (tmp_path / "agent.yaml").write_text(text)
    return World(kspec.load([tmp_path / "agent.yaml", NODES]))


def pod(node, phase=RUNNING, ready=True, deleting=False, bound=True, world=WORLD):
    """The daemon pod named for ``node``; bound to it unless ``bound`` is false."""
    return build.owned_pod(world, AGENT, f"agent-{world.node_names[node]}", node=node if bound else -1, phase=phase,
                           ready=ready and phase == RUNNING, deleting=deleting,
                           containers=UP if phase == RUNNING else NOT_RUNNING)


def state(pods=(), nodes=None, world=WORLD):
    return build.state(world, pods, nodes)


def test_daemon_pods_get_the_controllers_tolerations_and_are_never_evicted():
    tolerations = {(t.key, t.effect) for t in WORLD.groups[GROUP].pod.spec.tolerations}
    assert ("node.kubernetes.io/unreachable", "NoExecute") in tolerations
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tolerations
    assert WORLD.groups[GROUP].unreachable_level is None  # no tolerationSeconds: stays forever


def test_syncNodes_creates_a_pod_for_every_node_in_one_sync():
    (action, nxt), = DaemonSetController().steps(WORLD, state())
    assert action.create == ("agent-node-1", "agent-node-2", "agent-node-3")
    assert all(p.node == -1 and p.owner == AGENT for p in nxt.pods)


def test_scheduler_binds_a_daemon_pod_to_its_own_node_only():
    s = state([pod(1, PENDING, bound=False)])
    (action, nxt), = Scheduler().steps(WORLD, s)
    assert action.node == "node-2" and target_node(WORLD, GROUP, "agent-node-2") == 1


def test_unreachable_node_keeps_its_daemon_pod_but_gets_no_new_one():
    unknown = [NodeRec(), NodeRec(ready=UNKNOWN, tainted=True), NodeRec()]
    assert should_run(WORLD, state(nodes=unknown), AGENT, 1) == (False, True)  # NoSchedule unreachable: no new pod
    s = state([pod(0), pod(1, ready=False), pod(2)], unknown)
    assert list(DaemonSetController().steps(WORLD, s)) == []


def test_failed_daemon_pod_is_deleted_then_made_again():
    s = state([pod(0, FAILED), pod(1), pod(2)])
    (action, nxt), = DaemonSetController().steps(WORLD, s)
    assert action.delete == ("agent-node-1",) and nxt.pod("agent-node-1") is None
    (action, _), = DaemonSetController().steps(WORLD, nxt)
    assert action.create == ("agent-node-1",)


def test_nodeSelector_limits_the_nodes_and_a_mismatch_deletes(tmp_path):
    world = world_with(tmp_path, "      nodeSelector: {topology.kubernetes.io/zone: zone-a}\n")
    (action, _), = DaemonSetController().steps(world, state(world=world))
    assert action.create == ("agent-node-1",)
    (action, _), = DaemonSetController().steps(world, state([pod(1, world=world)], world=world))
    assert action.delete == ("agent-node-2",) and action.create == ("agent-node-1",)


def test_daemon_pod_that_does_not_fit_stays_pending_with_upstreams_message(tmp_path):
    text = (MODELS / "agent" / "agent.yaml").read_text().replace("cpu: 100m", "cpu: '3'")
    (tmp_path / "agent.yaml").write_text(text)
    big = World(kspec.load([tmp_path / "agent.yaml", NODES]))
    (action, _), = Scheduler().steps(big, state([pod(0, PENDING, bound=False, world=big)], world=big))
    assert action.message == ("0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, "
                              "1 Insufficient cpu.")


def test_node_symmetry_is_off_when_a_daemonset_runs():
    assert node_classes(WORLD) == (0, 1, 2)


def test_converged_daemonset_is_a_fixed_point():
    assert list(DaemonSetController().steps(WORLD, state([pod(n) for n in range(3)]))) == []


@st.composite
def states(draw):
    nodes = [NodeRec(ready=draw(st.sampled_from([READY, UNKNOWN])), tainted=draw(st.booleans())) for _ in WORLD.nodes]
    pods = []
    for n in sorted(draw(st.sets(st.integers(0, 2), max_size=3))):
        phase = draw(st.sampled_from([PENDING, RUNNING, FAILED]))
        pods.append(pod(n, phase, ready=draw(st.booleans()), deleting=draw(st.booleans()), bound=phase != PENDING))
    return state(pods, nodes)


@examples(150)
@given(states())
def test_every_daemonset_step_preserves_well_formed_and_one_pod_per_node(s):
    for action, nxt in DaemonSetController().steps(WORLD, s):
        assert nxt != s and well_formed(nxt, WORLD) == [], action
        for p in nxt.pods:  # each pod is its node's, by name
            assert p.node in (-1, target_node(WORLD, GROUP, p.name))
