"""The one-line progress display a long phase writes to stderr.

The search (``explored 1,234 states, ...``) and the settle of a scenario's
initial state (``settling the initial state: 1,234 states, ...``) show the
same line: on a terminal only unless forced on or off, after one second, at
most four times a second, overwritten in place and cleared by :meth:`Progress.done`.

>>> p = Progress(False)
>>> p.update("explored", 10, "depth 2")   # disabled: writes nothing
>>> p.done()
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """A one-line progress display on stderr. ``enabled``: None shows it on a
    terminal only, True and False force it on or off."""

    DELAY = 1.0  # seconds before the first line
    INTERVAL = 0.25  # seconds between two lines

    def __init__(self, enabled: bool | None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def update(self, prefix: str, states: int, *details: str) -> None:
        """Show ``PREFIX N states, DETAIL, ..., R states/s, Ts`` when a line is due."""
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < self.DELAY or now - self.last < self.INTERVAL:
            return
        self.last = now
        rate = states / elapsed if elapsed else 0
        parts = (f"{prefix} {states:,} states", *details, f"{rate:,.0f} states/s", f"{elapsed:.0f}s")
        sys.stderr.write("\r" + ", ".join(parts) + " ")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        """Clear the line, if one was shown."""
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False
