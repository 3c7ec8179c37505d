"""The DaemonSet controller's node predicate, against upstream's own cases.

Upstream: ``pkg/controller/daemon/daemon_controller.go`` ``NodeShouldRunDaemonPod``
(with ``predicates`` and ``NewPod``, which adds
``util.AddOrUpdateDaemonPodTolerations``) and the tests of
``pkg/controller/daemon/daemon_controller_test.go``, whose names and fixtures
these follow: ``newDaemonSet("foo")`` selecting ``simpleDaemonSetLabel``,
nodes ``node-0``, ``node-1``, ... from ``addNodes``, and
``expectSyncDaemonSets(creates, deletes)`` read as the pods one
:class:`DaemonSetSync` creates and deletes.

The case that disagreed before: a template ``spec.nodeName`` was
ignored, so ``nodeName: node-2`` on three nodes made three pods, all bound to
node-2, and a name that names no node made one Pending pod per node.
"""

from __future__ import annotations

import pathlib

import pytest

import kspec
from kspec.checker.model import Verdict
from kspec.loading.manifests import parse_object
from kspec.simulation.controllers.daemonset import DaemonSetController, node_should_run_daemon_pod, should_run
from kspec.simulation.state import RUNNING, UP, World
from support import manifests, states as build

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
SIMPLE_DAEMONSET_LABEL = {"name": "simple-daemon", "type": "production"}
SIMPLE_DAEMONSET_LABEL2 = {"name": "simple-daemon", "type": "test"}
SIMPLE_NODE_LABEL = {"color": "blue", "speed": "fast"}
SIMPLE_NODE_LABEL2 = {"color": "red", "speed": "fast"}
NO_SCHEDULE_TAINT = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}
NO_EXECUTE_TAINT = {"key": "dedicated", "value": "user1", "effect": "NoExecute"}
NO_SCHEDULE_TOLERATION = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}
DS = 0  # the DaemonSet is the only workload


def daemonset(**pod_spec):
    """``newDaemonSet("foo")`` with ``pod_spec`` merged into its template's spec."""
    spec = {"containers": [{"name": "c", "image": "foo/bar"}], **pod_spec}
    return parse_object({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "foo", "namespace": "default"},
        "spec": {"selector": {"matchLabels": SIMPLE_DAEMONSET_LABEL},
                 "template": {"metadata": {"labels": SIMPLE_DAEMONSET_LABEL}, "spec": spec}},
    })


def resources(memory, cpu):
    """``resourcePodSpec``'s container: requests of ``memory`` and ``cpu``."""
    return [{"name": "c", "image": "foo/bar", "resources": {"requests": {"memory": memory, "cpu": cpu}}}]


def node(name, labels=None, taints=(), unschedulable=False):
    """``newNode``: Ready, 100 pods allocatable (upstream adds no hostname label)."""
    return manifests.node(name, labels, alloc={"cpu": "1", "memory": "100M", "pods": "100"}, taints=taints,
                          unschedulable=unschedulable, hostname=False)


def add_nodes(start, count, labels=None):
    """``addNodes(nodeStore, start, count, labels)``."""
    return [node(f"node-{i}", labels) for i in range(start, start + count)]


def world(ds, nodes) -> World:
    return World(manifests.cluster(ds, *nodes))


def expect_sync(w: World, pods=()) -> tuple[int, int]:
    """``expectSyncDaemonSets``: (creates, deletes) of one sync from a state holding ``pods``."""
    steps = list(DaemonSetController().steps(w, build.state(w, pods)))
    if not steps:
        return 0, 0
    (action, _), = steps
    return len(action.create), len(action.delete)


def running(w: World, node_index: int):
    """A daemon pod of ``foo`` already Running on the node (``newPod(..., nodeName, simpleDaemonSetLabel, ds)``)."""
    return build.running_pod(w, DS, f"foo-{w.node_names[node_index]}", node=node_index, containers=UP)


# --------------------------------------------------------------------------- TestNodeShouldRunDaemonPod


TYPE_IN = lambda value: {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {  # noqa: E731
    "nodeSelectorTerms": [{"matchExpressions": [{"key": "type", "operator": "In", "values": [value]}]}]}}}

# (predicateName, template spec, node unschedulable, shouldRun, shouldContinueRunning); podsOnNode of
# upstream's table (host ports, requests) are left out: the predicate never looks at other pods.
NODE_SHOULD_RUN_CASES = [
    ("ShouldRunDaemonPod", {"containers": resources("50M", "0.5")}, False, True, True),
    ("InsufficientResourceError", {"containers": resources("200M", "0.5")}, False, True, True),
    ("ErrPodNotMatchHostName", {"nodeName": "other-node", "containers": resources("50M", "0.5")}, False, False, False),
    ("ErrPodNotFitsHostPorts", {"containers": [{"name": "c", "image": "foo/bar", "ports": [{"hostPort": 666,
                                                                                              "containerPort": 666}]}]},
     False, True, True),
    ("InsufficientResourceError-podsOnNode", {"containers": resources("100M", "0.5")}, False, True, True),
    ("ErrNodeSelectorNotMatch", {"nodeSelector": SIMPLE_DAEMONSET_LABEL2}, False, False, False),
    ("ShouldRunDaemonPod-nodeSelector", {"nodeSelector": SIMPLE_DAEMONSET_LABEL}, False, True, True),
    ("ErrPodAffinityNotMatch", {"affinity": TYPE_IN("test")}, False, False, False),
    ("ShouldRunDaemonPod-nodeAffinity", {"affinity": TYPE_IN("production")}, False, True, True),
    ("ShouldRunDaemonPodOnUnschedulableNode", {"containers": resources("50M", "0.5")}, True, True, True),
]


@pytest.mark.parametrize("case, spec, unschedulable, run, keep", NODE_SHOULD_RUN_CASES,
                         ids=[c[0] for c in NODE_SHOULD_RUN_CASES])
def test_TestNodeShouldRunDaemonPod(case, spec, unschedulable, run, keep):
    test_node = node("test-node", SIMPLE_DAEMONSET_LABEL, unschedulable=unschedulable)
    w = world(daemonset(**spec), [test_node])
    pod_spec = w.groups[w.workloads[DS].group].pod.spec
    assert node_should_run_daemon_pod(pod_spec, test_node) == (run, keep)
    assert should_run(w, build.state(w), DS, 0) == (run, keep)


# --------------------------------------------------------------------------- spec.nodeName (the disagreement)


def test_TestNameDaemonSetLaunchesPods():
    """DaemonSet with node name should launch pod on node with corresponding name."""
    w = world(daemonset(nodeName="node-0"), add_nodes(0, 5))
    assert expect_sync(w) == (1, 0)
    (action, nxt), = DaemonSetController().steps(w, build.state(w))
    assert action.create == ("foo-node-0",) and nxt.pods[0].node == 0  # bound at creation, as nodeName does


def test_TestBadNameDaemonSetDoesNothing():
    """DaemonSet with node name that does not exist should not launch pods."""
    assert expect_sync(world(daemonset(nodeName="node-10"), add_nodes(0, 5))) == (0, 0)


def test_TestNameAndSelectorDaemonSetLaunchesPods():
    """DaemonSet with node selector, and node name, matching a node, should launch a pod on the node."""
    w = world(daemonset(nodeSelector=SIMPLE_NODE_LABEL, nodeName="node-6"),
              add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL))
    assert expect_sync(w) == (1, 0)


def test_TestInconsistentNameSelectorDaemonSetDoesNothing():
    """Node selector matching some nodes, node name matching a different node: nothing."""
    w = world(daemonset(nodeSelector=SIMPLE_NODE_LABEL, nodeName="node-0"),
              add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL))
    assert expect_sync(w) == (0, 0)


def test_NodeShouldRunDaemonPod_nodeName_deletes_a_daemon_pod_on_another_node():
    """``podsShouldBeOnNode``: ``!shouldContinueRunning && exists`` deletes, so a daemon pod left
    on a node the template's nodeName does not name goes."""
    w = world(daemonset(nodeName="node-1"), add_nodes(0, 3))
    assert expect_sync(w, [running(w, 0), running(w, 1)]) == (0, 1)


def _scenario(tmp_path, node_name: str):
    agent = (MODELS / "agent" / "agent.yaml").read_text()
    (tmp_path / "agent.yaml").write_text(agent.replace("    spec:\n      containers:",
                                                       f"    spec:\n      nodeName: {node_name}\n      containers:"))
    (tmp_path / "nodes.yaml").write_text((MODELS / "myapp" / "nodes.yaml").read_text())
    (tmp_path / "s.yaml").write_text(
        "name: ds-node-name\nmanifests: [agent.yaml, nodes.yaml]\nfaults: {kinds: {node-crash: 1, node-restart: 1}}\n"
        "checks: [daemonset-on-every-node, fault-then-converged]\n")
    return kspec.load_model(tmp_path / "s.yaml")


def test_issue_14_nodeName_node_2_on_three_nodes_makes_one_pod_bound_to_node_2(tmp_path):
    """The disagreement measured before the fix: upstream makes one pod, for node-2 only."""
    model = _scenario(tmp_path, "node-2")
    initial, = model.init_states()
    assert [(p.name, model.world.node_names[p.node], p.ready) for p in initial.pods] == [("agent-node-2", "node-2",
                                                                                          True)]
    result = kspec.explore(model)
    assert result["daemonset-on-every-node"].verdict is Verdict.HOLDS
    assert result["fault-then-converged"].verdict is Verdict.HOLDS


def test_issue_14_nodeName_naming_no_node_makes_no_pod(tmp_path):
    """Upstream: no node passes ``NodeShouldRunDaemonPod``, so no pod (kspec made one Pending pod per node)."""
    initial, = _scenario(tmp_path, "node-9").init_states()
    assert initial.pods == ()


# --------------------------------------------------------------------------- selectors and affinity


def test_TestSelectorDaemonLaunchesPods():
    w = world(daemonset(nodeSelector=SIMPLE_NODE_LABEL), add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL))
    assert expect_sync(w) == (3, 0)


def test_TestBadSelectorDaemonDoesNothing():
    w = world(daemonset(nodeSelector=SIMPLE_NODE_LABEL2), add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL))
    assert expect_sync(w) == (0, 0)


def test_TestNodeAffinityDaemonLaunchesPods():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "color", "operator": "In", "values": [SIMPLE_NODE_LABEL["color"]]}]}]}}}
    w = world(daemonset(affinity=affinity), add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL))
    assert expect_sync(w) == (3, 0)


def test_TestSelectorDaemonDeletesUnselectedPods_one_pod_per_node():
    """Upstream's case, restricted to one daemon pod per node (kspec names a daemon pod after its node):
    pods on node-1 and node-4, unselected, go; node-5..9 get one each."""
    w = world(daemonset(nodeSelector=SIMPLE_NODE_LABEL), add_nodes(0, 5) + add_nodes(5, 5, SIMPLE_NODE_LABEL))
    assert expect_sync(w, [running(w, 1), running(w, 4)]) == (5, 2)


# --------------------------------------------------------------------------- taints and the controller's tolerations


def test_TestTaintedNodeDaemonDoesNotLaunchIntolerantPod():
    assert expect_sync(world(daemonset(), [node("tainted", taints=[NO_SCHEDULE_TAINT])])) == (0, 0)


def test_TestTaintedNodeDaemonLaunchesToleratePod():
    w = world(daemonset(tolerations=[NO_SCHEDULE_TOLERATION]), [node("tainted", taints=[NO_SCHEDULE_TAINT])])
    assert expect_sync(w) == (1, 0)


def test_TestNodeDaemonLaunchesToleratePod():
    assert expect_sync(world(daemonset(tolerations=[NO_SCHEDULE_TOLERATION]), add_nodes(0, 1))) == (1, 0)


def test_TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod():
    w = world(daemonset(), [node("tainted", taints=[NO_SCHEDULE_TAINT])])
    assert expect_sync(w, [running(w, 0)]) == (0, 0)


def test_TestNoExecuteTaintedDoesEvicitRunningIntolerantPod():
    w = world(daemonset(), [node("tainted", taints=[NO_EXECUTE_TAINT])])
    assert expect_sync(w, [running(w, 0)]) == (0, 1)


def test_TestNotReadyNodeDaemonLaunchesPod():
    """not-ready:NoExecute is tolerated by the controller's default tolerations."""
    w = world(daemonset(), [node("tainted", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])])
    assert expect_sync(w) == (1, 0)


def test_TestUnreachableNodeDaemonLaunchesPod():
    w = world(daemonset(), [node("tainted", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}])])
    assert expect_sync(w) == (1, 0)


def test_TestTaintPressureNodeDaemonLaunchesPod():
    pressure = [{"key": f"node.kubernetes.io/{k}-pressure", "effect": "NoSchedule"} for k in ("disk", "memory", "pid")]
    assert expect_sync(world(daemonset(), [node("resources-pressure", taints=pressure)])) == (1, 0)


def test_TestInsufficientCapacityNodeDaemonDoesNotUnscheduleRunningPod():
    """nodeName plus requests beyond the node: the controller still creates the pod (resources are
    the kubelet's and the scheduler's business)."""
    w = world(daemonset(nodeName="too-much-mem", containers=resources("75M", "75m")),
              [manifests.node("too-much-mem", alloc={"cpu": "200m", "memory": "100M", "pods": "100"},
                              hostname=False)])
    assert expect_sync(w) == (1, 0)


def test_hostNetwork_daemon_pod_tolerates_network_unavailable():
    """``AddOrUpdateDaemonPodTolerations`` adds ``node.kubernetes.io/network-unavailable:NoSchedule``
    when the template has ``hostNetwork: true`` (the CNI agent must run on a node whose network is not
    up yet): ``(True, True)`` and one create; without hostNetwork the taint keeps the pod off."""
    tainted = node("network-unavailable", taints=[{"key": "node.kubernetes.io/network-unavailable",
                                                   "effect": "NoSchedule"}])
    w = world(daemonset(hostNetwork=True), [tainted])
    assert should_run(w, build.state(w), DS, 0) == (True, True)
    assert expect_sync(w) == (1, 0)
    w = world(daemonset(), [tainted])
    assert should_run(w, build.state(w), DS, 0) == (False, True)
    assert expect_sync(w) == (0, 0)


def test_TestNetworkUnavailableNodeDaemonLaunchesPod():
    """The NetworkUnavailable condition alone (no taint) does not stop a daemon pod."""
    unavailable = parse_object({
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "network-unavailable"},
        "status": {"allocatable": {"cpu": "1", "memory": "100M", "pods": "100"},
                   "conditions": [{"type": "NetworkUnavailable", "status": "True"}]}})
    assert expect_sync(world(daemonset(), [unavailable])) == (1, 0)


def test_converged_daemonset_with_nodeName_is_a_fixed_point():
    w = world(daemonset(nodeName="node-1"), add_nodes(0, 3))
    pod = build.pod("foo-node-1", group=w.workloads[DS].group, owner=DS, node=1, phase=RUNNING, ready=True,
                    containers=UP)
    assert list(DaemonSetController().steps(w, build.state(w, [pod]))) == []

