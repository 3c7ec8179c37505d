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

The command line writes them (``--report FILE`` on ``check``, ``schedule`` and
``explore``; ``kspec report -o FILE``) through :mod:`kspec.cli.output`; this
package only builds and renders, it never writes a file or exits.

>>> from kspec.report import FORMATS, format_for
>>> format_for("review.html"), format_for("pr.md"), format_for("out.json")
('html', 'markdown', 'json')
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from kspec.report.model import Report, ReportError
from kspec.checker.explore import ExploreResult
from kspec.report.sections import build_report, check_section, explore_section
from kspec.rules.engine import CheckResult

__all__ = ["FORMATS", "Report", "ReportError", "build_report", "format_for", "render", "report_for"]

FORMATS = ("text", "json", "markdown", "html", "sarif", "junit")
SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".json": "json",
            ".txt": "text", ".sarif": "sarif", ".xml": "junit"}


def format_for(path: str, explicit: str | None = None) -> str:
    """The format named by ``explicit``, else by the path's suffix; HTML for a path
    without a suffix (``/dev/stdout``); a suffix no format has is a :class:`ReportError`
    (``r.pdf`` would otherwise get HTML under a name that promises something else)."""
    if explicit:
        if explicit not in FORMATS:
            raise ReportError(f"unknown report format {explicit!r}; use one of {', '.join(FORMATS)}")
        return explicit
    suffix = os.path.splitext(os.path.basename(str(path)))[1].lower()
    if suffix == ".json" and str(path).lower().endswith(".sarif.json"):
        return "sarif"
    if suffix and suffix not in SUFFIXES:
        raise ReportError(f"cannot tell the report format of {path}: no format has the suffix {suffix} "
                          f"(use one of {', '.join(sorted(SUFFIXES))})")
    return SUFFIXES.get(suffix, "html")


def render(report: Report, fmt: str, width: int | None = None) -> str:
    """``report`` as text in format ``fmt`` (one of :data:`FORMATS`); the text
    format fits its tables to ``width`` columns when given (a terminal's)."""
    if fmt == "text":
        from kspec.report.text import render as text  # deferred: start-up time
        return text(report, width)
    if fmt == "json":
        from kspec.report.json import render as fn  # deferred: start-up time
    elif fmt == "markdown":
        from kspec.report.markdown import render as fn  # deferred: start-up time
    elif fmt == "html":
        from kspec.report.html import render as fn  # deferred: start-up time
    elif fmt == "sarif":
        from kspec.report.sarif import render as fn  # deferred: start-up time
    elif fmt == "junit":
        from kspec.report.junit import render as fn  # deferred: start-up time
    else:
        raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fn(report)


def report_for(results: Any, *, command_line: Sequence[str] | str, inputs: Iterable[str] = (), title: str = "",
               **context) -> Report:
    """Build a report from raw ``results``.

    ``results``: one result record or a list of them (``ExploreResult``,
    ``CheckResult``, ``ScheduleResult``, or sections from
    :mod:`kspec.report.sections`). ``inputs``: the paths the run read, hashed
    into the report (for a model: the model file, which is added when
    missing, and the files it reads). ``context`` goes to the section builder of an
    ``ExploreResult`` (``model=``, ``model_path=``, ``params=``,
    ``settings=``) or of a ``CheckResult`` (``threshold=``).
    """
    items = list(results) if isinstance(results, (list, tuple)) else [results]
    inputs = list(inputs)
    built = []
    for item in items:
        if isinstance(item, ExploreResult):
            keys = ("model", "model_path", "params", "settings")
            item = explore_section(item, **{k: v for k, v in context.items() if k in keys})
            if context.get("model_path") and str(context["model_path"]) not in inputs:
                inputs.insert(0, str(context["model_path"]))
        elif isinstance(item, CheckResult):
            item = check_section(item, context.get("threshold", "error"))
        built.append(item)
    return build_report(built, command_line=command_line, inputs=inputs, title=title)
