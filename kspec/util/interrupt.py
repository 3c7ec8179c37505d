"""Ctrl-C that cannot be lost.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be
when SIGINT arrives. Inside a finalizer (a Z3 term's ``__del__``) or code that
catches every exception (Hypothesis replaying an example), that exception is
swallowed and the run goes on as if nothing happened. :func:`watching`
installs a handler that also records the interrupt, so the places that can
stop cleanly (the run budget's check, every solver call, the end of a
command) raise it again with :func:`raise_if_pending`.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

__all__ = ["pending", "raise_if_pending", "watching"]

_pending = False


def pending() -> bool:
    """Whether Ctrl-C was pressed since :func:`watching` began."""
    return _pending


def raise_if_pending() -> None:
    """Raise ``KeyboardInterrupt`` again when an interrupt was recorded (and
    perhaps swallowed where it first landed)."""
    if _pending:
        raise KeyboardInterrupt


def _record(signum, frame):
    global _pending
    _pending = True
    signal.default_int_handler(signum, frame)


@contextlib.contextmanager
def watching():
    """Record every SIGINT for the duration of the body (main thread only;
    elsewhere signals never arrive and the body runs as it is)."""
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _pending = False
    previous = signal.signal(signal.SIGINT, _record)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_interrupts(previous_hook)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
        _pending = False


def _quiet_interrupts(previous):
    """An unraisable-exception hook that says nothing of a ``KeyboardInterrupt``
    swallowed in a finalizer (it is recorded, and raised again where the
    command can stop) and passes anything else on to ``previous``."""
    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            return
        previous(unraisable)
    return hook
