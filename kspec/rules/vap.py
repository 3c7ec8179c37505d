"""ValidatingAdmissionPolicy (and its bindings) as kspec rules.

A team's real ``admissionregistration.k8s.io/v1`` policies run offline, as the
API server would run them on a CREATE of each manifest
(``k8s.io/apiserver/pkg/admission/plugin/policy/validating``):

* each validation of a policy becomes one rule (id ``<policy>``, or
  ``<policy>/<index>`` when it has several; ``<binding>/`` in front when the
  policy has several bindings);
* ``matchConstraints`` (required, as upstream; ``resourceRules`` with ``apiGroups``/``resources``/
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

from kspec.errors import Diagnostics, SelectorError
from kspec.api.labels import Selector, selector_from_dict
from kspec.api.objects import Source
from kspec.rules.cel import CelCompileError, compile_expression
from kspec.rules.rule import Match, ParamRef, ResourceRule, Rule, RuleFileError, severity_rank

_ACTION_SEVERITY = {"Deny": "error", "Warn": "warning", "Audit": "info"}

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


# Field types of the two kinds, as their Go structs decode JSON (admissionregistration/v1):
# ``str`` a string, ``[x]`` a list of x, a dict a mapping whose listed fields have
# those types (other fields are not checked here), ``dict`` any mapping. Null is
# always accepted, as Go decodes it to the zero value.
_RULE_SHAPE = {"apiGroups": [str], "apiVersions": [str], "operations": [str], "resources": [str],
               "resourceNames": [str], "scope": str}
_SELECTOR_SHAPE = {"matchLabels": dict, "matchExpressions": [{"key": str, "operator": str, "values": [str]}]}
_MATCH_SHAPE = {"namespaceSelector": _SELECTOR_SHAPE, "objectSelector": _SELECTOR_SHAPE,
                "resourceRules": [_RULE_SHAPE], "excludeResourceRules": [_RULE_SHAPE], "matchPolicy": str}
_NAMED_SHAPE = {"name": str, "expression": str}
_METADATA_SHAPE = {"name": str, "namespace": str, "labels": dict, "annotations": dict}
SHAPES = {
    "ValidatingAdmissionPolicy": {"metadata": _METADATA_SHAPE, "spec": {
        "paramKind": {"apiVersion": str, "kind": str},
        "matchConstraints": _MATCH_SHAPE,
        "validations": [{"expression": str, "message": str, "reason": str, "messageExpression": str}],
        "failurePolicy": str,
        "auditAnnotations": [{"key": str, "valueExpression": str}],
        "matchConditions": [_NAMED_SHAPE],
        "variables": [_NAMED_SHAPE],
    }},
    "ValidatingAdmissionPolicyBinding": {"metadata": _METADATA_SHAPE, "spec": {
        "policyName": str,
        "paramRef": {"name": str, "namespace": str, "selector": _SELECTOR_SHAPE, "parameterNotFoundAction": str},
        "matchResources": _MATCH_SHAPE,
        "validationActions": [str],
    }},
}
_SHAPE_NAMES = {str: "a string", dict: "a mapping", list: "a list"}


def shape_problems(value, shape, field: str = "") -> list[tuple[str, str]]:
    """(field, message) for each value in ``value`` whose type differs from ``shape``.

    The API server rejects such an object when decoding it ("cannot unmarshal
    ... into Go struct field"), before any validation.
    """
    if value is None:
        return []
    expected = dict if isinstance(shape, dict) else list if isinstance(shape, list) else shape
    if not isinstance(value, expected) or (expected is str and isinstance(value, bool)):
        got = {bool: "a boolean", int: "an integer", float: "a number"}.get(type(value)) or _SHAPE_NAMES[type(value)]
        return [(field, f"expected {_SHAPE_NAMES[expected]}, got {got}")]
    found: list[tuple[str, str]] = []
    if isinstance(shape, dict):
        for key, inner in shape.items():
            found.extend(shape_problems(value.get(key), inner, f"{field}.{key}" if field else key))
    elif isinstance(shape, list):
        for index, item in enumerate(value):
            found.extend(shape_problems(item, shape[0], f"{field}[{index}]"))
    return found


def _str_list(value) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _resource_rules(items, source: Source, field: str, problems: Diagnostics, *, require_create: bool):
    rules = []
    for index, item in enumerate(items or ()):
        if not isinstance(item, dict):
            problems.at_source(source, f"{field}[{index}] must be a mapping", field)
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


def _selector(value, source: Source, field: str, problems: Diagnostics) -> Selector | None:
    if value is None:
        return None
    try:
        return selector_from_dict(value)
    except SelectorError as err:
        problems.at_source(source, str(err), field)
        return None


def _match(spec, source: Source, field: str, problems: Diagnostics, *, binding: bool) -> Match | None:
    """A Match from ``matchConstraints`` (policy) or ``matchResources`` (binding)."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        problems.at_source(source, f"{field} must be a mapping", field)
        return None
    include = _resource_rules(spec.get("resourceRules"), source, f"{field}.resourceRules", problems,
                              require_create=True)
    exclude = _resource_rules(spec.get("excludeResourceRules"), source, f"{field}.excludeResourceRules", problems,
                              require_create=False)
    if not binding and not spec.get("resourceRules"):
        problems.at_source(source, "matchConstraints.resourceRules is required", f"{field}.resourceRules")
    if spec.get("resourceRules") and not include:
        include = [(ResourceRule(resources=()), "*")]  # only non-CREATE operations: matches nothing
    return Match(
        resource_rules=tuple(r for r, _ in include),
        exclude_resource_rules=tuple(r for r, _ in exclude),
        label_selector=_selector(spec.get("objectSelector"), source, f"{field}.objectSelector", problems)
        or Selector.everything(),
        namespace_selector=_selector(spec.get("namespaceSelector"), source, f"{field}.namespaceSelector", problems),
    )


def _named_expressions(items, source: Source, field: str, problems: Diagnostics) -> tuple[tuple[str, str], ...]:
    out = []
    for index, item in enumerate(items or ()):
        if not isinstance(item, dict) or not isinstance(item.get("expression"), str):
            problems.at_source(source, f"{field}[{index}] needs a name and an expression", field)
            continue
        name = item.get("name", f"{index}")
        _compile(item["expression"], source, f"{field}[{index}].expression", problems)
        out.append((str(name), item["expression"]))
    return tuple(out)


def _compile(expression, source: Source, field: str, problems: Diagnostics) -> bool:
    try:
        compile_expression(expression)
    except CelCompileError as err:
        problems.at_source(source, f"CEL error at expression {err.line}:{err.column}: {err.message}", field)
        return False
    return True


def _severity(actions: Iterable[str]) -> str:
    severities = [_ACTION_SEVERITY[a] for a in actions if a in _ACTION_SEVERITY]
    return max(severities, key=severity_rank) if severities else "error"


def _param_ref(policy_spec, binding_spec, source: Source, problems: Diagnostics) -> ParamRef | None:
    param_kind = policy_spec.get("paramKind")
    ref = (binding_spec or {}).get("paramRef")
    if not param_kind or not ref:
        return None
    if not isinstance(ref, dict) or not isinstance(param_kind, dict):
        problems.at_source(source, "paramRef and paramKind must be mappings", "spec.paramRef")
        return None
    if ref.get("selector") is not None or not ref.get("name"):
        problems.at_source(source, "paramRef.selector is not supported offline; name the parameter object",
                           "spec.paramRef")
        return None
    return ParamRef(kind=str(param_kind.get("kind", "")), name=str(ref["name"]), namespace=ref.get("namespace"),
                    allow_missing=ref.get("parameterNotFoundAction") == "Allow")


def _policy_rules(policy: dict, source: Source, bindings: list[tuple[dict, Source]], problems: Diagnostics):
    name = str((policy.get("metadata") or {}).get("name", ""))
    spec = policy.get("spec") or {}
    validations = spec.get("validations") or []
    if not isinstance(validations, list) or not validations:
        problems.at_source(source, f"ValidatingAdmissionPolicy {name}: spec.validations must be a non-empty list",
                           "spec.validations")
        return []
    start = len(problems.items)
    if spec.get("matchConstraints") is None:  # upstream: spec.matchConstraints: Required value
        problems.at_source(source, f"Required value (ValidatingAdmissionPolicy {name} would match nothing)",
                           "spec.matchConstraints")
    if spec.get("failurePolicy") not in (None, "Fail", "Ignore"):
        problems.at_source(source, f'Unsupported value: "{spec["failurePolicy"]}": supported values: "Fail", "Ignore"',
                           "spec.failurePolicy")
    match = _match(spec.get("matchConstraints"), source, "spec.matchConstraints", problems, binding=False)
    variables = _named_expressions(spec.get("variables"), source, "spec.variables", problems)
    conditions = _named_expressions(spec.get("matchConditions"), source, "spec.matchConditions", problems)
    ignore = spec.get("failurePolicy") == "Ignore"
    for index, v in enumerate(validations):
        if not isinstance(v, dict) or not isinstance(v.get("expression"), str):
            problems.at_source(source, f"spec.validations[{index}] needs an expression", f"spec.validations[{index}]")
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


def _binding_problems(spec: dict, source: Source, problems: Diagnostics) -> bool:
    """Upstream ``ValidateValidatingAdmissionPolicyBinding`` on what kspec reads; True when invalid."""
    start = len(problems.items)
    if not spec.get("policyName"):
        problems.at_source(source, "Required value", "spec.policyName")
    actions = spec.get("validationActions") or []
    if not actions:
        problems.at_source(source, "Required value", "spec.validationActions")
    for index, action in enumerate(actions):
        if action not in _ACTION_SEVERITY:
            problems.at_source(source, f'Unsupported value: "{action}": supported values: "Audit", "Deny", "Warn"',
                               f"spec.validationActions[{index}]")
    if {"Deny", "Warn"} <= set(actions):
        problems.at_source(source, "must not contain both Deny and Warn (repeating the same validation failure information "
                                   "in the API response and headers serves no purpose)", "spec.validationActions")
    return len(problems.items) > start


def rules_from_admission(objects: Iterable[tuple[dict, Source]]) -> list[Rule]:
    """Rules from ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding manifests.

    Other ``admissionregistration.k8s.io`` kinds are an error (webhooks call
    servers kspec cannot reach). A binding naming no loaded policy is an error;
    so is a policy no binding names when the files hold bindings (the cluster
    they describe never applies it), and every shape the API server rejects.
    """
    problems = Diagnostics()
    policies: list[tuple[dict, Source]] = []
    bindings: dict[str, list[tuple[dict, Source]]] = {}
    for obj, source in objects:
        kind = obj.get("kind")
        wrong = shape_problems(obj, SHAPES.get(kind, {}) if isinstance(kind, str) else {"kind": str})
        for field, message in wrong:
            problems.at_source(source, message, field)
        if wrong:
            continue
        if kind == "ValidatingAdmissionPolicy":
            policies.append((obj, source))
        elif kind == "ValidatingAdmissionPolicyBinding":
            if _binding_problems(obj.get("spec") or {}, source, problems):
                continue
            bindings.setdefault(obj["spec"]["policyName"], []).append((obj, source))
        else:
            problems.at_source(source, f"{kind} is not a rule: only ValidatingAdmissionPolicy and its bindings are", "kind")
    names = {str((p.get("metadata") or {}).get("name")) for p, _ in policies}
    for policy_name, items in bindings.items():
        if policy_name not in names:
            for _, source in items:
                problems.at_source(source, f"binding names policy {policy_name!r}, which is not among the rule files",
                                   "spec.policyName")
    rules = []
    for policy, source in policies:
        name = str((policy.get("metadata") or {}).get("name"))
        if bindings and name not in bindings:
            problems.at_source(source, f"no ValidatingAdmissionPolicyBinding names policy {name!r}, so the API server "
                                       "never applies it; bind it, or leave every binding out to run each policy as "
                                       "if bound with Deny", "metadata.name")
            continue
        rules.extend(_policy_rules(policy, source, bindings.get(name, []), problems))
    problems.raise_if_any(RuleFileError)
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
