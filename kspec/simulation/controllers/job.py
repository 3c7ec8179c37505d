"""The job controller in scenarios: one ``syncJob`` of one Job is one step.

Follows ``pkg/controller/job/job_controller.go`` (``syncJob``, ``manageJob``,
``trackJobStatusAndRemoveFinalizers``); the counting and the decisions are
:func:`kspec.simulation.controllers.jobmath.sync_job`, tested on upstream's
tables. This module puts them on the explored state:

observe
    the pods the Job owns that still carry its tracking finalizer
    (``batch.kubernetes.io/job-tracking``): a pod's template group says
    whether it does (``PodGroup.finalizer``; see ``World._build_job``), so a
    pod's end is counted exactly once;
count and decide
    :func:`jobmath.sync_job` with the stored status (:class:`JobRecord`);
act
    delete the pods it names, create pods (an Indexed Job's in the template of
    each index it names), remove the finalizer of every pod whose end it
    counted (a terminal pod, a terminating one unless only Failed pods are
    replaced, and every pod once the Job has finished): the pod moves to its
    template's finalizer-less twin, or goes at once if it was already deleted
    and terminal (the finalizer was all that kept it);
status
    the counts, completed indexes, per-index failures and the finishing
    condition are written in the same step (upstream removes finalizers, then
    writes status; nothing reads in between here).

Time: the pod failure back-off (10 s doubling to 10 min) is a delay that may
end at any later step, so every sync is taken as after it (``now`` beyond any
back-off). ``activeDeadlineSeconds`` passes at an arbitrary point after the
Job starts: a :class:`JobDeadlinePassed` step of the same (fair) actor, for
time does not stop. ``ttlSecondsAfterFinished``: once finished, the TTL
controller deletes the Job (:class:`TTLDeleteJob`) and the garbage collector
its pods.

Pod facts the counting reads and the state does not hold: a Failed pod that
was not deleted had a container exit with code 1 (what ``onExitCodes`` rules
match); a pod that was deleted while bound carries ``DisruptionTarget=True``
(taint eviction and drain set it; kspec does not tell a user's plain delete
apart). Container restarts under ``restartPolicy: OnFailure`` are not
counted (the state keeps no restart count), so ``backoffLimit`` counts only
failed pods.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.jobmath import (
    ContainerExit, JobPod, JobSpec, JobStatus, is_pod_failed, match_pod_failure_policy, sync_job,
)
from kspec.simulation.controllers.protocol import describe_sync
from kspec.simulation.state import (
    FAILED, NOT_RUNNING, TERMINAL_PHASES, PodRec, State, World, create_pod, delete_pod, remove_pod,
    status_of, update_pod, with_status,
)

__all__ = ["JobRecord", "JobSync", "JobDeadlinePassed", "TTLDeleteJob", "JobController", "TTLAfterFinished",
           "record_of", "job_pods", "index_of", "sync"]

AFTER_ANY_BACKOFF = 10**9
"""``now`` for every sync: later than any back-off the failures so far imply (abstract time)."""


@attrs.frozen
class JobRecord:
    """A Job's stored status: ``succeeded`` and ``failed`` counts, ``completedIndexes``,
    per index the failures counted so far (what the ``job-index-failure-count``
    annotation of the index's next pod says; only with ``backoffLimitPerIndex``), the
    finishing condition (``Complete``, or the ``Failed`` reason), and whether
    ``activeDeadlineSeconds`` has passed. No pod names: symmetry renames pods."""

    succeeded: int = 0
    failed: int = 0
    completed_indexes: frozenset[int] = frozenset()
    index_failures: tuple[int, ...] = ()
    condition: str | None = None
    deadline_passed: bool = False

    @property
    def finished(self) -> bool:
        return self.condition is not None

    def __repr__(self) -> str:
        text = f"succeeded={self.succeeded} failed={self.failed}"
        if self.completed_indexes:
            text += f" completed={sorted(self.completed_indexes)}"
        if self.condition:
            text += f" {self.condition}"
        return f"Job({text})"


@attrs.frozen
class JobSync(Action):
    """One sync of a Job: pods created and deleted, pods whose end it counted, the condition reached."""

    actor: ClassVar[str] = "job"
    job: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    counted: tuple[str, ...] = ()
    condition: str | None = None

    def __str__(self) -> str:
        text = describe_sync("JobSync", self.job, create=self.create, delete=self.delete, count=self.counted)
        return text[:-1] + (f"; {self.condition})" if self.condition else ")")


@attrs.frozen
class JobDeadlinePassed(Action):
    """``activeDeadlineSeconds`` have passed since the Job started."""

    actor: ClassVar[str] = "job"
    job: str


@attrs.frozen
class TTLDeleteJob(Action):
    """``ttlSecondsAfterFinished`` have passed since the Job finished: the TTL controller deletes it."""

    actor: ClassVar[str] = "ttl-after-finished"
    job: str


def record_of(world: World, state: State, w: int) -> JobRecord:
    """Job ``w``'s stored status (a fresh one before its first sync)."""
    record = status_of(world, state, world.workloads[w].ref)
    if record is not None:
        return record
    spec = world.job_specs[w]
    failures = (0,) * spec.completions if spec.backoff_limit_per_index is not None else ()
    return JobRecord(index_failures=failures)


def index_of(world: World, pod: PodRec) -> int | None:
    """The pod's completion index (``None`` outside an Indexed Job)."""
    index = world.groups[pod.group].completion_index
    return index if index >= 0 else None


def job_pods(world: World, state: State, w: int) -> list[PodRec]:
    """The pods of Job ``w`` that still carry its tracking finalizer."""
    return [p for p in state.pods if p.owner == w and world.groups[p.group].finalizer]


def _job_pod(world: World, pod: PodRec, record: JobRecord) -> JobPod:
    index = index_of(world, pod)
    exits = (ContainerExit(world.groups[pod.group].pod.spec.containers[0].name, 1),) \
        if pod.phase == FAILED and not pod.deleting else ()
    conditions = (("DisruptionTarget", "True"),) if pod.deleting and pod.node >= 0 else ()
    failures = record.index_failures[index] if record.index_failures and index is not None else 0
    return JobPod(pod.name, pod.phase, pod.deleting, pod.ready, index, scheduled=pod.node >= 0,
                  containers=exits, conditions=conditions, failure_count=failures)


def _effective(spec: JobSpec, record: JobRecord) -> JobSpec:
    """The spec as :func:`sync_job` reads it at abstract time: the deadline
    counts as past once :class:`JobDeadlinePassed` happened, never before."""
    return attrs.evolve(spec, active_deadline_seconds=0 if record.deadline_passed else None)


def _counted(spec: JobSpec, pods: list[JobPod], finished: bool) -> list[str]:
    """The pods whose end this sync counts (their finalizers go)."""
    if finished:
        return [p.name for p in pods]
    return [p.name for p in pods if p.phase in TERMINAL_PHASES or is_pod_failed(p, spec)]


def _release(world: World, state: State, names) -> State:
    """Remove the tracking finalizer of each named pod: it moves to its
    template's finalizer-less twin, or is gone if it was deleted and terminal."""
    for name in names:
        pod = state.pod(name)
        if pod is None:
            continue
        i = state.index_of(name)
        if pod.deleting and pod.run == NOT_RUNNING and (pod.phase in TERMINAL_PHASES or pod.node < 0):
            state = remove_pod(state, i)
        else:
            state = update_pod(state, i, group=world.counted_twin[pod.group])
    return state


def sync(world: World, state: State, w: int) -> tuple[State, JobSync | None]:
    """One ``syncJob`` of Job ``w``: the next state and its action (None: nothing to do)."""
    record = record_of(world, state, w)
    name = world.workloads[w].name
    tracked = job_pods(world, state, w)
    if state.replicas[w] is None:  # deleted: its finalizers go, the garbage collector does the rest
        names = tuple(p.name for p in tracked)
        return (_release(world, state, names), JobSync(name, counted=names)) if names else (state, None)
    if record.finished:
        return state, None
    spec = world.job_specs[w]
    pods = [_job_pod(world, p, record) for p in tracked]
    status = JobStatus(record.succeeded, record.failed, record.completed_indexes, start_time=0)
    result = sync_job(_effective(spec, record), status, pods, now=AFTER_ANY_BACKOFF)
    nxt = state
    for pod_name in result.delete:
        nxt = delete_pod(nxt, nxt.index_of(pod_name))
    counted = _counted(spec, pods, result.finished is not None)
    nxt = _release(world, nxt, counted)
    created = []
    groups = world.job_groups[w]
    for index in (result.indexes if spec.indexed else (0,) * result.create):
        nxt, pod_name = create_pod(world, nxt, groups[index][0], owner=w)
        created.append(pod_name)
    failures = list(record.index_failures)
    if failures:
        for pod in pods:
            # getNewIndexFailureCounts: an Ignore rule leaves the index's count as it is
            if (pod.name in counted and is_pod_failed(pod, spec) and pod.index is not None
                    and match_pod_failure_policy(spec.pod_failure_policy, pod)[1]):
                failures[pod.index] += 1
    new = JobRecord(result.succeeded, result.failed, result.completed_indexes, tuple(failures), result.finished,
                    record.deadline_passed)
    if new != record or status_of(world, state, world.workloads[w].ref) is None:
        nxt = with_status(world, nxt, world.workloads[w].ref, new)
    if nxt == state:
        return state, None
    return nxt, JobSync(name, tuple(created), tuple(result.delete), tuple(counted), result.finished)


class JobController:
    """The job controller: a :class:`JobSync` per Job with work, and the
    deadline of each started, unfinished Job with ``activeDeadlineSeconds``."""

    actor = "job"
    fair = True

    def steps(self, world: World, state: State):
        for w in world.jobs:
            nxt, action = sync(world, state, w)
            if action is not None:
                yield action, nxt
            record = status_of(world, state, world.workloads[w].ref)
            if (world.job_specs[w].active_deadline_seconds is not None and record is not None
                    and not record.finished and not record.deadline_passed and state.replicas[w] is not None):
                yield (JobDeadlinePassed(world.workloads[w].name),
                       with_status(world, state, world.workloads[w].ref, attrs.evolve(record, deadline_passed=True)))


class TTLAfterFinished:
    """The TTL-after-finished controller (``pkg/controller/ttlafterfinished``):
    deletes a finished Job with ``ttlSecondsAfterFinished`` once they pass (at
    any later step: weakly fair)."""

    actor = "ttl-after-finished"
    fair = True

    def steps(self, world: World, state: State):
        for w in world.jobs:
            raw = world.workloads[w].record.raw
            ttl = ((raw.get("spec") or {}) if isinstance(raw, dict) else {}).get("ttlSecondsAfterFinished")
            record = status_of(world, state, world.workloads[w].ref)
            if ttl is not None and record is not None and record.finished and state.replicas[w] is not None:
                replicas = state.replicas[:w] + (None,) + state.replicas[w + 1:]
                yield TTLDeleteJob(world.workloads[w].name), attrs.evolve(state, replicas=replicas, rv=state.rv + 1)
