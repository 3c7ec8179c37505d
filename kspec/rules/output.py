"""Writers for check results: text, JSON, SARIF 2.1.0 and JUnit XML.

Writers only render a :class:`~kspec.rules.engine.CheckResult`; the exit code
is decided elsewhere (``kspec.cli.check``).

JSON shape (``version`` 1; stable)::

    {
      "version": 1,
      "tool": {"name": "kspec", "version": "0.1.0"},
      "threshold": "error",          # --severity-threshold
      "passed": true,                # no finding at or above the threshold
      "summary": {
        "objects": 108, "rules": 15, "evaluations": 725, "findings": 187,
        "bySeverity": {"error": 45, "warning": 131, "info": 11},
        "byRule": {"<rule id>": {"severity": "warning", "title": "...", "fail": 20, "error": 0}}
      },
      "rules": [{"id", "title", "severity", "rationale", "origin", "file", "line", "temporal"}],
      "findings": [{
        "rule": "requests-missing", "severity": "warning", "status": "fail",   # or "error"
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "web"},
        "file": "deploy/web.yaml", "line": 1, "message": "..."
      }]
    }
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter

from kspec.rules.engine import CheckResult, Finding
from kspec.rules.rule import severity_rank
from kspec.util.escape import json_dumps, one_line, xml_safe
from kspec.util.version import VERSION

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FORMATS = ("text", "json", "sarif", "junit")


def _relative(path: str) -> str:
    """A path relative to the working directory when inside it (SARIF artifact URIs)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI: the relative path, percent-encoded from its bytes (so a
    file name that is not UTF-8 stays exact)."""
    return urllib.parse.quote(os.fsencode(_relative(path).replace(os.sep, "/")), safe="/")


# ---------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------


def finding_line(f: Finding) -> str:
    """``file:line: severity: [rule] Kind/name: message`` (``error`` status says so)."""
    status = " (evaluation error)" if f.status == "error" else ""
    return f"{f.location}: {f.severity}: [{f.rule_id}]{status} {f.object_ref}: {f.message}"


def render_text(result: CheckResult, threshold: str = "error") -> str:
    """Findings, one per line, ordered by file and line (control characters spelled out)."""
    return "".join(one_line(finding_line(f)) + "\n" for f in result.findings)


def render_summary(result: CheckResult, threshold: str = "error") -> str:
    """A table of rules with findings, and a verdict line (for stderr)."""
    rows = [(rid, s) for rid, s in result.by_rule().items() if s["fail"] or s["error"]]
    lines = []
    if rows:
        width = max(len(rid) for rid, _ in rows)
        lines.append(f"{'rule'.ljust(width)}  severity  fail  error")
        for rid, s in sorted(rows, key=lambda r: (-severity_rank(r[1]["severity"]), r[0])):
            lines.append(f"{rid.ljust(width)}  {s['severity']:<8}  {s['fail']:>4}  {s['error']:>5}")
    counts = Counter(f.severity for f in result.findings)
    failing = len(result.failing(threshold))
    verdict = "FAILED" if failing else "passed"
    lines.append(
        f"{verdict}: {len(result.findings)} findings ({counts['error']} error, {counts['warning']} warning, "
        f"{counts['info']} info) from {len(result.rules)} rules over {result.objects} objects; "
        f"{failing} at or above '{threshold}'"
    )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def to_json(result: CheckResult, threshold: str = "error") -> dict:
    counts = Counter(f.severity for f in result.findings)
    return {
        "version": 1,
        "tool": {"name": "kspec", "version": VERSION},
        "threshold": threshold,
        "passed": result.passed(threshold),
        "summary": {
            "objects": result.objects,
            "rules": len(result.rules),
            "evaluations": result.evaluations,
            "findings": len(result.findings),
            "bySeverity": {s: counts[s] for s in ("error", "warning", "info")},
            "byRule": result.by_rule(),
        },
        "rules": [
            {"id": r.id, "title": r.title, "severity": r.severity, "rationale": r.rationale, "origin": r.origin,
             "file": r.source.file, "line": r.source.line, "temporal": r.temporal}
            for r in result.rules
        ],
        "findings": [f.to_json() for f in result.findings],
    }


def render_json(result: CheckResult, threshold: str = "error") -> str:
    return json_dumps(to_json(result, threshold), indent=2, sort_keys=False) + "\n"


# ---------------------------------------------------------------------------
# SARIF 2.1.0
# ---------------------------------------------------------------------------


def _fingerprint(f: Finding) -> str:
    key = "\0".join([f.rule_id, f.kind, f.namespace or "", f.name, f.file])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def to_sarif(result: CheckResult, threshold: str = "error") -> dict:
    """A SARIF 2.1.0 log with one run: rules in ``tool.driver.rules``, one result per finding."""
    index = {rule.id: i for i, rule in enumerate(result.rules)}
    rules = [
        {
            "id": r.id,
            "name": "".join(part.capitalize() for part in r.id.replace("/", "-").replace(".", "-").split("-")),
            "shortDescription": {"text": r.title or r.id},
            "fullDescription": {"text": r.rationale or r.title or r.id},
            "help": {"text": r.rationale or r.title or r.id},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"origin": r.origin, "temporal": r.temporal},
        }
        for r in result.rules
    ]
    results = []
    for f in result.findings:
        entry = {
            "ruleId": f.rule_id,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.object_ref}: {f.message}"},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(f.file)},
                    "region": {"startLine": f.line or 1},
                },
                "logicalLocations": [{"fullyQualifiedName": f.object_ref, "kind": "object"}],
            }],
            "partialFingerprints": {"kspecObject/v1": _fingerprint(f)},
            "properties": {"status": f.status},
        }
        if f.rule_id in index:
            entry["ruleIndex"] = index[f.rule_id]
        results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "kspec", "version": VERSION,
                                "informationUri": "https://github.com/kspec/kspec", "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def render_sarif(result: CheckResult, threshold: str = "error") -> str:
    return json_dumps(to_sarif(result, threshold), indent=2) + "\n"


# ---------------------------------------------------------------------------
# JUnit XML
# ---------------------------------------------------------------------------


def to_junit(result: CheckResult, threshold: str = "error") -> ET.Element:
    """``<testsuites>`` with one ``<testsuite>`` per rule, one ``<testcase>`` per finding.

    Findings at or above ``threshold`` are ``<failure>`` (``<error>`` when the
    rule could not be evaluated); those below are passing cases whose
    ``<system-out>`` says why. A rule without findings is one passing case.
    """
    rank = severity_rank(threshold)
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    root = ET.Element("testsuites", name="kspec check")
    total_tests = total_failures = total_errors = 0
    for rule in result.rules:
        findings = by_rule.get(rule.id, [])
        suite = ET.SubElement(root, "testsuite", name=rule.id)
        failures = errors = 0
        if not findings:
            ET.SubElement(suite, "testcase", classname=rule.id, name=f"{rule.title or rule.id}: all objects")
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=rule.id, name=f.object_ref, file=f.file,
                                 line=str(f.line or 1))
            text = f"{f.location}: {f.message}"
            if severity_rank(f.severity) < rank:
                ET.SubElement(case, "system-out").text = f"{f.severity} (below threshold {threshold}): {text}"
            elif f.status == "error":
                errors += 1
                ET.SubElement(case, "error", message=f.message, type="evaluation-error").text = text
            else:
                failures += 1
                ET.SubElement(case, "failure", message=f.message, type=f.severity).text = text
        tests = max(1, len(findings))
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        total_tests += tests
        total_failures += failures
        total_errors += errors
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    return root


def render_junit(result: CheckResult, threshold: str = "error") -> str:
    root = xml_safe(to_junit(result, threshold))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit}


def render(result: CheckResult, fmt: str, threshold: str = "error") -> str:
    """Render ``result`` in ``fmt`` (one of :data:`FORMATS`)."""
    return RENDERERS[fmt](result, threshold)
