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

Deletion: a Job deleted with ``propagationPolicy: Foreground`` or ``Orphan``
stays in the API with a deletionTimestamp while the garbage collector works,
and ``syncJob`` does not call ``manageJob`` for it (``satisfiedExpectations
&& job.DeletionTimestamp == nil``): it counts the pods that end, creates and
deletes none. A pod the collector orphaned (its ownerReference removed)
that still carries the tracking finalizer loses it through the orphan-pod
queue (``syncOrphanPod``): :class:`JobReleaseOrphan`.

Read through an informer cache (a scenario's ``consistency.controllers``
names ``job``), the controller keeps upstream's expectations and creates in
slow-start batches: see :class:`JobController`.

Pod facts the counting reads and the state does not hold: a Failed pod that
was not deleted had a container exit with code 1 (what ``onExitCodes`` rules
match); a pod that was deleted while bound carries ``DisruptionTarget=True``
(taint eviction and drain set it; kspec does not tell a user's plain delete
apart). Container restarts under ``restartPolicy: OnFailure`` are not
counted (the state keeps no restart count), so ``backoffLimit`` counts only
failed pods.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.jobmath import (
    ContainerExit, JobPod, JobSpec, JobStatus, is_active, is_pod_failed, match_pod_failure_policy,
    removal_alternatives, sync_job,
)
from kspec.simulation.controllers.protocol import WorkloadSlots, describe_sync
from kspec.simulation.informer import cached_state
from kspec.simulation.state import (
    FAILED, NOT_RUNNING, TERMINAL_PHASES, PodRec, State, World, create_pod, deletion_pending, delete_pod, has_quorum,
    remove_pod, status_of, update_pod, with_status,
)

__all__ = ["JobRecord", "JobSync", "JobReleaseOrphan", "JobBatch", "JobExpectationsExpired", "JobDeadlinePassed",
           "TTLDeleteJob", "JobController", "JobExpectations", "JobPlan", "TTLAfterFinished", "record_of", "job_pods",
           "index_of", "decide", "enact", "sync"]

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
class JobReleaseOrphan(Action):
    """``syncOrphanPod``: a pod with no controller left loses the Job's tracking finalizer."""

    actor: ClassVar[str] = "job"
    pod: str


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


@attrs.frozen
class JobPlan:
    """What one ``syncJob`` decided on the pods it saw: pods to delete, pods
    whose end it counted (their finalizers go), the templates of the pods to
    create, and the status to write. ``alternatives``: the other sets of pods
    it may delete instead, among pods upstream's ordering cannot tell apart
    (:func:`~kspec.simulation.controllers.jobmath.removal_alternatives`)."""

    delete: tuple[str, ...] = ()
    counted: tuple[str, ...] = ()
    create: tuple[int, ...] = ()
    record: JobRecord | None = None
    condition: str | None = None
    alternatives: tuple[tuple[str, ...], ...] = ()

    def choices(self) -> list[JobPlan]:
        """This plan, then one per other set of pods it may delete."""
        return [self] + [attrs.evolve(self, delete=delete, alternatives=()) for delete in self.alternatives]


def decide(world: World, state: State, w: int, *, manage: bool = True, skip=()) -> JobPlan:
    """``syncJob`` of Job ``w`` on ``state`` (the pods as the controller sees
    them). ``manage`` False is a sync whose expectations are not met: it counts
    finished pods and may complete the Job, but creates and deletes nothing and
    declares no failure (upstream's ``deleted != active || !satisfiedExpectations``
    keeps the Job unfinished; here such a sync waits whole). A Job being
    deleted is synced without ``manageJob`` too, but its expectations are
    met: it may finish, by failure or completion. ``skip``: pods
    whose finalizer removal the controller expects (``expectedRmFinalizers``):
    already counted, left out."""
    record = record_of(world, state, w)
    tracked = [p for p in job_pods(world, state, w) if p.name not in skip]
    if state.replicas[w] is None:  # deleted: its finalizers go, the garbage collector does the rest
        return JobPlan(counted=tuple(p.name for p in tracked))
    if record.finished:
        return JobPlan()
    deleting = deletion_pending(world, state, w) is not None  # a deletionTimestamp: no manageJob, may finish
    spec = _effective(world.job_specs[w], record)
    pods = [_job_pod(world, p, record) for p in tracked]
    status = JobStatus(record.succeeded, record.failed, record.completed_indexes, start_time=0)
    result = sync_job(spec if manage and not deleting else attrs.evolve(spec, deleting=True), status, pods,
                      now=AFTER_ANY_BACKOFF)
    finished = result.finished
    if not manage and finished is not None:
        return JobPlan()
    if finished is None and (deleting or not manage):
        complete = result.succeeded > 0 if spec.completions is None else result.succeeded >= spec.completions
        finished = "Complete" if complete and result.active == 0 else None
    counted = _counted(spec, pods, finished is not None)
    groups = world.job_groups[w]
    create = tuple(groups[index][0] for index in (result.indexes if spec.indexed else (0,) * result.create))
    failures = list(record.index_failures)
    if failures:
        for pod in pods:
            # getNewIndexFailureCounts: an Ignore rule leaves the index's count as it is
            if (pod.name in counted and is_pod_failed(pod, spec) and pod.index is not None
                    and match_pod_failure_policy(spec.pod_failure_policy, pod)[1]):
                failures[pod.index] += 1
    new = JobRecord(result.succeeded, result.failed, result.completed_indexes, tuple(failures), finished,
                    record.deadline_passed)
    if new == record and status_of(world, state, world.workloads[w].ref) is not None:
        new = None
    delete = removal_alternatives(spec, [p for p in pods if is_active(p)], result.delete) if result.delete else [()]
    return JobPlan(delete[0], tuple(counted), create, new, finished, tuple(delete[1:]))


def enact(world: World, state: State, w: int, plan: JobPlan) -> tuple[State, tuple[str, ...]]:
    """The writes of ``plan``: deletions, finalizer removals, creations, then
    the status; returns the next state and the names of the pods created."""
    nxt = state
    for pod_name in plan.delete:
        nxt = delete_pod(nxt, nxt.index_of(pod_name))
    nxt = _release(world, nxt, plan.counted)
    created = []
    for group in plan.create:
        nxt, pod_name = create_pod(world, nxt, group, owner=w)
        created.append(pod_name)
    if plan.record is not None:
        nxt = with_status(world, nxt, world.workloads[w].ref, plan.record)
    return nxt, tuple(created)


def sync(world: World, state: State, w: int) -> list[tuple[State, JobSync]]:
    """One ``syncJob`` of Job ``w`` reading the API: the next state and its
    action, one per set of pods it may delete (none: nothing to do)."""
    out = []
    for plan in decide(world, state, w).choices():
        nxt, created = enact(world, state, w, plan)
        if nxt != state:
            out.append((nxt, JobSync(world.workloads[w].name, created, plan.delete, plan.counted, plan.condition)))
    return out


# --------------------------------------------------------------------------- reading through an informer cache


@attrs.frozen
class JobBatch(Action):
    """The next slow-start batch of a sync creating a Job's pods (``failed``:
    the batch's creations failed, the rest of the sync is skipped)."""

    actor: ClassVar[str] = "job"
    job: str
    create: tuple[str, ...] = ()
    failed: int = 0

    def __str__(self) -> str:
        if self.failed:
            return f"JobBatch({self.job}: {self.failed} creations failed, rest of the sync skipped)"
        return describe_sync("JobBatch", self.job, create=self.create)


@attrs.frozen
class JobExpectationsExpired(Action):
    """Expectations nothing can meet any more (the cache has every event)
    time out: ``ControllerExpectations``' 5-minute TTL always fires in the end."""

    actor: ClassVar[str] = "job"
    job: str


class JobExpectations(NamedTuple):
    """The job controller's memory of one Job: ``ControlleeExpectations``
    (``add`` creations and ``delete`` deletions still expected, counts as
    upstream keeps them for Jobs), ``finalizers``, the pods whose finalizer
    removal is expected (``uidTrackingExpectations``, by name here), and the
    sync in progress: ``pending`` templates still to create, in batches of
    ``batch`` doubling each time."""

    add: int = 0
    delete: int = 0
    finalizers: tuple[str, ...] = ()
    pending: tuple[int, ...] = ()
    batch: int = 1

    @property
    def satisfied(self) -> bool:
        """``SatisfiedExpectations`` (finalizer expectations do not gate a sync)."""
        return self.add <= 0 and self.delete <= 0

    def __repr__(self) -> str:
        parts = [f"add {self.add}"] if self.add else []
        parts += [f"del {self.delete}"] if self.delete else []
        parts += [f"finalizers {list(self.finalizers)}"] if self.finalizers else []
        parts += [f"{len(self.pending)} to create in batches of {self.batch}+"] if self.pending else []
        return "expect(" + ", ".join(parts) + ")"


def _normal(exp: JobExpectations | None) -> JobExpectations | None:
    """A met record with nothing else to remember behaves as no record at all."""
    if exp is None or (exp.satisfied and not exp.pending and not exp.finalizers):
        return None
    return exp


def _observed(world: World, pod: PodRec, event_before, event_after, exp: JobExpectations) -> JobExpectations:
    """The handlers ``addPod``, ``updatePod`` and ``deletePod`` on ``exp``: a
    new pod is ``CreationObserved``; a pod that has a deletionTimestamp (each
    of its updates) or is gone is ``DeletionObserved``; a pod whose tracking
    finalizer is gone (or the pod itself) is ``finalizerRemovalObserved``."""
    if event_before is None and not event_after.deleting:
        exp = exp._replace(add=exp.add - 1)
    elif event_after is None or event_after.deleting:
        exp = exp._replace(delete=exp.delete - 1)
    if pod.name in exp.finalizers and (event_after is None or not world.groups[event_after.group].finalizer):
        exp = exp._replace(finalizers=tuple(n for n in exp.finalizers if n != pod.name))
    return exp


class JobController(WorkloadSlots):
    """The job controller: a :class:`JobSync` per Job with work, and the
    deadline of each started, unfinished Job with ``activeDeadlineSeconds``.

    Named in a scenario's ``consistency.controllers`` it reads its informer
    cache and keeps upstream's memory (:class:`JobExpectations`, per Job):
    ``manageJob`` raises the expectations (``ExpectCreations`` with the number
    it creates, ``ExpectDeletions`` with the number it deletes) and creates
    in slow-start batches (1, 2, 4, ...), one step each; the handlers
    (:meth:`observe`) lower them; a sync whose expectations are unmet only
    counts. Counted pods' finalizer removals are expected by name until the
    cache sees them, and until then the pods are not counted again. The
    expectations expire after 5 minutes (the ``expectations-expire`` fault, or
    a fair step once nothing is left to arrive); a restart loses them."""

    actor = "job"
    fair = True

    names = "finalizers"  # the pod names an expectations record holds
    normal = staticmethod(_normal)

    def workloads(self, world: World) -> tuple[int, ...]:
        return world.jobs

    def steps(self, world: World, state: State):
        informed = self.actor in world.memory_slots
        for w in world.jobs:
            if informed:
                yield from self.sync_informed(world, state, w)
            else:
                for nxt, action in sync(world, state, w):
                    yield action, nxt
            record = status_of(world, state, world.workloads[w].ref)
            if (world.job_specs[w].active_deadline_seconds is not None and record is not None
                    and not record.finished and not record.deadline_passed and state.replicas[w] is not None):
                yield (JobDeadlinePassed(world.workloads[w].name),
                       with_status(world, state, world.workloads[w].ref, attrs.evolve(record, deadline_passed=True)))
        for pod in state.pods:
            if pod.owner < 0 and pod.group in world.counted_twin:
                yield JobReleaseOrphan(pod.name), _release(world, state, (pod.name,))

    # ---------------------------------------------------------------- memory (informed mode)

    def observe(self, world: World, state: State, event) -> State:
        """The informer's handlers for a pod of a Job; the deletion handler
        ignores a Job that is gone or finished, as upstream's ``deletePod`` does."""
        pod = event.after if event.after is not None else event.before
        if pod.owner not in world.job_groups:
            return state
        exp = self.slot(world, state, pod.owner)
        if exp is None:
            return state
        if event.after is None or event.after.deleting:
            record = status_of(world, state, world.workloads[pod.owner].ref)
            if state.replicas[pod.owner] is None or (record is not None and record.finished):
                return state
        new = _observed(world, pod, event.before, event.after, exp)
        return state if new == exp else self.with_slot(world, state, pod.owner, new)

    def expire(self, world: World, state: State):
        """Each Job whose unmet expectations can time out (no sync running)."""
        for w in world.jobs:
            exp = self.slot(world, state, w)
            if exp is not None and not exp.pending and not exp.satisfied:
                yield world.workloads[w].ref, self.with_slot(world, state, w, exp._replace(add=0, delete=0))

    def _caught_up(self, world: World, state: State) -> bool:
        """The cache has every event and lost none: unmet expectations can
        only be met by time running out."""
        k = world.informer_slots.get(self.actor)
        return k is None or state.informers[k] == (0, ())

    def sync_informed(self, world: World, state: State, w: int):
        """``syncJob`` reading the informer cache, ``manageJob`` gated by the
        expectations, creations in slow-start batches."""
        exp = self.slot(world, state, w)
        name = world.workloads[w].name
        if exp is not None and exp.pending:
            yield self._next_batch(world, state, w, exp)
            return
        satisfied = exp is None or exp.satisfied
        if not satisfied and self._caught_up(world, state):  # nothing left to arrive: the TTL fires
            yield JobExpectationsExpired(name), self.with_slot(world, state, w, exp._replace(add=0, delete=0))
        view = cached_state(world, state, self.actor)
        decided = decide(world, view, w, manage=satisfied, skip=exp.finalizers if exp is not None else ())
        for plan in decided.choices():
            nxt, created = self._apply(world, state, w, plan, exp or JobExpectations())
            if nxt != state:
                yield JobSync(name, created, plan.delete, plan.counted, plan.condition), nxt

    def _apply(self, world: World, state: State, w: int, plan: JobPlan, exp: JobExpectations):
        """``plan``'s writes sent to the API server: deletions of pods still
        there (``ExpectDeletions``; a pod already gone answers NotFound and is
        not expected), finalizer removals of pods that still have one
        (expected by name), the status, then the first creation batch
        (``ExpectCreations``; the rest pending)."""
        nxt = state
        deleted = 0
        for pod_name in plan.delete:
            if nxt.pod(pod_name) is not None:
                deleted += 1
                nxt = delete_pod(nxt, nxt.index_of(pod_name))
        nxt = _release(world, nxt, [n for n in plan.counted
                                    if nxt.pod(n) is not None and world.groups[nxt.pod(n).group].finalizer])
        if plan.delete:
            exp = exp._replace(add=0, delete=deleted)
        # every counted pod, found or not: until the cache sees its finalizer go, it is not counted again
        exp = exp._replace(finalizers=tuple(sorted(set(exp.finalizers) | set(plan.counted))))
        if plan.record is not None:
            nxt = with_status(world, nxt, world.workloads[w].ref, plan.record)
        if plan.create:
            exp = exp._replace(add=len(plan.create), delete=0, pending=plan.create, batch=1)
            batch, nxt = self._next_batch(world, nxt, w, exp)
            return nxt, batch.create
        if state.replicas[w] is None or plan.condition is not None:
            exp = None  # gone: syncJob deletes its expectations; finished: no sync reads them again
        return self.with_slot(world, nxt, w, exp), ()

    def _next_batch(self, world: World, state: State, w: int, exp: JobExpectations):
        """``manageJob``'s next slow-start batch (without quorum every creation
        fails: the rest is skipped and no longer expected)."""
        name = world.workloads[w].name
        size = min(exp.batch, len(exp.pending))
        rest = exp._replace(pending=exp.pending[size:], batch=exp.batch * 2)
        if not has_quorum(world, state):
            return JobBatch(name, failed=size), self.with_slot(world, state, w, rest._replace(
                add=exp.add - len(exp.pending), pending=()))
        nxt, created = self.with_slot(world, state, w, rest), []
        for group in exp.pending[:size]:
            nxt, pod_name = create_pod(world, nxt, group, owner=w)
            created.append(pod_name)
        return JobBatch(name, tuple(created)), nxt


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
