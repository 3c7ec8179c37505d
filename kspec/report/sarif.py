"""The report's static findings as SARIF 2.1.0, by ``kspec check``'s own writer.

Model-checking and scheduling verdicts have no file and line to point at, so
SARIF carries the findings only; the other formats carry everything. A report
without a check result is a valid SARIF log with no results.
"""

from __future__ import annotations

from kspec.report.model import Report

__all__ = ["render"]


def render(report: Report) -> str:
    # deferred: start-up time
    from kspec.rules.engine import CheckResult
    # deferred: start-up time
    from kspec.rules.output import render_sarif

    check = report.check
    if check is not None and check.source is not None:
        return render_sarif(check.source, check.threshold)
    return render_sarif(CheckResult((), (), 0), "error")
