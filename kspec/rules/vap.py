"""ValidatingAdmissionPolicy (and its bindings) as kspec rules.

A team's real ``admissionregistration.k8s.io/v1`` policies run offline, as the
API server would run them on a CREATE of each manifest
(``k8s.io/apiserver/pkg/admission/plugin/policy/validating``):

* each validation of a policy becomes one rule (id ``<policy>``, or
  ``<policy>/<index>`` when it has several; ``<binding>/`` in front when the
  policy has several bindings);
* ``matchConstraints`` (``resourceRules`` with ``apiGroups``/``resources``/
  ``resourceNames``/``scope`` and ``operations`` including CREATE,
  ``excludeResourceRules``, ``namespaceSelector``, ``objectSelector``) decide
  which objects it applies to; a binding's ``matchResources`` narrows that
  (unset ``resourceRules`` there do not constrain, as upstream documents);
* ``matchConditions`` must all hold, ``variables`` are bound in order to
  ``variables.<name>``, ``message``/``messageExpression`` make the message
  (upstream default ``failed expression: <expression>``);
* the binding's ``validationActions`` give the severity (Deny: error, Warn:
  warning, Audit: info); a policy without any binding is run as if bound with
  Deny, because the point offline is to see what it would reject;
* ``failurePolicy: Ignore`` drops evaluation errors; ``Fail`` (the default)
  reports them;
* ``paramRef`` names a loaded object of the policy's ``paramKind`` (by name,
  in ``paramRef.namespace`` or the checked object's namespace);
  ``parameterNotFoundAction: Allow`` skips when it is missing.

Not modelled offline: ``authorizer`` (needs a live API server; a policy using
it is rejected with that reason), ``oldObject`` (always null: every object is
created), ``paramRef.selector`` (rejected), ``auditAnnotations`` (ignored).
"""

from __future__ import annotations

from typing import Iterable

from kspec.errors import Diagnostic, SelectorError
from kspec.api.labels import Selector, selector_from_dict
from kspec.api.objects import Source
from kspec.rules.cel import CelCompileError, compile_expression
from kspec.rules.ruleset import Match, ParamRef, ResourceRule, Rule, RuleFileError

_ACTION_SEVERITY = {"Deny": "error", "Warn": "warning", "Audit": "info"}
_RANK = {"error": 2, "warning": 1, "info": 0}

# Upstream ``meta.UnsafeGuessKindToResource`` keeps these unpluralised.
_UNPLURALIZED_SUFFIXES = ("endpoints",)


def kind_to_resource(kind: str) -> str:
    """The plural resource for a kind, as ``meta.UnsafeGuessKindToResource`` guesses it.

    ``Pod`` → ``pods``, ``Ingress`` → ``ingresses``, ``NetworkPolicy`` →
    ``networkpolicies``, ``Endpoints`` → ``endpoints``.
    """
    singular = kind.lower()
    if not singular:
        return ""
    if singular.endswith(_UNPLURALIZED_SUFFIXES):
        return singular
    if singular.endswith("s"):
        return singular + "es"
    if singular.endswith("y"):
        return singular[:-1] + "ies"
    return singular + "s"


def api_group(api_version: str) -> str:
    """``apps/v1`` → ``apps``; ``v1`` → ``""`` (the core group)."""
    return api_version.rpartition("/")[0] if "/" in (api_version or "") else ""


def resource_rule_matches(rule: ResourceRule, group: str, resource: str, name: str) -> bool:
    """Upstream ``RuleMatcher``: group, resource (``*`` and ``*/*`` match all), name."""
    groups_ok = "*" in rule.api_groups or group in rule.api_groups
    resources_ok = any(r in ("*", "*/*", resource) for r in rule.resources)
    names_ok = not rule.resource_names or name in rule.resource_names
    return groups_ok and resources_ok and names_ok


class _Problems:
    def __init__(self):
        self.items: list[Diagnostic] = []

    def add(self, source: Source, message: str, field: str = "") -> None:
        self.items.append(Diagnostic(source.file, source.line, message, field))


def _str_list(value) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _resource_rules(items, source: Source, field: str, problems: _Problems, *, require_create: bool):
    rules = []
    for index, item in enumerate(items or ()):
        if not isinstance(item, dict):
            problems.add(source, f"{field}[{index}] must be a mapping", field)
            continue
        operations = _str_list(item.get("operations"))
        if require_create and operations and not ({"CREATE", "*"} & set(operations)):
            continue  # offline every object is created; rules only for UPDATE/DELETE never apply
        scope = item.get("scope", "*")
        rules.append((ResourceRule(
            api_groups=_str_list(item.get("apiGroups")) or ("*",),
            resources=_str_list(item.get("resources")) or ("*",),
            resource_names=_str_list(item.get("resourceNames")),
        ), scope))
    return rules


def _selector(value, source: Source, field: str, problems: _Problems) -> Selector | None:
    if value is None:
        return None
    try:
        return selector_from_dict(value)
    except SelectorError as err:
        problems.add(source, str(err), field)
        return None


def _match(spec, source: Source, field: str, problems: _Problems, *, binding: bool) -> Match | None:
    """A Match from ``matchConstraints`` (policy) or ``matchResources`` (binding)."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        problems.add(source, f"{field} must be a mapping", field)
        return None
    include = _resource_rules(spec.get("resourceRules"), source, f"{field}.resourceRules", problems,
                              require_create=True)
    exclude = _resource_rules(spec.get("excludeResourceRules"), source, f"{field}.excludeResourceRules", problems,
                              require_create=False)
    if not binding and not spec.get("resourceRules"):
        problems.add(source, "matchConstraints.resourceRules is required", f"{field}.resourceRules")
    if spec.get("resourceRules") and not include:
        include = [(ResourceRule(resources=()), "*")]  # only non-CREATE operations: matches nothing
    return Match(
        resource_rules=tuple(r for r, _ in include),
        exclude_resource_rules=tuple(r for r, _ in exclude),
        label_selector=_selector(spec.get("objectSelector"), source, f"{field}.objectSelector", problems)
        or Selector.everything(),
        namespace_selector=_selector(spec.get("namespaceSelector"), source, f"{field}.namespaceSelector", problems),
    )


def _named_expressions(items, source: Source, field: str, problems: _Problems) -> tuple[tuple[str, str], ...]:
    out = []
    for index, item in enumerate(items or ()):
        if not isinstance(item, dict) or not isinstance(item.get("expression"), str):
            problems.add(source, f"{field}[{index}] needs a name and an expression", field)
            continue
        name = item.get("name", f"{index}")
        _compile(item["expression"], source, f"{field}[{index}].expression", problems)
        out.append((str(name), item["expression"]))
    return tuple(out)


def _compile(expression, source: Source, field: str, problems: _Problems) -> bool:
    try:
        compile_expression(expression)
    except CelCompileError as err:
        problems.add(source, f"CEL error at expression {err.line}:{err.column}: {err.message}", field)
        return False
    return True


def _severity(actions: Iterable[str]) -> str:
    severities = [_ACTION_SEVERITY[a] for a in actions if a in _ACTION_SEVERITY]
    return max(severities, key=_RANK.__getitem__) if severities else "error"


def _param_ref(policy_spec, binding_spec, source: Source, problems: _Problems) -> ParamRef | None:
    param_kind = policy_spec.get("paramKind")
    ref = (binding_spec or {}).get("paramRef")
    if not param_kind or not ref:
        return None
    if not isinstance(ref, dict) or not isinstance(param_kind, dict):
        problems.add(source, "paramRef and paramKind must be mappings", "spec.paramRef")
        return None
    if ref.get("selector") is not None or not ref.get("name"):
        problems.add(source, "paramRef.selector is not supported offline; name the parameter object",
                     "spec.paramRef")
        return None
    return ParamRef(kind=str(param_kind.get("kind", "")), name=str(ref["name"]), namespace=ref.get("namespace"),
                    allow_missing=ref.get("parameterNotFoundAction") == "Allow")


def _policy_rules(policy: dict, source: Source, bindings: list[tuple[dict, Source]], problems: _Problems):
    name = str((policy.get("metadata") or {}).get("name", ""))
    spec = policy.get("spec") or {}
    validations = spec.get("validations") or []
    if not isinstance(validations, list) or not validations:
        problems.add(source, f"ValidatingAdmissionPolicy {name}: spec.validations must be a non-empty list",
                     "spec.validations")
        return []
    start = len(problems.items)
    match = _match(spec.get("matchConstraints"), source, "spec.matchConstraints", problems, binding=False)
    variables = _named_expressions(spec.get("variables"), source, "spec.variables", problems)
    conditions = _named_expressions(spec.get("matchConditions"), source, "spec.matchConditions", problems)
    ignore = spec.get("failurePolicy") == "Ignore"
    for index, v in enumerate(validations):
        if not isinstance(v, dict) or not isinstance(v.get("expression"), str):
            problems.add(source, f"spec.validations[{index}] needs an expression", f"spec.validations[{index}]")
            continue
        _compile(v["expression"], source, f"spec.validations[{index}].expression", problems)
        if isinstance(v.get("messageExpression"), str):
            _compile(v["messageExpression"], source, f"spec.validations[{index}].messageExpression", problems)
    if len(problems.items) > start or match is None:
        return []
    uses = bindings or [({}, source)]
    rules = []
    for binding, binding_source in uses:
        binding_spec = binding.get("spec") or {}
        also = _match(binding_spec.get("matchResources"), binding_source, "spec.matchResources", problems,
                      binding=True)
        params = _param_ref(spec, binding_spec, binding_source, problems)
        prefix = f"{(binding.get('metadata') or {}).get('name')}/" if len(uses) > 1 else ""
        for index, v in enumerate(validations):
            suffix = f"/{index}" if len(validations) > 1 else ""
            rules.append(Rule(
                id=f"{prefix}{name}{suffix}",
                expression=v["expression"],
                severity=_severity(binding_spec.get("validationActions") or ["Deny"]),
                title=f"ValidatingAdmissionPolicy {name}" + (f" validation {index}" if suffix else ""),
                rationale=f"admission policy {name} ({source})",
                match=match,
                message=v.get("message"),
                message_expression=v.get("messageExpression"),
                variables=variables,
                match_conditions=conditions,
                also_match=(also,) if also is not None else (),
                params=params,
                ignore_errors=ignore,
                origin="ValidatingAdmissionPolicy",
                source=source,
            ))
    return rules


def rules_from_admission(objects: Iterable[tuple[dict, Source]]) -> list[Rule]:
    """Rules from ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding manifests.

    Other ``admissionregistration.k8s.io`` kinds are an error (webhooks call
    servers kspec cannot reach). A binding naming no loaded policy is an error.
    """
    problems = _Problems()
    policies: list[tuple[dict, Source]] = []
    bindings: dict[str, list[tuple[dict, Source]]] = {}
    for obj, source in objects:
        kind = obj.get("kind")
        if kind == "ValidatingAdmissionPolicy":
            policies.append((obj, source))
        elif kind == "ValidatingAdmissionPolicyBinding":
            policy_name = (obj.get("spec") or {}).get("policyName")
            bindings.setdefault(str(policy_name), []).append((obj, source))
        else:
            problems.add(source, f"{kind} is not a rule: only ValidatingAdmissionPolicy and its bindings are", "kind")
    names = {str((p.get("metadata") or {}).get("name")) for p, _ in policies}
    for policy_name, items in bindings.items():
        if policy_name not in names:
            for _, source in items:
                problems.add(source, f"binding names policy {policy_name!r}, which is not among the rule files",
                             "spec.policyName")
    rules = []
    for policy, source in policies:
        name = str((policy.get("metadata") or {}).get("name"))
        rules.extend(_policy_rules(policy, source, bindings.get(name, []), problems))
    if problems.items:
        raise RuleFileError(problems.items)
    return rules


def applies(match: Match, raw: dict, namespace_labels) -> bool:
    """Whether a policy-style ``match`` selects the object ``raw``.

    ``namespace_labels`` is the labels of the object's namespace (None for a
    cluster-scoped object); upstream matches a Namespace object's own labels,
    and lets other cluster-scoped objects pass the namespace selector.
    """
    metadata = raw.get("metadata") or {}
    group = api_group(str(raw.get("apiVersion", "")))
    resource = kind_to_resource(str(raw.get("kind", "")))
    name = str(metadata.get("name", ""))
    if match.resource_rules and not any(resource_rule_matches(r, group, resource, name) for r in match.resource_rules):
        return False
    if any(resource_rule_matches(r, group, resource, name) for r in match.exclude_resource_rules):
        return False
    if match.namespace_selector is not None:
        labels = metadata.get("labels") or {} if raw.get("kind") == "Namespace" else namespace_labels
        if labels is not None and not match.namespace_selector.matches(labels):
            return False
    return True
