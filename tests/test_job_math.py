"""The Job and CronJob controllers' arithmetic against upstream's own tables.

Upstream: ``pkg/controller/job/job_controller.go`` with the table of
``job_controller_test.go`` (``TestControllerSyncJob``), ``indexed_job_utils.go``
with ``indexed_job_utils_test.go`` (``TestFirstPendingIndexes``,
``TestAppendDuplicatedIndexPodsForRemoval``), ``pod_failure_policy.go`` with
``TestMatchPodFailurePolicy``, ``backoff_utils.go`` with
``TestGetRemainingBackoffTime``; ``pkg/controller/cronjob/utils.go`` with
``utils_test.go`` (``TestMostRecentScheduleTime``,
``TestNextScheduleTimeDuration``) and the schedule language of
``github.com/robfig/cron/v3`` (``ParseStandard``, ``SpecSchedule.Next``).

Reading ``TestControllerSyncJob`` here: its pods are made by
``setPodsStatuses`` (pending, running with the first ``readyPods`` Ready,
succeeded, failed, and running pods being deleted, in that order) or
``setPodsStatusesWithIndexes``; every pod still has the tracking finalizer.
Upstream runs some cases with the pod replacement policy gate off; the gate is
on here (as in current releases), so only what does not depend on it is
compared for those.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from kspec.simulation.controllers.cronschedule import (
    CronScheduleError, cronjob_decision, most_recent_schedule_time, next_schedule_time_duration, parse_schedule,
)
from kspec.simulation.controllers.jobmath import (
    ContainerExit, JobPod, JobSpec, JobStatus, OnExitCodes, PodFailurePolicyRule, active_pods_for_removal,
    duplicated_index_pods_for_removal, first_pending_indexes, index_failed, is_pod_failed, match_pod_failure_policy,
    only_replace_failed_pods, past_backoff_limit_on_failure, remaining_backoff, sync_job, want_active,
)

LONG_AGO, NOW = 0, 1_000_000


def pods(pending=0, active=0, ready=0, succeeded=0, failed=0, terminating=0):
    """``setPodsStatuses``."""
    out = [JobPod(f"pending-{i}", "Pending") for i in range(pending)]
    out += [JobPod(f"running-{i}", "Running", ready=i < ready) for i in range(active)]
    out += [JobPod(f"succeeded-{i}", "Succeeded", finished_at=LONG_AGO) for i in range(succeeded)]
    out += [JobPod(f"failed-{i}", "Failed", finished_at=LONG_AGO) for i in range(failed)]
    out += [JobPod(f"terminating-{i}", "Running", deleting=True) for i in range(terminating)]
    return out


def indexed(*index_phases):
    """``setPodsStatusesWithIndexes``: (index or None, phase)."""
    return [JobPod(f"pod-{n}", phase, index=index, finished_at=LONG_AGO)
            for n, (index, phase) in enumerate(index_phases)]


def job(parallelism, completions, backoff_limit=6, **more):
    """``newJob``: ``completions=-1`` is a work queue."""
    return JobSpec(parallelism=parallelism, completions=None if completions == -1 else completions,
                   backoff_limit=backoff_limit, **more)


S, F, R, P = "Succeeded", "Failed", "Running", "Pending"

SYNC_CASES = {
    # name: (spec, status, pods, expected creations, deletions, active, succeeded, failed, finished)
    "job start": (job(2, 5), JobStatus(), pods(), 2, 0, 2, 0, 0, None),
    "WQ job start": (job(2, -1), JobStatus(), pods(), 2, 0, 2, 0, 0, None),
    "pending pods": (job(2, 5), JobStatus(), pods(pending=2), 0, 0, 2, 0, 0, None),
    "correct # of pods": (job(3, 5), JobStatus(), pods(active=3, ready=2), 0, 0, 3, 0, 0, None),
    "WQ job: correct # of pods": (job(2, -1), JobStatus(), pods(active=2), 0, 0, 2, 0, 0, None),
    "too few active pods": (job(2, 5), JobStatus(), pods(active=1, succeeded=1), 1, 0, 2, 1, 0, None),
    "WQ job: recreate pods when failed": (job(1, -1, pod_replacement_policy="Failed"), JobStatus(),
                                          pods(active=1, failed=1, terminating=1), 0, 0, 1, 0, 1, None),
    "WQ job: turn on PodReplacementPolicy but not set PodReplacementPolicy": (
        job(1, 1), JobStatus(), pods(active=1, failed=1, terminating=1), 0, 0, 1, 0, 2, None),
    "WQ job: recreate pods when terminating or failed": (
        job(1, -1, pod_replacement_policy="TerminatingOrFailed"), JobStatus(),
        pods(active=1, failed=1, terminating=1), 0, 0, 1, 0, 2, None),
    "more terminating pods than parallelism": (job(1, 1, pod_replacement_policy="Failed"), JobStatus(),
                                               pods(active=2, terminating=4), 0, 1, 1, 0, 0, None),
    "more terminating pods than parallelism; PodFailurePolicy used": (
        job(1, 1, pod_failure_policy=()), JobStatus(), pods(active=2, terminating=4), 0, 1, 1, 0, 0, None),
    "too few active pods and active back-off": (
        job(1, 1), JobStatus(failures_after_last_success=1, last_failure_time=NOW), pods(), 0, 0, 0, 0, 0, None),
    "too few active pods and no back-offs": (
        job(1, 1), JobStatus(failures_after_last_success=0, last_failure_time=NOW), pods(), 1, 0, 1, 0, 0, None),
    "too few active pods with a dynamic job": (job(2, -1), JobStatus(), pods(active=1), 1, 0, 2, 0, 0, None),
    "too many active pods": (job(2, 5), JobStatus(), pods(active=3), 0, 1, 2, 0, 0, None),
    "count ready pods when too many active pods": (job(2, 5), JobStatus(), pods(active=3, ready=3), 0, 1, 2, 0, 0,
                                                   None),
    "failed + succeed pods: reset backoff delay": (job(2, 5), JobStatus(), pods(active=1, succeeded=1, failed=1),
                                                   1, 0, 2, 1, 1, None),
    "new failed pod": (job(2, 5), JobStatus(), pods(active=1, failed=1), 1, 0, 2, 0, 1, None),
    "no new pod; possible finalizer update of failed pod": (job(1, 1), JobStatus(failed=1), pods(active=1),
                                                            0, 0, 1, 0, 1, None),
    "job finish": (job(2, 5), JobStatus(), pods(succeeded=5), 0, 0, 0, 5, 0, "Complete"),
    "WQ job finishing": (job(2, -1), JobStatus(), pods(active=1, succeeded=1), 0, 0, 1, 1, 0, None),
    "WQ job all finished": (job(2, -1), JobStatus(), pods(succeeded=2), 0, 0, 0, 2, 0, "Complete"),
    "WQ job all finished despite one failure": (job(2, -1), JobStatus(), pods(succeeded=1, failed=1), 0, 0, 0, 1, 1,
                                                "Complete"),
    "more active pods than parallelism": (job(2, 5), JobStatus(), pods(active=10), 0, 8, 2, 0, 0, None),
    "more active pods than remaining completions": (job(3, 4), JobStatus(), pods(active=3, succeeded=2), 0, 1, 2, 2,
                                                    0, None),
    "status change": (job(2, 5), JobStatus(), pods(active=2, succeeded=2), 0, 0, 2, 2, 0, None),
    "deleting job": (job(2, 5, deleting=True), JobStatus(), pods(pending=1, active=1, succeeded=1), 0, 0, 2, 1, 0,
                     None),
    "too many job failures": (job(2, 5, backoff_limit=0, deleting=True), JobStatus(), pods(failed=1), 0, 0, 0, 0, 1,
                              "BackoffLimitExceeded"),
    "count ready pods when job fails": (job(2, 3, backoff_limit=0), JobStatus(), pods(active=2, ready=2, failed=1),
                                        0, 2, 0, 0, 3, "BackoffLimitExceeded"),
    "suspending a job with satisfied expectations": (job(2, 4, suspend=True), JobStatus(), pods(active=2),
                                                     0, 2, 0, 0, 0, None),
    "resuming a suspended job": (job(2, 4), JobStatus(), pods(), 2, 0, 2, 0, 0, None),
    "suspending a deleted job": (job(2, 4, suspend=True, deleting=True), JobStatus(), pods(active=2), 0, 0, 2, 0, 0,
                                 None),
}


@pytest.mark.parametrize("name", SYNC_CASES)
def test_TestControllerSyncJob(name):
    spec, status, given, creations, deletions, active, succeeded, failed, finished = SYNC_CASES[name]
    got = sync_job(spec, status, given, NOW)
    assert (got.create, len(got.delete), got.active, got.succeeded, got.failed, got.finished) == (
        creations, deletions, active, succeeded, failed, finished)


@pytest.mark.parametrize("name,given,terminating,ready", [
    ("WQ job: recreate pods when failed", pods(active=1, failed=1, terminating=1), 1, 0),
    ("count ready pods when too many active pods", pods(active=3, ready=3), 1, 2),
])
def test_TestControllerSyncJob_terminating_and_ready(name, given, terminating, ready):
    spec = SYNC_CASES[name][0]
    got = sync_job(spec, JobStatus(), given, NOW)
    assert (got.terminating, got.ready) == (terminating, ready)


INDEXED_CASES = {
    # name: (spec, pods, creations, created indexes, deletions, active, succeeded, completed, failed, finished)
    "indexed job start": (job(2, 5, indexed=True), [], 2, (0, 1), 0, 2, 0, set(), 0, None),
    "indexed job with some pods deleted, podReplacementPolicy Failed": (
        job(2, 5, indexed=True, pod_replacement_policy="Failed"), pods(terminating=1), 1, (0,), 0, 1, 0, set(), 0,
        None),
    "indexed job with some pods deleted, podReplacementPolicy TerminatingOrFailed": (
        job(2, 5, indexed=True, pod_replacement_policy="TerminatingOrFailed"), pods(terminating=1), 2, (0, 1), 0, 2,
        0, set(), 0, None),
    "indexed job completed": (job(2, 3, indexed=True), indexed((0, S), (1, F), (1, S), (2, S)), 0, (), 0, 0, 3,
                              {0, 1, 2}, 1, "Complete"),
    "indexed job failed": (job(2, 3, backoff_limit=0, indexed=True), indexed((0, S), (1, F), (2, R)), 0, (), 1, 0, 1,
                           {0}, 2, "BackoffLimitExceeded"),
    "indexed job repeated completed index": (job(2, 3, indexed=True), indexed((0, S), (1, S), (1, S)), 1, (2,), 0, 1,
                                             2, {0, 1}, 0, None),
    "indexed job some running and completed pods": (
        job(8, 20, indexed=True), indexed((0, R), (2, S), (3, P), (4, S), (5, S), (7, S), (8, S), (9, S)),
        6, (1, 6, 10, 11, 12, 13), 0, 8, 6, {2, 4, 5, 7, 8, 9}, 0, None),
    "indexed job some failed pods": (job(3, 4, indexed=True), indexed((0, F), (1, P), (2, F)), 2, (0, 2), 0, 3, 0,
                                     set(), 2, None),
    "indexed job some pods without index": (
        job(2, 5, indexed=True),
        pods(active=1, succeeded=1, failed=1) + indexed((None, R), (None, S), (None, F), (None, P), (0, S), (1, R),
                                                        (2, R)),
        0, (), 3, 2, 1, {0}, 0, None),
    "indexed job repeated indexes": (
        job(5, 5, indexed=True),
        pods(succeeded=1, failed=1) + indexed((None, R), (0, S), (1, R), (2, R), (2, P)),
        0, (), 2, 2, 1, {0}, 0, None),
    "indexed job with indexes outside of range": (
        job(2, 5, indexed=True), indexed((0, S), (5, R), (6, S), (7, P), (8, F)), 0, (), 2, 0, 1, {0}, 0, None),
}


@pytest.mark.parametrize("name", INDEXED_CASES)
def test_TestControllerSyncJob_indexed(name):
    spec, given, creations, created, deletions, active, succeeded, completed, failed, finished = INDEXED_CASES[name]
    got = sync_job(spec, JobStatus(), given, NOW)
    assert (got.create, got.indexes, len(got.delete), got.active, got.succeeded, set(got.completed_indexes),
            got.failed, got.finished) == (creations, created, deletions, active, succeeded, completed, failed,
                                          finished)


def test_syncJob_deletes_the_pending_duplicate_of_an_index():
    """``indexed job repeated indexes``: of index 2's Running and Pending pods, the Pending one goes."""
    given = indexed((None, R), (0, S), (1, R), (2, R), (2, P))
    assert sorted(sync_job(job(5, 5, indexed=True), JobStatus(), given, NOW).delete) == ["pod-0", "pod-4"]


# ----------------------------------------------------------------- backoffLimitPerIndex

def test_backoffLimitPerIndex_index_fails_and_the_job_fails_with_FailedIndexes():
    """An index whose pod failed with its failure count at the limit is failed, not retried; once
    every index is succeeded or failed the Job fails with ``FailedIndexes``."""
    spec = job(2, 2, backoff_limit=2**31 - 1, indexed=True, backoff_limit_per_index=1)
    retry = sync_job(spec, JobStatus(), [JobPod("a", F, index=0, failure_count=0), JobPod("b", R, index=1)], NOW)
    assert (retry.indexes, retry.failed_indexes, retry.finished) == ((0,), frozenset(), None)
    given = [JobPod("a", F, index=0, failure_count=1), JobPod("b", S, index=1)]
    done = sync_job(spec, JobStatus(), given, NOW)
    assert (done.failed_indexes, done.finished) == (frozenset({0}), "FailedIndexes")
    assert index_failed(spec, given[0]) and not index_failed(spec, given[1])


def test_maxFailedIndexes_exceeded():
    spec = job(3, 3, backoff_limit=2**31 - 1, indexed=True, backoff_limit_per_index=0, max_failed_indexes=0)
    assert sync_job(spec, JobStatus(), [JobPod("a", F, index=0)], NOW).finished == "MaxFailedIndexesExceeded"


# ----------------------------------------------------------------- pods, replacement, restarts

def test_isPodFailed_and_onlyReplaceFailedPods():
    deleting = JobPod("x", R, deleting=True)
    assert is_pod_failed(deleting, job(1, 1)) and not only_replace_failed_pods(job(1, 1))
    assert not is_pod_failed(deleting, job(1, 1, pod_replacement_policy="Failed"))
    assert only_replace_failed_pods(job(1, 1, pod_failure_policy=()))
    assert not is_pod_failed(JobPod("s", S, deleting=True), job(1, 1))


def test_TestJobBackoffForOnFailure_pastBackoffLimitOnFailure():
    on_failure = job(2, 4, backoff_limit=2, restart_policy="OnFailure")
    assert past_backoff_limit_on_failure(on_failure, [JobPod("a", R, restarts=1), JobPod("b", P, restarts=1)])
    assert not past_backoff_limit_on_failure(on_failure, [JobPod("a", R, restarts=1)])
    assert past_backoff_limit_on_failure(job(1, 1, backoff_limit=0, restart_policy="OnFailure"),
                                         [JobPod("a", R, restarts=1)])
    assert not past_backoff_limit_on_failure(job(1, 1, backoff_limit=0), [JobPod("a", R, restarts=5)])
    assert sync_job(on_failure, JobStatus(), [JobPod("a", R, restarts=2)], NOW).finished == "BackoffLimitExceeded"


def test_activeDeadlineSeconds_fails_the_job():
    spec = job(1, 1, active_deadline_seconds=30)
    assert sync_job(spec, JobStatus(start_time=NOW - 30), pods(active=1), NOW).finished == "DeadlineExceeded"
    assert sync_job(spec, JobStatus(start_time=NOW - 29), pods(active=1), NOW).finished is None


@pytest.mark.parametrize("name,failures,elapsed,expected", [
    ("no failures", 0, 0, 0),
    ("one failure; current time and failure time are same", 1, 0, 5),
    ("one failure; current time == 1 second + failure time", 1, 1, 4),
    ("one failure; current time == expected backoff time", 1, 5, 0),
    ("one failure; current time == expected backoff time + 1 Second", 1, 6, 0),
    ("three failures; current time and failure time are same", 3, 0, 20),
    ("eight failures; current time and failure time are same; backoff not exceeding maxBackoff", 8, 0, 640),
    ("nine failures; current time and failure time are same; backoff exceeding maxBackoff", 9, 0, 700),
])
def test_TestGetRemainingBackoffTime(name, failures, elapsed, expected):
    assert remaining_backoff(failures, NOW, NOW + elapsed, default=5, maximum=700) == expected


def test_newBackoffRecord_success_resets_to_the_failures_after_it():
    given = [JobPod("s", S, finished_at=100), JobPod("f1", F, finished_at=90), JobPod("f2", F, finished_at=120)]
    got = sync_job(job(3, 10), JobStatus(failures_after_last_success=4, last_failure_time=50), given, 125)
    assert (got.failures_after_last_success, got.last_failure_time) == (1, 120)
    assert (got.backoff, got.create, got.active) == (5, 0, 0)  # one failure: 10 s after 120
    later = sync_job(job(3, 10), JobStatus(failures_after_last_success=1, last_failure_time=120), [], 131)
    assert later.create == 3


# ----------------------------------------------------------------- pod failure policy

def failed_pod(*containers, conditions=()):
    return JobPod("mypod", F, containers=tuple(containers), conditions=conditions)


FAIL_ON_2_3 = PodFailurePolicyRule("FailJob", OnExitCodes("In", (2, 3)))
DISRUPTION = (("DisruptionTarget", "True"),)

POLICY_CASES = {
    "unknown action for rule matching by exit codes - skip rule with unknown action": (
        (PodFailurePolicyRule("UnknownAction", OnExitCodes("In", (1, 2))), FAIL_ON_2_3),
        failed_pod(ContainerExit("main-container", 2)),
        ("Container main-container for pod default/mypod failed with exit code 2 matching FailJob rule at index 1",
         True, "FailJob")),
    "unknown action for rule matching by pod conditions - skip rule with unknown action": (
        (PodFailurePolicyRule("UnkonwnAction", on_pod_conditions=DISRUPTION),
         PodFailurePolicyRule("Ignore", on_pod_conditions=DISRUPTION)),
        failed_pod(conditions=DISRUPTION), (None, False, "Ignore")),
    "unknown operator - rule with unknown action is skipped for onExitCodes": (
        (PodFailurePolicyRule("Ignore", OnExitCodes("UnknownOperator", (1, 2))), FAIL_ON_2_3),
        failed_pod(ContainerExit("main-container", 2)),
        ("Container main-container for pod default/mypod failed with exit code 2 matching FailJob rule at index 1",
         True, "FailJob")),
    "no policy rules": (None, failed_pod(ContainerExit("", 2)), (None, True, None)),
    "ignore rule matched for exit codes": ((PodFailurePolicyRule("Ignore", OnExitCodes("In", (1, 2, 3))),),
                                           failed_pod(ContainerExit("", 2)), (None, False, "Ignore")),
    "ignore rule matched on negative exit codes - needed for Windows support": (
        (PodFailurePolicyRule("Ignore", OnExitCodes("In", (-1073741676, -1073741510))),),
        failed_pod(ContainerExit("", -1073741510)), (None, False, "Ignore")),
    "FailJob rule matched for exit codes": (
        (PodFailurePolicyRule("FailJob", OnExitCodes("In", (1, 2, 3))),),
        failed_pod(ContainerExit("main-container", 2)),
        ("Container main-container for pod default/mypod failed with exit code 2 matching FailJob rule at index 0",
         True, "FailJob")),
    "successful containers are skipped by the rules": (
        (PodFailurePolicyRule("FailJob", OnExitCodes("NotIn", (111,))),),
        failed_pod(ContainerExit("init-container", 0, init=True), ContainerExit("main-container", 111),
                   ContainerExit("suppport-container", 0)), (None, True, None)),
    "FailIndex rule matched for exit codes": ((PodFailurePolicyRule("FailIndex", OnExitCodes("In", (1, 2, 3))),),
                                              failed_pod(ContainerExit("", 2)), (None, True, "FailIndex")),
    "pod failure policy with NotIn operator and value 0": (
        (PodFailurePolicyRule("FailJob", OnExitCodes("NotIn", (0,))),),
        failed_pod(ContainerExit("main-container", 1), ContainerExit("suppport-container", 0)),
        ("Container main-container for pod default/mypod failed with exit code 1 matching FailJob rule at index 0",
         True, "FailJob")),
    "second jobfail rule matched for exit codes": (
        (PodFailurePolicyRule("Count", OnExitCodes("In", (1, 2, 3))),
         PodFailurePolicyRule("FailJob", OnExitCodes("In", (4, 5, 6)))),
        failed_pod(ContainerExit("main-container", 6)),
        ("Container main-container for pod default/mypod failed with exit code 6 matching FailJob rule at index 1",
         True, "FailJob")),
    "count rule matched for exit codes": ((PodFailurePolicyRule("Count", OnExitCodes("In", (1, 2, 3))),),
                                          failed_pod(ContainerExit("foo"), ContainerExit("bar", 2)),
                                          (None, True, "Count")),
    "FailIndex rule matched for pod conditions": ((PodFailurePolicyRule("FailIndex", on_pod_conditions=DISRUPTION),),
                                                  failed_pod(conditions=DISRUPTION), (None, True, "FailIndex")),
    "ignore rule matched for pod conditions": ((PodFailurePolicyRule("Ignore", on_pod_conditions=DISRUPTION),),
                                               failed_pod(conditions=DISRUPTION), (None, False, "Ignore")),
    "ignore rule matches by the status=False": (
        (PodFailurePolicyRule("Ignore", on_pod_conditions=(("DisruptionTarget", "False"),)),),
        failed_pod(conditions=(("DisruptionTarget", "False"),)), (None, False, "Ignore")),
}


@pytest.mark.parametrize("name", POLICY_CASES)
def test_TestMatchPodFailurePolicy(name):
    rules, pod, expected = POLICY_CASES[name]
    assert match_pod_failure_policy(rules, pod) == expected


def test_podFailurePolicy_Ignore_does_not_count_and_FailJob_fails_the_job():
    spec = job(1, 1, backoff_limit=0, pod_failure_policy=(
        PodFailurePolicyRule("Ignore", on_pod_conditions=DISRUPTION), FAIL_ON_2_3))
    evicted = JobPod("evicted", F, conditions=DISRUPTION)
    assert sync_job(spec, JobStatus(), [evicted], NOW).failed == 0
    assert sync_job(spec, JobStatus(), [evicted], NOW).create == 1
    crashed = JobPod("crashed", F, containers=(ContainerExit("main", 3),))
    assert sync_job(spec, JobStatus(), [crashed], NOW).finished == "PodFailurePolicy"


# ----------------------------------------------------------------- indexes

@pytest.mark.parametrize("name,active,succeeded,failed,count,completions,expected", [
    ("cnt greater than completions", [], [], [], 5, 3, [0, 1, 2]),
    ("cnt less than completions", [], [], [], 2, 5, [0, 1]),
    ("first pods active", [0, 1], [], [], 3, 10, [2, 3, 4]),
    ("last pods active or succeeded", [6], [4, 5], [], 6, 6, [0, 1, 2, 3]),
    ("mixed", [3, 5, 8, None, -3], [2, 3, 4, 9], [], 5, 20, [0, 1, 6, 7, 10]),
    ("with failed indexes", [3, 9], [1, 5, 9], [2, 6, 7], 5, 20, [0, 4, 8, 10, 11]),
])
def test_TestFirstPendingIndexes(name, active, succeeded, failed, count, completions, expected):
    assert first_pending_indexes(active, succeeded, count, completions, failed=failed) == expected


def _phases(pods_):
    return [(p.index, p.phase) for p in pods_]


@pytest.mark.parametrize("name,given,remove,keep", [
    ("all unique", [(None, P), (2, P), (5, R), (6, R)], [(None, P), (6, R)], [(2, P), (5, R)]),
    ("all with index", [(5, P), (0, R), (3, P), (0, R), (3, R), (0, P), (6, R), (6, P)],
     [(6, R), (6, P), (0, P), (0, R), (3, P)], [(0, R), (3, R), (5, P)]),
    ("mixed", [(None, P), (None, R), (-2, R), (0, P), (1, P), (1, P), (1, R)],
     [(None, P), (None, R), (-2, R), (1, P), (1, P)], [(0, P), (1, R)]),
])
def test_TestAppendDuplicatedIndexPodsForRemoval(name, given, remove, keep):
    """Upstream lists the out-of-range pods where its index sort puts them; the sets agree."""
    got_remove, got_keep = duplicated_index_pods_for_removal(indexed(*given), 6)
    assert sorted(_phases(got_remove), key=str) == sorted(remove, key=str)
    assert _phases(got_keep) == keep


def test_activePodsForRemoval_prefers_unscheduled_pending_unready():
    given = [JobPod("ready", R, ready=True), JobPod("running", R), JobPod("pending", P),
             JobPod("unscheduled", P, scheduled=False)]
    assert [p.name for p in active_pods_for_removal(job(1, 4), given, 3)] == ["unscheduled", "pending", "running"]


# ----------------------------------------------------------------- properties

job_pods = st.lists(st.builds(
    JobPod, name=st.uuids().map(str), phase=st.sampled_from([P, R, S, F]), deleting=st.booleans(),
    ready=st.booleans(), index=st.one_of(st.none(), st.integers(0, 6)), finished_at=st.integers(0, 100)),
    max_size=8)
job_specs = st.builds(JobSpec, parallelism=st.integers(0, 4), completions=st.one_of(st.none(), st.integers(1, 6)),
                      indexed=st.booleans(), backoff_limit=st.integers(0, 6),
                      pod_replacement_policy=st.sampled_from([None, "Failed", "TerminatingOrFailed"]),
                      suspend=st.booleans()).filter(lambda s: s.completions is not None or not s.indexed)


@given(job_specs, job_pods)
def test_syncJob_property_never_creates_beyond_parallelism(spec, given):
    """kubernetes#28486/#115844: a sync never leaves more than ``parallelism`` active pods, and, when
    only Failed pods are replaced, active plus terminating pods stay within it too, counting what
    this sync creates."""
    got = sync_job(spec, JobStatus(), given, 10_000)
    before = sum(1 for p in given if p.phase in (P, R) and not p.deleting)
    if got.create:
        assert got.active <= spec.parallelism
        if only_replace_failed_pods(spec):
            assert got.active + got.terminating <= spec.parallelism
    assert not (got.create and got.delete)  # deletions take precedence within one sync
    assert got.active <= max(before, spec.parallelism)


@given(job_specs.filter(lambda s: s.indexed), job_pods)
def test_syncJob_property_at_most_one_pod_per_index_after_creation(spec, given):
    """New indexes are distinct, within completions, and held by no active pod nor succeeded."""
    got = sync_job(spec, JobStatus(), given, 10_000)
    held = {p.index for p in given if p.phase in (P, R) and not p.deleting}
    done = {p.index for p in given if p.phase == S}
    assert len(set(got.indexes)) == len(got.indexes)
    assert all(0 <= i < spec.completions and i not in held and i not in done for i in got.indexes)


@given(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 8)), st.integers(0, 8), st.integers(0, 8))
def test_want_active_property(parallelism, completions, active, succeeded):
    spec = JobSpec(parallelism=parallelism, completions=completions)
    wanted = want_active(spec, active, succeeded)
    assert 0 <= wanted <= max(parallelism, active)
    if completions is not None:
        assert wanted <= max(0, completions - succeeded)


# ----------------------------------------------------------------- CronJob: robfig/cron schedules

def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp())


TOP = at("2016-05-19T10:00:00")  # topOfTheHour(), a Thursday


def after_top(seconds: int) -> int:
    return TOP + seconds


H, M = 3600, 60

MOST_RECENT = {
    # name: (schedule, created, last scheduled, starting deadline, include it, now, earliest, recent, missed)
    "now before next schedule": ("0 * * * *", TOP, None, None, False, TOP + 30, TOP, None, "none"),
    "now just after next schedule": ("0 * * * *", TOP, None, None, False, TOP + 61 * M, TOP, TOP + 60 * M, "none"),
    "missed 5 schedules": ("0 * * * *", TOP + 10, None, None, False, TOP + 301 * M, TOP + 10, TOP + 300 * M, "few"),
    "complex schedule": ("30 6-16/4 * * 1-5", TOP, TOP + 30 * M, None, False, TOP + 24 * H + 31 * M, TOP + 30 * M,
                         TOP + 24 * H + 30 * M, "few"),
    "another complex schedule": ("30 10,11,12 * * 1-5", TOP, TOP + 30 * M, None, False, TOP + 30 * H + 30 * M,
                                 TOP + 30 * M, None, "few"),
    "complex schedule with longer diff between executions": (
        "30 6-16/4 * * 1-5", TOP, TOP + 30 * M, None, False, TOP + 96 * H + 31 * M, TOP + 30 * M,
        TOP + 96 * H + 30 * M, "few"),
    "complex schedule with shorter diff between executions": (
        "30 6-16/4 * * 1-5", TOP, None, None, False, TOP + 24 * H + 31 * M, TOP, TOP + 24 * H + 30 * M, "few"),
    "@every schedule": ("@every 1h", TOP - 59 * M, TOP + M, 10, False, TOP + 7 * 24 * H, TOP + M,
                        TOP + 6 * 24 * H + 23 * H + M, "many"),
    "earliestTime being CreationTimestamp and LastScheduleTime": ("0 * * * *", TOP, TOP, None, False, TOP + 30, TOP,
                                                                  None, "none"),
    "earliestTime being LastScheduleTime": ("*/5 * * * *", TOP, TOP + 30 * M, None, False, TOP + 31 * M, TOP + 30 * M,
                                            None, "none"),
    "earliestTime being LastScheduleTime (within StartingDeadlineSeconds)": (
        "*/5 * * * *", TOP, TOP + 30 * M, 60, False, TOP + 31 * M, TOP + 30 * M, None, "none"),
    "earliestTime being LastScheduleTime (outside StartingDeadlineSeconds)": (
        "*/5 * * * *", TOP, TOP + 30 * M, 60, True, TOP + 32 * M, TOP + 31 * M, None, "none"),
}


@pytest.mark.parametrize("name", MOST_RECENT)
def test_TestMostRecentScheduleTime(name):
    spec, created, last, deadline, include, now, earliest, recent, missed = MOST_RECENT[name]
    got = most_recent_schedule_time(parse_schedule(spec), created, last, now, deadline if include else None)
    assert got == (earliest, recent, missed)


def test_TestMostRecentScheduleTime_rogue_cronjob():
    with pytest.raises(CronScheduleError, match="less than 1 second"):
        most_recent_schedule_time(parse_schedule("59 23 31 2 *"), TOP + 10, None, TOP + H)


@pytest.mark.parametrize("name,spec,last,now,expected", [
    ("complex schedule skipping weekend", "30 6-16/4 * * 1-5", TOP + 30 * M, TOP + 24 * H + 31 * M, 3 * H + 59 * M),
    ("another complex schedule skipping weekend", "30 10,11,12 * * 1-5", TOP + 30 * M, TOP + 30 * H + 30 * M, 66 * H),
    ("once a week cronjob, missed two runs", "0 12 * * 4", TOP + 2 * H, TOP + 19 * 24 * H + H + 30 * M,
     48 * H + 30 * M),
    ("no previous run of a cronjob", "0 12 * * 5", None, TOP + 6 * H, 20 * H),
])
def test_TestNextScheduleTimeDuration(name, spec, last, now, expected):
    """Upstream's expectations add ``nextScheduleDelta`` (100 ms), which whole seconds leave out."""
    assert next_schedule_time_duration(parse_schedule(spec), TOP, last, now) == expected


@pytest.mark.parametrize("spec,error", [
    ("* * * *", "expected exactly 5 fields"),
    ("60 * * * *", "above maximum"),
    ("* * 0 * *", "below minimum"),
    ("* * * * 7", "above maximum"),
    ("5-1 * * * *", "beyond end of range"),
    ("*/0 * * * *", "step of range should be a positive number"),
    ("1-2-3 * * * *", "too many hyphens"),
    ("*/2/3 * * * *", "too many slashes"),
    ("x * * * *", "failed to parse int"),
    ("@fortnightly", "unrecognized descriptor"),
    ("@every one", "failed to parse duration"),
    ("", "empty spec string"),
])
def test_ParseStandard_rejects(spec, error):
    with pytest.raises(CronScheduleError, match=error):
        parse_schedule(spec)


@pytest.mark.parametrize("spec,start,expected", [
    ("0 0 * * mon", "2016-05-19T10:00:00", "2016-05-23T00:00:00"),
    ("0 0 1 jan *", "2016-05-19T10:00:00", "2017-01-01T00:00:00"),
    ("@weekly", "2016-05-19T10:00:00", "2016-05-22T00:00:00"),
    ("@monthly", "2016-05-19T10:00:00", "2016-06-01T00:00:00"),
    ("@hourly", "2016-05-19T10:00:00", "2016-05-19T11:00:00"),
    ("0 0 29 2 *", "2016-05-19T10:00:00", "2020-02-29T00:00:00"),
    # a restricted day of month and day of week: either matches (the 1st, or a Monday)
    ("0 0 1 * mon", "2016-05-19T10:00:00", "2016-05-23T00:00:00"),
    # a star-led day field: both must match (a Monday that is the 1st)
    ("0 0 1 * *", "2016-05-19T10:00:00", "2016-06-01T00:00:00"),
    ("0 0 */1 * mon", "2016-05-19T10:00:00", "2016-05-23T00:00:00"),
    ("0 0 */2 * mon", "2016-05-19T10:00:00", "2016-05-21T00:00:00"),  # */2 is no star: odd day or Monday
    ("15 10 * * *", "2016-05-19T10:15:00", "2016-05-20T10:15:00"),  # strictly after
])
def test_SpecSchedule_Next(spec, start, expected):
    assert parse_schedule(spec).next(at(start)) == at(expected)


def _brute_next(schedule, t):
    """The first allowed minute after ``t`` found by walking the next eight days in order."""
    first_day = dt.datetime.fromtimestamp(t, dt.timezone.utc).replace(hour=0, minute=0, second=0)
    for offset in range(9):
        day = first_day + dt.timedelta(days=offset)
        dom, dow = day.day in schedule.days, day.isoweekday() % 7 in schedule.weekdays
        either = not (schedule.days_star or schedule.weekdays_star)
        if day.month not in schedule.months or not ((dom or dow) if either else (dom and dow)):
            continue
        for hour in sorted(schedule.hours):
            for minute in sorted(schedule.minutes):
                candidate = int(day.replace(hour=hour, minute=minute).timestamp())
                if candidate > t:
                    return candidate
    return None


fields = st.tuples(st.sampled_from(["*", "0", "*/15", "5,35", "10-20/5"]), st.sampled_from(["*", "3", "*/6", "1-4"]),
                   st.sampled_from(["*", "1", "*/3", "15-20"]), st.sampled_from(["*", "*/2", "5", "jan-jun"]),
                   st.sampled_from(["*", "1-5", "sun", "*/2"]))


@given(fields, st.integers(TOP, TOP + 400 * 24 * H))
def test_SpecSchedule_Next_property_is_the_first_match_after(spec_fields, t):
    """``next`` agrees with a minute-by-minute search (within 8 days of ``t``)."""
    schedule = parse_schedule(" ".join(spec_fields))
    got = schedule.next(t)
    brute = _brute_next(schedule, t)
    if brute is not None:
        assert got == brute
    else:
        assert got is None or got > t + 8 * 24 * H - 60


# ----------------------------------------------------------------- CronJob: syncCronJob's decision

HOURLY = parse_schedule("0 * * * *")


@pytest.mark.parametrize("name,policy,active,deadline,last,now,expected", [
    ("never ran, not time", "Allow", 0, None, None, TOP + 30 * M, ("wait", None)),
    ("never ran, is time", "Allow", 0, None, None, TOP + 61 * M, ("create", TOP + H)),
    ("is time, Forbid with an active Job", "Forbid", 1, None, None, TOP + 61 * M, ("forbid", TOP + H)),
    ("is time, Replace with an active Job", "Replace", 1, None, None, TOP + 61 * M, ("replace", TOP + H)),
    ("is time, Allow with an active Job", "Allow", 1, None, None, TOP + 61 * M, ("create", TOP + H)),
    ("already ran this hour", "Allow", 0, None, TOP + H, TOP + 61 * M, ("wait", None)),
    ("missed by more than the starting deadline", "Allow", 0, 30, None, TOP + 61 * M, ("wait", None)),
    ("within the starting deadline", "Allow", 0, 120, None, TOP + 61 * M, ("create", TOP + H)),
    ("missed several, starts the most recent", "Allow", 0, None, None, TOP + 5 * H + M, ("create", TOP + 5 * H)),
])
def test_TestControllerV2SyncCronJob_cronjob_decision(name, policy, active, deadline, last, now, expected):
    got = cronjob_decision(HOURLY, TOP, last, now, active, policy, deadline)
    assert (got.action, got.scheduled) == expected


def test_syncCronJob_suspended_does_nothing():
    assert cronjob_decision(HOURLY, TOP, None, TOP + 2 * H, 0, suspend=True).action == "wait"
