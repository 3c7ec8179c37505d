"""The Job controller's counting, as pure functions over plain values.

Follows ``pkg/controller/job``: ``syncJob`` and ``manageJob``
(``job_controller.go``), the indexed-job helpers (``indexed_job_utils.go``:
``firstPendingIndexes``, ``appendDuplicatedIndexPodsForRemoval``, failed
indexes under ``backoffLimitPerIndex``), the pod failure policy
(``pod_failure_policy.go``: ``matchPodFailurePolicy``) and the pod failure
back-off (``backoff_utils.go``). One call of :func:`sync_job` is one
``syncJob`` whose expectations are satisfied and whose API calls all succeed.

A pod is a :class:`JobPod`; every pod given still carries the Job's tracking
finalizer (its end has not been counted in the status yet), and the counts
already in the status come in a :class:`JobStatus`. Time is an integer
number of seconds on the scenario's clock.

Feature gates are taken as in a current release: pod replacement policy and
terminating-pod tracking on, ``backoffLimitPerIndex`` on, success policy not
modelled. The order among active pods when some must go
(``controller.ActivePods``) is kept for what a pod records here (scheduled or
not, phase, readiness, restarts); the times it compares next are abstract,
and ties fall to the pod name.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "ContainerExit", "FAILED", "JobPod", "JobSpec", "JobStatus", "JobSync", "OnExitCodes", "PENDING",
    "PodFailurePolicyRule", "RUNNING", "SUCCEEDED", "active_pods_for_removal", "duplicated_index_pods_for_removal",
    "removal_alternatives",
    "failed_indexes", "first_pending_indexes", "index_failed", "is_active", "is_pod_failed", "is_terminating",
    "match_pod_failure_policy", "only_replace_failed_pods", "past_active_deadline", "past_backoff_limit_on_failure",
    "new_backoff_record", "pod_replacement_policy", "remaining_backoff", "succeeded_indexes", "sync_job", "want_active",
]

PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
DEFAULT_BACKOFF = 10
"""``DefaultJobPodFailureBackOff``: ten seconds after the first failure."""
MAX_BACKOFF = 600
"""``MaxJobPodFailureBackOff``: the back-off doubles up to ten minutes."""
MAX_POD_CREATE_DELETE_PER_SYNC = 500
"""``MaxPodCreateDeletePerSync``."""


@attrs.frozen
class OnExitCodes:
    """``PodFailurePolicyOnExitCodesRequirement``: a container (any when ``None``) terminated with a
    non-zero exit code ``In`` or ``NotIn`` the values."""

    operator: str
    values: tuple[int, ...]
    container: str | None = None


@attrs.frozen
class PodFailurePolicyRule:
    """``PodFailurePolicyRule``: an action (``FailJob``, ``FailIndex``, ``Ignore``, ``Count``) when the
    exit codes match or one of the (condition type, status) patterns does."""

    action: str
    on_exit_codes: OnExitCodes | None = None
    on_pod_conditions: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class ContainerExit:
    """A container's state as the policy reads it: its exit code once terminated (``None`` while
    not), and whether it is an init container."""

    name: str
    exit_code: int | None = None
    init: bool = False


@attrs.frozen
class JobPod:
    """A pod of the Job: phase, deletion, readiness, completion index (``None`` when missing or not
    a valid index), whether it is bound to a node, container restarts, terminated containers, pod
    conditions as (type, status), the ``batch.kubernetes.io/job-index-failure-count``
    annotation, and when it finished (``getFinishedTime``) once it has."""

    name: str
    phase: str = PENDING
    deleting: bool = False
    ready: bool = False
    index: int | None = None
    scheduled: bool = True
    restarts: int = 0
    containers: tuple[ContainerExit, ...] = ()
    conditions: tuple[tuple[str, str], ...] = ()
    failure_count: int = 0
    finished_at: int = 0


@attrs.frozen
class JobSpec:
    """The parts of a Job's spec the controller's counting reads (``completions=None`` for a work
    queue; ``pod_replacement_policy=None`` for the API default). ``backoff_limit`` is as the API
    server defaults it: 6, or the largest int32 when ``backoffLimitPerIndex`` is set."""

    parallelism: int = 1
    completions: int | None = 1
    indexed: bool = False
    backoff_limit: int = 6
    backoff_limit_per_index: int | None = None
    max_failed_indexes: int | None = None
    pod_failure_policy: tuple[PodFailurePolicyRule, ...] | None = None
    pod_replacement_policy: str | None = None
    suspend: bool = False
    restart_policy: str = "Never"
    active_deadline_seconds: int | None = None
    deleting: bool = False


@attrs.frozen
class JobStatus:
    """What the Job's status already counts (pods whose finalizer is gone), when it started, and
    the pod failure back-off record (failures since the last success, and the time of the last)."""

    succeeded: int = 0
    failed: int = 0
    completed_indexes: frozenset[int] = frozenset()
    start_time: int | None = None
    failures_after_last_success: int = 0
    last_failure_time: int | None = None


@attrs.frozen
class JobSync:
    """The outcome of one ``syncJob``: pods to create (with their indexes for an Indexed Job), pods
    to delete, the status counts it writes, and the finishing condition it reached: ``Complete``,
    or the ``Failed`` reason (``BackoffLimitExceeded``, ``DeadlineExceeded``, ``PodFailurePolicy``,
    ``MaxFailedIndexesExceeded``, ``FailedIndexes``), ``None`` while the Job runs. ``backoff`` is the
    seconds left before pods may be created again (0 when none is pending); the back-off record
    after this sync's finished pods is ``failures_after_last_success`` and ``last_failure_time``."""

    create: int = 0
    indexes: tuple[int, ...] = ()
    delete: tuple[str, ...] = ()
    active: int = 0
    ready: int = 0
    terminating: int = 0
    succeeded: int = 0
    failed: int = 0
    completed_indexes: frozenset[int] = frozenset()
    failed_indexes: frozenset[int] | None = None
    finished: str | None = None
    backoff: int = 0
    failures_after_last_success: int = 0
    last_failure_time: int | None = None


# --------------------------------------------------------------------------- pods


def is_active(pod: JobPod) -> bool:
    """``controller.IsPodActive``: not Succeeded, not Failed, not being deleted."""
    return pod.phase not in (SUCCEEDED, FAILED) and not pod.deleting


def is_terminating(pod: JobPod) -> bool:
    """``controller.IsPodTerminating``: being deleted and not yet terminal."""
    return pod.phase not in (SUCCEEDED, FAILED) and pod.deleting


def pod_replacement_policy(spec: JobSpec) -> str:
    """The API default of ``podReplacementPolicy``: ``Failed`` with a pod failure policy,
    ``TerminatingOrFailed`` otherwise."""
    if spec.pod_replacement_policy is not None:
        return spec.pod_replacement_policy
    return "Failed" if spec.pod_failure_policy is not None else "TerminatingOrFailed"


def only_replace_failed_pods(spec: JobSpec) -> bool:
    """``onlyReplaceFailedPods``: a replacement waits until the old pod is Failed, not merely
    terminating (``podReplacementPolicy: Failed``, always so with a pod failure policy)."""
    return pod_replacement_policy(spec) == "Failed" or spec.pod_failure_policy is not None


def is_pod_failed(pod: JobPod, spec: JobSpec) -> bool:
    """``isPodFailed``: Failed, or (unless only Failed pods are replaced) being deleted before it
    succeeded, so an orphan that never reaches Failed is still counted."""
    if pod.phase == FAILED:
        return True
    if only_replace_failed_pods(spec):
        return False
    return pod.deleting and pod.phase != SUCCEEDED


def _exit_code_matches(code: int, rule: OnExitCodes) -> bool:
    if rule.operator == "In":
        return code in rule.values
    if rule.operator == "NotIn":
        return code not in rule.values
    return False


def _matching_container(pod: JobPod, rule: OnExitCodes) -> ContainerExit | None:
    """``matchOnExitCodes``: regular containers first, then init containers; a container still
    running or exited 0 never matches."""
    for group in ([c for c in pod.containers if not c.init], [c for c in pod.containers if c.init]):
        for container in group:
            if container.exit_code is None or container.exit_code == 0:
                continue
            if rule.container in (None, container.name) and _exit_code_matches(container.exit_code, rule):
                return container
    return None


_ACTIONS = ("Ignore", "Count", "FailJob", "FailIndex")


def match_pod_failure_policy(rules: Sequence[PodFailurePolicyRule] | None, pod: JobPod
                             ) -> tuple[str | None, bool, str | None]:
    """``matchPodFailurePolicy``: (job failure message, count the failure, matched action). Rules are
    tried in order; the first whose exit codes or pod conditions match decides (a rule with an
    unknown action is skipped): ``Ignore`` does not count the failure, ``FailJob`` fails the Job with
    the message upstream writes; no match counts the failure."""
    if rules is None:
        return None, True, None
    for position, rule in enumerate(rules):
        if rule.action not in _ACTIONS:
            continue
        if rule.on_exit_codes is not None:
            container = _matching_container(pod, rule.on_exit_codes)
            if container is None:
                continue
            message = (f"Container {container.name} for pod default/{pod.name} failed with exit code "
                       f"{container.exit_code} matching FailJob rule at index {position}")
        else:
            matched = next((c for c in pod.conditions if c in rule.on_pod_conditions), None)
            if matched is None:
                continue
            message = f"Pod default/{pod.name} has condition {matched[0]} matching FailJob rule at index {position}"
        if rule.action == "Ignore":
            return None, False, "Ignore"
        return (message if rule.action == "FailJob" else None), True, rule.action
    return None, True, None


def past_backoff_limit_on_failure(spec: JobSpec, pods: Iterable[JobPod]) -> bool:
    """``pastBackoffLimitOnFailure``: with ``restartPolicy: OnFailure`` the container restarts of
    Running and Pending pods count against ``backoffLimit`` (any restart when it is 0)."""
    if spec.restart_policy != "OnFailure":
        return False
    restarts = sum(p.restarts for p in pods if p.phase in (RUNNING, PENDING))
    if spec.backoff_limit == 0:
        return restarts > 0
    return restarts >= spec.backoff_limit


def past_active_deadline(spec: JobSpec, start_time: int | None, now: int) -> bool:
    """``pastActiveDeadline``: running for ``activeDeadlineSeconds`` or longer."""
    if spec.active_deadline_seconds is None or start_time is None:
        return False
    return now - start_time >= spec.active_deadline_seconds


def remaining_backoff(failures: int, last_failure: int | None, now: int,
                      default: int = DEFAULT_BACKOFF, maximum: int = MAX_BACKOFF) -> int:
    """``getRemainingTimeForFailuresCount``: ``default * 2^(failures-1)``, capped at ``maximum``, less
    the time since the last failure (never negative)."""
    if failures == 0 or last_failure is None:
        return 0
    delay = default
    for _ in range(1, failures):
        delay *= 2
        if delay >= maximum:
            delay = maximum
            break
    elapsed = now - last_failure
    return 0 if delay < elapsed else delay - elapsed


# --------------------------------------------------------------------------- indexes


def _valid_index(pod: JobPod, completions: int) -> int | None:
    return pod.index if pod.index is not None and 0 <= pod.index < completions else None


def succeeded_indexes(spec: JobSpec, status: JobStatus, pods: Iterable[JobPod]) -> frozenset[int]:
    """``calculateSucceededIndexes``: the indexes recorded in the status plus those of Succeeded pods
    with a valid index."""
    new = {p.index for p in pods if p.phase == SUCCEEDED and _valid_index(p, spec.completions) is not None}
    return frozenset(i for i in status.completed_indexes if i < spec.completions) | new


def index_failed(spec: JobSpec, pod: JobPod) -> bool:
    """``isIndexFailed``: a failed pod whose policy action is ``FailIndex``, or whose counted failure
    brings its index's failures (the annotation) to ``backoffLimitPerIndex``."""
    if not is_pod_failed(pod, spec):
        return False
    counted = True
    if spec.pod_failure_policy is not None:
        _, counted, action = match_pod_failure_policy(spec.pod_failure_policy, pod)
        if action == "FailIndex":
            return True
    return counted and pod.failure_count >= spec.backoff_limit_per_index


def failed_indexes(spec: JobSpec, pods: Iterable[JobPod]) -> frozenset[int]:
    """``calculateFailedIndexes``: the valid indexes with a pod for which :func:`index_failed` holds."""
    return frozenset(p.index for p in pods
                     if _valid_index(p, spec.completions) is not None and index_failed(spec, p))


def first_pending_indexes(active: Iterable[int | None], succeeded: Iterable[int], count: int, completions: int,
                          terminating: Iterable[int | None] = (), failed: Iterable[int] = ()) -> list[int]:
    """``firstPendingIndexes``: the ``count`` lowest indexes below ``completions`` that no active pod
    holds and that have not succeeded or failed (nor, when only Failed pods are replaced, a
    terminating pod holds)."""
    taken = {i for i in (*active, *terminating) if i is not None} | set(succeeded) | set(failed)
    return [i for i in range(completions) if i not in taken][:count]


def _removal_order(pod: JobPod):
    """``controller.ActivePods``: unscheduled before scheduled, Pending before Running, not Ready
    before Ready, more restarts first; then by name (see :func:`removal_alternatives`)."""
    return _removal_rank(pod) + (pod.name,)


def _removal_rank(pod: JobPod) -> tuple:
    """What ``controller.ActivePods`` compares here: upstream's last criteria (how long Ready,
    creation time, UID) are not in the model, so pods equal in this are tied."""
    phase_rank = {PENDING: 0, "Unknown": 1, RUNNING: 2}.get(pod.phase, 2)
    return pod.scheduled, phase_rank, pod.ready, -pod.restarts


def removal_alternatives(spec: JobSpec, active: Sequence[JobPod], chosen: Sequence[str]) -> list[tuple[str, ...]]:
    """Every set of pods ``manageJob`` may delete where :func:`active_pods_for_removal` chose
    ``chosen`` (names, sorted): the chosen pods of each tie (equal rank, and for an Indexed Job
    equal index) may be any as many of that tie's pods, since upstream breaks such ties by
    creation time and UID, which the model does not keep. The first is ``chosen`` itself."""
    by_name = {p.name: p for p in active}
    tie = (lambda p: _removal_rank(p) + (p.index,)) if spec.indexed else _removal_rank
    ties: dict[tuple, list[str]] = {}
    for pod in active:
        ties.setdefault(tie(pod), []).append(pod.name)
    wanted: dict[tuple, int] = {}
    for name in chosen:
        key = tie(by_name[name])
        wanted[key] = wanted.get(key, 0) + 1
    per_tie = [list(itertools.combinations(sorted(ties[key]), count)) for key, count in sorted(wanted.items())]
    out = [tuple(sorted(chosen))]
    for combo in itertools.product(*per_tie):
        names = tuple(sorted(name for part in combo for name in part))
        if names != out[0]:
            out.append(names)
    return out


def duplicated_index_pods_for_removal(pods: Sequence[JobPod], completions: int) -> tuple[list[JobPod], list[JobPod]]:
    """``appendDuplicatedIndexPodsForRemoval``: (to remove, to keep). Pods without a valid index or
    with an index at or past ``completions`` go; of several pods with one index all but the last in
    :func:`_removal_order` go."""
    remove: list[JobPod] = []
    keep: list[JobPod] = []
    by_index: dict[int, list[JobPod]] = {}
    for pod in pods:
        if pod.index is None or pod.index < 0 or pod.index >= completions:
            remove.append(pod)
        else:
            by_index.setdefault(pod.index, []).append(pod)
    for index in sorted(by_index):
        group = sorted(by_index[index], key=_removal_order)
        remove.extend(group[:-1])
        keep.append(group[-1])
    return remove, keep


def active_pods_for_removal(spec: JobSpec, active: Sequence[JobPod], at_least: int) -> list[JobPod]:
    """``activePodsForRemoval``: for an Indexed Job the duplicated and invalid-index pods first, then,
    if more must go, the earliest of the rest in :func:`_removal_order`."""
    if spec.indexed:
        remove, left = duplicated_index_pods_for_removal(active, spec.completions)
    else:
        remove, left = [], list(active)
    if len(remove) < at_least:
        remove.extend(sorted(left, key=_removal_order)[:at_least - len(remove)])
    return remove


def want_active(spec: JobSpec, active: int, succeeded: int) -> int:
    """``manageJob``'s target: a work queue (no completions) runs ``parallelism`` pods until one
    succeeds, then lets the running ones finish; otherwise ``min(completions - succeeded,
    parallelism)``, never below 0."""
    if spec.completions is None:
        return active if succeeded > 0 else spec.parallelism
    return max(0, min(spec.completions - succeeded, spec.parallelism))


# --------------------------------------------------------------------------- one sync


def _counted_pods(spec: JobSpec, pods: Sequence[JobPod]) -> list[JobPod]:
    """``getValidPodsWithFilter``: for an Indexed Job only pods with a valid index are counted."""
    if not spec.indexed:
        return list(pods)
    return [p for p in pods if _valid_index(p, spec.completions) is not None]


def _failures(spec: JobSpec, failed_pods: Sequence[JobPod]) -> int:
    """``nonIgnoredFailedPodsCount``: failed pods less those an ``Ignore`` rule matches."""
    return sum(1 for p in failed_pods if match_pod_failure_policy(spec.pod_failure_policy, p)[1])


def _finished_by_failure(spec, status, pods, failed, now):
    """The failure conditions ``syncJob`` evaluates, in its order."""
    if spec.pod_failure_policy is not None:
        for pod in pods:
            if is_pod_failed(pod, spec) and match_pod_failure_policy(spec.pod_failure_policy, pod)[0] is not None:
                return "PodFailurePolicy"
    if failed > spec.backoff_limit or past_backoff_limit_on_failure(spec, pods):
        return "BackoffLimitExceeded"
    if past_active_deadline(spec, status.start_time, now):
        return "DeadlineExceeded"
    return None


def new_backoff_record(status: JobStatus, succeeded: Sequence[JobPod], failed: Sequence[JobPod]
                       ) -> tuple[int, int | None]:
    """``newBackoffRecord``: (failures since the last success, time of the last failure) after the
    pods that finished in this sync. A success resets the count to the failures that finished after
    it."""
    if not succeeded:
        if not failed:
            return status.failures_after_last_success, status.last_failure_time
        return status.failures_after_last_success + len(failed), max(p.finished_at for p in failed)
    last_success = max(p.finished_at for p in succeeded)
    after = [p.finished_at for p in failed if p.finished_at > last_success]
    return len(after), (max(after) if after else None)


def _manage(spec: JobSpec, pods: Sequence[JobPod], active: list[JobPod], succeeded: int,
            succeeded_idx: frozenset[int], failed_idx: frozenset[int] | None, terminating: int,
            backoff: tuple[int, int | None], now: int) -> JobSync:
    """``manageJob``: deletions take precedence over creations within one sync."""
    if spec.suspend:
        return JobSync(delete=tuple(p.name for p in active_pods_for_removal(spec, active, len(active))))
    wanted = want_active(spec, len(active), succeeded)
    remove = active_pods_for_removal(spec, active, max(0, len(active) - wanted))[:MAX_POD_CREATE_DELETE_PER_SYNC]
    if remove:
        return JobSync(delete=tuple(p.name for p in remove))
    replacing_terminating = terminating if only_replace_failed_pods(spec) else 0
    diff = wanted - replacing_terminating - len(active)
    if diff <= 0:
        return JobSync()
    if spec.backoff_limit_per_index is None:
        left = remaining_backoff(*backoff, now)
        if left > 0:
            return JobSync(backoff=left)
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
    if not spec.indexed:
        return JobSync(create=diff)
    terminating_idx = [p.index for p in pods if is_terminating(p)] if only_replace_failed_pods(spec) else []
    indexes = first_pending_indexes([p.index for p in active], succeeded_idx, diff, spec.completions,
                                    terminating_idx, failed_idx or ())
    return JobSync(create=len(indexes), indexes=tuple(indexes))


def sync_job(spec: JobSpec, status: JobStatus, pods: Sequence[JobPod], now: int = 0) -> JobSync:
    """One ``syncJob``: count the pods (active, ready, terminating, newly succeeded and failed, the
    latter less those a pod failure policy ignores), decide whether the Job has failed (pod failure
    policy ``FailJob``, ``backoffLimit``, ``activeDeadlineSeconds``, then for ``backoffLimitPerIndex``
    ``maxFailedIndexes`` and failed indexes); a failed Job deletes its active pods, a running one
    creates or deletes pods (``manageJob``) and completes once enough pods succeeded and none is
    active. Pods of an Indexed Job count only with a valid index.

    The counts returned are those ``syncJob`` writes to the status at the end of the sync."""
    counted = _counted_pods(spec, pods)
    active = [p for p in pods if is_active(p)]
    terminating = sum(1 for p in pods if is_terminating(p))
    new_succeeded = [p for p in counted if p.phase == SUCCEEDED]
    new_failed = [p for p in counted if is_pod_failed(p, spec)]
    succeeded = status.succeeded + len(new_succeeded)
    failed = status.failed + _failures(spec, new_failed)
    backoff = new_backoff_record(status, new_succeeded, new_failed)
    finished = _finished_by_failure(spec, status, pods, failed, now)
    completed: frozenset[int] = frozenset()
    failed_idx = None
    if spec.indexed:
        completed = succeeded_indexes(spec, status, pods)
        succeeded = len(completed)
        if spec.backoff_limit_per_index is not None:
            failed_idx = failed_indexes(spec, pods)
            if finished is None and spec.max_failed_indexes is not None and len(failed_idx) > spec.max_failed_indexes:
                finished = "MaxFailedIndexesExceeded"
            elif finished is None and failed_idx and len(failed_idx) + len(completed) >= spec.completions:
                finished = "FailedIndexes"
    ready = sum(1 for p in active if p.ready)
    common = dict(succeeded=succeeded, failed=failed, completed_indexes=completed, failed_indexes=failed_idx,
                  failures_after_last_success=backoff[0], last_failure_time=backoff[1])
    if finished is not None:
        # a failed Job's unfinished pods are counted as failed as their finalizers are removed
        common["failed"] = status.failed + _failures(spec, [p for p in counted if p.phase != SUCCEEDED])
        return JobSync(delete=tuple(p.name for p in active), ready=0, terminating=terminating + len(active),
                       finished=finished, **common)
    if spec.deleting:
        return JobSync(active=len(active), ready=ready, terminating=terminating, **common)
    plan = _manage(spec, pods, active, succeeded, completed, failed_idx, terminating, backoff, now)
    removed = {p.name for p in active if p.name in plan.delete}
    remaining = len(active) - len(removed) + plan.create
    if spec.completions is None:
        complete = succeeded > 0 and remaining == 0
    else:
        complete = succeeded >= spec.completions and remaining == 0
    return attrs.evolve(plan, active=remaining, ready=ready - sum(1 for p in active if p.name in removed and p.ready),
                        terminating=terminating + len(removed), finished="Complete" if complete else None, **common)
