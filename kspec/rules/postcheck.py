"""What ``kspec check`` adds around the CEL rules: strictness findings and what is not reported.

:class:`Extras` is handed to :func:`kspec.rules.engine.check_paths`, which
calls it twice:

* :meth:`Extras.claim`, before deciding what is fatal: an object the loader
  refused because its apiVersion is one Kubernetes removed becomes an
  ``api-version-removed`` finding (at the apiVersion line) instead of a
  load error, when that rule runs;
* :meth:`Extras.complete`, after the rules ran: the schema findings
  (:mod:`kspec.rules.schema`, each at its field's line), then the findings
  that are not reported: suppressed by an annotation on their object
  (:mod:`kspec.rules.suppress`), ignored by the configuration
  (:mod:`kspec.rules.config`) or recorded in the baseline
  (:mod:`kspec.rules.baseline`). Those are kept in the result's
  ``suppressed`` as ``(finding, by, reason)``; load warnings (files skipped,
  a ``kspec.dev/ignore`` without a reason) go to its ``warnings``.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Iterable

import attrs

from kspec.errors import Diagnostic, KspecError
from kspec.loading.manifests import read_text
from kspec.loading.yamlio import load_documents
from kspec.rules import baseline as baselines
from kspec.rules import schema
from kspec.rules.config import Config
from kspec.rules.engine import CheckResult, Finding
from kspec.rules.rule import Rule
from kspec.rules.suppress import object_suppressions

BASELINE = "baseline"
CONFIG = "config"


@attrs.frozen
class Extras:
    """The strictness rules' target release, the configuration and the baseline of one run."""

    rules: tuple[Rule, ...]
    kube_version: str | None = None
    config: Config = Config()
    baseline_file: str | None = None
    recorded: Counter | None = None

    def _rule(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def claim(self, fatal: list[Diagnostic]) -> tuple[list[Diagnostic], list[Finding]]:
        """``fatal`` load diagnostics minus those that are removed-apiVersion findings, and those findings."""
        rule = self._rule(schema.REMOVED)
        if rule is None:
            return fatal, []
        kept, findings = [], []
        for diagnostic in fatal:
            finding = None
            if diagnostic.field.rpartition(".")[2] == "apiVersion":
                finding = _removed_finding(rule, diagnostic, self.kube_version)
            if finding is None:
                kept.append(diagnostic)
            else:
                findings.append(finding)
        return kept, findings

    def complete(self, result: CheckResult, loaded) -> CheckResult:
        """``result`` with the schema findings added and the unreported findings moved aside."""
        enabled = [r for r in self.rules if schema.is_schema_rule(r)]
        problems = schema.check_records(loaded.objects, [r.id for r in enabled], self.kube_version)
        findings = list(result.findings) + schema_findings(problems, {r.id: r for r in enabled})
        warnings = [d for d in loaded.diagnostics if d.severity == "warning"]
        shown, suppressed, notes = _suppress(findings, loaded.objects, self.rules)
        warnings.extend(notes)
        shown, ignored = self._configured(shown)
        suppressed.extend(ignored)
        if self.recorded is not None:
            shown, known, stale = baselines.split_baselined(shown, self.recorded, self.baseline_file)
            suppressed.extend((f, BASELINE, self.baseline_file) for f in known)
            if stale:
                warnings.append(Diagnostic(self.baseline_file, None, f"{stale} recorded findings are no longer "
                                           "found; rewrite the baseline with --write-baseline", severity="warning"))
        shown.sort(key=sort_key)
        return attrs.evolve(result, findings=tuple(shown), suppressed=tuple(suppressed), warnings=tuple(warnings))

    def _configured(self, findings: list[Finding]) -> tuple[list[Finding], list[tuple]]:
        if not self.config.ignore:
            return findings, []
        shown, ignored = [], []
        for finding in findings:
            entry = self.config.ignored(finding)
            if entry is None:
                shown.append(finding)
            else:
                ignored.append((finding, CONFIG, entry.reason))
        return shown, ignored


def extras_for(rules: Iterable[Rule], config: Config, *, baseline: str | None = None, writing: bool = False,
               kube_version: str | None = None) -> Extras:
    """The run's :class:`Extras`: ``baseline`` (else the configuration's) is read
    now, unless the run writes a new one; the target release (``kube_version``,
    else the configuration's) is checked now."""
    rules = tuple(rules)
    version = kube_version or config.kubernetes_version
    if any(schema.is_schema_rule(r) for r in rules):
        schema.schemas_for(version)
    baseline_file = baseline or (config.path(config.baseline) if config.baseline else None)
    recorded = baselines.read_baseline(baseline_file) if baseline_file and not writing else None
    return Extras(rules, version, config, baseline_file, recorded)


def own_files(config: Config, *paths: str | None) -> tuple[str, ...]:
    """Names of kspec's own files that a folder scan must not read as manifests."""
    names = {".kspec.yaml", ".kspec.yml"}
    names.update(os.path.basename(p) for p in (config.file, *paths) if p)
    return tuple(sorted(names))


def sort_key(f: Finding) -> tuple:
    return (f.file, f.line or 0, f.rule_id, f.kind, f.namespace or "", f.name)


def _removed_finding(rule: Rule, diagnostic: Diagnostic, kube_version: str | None) -> Finding | None:
    manifest = _manifest_at(diagnostic.file, diagnostic.line)
    problem = schema.removed_version_problem(manifest, kube_version) if manifest else None
    if problem is None or problem[0] != schema.REMOVED:
        return None
    metadata = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    return Finding(rule_id=rule.id, severity=rule.severity, status="fail", kind=str(manifest.get("kind")),
                   namespace=metadata.get("namespace"), name=str(metadata.get("name", "?")), file=diagnostic.file,
                   line=diagnostic.line, message=problem[1], api_version=str(manifest.get("apiVersion")))


def _documents(file: str) -> list:
    """The documents of ``file`` (none for stdin or a file that no longer reads)."""
    if file == "<stdin>":
        return []
    try:
        return list(load_documents(read_text(file)))
    except (OSError, KspecError):
        return []


def _manifest_at(file: str, line: int | None) -> dict:
    """The manifest (a document, or an item of a ``kind: List``) that holds ``line``."""
    if line is None:
        return {}
    found: dict = {}
    for document in _documents(file):
        if document.line > line or not isinstance(document.value, dict):
            continue
        found = document.value
        items = found.get("items") if found.get("kind") == "List" else None
        if isinstance(items, list):
            starts = [document.line_of(("items", i)) for i in range(len(items))]
            inside = [i for i, start in enumerate(starts) if start <= line]
            found = items[inside[-1]] if inside and isinstance(items[inside[-1]], dict) else {}
    return found


def schema_findings(problems: list, rules: dict[str, Rule]) -> list[Finding]:
    """Findings for strictness problems, each at the line of its field (read again, once per file)."""
    by_file: dict[str, list] = {}
    for problem in problems:
        by_file.setdefault(problem.record.source.file, []).append(problem)
    findings = []
    for file, found in by_file.items():
        locate = _Locator(file)
        for problem in found:
            record, rule = problem.record, rules[problem.rule_id]
            findings.append(Finding(
                rule_id=rule.id, severity=rule.severity, status="fail", kind=record.kind,
                namespace=record.metadata.namespace, name=record.metadata.name, file=file,
                line=locate.line(record.source.line, problem.path), message=problem.message,
                api_version=str(record.raw.get("apiVersion", ""))))
    return findings


class _Locator:
    """The line of a field of an object of one file (the object's own line when the file cannot be read again)."""

    def __init__(self, file: str):
        self.documents = None
        self.file = file

    def line(self, start: int | None, path: tuple) -> int | None:
        if start is None:
            return None
        if self.documents is None:
            self.documents = _documents(self.file)
        for document in self.documents:
            if document.line == start:
                return document.line_of(path)
            items = document.value.get("items") if isinstance(document.value, dict) else None
            if document.line < start and isinstance(items, list):
                for index in range(len(items)):
                    if document.line_of(("items", index)) == start:
                        return document.line_of(("items", index) + path)
        return start


def _suppress(findings: list[Finding], records: Iterable, rules: Iterable[Rule]) -> tuple[list, list, list]:
    """``(shown, suppressed, warnings)``: findings whose object suppresses their rule move aside."""
    rules = tuple(rules)
    by_object = {}
    for record in records:
        raw = getattr(record, "raw", None)
        if isinstance(raw, dict):
            key = (record.source.file, record.kind, record.metadata.namespace, record.metadata.name)
            by_object.setdefault(key, record)
    declared: dict = {}
    warnings: list[Diagnostic] = []
    for key, record in by_object.items():
        chosen, problems = object_suppressions(record.raw, rules)
        if chosen:
            declared[key] = chosen
        warnings.extend(Diagnostic(record.source.file, record.source.line, p, "metadata.annotations",
                                   severity="warning") for p in problems)
    if not declared:
        return findings, [], warnings
    shown, suppressed = [], []
    for finding in findings:
        chosen = declared.get((finding.file, finding.kind, finding.namespace, finding.name), {})
        suppression = chosen.get(finding.rule_id)
        if suppression is None:
            shown.append(finding)
        else:
            suppressed.append((finding, suppression.annotation, suppression.reason))
    return shown, suppressed, warnings


def suppressed_summary(suppressed: Iterable[tuple]) -> str:
    """One line for stderr: how many findings were not reported, and why."""
    counts = Counter(by for _, by, _ in suppressed)
    if not counts:
        return ""
    parts = ", ".join(f"{n} by {by}" for by, n in sorted(counts.items()))
    return f"not reported: {sum(counts.values())} findings ({parts})\n"


__all__ = ["Extras", "extras_for", "own_files", "schema_findings", "sort_key", "suppressed_summary"]
