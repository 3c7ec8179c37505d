"""The deployment controller's status conditions against upstream's tables.

Upstream: ``pkg/controller/deployment/util/deployment_util.go``
(``DeploymentComplete``, ``DeploymentProgressing``, ``DeploymentTimedOut``,
``SetDeploymentCondition``) with ``deployment_util_test.go``, and
``pkg/controller/deployment/progress.go`` ``syncRolloutStatus`` with
``progress_test.go`` ``TestSyncRolloutStatus`` (its new status is what
``calculateStatus`` reads from the ReplicaSets listed there: their status
replicas and available replicas, none Ready).
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from kspec.simulation.controllers.deployment import (
    DeploymentCondition, DeploymentStatus, available_condition, deployment_complete, deployment_progressing,
    deployment_timed_out, sync_rollout_status,
)

T0 = 1_487_184_540  # 2017-02-15T18:49:00Z, TestSyncRolloutStatus' testTime
NOW = T0 + 3600


def status(replicas, updated, available, ready=0):
    return DeploymentStatus(replicas=replicas, updated_replicas=updated, ready_replicas=ready,
                            available_replicas=available)


@pytest.mark.parametrize("name,desired,current,updated,available,expected", [
    ("not complete: min but not all pods become available", 5, 5, 5, 4, False),
    ("not complete: min availability is not honored", 5, 5, 5, 3, False),
    ("complete", 5, 5, 5, 5, True),
    ("not complete: all pods are available but not updated", 5, 5, 4, 5, False),
    ("not complete: still running old pods", 1, 2, 1, 1, False),
    ("not complete: one replica deployment never comes up", 1, 1, 1, 0, False),
])
def test_TestDeploymentComplete(name, desired, current, updated, available, expected):
    assert deployment_complete(desired, status(current, updated, available)) is expected


@pytest.mark.parametrize("name,old,new,expected", [
    ("progressing: updated pods", (10, 4, 4, 4), (10, 6, 4, 4), True),
    ("not progressing", (10, 4, 4, 4), (10, 4, 4, 4), False),
    ("progressing: old pods removed", (10, 4, 6, 6), (8, 4, 6, 6), True),
    ("not progressing: less new pods", (10, 7, 3, 3), (10, 6, 3, 3), False),
    ("progressing: less overall but more new pods", (10, 4, 7, 7), (8, 8, 5, 5), True),
    ("progressing: more ready pods", (10, 10, 9, 8), (10, 10, 10, 8), True),
    ("progressing: more available pods", (10, 10, 10, 9), (10, 10, 10, 10), True),
])
def test_TestDeploymentProgressing(name, old, new, expected):
    def st_(current, updated, ready, available):
        return DeploymentStatus(replicas=current, updated_replicas=updated, ready_replicas=ready,
                                available_replicas=available)
    assert deployment_progressing(st_(*old), st_(*new)) is expected


def _at(minute, second):
    return 1_451_606_400 + 60 * minute + second  # 2016-01-01T00:mm:ss


@pytest.mark.parametrize("name,deadline,reason,since,now,expected", [
    ("nil progressDeadlineSeconds specified - no timeout", None, "", _at(1, 9), _at(1, 20), False),
    ("infinite progressDeadlineSeconds specified - no timeout", 2**31 - 1, "", _at(1, 9), _at(1, 20), False),
    ("progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:09 => 11s", 10, "", _at(1, 9), _at(1, 20), True),
    ("progressDeadlineSeconds: 10s, now - started => 00:01:20 - 00:01:11 => 9s", 10, "", _at(1, 11), _at(1, 20), False),
    ("previous status was a complete deployment", None, "NewReplicaSetAvailable", 0, _at(1, 20), False),
])
def test_TestDeploymentTimedOut(name, deadline, reason, since, now, expected):
    condition = DeploymentCondition("True", reason, since, since)
    assert deployment_timed_out(deadline, condition, now) is expected


FAILED = DeploymentCondition("False", "ProgressDeadlineExceeded", 0, 0)
AVAILABLE = DeploymentCondition("True", "NewReplicaSetAvailable", T0, T0)
UPDATED = DeploymentCondition("True", "ReplicaSetUpdated", T0, T0)

ROLLOUT_CASES = {
    # name: (deadline, replicas, old status, new status, condition, expected (status, reason, update, transition))
    "General: remove Progressing condition and do not estimate progress if deployment has no Progress Deadline": (
        None, 3, status(2, 2, 2), status(3, 2, 3), UPDATED, None),
    "General: do not estimate progress of deployment with only one active ReplicaSet": (
        60, 3, status(3, 3, 3), status(3, 0, 3), AVAILABLE, ("True", "NewReplicaSetAvailable", T0, T0)),
    "DeploymentProgressing: dont update lastTransitionTime if deployment already has Progressing=True": (
        60, 3, status(2, 2, 2), status(3, 2, 3), UPDATED, ("True", "ReplicaSetUpdated", NOW, T0)),
    "DeploymentProgressing: update everything if deployment has Progressing=False": (
        60, 3, status(2, 2, 2), status(3, 2, 3), FAILED, ("True", "ReplicaSetUpdated", NOW, NOW)),
    "DeploymentProgressing: create Progressing condition if it does not exist": (
        60, 3, status(2, 2, 2), status(3, 2, 3), None, ("True", "ReplicaSetUpdated", NOW, NOW)),
    "DeploymentComplete: dont update lastTransitionTime if deployment already has Progressing=True": (
        60, 3, status(3, 3, 3), status(3, 3, 3), UPDATED, ("True", "NewReplicaSetAvailable", NOW, T0)),
    "DeploymentComplete: update everything if deployment has Progressing=False": (
        60, 3, status(3, 3, 3), status(3, 3, 3), FAILED, ("True", "NewReplicaSetAvailable", NOW, NOW)),
    "DeploymentComplete: create Progressing condition if it does not exist": (
        60, 3, status(3, 3, 3), status(3, 3, 3), None, ("True", "NewReplicaSetAvailable", NOW, NOW)),
    "DeploymentComplete: defend against NPE when newRS=nil": (
        60, 0, status(3, 3, 3), status(0, 0, 0), UPDATED, ("True", "NewReplicaSetAvailable", NOW, T0)),
    "DeploymentTimedOut: update status if rollout exceeds Progress Deadline": (
        60, 3, status(2, 2, 2), status(2, 2, 2), UPDATED, ("False", "ProgressDeadlineExceeded", NOW, NOW)),
    "DeploymentTimedOut: do not update status if deployment has existing timedOut condition": (
        60, 3, status(2, 2, 2), status(2, 2, 2), DeploymentCondition("False", "ProgressDeadlineExceeded", T0, T0),
        ("False", "ProgressDeadlineExceeded", T0, T0)),
}


@pytest.mark.parametrize("name", ROLLOUT_CASES)
def test_TestSyncRolloutStatus(name):
    deadline, replicas, old, new, condition, expected = ROLLOUT_CASES[name]
    got = sync_rollout_status(deadline, replicas, old, new, condition, NOW)
    assert (None if got is None else (got.status, got.reason, got.last_update, got.last_transition)) == expected


def test_calculateStatus_available_condition():
    assert available_condition(5, 1, status(5, 5, 4)) == ("True", "MinimumReplicasAvailable")
    assert available_condition(5, 1, status(5, 5, 3)) == ("False", "MinimumReplicasUnavailable")


counts = st.integers(0, 6)


@given(counts, counts, counts, counts, st.integers(0, 200))
def test_syncRolloutStatus_property_stuck_rollout_times_out_exactly_after_the_deadline(replicas, current, updated,
                                                                                       available, waited):
    """Without progress, a rollout that is not complete keeps ``ReplicaSetUpdated`` until the deadline
    has passed and reads ``ProgressDeadlineExceeded`` after it."""
    frozen = status(current, min(updated, current), min(available, current))
    got = sync_rollout_status(60, replicas, frozen, frozen, UPDATED, T0 + waited)
    if deployment_complete(replicas, frozen):
        assert got.reason == "NewReplicaSetAvailable"
    elif waited > 60:
        assert (got.status, got.reason) == ("False", "ProgressDeadlineExceeded")
    else:
        assert got == UPDATED
