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
      "rules": [{"id", "title", "severity", "rationale", "origin", "file", "line", "temporal",
                 "equivalents": {"kube-linter": ["latest-tag"], "checkov": [...], ...}}],
      "findings": [{
        "rule": "requests-missing", "severity": "warning", "status": "fail",   # or "error"
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "web"},
        "file": "deploy/web.yaml", "line": 1, "message": "..."
      }],
      "suppressed": [{...a finding..., "suppressedBy": "kspec.dev/ignore", "reason": "..."}],
                                     # or checkov, kube-linter, kube-score, polaris, config, baseline
      "warnings": [{"file", "line", "field", "severity": "warning", "message", "code"}]   # files skipped...
    }
"""

from __future__ import annotations

import datetime
import json
import os
import textwrap
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter

from kspec.rules.engine import CheckResult, Finding
from kspec.rules.postcheck import BASELINE, CONFIG
from kspec.rules.rule import Rule, severity_rank
from kspec.util.escape import json_dumps, json_safe, one_line, xml_safe
from kspec.util.version import VERSION

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FORMATS = ("text", "json", "sarif", "junit")
SRCROOT = "%SRCROOT%"


def repository_root(start: str | None = None) -> str:
    """The root of the version-control work tree holding ``start`` (default: the
    working directory): the nearest folder upwards with a ``.git`` entry, else
    ``start`` itself. SARIF artifact URIs are relative to it, as code-scanning
    services expect."""
    here = os.path.abspath(start or os.getcwd())
    folder = here
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def _encode(path: str) -> str:
    """Percent-encode a path's bytes (so a file name that is not UTF-8 stays exact)."""
    return urllib.parse.quote(os.fsencode(path.replace(os.sep, "/")), safe="/")


def artifact_uri(path: str, root: str) -> tuple[str, bool]:
    """``(uri, under_root)``: the path relative to ``root`` when inside it, else an
    absolute ``file://`` URI; percent-encoded either way."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, root)
    if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
        return _encode(relative), True
    return "file://" + _encode(absolute), False


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


def render_summary(result: CheckResult, threshold: str = "error", soft_fail: bool = False) -> str:
    """A table of rules with findings, and a verdict line (for stderr); with
    ``soft_fail`` the line says that the run exits 0 all the same."""
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
        f"{failing} at or above '{threshold}'" + ("; exit 0 (--soft-fail)" if soft_fail and failing else "")
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
            rule_json(r) for r in result.rules
        ],
        "findings": [f.to_json() for f in result.findings],
        "suppressed": [dict(f.to_json(), suppressedBy=by, reason=reason) for f, by, reason in result.suppressed],
        "warnings": [d.to_json() for d in result.warnings],
    }


def render_json(result: CheckResult, threshold: str = "error") -> str:
    return json_layout(to_json(result, threshold)) + "\n"


_ENCODER = json.JSONEncoder(ensure_ascii=False)  # one for every member (json.dumps with options makes one a call)


def json_layout(value, depth: int = 2) -> str:
    """``value`` as JSON for reading and diffing, at nearly the compact encoder's speed.

    Containers nested less than ``depth`` deep show one member per line,
    indented two spaces a level; anything deeper is written compactly on its
    member's line (``findings``: one finding a line). ``json.dumps(indent=2)``
    would lay out every level, but only through Python's pure-Python encoder,
    several times slower on tens of thousands of findings. The text is made
    safe as :func:`~kspec.util.escape.json_dumps` makes it.
    """
    return json_safe(_layout(value, depth, ""))


def _layout(value, depth: int, indent: str) -> str:
    if depth <= 0 or not value or not isinstance(value, (dict, list)):
        return _ENCODER.encode(value)
    inner = indent + "  "
    if isinstance(value, dict):
        members = [f"{inner}{_ENCODER.encode(key)}: {_layout(item, depth - 1, inner)}" for key, item in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    return "[\n" + ",\n".join(inner + _layout(item, depth - 1, inner) for item in value) + "\n" + indent + "]"


# ---------------------------------------------------------------------------
# SARIF 2.1.0
# ---------------------------------------------------------------------------


def _fingerprint(f: Finding) -> str:
    import hashlib  # deferred: start-up time (SARIF only)

    key = "\0".join([f.rule_id, f.kind, f.namespace or "", f.name, f.file])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _artifact_location(file: str, root: str) -> dict:
    if file == "<stdin>":
        return {"uri": "stdin"}
    uri, under_root = artifact_uri(file, root)
    return {"uri": uri, "uriBaseId": SRCROOT} if under_root else {"uri": uri}


def to_sarif(result: CheckResult, threshold: str = "error", root: str | None = None, *,
             include_suppressed: bool = False) -> dict:
    """A SARIF 2.1.0 log with one run: rules in ``tool.driver.rules``, one result per finding.

    Artifact URIs are relative to ``root`` (default :func:`repository_root`)
    under the base id ``%SRCROOT%``, which ``originalUriBaseIds`` resolves.

    Suppressed findings are left out, unless ``include_suppressed``: then each
    follows the reported ones as a result with a ``suppressions`` entry
    (SARIF 2.1.0 section 3.35), as CodeQL writes the alerts its suppression
    comments silence, which SARIF viewers then show as suppressed rather than
    open: kind ``inSource`` for an annotation on the object
    (kspec's or another linter's), ``external`` for ``.kspec.yaml`` and the
    baseline; the reason, when one was given, is the ``justification``, and
    ``properties.suppressedBy`` names the annotation, ``config`` or ``baseline``.
    """
    root = root or repository_root()
    index = {rule.id: i for i, rule in enumerate(result.rules)}
    rules = [
        {
            "id": r.id,
            "name": "".join(part.capitalize() for part in r.id.replace("/", "-").replace(".", "-").split("-")),
            "shortDescription": {"text": r.title or r.id},
            "fullDescription": {"text": r.rationale or r.title or r.id},
            "help": {"text": r.rationale or r.title or r.id},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"origin": r.origin, "temporal": r.temporal, "equivalents": dict(r.equivalents)},
        }
        for r in result.rules
    ]
    results = [_sarif_result(f, root, index) for f in result.findings]
    if include_suppressed:
        results.extend(dict(_sarif_result(f, root, index), suppressions=[_suppression(by, reason)])
                       for f, by, reason in result.suppressed)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "kspec", "version": VERSION,
                                "informationUri": "https://github.com/kspec/kspec", "rules": rules}},
            "results": results,
            "originalUriBaseIds": {SRCROOT: {"uri": "file://" + _encode(root.rstrip(os.sep) + os.sep)}},
            "columnKind": "unicodeCodePoints",
        }],
    }


def _sarif_result(f: Finding, root: str, index: dict[str, int]) -> dict:
    entry = {
        "ruleId": f.rule_id,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f"{f.object_ref}: {f.message}"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": _artifact_location(f.file, root),
                "region": {"startLine": f.line or 1},
            },
            "logicalLocations": [{"fullyQualifiedName": f.object_ref, "kind": "object"}],
        }],
        "partialFingerprints": {"kspecObject/v1": _fingerprint(f)},
        "properties": {"status": f.status},
    }
    if f.rule_id in index:
        entry["ruleIndex"] = index[f.rule_id]
    return entry


def _suppression(by: str, reason: str) -> dict:
    """One SARIF ``suppression``: where it is kept, why, and by what."""
    external = by in (CONFIG, BASELINE)
    suppression = {"kind": "external" if external else "inSource"}
    justification = f"recorded in the baseline {reason}" if by == BASELINE and reason else reason
    if justification:
        suppression["justification"] = justification
    suppression["properties"] = {"suppressedBy": by}
    return suppression


def render_sarif(result: CheckResult, threshold: str = "error", *, include_suppressed: bool = False) -> str:
    return json_layout(to_sarif(result, threshold, include_suppressed=include_suppressed), depth=4) + "\n"


# ---------------------------------------------------------------------------
# JUnit XML
# ---------------------------------------------------------------------------


def to_junit(result: CheckResult, threshold: str = "error", timestamp: str | None = None,
             hostname: str | None = None) -> ET.Element:
    """``<testsuites>`` with one ``<testsuite>`` per rule, one ``<testcase>`` per finding.

    Findings at or above ``threshold`` are ``<failure>`` (``<error>`` when the
    rule could not be evaluated); those below are passing cases, listed in
    the suite's ``<system-out>``. A rule without findings is one passing case.
    The document is valid against both common JUnit schemas (the Ant format's
    ``JUnit.xsd`` and the Jenkins xUnit plugin's ``junit-10.xsd``): every
    suite has ``id``, ``package``, ``timestamp``, ``hostname``, ``tests``,
    ``failures``, ``errors``, ``time``, ``properties`` (the rule's severity
    and title), ``system-out`` and ``system-err``; every case a ``time``; the
    root has no attributes (the Ant schema allows none).
    """
    import socket  # deferred: start-up time (JUnit only)

    rank = severity_rank(threshold)
    stamp = timestamp or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    host = hostname or socket.gethostname() or "localhost"
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    root = ET.Element("testsuites")
    for index, rule in enumerate(result.rules):
        findings = by_rule.get(rule.id, [])
        seconds = result.seconds.get(rule.id, 0.0)
        suite = ET.SubElement(root, "testsuite", name=rule.id, package="kspec", id=str(index), timestamp=stamp,
                              hostname=host, tests=str(max(1, len(findings))), time=_seconds(seconds))
        properties = ET.SubElement(suite, "properties")
        for name, value in (("severity", rule.severity), ("title", rule.title or rule.id), ("origin", rule.origin)):
            ET.SubElement(properties, "property", name=name, value=value)
        failures = errors = 0
        below = []
        if not findings:
            ET.SubElement(suite, "testcase", classname=rule.id, name=f"{rule.title or rule.id}: all objects",
                          time=_seconds(seconds))
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=rule.id, name=f"{f.object_ref} at {f.location}",
                                 time=_seconds(0.0))
            text = f"{f.location}: {f.message}"
            if severity_rank(f.severity) < rank:
                below.append(f"{f.severity} (below threshold {threshold}): {f.object_ref}: {text}")
            elif f.status == "error":
                errors += 1
                ET.SubElement(case, "error", message=f.message, type="evaluation-error").text = text
            else:
                failures += 1
                ET.SubElement(case, "failure", message=f.message, type=f.severity).text = text
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        ET.SubElement(suite, "system-out").text = "\n".join(below)
        ET.SubElement(suite, "system-err").text = ""
    return root


def _seconds(value: float) -> str:
    """A time both JUnit schemas accept (a decimal with three places)."""
    return f"{value:.3f}"


def render_junit(result: CheckResult, threshold: str = "error") -> str:
    root = xml_safe(to_junit(result, threshold))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------
# The rule list (kspec rules)
# ---------------------------------------------------------------------------

RULE_LIST_FORMATS = ("text", "json")


def rule_json(rule: Rule) -> dict:
    """One rule as the JSON outputs show it (``rules`` of a check result, ``kspec rules -o json``)."""
    return {"id": rule.id, "title": rule.title, "severity": rule.severity, "rationale": rule.rationale,
            "origin": rule.origin, "file": rule.source.file, "line": rule.source.line, "temporal": rule.temporal,
            "equivalents": {tool: list(checks) for tool, checks in rule.equivalents}}


def equivalents_text(rule: Rule) -> str:
    """``kube-linter latest-tag; checkov CKV_K8S_14`` (empty when none is known)."""
    return "; ".join(f"{tool} {', '.join(checks)}" for tool, checks in rule.equivalents)


def render_rule_list(rules, fmt: str = "text", *, brief: bool = False) -> str:
    """The rules with severity, title, rationale and other linters' equivalent checks.

    Text is a block per rule (``brief``: one line each, no rationale); JSON is
    ``{"version": 1, "rules": [...]}`` with the fields of :func:`rule_json`.
    """
    rules = list(rules)
    if fmt == "json":
        return json_dumps({"version": 1, "rules": [rule_json(r) for r in rules]}, indent=2) + "\n"
    width = max((len(r.id) for r in rules), default=0)
    out = []
    for rule in rules:
        out.append(one_line(f"{rule.id.ljust(width)}  {rule.severity:<7}  {rule.title}"))
        if brief:
            continue
        if rule.rationale:
            out.extend("    " + line for line in textwrap.wrap(one_line(rule.rationale), 76))
        same = equivalents_text(rule)
        out.append("    equivalents: " + (one_line(same) if same else "none known"))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n" if out else ""


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "junit": render_junit}


def render(result: CheckResult, fmt: str, threshold: str = "error", *, include_suppressed: bool = False) -> str:
    """Render ``result`` in ``fmt`` (one of :data:`FORMATS`); ``include_suppressed``
    adds the suppressed findings to SARIF (JSON always lists them under ``suppressed``)."""
    if fmt == "sarif":
        return render_sarif(result, threshold, include_suppressed=include_suppressed)
    return RENDERERS[fmt](result, threshold)
