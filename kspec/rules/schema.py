"""Strict schema checks: unknown fields, unknown kinds, removed and deprecated API versions.

``kubectl apply`` asks the API server for strict field validation (the
``Strict`` fieldValidation of ``k8s.io/apiserver/pkg/endpoints/handlers``):
a field the type does not have is rejected with ``strict decoding error:
unknown field "spec.replica"``, and an object whose kind its group does not
serve is rejected with ``no matches for kind``. kspec reports both as
findings, read from the official OpenAPI schemas of the Kubernetes release
(shipped, converted to JSON schema, by the PyPI package ``kubernetes-validate``).

Only the built-in API groups are checked: a group the schemas do not name
(a CustomResourceDefinition's) is left alone. A type's schema is turned once
into a :class:`Shape` (allowed field names and the shapes below them); shapes
are cached per definition, so 10,000 Deployments build one.

Removed and deprecated versions follow the Kubernetes deprecation guide
(``kubernetes.io/docs/reference/using-api/deprecation-guide/``): a version
the target release no longer serves is a ``api-version-removed`` finding
naming the release that removed it and the version to use; one it still
serves but has deprecated is ``api-version-deprecated``. Removals since the
oldest shipped release (v1.25) are also read from the schemas themselves:
a version in one release's schemas and not in the target's was removed in
the first release without it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Iterable

import attrs

from kspec.errors import KspecError
from kspec.rules.rule import Rule, RuleSet

UNKNOWN_FIELD = "unknown-field"
UNKNOWN_KIND = "unknown-kind"
REMOVED = "api-version-removed"
DEPRECATED = "api-version-deprecated"
SCHEMA_ORIGIN = "schema"
_PACKAGE = "kubernetes_validate"
_SCHEMAS = "kubernetes-json-schema"
_REF = re.compile(r"#/\$defs/(.+)$")


class SchemaError(KspecError):
    """A Kubernetes version kspec has no schemas for."""


# --------------------------------------------------------------------------- the rules


def schema_rules() -> RuleSet:
    """The four strictness rules, as records (listed, selected and configured like the others)."""
    text = "evaluated by kspec.rules.schema from the Kubernetes OpenAPI schemas"
    return RuleSet((
        Rule(UNKNOWN_FIELD, text, "error", "Field the object's type does not have",
             "The API server decodes manifests strictly (kubectl apply asks for fieldValidation=Strict): a field "
             "the type does not have, such as spec.replica for spec.replicas, rejects the whole object; with "
             "client-side or lenient decoding it is silently dropped, so the setting never takes effect.",
             origin=SCHEMA_ORIGIN),
        Rule(UNKNOWN_KIND, text, "error", "Kind that its built-in API group does not serve",
             "A kind that its built-in API group does not have (kind: Deplyoment) is refused by the API server "
             "with 'no matches for kind'; nothing of the manifest is applied.",
             origin=SCHEMA_ORIGIN),
        Rule(REMOVED, text, "error", "API version that the target Kubernetes release no longer serves",
             "Removed API versions (extensions/v1beta1 Deployments, policy/v1beta1 PodDisruptionBudgets, ...) are "
             "refused by the API server of the release that removed them and every later one.",
             origin=SCHEMA_ORIGIN, equivalents=(("kube-score", ("stable-version",)),)),
        Rule(DEPRECATED, text, "warning", "Deprecated API version",
             "A deprecated API version still works but is scheduled for removal; the API server answers with a "
             "deprecation warning. Migrate before the release that removes it.",
             origin=SCHEMA_ORIGIN, equivalents=(("kube-score", ("stable-version",)),)),
    ))


def is_schema_rule(rule: Rule) -> bool:
    return rule.origin == SCHEMA_ORIGIN


# --------------------------------------------------------------------------- removed and deprecated versions

# (group/version, kind) -> (deprecated in, removed in, replacement), from the deprecation guide.
_V116 = {(gv, kind): ("1.9", "1.16", "apps/v1")
         for kind in ("Deployment", "DaemonSet", "ReplicaSet") for gv in ("extensions/v1beta1", "apps/v1beta2")}
_V116 |= {(gv, kind): ("1.9", "1.16", "apps/v1")
          for kind in ("Deployment", "StatefulSet", "ControllerRevision") for gv in ("apps/v1beta1", "apps/v1beta2")}
_V116 |= {("apps/v1beta2", "ControllerRevision"): ("1.9", "1.16", "apps/v1"),
          ("extensions/v1beta1", "NetworkPolicy"): ("1.9", "1.16", "networking.k8s.io/v1"),
          ("extensions/v1beta1", "PodSecurityPolicy"): ("1.11", "1.16", "policy/v1beta1")}
_V122 = {
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): "admissionregistration.k8s.io/v1",
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): "admissionregistration.k8s.io/v1",
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): "apiextensions.k8s.io/v1",
    ("apiregistration.k8s.io/v1beta1", "APIService"): "apiregistration.k8s.io/v1",
    ("authentication.k8s.io/v1beta1", "TokenReview"): "authentication.k8s.io/v1",
    ("authorization.k8s.io/v1beta1", "SubjectAccessReview"): "authorization.k8s.io/v1",
    ("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"): "authorization.k8s.io/v1",
    ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"): "authorization.k8s.io/v1",
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): "certificates.k8s.io/v1",
    ("coordination.k8s.io/v1beta1", "Lease"): "coordination.k8s.io/v1",
    ("extensions/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("networking.k8s.io/v1beta1", "Ingress"): "networking.k8s.io/v1",
    ("networking.k8s.io/v1beta1", "IngressClass"): "networking.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "Role"): "rbac.authorization.k8s.io/v1",
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding"): "rbac.authorization.k8s.io/v1",
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): "scheduling.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "CSIDriver"): "storage.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "CSINode"): "storage.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "StorageClass"): "storage.k8s.io/v1",
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): "storage.k8s.io/v1",
}
_V125 = {
    ("batch/v1beta1", "CronJob"): ("1.21", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.21", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): ("1.22", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.22", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.21", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.21", "Pod Security Admission (no replacement kind)"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.20", "node.k8s.io/v1"),
}
LIFECYCLE: dict[tuple[str, str], tuple[str, str | None, str]] = {
    **_V116,
    **{key: ("1.19", "1.22", use) for key, use in _V122.items()},
    **{key: (since, "1.25", use) for key, (since, use) in _V125.items()},
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.23", "1.26", "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"): ("1.23", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"): ("1.23", "1.26",
                                                                             "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.24", "1.27", "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"): ("1.26", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration"): ("1.26", "1.29",
                                                                             "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"): ("1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"): ("1.29", "1.32",
                                                                             "flowcontrol.apiserver.k8s.io/v1"),
    # deprecated, still served
    ("v1", "ComponentStatus"): ("1.19", None, "a health endpoint of each component"),
    ("v1", "Endpoints"): ("1.33", None, "discovery.k8s.io/v1 EndpointSlice"),
}
_HISTORICAL_GROUPS = frozenset({"extensions"})


def version_key(version: str) -> tuple[int, ...]:
    """``"1.25"`` (or ``v1.25.0``) as ``(1, 25)`` for comparisons."""
    parts = version.lstrip("v").split(".")[:2]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise SchemaError(f"not a Kubernetes version: {version!r} (expected MAJOR.MINOR, e.g. 1.30)") from None


def lifecycle_problem(api_version: str, kind: str, target: str) -> tuple[str, str] | None:
    """``(rule id, message)`` when ``api_version`` of ``kind`` is removed or deprecated at ``target``."""
    entry = LIFECYCLE.get((api_version, kind))
    if entry is None:
        return None
    deprecated, removed, use = entry
    if removed is not None and version_key(target) >= version_key(removed):
        return REMOVED, (f"{kind} {api_version} was removed in Kubernetes v{removed} "
                         f"(deprecated since v{deprecated}); use {use}")
    if version_key(target) >= version_key(deprecated):
        until = f", removed in v{removed}" if removed else ""
        return DEPRECATED, f"{kind} {api_version} is deprecated since Kubernetes v{deprecated}{until}; use {use}"
    return None


# --------------------------------------------------------------------------- shapes from the schemas


@attrs.frozen(eq=False)
class Shape:
    """What a JSON value of one schema may hold.

    ``fields`` (None when the schema does not restrict names) maps each field
    name to its shape name; ``values`` is the shape of a map's values or a
    list's items (a name, or None for anything).
    """

    fields: dict | None
    values: str | None
    is_list: bool = False


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref")
    if not ref:
        return None
    found = _REF.search(ref)
    return found.group(1) if found else None


class Schemas:
    """The strict schemas of one Kubernetes release, read lazily, shapes cached."""

    def __init__(self, version: str | None = None):
        available = shipped_versions()
        if not available:
            raise SchemaError("the kubernetes-validate package ships no schemas")
        target = version_key(version) if version else max(available)
        fitting = [v for v in available if v <= target]
        if not fitting:
            oldest = ".".join(map(str, min(available)))
            raise SchemaError(f"no schemas for Kubernetes {version}: the oldest shipped is {oldest}")
        self.schema_version = ".".join(map(str, max(fitting)))
        self.target = version or self.schema_version
        self._definitions: dict | None = None
        self._index: dict | None = None
        self._shapes: dict[str, Shape] = {}

    @property
    def definitions(self) -> dict:
        if self._definitions is None:
            folder = _schema_root() / f"v{self.schema_version}.0-local-strict"
            self._definitions = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))["$defs"]
        return self._definitions

    @property
    def index(self) -> dict:
        """``{group: {version: {kind: definition name}}}`` from the schemas' group-version-kinds."""
        if self._index is None:
            index: dict = {}
            for name, schema in self.definitions.items():
                for gvk in schema.get("x-kubernetes-group-version-kind") or ():
                    index.setdefault(gvk["group"], {}).setdefault(gvk["version"], {})[gvk["kind"]] = name
            self._index = index
        return self._index

    def shape(self, name: str) -> Shape:
        found = self._shapes.get(name)
        if found is None:
            found = self._shapes[name] = self._build(self.definitions.get(name) or {})
        return found

    def _build(self, schema: dict) -> Shape:
        ref = _ref_name(schema)
        if ref is not None:
            return self.shape(ref)
        if "items" in schema:
            return Shape(None, self._child(schema["items"]), is_list=True)
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        if properties is not None and extra is False:
            return Shape({key: self._child(value) for key, value in properties.items()}, None)
        if isinstance(extra, dict):
            return Shape(None, self._child(extra))
        return Shape(None, None)

    def _child(self, schema: dict) -> str | None:
        """A child schema as a shape name (anonymous schemas get one of their own)."""
        ref = _ref_name(schema)
        if ref is not None:
            return ref
        if "items" not in schema and "properties" not in schema and not isinstance(schema.get("additionalProperties"), dict):
            return None
        name = f"#anonymous:{id(schema)}"
        if name not in self._shapes:
            self._shapes[name] = self._build(schema)
        return name


@functools.lru_cache(maxsize=1)
def shipped_versions() -> tuple[tuple[int, ...], ...]:
    """The Kubernetes releases whose strict schemas the package ships, oldest first."""
    versions = []
    for entry in _schema_root().iterdir():
        found = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if found:
            versions.append((int(found.group(1)), int(found.group(2))))
    return tuple(sorted(versions))


def _schema_root() -> Path:
    """The package's schema folder, found without importing the package (its
    import loads jsonschema, some 30 ms of start-up that ``kspec check`` never uses)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError(f"the {_PACKAGE.replace('_', '-')} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _SCHEMAS


@functools.lru_cache(maxsize=4)
def schemas_for(version: str | None) -> Schemas:
    """One :class:`Schemas` per target release, shared by every check of the process."""
    return Schemas(version)


# --------------------------------------------------------------------------- checking one object


def unknown_fields(schemas: Schemas, shape_name: str, value) -> list[tuple]:
    """The paths (tuples of keys and indexes) of fields ``value`` has and its type does not."""
    found: list[tuple] = []
    _walk(schemas, schemas.shape(shape_name), value, (), found)
    return found


def _walk(schemas: Schemas, shape: Shape, value, path: tuple, found: list) -> None:
    if shape.is_list:
        if shape.values is not None and isinstance(value, list):
            child = schemas.shape(shape.values)
            for index, item in enumerate(value):
                _walk(schemas, child, item, path + (index,), found)
        return
    if not isinstance(value, dict):
        return
    fields = shape.fields
    if fields is None:
        if shape.values is not None:
            child = schemas.shape(shape.values)
            for key, item in value.items():
                _walk(schemas, child, item, path + (key,), found)
        return
    for key, item in value.items():
        if key not in fields:
            found.append(path + (key,))
            continue
        name = fields[key]
        if name is not None and item is not None:
            _walk(schemas, schemas.shape(name), item, path + (key,), found)


def field_text(path: tuple) -> str:
    """``("spec", "containers", 0, "imagePullPolcy")`` as ``spec.containers[0].imagePullPolcy``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def object_problems(schemas: Schemas, manifest: dict) -> list[tuple[str, str, tuple]]:
    """``(rule id, message, field path)`` for every strictness problem of one manifest."""
    api_version = manifest.get("apiVersion")
    kind = manifest.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    lifecycle = lifecycle_problem(api_version, kind, schemas.target)
    if lifecycle is not None and lifecycle[0] == REMOVED:
        return [(lifecycle[0], lifecycle[1], ("apiVersion",))]
    problems = [(lifecycle[0], lifecycle[1], ("apiVersion",))] if lifecycle else []
    group, version = split_api_version(api_version)
    versions = schemas.index.get(group)
    if versions is None:
        if group in _HISTORICAL_GROUPS:
            problems.append((UNKNOWN_KIND, f'no matches for kind "{kind}" in version "{api_version}"', ("kind",)))
        return problems
    definition = versions.get(version, {}).get(kind)
    if definition is None:
        history = served_history(group, version, kind)
        if history and history[-1] < version_key(schemas.target):
            problems.append((REMOVED, _removed_message(versions, group, api_version, kind, history), ("apiVersion",)))
        else:
            problems.append((UNKNOWN_KIND, _unknown_kind_message(versions, group, version, kind), ("kind",)))
        return problems
    for path in unknown_fields(schemas, definition, manifest):
        problems.append((UNKNOWN_FIELD, f'unknown field "{field_text(path)}"', path))
    return problems


def _served(versions: dict, group: str, kind: str) -> list[str]:
    return sorted(f"{group}/{v}" if group else v for v, kinds in versions.items() if kind in kinds)


def _removed_message(versions: dict, group: str, api_version: str, kind: str, history: list) -> str:
    last = ".".join(map(str, history[-1]))
    later = [v for v in shipped_versions() if v > history[-1]]
    removed = f"in Kubernetes v{'.'.join(map(str, later[0]))}" if later else "after"
    use = ", ".join(_served(versions, group, kind)) or "a served version"
    return f"{kind} {api_version} was removed {removed} (last served in v{last}); use {use}"


def served_history(group: str, version: str, kind: str) -> list[tuple[int, ...]]:
    """The shipped releases whose schemas have ``kind`` in ``group/version``, oldest first."""
    prefix = group.split(".")[0]
    name = f"{kind.lower()}-{prefix}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    return [v for v in shipped_versions() if name in _schema_files(v)]


@functools.lru_cache(maxsize=None)
def _schema_files(version: tuple[int, ...]) -> frozenset:
    folder = _schema_root() / f"v{version[0]}.{version[1]}.0-local-strict"
    return frozenset(entry.name for entry in folder.iterdir())


def _unknown_kind_message(versions: dict, group: str, version: str, kind: str) -> str:
    api_version = f"{group}/{version}" if group else version
    served = _served(versions, group, kind)
    if served:
        return f'no matches for kind "{kind}" in version "{api_version}" (served: {", ".join(served)})'
    kinds = sorted({k for kinds in versions.values() for k in kinds if not k.endswith("List")})
    import difflib  # deferred: start-up time (only an unknown kind asks for a suggestion)

    close = difflib.get_close_matches(kind, kinds, n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    where = f'group "{group}"' if group else "the core group (v1)"
    return f'no matches for kind "{kind}" in version "{api_version}": {where} has no such kind{hint}'


@attrs.frozen
class Problem:
    """One strictness problem of one loaded object."""

    rule_id: str
    message: str
    path: tuple
    record: object = attrs.field(eq=False)


def check_records(records: Iterable, enabled: Iterable[str], version: str | None = None) -> list[Problem]:
    """The problems of ``records`` (their manifests as written, before defaulting) for the ``enabled`` rules."""
    enabled = frozenset(enabled)
    if not enabled:
        return []
    schemas = schemas_for(version)
    problems: list[Problem] = []
    for record in records:
        manifest = getattr(record, "raw", None)
        if not isinstance(manifest, dict):
            continue
        for rule_id, message, path in object_problems(schemas, manifest):
            if rule_id in enabled:
                problems.append(Problem(rule_id, message, path, record))
    return problems


def removed_version_problem(manifest: dict, version: str | None = None) -> tuple[str, str] | None:
    """For a manifest the loader refused for its apiVersion: the removal finding, if it was removed."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    return lifecycle_problem(api_version, kind, schemas_for(version).target)


__all__ = ["DEPRECATED", "LIFECYCLE", "REMOVED", "UNKNOWN_FIELD", "UNKNOWN_KIND", "Problem", "SchemaError",
           "Schemas", "Shape", "check_records", "field_text", "is_schema_rule",
           "lifecycle_problem", "object_problems", "removed_version_problem", "schema_rules", "schemas_for",
           "served_history", "shipped_versions", "split_api_version", "unknown_fields", "version_key"]
