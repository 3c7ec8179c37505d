"""Exit codes: the one place that decides them, and the one error path.

Every verb returns an :class:`ExitCode` (most of them through
:func:`exit_code`, from the verdicts it found) or raises; :class:`Verb`, the
click command class every verb uses, turns both into the process's exit
status. The codes mean the same thing on every verb:

===  ==============  =========================================================
0    OK              every check holds (or is inconclusive, without --strict)
1    VIOLATED        a check is violated
2    BAD_INPUT       bad input or usage; a KspecError, printed as one line per problem
3    INCONCLUSIVE    a check is inconclusive and --strict was given
4    INTERNAL_ERROR  a bug in kspec: one line on stderr (KSPEC_DEBUG=1 adds the traceback)
130  INTERRUPTED     Ctrl-C (128 + SIGINT, as shells report it); partial results are printed first
141  BROKEN_PIPE     whoever read stdout stopped reading (128 + SIGPIPE, as if killed by it); silent
===  ==============  =========================================================

>>> from kspec.checker.model import Verdict
>>> int(exit_code([Verdict.HOLDS, Verdict.INCONCLUSIVE]))
0
>>> exit_code(["holds", "inconclusive"], strict=True).name
'INCONCLUSIVE'
>>> exit_code([Verdict.VIOLATED], interrupted=True).name
'INTERRUPTED'
"""

from __future__ import annotations

import enum
import errno
import io
import os
import sys
import traceback
from typing import Iterable

import click

from kspec.checker.model import Verdict
from kspec.errors import KspecError, LoadError
from kspec.util import interrupt
from kspec.util.escape import one_line

__all__ = ["ExitCode", "Verb", "exit_code", "report_error"]


class ExitCode(enum.IntEnum):
    """What the process's exit status says (see the table above)."""

    OK = 0
    VIOLATED = 1
    BAD_INPUT = 2
    INCONCLUSIVE = 3
    INTERNAL_ERROR = 4
    INTERRUPTED = 130
    BROKEN_PIPE = 141


def exit_code(verdicts: Iterable[Verdict | str], *, strict: bool = False, interrupted: bool = False) -> ExitCode:
    """The code for a run's verdicts: violated beats inconclusive beats holds;
    an inconclusive run exits 0 unless ``strict``; an interrupted run exits 130
    whatever it found before the interrupt."""
    if interrupted:
        return ExitCode.INTERRUPTED
    overall = Verdict.overall(Verdict(v) for v in verdicts)
    if overall is Verdict.VIOLATED:
        return ExitCode.VIOLATED
    if overall is Verdict.INCONCLUSIVE and strict:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def report_error(error: KspecError) -> ExitCode:
    """The one error path: print ``error`` to stderr (a LoadError one
    ``file:line: error: field: message`` per diagnostic) and give exit 2."""
    if isinstance(error, LoadError):
        for diagnostic in error.diagnostics:
            click.echo(one_line(diagnostic), err=True)  # a value's ESC or newline never reaches the terminal raw
    else:
        click.echo(f"kspec: error: {one_line(error)}", err=True)
    return ExitCode.BAD_INPUT


def _internal_error(error: BaseException) -> ExitCode:
    if os.environ.get("KSPEC_DEBUG"):
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    message = str(error).splitlines()[0] if str(error) else ""
    click.echo(f"kspec: internal error: {type(error).__name__}: {message} "
               "(please report; set KSPEC_DEBUG=1 for the traceback)", err=True)
    return ExitCode.INTERNAL_ERROR


def _silence_stdout() -> None:
    """After a broken pipe: point fd 1 at /dev/null so that the interpreter's
    last flush at exit does not complain about the pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass


class _ClosedStream(io.TextIOBase):
    """Stands in for a standard stream whose file descriptor was closed
    (``>&-``, ``<&-``): reading or writing fails with EBADF, which the loader
    and :func:`outcome` already turn into one line, never a traceback."""

    def __init__(self, name: str):
        self.name = name

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size=-1):
        raise OSError(errno.EBADF, f"{self.name} is closed")

    readline = read

    def write(self, text):
        raise OSError(errno.EBADF, f"{self.name} is closed")


def prepare_streams() -> None:
    """A closed stdin or stdout fails on use with EBADF instead of being None;
    text that is not valid Unicode (file names that are not UTF-8, kept by
    Python as surrogates) is written with backslash escapes, never a crash."""
    if sys.stdin is None:
        sys.stdin = _ClosedStream("standard input")
    if sys.stdout is None:
        sys.stdout = _ClosedStream("standard output")
    if sys.stderr is None:  # nowhere to say anything: messages are dropped
        sys.stderr = open(os.devnull, "w")
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def outcome(run) -> ExitCode:
    """Run ``run()`` (a verb's body, returning an ExitCode) and turn whatever
    escapes it into a code: KspecError and click usage errors 2, Ctrl-C 130,
    a reader that went away 141, a closed stdout 2, any other exception 4."""
    try:
        with interrupt.watching():
            code = run()
            interrupt.raise_if_pending()  # an interrupt swallowed on the way (in a finalizer) still counts
        sys.stdout.flush()  # a broken pipe shows here, not at interpreter exit
        return ExitCode(code)
    except (click.exceptions.Exit, click.exceptions.Abort):
        raise
    except click.ClickException as err:
        err.show()
        return ExitCode.BAD_INPUT
    except KspecError as err:
        return report_error(err)
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:
        _silence_stdout()
        return ExitCode.BROKEN_PIPE
    except OSError as err:
        if err.errno != errno.EBADF:
            return _internal_error(err)
        click.echo(f"kspec: error: cannot write results: {err.strerror or err}", err=True)
        return ExitCode.BAD_INPUT
    except SystemExit as err:  # only user code (a model, a controller) calls sys.exit: kspec itself never does
        click.echo(f"kspec: error: user code called sys.exit({err.code!r}); a model or controller must not exit",
                   err=True)
        return ExitCode.BAD_INPUT
    except Exception as err:  # a bug in kspec: its own code, never 1
        if _interrupt_in_foreign_call(err):
            return _interrupted()
        return _internal_error(err)


def _interrupted() -> ExitCode:
    # Objects the interrupt left half-built (a Z3 term) complain when they
    # are collected at exit; nothing is wrong, so say nothing.
    sys.unraisablehook = lambda unraisable: None
    click.echo("kspec: interrupted", err=True)
    return ExitCode.INTERRUPTED


def _interrupt_in_foreign_call(err: Exception) -> bool:
    """Ctrl-C that landed while ctypes converted a call's arguments (a Z3 call)
    comes back as ``ctypes.ArgumentError: argument 1: KeyboardInterrupt``."""
    return type(err).__name__ == "ArgumentError" and "KeyboardInterrupt" in str(err)


class Verb(click.Command):
    """A kspec verb: its callback returns an :class:`ExitCode` (or raises), and
    this is where that becomes the exit status."""

    def invoke(self, ctx: click.Context):
        prepare_streams()
        ctx.exit(int(outcome(lambda: click.Command.invoke(self, ctx))))
