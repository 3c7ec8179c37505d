"""Evaluating rules over loaded objects: Findings.

For every loaded object (duplicates included: each file is checked) and every
rule whose ``match`` selects it, the rule's CEL expression is evaluated with

* ``object``: the manifest after API defaulting (the record's ``.raw``, what a
  ValidatingAdmissionPolicy sees);
* ``cluster``: every loaded object (one per identity, its last definition:
  what applying the files in order leaves) as a map from kind to the
  list of manifests, ``cluster.Service``, ``cluster.Deployment``... (a kind
  with no objects is absent: use ``cluster.?Kind.orValue([])`` or ``has()``);
* ``source``: ``{file, line, at}`` where the object was read (``at`` is
  ``file:line``);
* ``pod``: for a Pod, the Pod; for a workload (ReplicationController,
  ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob), its pod
  template as a Pod-shaped map ``{apiVersion, kind, metadata, spec}`` with the
  workload's namespace (``podTemplate(object)``, computed once); else null;
* ``ref``: the object's identity ``{apiVersion, kind, metadata: {name,
  namespace}}``; the cluster helper functions accept it in place of
  ``object`` and look the object up, which spares converting the whole
  manifest on every call;
* for admission policies also ``oldObject`` (null), ``request`` (a CREATE),
  ``namespaceObject``, ``params`` and ``variables``.

``true`` holds; ``false`` is a *fail* finding; an evaluation error (missing
field, wrong type) or a non-boolean result is an *error* finding with
severity ``error`` for that rule and object, and the other rules still run.

The same rules serve the explorer: :func:`rule_as_predicate` turns a rule into
``Cluster -> bool``; the rule's ``temporal`` (``always`` or
``eventually_always``) says how the explorer should use it.
"""

from __future__ import annotations

import gc
import os
import re
import time
from collections import Counter
from typing import Callable, Iterable

import attrs

from kspec.api.validation import SELECTOR_MISMATCH
from kspec.loading.manifests import DUPLICATE_OBJECT, load_objects
from kspec.loading.yamlio import YamlError, load_documents
from kspec.api.objects import object_key
from kspec.rules import functions as fn
from kspec.rules import vap
from kspec.rules.cel import (Bindings, CelCompileError, CelEvaluationError, Program, compile_expression,
                             memory_budget, mentions_cluster)
from kspec.rules.rule import Rule, RuleSet, severity_rank
from kspec.rules.schema import is_schema_rule


@attrs.frozen
class Finding:
    """One rule that does not hold for one object.

    ``status`` is ``fail`` (the expression was false) or ``error`` (it could
    not be evaluated on this object).
    """

    rule_id: str
    severity: str
    status: str
    kind: str
    namespace: str | None
    name: str
    file: str
    line: int | None
    message: str
    api_version: str = ""

    @property
    def object_ref(self) -> str:
        """``Kind/name``, or ``Kind/namespace/name`` outside ``default``."""
        if self.namespace and self.namespace != "default":
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    @property
    def location(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def to_json(self) -> dict:
        return {
            "rule": self.rule_id,
            "severity": self.severity,
            "status": self.status,
            "object": {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace,
                       "name": self.name},
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


@attrs.frozen
class CheckResult:
    """Findings of a rule set over a set of objects."""

    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    objects: int
    evaluations: int = 0
    seconds: dict = attrs.field(factory=dict, eq=False)  # rule id -> time spent evaluating it
    suppressed: tuple = ()  # (finding, by what, reason): not reported (kspec.rules.postcheck)
    warnings: tuple = ()  # load and suppression warnings (Diagnostic, severity warning)

    def failing(self, threshold: str = "info") -> tuple[Finding, ...]:
        """Findings at or above ``threshold`` severity."""
        rank = severity_rank(threshold)
        return tuple(f for f in self.findings if severity_rank(f.severity) >= rank)

    def passed(self, threshold: str = "info") -> bool:
        return not self.failing(threshold)

    def by_rule(self) -> dict[str, dict]:
        """``{rule id: {severity, title, fail, error}}`` for every rule checked."""
        counts = Counter((f.rule_id, f.status) for f in self.findings)
        return {
            rule.id: {"severity": rule.severity, "title": rule.title, "fail": counts[(rule.id, "fail")],
                      "error": counts[(rule.id, "error")]}
            for rule in self.rules
        }


# ---------------------------------------------------------------------------
# Compiled rules
# ---------------------------------------------------------------------------


@attrs.define
class _Compiled:
    """A rule ready to evaluate. Its expression and message are compiled when
    first needed (the message on the first failure): a run compiles only what
    its objects call for, which is most of a small run's start-up."""

    rule: Rule
    variables: tuple
    conditions: tuple
    needs_admission: bool
    uses_cluster: bool
    reads_cluster: bool
    selects_all: bool = False  # no namespace or label condition: every object of its kinds
    _expression: Program | None = None
    _message: Program | None = None

    def expression(self) -> Program:
        if self._expression is None:
            self._expression = compile_expression(self.rule.expression)
        return self._expression

    def message(self) -> Program | None:
        if self._message is None and self.rule.message_expression:
            self._message = compile_expression(self.rule.message_expression)
        return self._message


# kspec functions that answer from the call's arguments alone (the Kubernetes
# CEL libraries, selectors, podTemplate) or from the list of definitions
# (definitions); every other kspec function reads the cluster as applied.
_LOCAL_FUNCTIONS = frozenset({
    "quantity", "isQuantity", "sign", "isLessThan", "isGreaterThan", "compareTo", "add", "sub", "isInteger",
    "asInteger", "asApproximateFloat", "isSorted", "sum", "min", "max", "sort", "selectorMatches", "mapSelectorMatches",
    "podTemplate", "definitions",
})
_CLUSTER_READS = re.compile(r"\b(cluster|" + "|".join(sorted(set(fn.FUNCTIONS) - _LOCAL_FUNCTIONS)) + r")\b")


def reads_cluster(rule: Rule) -> bool:
    """Whether the rule asks about other objects of the cluster as applied
    (``cluster`` or a cluster helper other than ``definitions``)."""
    texts = [rule.expression, rule.message_expression or "", *(text for _, text in rule.variables),
             *(text for _, text in rule.match_conditions)]
    return any(_CLUSTER_READS.search(text) for text in texts)


def _compile(rule: Rule) -> _Compiled:
    if isinstance(rule, vap.AdmissionRule):  # compiled in the API server's environment, judged by vap.judge
        return _Compiled(rule, (), (), needs_admission=True, uses_cluster=False, reads_cluster=False)
    variables = tuple((name, compile_expression(text)) for name, text in rule.variables)
    conditions = tuple((name, compile_expression(text)) for name, text in rule.match_conditions)
    sources = [rule.expression, rule.message_expression or "", *(t for _, t in rule.variables),
               *(t for _, t in rule.match_conditions)]
    return _Compiled(
        rule=rule,
        variables=variables,
        conditions=conditions,
        needs_admission=rule.origin != "kspec" or bool(variables) or rule.params is not None,
        uses_cluster=any(mentions_cluster(source) for source in sources),
        reads_cluster=reads_cluster(rule),
        selects_all=not (rule.match.namespaces or rule.match.exclude_namespaces) and rule.match.label_selector.empty,
    )


def _kind_index(compiled: Iterable[_Compiled]) -> tuple[dict[str, list], list]:
    by_kind: dict[str, list] = {}
    any_kind: list = []
    for c in compiled:
        if c.rule.match.kinds:
            for kind in c.rule.match.kinds:
                by_kind.setdefault(kind, []).append(c)
        else:
            any_kind.append(c)
    return by_kind, any_kind


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------


class _Context:
    """Per-run state: the scope, namespace labels, the ``cluster`` value."""

    def __init__(self, scope: fn.Scope):
        self.scope = scope
        self._cluster = None
        self._namespaces = {r.metadata.name: r.raw for r in scope.unique if r.kind == "Namespace"}
        self.effective = {id(record) for record in scope.unique}  # the records the cluster holds

    def cluster_value(self) -> dict:
        if self._cluster is None:
            grouped: dict[str, list] = {}
            for record in self.scope.unique:
                grouped.setdefault(record.kind, []).append(record.raw)
            self._cluster = grouped
        return self._cluster

    def namespace_object(self, namespace: str | None) -> dict | None:
        """The Namespace manifest (synthesised when not loaded, with its automatic name label)."""
        if namespace is None:
            return None
        if namespace in self._namespaces:
            return self._namespaces[namespace]
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace}}}

    def namespace_labels(self, namespace: str | None):
        ns = self.namespace_object(namespace)
        return None if ns is None else (ns.get("metadata") or {}).get("labels") or {}

    def param(self, rule: Rule, record):
        ref = rule.params
        namespace = ref.namespace if ref.namespace is not None else record.metadata.namespace
        for candidate in self.scope.unique:
            if candidate.kind == ref.kind and candidate.metadata.name == ref.name and (
                    candidate.metadata.namespace in (namespace, None)):
                return candidate.raw
        return None


def _selected(rule: Rule, record, context: _Context) -> bool:
    match = rule.match
    namespace = record.metadata.namespace
    if match.namespaces and namespace not in match.namespaces:
        return False
    if namespace in match.exclude_namespaces:
        return False
    if not match.label_selector.matches(record.metadata.labels):
        return False
    return True


def _source_value(record) -> dict:
    source = record.source
    line = source.line or 0
    return {"file": source.file, "line": line, "at": f"{source.file}:{source.line}" if source.line else source.file}


def _ref(record) -> dict:
    raw = record.raw
    metadata = {"name": record.metadata.name}
    if record.metadata.namespace is not None:
        metadata["namespace"] = record.metadata.namespace
    return {"apiVersion": raw.get("apiVersion", ""), "kind": record.kind, "metadata": metadata}


def _pod(record) -> dict | None:
    raw = record.raw
    if raw.get("kind") == "Pod" or fn.template_of(raw) is not None:
        return fn.pod_template(raw)
    return None


def _request(record) -> dict:
    raw = record.raw
    api_version = str(raw.get("apiVersion", ""))
    group = vap.api_group(api_version)
    version = api_version.rpartition("/")[2]
    return {
        "kind": {"group": group, "version": version, "kind": record.kind},
        "resource": {"group": group, "version": version, "resource": vap.kind_to_resource(record.kind)},
        "name": record.metadata.name,
        "namespace": record.metadata.namespace or "",
        "operation": "CREATE",
        "userInfo": {"username": "kspec", "groups": ["system:authenticated"]},
        "dryRun": True,
    }


def _finding(rule: Rule, record, status: str, message: str) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=rule.severity if status == "fail" else "error",
        status=status,
        kind=record.kind,
        namespace=record.metadata.namespace,
        name=record.metadata.name,
        file=record.source.file,
        line=record.source.line,
        message=message,
        api_version=str(record.raw.get("apiVersion", "")),
    )


def _message(c: _Compiled, data) -> str:
    """``messageExpression`` if it gives a non-empty string, else ``message``, else the default."""
    message = c.message()
    if message is not None:
        try:
            text = message.evaluate(data)
            if isinstance(text, str) and text.strip():
                return text.strip()
        except CelEvaluationError:
            pass
    return c.rule.default_message().strip()


def _variables_ok(c: _Compiled, data: dict) -> str | None:
    """Bind admission ``variables`` in order; the error of one the expression needs, if any."""
    values: dict = {}
    data["variables"] = values
    failed: dict[str, str] = {}
    for name, program in c.variables:
        try:
            values[name] = program.evaluate(data)
        except CelEvaluationError as err:
            failed[name] = str(err)
    for name, error in failed.items():
        if re.search(rf"\bvariables\.{re.escape(name)}\b", c.rule.expression):
            return f"variable {name}: {error}"
    return None


def _evaluate(c: _Compiled, record, shared: Bindings | None, context: _Context) -> Finding | None:
    rule = c.rule
    if isinstance(rule, vap.AdmissionRule):
        verdict = vap.judge(rule, record, context)
        if verdict is None:
            return None
        finding = _finding(rule, record, verdict.status, verdict.message)
        return attrs.evolve(finding, severity=verdict.severity, line=verdict.line or finding.line)
    if c.needs_admission:
        data = {"object": record.raw, "oldObject": None, "source": _source_value(record), "pod": _pod(record),
                "ref": _ref(record), "request": _request(record),
                "namespaceObject": context.namespace_object(record.metadata.namespace)}
        if c.uses_cluster:
            data["cluster"] = context.cluster_value()
        if rule.params is not None:
            data["params"] = context.param(rule, record)
            if data["params"] is None:
                if rule.params.allow_missing:
                    return None
                return _finding(rule, record, "error",
                                f"no params found: {rule.params.kind} {rule.params.name} is not loaded")
        try:
            for name, program in c.conditions:
                if program.evaluate(data) is not True:
                    return None
        except CelEvaluationError as err:
            return None if rule.ignore_errors else _finding(rule, record, "error", f"match condition: {err}")
        problem = _variables_ok(c, data)
        if problem is not None:
            return None if rule.ignore_errors else _finding(rule, record, "error", problem)
        bindings = data
    else:
        bindings = shared
    try:
        value = c.expression().evaluate(bindings)
    except CelEvaluationError as err:
        return None if rule.ignore_errors else _finding(rule, record, "error", f"evaluation error: {err}")
    if value is True:
        return None
    if value is False:
        return _finding(rule, record, "fail", _message(c, bindings))
    return _finding(rule, record, "error", f"expression returned {type(value).__name__}, not bool")


def effective_objects(records) -> tuple:
    """One record per identity: the last definition, as applying every file in
    order leaves it (``kubectl apply`` of a later definition replaces the
    earlier object), in the order of those last definitions."""
    last: dict = {}
    for record in reversed(records):
        last.setdefault(object_key(record), record)
    return tuple(reversed(last.values()))


def check(records: Iterable, rules: RuleSet | Iterable[Rule], *, unique: Iterable | None = None,
          parallel: bool = False) -> CheckResult:
    """Evaluate ``rules`` over ``records`` (in input order, duplicates included).

    A definition that a later one of the same identity replaces is checked by
    the rules about the object alone (and by ``duplicate-object``), not by
    rules that read the cluster (:func:`reads_cluster`): the object it
    defines is not in the cluster that applying the files leaves, and its
    neighbours there are not the ones it was written with.

    ``unique`` (default: :func:`effective_objects`) is what the cluster
    helper functions and ``cluster`` see. ``parallel`` lets a large input
    (:data:`PARALLEL_MIN_RECORDS`) be checked by one forked process per core,
    with the same result.
    """
    records = tuple(records)
    rules = tuple(rules)
    if unique is None:
        unique = effective_objects(records)
    compiled = [_compile(rule) for rule in rules if not is_schema_rule(rule)]  # schema rules: kspec.rules.postcheck
    by_kind, any_kind = _kind_index(compiled)
    context = _Context(fn.Scope(unique, records))
    seconds = dict.fromkeys((rule.id for rule in rules), 0.0)
    collecting = gc.isenabled()
    gc.disable()  # the loop allocates many short-lived dicts and no cycles; full collections only cost time
    try:
        findings, evaluations = _run(records, by_kind, any_kind, context, seconds, parallel)
    finally:
        if collecting:
            gc.enable()
    findings.sort(key=lambda f: (f.file, f.line or 0, f.rule_id, f.kind, f.namespace or "", f.name))
    return CheckResult(tuple(findings), rules, len(records), evaluations, seconds)


PARALLEL_MIN_RECORDS = 2_000
"""Inputs at least this large are checked by one process per core: forked, so
the records, compiled rules and indexes are shared, not copied or pickled."""

_forked: list = []  # what the forked workers check: (slices, by_kind, any_kind, context, rule ids)


def check_workers(count: int) -> int:
    """How many processes check ``count`` records: one per core for large inputs, each with a fair share."""
    if count < PARALLEL_MIN_RECORDS:
        return 1
    return max(1, min(os.cpu_count() or 1, count // (PARALLEL_MIN_RECORDS // 2)))


def _run(records, by_kind, any_kind, context: _Context, seconds: dict, parallel: bool) -> tuple[list[Finding], int]:
    """Every applicable rule on every record; with ``parallel``, large inputs in
    consecutive slices, one per core, whose findings are concatenated in input
    order (the same list a single process makes)."""
    workers = check_workers(len(records)) if parallel else 1
    context_mp = None
    if workers > 1:
        import multiprocessing  # deferred: start-up time (only large inputs are checked in parallel)

        try:
            context_mp = multiprocessing.get_context("fork")
        except ValueError:
            context_mp = None
        if multiprocessing.current_process().daemon:  # a pool's worker may not start processes
            context_mp = None
    if context_mp is None:
        return _run_slice(records, by_kind, any_kind, context, seconds)
    bounds = [len(records) * i // workers for i in range(workers + 1)]
    slices = [records[start:stop] for start, stop in zip(bounds, bounds[1:])]
    _forked[:] = [(slices, by_kind, any_kind, context, tuple(seconds))]
    try:
        with context_mp.Pool(workers - 1) as pool:
            pending = pool.map_async(_run_forked, range(1, workers), chunksize=1)
            findings, evaluations = _run_slice(slices[0], by_kind, any_kind, context, seconds)
            for part, count, spent in pending.get():
                findings.extend(Finding(*values) for values in part)
                evaluations += count
                for rule_id, elapsed in spent.items():
                    seconds[rule_id] += elapsed
    finally:
        _forked.clear()
    return findings, evaluations


_FINDING_FIELDS = tuple(field.name for field in attrs.fields(Finding))


def _run_forked(index: int) -> tuple[list[tuple], int, dict]:
    """Slice ``index`` of the forked job, in a worker process. Findings travel
    back as tuples of their fields: pickling records costs five times as much."""
    slices, by_kind, any_kind, context, rule_ids = _forked[0]
    seconds = dict.fromkeys(rule_ids, 0.0)
    findings, evaluations = _run_slice(slices[index], by_kind, any_kind, context, seconds)
    rows = [tuple(getattr(f, name) for name in _FINDING_FIELDS) for f in findings]
    return rows, evaluations, {rule_id: elapsed for rule_id, elapsed in seconds.items() if elapsed}


def _run_slice(records, by_kind, any_kind, context: _Context, seconds: dict) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    evaluations = 0
    effective = context.effective
    candidates_of: dict[str, list] = {}  # kind -> the rules its objects may need
    clock = time.perf_counter
    with fn.bind(context.scope), memory_budget():
        for record in records:
            candidates = candidates_of.get(record.kind)
            if candidates is None:
                candidates = candidates_of[record.kind] = by_kind.get(record.kind, []) + any_kind
            replaced = id(record) not in effective
            applicable = [c for c in candidates if not (replaced and c.reads_cluster)
                          and (c.selects_all or _selected(c.rule, record, context))]
            if not applicable:
                continue
            shared = None
            if not all(c.needs_admission for c in applicable):
                data = {"object": record.raw, "source": _source_value(record), "pod": _pod(record),
                        "ref": _ref(record)}
                if any(c.uses_cluster for c in applicable):
                    data["cluster"] = context.cluster_value()
                try:
                    shared = Bindings(data)
                except CelEvaluationError as err:
                    findings.extend(_finding(c.rule, record, "error", f"object cannot be read by CEL: {err}")
                                    for c in applicable)
                    continue
            evaluations += len(applicable)
            # One evaluation per rule: one CEL list of all of an object's rules would cost a third,
            # but cel-cpp then answers wrongly when two of them use cel.bind (capabilities-not-dropped
            # before limits-missing turns a pass into a fail).
            for c in applicable:
                started = clock()
                finding = _evaluate(c, record, shared, context)
                seconds[c.rule.id] += clock() - started
                if finding is not None:
                    findings.append(finding)
    return findings, evaluations


def check_cluster(cluster, rules: RuleSet | Iterable[Rule]) -> CheckResult:
    """:func:`check` over a :class:`~kspec.loading.cluster.Cluster`'s objects."""
    return check(cluster.objects, rules, unique=cluster.objects)


def rule_as_predicate(rule: Rule) -> Callable[..., bool]:
    """The rule as a property of a whole cluster state, for the explorer.

    Returns ``holds(cluster) -> bool``: true when the rule has no finding (no
    fail and no evaluation error) on any object of ``cluster``. The rule is
    compiled now, so a bad expression fails here, not during exploration.
    Use ``rule.temporal`` to choose the property kind (``always``: an
    invariant; ``eventually_always``: convergence).
    """
    compiled = _compile(rule)
    if not isinstance(rule, vap.AdmissionRule):
        compiled.expression()
        compiled.message()

    def holds(cluster) -> bool:
        return not check_cluster(cluster, (rule,)).findings

    holds.__name__ = rule.id
    holds.__doc__ = rule.title or rule.id
    return holds


# ---------------------------------------------------------------------------
# From paths: load diagnostics that are findings
# ---------------------------------------------------------------------------

SELECTOR_RULE = "rc-selector-matches-template"
DUPLICATE_RULE = "duplicate-object"


def _is_duplicate(diagnostic, later: set) -> bool:
    return (diagnostic.file, diagnostic.line) in later and diagnostic.code == DUPLICATE_OBJECT


def is_selector_mismatch(diagnostic) -> bool:
    """The API server's "selector does not match template labels" rejection."""
    return diagnostic.code == SELECTOR_MISMATCH


def _object_at(file: str, line: int | None) -> dict:
    """The manifest whose document contains ``line`` (for findings made from load diagnostics)."""
    try:
        with open(file, encoding="utf-8") as handle:
            documents = list(load_documents(handle.read()))
    except (OSError, UnicodeDecodeError, YamlError):
        return {}
    found = {}
    for document in documents:
        if line is not None and document.line <= line and isinstance(document.value, dict):
            found = document.value
    return found


def _selector_finding(rule: Rule, diagnostic) -> Finding:
    manifest = _object_at(diagnostic.file, diagnostic.line)
    metadata = manifest.get("metadata") or {}
    return Finding(
        rule_id=rule.id, severity=rule.severity, status="fail", kind=str(manifest.get("kind", "?")),
        namespace=metadata.get("namespace", "default"), name=str(metadata.get("name", "?")),
        file=diagnostic.file, line=diagnostic.line, message=f"{rule.message or rule.title}: {diagnostic.message}",
        api_version=str(manifest.get("apiVersion", "")),
    )


def check_paths(paths, rules: RuleSet, *, stdin=None, options=None, extras=None) -> tuple[CheckResult | None, tuple]:
    """Load ``paths`` and check them: ``(result, fatal diagnostics)``.

    Duplicate identities are not fatal: the ``duplicate-object`` rule reports
    them. A controller whose selector does not match its template (which the
    loader rejects, as the API server does) becomes a finding of
    ``rc-selector-matches-template`` when that rule is checked. Every other
    load problem is fatal: the result is None and the diagnostics say why.
    ``options`` (:class:`~kspec.loading.manifests.InputOptions`) say how to
    read the inputs; ``extras`` (:class:`~kspec.rules.postcheck.Extras`) adds
    the schema findings and moves suppressed findings aside. A large input
    is checked on every core (``check(..., parallel=True)``).
    """
    loaded = load_objects(paths, stdin=stdin, options=options)
    later = {(b.source.file, b.source.line) for _, b in loaded.duplicates}
    selector_rule = rules.get(SELECTOR_RULE) if isinstance(rules, RuleSet) else None
    fatal, extra = [], []
    for diagnostic in loaded.diagnostics:
        if diagnostic.severity != "error" or _is_duplicate(diagnostic, later):
            continue
        if selector_rule is not None and is_selector_mismatch(diagnostic):
            extra.append(_selector_finding(selector_rule, diagnostic))
        else:
            fatal.append(diagnostic)
    if extras is not None:
        fatal, claimed = extras.claim(fatal)
        extra.extend(claimed)
    if fatal:
        return None, tuple(fatal)
    result = check(loaded.objects, rules, parallel=True)
    if extra:
        findings = sorted(result.findings + tuple(extra),
                          key=lambda f: (f.file, f.line or 0, f.rule_id, f.kind, f.namespace or "", f.name))
        result = attrs.evolve(result, findings=tuple(findings), objects=result.objects + len(extra))
    if extras is not None:
        result = extras.complete(result, loaded)
    return result, ()


__all__ = ["CelCompileError", "CheckResult", "Finding", "check", "check_cluster", "check_paths", "rule_as_predicate"]
