"""Rule test suites for users: ``kspec test-rules DIR``.

Written like the policy tests users know (Kyverno's ``kyverno-test.yaml``,
Gatekeeper's suites): each file under DIR with ``kind: RuleTest`` is a suite::

    apiVersion: kspec.dev/v1
    kind: RuleTest
    name: image policy
    rules: [../rules/images.yaml]    # rule files/folders, relative to this file;
                                     # absent: the built-in library
    cases:
    - name: latest tag is rejected
      objects:                       # what the expectations are about:
      - apiVersion: v1               #   inline manifests,
        kind: Pod                    #   or paths of manifest files
        metadata: {name: web}
        spec: {containers: [{name: app, image: "nginx:latest"}]}
      inventory:                     # other objects in the cluster (optional);
      - fixtures/services.yaml       #   seen by cross-object rules, not judged
      expect:                        # rule id: pass | fail | error | skip
        image-tag-latest-or-missing: fail
        requests-missing: fail

``fail``: the rule fails on at least one case object; ``error``: it cannot be
evaluated on one; ``pass``: it applies to at least one case object and holds on
all of them; ``skip``: it applies to none.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from kspec.errors import Diagnostic, Diagnostics, KspecError, LoadError
from kspec.rules.engine import SELECTOR_RULE, Finding, is_selector_mismatch, check
from kspec.rules.rule import RuleFileError, RuleSet
from kspec.rules.ruleset import builtin_rules, load_rules
from kspec.loading.manifests import load_objects, parse_object
from kspec.loading.yamlio import YamlError, load_documents

OUTCOMES = ("pass", "fail", "error", "skip")
_SUITE_FIELDS = {"apiVersion", "kind", "name", "rules", "cases"}
_CASE_FIELDS = {"name", "objects", "inventory", "expect"}


class RuleTestError(LoadError):
    """A test file that cannot be run; carries one diagnostic per problem."""


@attrs.frozen
class CaseResult:
    """One expectation of one case: ``expected`` against ``actual``."""

    file: str
    line: int | None
    suite: str
    case: str
    rule_id: str
    expected: str
    actual: str
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    @property
    def title(self) -> str:
        return f"{self.suite} / {self.case} / {self.rule_id}"


def find_test_files(paths) -> list[str]:
    """``*.yaml``/``*.yml`` under folders (recursive, sorted) whose text declares ``kind: RuleTest``."""
    files = []
    for path in map(Path, paths):
        candidates = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        for candidate in candidates:
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                if not path.is_dir():
                    files.append(str(candidate))
                continue
            if not path.is_dir() or "RuleTest" in text:
                files.append(str(candidate))
    return files


def _objects(items, path: tuple, base: Path, problems: Diagnostics):
    """Records of an ``objects``/``inventory`` list, plus selector-mismatch findings' sources."""
    records, mismatches = [], []
    if items is None:
        return records, mismatches
    if not isinstance(items, list):
        problems.at(path, f"{path[-1]} must be a list", path[-1])
        return records, mismatches
    for index, item in enumerate(items):
        line = problems.locate(path + (index,))
        if isinstance(item, str):
            loaded = load_objects([str(base / item)])
            for d in loaded.diagnostics:
                if is_selector_mismatch(d):
                    mismatches.append((d, None))
                elif d.severity == "error" and not d.message.startswith("duplicate object"):
                    problems.extend([d])
            records.extend(loaded.objects)
        elif isinstance(item, dict):
            try:
                records.append(parse_object(item, file=problems.file, line=line))
            except LoadError as err:
                for d in err.diagnostics:
                    if is_selector_mismatch(d):
                        mismatches.append((d, item))
                    else:
                        problems.add(line, d.message, d.field)
        else:
            problems.add(line, "an object must be a manifest mapping or a file path", path[-1])
    return records, mismatches


def _outcome(findings, evaluated: bool) -> str:
    if any(f.status == "fail" for f in findings):
        return "fail"
    if findings:
        return "error"
    return "pass" if evaluated else "skip"


def _run_case(case, path, base: Path, rules: RuleSet, suite: str, problems: Diagnostics):
    start = len(problems)
    for key in sorted(set(case) - _CASE_FIELDS, key=str):
        problems.at(path + (key,), f"unknown field {key!r} in case", key)
    name = str(case.get("name", path[-1]))
    objects, mismatches = _objects(case.get("objects"), path + ("objects",), base, problems)
    inventory, more = _objects(case.get("inventory"), path + ("inventory",), base, problems)
    expect = case.get("expect")
    if not isinstance(expect, dict) or not expect:
        problems.at(path, "a case needs expect: {rule id: outcome}", "expect")
        return []
    for rule_id, outcome in expect.items():
        if rules.get(str(rule_id)) is None:
            problems.at(path + ("expect", rule_id),
                        f"unknown rule id {rule_id!r}; known ids: {', '.join(sorted(rules.ids))}", "expect")
        if outcome not in OUTCOMES:
            problems.at(path + ("expect", rule_id), f"outcome must be one of {', '.join(OUTCOMES)}", "expect")
    if len(problems) > start:
        return []
    unique = objects + inventory
    results = []
    for rule_id, expected in expect.items():
        rule = rules.get(str(rule_id))
        outcome = check(objects, (rule,), unique=unique)
        findings = outcome.findings
        evaluated = outcome.evaluations > 0
        if rule.id == SELECTOR_RULE and mismatches:
            evaluated = True
            findings += tuple(_mismatch_finding(rule, d, item) for d, item in mismatches)
        results.append(CaseResult(problems.file, problems.locate(path), suite, name, rule.id, str(expected),
                                  _outcome(findings, evaluated), tuple(findings)))
    return results


def _mismatch_finding(rule, diagnostic, manifest) -> Finding:
    metadata = (manifest or {}).get("metadata") or {}
    return Finding(rule_id=rule.id, severity=rule.severity, status="fail", kind=str((manifest or {}).get("kind", "?")),
                   namespace=metadata.get("namespace", "default"), name=str(metadata.get("name", "?")),
                   file=diagnostic.file, line=diagnostic.line, message=diagnostic.message)


def run_file(file: str, *, default_rules: RuleSet | None = None) -> list[CaseResult]:
    """Every expectation of one test file; raises :class:`RuleTestError` on a bad file."""
    collected = Diagnostics(file)
    try:
        text = Path(file).read_text(encoding="utf-8")
        documents = list(load_documents(text))
    except (OSError, UnicodeDecodeError) as err:
        raise RuleTestError([Diagnostic(file, None, getattr(err, "strerror", None) or str(err))]) from None
    except YamlError as err:
        raise RuleTestError([Diagnostic(file, err.line, err.message)]) from None
    base = Path(file).parent
    results: list[CaseResult] = []
    for document in documents:
        suite = document.value
        if not isinstance(suite, dict) or suite.get("kind") != "RuleTest":
            continue
        problems = collected.located(document.line_of)
        for key in sorted(set(suite) - _SUITE_FIELDS, key=str):
            problems.at((key,), f"unknown field {key!r} in RuleTest", key)
        try:
            if suite.get("rules"):
                paths = suite["rules"] if isinstance(suite["rules"], list) else [suite["rules"]]
                rules = load_rules([base / str(p) for p in paths])
            else:
                rules = default_rules if default_rules is not None else builtin_rules()
        except RuleFileError as err:
            problems.extend(err.diagnostics)
            continue
        cases = suite.get("cases")
        if not isinstance(cases, list) or not cases:
            problems.at(("cases",), "a RuleTest needs a list of cases", "cases")
            continue
        name = str(suite.get("name", Path(file).stem))
        for index, case in enumerate(cases):
            if not isinstance(case, dict):
                problems.at(("cases", index), "a case must be a mapping")
                continue
            results.extend(_run_case(case, ("cases", index), base, rules, name, problems))
    collected.raise_if_any(RuleTestError)
    if not results:
        raise RuleTestError([Diagnostic(file, None, "no RuleTest documents with cases in this file")])
    return results


def run(paths) -> list[CaseResult]:
    """Every expectation in every test file under ``paths``; bad files raise with all problems."""
    files = find_test_files(paths)
    if not files:
        raise RuleTestError([Diagnostic(", ".join(map(str, paths)), None, "no RuleTest files found")])
    results, problems = [], Diagnostics()
    builtin = None
    for file in files:
        try:
            if builtin is None:
                builtin = builtin_rules()
            results.extend(run_file(file, default_rules=builtin))
        except KspecError as err:
            problems.extend(getattr(err, "diagnostics", ()) or [Diagnostic(file, None, str(err))])
    problems.raise_if_any(RuleTestError)
    return results
