"""ReplicationController/ReplicaSet controller: ranking, claiming, reconcile.

Cases follow upstream tests: ``TestSortingActivePodsWithRanks`` and
``TestGetPodsToDelete`` (pkg/controller/controller_utils_test.go,
pkg/controller/replicaset/replica_set_test.go) and ``TestClaimPods``
(pkg/controller/controller_ref_manager_test.go).
"""

from __future__ import annotations

import pytest

from kspec.loading.cluster import Cluster
from kspec.simulation.controllers.replication import ReplicationControllerLoop, claim, deletion_key, pods_to_delete, status
from kspec.loading.manifests import parse_object
from kspec.simulation.state import FAILED, RUNNING, UP, World, is_active
from support import states as build
from support.states import pod


def rc(name="web", replicas=2, selector=None, labels=None, annotations=None, kind="ReplicationController"):
    labels = labels or {"app": name}
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name},
            "spec": {"replicas": replicas,
                     "template": {"metadata": {"labels": labels, "annotations": annotations or {}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}}
    if kind == "ReplicaSet":
        body["apiVersion"] = "apps/v1"
        body["spec"]["selector"] = {"matchLabels": selector or labels}
    else:
        body["spec"]["selector"] = selector or labels
    return parse_object(body)


def node(name):
    return parse_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                         "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})


def bare_pod(name, labels, owner=None):
    meta = {"name": name, "labels": labels}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ReplicationController", "name": owner,
                                    "uid": "u", "controller": True}]
    return parse_object({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                         "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}})


def world_of(*objects, nodes=2):
    return World(Cluster.from_objects(list(objects) + [node(f"n{i}") for i in range(nodes)]))


def state_of(world, pods, replicas=None):
    return build.state(world, pods, replicas=replicas)


def running(name, node, ready=True, owner=0, group=0, deleting=False):
    return pod(name, group=group, owner=owner, node=node, phase=RUNNING, ready=ready, deleting=deleting, containers=UP)


def test_TestSortingActivePodsWithRanks_order_of_criteria():
    """Unassigned < assigned; Pending < Running; not ready < ready; lower
    deletion cost first; more co-located pods (rank) first."""
    world = world_of(rc())
    pods = [pod("a", group=0, owner=0), pod("b", group=0, owner=0, node=0), running("c", 0, ready=False), running("d", 1)]
    state = state_of(world, pods)
    keys = [deletion_key(world, state, i, rank=0) for i in range(4)]
    assert keys == sorted(keys)
    assert len(set(keys)) == 4
    # rank: a pod on a node with more related pods is deleted first (doubled up < not doubled up)
    assert deletion_key(world, state, 3, rank=2) < deletion_key(world, state, 3, rank=1)


def test_TestSortingActivePodsWithRanks_deletion_cost_annotation():
    world = world_of(rc(name="cheap", annotations={"controller.kubernetes.io/pod-deletion-cost": "-10"}),
                     rc(name="dear", annotations={"controller.kubernetes.io/pod-deletion-cost": "10"}))
    state = state_of(world, [running("cheap-0", 0, owner=0, group=0), running("dear-0", 0, owner=1, group=1)])
    assert deletion_key(world, state, 0, 0) < deletion_key(world, state, 1, 0)


def test_TestGetPodsToDelete_prefers_not_ready_then_doubled_up():
    world = world_of(rc(replicas=1), nodes=2)
    pods = [running("web-0", 0), running("web-1", 0), running("web-2", 1, ready=False)]
    state = state_of(world, pods, replicas=[1])
    choices = pods_to_delete(world, state, 0, [0, 1, 2], 2)
    # the not-ready pod always goes; then one of the two doubled-up pods on n0 (a tie: both choices)
    assert sorted(choices) == [(0, 2), (1, 2)]


def test_TestGetPodsToDelete_ties_are_nondeterministic_only_at_the_boundary():
    world = world_of(rc(replicas=1), nodes=3)
    pods = [pod("web-0", group=0, owner=0), running("web-1", 1), running("web-2", 2)]
    state = state_of(world, pods, replicas=[1])
    # diff 1: the unassigned pod, no choice
    assert pods_to_delete(world, state, 0, [0, 1, 2], 1) == [(0,)]
    # diff 2: the unassigned pod and either running pod
    assert sorted(pods_to_delete(world, state, 0, [0, 1, 2], 2)) == [(0, 1), (0, 2)]


def test_TestClaimPods_adopts_matching_orphans_and_ignores_others():
    """Controller can claim orphans; cannot claim pods owned by another
    controller; does not claim orphans marked for deletion."""
    world = world_of(rc(name="a", selector={"app": "web"}, labels={"app": "web"}),
                     rc(name="b", selector={"app": "web", "t": "x"}, labels={"app": "web", "t": "x"}))
    pods = [pod("orphan", group=1), pod("owned-by-b", group=1, owner=1), pod("dying", group=0, deleting=True)]
    state = state_of(world, pods)
    active = [i for i, p in enumerate(state.pods) if is_active(p)]
    claimed, adopt, release = claim(world, state, 0, active)
    names = [state.pods[i].name for i in claimed]
    assert names == ["orphan"] and [state.pods[i].name for i in adopt] == ["orphan"] and release == []


def test_TestClaimPods_releases_owned_pods_whose_labels_no_longer_match():
    world = world_of(rc(name="web", selector={"app": "web"}), bare_pod("stray", {"app": "other"}, owner="web"))
    state = state_of(world, [pod("stray", group=1, owner=world.owner_of_ref(world.bare_pods[0][0]))])
    assert state.pods[0].owner == 0
    steps = list(ReplicationControllerLoop().steps(world, state))
    assert len(steps) == 1
    action, nxt = steps[0]
    assert action.release == ("stray",) and nxt.pod("stray").owner == -1
    assert len(action.create) == 2  # the released pod does not count


def test_syncReplicaSet_creates_the_difference_in_one_sync():
    world = world_of(rc(replicas=3))
    state = state_of(world, [])
    (action, nxt), = ReplicationControllerLoop().steps(world, state)
    assert action.create == ("web-0", "web-1", "web-2")
    assert [p.owner for p in nxt.pods] == [0, 0, 0]
    assert status(world, nxt, 0).replicas == 3


def test_syncReplicaSet_ignores_terminating_and_failed_pods():
    world = world_of(rc(replicas=1))
    pods = [running("web-0", 0, deleting=True), pod("web-1", group=0, owner=0, node=0, phase=FAILED)]
    (action, _), = ReplicationControllerLoop().steps(world, state_of(world, pods))
    assert action.create == ("web-2",)


def test_converged_state_is_a_fixed_point():
    world = world_of(rc(replicas=2))
    state = state_of(world, [running("web-0", 0), running("web-1", 1)])
    assert list(ReplicationControllerLoop().steps(world, state)) == []


def test_scale_down_deletes_unbound_pod_at_once_and_bound_pod_gracefully():
    world = world_of(rc(replicas=1))
    state = state_of(world, [pod("web-0", group=0, owner=0), running("web-1", 0), running("web-2", 1)], replicas=[0])
    (action, nxt), = ReplicationControllerLoop().steps(world, state)
    assert set(action.delete) == {"web-0", "web-1", "web-2"}
    assert nxt.pod("web-0") is None  # unscheduled: deleted immediately (CheckGracefulDelete)
    assert nxt.pod("web-1").deleting and nxt.pod("web-2").deleting


def test_deleted_workload_is_not_synced():
    world = world_of(rc(replicas=2))
    assert list(ReplicationControllerLoop().steps(world, state_of(world, [], replicas=[None]))) == []


def test_replicaset_uses_the_same_loop():
    world = world_of(rc(kind="ReplicaSet", replicas=1))
    (action, nxt), = ReplicationControllerLoop().steps(world, state_of(world, []))
    assert world.workloads[0].kind == "ReplicaSet" and len(nxt.pods) == 1


@pytest.mark.parametrize("replicas", [0, 1, 2, 3])
def test_sync_then_sync_again_is_idle_for_any_replicas(replicas):
    world = world_of(rc(replicas=3))
    state = state_of(world, [running("web-0", 0), running("web-1", 1), running("web-2", 0)], replicas=[replicas])
    loop = ReplicationControllerLoop()
    for _, nxt in loop.steps(world, state):
        assert sum(1 for p in nxt.pods if is_active(p)) == replicas
        assert list(loop.steps(world, nxt)) == []
