"""CronJob schedules on the scenario's clock, as pure functions.

The schedule language is the one the CronJob controller parses with
``cron.ParseStandard`` of ``github.com/robfig/cron/v3``: five fields
(minute, hour, day of month, month, day of week) of comma-separated
ranges ``a``, ``a-b``, ``*`` or ``?``, each with an optional ``/step``
(``a/step`` runs to the field's maximum), month and weekday names
(``jan``, ``sun``, case-insensitive); day of week is 0-6 from Sunday; the
descriptors ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``,
``@daily`` (``@midnight``), ``@hourly`` and ``@every <duration>``. As in
robfig/cron, when the day-of-month or the day-of-week field starts with
``*`` or ``?`` and has no step above 1, a day must match both fields,
otherwise either. ``next`` finds the first activation strictly after a time
and gives up after five years (an impossible date such as ``31 2``).

This follows that library itself rather than depending on a Python cron
package: ``croniter`` and its kin accept syntax the CronJob controller
rejects (seconds, ``L``, ``W``, ``#``, seven fields), differ on the
day-of-month/day-of-week rule above, and have no ``@every``.

The controller's arithmetic over a schedule follows
``pkg/controller/cronjob/utils.go`` (``mostRecentScheduleTime``,
``nextScheduleTime``, ``nextScheduleTimeDuration``) and the decisions of
``syncCronJob`` (``cronjob_controllerv2.go``): a start too late for
``startingDeadlineSeconds``, a time already scheduled, ``concurrencyPolicy``.

Times are integer seconds since the Unix epoch, in UTC (``spec.timeZone``
is not modelled).
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from kspec.errors import KspecError

__all__ = [
    "CronDecision", "CronSchedule", "CronScheduleError", "EverySchedule", "cronjob_decision",
    "most_recent_schedule_time", "next_schedule_time", "next_schedule_time_duration", "parse_schedule",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MONTHS = {name: i + 1 for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS = {  # field: (min, max, names)
    "minute": (0, 59, {}), "hour": (0, 23, {}), "dom": (1, 31, {}), "month": (1, 12, _MONTHS), "dow": (0, 6, _DAYS),
}
MANY_MISSED = 100
"""More missed start times than this and the controller warns ``TooManyMissedTimes``."""


class CronScheduleError(KspecError, ValueError):
    """A schedule robfig/cron rejects, or one with no sensible next time (upstream's error text)."""


@attrs.frozen
class CronSchedule:
    """A parsed five-field schedule: the allowed values of each field, and whether the day fields
    are "star" fields for the day-matching rule."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool = False
    weekdays_star: bool = False

    def _day_matches(self, t: dt.datetime) -> bool:
        dom = t.day in self.days
        dow = (t.weekday() + 1) % 7 in self.weekdays
        if self.days_star or self.weekdays_star:
            return dom and dow
        return dom or dow

    def next(self, t: int) -> int | None:
        """``SpecSchedule.Next``: the first activation strictly after ``t``; ``None`` if there is none
        within five years."""
        now = _EPOCH + dt.timedelta(seconds=t + 1)
        limit = now.year + 5
        added = False
        while now.year <= limit:
            if now.month not in self.months:
                if not added:
                    added, now = True, now.replace(day=1, hour=0, minute=0, second=0)
                now = now.replace(year=now.year + now.month // 12, month=now.month % 12 + 1, day=1)
                continue
            if not self._day_matches(now):
                if not added:
                    added, now = True, now.replace(hour=0, minute=0, second=0)
                now += dt.timedelta(days=1)
                continue
            if now.hour not in self.hours:
                if not added:
                    added, now = True, now.replace(minute=0, second=0)
                now += dt.timedelta(hours=1)
                continue
            if now.minute not in self.minutes:
                if not added:
                    added, now = True, now.replace(second=0)
                now += dt.timedelta(minutes=1)
                continue
            if now.second != 0:
                added = True
                now = now.replace(second=0) + dt.timedelta(minutes=1)
                continue
            return int((now - _EPOCH).total_seconds())
        return None


@attrs.frozen
class EverySchedule:
    """``@every <duration>`` (``ConstantDelaySchedule``): every ``seconds`` after the time given."""

    seconds: int

    def next(self, t: int) -> int | None:
        return t + self.seconds


def _number(text: str, names: dict[str, int], expr: str) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"[+-]?\d+", text):
        raise CronScheduleError(f"failed to parse int from {text}")
    value = int(text)
    if value < 0:
        raise CronScheduleError(f"negative number ({value}) not allowed: {expr}")
    return value


def _range(expr: str, field: str) -> tuple[set[int], bool]:
    """``getRange``: the values of one range, and whether it is a star range."""
    low, high, names = _BOUNDS[field]
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _number(low_and_high[0], names, expr)
        if len(low_and_high) > 2:
            raise CronScheduleError(f"too many hyphens: {expr}")
        end = _number(low_and_high[1], names, expr) if len(low_and_high) == 2 else start
    step = 1
    if len(range_and_step) > 2:
        raise CronScheduleError(f"too many slashes: {expr}")
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {}, expr)
        if len(low_and_high) == 1:
            end = high
        if step > 1:
            star = False
    if start < low:
        raise CronScheduleError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise CronScheduleError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise CronScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronScheduleError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _field(text: str, field: str) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in (part for part in text.split(",") if part):
        more, is_star = _range(expr, field)
        values |= more
        star = star or is_star
    return frozenset(values), star


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|m|s|ms|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def _every(text: str) -> EverySchedule:
    """``time.ParseDuration`` (numbers with units, or a bare ``0``), then ``Every``: whole seconds, at
    least one."""
    if text != "0" and (not _DURATION.match(text) or _DURATION.sub("", text)):
        raise CronScheduleError(f"failed to parse duration @every {text}: time: invalid duration {text!r}")
    total = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(text))
    return EverySchedule(max(1, int(total)))


_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}


def parse_schedule(spec: str) -> CronSchedule | EverySchedule:
    """``cron.ParseStandard``: a five-field schedule or a descriptor (raises :class:`CronScheduleError`)."""
    if not spec.strip():
        raise CronScheduleError("empty spec string")
    if spec.startswith("@every "):
        return _every(spec[len("@every "):])
    if spec.startswith("@"):
        if spec not in _DESCRIPTORS:
            raise CronScheduleError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise CronScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{spec}]")
    minutes, _ = _field(fields[0], "minute")
    hours, _ = _field(fields[1], "hour")
    days, days_star = _field(fields[2], "dom")
    months, _ = _field(fields[3], "month")
    weekdays, weekdays_star = _field(fields[4], "dow")
    return CronSchedule(minutes, hours, days, months, weekdays, days_star, weekdays_star)


# --------------------------------------------------------------------------- the CronJob controller's clock


def most_recent_schedule_time(schedule: CronSchedule | EverySchedule, created: int, last_scheduled: int | None,
                              now: int, starting_deadline: int | None = None
                              ) -> tuple[int, int | None, str]:
    """``mostRecentScheduleTime``: (earliest time considered, most recent activation at or before
    ``now`` or ``None``, missed schedules ``none``/``few``/``many``).

    The earliest time is the last schedule time (or the creation time), moved up to
    ``now - startingDeadlineSeconds`` when given. The count of missed activations is upstream's
    estimate: the time since the first one over the interval between the first two, plus one.
    Raises :class:`CronScheduleError` when two activations are less than a second apart (an
    impossible schedule)."""
    earliest = created if last_scheduled is None else last_scheduled
    if starting_deadline is not None:
        earliest = max(earliest, now - starting_deadline)
    first = schedule.next(earliest)
    second = schedule.next(first) if first is not None else None
    if first is not None and now < first:
        return earliest, None, "none"
    if first is not None and second is not None and now < second:
        return earliest, first, "none"
    if first is None or second is None or second - first < 1:
        raise CronScheduleError("time difference between two schedules is less than 1 second")
    between = second - first
    missed = (now - first) // between + 1
    recent = None
    t = schedule.next(first + (missed - 2) * between)
    while t is not None and t <= now:
        recent = t
        t = schedule.next(t)
    return earliest, recent, "many" if missed > MANY_MISSED else "few"


def next_schedule_time(schedule: CronSchedule | EverySchedule, created: int, last_scheduled: int | None, now: int,
                       starting_deadline: int | None = None) -> tuple[int | None, str]:
    """``nextScheduleTime``: the activation to start now (the most recent unmet one, within the
    starting deadline) or ``None``, and the missed-schedule verdict (``many`` is when upstream
    records ``TooManyMissedTimes``)."""
    _, recent, missed = most_recent_schedule_time(schedule, created, last_scheduled, now, starting_deadline)
    return recent, missed


def next_schedule_time_duration(schedule: CronSchedule | EverySchedule, created: int, last_scheduled: int | None,
                                now: int) -> int:
    """``nextScheduleTimeDuration``: seconds until the controller looks again (upstream adds 100 ms of
    slack, ``nextScheduleDelta``). The starting deadline is not applied; a schedule with no sensible
    next time, or missed activations none of which is recent, counts from ``now``."""
    try:
        earliest, recent, missed = most_recent_schedule_time(schedule, created, last_scheduled, now)
    except CronScheduleError:
        earliest, recent, missed = now, now, "none"
    if recent is None:
        recent = earliest if missed == "none" else now
    following = schedule.next(recent)
    return (following if following is not None else now) - now


@attrs.frozen
class CronDecision:
    """What one ``syncCronJob`` does about the schedule: ``wait`` (no unmet time), ``missed`` (too late
    for ``startingDeadlineSeconds``), ``done`` (that time already has its Job), ``forbid`` (a Job is
    still active under ``Forbid``), ``create`` or ``replace`` (delete the active Jobs, then create);
    the scheduled time it is about."""

    action: str
    scheduled: int | None = None


def cronjob_decision(schedule: CronSchedule | EverySchedule, created: int, last_scheduled: int | None, now: int,
                     active_jobs: int, concurrency_policy: str = "Allow", starting_deadline: int | None = None,
                     suspend: bool = False) -> CronDecision:
    """``syncCronJob``'s choice for one sync, after the finished Jobs have left the active list."""
    if suspend:
        return CronDecision("wait")
    scheduled, _ = next_schedule_time(schedule, created, last_scheduled, now, starting_deadline)
    if scheduled is None:
        return CronDecision("wait")
    if starting_deadline is not None and scheduled + starting_deadline < now:
        return CronDecision("missed", scheduled)
    if last_scheduled == scheduled:
        return CronDecision("done", scheduled)
    if concurrency_policy == "Forbid" and active_jobs > 0:
        return CronDecision("forbid", scheduled)
    if concurrency_policy == "Replace" and active_jobs > 0:
        return CronDecision("replace", scheduled)
    return CronDecision("create", scheduled)
