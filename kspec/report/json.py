"""The report as JSON: the documented, versioned schema (docs/report.md).

``{"schema": "kspec-report", "version": 1, "verdict": ..., "title": ...,
"status": ..., "environment": ..., "inputs": [...], "assumptions": [...],
"verdicts": [...], "explore": [...], "check": ..., "schedule": ...,
"diagnostics": [...], "notes": [...]}``; fields are added without bumping
the version, never removed or changed.
"""

from __future__ import annotations

from kspec.report.model import Report
from kspec.util.escape import json_dumps

__all__ = ["render"]


def render(report: Report) -> str:
    return json_dumps(report.to_json(), indent=2) + "\n"
