"""The CronJob controller in scenarios, on the scenario's clock.

Follows ``pkg/controller/cronjob/cronjob_controllerv2.go`` (``syncCronJob``,
``cleanupFinishedJobs``); the schedule arithmetic and the decision are
:func:`kspec.simulation.controllers.cronschedule.cronjob_decision`, tested on
upstream's tables.

Time: a CronJob is created at time 0 and the clock visits the first
:data:`~kspec.simulation.state.CRON_HORIZON` activations of its schedule
(:class:`CronClockTick`, weakly fair: time does not stop), then stops; a sync
happens at the current time, so one that comes after a later activation
starts only the most recent unmet one, as upstream does. Each activation has
its Job prepared in the world (``World._build_cronjob``); creating it gives it
``spec.replicas`` in the state, deleting it takes them away and the garbage
collector removes its pods.

One sync (:class:`CronJobSync`):

1. the active list loses the Jobs that finished or are gone;
2. :func:`cronjob_decision` at the current time, with ``concurrencyPolicy``,
   ``startingDeadlineSeconds`` and ``suspend``: ``create``, or ``replace``
   (delete the active Jobs first), records the scheduled time as
   ``lastScheduleTime``; ``forbid``, ``missed``, ``done`` and ``wait`` create nothing;
3. finished Jobs beyond ``successfulJobsHistoryLimit`` and
   ``failedJobsHistoryLimit`` are deleted, oldest first.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.cronschedule import cronjob_decision
from kspec.simulation.controllers.job import record_of as job_record
from kspec.simulation.controllers.protocol import describe_sync
from kspec.simulation.state import State, World, status_of, with_status

__all__ = ["CronRecord", "CronJobSync", "CronClockTick", "CronJobController", "cron_record", "now_of", "sync"]


@attrs.frozen
class CronRecord:
    """A CronJob's stored status and its clock: how many activations have come
    (``clock``), ``lastScheduleTime`` (seconds, ``None`` before the first run) and
    ``status.active`` as positions in ``CronJobInfo.jobs`` (no pod names)."""

    clock: int = 0
    last: int | None = None
    active: tuple[int, ...] = ()


@attrs.frozen
class CronJobSync(Action):
    """One sync of a CronJob: the Jobs it created and deleted, and its decision."""

    actor: ClassVar[str] = "cronjob"
    cronjob: str
    decision: str
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = describe_sync("CronJobSync", self.cronjob, create=self.create, delete=self.delete)
        if self.create and self.decision == "create":
            return text
        return text[:-1] + ("; " if self.create or self.delete else ": ") + self.decision + ")"


@attrs.frozen
class CronClockTick(Action):
    """The scenario's clock reaches a CronJob's next activation."""

    actor: ClassVar[str] = "cronjob"
    cronjob: str
    seconds: int


def cron_record(world: World, state: State, c: int) -> CronRecord:
    record = status_of(world, state, f"CronJob/{world.cronjobs[c].name}")
    return CronRecord() if record is None else record


def now_of(world: World, record: CronRecord, c: int) -> int:
    """The clock's time: the latest activation that has come, or the creation (0)."""
    return world.cronjobs[c].times[record.clock - 1] if record.clock else 0


def _exists(state: State, w: int) -> bool:
    return state.replicas[w] is not None


def _set_replicas(state: State, w: int, value: int | None) -> State:
    return attrs.evolve(state, replicas=state.replicas[:w] + (value,) + state.replicas[w + 1:], rv=state.rv + 1)


def _history_to_delete(world: World, state: State, c: int, active: tuple[int, ...]) -> list[int]:
    """``cleanupFinishedJobs``: finished Jobs beyond the history limits, oldest first."""
    info = world.cronjobs[c]
    done = {"Complete": [], "Failed": []}
    for k, w in enumerate(info.jobs):
        if k in active or not _exists(state, w):
            continue
        condition = job_record(world, state, w).condition
        if condition is not None:
            done["Complete" if condition == "Complete" else "Failed"].append(k)
    out = []
    for kind, limit in (("Complete", info.successful_history), ("Failed", info.failed_history)):
        if limit is not None and len(done[kind]) > limit:
            out.extend(done[kind][:len(done[kind]) - limit])
    return sorted(out)


def sync(world: World, state: State, c: int) -> tuple[State, CronJobSync | None]:
    """One ``syncCronJob`` of CronJob ``c`` (None: nothing changes)."""
    info = world.cronjobs[c]
    record = cron_record(world, state, c)
    active = tuple(k for k in record.active
                   if _exists(state, info.jobs[k]) and not job_record(world, state, info.jobs[k]).finished)
    decision = cronjob_decision(info.schedule, 0, record.last, now_of(world, record, c), len(active),
                                info.concurrency_policy, info.starting_deadline, info.suspend)
    nxt, created, deleted, last = state, [], [], record.last
    if decision.action == "replace":
        for k in active:
            nxt = _set_replicas(nxt, info.jobs[k], None)
            deleted.append(world.workloads[info.jobs[k]].name)
        active = ()
    if decision.action in ("create", "replace"):
        k = info.times.index(decision.scheduled)
        w = info.jobs[k]
        nxt = _set_replicas(nxt, w, world.workloads[w].replicas)
        created.append(world.workloads[w].name)
        active += (k,)
        last = decision.scheduled
    for k in _history_to_delete(world, nxt, c, active):
        nxt = _set_replicas(nxt, info.jobs[k], None)
        deleted.append(world.workloads[info.jobs[k]].name)
    new = CronRecord(record.clock, last, active)
    if new != record:
        nxt = with_status(world, nxt, f"CronJob/{info.name}", new)
    if nxt == state:
        return state, None
    return nxt, CronJobSync(info.name, decision.action, tuple(created), tuple(deleted))


class CronJobController:
    """The CronJob controller: a :class:`CronJobSync` per CronJob with work,
    and each CronJob's clock up to its last explored activation."""

    actor = "cronjob"
    fair = True

    def steps(self, world: World, state: State):
        for c, info in enumerate(world.cronjobs):
            nxt, action = sync(world, state, c)
            if action is not None:
                yield action, nxt
            record = cron_record(world, state, c)
            if record.clock < len(info.times):
                yield (CronClockTick(info.name, info.times[record.clock]),
                       with_status(world, state, f"CronJob/{info.name}", attrs.evolve(record, clock=record.clock + 1)))
