"""The YAML rule-file parser: rule files to :class:`~kspec.rules.rule.RuleSet`.

A rule file holds one or more YAML documents; each document is one rule (a
mapping with ``id``), a mapping ``{rules: [...]}``, a list of rules, or a
``ValidatingAdmissionPolicy`` / ``ValidatingAdmissionPolicyBinding`` (handed to
:mod:`kspec.rules.vap`). A rule::

    id: service-selects-nothing          # lower-case, digits, '-', '.', '/'
    title: Service selects no pods
    severity: warning                    # error | warning | info
    rationale: Why this matters, with the upstream behaviour it relies on.
    match:                               # all optional
      kinds: [Service]                   # empty or absent: every kind
      namespaces: [prod]                 # empty or absent: every namespace
      excludeNamespaces: [kube-system]
      labelSelector: {matchLabels: {tier: web}}   # on the object's labels
    expression: "workloadsSelectedBy(object).size() > 0"   # CEL, must hold
    message: Service selects no pods     # or messageExpression (CEL string)
    temporal: always                     # or eventually_always (for the explorer)
    equivalents:                         # checks of other linters for the same problem
      kube-linter: [dangling-service]    # kube-linter, checkov, kube-score, polaris

Every expression is compiled when the file is read; a syntax or type error is
a :class:`RuleFileError` whose diagnostic names the file, the line, and the
position inside the expression. Unknown fields are errors (a typo would
otherwise silently change a rule).
"""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path
from typing import Iterable

from yaml.nodes import ScalarNode

from kspec.api.labels import Selector, selector_from_dict
from kspec.api.objects import Source
from kspec.errors import Diagnostic, Diagnostics, SelectorError
from kspec.loading.yamlio import YamlError, load_documents, node_at, node_line
from kspec.rules.cel import CelCompileError, compile_expression, result_type
from kspec.rules.rule import (
    SEVERITIES,
    TEMPORALS,
    TOOLS,
    Match,
    Rule,
    RuleFileError,
    RuleSet,
    merge,
)
from kspec.rules.vap import AdmissionObject, admission_object, rules_from_admission, unbound_policies


def _checks_dir() -> Path:
    """``checks/`` beside the package (source tree, editable install), else where
    a regular install puts it (``<prefix>/share/kspec/checks``, see pyproject.toml)."""
    source = Path(__file__).resolve().parents[2] / "checks"
    if source.is_dir():
        return source
    return Path(sysconfig.get_path("data")) / "share" / "kspec" / "checks"


CHECKS_DIR = _checks_dir()
_ID = re.compile(r"^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$")
_RULE_FIELDS = {"id", "title", "severity", "rationale", "match", "expression", "message", "messageExpression",
                "temporal", "equivalents"}
_MATCH_FIELDS = {"kinds", "namespaces", "excludeNamespaces", "labelSelector"}


# ---------------------------------------------------------------------------
# Reading YAML with positions
# ---------------------------------------------------------------------------


def _expression_position(node, path: tuple, line: int, column: int) -> tuple[int, int]:
    """File line and column of ``line:column`` inside the expression scalar at ``path``.

    Block scalars (``|``, ``>``) start on the line after the indicator; plain
    and quoted scalars start where the node starts (the column is then
    shifted by the node's column, plus one for a quote).
    """
    scalar = node_at(node, path)
    mark = scalar.start_mark
    if isinstance(scalar, ScalarNode) and scalar.style in ("|", ">"):
        return mark.line + 1 + line, column
    if line == 1:
        quote = 1 if isinstance(scalar, ScalarNode) and scalar.style in ("'", '"') else 0
        return mark.line + 1, mark.column + quote + column
    return mark.line + line, column


def _is_admission(value) -> bool:
    return isinstance(value, dict) and str(value.get("apiVersion", "")).startswith("admissionregistration.k8s.io/")


class _Reader:
    """Parses the documents of one rule file, collecting diagnostics."""

    def __init__(self, file: str, compile_now: bool = True):
        self.file = file
        self.compile_now = compile_now
        self.rules: list[Rule] = []
        self.admission: list[AdmissionObject] = []
        self.problems = Diagnostics(file)

    def error(self, node, path: tuple, message: str, field: str = "") -> None:
        self.problems.add(node_line(node, path), message, field)

    def read(self, text: str) -> None:
        try:
            documents = list(load_documents(text))
        except YamlError as err:
            self.problems.add(err.line, err.message)
            return
        if not documents:
            self.problems.add(None, "no rules in this file (it is empty)")
        for document in documents:
            self.read_document(document.value, document.node)

    def read_document(self, value, node) -> None:
        if _is_admission(value):
            self.admission.append(admission_object(value, self.file, node))
        elif isinstance(value, dict) and value.get("apiVersion") == "v1" and value.get("kind") == "List":
            items = value.get("items")
            for index, item in enumerate(items if isinstance(items, list) else ()):
                if _is_admission(item):
                    self.admission.append(admission_object(item, self.file, node, ("items", index)))
                else:
                    self.error(node, ("items", index), "a List in a rule file holds ValidatingAdmissionPolicies "
                                                       "and their bindings", f"items[{index}]")
        elif isinstance(value, dict) and "rules" in value and "id" not in value:
            extra = sorted(set(value) - {"rules", "apiVersion", "kind"})
            if extra:
                self.error(node, (extra[0],), f"unknown field {extra[0]!r} next to 'rules'", extra[0])
            items = value["rules"]
            if not isinstance(items, list):
                self.error(node, ("rules",), "'rules' must be a list of rules", "rules")
                return
            for index, item in enumerate(items):
                self.read_rule(item, node, ("rules", index))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.read_rule(item, node, (index,))
        elif isinstance(value, dict):
            self.read_rule(value, node, ())
        else:
            self.error(node, (), "expected a rule (a mapping with 'id'), a list of rules, or {rules: [...]}")

    def read_rule(self, value, root, path: tuple) -> None:
        if not isinstance(value, dict):
            self.error(root, path, "a rule must be a mapping")
            return
        start = len(self.problems)
        for key in sorted(set(value) - _RULE_FIELDS, key=str):
            self.error(root, path + (key,), f"unknown field {key!r} in rule", str(key))
        rule_id = value.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            self.error(root, path + ("id",), "rule id must be a string of lower-case letters, digits, '-', '.', '/'",
                       "id")
            return
        severity = value.get("severity", "error")
        if severity not in SEVERITIES:
            self.error(root, path + ("severity",), f"severity must be one of {', '.join(SEVERITIES)}", "severity")
        temporal = value.get("temporal", "always")
        if temporal not in TEMPORALS:
            self.error(root, path + ("temporal",), f"temporal must be one of {', '.join(TEMPORALS)}", "temporal")
        for key in ("title", "rationale", "message"):
            if key in value and not isinstance(value[key], str):
                self.error(root, path + (key,), f"{key} must be a string", key)
        if "message" in value and "messageExpression" in value:
            self.error(root, path + ("messageExpression",), "give message or messageExpression, not both",
                       "messageExpression")
        match = self.read_match(value.get("match"), root, path + ("match",))
        equivalents = self.read_equivalents(value.get("equivalents"), root, path + ("equivalents",))
        expression = value.get("expression")
        self.compile(rule_id, expression, root, path + ("expression",), "expression", "bool")
        if "messageExpression" in value:
            self.compile(rule_id, value["messageExpression"], root, path + ("messageExpression",),
                         "messageExpression", "string")
        if len(self.problems) > start:
            return
        self.rules.append(Rule(
            id=rule_id,
            expression=expression,
            severity=severity,
            title=value.get("title") or rule_id,
            rationale=(value.get("rationale") or "").strip(),
            match=match,
            message=value.get("message"),
            message_expression=value.get("messageExpression"),
            temporal=temporal,
            equivalents=equivalents,
            source=Source(self.file, node_line(root, path)),
        ))

    def read_equivalents(self, value, root, path: tuple) -> tuple:
        """``{tool: [check, ...]}`` for tools of :data:`TOOLS`, in that order."""
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.error(root, path, f"equivalents must be a mapping from a tool ({', '.join(TOOLS)}) to check ids",
                       "equivalents")
            return ()
        for tool in sorted(set(value) - set(TOOLS), key=str):
            self.error(root, path + (tool,), f"unknown tool {tool!r} in equivalents; tools: {', '.join(TOOLS)}",
                       f"equivalents.{tool}")
        found = []
        for tool in TOOLS:
            checks = value.get(tool)
            if checks is None:
                continue
            checks = [checks] if isinstance(checks, str) else checks
            if not isinstance(checks, list) or not checks or not all(isinstance(c, str) and c for c in checks):
                self.error(root, path + (tool,), f"equivalents.{tool} must be a check id or a list of them",
                           f"equivalents.{tool}")
                continue
            found.append((tool, tuple(checks)))
        return tuple(found)

    def read_match(self, value, root, path: tuple) -> Match:
        if value is None:
            return Match()
        if not isinstance(value, dict):
            self.error(root, path, "match must be a mapping", "match")
            return Match()
        for key in sorted(set(value) - _MATCH_FIELDS, key=str):
            self.error(root, path + (key,), f"unknown field {key!r} in match", f"match.{key}")
        lists = {}
        for key in ("kinds", "namespaces", "excludeNamespaces"):
            items = value.get(key) or []
            if isinstance(items, str):
                items = [items]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                self.error(root, path + (key,), f"match.{key} must be a list of strings", f"match.{key}")
                items = []
            lists[key] = tuple(i for i in items if i != "*")
        selector = Selector.everything()
        if value.get("labelSelector") is not None:
            try:
                selector = selector_from_dict(value["labelSelector"])
            except SelectorError as err:
                self.error(root, path + ("labelSelector",), str(err), "match.labelSelector")
        return Match(kinds=lists["kinds"], namespaces=lists["namespaces"],
                     exclude_namespaces=lists["excludeNamespaces"], label_selector=selector)

    def compile(self, rule_id: str, expression, root, path: tuple, field: str, want: str) -> None:
        """Compile now so that errors carry the file, the line and the position
        (unless ``compile_now`` is off: then the engine compiles on first use)."""
        if not isinstance(expression, str) or not expression.strip():
            self.error(root, path, f"rule {rule_id}: {field} must be a non-empty CEL string", field)
            return
        if not self.compile_now:
            return
        try:
            program = compile_expression(expression)
        except CelCompileError as err:
            line, column = _expression_position(root, path, err.line, err.column)
            self.problems.add(line, f"rule {rule_id}: CEL error at expression {err.line}:{err.column} "
                                    f"(file column {column}): {err.message}", field)
            return
        kind = result_type(program)
        if kind not in (want, "dyn"):
            self.error(root, path, f"rule {rule_id}: {field} must evaluate to {want}, not {kind}", field)


def read_rule_text(text: str, file: str = "<memory>", *,
                   compile_now: bool = True) -> tuple[list[Rule], list[AdmissionObject], list[Diagnostic]]:
    """Rules, admission objects and problems of one file's text; ``compile_now``
    compiles and type-checks every expression (see :func:`load_rules`)."""
    reader = _Reader(file, compile_now)
    reader.read(text)
    return reader.rules, reader.admission, reader.problems.items


def rule_files(paths: Iterable) -> list[str]:
    """Files named, and ``*.yaml``/``*.yml`` directly inside folders named (sorted)."""
    files = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(str(p) for p in sorted(path.iterdir()) if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            files.append(str(path))
    return files


def load_rules(paths: Iterable, *, compile_now: bool = True) -> RuleSet:
    """Every rule in ``paths`` (files or folders), admission policies included.

    Raises :class:`RuleFileError` with every problem found in every file.
    ``compile_now`` (the default) compiles and type-checks every expression
    while reading, so that an error names its file, line and column; without
    it, the engine compiles each expression when first evaluated.
    """
    rules: list[Rule] = []
    admission: list[AdmissionObject] = []
    problems = Diagnostics()
    for file in rule_files(paths):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            problems.add(None, getattr(err, "strerror", None) or str(err), file=file)
            continue
        found, objects, issues = read_rule_text(text, file, compile_now=compile_now)
        rules.extend(found)
        admission.extend(objects)
        problems.extend(issues)
    warnings: tuple = ()
    if admission:
        try:
            rules.extend(rules_from_admission(admission))
        except RuleFileError as err:
            problems.extend(err.diagnostics)
        warnings = tuple(unbound_policies(admission))
    problems.raise_if_any(RuleFileError)
    return merge([RuleSet(tuple(rules), warnings)])


def builtin_rules() -> RuleSet:
    """The rule library shipped in ``checks/``. Its expressions are compiled
    when a check first evaluates them, not while reading (a run compiles only
    what its objects call for); tests compile and type-check every one of them."""
    return load_rules([CHECKS_DIR], compile_now=False)
