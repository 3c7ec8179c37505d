"""One wall-time and memory budget for a whole run, every phase included.

A command makes one :class:`Budget` from its ``--time-limit`` / ``--max-memory``
(or ``--timeout``) options and hands it to every phase that can take long:
loading a model or scenario, settling its initial states, the search itself,
a greedy baseline. Each phase calls :meth:`Budget.check` in its inner loop;
the check reads the clock every time (tens of nanoseconds) and the resident
memory every 16 checks or ``memory_interval`` seconds, whichever is first, so
a limit overshoots by at most one step, or by what 16 steps allocate. When a bound is reached, :meth:`check`
raises :class:`BudgetExceeded` naming it (``time_limit`` or ``max_memory``);
the phase turns that into partial results and an inconclusive verdict.
``check(phase)`` names the phase in the message (``time limit reached while
settling the initial state``). Code that never calls back (a user's
controller stuck in a loop, a module's top level) runs inside
:meth:`Budget.watchdog`, which interrupts it with the same exception.

The budget also carries the two run settings a phase before the search needs
and that are no bound of time or memory: ``max_states`` (a search that stores
states, such as settling a scenario's initial state, stops with
``BudgetExceeded("max_states", phase)`` once it has stored that many and needs
another; the search itself takes its own ``max_states``) and ``progress`` (the
``--progress/--no-progress`` setting: None shows a progress line on a terminal
only). A phase that stops says what it had reached in ``BudgetExceeded.reached``
(``after 12,345 states, 0 of them settled``).

>>> b = Budget(time_limit=None, max_memory=None)
>>> b.check()            # no bounds: never raises
>>> b.exceeded() is None
True
>>> Budget(time_limit=0.0).exceeded()
'time_limit'
>>> str(BudgetExceeded("time_limit", "settling the initial state"))
'time limit reached while settling the initial state'
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import sys
import threading
import time

from kspec.errors import KspecError
from kspec.util import interrupt

__all__ = ["Budget", "BudgetExceeded", "peak_memory_bytes", "resident_memory_bytes"]


class BudgetExceeded(KspecError):
    """A run's time, memory or state bound was reached; ``bound`` names it, ``phase``
    (possibly empty) says what the run was doing and ``reached`` (possibly
    empty) how far it had got."""

    def __init__(self, bound: str, phase: str = "", reached: str = ""):
        super().__init__(f"{bound.replace('_', ' ')} reached" + (f" while {phase}" if phase else ""))
        self.bound = bound
        self.phase = phase
        self.reached = reached  # what the phase had done when it stopped (``after 1,234 states``), or ""


def peak_memory_bytes() -> int:
    """The process's peak resident size so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def resident_memory_bytes() -> int:
    """The process's resident size now (the peak where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return peak_memory_bytes()


# Resident memory is read (about 5 us) every this many checks, or every
# ``memory_interval`` seconds, whichever comes first: a search step that
# allocates a lot overshoots the cap by at most this many steps' growth.
MEMORY_CHECK_CALLS = 16


def _quiet_about_alarms(hook):
    """``sys.unraisablehook`` that drops a :class:`BudgetExceeded` raised
    where it could not propagate (the watchdog raises it again) and passes
    anything else to ``hook``."""

    def unraisable(info) -> None:
        if isinstance(info.exc_value, BudgetExceeded):
            return
        hook(info)

    return unraisable


class Budget:
    """Deadline and memory cap shared by every phase of one run, with the
    state bound and progress setting of the phases before the search."""

    def __init__(self, time_limit: float | None = None, max_memory: int | None = None,
                 memory_interval: float = 0.05, *, max_states: int | None = None, progress: bool | None = None):
        self.start = time.monotonic()
        self.max_states = max_states
        self.progress = progress
        self.time_limit = time_limit
        self.deadline = None if time_limit is None else self.start + time_limit
        self.max_memory = max_memory
        self.memory_interval = memory_interval
        self._next_memory_check = self.start
        self._calls_since_memory_check = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), None without one."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def exceeded(self) -> str | None:
        """The bound reached, or None."""
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            return "time_limit"
        if self.max_memory is not None:
            self._calls_since_memory_check += 1
            if now >= self._next_memory_check or self._calls_since_memory_check >= MEMORY_CHECK_CALLS:
                self._next_memory_check = now + self.memory_interval
                self._calls_since_memory_check = 0
                if resident_memory_bytes() > self.max_memory:
                    return "max_memory"
        return None

    def check(self, phase: str = "") -> None:
        """Raise :class:`BudgetExceeded` (naming ``phase``) when a bound is
        reached, and ``KeyboardInterrupt`` when a Ctrl-C was swallowed on the way."""
        interrupt.raise_if_pending()
        bound = self.exceeded()
        if bound is not None:
            raise BudgetExceeded(bound, phase)

    @contextlib.contextmanager
    def watchdog(self, phase: str):
        """Interrupt the body with :class:`BudgetExceeded` when a bound is reached,
        even inside code that never calls :meth:`check` (a user's controller).

        A ``SIGALRM`` timer fires at the deadline (and every ``memory_interval``
        with a memory cap); its handler raises between two Python bytecodes.
        Only the main thread of a POSIX process gets signals, so elsewhere the
        body runs unwatched (its own :meth:`check` calls still apply). The
        previous handler and timer are restored on exit.

        An alarm that lands where Python cannot raise (a garbage-collector
        callback, a finalizer) is swallowed there; the timer repeats, so the
        next alarm raises it again in ordinary code. Meanwhile the swallowed
        one is not reported (:func:`_quiet_about_alarms`): reporting it would
        run more code that the next alarm could interrupt.
        """
        armed = (self.deadline is not None or self.max_memory is not None) and hasattr(signal, "setitimer") \
            and threading.current_thread() is threading.main_thread()
        if not armed:
            yield
            return
        self.check(phase)

        def on_alarm(signum, frame):
            bound = self.exceeded()
            if bound is not None:
                raise BudgetExceeded(bound, phase)

        remaining = self.remaining()
        if self.max_memory is None:
            first, repeat = remaining, 0.01  # then again, should the handler run a hair early
        else:
            first = self.memory_interval if remaining is None else min(remaining, self.memory_interval)
            repeat = self.memory_interval
        previous = signal.signal(signal.SIGALRM, on_alarm)
        old_hook = sys.unraisablehook
        sys.unraisablehook = _quiet_about_alarms(old_hook)
        old_timer = signal.setitimer(signal.ITIMER_REAL, max(first, 1e-4), repeat)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            sys.unraisablehook = old_hook
            if old_timer[0] > 0:
                signal.setitimer(signal.ITIMER_REAL, *old_timer)
