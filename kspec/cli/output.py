"""The only code that writes an output file (``--report``, ``report -o``, ``--emit-test``).

Promises, each tested in ``tests/test_cli_outputs.py``:

- an output that resolves (symlinks followed) to one of the run's inputs is
  refused before any work, with one line and exit 2 (:func:`check_output`);
- a symlink is followed: its target is written and the link stays a link;
- a file that is not a regular file (``-`` for stdout, ``/dev/stdout``,
  ``/dev/null``, a FIFO) is written in place, never replaced;
- a regular file is written atomically (a temporary file in the same folder,
  flushed, then renamed over it), so it is complete or untouched; an existing
  file keeps its mode (and, where allowed, its owner), a new one gets the
  umask's mode;
- nothing here is called before a run has results, so a run that fails on bad
  input leaves no artifact.

Text that is not valid Unicode (file names that are not UTF-8, which Python
keeps as surrogates) is written with backslash escapes.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from kspec.errors import KspecError
from kspec.loading.manifests import expand_paths

if TYPE_CHECKING:
    from kspec.report import Report

__all__ = ["OutputError", "check_output", "input_files", "terminal_width", "write_report", "write_text"]

STDOUT = "-"


class OutputError(KspecError):
    """An output path that cannot or must not be written (one line for the user)."""


def terminal_width(stream=None) -> int | None:
    """Columns that text tables should fit: ``$COLUMNS`` when set, else the
    terminal's when ``stream`` (stdout) is one; None (no limit) for pipes and files."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return shutil.get_terminal_size().columns if isatty is not None and isatty() else None


def input_files(paths: Iterable[str]) -> set[str]:
    """Real paths of the files a run reads: files given, and the files the
    loader reads under folders given (``-`` and missing paths are skipped)."""
    files, _ = expand_paths([p for p in map(str, paths) if p != STDOUT])
    return {os.path.realpath(f) for f in files if f != STDOUT}


def check_output(path: str | None, inputs: Iterable[str] = (), what: str = "report", fmt: str | None = None,
                 check_format: bool = True) -> None:
    """Raise :class:`OutputError` now when ``path`` could not be written later
    (a folder, a missing or read-only folder) or would overwrite an input, and
    (``check_format``) a ``ReportError`` when a report's suffix names no format
    and ``fmt`` none."""
    if path is None or path == STDOUT:
        return
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise OutputError(f"cannot write {what} to {path}: it is a directory")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {what} to {path}: the folder {folder} does not exist")
    if target in input_files(inputs):
        raise OutputError(f"cannot write {what} to {path}: it is one of the inputs of this run")
    if os.path.exists(target) and not _is_regular(target):
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {what} to {path}: permission denied")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} to {path}: permission denied")
    if what == "report" and check_format:
        from kspec.report import format_for  # deferred: start-up time (kspec check rarely writes a report)
        format_for(path, fmt)


def write_text(text: str, path: str, what: str = "report") -> None:
    """Write ``text`` to ``path`` as the module docstring promises; any
    failure is an :class:`OutputError` naming the path, and leaves no
    temporary file behind."""
    if path == STDOUT:
        _write_stream(sys.stdout, text)
        return
    target = os.path.realpath(path)
    try:
        if os.path.exists(target) and not _is_regular(target):
            if os.path.isdir(target):
                raise OutputError(f"cannot write {what} to {path}: it is a directory")
            with open(target, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as handle:
                handle.write(text)
        else:
            _replace(target, text)
    except OSError as err:
        raise OutputError(f"cannot write {what} to {path}: {err.strerror or err}") from None


def write_report(results: Any, path: str, *, fmt: str | None = None,
                 command_line: Sequence[str] | str | None = None, inputs: Iterable[str] = (), title: str = "",
                 **context) -> Report:
    """Build a report from ``results`` (see :func:`kspec.report.report_for`)
    and write it to ``path`` in ``fmt`` or the format its suffix names."""
    if command_line is None:
        command_line = ["kspec", *sys.argv[1:]]
    from kspec.report import format_for, render, report_for  # deferred: start-up time
    report = report_for(results, command_line=command_line, inputs=inputs, title=title, **context)
    write_text(render(report, format_for(path, fmt)), path)
    return report


def _is_regular(path: str) -> bool:
    return stat.S_ISREG(os.stat(path).st_mode)


def _write_stream(stream, text: str) -> None:
    stream.write(text)
    stream.flush()


def _replace(target: str, text: str) -> None:
    """Temporary file beside ``target``, flushed, given ``target``'s mode, renamed over it."""
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, f"the folder {folder} does not exist")
    old = os.stat(target) if os.path.exists(target) else None
    fd, tmp = tempfile.mkstemp(prefix=".kspec-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if old is None:
            os.chmod(tmp, 0o666 & ~_umask())
        else:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
            _keep_owner(tmp, old)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _keep_owner(path: str, old: os.stat_result) -> None:
    """Give the new file the old one's owner and group when we may (as root)."""
    if (old.st_uid, old.st_gid) == (os.getuid(), os.getgid()):
        return
    try:
        os.chown(path, old.st_uid, old.st_gid)
    except PermissionError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
