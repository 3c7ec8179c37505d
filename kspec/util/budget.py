"""One wall-time and memory budget for a whole run, every phase included.

A command makes one :class:`Budget` from its ``--time-limit`` / ``--max-memory``
(or ``--timeout``) options and hands it to every phase that can take long:
loading a model or scenario, settling its initial states, the search itself,
a greedy baseline. Each phase calls :meth:`Budget.check` in its inner loop;
the check reads the clock every time (tens of nanoseconds) and the resident
memory only every ``memory_interval`` seconds, so a limit overshoots by at
most one step plus that interval. When a bound is reached, :meth:`check`
raises :class:`BudgetExceeded` naming it (``time_limit`` or ``max_memory``);
the phase turns that into partial results and an inconclusive verdict.

>>> b = Budget(time_limit=None, max_memory=None)
>>> b.check()            # no bounds: never raises
>>> b.exceeded() is None
True
>>> Budget(time_limit=0.0).exceeded()
'time_limit'
"""

from __future__ import annotations

import os
import resource
import sys
import time

from kspec.errors import KspecError

__all__ = ["Budget", "BudgetExceeded", "peak_memory_bytes", "resident_memory_bytes"]


class BudgetExceeded(KspecError):
    """A run's time or memory bound was reached; ``bound`` names it."""

    def __init__(self, bound: str):
        super().__init__(f"{bound.replace('_', ' ')} reached")
        self.bound = bound


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


class Budget:
    """Deadline and memory cap shared by every phase of one run."""

    def __init__(self, time_limit: float | None = None, max_memory: int | None = None,
                 memory_interval: float = 0.05):
        self.start = time.monotonic()
        self.time_limit = time_limit
        self.deadline = None if time_limit is None else self.start + time_limit
        self.max_memory = max_memory
        self.memory_interval = memory_interval
        self._next_memory_check = self.start

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
        if self.max_memory is not None and now >= self._next_memory_check:
            self._next_memory_check = now + self.memory_interval
            if resident_memory_bytes() > self.max_memory:
                return "max_memory"
        return None

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` when a bound is reached."""
        bound = self.exceeded()
        if bound is not None:
            raise BudgetExceeded(bound)
