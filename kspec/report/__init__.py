"""Reports a reviewer can open, read and trust: one result model, many renderers.

``check``, ``schedule`` and ``explore`` produce result records;
:func:`build_report` gathers them with the inputs (files and sha256), the
versions and the command line, and the assumptions of the run into one
versioned :class:`~kspec.report.model.Report`; renderers only render it:

========  ============================================================
text      the terminal (default of ``kspec report`` without ``-o``)
json      the documented, versioned schema (docs/report.md)
markdown  pull requests and design documents (traces as tables)
html      one self-contained file: inline CSS and SVG, no scripts, no network
sarif     the static findings, via ``kspec check``'s own SARIF writer
junit     every verdict as a test case (``kspec check``'s suites, plus explore and schedule)
========  ============================================================

Every command can write a report with :func:`report_option` and :func:`report_to`
(:func:`write_report` plus the one-line error and exit 2)::

    @report_option
    def command(..., report_path):
        ...
        report_to(report_path, result, inputs=paths)

:func:`write_report` writes to a temporary file in the same folder and renames
it, so a report is complete or absent, never partial; a path that cannot be
written raises :class:`~kspec.report.model.ReportError` with one clear line
(commands exit 2 on it).

>>> from kspec.report import FORMATS, format_for
>>> format_for("review.html"), format_for("pr.md"), format_for("out.json")
('html', 'markdown', 'json')
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Iterable, Sequence

import click

from kspec.report.model import Report, ReportError, build_report

__all__ = ["FORMATS", "Report", "ReportError", "build_report", "format_for", "render", "report_option",
           "report_to", "check_writable", "write_report", "write_text"]

FORMATS = ("text", "json", "markdown", "html", "sarif", "junit")
SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".json": "json",
            ".txt": "text", ".sarif": "sarif", ".xml": "junit"}


def format_for(path: str, explicit: str | None = None) -> str:
    """The format named by ``explicit``, else by the path's suffix; HTML when neither says."""
    if explicit:
        if explicit not in FORMATS:
            raise ReportError(f"unknown report format {explicit!r}; use one of {', '.join(FORMATS)}")
        return explicit
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix == ".json" and str(path).lower().endswith(".sarif.json"):
        return "sarif"
    return SUFFIXES.get(suffix, "html")


def render(report: Report, fmt: str) -> str:
    """``report`` as text in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "text":
        from kspec.report.text import render as fn
    elif fmt == "json":
        from kspec.report.json import render as fn
    elif fmt == "markdown":
        from kspec.report.markdown import render as fn
    elif fmt == "html":
        from kspec.report.html import render as fn
    elif fmt == "sarif":
        from kspec.report.sarif import render as fn
    elif fmt == "junit":
        from kspec.report.junit import render as fn
    else:
        raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fn(report)


def write_text(text: str, path: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same
    folder, flushed, then renamed over ``path``. On any failure the temporary
    file is removed, ``path`` is untouched, and :class:`ReportError` says why."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ReportError(f"cannot write report to {path}: it is a directory")
    if not os.path.isdir(folder):
        raise ReportError(f"cannot write report to {path}: the folder {folder} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".kspec-report-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise ReportError(f"cannot write report to {path}: {err.strerror or err}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_report(results: Any, path: str, *, command_line: Sequence[str] | str | None = None, fmt: str | None = None,
                 inputs: Iterable[str] = (), title: str = "", **context) -> Report:
    """Build a report from ``results`` and write it to ``path`` (format from
    ``fmt`` or the suffix). Returns the :class:`Report`.

    ``results``: one result record or a list of them (``ExploreResult``,
    ``CheckResult``, ``ScheduleResult``, or sections from
    :mod:`kspec.report.sections`). ``inputs``: the paths the run read, hashed
    into the report. ``context`` goes to the section builder of an
    ``ExploreResult`` (``model=``, ``model_path=``, ``params=``,
    ``settings=``) or of a ``CheckResult`` (``threshold=``).
    """
    from kspec.report import sections

    items = list(results) if isinstance(results, (list, tuple)) else [results]
    inputs = list(inputs)
    built = []
    for item in items:
        name = type(item).__name__
        if name == "ExploreResult":
            keys = ("model", "model_path", "params", "settings")
            item = sections.explore_section(item, **{k: v for k, v in context.items() if k in keys})
            if context.get("model_path"):
                inputs.append(str(context["model_path"]))
            scenario = getattr(context.get("model"), "scenario", None)
            inputs += [str(p) for p in getattr(scenario, "manifests", ()) or ()]
        elif name == "CheckResult":
            item = sections.check_section(item, context.get("threshold", "error"))
        built.append(item)
    if command_line is None:
        command_line = ["kspec", *sys.argv[1:]]
    report = build_report(built, command_line=command_line, inputs=inputs, title=title)
    write_text(render(report, format_for(path, fmt)), path)
    return report


def report_to(path: str | None, results: Any, **context) -> Report | None:
    """For commands: ``write_report`` when ``--report`` was given; a path that
    cannot be written prints one error line and exits 2 (no file is left)."""
    if not path:
        return None
    try:
        return write_report(results, path, **context)
    except ReportError as err:
        click.echo(f"kspec: error: {err}", err=True)
        sys.exit(2)


def check_writable(path: str | None) -> None:
    """Raise :class:`ReportError` now when a report could not be written to
    ``path`` later (so a long run does not end in a lost report)."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ReportError(f"cannot write report to {path}: it is a directory")
    if not os.path.isdir(folder):
        raise ReportError(f"cannot write report to {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportError(f"cannot write report to {path}: permission denied")


def _validate_report_path(ctx, param, value):
    try:
        check_writable(value)
        if value:
            format_for(value)
    except ReportError as err:
        click.echo(f"kspec: error: {err}", err=True)
        ctx.exit(2)
    return value


def report_option(func):
    """``--report FILE``: also write a report (format from the suffix: .html,
    .md, .json, .sarif, .xml, .txt); the command receives ``report_path``.
    A path that cannot be written is refused before the command runs (exit 2)."""
    return click.option(
        "--report", "report_path", default=None, metavar="FILE", type=click.Path(dir_okay=False),
        callback=_validate_report_path,
        help="Also write a self-contained report to FILE (.html, .md or .json; format from the suffix).",
    )(func)
