"""ValidatingAdmissionPolicy and its bindings, evaluated as the API server does.

A team's ``admissionregistration.k8s.io`` policies (``v1``, ``v1beta1`` and
``v1alpha1``) run offline on a CREATE of each loaded manifest, following
``k8s.io/apiserver/pkg/admission/plugin/policy/validating`` (the validator),
``.../policy/generic`` (dispatch, params) and ``.../policy/matching``, after
the checks of ``pkg/apis/admissionregistration/validation``:

* a policy applies only through a binding that names it (an unbound policy
  judges nothing, as in a cluster); each (binding, validation) pair is one
  rule, id ``<policy>`` or ``<policy>/<index>``, with ``<binding>/`` in front
  when the policy has several bindings;
* the binding's ``validationActions`` (required; Deny and Warn exclusive)
  give the severity (Deny: error, Warn: warning, Audit: info) and the
  message, worded as kubectl shows it;
* ``matchConstraints`` and the binding's ``matchResources``: resource rules
  (groups, versions, resources, names, operations, scope), exclusions,
  ``namespaceSelector`` (a Namespace's own labels, the automatic
  ``kubernetes.io/metadata.name`` one included), ``objectSelector``;
  ``matchPolicy: Equivalent`` (the default) also matches other versions of a
  resource, and kspec reads it one step further: a policy on Pod CREATE
  judges the pod template of every workload as the pod its controller would
  create (generated name, controller labels, owner reference), reported at
  the workload's template;
* ``matchConditions``: all must hold; a false one wins over an erroring one;
* ``variables`` are lazy: an erroring variable matters only if an
  expression reads it;
* ``failurePolicy`` (default Fail) decides evaluation and configuration
  errors; ``messageExpression`` replaces ``message`` when it gives a
  non-empty single-line string; ``auditAnnotations`` are evaluated and an
  erroring or non-string one is an error under Fail;
* ``paramRef`` (name or selector, namespace, ``parameterNotFoundAction``)
  picks params among the loaded objects of the policy's ``paramKind``;
* the object is in its canonical API form (quantities as the API server
  writes them: ``cpu: 0.5`` is ``"500m"``); ``request.userInfo`` is who
  :func:`requester` says; ``authorizer`` answers from the loaded RBAC
  objects (see :mod:`kspec.rules.functions`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from pathlib import Path
from typing import Iterable

import attrs
from yaml.nodes import ScalarNode

from kspec.api.labels import Selector, selector_from_dict
from kspec.api.objects import Source
from kspec.api.quantity import parse_quantity
from kspec.errors import Diagnostic, Diagnostics, QuantityError, SelectorError
from kspec.loading.yamlio import YamlError, load_documents, node_at, node_line
from kspec.rules import functions as fn
from kspec.rules.cel import (
    ADMISSION_VARIABLES,
    Bindings,
    CelCompileError,
    CelEvaluationError,
    admission_variables,
    compile_expression,
    result_type,
)
from kspec.rules.rule import Match, Rule, RuleFileError

API_GROUP = "admissionregistration.k8s.io"
VERSIONS = ("v1", "v1beta1", "v1alpha1")
ACTION_SEVERITY = {"Deny": "error", "Warn": "warning", "Audit": "info"}
REASONS = ("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge")
MAX_MESSAGE_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes

# Upstream ``meta.UnsafeGuessKindToResource`` keeps these unpluralised.
_UNPLURALIZED_SUFFIXES = ("endpoints",)
_IDENTIFIER = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

# Kinds whose pods the API server would judge when a Pod policy matches (kspec's reading of Equivalent).
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController")
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PriorityClass",
    "CustomResourceDefinition", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "IngressClass",
    "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment", "APIService", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "CertificateSigningRequest", "ComponentStatus",
})


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


def api_version_of(api_version: str) -> str:
    """``apps/v1`` → ``v1``."""
    return (api_version or "").rpartition("/")[2]


# ---------------------------------------------------------------------------
# Requests: who asks (kubectl's --as and --as-group)
# ---------------------------------------------------------------------------


@attrs.frozen
class Requester:
    """``request.userInfo``: the user and groups the API server authenticated."""

    username: str = "kspec"
    groups: tuple[str, ...] = ("system:authenticated",)


_REQUESTER: contextvars.ContextVar[Requester] = contextvars.ContextVar("kspec_vap_requester", default=Requester())


@contextlib.contextmanager
def requester(username: str | None = None, groups: Iterable[str] = ()):
    """Evaluate policies as ``username`` in ``groups`` (plus ``system:authenticated``)."""
    default = Requester()
    chosen = tuple(dict.fromkeys([*groups, "system:authenticated"]))
    token = _REQUESTER.set(Requester(username or default.username, chosen))
    try:
        yield
    finally:
        _REQUESTER.reset(token)


# ---------------------------------------------------------------------------
# Records: what a policy and a binding say
# ---------------------------------------------------------------------------


@attrs.frozen
class ResourceRule:
    """One ``resourceRules`` entry (``NamedRuleWithOperations``)."""

    api_groups: tuple[str, ...] = ("*",)
    api_versions: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    resource_names: tuple[str, ...] = ()
    operations: tuple[str, ...] = ("*",)
    scope: str = "*"


@attrs.frozen
class MatchSpec:
    """``matchConstraints`` or ``matchResources``; a None selector selects everything."""

    rules: tuple[ResourceRule, ...] = ()
    exclude: tuple[ResourceRule, ...] = ()
    namespace_selector: Selector | None = None
    object_selector: Selector | None = None
    equivalent: bool = True
    constrains_resources: bool = True


@attrs.frozen
class ParamSpec:
    """The policy's ``paramKind`` and the binding's ``paramRef``."""

    api_version: str
    kind: str
    name: str | None = None
    namespace: str | None = None
    selector: Selector | None = None
    deny_when_missing: bool = True


@attrs.frozen
class AdmissionRule(Rule):
    """One validation of a policy through one binding, with everything needed to judge a request.

    ``constraints`` is the policy's ``matchConstraints``, ``binding_match`` the
    binding's ``matchResources``, ``param`` where params come from (None: no
    ``paramKind`` or no ``paramRef``), ``audit_annotations`` the policy's
    (carried by its first validation's rule), ``has_validation`` False for a
    policy made only of audit annotations (its rule's expression is ``true``).
    """

    policy: str = ""
    binding: str = ""
    actions: tuple[str, ...] = ("Deny",)
    constraints: MatchSpec = MatchSpec()
    binding_match: MatchSpec | None = None
    param: ParamSpec | None = None
    audit_annotations: tuple[tuple[str, str], ...] = ()
    has_validation: bool = True


# ---------------------------------------------------------------------------
# Reading policies and bindings
# ---------------------------------------------------------------------------


@attrs.frozen
class AdmissionObject:
    """A policy or binding as read: the value, where its document starts, and
    its YAML node (with the path inside that node) to point at expressions."""

    value: dict
    source: Source
    node: object = attrs.field(default=None, eq=False, repr=False)
    path: tuple = ()


def admission_object(value: dict, file: str, node, path: tuple = ()) -> AdmissionObject:
    """An :class:`AdmissionObject` for ``value`` at ``path`` inside document ``node``."""
    inner = node_at(node, path) if path else node
    return AdmissionObject(value, Source(file, inner.start_mark.line + 1), node, path)


def expression_line(item: AdmissionObject, path: tuple, line: int, column: int) -> int:
    """The file line of ``line:column`` (1-based) inside the expression scalar at ``path``.

    A literal block (``|``) keeps its lines; a folded one (``>``) joins
    neighbouring lines with a space, so the column says which source line
    the position came from.
    """
    if item.node is None:
        return item.source.line or 1
    scalar = node_at(item.node, item.path + path)
    start = scalar.start_mark.line + 1
    if isinstance(scalar, ScalarNode) and scalar.style == ">":
        return _folded_line(item.source.file, start, scalar.end_mark.line, line, column)
    if isinstance(scalar, ScalarNode) and scalar.style == "|":
        return start + line
    return start + line - 1


def _folded_line(file: str, header: int, end: int, line: int, column: int) -> int:
    """The source line of ``line:column`` of a folded block scalar whose indicator is on line ``header``."""
    try:
        source = Path(file).read_text(encoding="utf-8").splitlines()[header:end]
    except (OSError, UnicodeDecodeError):
        return header + line
    folded, used = 1, 0
    for offset, text in enumerate(source):
        if not text.strip():
            folded, used = folded + 1, 0
            continue
        used += len(text.strip()) + 1
        if folded == line and column <= used:
            return header + 1 + offset
    return header + line


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


def shape_problems(value, shape, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, message) for each value in ``value`` whose type differs from ``shape``.

    The API server rejects such an object when decoding it ("cannot unmarshal
    ... into Go struct field"), before any validation (YAML 1.1 reads
    ``message: no`` as a boolean).
    """
    if value is None:
        return []
    expected = dict if isinstance(shape, dict) else list if isinstance(shape, list) else shape
    if not isinstance(value, expected) or (expected is str and isinstance(value, bool)):
        got = {bool: "a boolean", int: "an integer", float: "a number"}.get(type(value)) or _SHAPE_NAMES[type(value)]
        return [(path, f"expected {_SHAPE_NAMES[expected]}, got {got}")]
    found: list[tuple[tuple, str]] = []
    if isinstance(shape, dict):
        for key, inner in shape.items():
            found.extend(shape_problems(value.get(key), inner, path + (key,)))
    elif isinstance(shape, list):
        for index, item in enumerate(value):
            found.extend(shape_problems(item, shape[0], path + (index,)))
    return found


class _Reader:
    """Validation of one policy or binding (``pkg/apis/admissionregistration/validation``)."""

    def __init__(self, item: AdmissionObject, problems: Diagnostics):
        self.item = item
        self.problems = problems
        self.start = len(problems.items)
        spec = item.value.get("spec") if isinstance(item.value.get("spec"), dict) else {}
        self.params = spec.get("paramKind") is not None

    @property
    def failed(self) -> bool:
        return len(self.problems.items) > self.start

    def error(self, message: str, field: str) -> None:
        """A problem of the object, at the line its document starts (expressions point at their own line)."""
        self.problems.add(self.item.source.line, message, field, file=self.item.source.file)

    def compile(self, text, path: tuple, *, want: str | None = None, authorizer: bool = True) -> bool:
        field = _field(path)
        if not isinstance(text, str) or not text.strip():
            self.error("Required value", field)
            return False
        try:
            program = compile_expression(text, admission_variables(params=self.params, authorizer=authorizer))
        except CelCompileError as err:
            line = expression_line(self.item, path, err.line, err.column)
            self.problems.add(line, f"compilation failed: {err.line}:{err.column}: {err.message}", field,
                              file=self.item.source.file)
            return False
        if want and result_type(program) not in (want, "dyn"):
            self.error(f"must evaluate to {want}", field)
            return False
        return True


def _field(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _strings(value) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _resource_rules(reader: _Reader, items, path: tuple) -> tuple[ResourceRule, ...]:
    rules = []
    for index, item in enumerate(items or ()):
        where = path + (index,)
        if not isinstance(item, dict):
            reader.error("must be a mapping", _field(where))
            continue
        for key in ("apiGroups", "apiVersions", "operations", "resources"):
            if not _strings(item.get(key)):
                reader.error("Required value", _field(where + (key,)))
        scope = item.get("scope") or "*"
        if scope not in ("*", "Cluster", "Namespaced"):
            reader.error(f'Unsupported value: "{scope}": supported values: "*", "Cluster", "Namespaced"',
                         _field(where + ("scope",)))
        rules.append(ResourceRule(
            api_groups=_strings(item.get("apiGroups")), api_versions=_strings(item.get("apiVersions")),
            resources=_strings(item.get("resources")), resource_names=_strings(item.get("resourceNames")),
            operations=_strings(item.get("operations")), scope=scope,
        ))
    return tuple(rules)


def _selector(reader: _Reader, value, path: tuple) -> Selector | None:
    if value is None:
        return None
    try:
        return selector_from_dict(value)
    except SelectorError as err:
        reader.error(str(err), _field(path))
        return None


def _match_spec(reader: _Reader, spec, path: tuple, *, policy: bool) -> MatchSpec | None:
    if spec is None:
        if policy:
            reader.error("Required value", _field(path))
        return None
    if not isinstance(spec, dict):
        reader.error("must be a mapping", _field(path))
        return None
    if policy and not spec.get("resourceRules"):
        reader.error("Required value", _field(path + ("resourceRules",)))
    policy_name = spec.get("matchPolicy") or "Equivalent"
    if policy_name not in ("Equivalent", "Exact"):
        reader.error(f'Unsupported value: "{policy_name}": supported values: "Equivalent", "Exact"',
                     _field(path + ("matchPolicy",)))
    return MatchSpec(
        rules=_resource_rules(reader, spec.get("resourceRules"), path + ("resourceRules",)),
        exclude=_resource_rules(reader, spec.get("excludeResourceRules"), path + ("excludeResourceRules",)),
        namespace_selector=_selector(reader, spec.get("namespaceSelector"), path + ("namespaceSelector",)),
        object_selector=_selector(reader, spec.get("objectSelector"), path + ("objectSelector",)),
        equivalent=policy_name == "Equivalent",
        constrains_resources=bool(spec.get("resourceRules")),
    )


def _named(reader: _Reader, items, path: tuple, *, identifier: bool, want: str | None) -> tuple[tuple[str, str], ...]:
    out, seen = [], set()
    for index, item in enumerate(items or ()):
        where = path + (index,)
        if not isinstance(item, dict):
            reader.error("must be a mapping", _field(where))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            reader.error("Required value", _field(where + ("name",)))
            continue
        pattern = _IDENTIFIER if identifier else _QUALIFIED
        if not pattern.match(name.rpartition("/")[2] if not identifier else name):
            kind = "a valid CEL identifier" if identifier else "a qualified name"
            reader.error(f'Invalid value: "{name}": name is not {kind}', _field(where + ("name",)))
        if name in seen:
            reader.error(f'Duplicate value: "{name}"', _field(where + ("name",)))
        seen.add(name)
        if reader.compile(item.get("expression"), where + ("expression",), want=want):
            out.append((name, item["expression"]))
    return tuple(out)


def _validations(reader: _Reader, items) -> list[dict]:
    out = []
    for index, item in enumerate(items or ()):
        where = ("spec", "validations", index)
        if not isinstance(item, dict):
            reader.error("must be a mapping", _field(where))
            continue
        reader.compile(item.get("expression"), where + ("expression",), want="bool")
        message = item.get("message")
        if isinstance(message, str) and message and not message.strip():
            reader.error("message must be non-empty if specified", _field(where + ("message",)))
        if isinstance(message, str) and ("\n" in message or "\r" in message):
            reader.error("message must be a single line", _field(where + ("message",)))
        if item.get("messageExpression") is not None:
            reader.compile(item.get("messageExpression"), where + ("messageExpression",), want="string",
                           authorizer=False)
        reason = item.get("reason")
        if reason is not None and reason not in REASONS:
            supported = ", ".join(f'"{r}"' for r in REASONS)
            reader.error(f'Unsupported value: "{reason}": supported values: {supported}',
                         _field(where + ("reason",)))
        out.append(item)
    return out


def _audit_annotations(reader: _Reader, items, policy_name: str) -> tuple[tuple[str, str], ...]:
    out, seen = [], set()
    for index, item in enumerate(items or ()):
        where = ("spec", "auditAnnotations", index)
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key:
            reader.error("Required value", _field(where + ("key",)))
            continue
        qualified = f"{policy_name}/{key}"
        if not _QUALIFIED.match(key) or len(key) > 63 or len(qualified) > 63 + 253 + 1:
            reader.error(f'Invalid value: "{key}": must be a valid annotation key part', _field(where + ("key",)))
        if key in seen:
            reader.error(f'Duplicate value: "{key}"', _field(where + ("key",)))
        seen.add(key)
        if reader.compile(item.get("valueExpression"), where + ("valueExpression",), authorizer=False):
            out.append((key, item["valueExpression"]))
    return tuple(out)


@attrs.frozen
class _Policy:
    name: str
    item: AdmissionObject
    constraints: MatchSpec
    validations: tuple
    variables: tuple
    conditions: tuple
    audit: tuple
    param_kind: dict | None
    ignore: bool


def _read_policy(item: AdmissionObject, problems: Diagnostics) -> _Policy | None:
    reader = _Reader(item, problems)
    obj = item.value
    name = str((obj.get("metadata") or {}).get("name") or "")
    if not name:
        reader.error("name or generateName is required", "metadata.name")
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    failure = spec.get("failurePolicy")
    if failure not in (None, "Fail", "Ignore"):
        reader.error(f'Unsupported value: "{failure}": supported values: "Fail", "Ignore"', "spec.failurePolicy")
    param_kind = spec.get("paramKind")
    for key in ("apiVersion", "kind") if isinstance(param_kind, dict) else ():
        if not param_kind.get(key):  # validation.go validateParamKind
            reader.error("Required value", f"spec.paramKind.{key}")
    constraints = _match_spec(reader, spec.get("matchConstraints"), ("spec", "matchConstraints"), policy=True)
    variables = _named(reader, spec.get("variables"), ("spec", "variables"), identifier=True, want=None)
    conditions = _named(reader, spec.get("matchConditions"), ("spec", "matchConditions"), identifier=False,
                        want="bool")
    validations = _validations(reader, spec.get("validations"))
    audit = _audit_annotations(reader, spec.get("auditAnnotations"), name)
    if not spec.get("validations") and not spec.get("auditAnnotations"):
        reader.error("validations or auditAnnotations must contain at least one item", "spec.validations")
    if reader.failed or constraints is None:
        return None
    return _Policy(name, item, constraints, tuple(validations), variables, conditions, audit,
                   param_kind if isinstance(param_kind, dict) else None, failure == "Ignore")


@attrs.frozen
class _Binding:
    name: str
    item: AdmissionObject
    policy: str
    actions: tuple[str, ...]
    match: MatchSpec | None
    param_ref: dict | None


def _read_binding(item: AdmissionObject, problems: Diagnostics) -> _Binding | None:
    """Upstream ``ValidateValidatingAdmissionPolicyBinding``."""
    reader = _Reader(item, problems)
    obj = item.value
    name = str((obj.get("metadata") or {}).get("name") or "")
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if not spec.get("policyName"):
        reader.error("Required value", "spec.policyName")
    actions = _strings(spec.get("validationActions"))
    if not actions:
        reader.error("Required value", "spec.validationActions")
    for index, action in enumerate(actions):
        if action not in ACTION_SEVERITY:
            reader.error(f'Unsupported value: "{action}": supported values: "Audit", "Deny", "Warn"',
                         f"spec.validationActions[{index}]")
        elif action in actions[:index]:
            reader.error(f'Duplicate value: "{action}"', f"spec.validationActions[{index}]")
    if {"Deny", "Warn"} <= set(actions):
        reader.error("must not contain both Deny and Warn (repeating the same validation failure information in "
                     "the API response and headers serves no purpose)", "spec.validationActions")
    match = _match_spec(reader, spec.get("matchResources"), ("spec", "matchResources"), policy=False)
    param_ref = spec.get("paramRef")
    if param_ref is not None:
        _check_param_ref(reader, param_ref, api_version_of(str(obj.get("apiVersion", ""))))
    if reader.failed:
        return None
    return _Binding(name, item, str(spec["policyName"]), actions, match,
                    param_ref if isinstance(param_ref, dict) else None)


def _check_param_ref(reader: _Reader, ref, version: str) -> None:
    """Upstream ``validateParamRef``: name xor selector; parameterNotFoundAction required (defaulted in v1alpha1)."""
    path = ("spec", "paramRef")
    if not isinstance(ref, dict):
        reader.error("must be a mapping", "spec.paramRef")
        return
    if ref.get("name") and ref.get("selector") is not None:
        reader.error("name and selector are mutually exclusive", "spec.paramRef.name")
    if not ref.get("name") and ref.get("selector") is None:
        reader.error("one of name or selector must be specified", "spec.paramRef")
    _selector(reader, ref.get("selector"), path + ("selector",))
    action = ref.get("parameterNotFoundAction")
    if action is None and version != "v1alpha1":
        reader.error("Required value", "spec.paramRef.parameterNotFoundAction")
    elif action is not None and action not in ("Allow", "Deny"):
        reader.error(f'Unsupported value: "{action}": supported values: "Allow", "Deny"',
                     "spec.paramRef.parameterNotFoundAction")


def _param_spec(policy: _Policy, binding: _Binding) -> ParamSpec | None:
    if policy.param_kind is None or binding.param_ref is None:
        return None
    ref = binding.param_ref
    return ParamSpec(
        api_version=str(policy.param_kind.get("apiVersion")), kind=str(policy.param_kind.get("kind")),
        name=ref.get("name") or None, namespace=ref.get("namespace") or None,
        selector=selector_from_dict(ref["selector"]) if ref.get("selector") is not None else None,
        deny_when_missing=ref.get("parameterNotFoundAction", "Deny") != "Allow",
    )


def _uses_params(policy: _Policy) -> bool:
    texts = [v.get("expression", "") for v in policy.validations] + [e for _, e in policy.variables]
    texts += [e for _, e in policy.conditions] + [e for _, e in policy.audit]
    texts += [v.get("messageExpression") or "" for v in policy.validations]
    return any(re.search(r"\bparams\b", t or "") for t in texts)


def _rules(policy: _Policy, bindings: list[_Binding], problems: Diagnostics) -> list[AdmissionRule]:
    rules = []
    for binding in bindings:
        param = _param_spec(policy, binding)
        if policy.param_kind is not None and param is None and _uses_params(policy) and not policy.ignore:
            # Upstream evaluates with null params, so every request the binding matches fails the same way.
            problems.add(binding.item.source.line,
                         f"ValidatingAdmissionPolicy {policy.name!r} has paramKind "
                         f"{policy.param_kind.get('kind')} but this binding has no paramRef: its expressions read "
                         "a null params, so the API server would fail every request the binding matches",
                         "spec.paramRef", file=binding.item.source.file)
            continue
        prefix = f"{binding.name}/" if len(bindings) > 1 else ""
        validations = policy.validations or ({"expression": "true"},)
        for index, v in enumerate(validations):
            suffix = f"/{index}" if len(validations) > 1 else ""
            rules.append(AdmissionRule(
                id=f"{prefix}{policy.name}{suffix}",
                expression=v["expression"],
                severity=_severity(binding.actions),
                title=f"ValidatingAdmissionPolicy {policy.name} via {binding.name} ({', '.join(binding.actions)})"
                + (f", validation {index}" if suffix else ""),
                rationale=f"admission policy {policy.name} ({policy.item.source}), bound by {binding.item.source}",
                match=Match(),
                message=v.get("message"),
                message_expression=v.get("messageExpression"),
                variables=policy.variables,
                match_conditions=policy.conditions,
                ignore_errors=policy.ignore,
                origin="ValidatingAdmissionPolicy",
                source=policy.item.source,
                policy=policy.name,
                binding=binding.name,
                actions=binding.actions,
                constraints=policy.constraints,
                binding_match=binding.match,
                param=param,
                audit_annotations=policy.audit if index == 0 else (),
                has_validation=bool(policy.validations),
            ))
    return rules


def _severity(actions: Iterable[str]) -> str:
    order = {"info": 0, "warning": 1, "error": 2}
    return max((ACTION_SEVERITY[a] for a in actions), key=order.__getitem__, default="error")


def rules_from_admission(objects: Iterable[AdmissionObject]) -> list[AdmissionRule]:
    """Rules from ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding manifests.

    Every problem the API server would reject the object for is a
    :class:`RuleFileError` diagnostic; so is a binding naming no loaded
    policy, and other ``admissionregistration.k8s.io`` kinds (webhooks call
    servers kspec cannot reach).
    """
    problems = Diagnostics()
    policies: list[_Policy] = []
    bindings: dict[str, list[_Binding]] = {}
    named: set[str] = set()  # every policy read, valid or not
    for item in objects:
        value = item.value
        kind, version = value.get("kind"), str(value.get("apiVersion", ""))
        metadata = value.get("metadata")
        if kind == "ValidatingAdmissionPolicy" and isinstance(metadata, dict):
            named.add(str(metadata.get("name") or ""))
        wrong = shape_problems(value, SHAPES.get(kind, {}) if isinstance(kind, str) else {"kind": str})
        for path, message in wrong:
            _Reader(item, problems).error(message, _field(path))
        if wrong:
            continue
        if api_group(version) != API_GROUP or api_version_of(version) not in VERSIONS:
            problems.add(item.source.line, f"unknown apiVersion {version!r} for {kind}", "apiVersion",
                         file=item.source.file)
        elif kind == "ValidatingAdmissionPolicy":
            policy = _read_policy(item, problems)
            if policy is not None:
                policies.append(policy)
        elif kind == "ValidatingAdmissionPolicyBinding":
            binding = _read_binding(item, problems)
            if binding is not None:
                bindings.setdefault(binding.policy, []).append(binding)
        else:
            problems.add(item.source.line, f"{kind} is not a rule: only ValidatingAdmissionPolicy and its bindings "
                                           "are", "kind", file=item.source.file)
    for policy_name, items in bindings.items():
        if policy_name not in named:
            for binding in items:
                problems.add(binding.item.source.line,
                             f"binding names policy {policy_name!r}, which is not among the rule files",
                             "spec.policyName", file=binding.item.source.file)
    rules: list[AdmissionRule] = []
    for policy in policies:
        rules.extend(_rules(policy, bindings.get(policy.name, []), problems))
    problems.raise_if_any(RuleFileError)
    return rules


def unbound_policies(objects: Iterable[AdmissionObject]) -> list[Diagnostic]:
    """A warning for each ValidatingAdmissionPolicy no loaded binding names:
    in a cluster such a policy judges nothing, and so it does here."""
    bound = {str((item.value.get("spec") or {}).get("policyName"))
             for item in objects if item.value.get("kind") == "ValidatingAdmissionPolicyBinding"
             and isinstance(item.value.get("spec"), dict)}
    out = []
    for item in objects:
        metadata = item.value.get("metadata")
        if item.value.get("kind") == "ValidatingAdmissionPolicy" and isinstance(metadata, dict) \
                and str(metadata.get("name")) not in bound:
            out.append(Diagnostic(item.source.file, item.source.line,
                                  f"ValidatingAdmissionPolicy {metadata.get('name')!r} is not named by any "
                                  "ValidatingAdmissionPolicyBinding: it judges nothing (as in a cluster); "
                                  "add a binding to apply it", severity="warning", code="policy-unbound"))
    return out


# ---------------------------------------------------------------------------
# Matching (k8s.io/apiserver/pkg/admission/plugin/policy/matching)
# ---------------------------------------------------------------------------


@attrs.frozen
class Request:
    """What one admission request is about: the resource, its object and namespace."""

    group: str
    version: str
    kind: str
    resource: str
    name: str
    namespace: str | None
    obj: dict
    labels: dict


def _is_cluster_scoped(kind: str, namespace) -> bool:
    return kind in CLUSTER_SCOPED or (namespace is None and kind not in ("Pod", *WORKLOAD_KINDS))


def rule_matches(rule: ResourceRule, request: Request, *, any_version: bool = False) -> bool:
    """Upstream ``RuleMatcher.Matches`` for a CREATE of ``request``."""
    def has(values, value):
        return "*" in values or value in values

    cluster = _is_cluster_scoped(request.kind, request.namespace)
    scope_ok = rule.scope == "*" or (rule.scope == "Cluster") == cluster
    resources_ok = any(r in ("*", "*/*", request.resource) for r in rule.resources)
    names_ok = not rule.resource_names or request.name in rule.resource_names
    versions_ok = any_version or has(rule.api_versions, request.version)
    return (has(rule.operations, "CREATE") and has(rule.api_groups, request.group) and versions_ok
            and resources_ok and names_ok and scope_ok)


def _selectors_match(spec: MatchSpec, request: Request, namespace_labels) -> bool:
    if spec.object_selector is not None and not spec.object_selector.matches(request.labels):
        return False
    if spec.namespace_selector is not None:
        if request.kind == "Namespace":
            labels = request.labels
        elif request.namespace is None:
            return True  # other cluster-scoped objects pass the namespace selector
        else:
            labels = namespace_labels
        if not spec.namespace_selector.matches(labels or {}):
            return False
    return True


def spec_matches(spec: MatchSpec, request: Request, namespace_labels) -> bool:
    """``matchConstraints``/``matchResources`` select ``request`` (Equivalent: any version of the resource)."""
    if not _selectors_match(spec, request, namespace_labels):
        return False
    if any(rule_matches(r, request, any_version=spec.equivalent) for r in spec.exclude):
        return False
    if not spec.constrains_resources:
        return True
    return any(rule_matches(r, request, any_version=spec.equivalent) for r in spec.rules)


def _request(obj: dict, namespace: str | None) -> Request:
    api_version = str(obj.get("apiVersion", ""))
    kind = str(obj.get("kind", ""))
    metadata = obj.get("metadata") or {}
    return Request(api_group(api_version), api_version_of(api_version), kind, kind_to_resource(kind),
                   str(metadata.get("name", "")), namespace, obj, metadata.get("labels") or {})


# Stand-ins for the random parts of generated names (the pod-template hash, the 5-character suffix),
# drawn from the alphabet of k8s.io/apimachinery/pkg/util/rand.
_HASH, _SUFFIX = "bcdfghjkl", "mnpqr"
_UID = "00000000-0000-4000-8000-000000000000"


def _pod_metadata(record, template_metadata: dict) -> tuple[dict, str]:
    """The metadata of a pod the workload's controller creates, and ``request.name``.

    As the controllers write it: a Deployment's pods belong to a ReplicaSet
    ``<deployment>-<hash>`` and carry ``pod-template-hash``; a StatefulSet
    names its pods ``<name>-<ordinal>`` with its identity labels; a DaemonSet
    adds its revision labels; a Job (a CronJob's, ``<cronjob>-<time>``) adds
    the job-name and controller-uid labels. Generated names are filled in
    before validating admission, and ``request.name`` stays empty for them.
    """
    kind, name, raw = record.kind, record.metadata.name, record.raw
    labels = dict(template_metadata.get("labels") or {})
    owner_kind, owner_name, owner_version = kind, name, str(raw.get("apiVersion", ""))
    if kind == "Deployment":
        owner_kind, owner_name = "ReplicaSet", f"{name}-{_HASH}"
        labels["pod-template-hash"] = _HASH
    elif kind == "StatefulSet":
        labels.update({"controller-revision-hash": f"{name}-{_HASH}", "apps.kubernetes.io/pod-index": "0",
                       "statefulset.kubernetes.io/pod-name": f"{name}-0"})
    elif kind == "DaemonSet":
        labels.update({"controller-revision-hash": _HASH, "pod-template-generation": "1"})
    elif kind in ("Job", "CronJob"):
        job = f"{name}-29000000" if kind == "CronJob" else name
        owner_kind, owner_name, owner_version = "Job", job, "batch/v1"
        labels.update({"batch.kubernetes.io/job-name": job, "job-name": job,
                       "batch.kubernetes.io/controller-uid": _UID, "controller-uid": _UID})
    owner = {"apiVersion": owner_version, "kind": owner_kind, "name": owner_name, "uid": _UID,
             "controller": True, "blockOwnerDeletion": True}
    metadata = {**template_metadata, "labels": labels, "ownerReferences": [owner]}
    if kind == "StatefulSet":
        return {**metadata, "name": f"{name}-0"}, f"{name}-0"
    return {**metadata, "name": f"{owner_name}-{_SUFFIX}", "generateName": f"{owner_name}-"}, ""


def _pod_request(record) -> tuple[Request, str] | None:
    """The Pod a workload's controller would create, and where its template is."""
    raw = record.raw
    if raw.get("kind") not in WORKLOAD_KINDS or fn.template_of(raw) is None:
        return None
    pod = fn.pod_template(raw)
    metadata, request_name = _pod_metadata(record, pod.get("metadata") or {})
    request = _request(canonical({**pod, "metadata": metadata}), record.metadata.namespace)
    where = "spec.jobTemplate.spec.template" if raw.get("kind") == "CronJob" else "spec.template"
    return attrs.evolve(request, name=request_name), where


def _matches(rule: AdmissionRule, request: Request, namespace_labels) -> bool:
    if not spec_matches(rule.constraints, request, namespace_labels):
        return False
    return rule.binding_match is None or spec_matches(rule.binding_match, request, namespace_labels)


# ---------------------------------------------------------------------------
# Canonical API form
# ---------------------------------------------------------------------------

_QUANTITY_MAPS = ("requests", "limits", "overhead", "hard", "capacity", "allocatable", "max", "min", "default",
                  "defaultRequest", "maxLimitRequestRatio")


def _canonical_quantities(values):
    if not isinstance(values, dict):
        return values
    out = {}
    for key, value in values.items():
        try:
            out[key] = str(parse_quantity(value)) if isinstance(value, (int, float, str)) and not isinstance(
                value, bool) else value
        except QuantityError:
            out[key] = value
    return out


def _canonical_spec(spec):
    """Pod spec quantities: container and pod resources, overhead, emptyDir size limits."""
    if not isinstance(spec, dict):
        return spec
    out = dict(spec)
    for key in ("containers", "initContainers", "ephemeralContainers"):
        if isinstance(out.get(key), list):
            out[key] = [_canonical_resources(c) for c in out[key]]
    out = _canonical_resources(out)
    if isinstance(out.get("overhead"), dict):
        out["overhead"] = _canonical_quantities(out["overhead"])
    if isinstance(out.get("volumes"), list):
        out["volumes"] = [_canonical_volume(v) for v in out["volumes"]]
    return out


def _canonical_resources(item):
    if not isinstance(item, dict) or not isinstance(item.get("resources"), dict):
        return item
    resources = {k: _canonical_quantities(v) if k in _QUANTITY_MAPS else v for k, v in item["resources"].items()}
    return {**item, "resources": resources}


def _canonical_volume(volume):
    if isinstance(volume, dict) and isinstance(volume.get("emptyDir"), dict) and "sizeLimit" in volume["emptyDir"]:
        limit = _canonical_quantities({"sizeLimit": volume["emptyDir"]["sizeLimit"]})["sizeLimit"]
        return {**volume, "emptyDir": {**volume["emptyDir"], "sizeLimit": limit}}
    return volume


def _canonical_template(holder):
    if isinstance(holder, dict) and isinstance(holder.get("template"), dict):
        template = holder["template"]
        return {**holder, "template": {**template, "spec": _canonical_spec(template.get("spec"))}}
    return holder


def canonical(obj: dict) -> dict:
    """``obj`` as the API server would serialise it: resource quantities in canonical form
    (``resource.Quantity.String``: ``0.5`` → ``"500m"``, ``1.5Gi`` → ``"1536Mi"``, ``2`` → ``"2"``)."""
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind == "Pod":
        spec = _canonical_spec(spec)
    elif kind == "CronJob" and isinstance(spec.get("jobTemplate"), dict):
        job = spec["jobTemplate"]
        spec = {**spec, "jobTemplate": {**job, "spec": _canonical_template(job.get("spec"))}}
    elif kind in WORKLOAD_KINDS or kind == "PodTemplate":
        spec = _canonical_template(spec)
    elif kind == "PersistentVolumeClaim":
        spec = _canonical_resources(spec)
    elif kind == "ResourceQuota":
        spec = {**spec, "hard": _canonical_quantities(spec.get("hard"))} if "hard" in spec else spec
    elif kind == "LimitRange" and isinstance(spec.get("limits"), list):
        spec = {**spec, "limits": [{k: _canonical_quantities(v) if k in _QUANTITY_MAPS else v
                                    for k, v in item.items()} if isinstance(item, dict) else item
                                   for item in spec["limits"]]}
    return {**obj, "spec": spec}


# ---------------------------------------------------------------------------
# Judging one request (validator.go, policy_dispatcher.go)
# ---------------------------------------------------------------------------


@attrs.frozen
class Verdict:
    """A rule's decision on one object: ``fail`` (denied) or ``error`` (failed to evaluate), and why;
    ``line`` is where in the object's file it applies (a workload's pod template), None for the object."""

    status: str
    severity: str
    message: str
    line: int | None = None


def judge(rule: AdmissionRule, record, context) -> Verdict | None:
    """The decision of ``rule`` on a CREATE of ``record`` (None: admitted or not matched).

    ``context`` offers ``namespace_object(name)``, ``namespace_labels(name)``
    and ``scope.unique`` (every loaded object), as the engine's context does.
    """
    namespace = record.metadata.namespace
    labels = context.namespace_labels(namespace)
    direct = _request(canonical(record.raw), namespace)
    requests = [(direct, "")] if _matches(rule, direct, labels) else []
    pod = _pod_request(record) if rule.constraints.equivalent else None
    if pod is not None and _matches(rule, pod[0], labels):
        requests.append(pod)
    for request, where in requests:
        verdict = _judge_request(rule, request, context)
        if verdict is not None:
            if where:
                verdict = attrs.evolve(verdict, message=f"{verdict.message} (the pods of {where})",
                                       line=template_line(record.source, where))
            return verdict
    return None


def template_line(source: Source, where: str) -> int | None:
    """The line of ``where`` (``spec.template``) in the document starting at ``source.line``."""
    for start, node in _documents(source.file):
        if start == source.line:
            return node_line(node, tuple(where.split(".")))
    return None


@functools.lru_cache(maxsize=64)
def _documents(file: str) -> tuple:
    try:
        text = Path(file).read_text(encoding="utf-8")
        return tuple((d.line, d.node) for d in load_documents(text))
    except (OSError, UnicodeDecodeError, YamlError):
        return ()


def _judge_request(rule: AdmissionRule, request: Request, context) -> Verdict | None:
    params, problem = _params(rule, request, context)
    if problem is not None:
        return _error(rule, f"failed to configure binding: {problem}")
    for param in params:
        verdict = _evaluate(rule, request, param, context)
        if verdict is not None:
            return verdict
    return None


def _params(rule: AdmissionRule, request: Request, context) -> tuple[list, str | None]:
    """Upstream ``CollectParams``: ``([params], None)`` or ``([], configuration error)``."""
    spec = rule.param
    if spec is None:
        return [None], None
    candidates = [r for r in context.scope.unique
                  if r.kind == spec.kind and str(r.raw.get("apiVersion", "")) == spec.api_version]
    namespaced = spec.kind not in CLUSTER_SCOPED and (
        spec.kind in ("ConfigMap", "Secret") or any(r.metadata.namespace for r in candidates) or not candidates)
    if namespaced:
        where = spec.namespace or request.namespace
        if where is None:
            return [], "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources"
        candidates = [r for r in candidates if r.metadata.namespace == where]
    elif spec.namespace:
        return [], "paramRef.namespace must not be provided for a cluster-scoped `paramKind`"
    if spec.name is not None:
        found = [r.raw for r in candidates if r.metadata.name == spec.name]
    else:
        found = [r.raw for r in candidates if spec.selector.matches(r.metadata.labels)]
    if not found and spec.deny_when_missing:
        return [], "no params found for policy binding with `Deny` parameterNotFoundAction"
    return found, None


def _error(rule: AdmissionRule, message: str) -> Verdict | None:
    """An evaluation or configuration error: denied under failurePolicy Fail, ignored under Ignore."""
    if rule.ignore_errors:
        return None
    return Verdict("error", rule.severity, _worded(rule, message))


def _worded(rule: AdmissionRule, message: str) -> str:
    """The message as the API server words it for the binding's first action (Deny, else Warn, else Audit)."""
    who = f"ValidatingAdmissionPolicy '{rule.policy}' with binding '{rule.binding}'"
    if "Deny" in rule.actions:
        return f"{who} denied request: {message}"
    if "Warn" in rule.actions:
        return f"Validation failed for {who}: {message}"
    return f"(Audit) Validation failed for {who}: {message}"


def _data(request: Request, param, context) -> dict:
    requester_now = _REQUESTER.get()
    namespace = context.namespace_object(request.namespace) if request.namespace is not None else None
    kind = {"group": request.group, "version": request.version, "kind": request.kind}
    resource = {"group": request.group, "version": request.version, "resource": request.resource}
    return {
        "object": request.obj,
        "oldObject": None,
        "params": param,
        "namespaceObject": namespace,
        "request": {
            "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
            "subResource": "", "requestSubResource": "",
            "name": request.name, "namespace": request.namespace or "", "operation": "CREATE",
            "userInfo": {"username": requester_now.username, "groups": list(requester_now.groups)},
            "dryRun": False, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
        "authorizer": fn.authorizer_value(requester_now.username, requester_now.groups, resource,
                                          request.namespace or "", request.name),
    }


def _evaluate(rule: AdmissionRule, request: Request, param, context) -> Verdict | None:
    data = _data(request, param, context)
    failures: dict[str, str] = {}
    values: dict = {}
    data["variables"] = values
    for name, text in rule.variables:
        try:
            values[name] = _run(text, data)
        except CelEvaluationError as err:
            failures[name] = str(err)
    condition = _conditions(rule, data, failures)
    if condition is not True:
        return None if condition is False else _error(rule, condition)
    if rule.has_validation:
        try:
            value = _run(rule.expression, data)
        except CelEvaluationError as err:
            return _error(rule, _explained(str(err), rule.expression, failures))
        if value is not True:
            return Verdict("fail", rule.severity, _worded(rule, _message(rule, data)))
    return _audit(rule, data, failures)


def _run(text: str, data: dict):
    return compile_expression(text, ADMISSION_VARIABLES).evaluate(Bindings(data, ADMISSION_VARIABLES))


def _explained(error: str, expression: str, failures: dict[str, str]) -> str:
    """An error that comes from reading a variable that failed names that variable's error (lazy variables)."""
    for name, problem in failures.items():
        if re.search(rf"\bvariables\.{re.escape(name)}\b", expression):
            return f"variables.{name}: {problem}"
    return f"expression '{expression.strip()}' resulted in error: {error}"


def _conditions(rule: AdmissionRule, data: dict, failures: dict[str, str]):
    """Upstream ``matchconditions.Matcher``: True, False (a false condition wins), or the first error."""
    first_error = None
    for name, text in rule.match_conditions:
        try:
            value = _run(text, data)
        except CelEvaluationError as err:
            first_error = first_error or f"failed to evaluate match condition {name!r}: " + _explained(
                str(err), text, failures)
            continue
        if value is False:
            return False
        if value is not True:
            first_error = first_error or f"match condition {name!r} did not return a bool"
    return first_error or True


def _message(rule: AdmissionRule, data: dict) -> str:
    """``messageExpression`` when it gives a non-empty, single-line string of at most 5 KiB; else ``message``;
    else ``failed expression: <expression>`` (validator.go)."""
    if rule.message_expression:
        try:
            text = _run(rule.message_expression, data)
        except CelEvaluationError:
            text = None
        if isinstance(text, str):
            text = text.strip()
            if text and len(text.encode()) <= MAX_MESSAGE_BYTES and "\n" not in text:
                return text
    if rule.message and rule.message.strip():
        return rule.message.strip()
    return f"failed expression: {rule.expression.strip()}"


def _audit(rule: AdmissionRule, data: dict, failures: dict[str, str]) -> Verdict | None:
    """Audit annotations: under failurePolicy Fail, a failing or non-string valueExpression denies the
    request whatever the binding's actions (validating/dispatcher.go, AuditAnnotationActionError)."""
    for key, text in rule.audit_annotations:
        try:
            value = _run(text, data)
        except CelEvaluationError as err:
            problem = f"audit annotation {key!r}: " + _explained(str(err), text, failures)
        else:
            if value is None or isinstance(value, str):
                continue
            problem = (f"valueExpression '{text}' resulted in unsupported return type: {type(value).__name__}. "
                       "Return type must be either string or null.")
        if rule.ignore_errors:
            return None
        who = f"ValidatingAdmissionPolicy '{rule.policy}' with binding '{rule.binding}'"
        return Verdict("error", "error", f"{who} denied request: {problem}")
    return None


__all__ = ["AdmissionObject", "AdmissionRule", "Requester", "Verdict", "admission_object", "canonical", "judge",
           "kind_to_resource", "requester", "rules_from_admission"]
