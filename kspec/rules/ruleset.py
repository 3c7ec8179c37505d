"""Rules as records, and the YAML rule-file parser.

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

import attrs
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kspec.errors import Diagnostic, LoadError, SelectorError
from kspec.api.labels import Selector, selector_from_dict
from kspec.api.objects import Source
from kspec.rules.cel import CelCompileError, compile_expression, result_type
from kspec.loading.yamlio import YamlError, load_documents

SEVERITIES = ("error", "warning", "info")
TEMPORALS = ("always", "eventually_always")
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
                "temporal"}
_MATCH_FIELDS = {"kinds", "namespaces", "excludeNamespaces", "labelSelector"}


class RuleFileError(LoadError):
    """Rule files that could not be read; carries one diagnostic per problem."""


def severity_rank(severity: str) -> int:
    """``info`` 0, ``warning`` 1, ``error`` 2."""
    return {"info": 0, "warning": 1, "error": 2}[severity]


@attrs.frozen
class ResourceRule:
    """A ValidatingAdmissionPolicy ``resourceRules`` entry, reduced to what offline matching needs."""

    api_groups: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    resource_names: tuple[str, ...] = ()


@attrs.frozen
class Match:
    """Which objects a rule applies to.

    ``kinds`` empty means every kind; ``resource_rules`` (from a
    ValidatingAdmissionPolicy) match on API group and plural resource instead;
    ``label_selector`` is on the object's labels and ``namespace_selector`` on
    its namespace's labels.
    """

    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    exclude_namespaces: tuple[str, ...] = ()
    label_selector: Selector = Selector.everything()
    namespace_selector: Selector | None = None
    resource_rules: tuple[ResourceRule, ...] = ()
    exclude_resource_rules: tuple[ResourceRule, ...] = ()


@attrs.frozen
class ParamRef:
    """A binding's ``paramRef``: the object of ``kind`` named ``name``.

    ``namespace`` None means the namespace of the object being checked (for a
    namespaced ``paramKind``), as upstream. ``allow_missing`` is
    ``parameterNotFoundAction: Allow``.
    """

    kind: str
    name: str
    namespace: str | None = None
    allow_missing: bool = False


@attrs.frozen
class Rule:
    """One rule: ``expression`` must hold for every object ``match`` selects.

    ``variables`` (ValidatingAdmissionPolicy ``spec.variables``) are evaluated
    in order into ``variables.<name>``; ``match_conditions`` must all be true
    for the rule to apply; ``also_match`` narrows ``match`` further (a
    binding's ``matchResources``); ``params`` says which loaded object is
    ``params`` (a binding's ``paramRef``); when
    ``ignore_errors`` (``failurePolicy: Ignore``) an evaluation error is no
    finding. ``origin`` says where the rule came from.
    """

    id: str
    expression: str
    severity: str = "error"
    title: str = ""
    rationale: str = ""
    match: Match = Match()
    message: str | None = None
    message_expression: str | None = None
    temporal: str = "always"
    variables: tuple[tuple[str, str], ...] = ()
    match_conditions: tuple[tuple[str, str], ...] = ()
    also_match: tuple[Match, ...] = ()
    params: "ParamRef | None" = None
    ignore_errors: bool = False
    origin: str = "kspec"
    source: Source = attrs.field(default=Source(), eq=False)

    def default_message(self) -> str:
        """Upstream's message when a validation has none: ``failed expression: <expr>``."""
        return self.message or f"failed expression: {self.expression.strip()}"


@attrs.frozen
class RuleSet:
    """Rules in a stable order, unique by id."""

    rules: tuple[Rule, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)

    def get(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def select(self, only: Iterable[str] = (), skip: Iterable[str] = ()) -> "RuleSet":
        """The rules named in ``only`` (all when empty) minus ``skip``.

        An unknown id in either is a :class:`RuleFileError` listing the known ids.
        """
        only, skip = tuple(only), tuple(skip)
        unknown = [i for i in only + skip if self.get(i) is None]
        if unknown:
            known = ", ".join(sorted(self.ids))
            raise RuleFileError([Diagnostic("--only/--skip", None, f"unknown rule id {u!r}; known ids: {known}")
                                 for u in unknown])
        chosen = [r for r in self.rules if (not only or r.id in only) and r.id not in skip]
        return RuleSet(tuple(chosen))

    def __add__(self, other: "RuleSet") -> "RuleSet":
        return merge([self, other])

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)


def merge(sets: Iterable[RuleSet]) -> RuleSet:
    """One set from several; two rules with one id is an error naming both places."""
    seen: dict[str, Rule] = {}
    problems = []
    for ruleset in sets:
        for rule in ruleset.rules:
            if rule.id in seen:
                problems.append(Diagnostic(rule.source.file, rule.source.line,
                                           f"duplicate rule id {rule.id!r}: also defined at {seen[rule.id].source}",
                                           "id"))
            else:
                seen[rule.id] = rule
    if problems:
        raise RuleFileError(problems)
    return RuleSet(tuple(seen.values()))


# ---------------------------------------------------------------------------
# Reading YAML with positions
# ---------------------------------------------------------------------------


def _child(node, part):
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return value
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def _node(node, path: tuple):
    for part in path:
        child = _child(node, part)
        if child is None:
            return node
        node = child
    return node


def _line(node, path: tuple) -> int:
    return _node(node, path).start_mark.line + 1


def _expression_position(node, path: tuple, line: int, column: int) -> tuple[int, int]:
    """File line and column of ``line:column`` inside the expression scalar at ``path``.

    Block scalars (``|``, ``>``) start on the line after the indicator; plain
    and quoted scalars start where the node starts (the column is then
    shifted by the node's column, plus one for a quote).
    """
    scalar = _node(node, path)
    mark = scalar.start_mark
    if isinstance(scalar, ScalarNode) and scalar.style in ("|", ">"):
        return mark.line + 1 + line, column
    if line == 1:
        quote = 1 if isinstance(scalar, ScalarNode) and scalar.style in ("'", '"') else 0
        return mark.line + 1, mark.column + quote + column
    return mark.line + line, column


class _Reader:
    """Parses the documents of one rule file, collecting diagnostics."""

    def __init__(self, file: str):
        self.file = file
        self.rules: list[Rule] = []
        self.admission: list[tuple[dict, Source]] = []
        self.problems: list[Diagnostic] = []

    def error(self, node, path: tuple, message: str, field: str = "") -> None:
        self.problems.append(Diagnostic(self.file, _line(node, path), message, field))

    def read(self, text: str) -> None:
        try:
            documents = list(load_documents(text))
        except YamlError as err:
            self.problems.append(Diagnostic(self.file, err.line, err.message))
            return
        if not documents:
            self.problems.append(Diagnostic(self.file, None, "no rules in this file (it is empty)"))
        for document in documents:
            self.read_document(document.value, document.node)

    def read_document(self, value, node) -> None:
        if isinstance(value, dict) and str(value.get("apiVersion", "")).startswith("admissionregistration.k8s.io/"):
            self.admission.append((value, Source(self.file, node.start_mark.line + 1)))
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
            source=Source(self.file, _line(root, path)),
        ))

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
        """Compile now so that errors carry the file, the line and the position."""
        if not isinstance(expression, str) or not expression.strip():
            self.error(root, path, f"rule {rule_id}: {field} must be a non-empty CEL string", field)
            return
        try:
            program = compile_expression(expression)
        except CelCompileError as err:
            line, column = _expression_position(root, path, err.line, err.column)
            self.problems.append(Diagnostic(
                self.file, line,
                f"rule {rule_id}: CEL error at expression {err.line}:{err.column} (file column {column}): "
                f"{err.message}", field))
            return
        kind = result_type(program)
        if kind not in (want, "dyn"):
            self.error(root, path, f"rule {rule_id}: {field} must evaluate to {want}, not {kind}", field)


def read_rule_text(text: str, file: str = "<memory>") -> tuple[list[Rule], list[tuple[dict, Source]], list[Diagnostic]]:
    """Rules, admission objects and problems of one file's text."""
    reader = _Reader(file)
    reader.read(text)
    return reader.rules, reader.admission, reader.problems


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


def load_rules(paths: Iterable) -> RuleSet:
    """Every rule in ``paths`` (files or folders), admission policies included.

    Raises :class:`RuleFileError` with every problem found in every file.
    """
    from kspec.rules.vap import rules_from_admission

    rules: list[Rule] = []
    admission: list[tuple[dict, Source]] = []
    problems: list[Diagnostic] = []
    for file in rule_files(paths):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Diagnostic(file, None, getattr(err, "strerror", None) or str(err)))
            continue
        found, objects, issues = read_rule_text(text, file)
        rules.extend(found)
        admission.extend(objects)
        problems.extend(issues)
    if admission:
        try:
            rules.extend(rules_from_admission(admission))
        except RuleFileError as err:
            problems.extend(err.diagnostics)
    if problems:
        raise RuleFileError(problems)
    return merge([RuleSet(tuple(rules))])


def builtin_rules() -> RuleSet:
    """The rule library shipped in ``checks/``."""
    return load_rules([CHECKS_DIR])
