"""The report as JUnit XML: every verdict a test case, so CI systems show them.

Static findings use ``kspec check``'s own JUnit writer (one ``<testsuite>``
per rule); each exploration adds a suite with one case per property (a
violated property is a ``<failure>`` carrying the trace as text, an
inconclusive one is ``<skipped>`` with the bound), and scheduling adds a suite
with feasibility and each failure-tolerance question.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kspec.report.model import Report
from kspec.report.text import lasso_words
from kspec.util.escape import xml_safe

__all__ = ["render", "to_junit"]


def _case(suite: ET.Element, classname: str, name: str, verdict: str, message: str, text: str = "") -> tuple[int, int]:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name)
    if verdict == "violated":
        ET.SubElement(case, "failure", message=message or "violated", type="violated").text = text or message
        return 1, 0
    if verdict == "inconclusive":
        ET.SubElement(case, "skipped", message=message or "inconclusive")
        return 0, 1
    return 0, 0


def _finish(root: ET.Element, suite: ET.Element, tests: int, failures: int, skipped: int) -> None:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root.set("tests", str(int(root.get("tests", "0")) + tests))
    root.set("failures", str(int(root.get("failures", "0")) + failures))


def to_junit(report: Report) -> ET.Element:
    if report.check is not None and report.check.source is not None:
        # deferred: start-up time
        from kspec.rules.output import to_junit as check_junit

        root = check_junit(report.check.source, report.check.threshold)
        root.set("name", "kspec report")
    else:
        root = ET.Element("testsuites", name="kspec report", tests="0", failures="0", errors="0")
    for sec in report.explore:
        suite = ET.SubElement(root, "testsuite", name=f"explore {sec.model}")
        traces = {c.property: c for c in sec.counterexamples}
        failures = skipped = 0
        for p in sec.properties:
            text = ""
            cx = traces.get(p.name)
            if cx is not None:
                lines = [f"{s.index}. [{s.actor}] {s.action}" for s in cx.steps[1:]]
                text = "\n".join(lines + [lasso_words(cx)])
            message = f"bound hit: {p.bound}" if p.verdict == "inconclusive" else f"{p.kind} property {p.verdict}"
            f, s = _case(suite, sec.model, p.name, p.verdict, message, text)
            if p.vacuous:  # passes, and says why it proves nothing
                ET.SubElement(suite[-1], "system-out").text = f"vacuous: {p.vacuous}"
            failures += f
            skipped += s
        _finish(root, suite, len(sec.properties), failures, skipped)
    if report.schedule is not None:
        suite = ET.SubElement(root, "testsuite", name="schedule")
        rows = [v for v in report.verdicts if v.section == "schedule"]
        failures = skipped = 0
        for v in rows:
            f, s = _case(suite, "schedule", v.name, v.verdict, v.detail)
            failures += f
            skipped += s
        _finish(root, suite, len(rows), failures, skipped)
    return root


def render(report: Report) -> str:
    root = xml_safe(to_junit(report))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
