"""Rules as records: what a rule file or an admission policy becomes.

A :class:`Rule` says that a CEL ``expression`` must hold for every object its
:class:`Match` selects; a :class:`RuleSet` keeps rules in a stable order, unique
by id. :mod:`kspec.rules.ruleset` reads them from YAML, :mod:`kspec.rules.vap`
from ValidatingAdmissionPolicies, and :mod:`kspec.rules.engine` evaluates them.
"""

from __future__ import annotations

from typing import Iterable

import attrs

from kspec.api.labels import Selector
from kspec.api.objects import Source
from kspec.errors import Diagnostic, LoadError

SEVERITIES = ("error", "warning", "info")
TOOLS = ("kube-linter", "checkov", "kube-score", "polaris")
"""Other linters whose checks a rule file can name as ``equivalents``."""
TEMPORALS = ("always", "eventually_always")


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
    finding. ``origin`` says where the rule came from; ``equivalents`` names
    the checks of other linters (:data:`TOOLS`) that look for the same problem.
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
    equivalents: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (tool, its check ids), in TOOLS order
    source: Source = attrs.field(default=Source(), eq=False)

    def default_message(self) -> str:
        """Upstream's message when a validation has none: ``failed expression: <expr>``."""
        return self.message or f"failed expression: {self.expression.strip()}"


@attrs.frozen
class RuleSet:
    """Rules in a stable order, unique by id."""

    rules: tuple[Rule, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()  # what loading found worth saying (a policy no binding names)

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
        return RuleSet(tuple(chosen), self.warnings)

    def __add__(self, other: "RuleSet") -> "RuleSet":
        return merge([self, other])

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):
        return iter(self.rules)


def merge(sets: Iterable[RuleSet]) -> RuleSet:
    """One set from several; two rules with one id is an error naming both places."""
    sets = list(sets)
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
    return RuleSet(tuple(seen.values()), tuple(w for ruleset in sets for w in ruleset.warnings))
