"""The deployment controller as a pure transition function.

Upstream cases are named after the upstream function or test they follow
(``pkg/controller/deployment``: ``rolling.go``, ``recreate.go``,
``util/deployment_util.go``).
"""

from __future__ import annotations

import pathlib

import attrs
import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.simulation.controllers.deployment import (
    DeploymentController, max_unavailable, new_rs_new_replicas, resolve_fenceposts, rollout_step,
)
from kspec.simulation.controllers.gc import GarbageCollector
from kspec.simulation.controllers.replication import ReplicationControllerLoop
from kspec.api.objects import DeploymentStrategy
from kspec.simulation.scenario import ScenarioError, load_scenario
from kspec.simulation.state import (
    FAILED, NOT_RUNNING, PENDING, RUNNING, UP, World, pod_template_hash, well_formed,
)
from support import states as build
from support.profiles import examples

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
NODES = ["3:cpu=2,memory=4Gi"]
WORLD = World(kspec.load([MODELS / "web"], nodes=NODES), rollouts={"web": "nginx:1.27"})
WORLD.rollout_bits[0] = 0
DEPLOY, OLD, NEW = 0, 1, 2
ROLLED = 1  # State.ops with the rollout done


def rolling(surge, unavailable):
    return DeploymentStrategy("RollingUpdate", surge, unavailable)


def pod(name, rs, node=0, ready=True, deleting=False, phase=RUNNING):
    return build.owned_pod(WORLD, rs, name, node=node, phase=phase, ready=ready and phase == RUNNING,
                           deleting=deleting, containers=UP if phase == RUNNING else NOT_RUNNING)


def state(pods=(), replicas=(3, 3, None), ops=ROLLED):
    return build.state(WORLD, pods, replicas=replicas, ops=ops)


def old_pods(n, ready=True):
    return [pod(f"{WORLD.workloads[OLD].name}-{i}", OLD, i % 3, ready) for i in range(n)]


def new_pods(n, ready=True):
    return [pod(f"{WORLD.workloads[NEW].name}-{i}", NEW, i % 3, ready) for i in range(n)]


# --------------------------------------------------------------------------- the world


def test_deployment_becomes_replica_sets_named_by_pod_template_hash_like_getNewReplicaSet():
    dep, old, new = WORLD.workloads
    assert (dep.kind, dep.group, dep.replica_sets) == ("Deployment", -1, (OLD, NEW))
    for rs, revision in ((old, 1), (new, 2)):
        template_hash = WORLD.groups[rs.group].labels["pod-template-hash"]
        assert rs.kind == "ReplicaSet" and rs.name == f"web-{template_hash}" and rs.revision == revision
        assert rs.selector.matches({"app": "web", "pod-template-hash": template_hash})
        assert not rs.selector.matches({"app": "web"})
    assert WORLD.groups[new.group].pod.spec.containers[0].image == "nginx:1.27"
    assert WORLD.initial_replicas() == (3, None, None)
    assert WORLD.pod_owners == (OLD, NEW) and WORLD.deployments == (DEPLOY,)


def test_pod_template_hash_is_stable_and_uses_the_safe_alphabet_of_rand_SafeEncodeString():
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    assert pod_template_hash(template) == pod_template_hash(dict(reversed(list(template.items()))))
    assert set(pod_template_hash(template)) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert pod_template_hash(template) != pod_template_hash({**template, "spec": {"containers": []}})


# --------------------------------------------------------------------------- deploymentutil


@pytest.mark.parametrize("surge, unavailable, replicas, expected", [
    ("25%", "25%", 10, (3, 2)),  # surge rounds up, unavailable down
    ("25%", "25%", 1, (1, 0)),
    (0, 0, 5, (0, 1)),  # both zero would never progress: maxUnavailable becomes 1
    ("0%", "0%", 5, (0, 1)),
    (2, "50%", 3, (2, 1)),
])
def test_ResolveFenceposts(surge, unavailable, replicas, expected):
    assert resolve_fenceposts(rolling(surge, unavailable), replicas) == expected


def test_MaxUnavailable_is_capped_by_replicas_and_zero_for_Recreate():
    assert max_unavailable(rolling(0, 5), 3) == 3
    assert max_unavailable(DeploymentStrategy("Recreate", None, None), 3) == 0
    assert max_unavailable(rolling(1, 1), 0) == 0


@pytest.mark.parametrize("strategy, replicas, rs_replicas, new, expected", [
    # TestNewRSNewReplicas (deployment_util_test.go): 1 surge, 10 + 0 -> 1; 5 + 0 at 10 total -> 0
    (rolling(1, 1), 1, [5, 0], 0, 0),
    (rolling(1, 1), 10, [10, 0], 0, 1),
    (rolling("25%", 1), 10, [0, 0], 0, 10),  # a fresh Deployment gets every replica at once
    (rolling(1, 1), 3, [1, 3], 3, 3),  # already at replicas
    (DeploymentStrategy("Recreate", None, None), 3, [3, 0], 0, 3),
])
def test_NewRSNewReplicas(strategy, replicas, rs_replicas, new, expected):
    assert new_rs_new_replicas(strategy, replicas, rs_replicas, new) == expected


# --------------------------------------------------------------------------- rolloutRolling


def test_rollout_creates_the_new_replica_set_within_max_surge():
    (action, nxt), = DeploymentController().steps(WORLD, state(old_pods(3)))
    assert nxt.replicas == (3, 3, 1)  # maxSurge 1
    assert "create" in str(action)


def test_reconcileNewReplicaSet_waits_at_max_surge():
    assert rollout_step(WORLD, state(old_pods(3) + new_pods(1, ready=False), (3, 3, 1)), DEPLOY) == {}


def test_reconcileOldReplicaSets_scales_old_down_once_new_pods_are_available():
    # maxUnavailable 0: the old ReplicaSet goes down only as new pods become Ready
    assert rollout_step(WORLD, state(old_pods(3) + new_pods(1), (3, 3, 1)), DEPLOY) == {OLD: 2}


def test_reconcileOldReplicaSets_counts_unavailable_new_pods_against_the_budget():
    # the upstream comment's case: newRS pods that are not Ready block scaling the old ones down
    s = state(old_pods(2) + new_pods(2, ready=False), (3, 2, 2))
    assert rollout_step(WORLD, s, DEPLOY) == {}


def test_cleanupUnhealthyReplicas_scales_down_not_ready_old_pods_first():
    # an old pod that is not Ready goes first; it costs no availability, and nothing else may go yet
    s = state(old_pods(2) + [pod("web-old-x", OLD, 2, ready=False)] + new_pods(1), (3, 3, 1))
    assert rollout_step(WORLD, s, DEPLOY) == {OLD: 2}
    # scaled to 2 mid-rollout: cleanup (3 -> 2) and the availability-bounded scale-down (2 -> 1) add up in one sync
    s = state(old_pods(2) + [pod("web-old-x", OLD, 2, ready=False)] + new_pods(1), (2, 3, 1))
    assert rollout_step(WORLD, s, DEPLOY) == {OLD: 1}
    s = state(old_pods(2) + [pod("web-old-x", OLD, 2, ready=False)] + new_pods(2), (4, 3, 2))
    assert rollout_step(WORLD, s, DEPLOY) == {OLD: 2}


def test_rollout_finished_is_a_fixed_point():
    s = state(new_pods(3), (3, 0, 3))
    assert list(DeploymentController().steps(WORLD, s)) == []
    assert list(ReplicationControllerLoop().steps(WORLD, s)) == []


def test_scale_with_one_active_replica_set_sets_it_to_the_deployment_replicas_like_scale():
    assert rollout_step(WORLD, state(new_pods(3), (5, 0, 3)), DEPLOY) == {NEW: 5}
    assert rollout_step(WORLD, state(new_pods(3), (1, 0, 3)), DEPLOY) == {NEW: 1}


def test_before_the_rollout_the_first_replica_set_is_the_new_one():
    assert rollout_step(WORLD, state((), (3, None, None), ops=0), DEPLOY) == {OLD: 3}
    assert rollout_step(WORLD, state(old_pods(3), (3, 3, None), ops=0), DEPLOY) == {}


# --------------------------------------------------------------------------- rolloutRecreate


RECREATE = World(kspec.load([MODELS / "web"], nodes=NODES), rollouts={"web": None})
RECREATE.rollout_bits[0] = 0
RECREATE.workloads = (attrs.evolve(RECREATE.workloads[0], strategy=DeploymentStrategy("Recreate", None, None)),
                      *RECREATE.workloads[1:])


def test_rolloutRecreate_scales_old_to_zero_then_waits_for_oldPodsRunning():
    assert rollout_step(RECREATE, state(old_pods(3), (3, 3, None)), DEPLOY) == {OLD: 0}
    terminating = [p._replace(deleting=True) for p in old_pods(3)]
    assert rollout_step(RECREATE, state(terminating, (3, 0, None)), DEPLOY) == {}
    failed = [p._replace(phase=FAILED, ready=False, run=NOT_RUNNING) for p in old_pods(1)]
    assert rollout_step(RECREATE, state(failed, (3, 0, None)), DEPLOY) == {NEW: 3}


def test_restart_rollout_changes_only_the_restartedAt_annotation():
    old, new = (RECREATE.groups[RECREATE.workloads[i].group].pod for i in (OLD, NEW))
    assert new.spec.containers == old.spec.containers
    assert "kubectl.kubernetes.io/restartedAt" in new.metadata.annotations


# --------------------------------------------------------------------------- garbage collection


def test_gc_deletes_replica_sets_of_a_deleted_deployment_then_their_pods():
    s = state(old_pods(2), (None, 2, None))
    (action, nxt), = GarbageCollector().steps(WORLD, s)
    assert type(action).__name__ == "GCDeleteReplicaSet" and nxt.replicas == (None, None, None)
    assert all(n.pods[i].deleting for i, (_, n) in enumerate(GarbageCollector().steps(WORLD, nxt)))
    assert rollout_step(WORLD, s, DEPLOY) == {}


# --------------------------------------------------------------------------- generated states


@st.composite
def states(draw):
    pods = []
    for k in range(draw(st.integers(0, 7))):
        rs = draw(st.sampled_from([OLD, NEW]))
        node = draw(st.integers(-1, len(WORLD.nodes) - 1))
        phase = draw(st.sampled_from([PENDING, FAILED] + ([RUNNING] if node >= 0 else [])))
        group = WORLD.workloads[rs].group
        pods.append(build.pod(f"{WORLD.groups[group].prefix}{k}", group=group, owner=draw(st.sampled_from([-1, rs])),
                              node=node, phase=phase, ready=phase == RUNNING and draw(st.booleans()),
                              deleting=draw(st.booleans()), containers=UP if phase == RUNNING else NOT_RUNNING))
    replicas = (draw(st.sampled_from([None, 0, 1, 3, 5])), draw(st.sampled_from([None, 0, 1, 2, 3])),
                draw(st.sampled_from([None, 0, 1, 2, 3, 4])))
    return state(pods, replicas, draw(st.sampled_from([0, ROLLED])))


@examples(200)
@given(states())
def test_every_deployment_step_preserves_well_formed_and_the_surge_bound(s):
    assert well_formed(s, WORLD) == []
    replicas = s.replicas[DEPLOY]
    spec_sum = sum(n or 0 for n in s.replicas[1:])
    for action, nxt in DeploymentController().steps(WORLD, s):
        assert nxt != s and well_formed(nxt, WORLD) == [], action
        if replicas is not None and spec_sum <= replicas + 1:  # maxSurge 1: spec.replicas never add up to more
            assert sum(n or 0 for n in nxt.replicas[1:]) <= replicas + 1, action
        for rs in (OLD, NEW):  # a write never takes a ReplicaSet below zero or the controller above replicas + surge
            assert nxt.replicas[rs] is None or 0 <= nxt.replicas[rs] <= max(replicas or 0, s.replicas[rs] or 0) + 1


# --------------------------------------------------------------------------- scenario files


def test_rollout_of_a_replication_controller_is_a_scenario_error(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"manifests: [{MODELS / 'myapp'}]\noperations:\n  - rollout: {{workload: frontend}}\n"
                        "checks: [fault-then-converged]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario, allow_outside=True)
    assert "s.yaml:3" in str(err.value) and "not a Deployment" in str(err.value)
