"""The deployment controller's old-ReplicaSet scale-down and ``kubectl rollout status``, against upstream.

Upstream: ``pkg/controller/deployment/rolling.go`` (``reconcileNewReplicaSet``,
``reconcileOldReplicaSets``, ``cleanupUnhealthyReplicas``,
``scaleDownOldReplicaSetsForRollingUpdate``) with the tables of
``rolling_test.go``; ``sync.go`` ``calculateStatus``; kubectl's
``DeploymentStatusViewer`` (``staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go``)
with the table of ``rollout_status_test.go``.

Two disagreements with upstream, fixed here:

- an old ReplicaSet whose Ready pods exceed its spec (just scaled down, the
  replication manager has not deleted the surplus yet) made kspec's cleanup
  ask for a scale *up*, and the same sync then scaled it down from there;
  upstream's ``cleanupUnhealthyReplicas`` refuses ("got invalid request to
  scale down") and ``reconcileOldReplicaSets`` scales nothing down on that
  sync: the old ReplicaSet goes down on the sync after its surplus is gone;
- ``deployment-converges`` counted pods of the current template but not
  whether they are available, which ``kubectl rollout status`` requires.
"""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.api.objects import DeploymentStrategy
from kspec.checker.model import Verdict
from kspec.simulation.controllers.deployment import (
    DeploymentController, DeploymentStatus, calculate_status, cleanup_unhealthy_replicas, deployment_status_viewer,
    max_unavailable, new_rs_new_replicas, reconcile_old_replica_sets, rollout_status, rollout_step,
    scale_down_old_replica_sets_for_rolling_update,
)
from kspec.simulation.controllers.replication import ReplicationControllerLoop
from kspec.simulation.state import FAILED, NOT_RUNNING, PENDING, RUNNING, UP, World, well_formed
from support import states as build
from support.scenarios import explored
from support.profiles import examples

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
WORLD = World(kspec.load([MODELS / "web"], nodes=["3:cpu=2,memory=4Gi"]), rollouts={"web": "nginx:1.27"})
WORLD.rollout_bits[0] = 0
DEPLOY, OLD, NEW = 0, 1, 2
ROLLED = 1  # State.ops with the rollout done


def rolling(surge, unavailable):
    return DeploymentStrategy("RollingUpdate", surge, unavailable)


def pods(rs, n, ready=True, start=0):
    name = WORLD.workloads[rs].name
    return [build.running_pod(WORLD, rs, f"{name}-{i}", node=i % 3, ready=ready) for i in range(start, start + n)]


def state(pod_list=(), replicas=(3, 3, None), ops=ROLLED):
    return build.state(WORLD, pod_list, replicas=replicas, ops=ops)


# --------------------------------------------------------------------------- rolling_test.go tables


@pytest.mark.parametrize("replicas, surge, old, new, expected", [
    (10, 0, 10, 0, 0),  # should not scale up
    (10, 2, 10, 0, 2),
    (10, 2, 5, 0, 7),
    (10, 2, 10, 2, 2),
])
def test_TestDeploymentController_reconcileNewReplicaSet(replicas, surge, old, new, expected):
    """maxUnavailable 0; the fifth upstream case (a new ReplicaSet above replicas scales down to them)
    is ``rollout_step``'s first branch, below."""
    assert new_rs_new_replicas(rolling(surge, 0), replicas, [old, new], new) == expected


def test_TestDeploymentController_reconcileNewReplicaSet_scales_down_a_new_replica_set_above_replicas():
    assert rollout_step(WORLD, state(pods(NEW, 4), (3, 0, 4)), DEPLOY) == {NEW: 3}


@pytest.mark.parametrize("replicas, unavailable, old, new, old_ready, new_ready, expected_old", [
    (10, 0, 10, 0, 10, 0, 9),  # maxSurge 0 and maxUnavailable 0 resolve to maxUnavailable 1
    (10, 2, 10, 0, 10, 0, 8),
    (10, 2, 10, 0, 8, 0, 8),  # unhealthy replicas from old replica sets cleaned up
    (10, 2, 10, 0, 9, 0, 8),  # 1 unhealthy replica cleaned up, and 1 ready pod scaled down
    (10, 2, 8, 2, 8, 0, 8),  # the unavailable pods of the new RS do not make us scale old RSs down further
])
def test_TestDeploymentController_reconcileOldReplicaSets(replicas, unavailable, old, new, old_ready, new_ready,
                                                         expected_old):
    mu = max_unavailable(rolling(0, unavailable), replicas)
    assert reconcile_old_replica_sets(replicas, mu, new, new_ready, [(old, old_ready)]) == (expected_old,)


@pytest.mark.parametrize("old, ready, max_cleanup, cleaned", [
    (10, 8, 1, 1),
    (10, 8, 3, 2),
    (10, 8, 0, 0),
    (10, 10, 3, 0),
])
def test_TestDeploymentController_cleanupUnhealthyReplicas(old, ready, max_cleanup, cleaned):
    assert cleanup_unhealthy_replicas([(old, ready)], max_cleanup) == ((old - cleaned,), cleaned, False)


@pytest.mark.parametrize("unavailable, ready, old, expected_old", [
    (0, 10, 10, 9),
    (2, 10, 10, 8),
    (2, 8, 10, 10),  # no scaling
    (2, 10, 0, 0),  # no scaling: nothing to take
    (2, 1, 10, 10),  # no scaling
])
def test_TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate(unavailable, ready, old, expected_old):
    mu = max_unavailable(rolling(0, unavailable), 10)  # maxSurge 0; allRSs is the old ReplicaSet alone
    after, scaled = scale_down_old_replica_sets_for_rolling_update(10, mu, 0, [(old, ready)])
    assert after == (expected_old,) and scaled == old - expected_old


# --------------------------------------------------------------------------- the scale-down disagreement


def test_cleanupUnhealthyReplicas_refuses_to_scale_up_an_old_replica_set_with_surplus_available_pods():
    """spec 1, 3 available: ``min(maxCleanupCount, 1 - 3)`` asks for 1 -> 3, which upstream refuses."""
    assert cleanup_unhealthy_replicas([(1, 3)], 1) == ((1,), 0, True)
    # the ReplicaSets before it keep their cleanup; it and those after it are left alone
    assert cleanup_unhealthy_replicas([(3, 2), (1, 3), (2, 0)], 5) == ((2, 1, 2), 1, True)


def test_reconcileOldReplicaSets_scales_nothing_down_on_a_sync_where_the_cleanup_errs():
    # 3 replicas, maxUnavailable 0: the old ReplicaSet was scaled 3 -> 1, its 3 pods still Ready
    assert reconcile_old_replica_sets(3, 0, 3, 3, [(1, 3)]) == (1,)  # kspec used to write 0 here
    # once the replication manager deleted the surplus, the next sync takes the last one
    assert reconcile_old_replica_sets(3, 0, 3, 3, [(1, 1)]) == (0,)


def test_reconcileOldReplicaSets_old_replica_set_with_surplus_pods_goes_down_on_the_sync_after_they_go():
    """The whole sequence, step by step: the deployment controller waits for the replication manager."""
    s = state(pods(OLD, 3) + pods(NEW, 3), (3, 1, 3))
    assert rollout_step(WORLD, s, DEPLOY) == {}
    assert list(DeploymentController().steps(WORLD, s)) == []
    choices = list(ReplicationControllerLoop().steps(WORLD, s))  # old: 3 -> 1 pods, any two of three deleted
    assert choices
    for action, nxt in choices:
        assert len(action.delete) == 2
        assert rollout_step(WORLD, nxt, DEPLOY) == {OLD: 0}


def test_reconcileOldReplicaSets_counts_only_active_old_replica_sets_as_available():
    """``FilterActiveReplicaSets``: an old ReplicaSet already at 0 whose Ready pods are not gone yet
    neither scales nor lends its pods to ``availablePodCount``."""
    # replicas 3, maxUnavailable 0; new 3 (1 available), old A at 0 with 3 Ready pods, old B 2 with 2
    assert reconcile_old_replica_sets(3, 0, 3, 1, [(0, 3), (2, 2)]) == (0, 2)


@st.composite
def states(draw):
    pod_list = []
    for k in range(draw(st.integers(0, 7))):
        rs = draw(st.sampled_from([OLD, NEW]))
        node = draw(st.integers(-1, len(WORLD.nodes) - 1))
        phase = draw(st.sampled_from([PENDING, FAILED] + ([RUNNING] if node >= 0 else [])))
        pod_list.append(build.owned_pod(WORLD, rs, f"{WORLD.workloads[rs].name}-{k}", node=node, phase=phase,
                                        ready=phase == RUNNING and draw(st.booleans()), deleting=draw(st.booleans()),
                                        containers=UP if phase == RUNNING else NOT_RUNNING))
    replicas = (draw(st.integers(0, 4)), draw(st.integers(0, 3)), draw(st.sampled_from([None, 0, 1, 2, 3, 4])))
    return state(pod_list, replicas)


@examples(200)
@given(states())
def test_rollout_step_never_scales_an_old_replica_set_up(s):
    """``rolloutRolling`` only ever lowers an old ReplicaSet's spec (upstream errs rather than raise it)."""
    assert well_formed(s, WORLD) == []
    for rs, n in rollout_step(WORLD, s, DEPLOY).items():
        if rs == OLD:
            assert n < s.replicas[OLD]


# --------------------------------------------------------------------------- kubectl rollout status


@pytest.mark.parametrize("name, generation, replicas, status, msg, done", [
    ("test1", 0, 1, DeploymentStatus(replicas=1, updated_replicas=0, available_replicas=1),
     'Waiting for deployment "foo" rollout to finish: 0 out of 1 new replicas have been updated...', False),
    ("test2", 1, 1, DeploymentStatus(replicas=2, updated_replicas=1, available_replicas=2),
     'Waiting for deployment "foo" rollout to finish: 1 old replicas are pending termination...', False),
    ("test3", 1, 2, DeploymentStatus(replicas=2, updated_replicas=2, available_replicas=1, unavailable_replicas=1),
     'Waiting for deployment "foo" rollout to finish: 1 of 2 updated replicas are available...', False),
    ("test4", 1, 2, DeploymentStatus(replicas=2, updated_replicas=2, available_replicas=2),
     'deployment "foo" successfully rolled out', True),
    ("test5", 2, 2, DeploymentStatus(replicas=2, updated_replicas=2, available_replicas=2),
     "Waiting for deployment spec update to be observed...", False),
])
def test_TestDeploymentStatusViewerStatus(name, generation, replicas, status, msg, done):
    """Upstream's table, observedGeneration 1 throughout (observed when generation <= 1)."""
    assert deployment_status_viewer("foo", replicas, status, observed=generation <= 1) == (msg, done)


def test_calculateStatus_counts_active_pods_and_available_ones_across_every_replica_set():
    s = state(pods(OLD, 2) + pods(NEW, 2, ready=False, start=2), (3, 2, 2))
    assert calculate_status(WORLD, s, DEPLOY) == DeploymentStatus(
        replicas=4, updated_replicas=2, ready_replicas=2, available_replicas=2, unavailable_replicas=2)
    terminating = [p._replace(deleting=True) for p in pods(OLD, 1)]
    assert calculate_status(WORLD, state(terminating + pods(NEW, 3), (3, 0, 3)), DEPLOY).replicas == 3


def test_rollout_status_waits_for_the_new_pods_to_be_available():
    """The readiness the old ``deployment-converges`` did not look at."""
    s = state(pods(NEW, 3, ready=False), (3, 0, 3))
    assert rollout_status(WORLD, s, DEPLOY) == (
        'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...', False)
    assert rollout_status(WORLD, state(pods(NEW, 3), (3, 0, 3)), DEPLOY) == (
        'deployment "web" successfully rolled out', True)


def test_rollout_status_waits_until_the_template_change_is_observed():
    """No generation in the model: until the controller created the current template's ReplicaSet, the
    spec is not observed (here the old pods would otherwise read as 0 updated of 3)."""
    assert rollout_status(WORLD, state(pods(OLD, 3), (3, 3, None)), DEPLOY) == (
        "Waiting for deployment spec update to be observed...", False)


# --------------------------------------------------------------------------- the property


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      tolerations:                     # never evicted from a node that stops answering
        - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
        - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
      containers:
        - name: api
          image: api:1
          resources: {requests: {cpu: 100m}}
"""


def test_deployment_converges_needs_the_updated_replicas_available(tmp_path):
    """A pod that tolerates an unreachable node for ever stays active, not Ready, on a crashed node that
    never returns: every replica is of the current template (the old check held), but ``kubectl rollout
    status`` waits for ever ("0 of 1 updated replicas are available")."""
    (tmp_path / "api.yaml").write_text(DEPLOYMENT)
    (tmp_path / "s.yaml").write_text(
        "name: stuck-on-a-dead-node\nmanifests: [api.yaml]\nnodes: ['2:cpu=1,memory=1Gi']\n"
        "faults: {kinds: {node-crash: 1}}\nchecks: [deployment-converges, fault-then-converged]\n")
    model = kspec.load_model(tmp_path / "s.yaml")
    result = kspec.explore(model)
    converges = result["deployment-converges"]
    assert converges.verdict is Verdict.VIOLATED
    stuck = converges.trace.last
    world = model.world
    rs = world.workloads[0].replica_sets[0]
    active = [p for p in stuck.pods if p.owner == rs and not p.deleting]
    assert len(active) == 1  # what the old check asked: exactly replicas, all of the current template
    assert rollout_status(world, stuck, 0) == (
        'Waiting for deployment "api" rollout to finish: 0 of 1 updated replicas are available...', False)


def test_deployment_converges_still_holds_on_the_bundled_rolling_update():
    """Every new pod becomes Ready there: the stronger check keeps the pinned verdict."""
    _, result = explored("rolling-update")
    assert result["deployment-converges"].verdict is Verdict.HOLDS
