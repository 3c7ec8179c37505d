"""Defaulted manifest dicts to frozen records, with the API server's validation.

Every check names the field path it concerns (``spec.template.spec.containers[0].image``)
and uses upstream's wording (field.ErrorList: ``Required value``, ``Invalid value:
"x": ...``, ``Unsupported value: "x": supported values: ...``), so that the loader
can print ``file:line: error: field: message``. Validation follows
pkg/apis/core/validation and pkg/apis/apps/validation for what kspec models.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from kspec.api import objects as o
from kspec.errors import KspecError, ValidationError
from kspec.util.frozendict import EMPTY, FrozenDict
from kspec.api.labels import (
    Selector,
    label_value_errors,
    qualified_name_errors,
    selector_from_dict,
    selector_from_map,
)
from kspec.api.quantity import Quantity, parse_resource_list

_ZERO = Quantity.zero()

# Which apiVersion serves which modelled kind (removed versions are errors, as
# the API server answers "no matches for kind ... in version ...").
API_VERSIONS = {
    "Pod": ("v1",),
    "Node": ("v1",),
    "Service": ("v1",),
    "Namespace": ("v1",),
    "ReplicationController": ("v1",),
    "ReplicaSet": ("apps/v1",),
    "Deployment": ("apps/v1",),
    "StatefulSet": ("apps/v1",),
    "DaemonSet": ("apps/v1",),
    "Job": ("batch/v1",),
}

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_IANA_SVC_NAME = re.compile(r"[-a-z0-9]+\Z")

SELECTOR_MISMATCH = "selector-mismatch"
PROTOCOLS = ("TCP", "UDP", "SCTP")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
NODE_SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


# --------------------------------------------------------------------------- typed reads


def _go(value) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _type_name(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def invalid(path: str, value, detail: str) -> ValidationError:
    return ValidationError(path, f"Invalid value: {_go(value)}: {detail}")


def required(path: str) -> ValidationError:
    return ValidationError(path, "Required value")


def unsupported(path: str, value, supported) -> ValidationError:
    choices = ", ".join(_go(s) for s in supported)
    return ValidationError(path, f"Unsupported value: {_go(value)}: supported values: {choices}")


def as_map(value, path: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(path, f"expected a mapping, got {_type_name(value)} {_go(value)}")
    return value


def as_list(value, path: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(path, f"expected a list, got {_type_name(value)} {_go(value)}")
    return value


def get_str(d: dict, key: str, path: str, default: str = "", *, require: bool = False) -> str:
    value = d.get(key)
    if value is None or value == "":
        if require:
            raise required(f"{path}.{key}" if path else key)
        return default
    if not isinstance(value, str):
        raise ValidationError(f"{path}.{key}" if path else key, f"expected a string, got {_type_name(value)} {_go(value)}")
    return value


def get_int(d: dict, key: str, path: str, default: int | None = 0, *, minimum: int | None = None,
            maximum: int | None = None, bits: int = 32) -> int | None:
    """An integer field of Go type ``int32`` (most API integers) or ``int64`` (``bits=64``)."""
    field = f"{path}.{key}" if path else key
    value = d.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValidationError(field, f"expected an integer, got {_type_name(value)} {_go(value)}")
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        # the API server cannot decode it into the Go field
        raise ValidationError(field, f"json: cannot unmarshal number {value} into Go struct field of type int{bits}")
    if minimum is not None and value < minimum:
        raise invalid(field, value, f"must be greater than or equal to {minimum}")
    if maximum is not None and value > maximum:
        raise invalid(field, value, f"must be less than or equal to {maximum}")
    return value


def get_bool(d: dict, key: str, path: str, default: bool = False) -> bool:
    value = d.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"{path}.{key}", f"expected a boolean, got {_type_name(value)} {_go(value)}")
    return value


def get_choice(d: dict, key: str, path: str, choices, default: str) -> str:
    value = get_str(d, key, path, default)
    if value not in choices:
        raise unsupported(f"{path}.{key}", value, choices)
    return value


def get_strings(d: dict, key: str, path: str) -> tuple[str, ...]:
    items = as_list(d.get(key), f"{path}.{key}")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise ValidationError(f"{path}.{key}[{index}]", f"expected a string, got {_type_name(item)} {_go(item)}")
    return tuple(items)


def string_map(value, path: str) -> FrozenDict:
    mapping = as_map(value, path)
    for key, item in mapping.items():
        if not isinstance(item, str):
            raise ValidationError(f"{path}.{key}", f"expected a string, got {_type_name(item)} {_go(item)}")
    return FrozenDict(mapping) if mapping else EMPTY


_VALID_LABELS: set = set()


def label_map(value, path: str) -> FrozenDict:
    """metadata.labels: string values with valid keys and values (ValidateLabels)."""
    labels = string_map(value, path)
    for pair in labels.items():
        if pair in _VALID_LABELS:
            continue
        key, item = pair
        errors = qualified_name_errors(key)
        if errors:
            raise invalid(path, key, errors[0])
        errors = label_value_errors(item)
        if errors:
            raise invalid(f"{path}.{key}", item, errors[0])
        if len(_VALID_LABELS) < 100_000:
            _VALID_LABELS.add(pair)
    return labels


def annotation_map(value, path: str) -> FrozenDict:
    annotations = string_map(value, path)
    for key in annotations:
        errors = qualified_name_errors(key.lower())
        if errors:
            raise invalid(path, key, errors[0])
    return annotations


_RESOURCE_LISTS: dict = {}


def resource_list(value, path: str) -> FrozenDict:
    """A resource list of non-negative quantities; identical lists are parsed once."""
    mapping = as_map(value, path)
    if not mapping:
        return EMPTY
    try:
        key = tuple((name, type(v), v) for name, v in mapping.items())
        cached = _RESOURCE_LISTS.get(key)
    except TypeError:  # an unhashable value: let parsing report it
        key, cached = None, None
    if cached is not None:
        return cached
    quantities = parse_resource_list(mapping, path)
    for name, qty in quantities.items():
        if qty < _ZERO:
            raise invalid(f"{path}.{name}", str(mapping[name]), "must be greater than or equal to 0")
    if key is not None and len(_RESOURCE_LISTS) < 100_000:
        _RESOURCE_LISTS[key] = quantities
    return quantities


def dns_name(value: str, path: str, pattern=_DNS1123_SUBDOMAIN, max_len: int = 253,
             what: str = "a lowercase RFC 1123 subdomain") -> None:
    if len(value) > max_len:
        raise invalid(path, value, f"must be no more than {max_len} characters")
    if not pattern.match(value):
        raise invalid(path, value, f"{what} must consist of lower case alphanumeric characters, "
                                   "'-' or '.', and must start and end with an alphanumeric character")


def selector_at(build: Callable[[], Selector], path: str) -> Selector:
    try:
        return build()
    except KspecError as err:
        raise ValidationError(path, str(err)) from None


# --------------------------------------------------------------------------- metadata


def build_meta(obj: dict, kind: str, namespaced: bool, path: str = "metadata", *,
               name_required: bool = True, name_rule: str = "subdomain") -> o.ObjectMeta:
    meta = as_map(obj.get("metadata"), path)
    name = get_str(meta, "name", path)
    generate_name = get_str(meta, "generateName", path)
    if name_required and not name and not generate_name:
        raise ValidationError(f"{path}.name", "Required value: name or generateName is required")
    if name:
        _check_name(name, f"{path}.name", name_rule)
    namespace = None
    if namespaced:
        namespace = get_str(meta, "namespace", path, "default")
        dns_name(namespace, f"{path}.namespace", _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
    owners = tuple(_owner_ref(ref, f"{path}.ownerReferences[{i}]")
                   for i, ref in enumerate(as_list(meta.get("ownerReferences"), f"{path}.ownerReferences")))
    deletion = meta.get("deletionTimestamp")
    return o.ObjectMeta(
        name=name,
        namespace=namespace,
        labels=label_map(meta.get("labels"), f"{path}.labels"),
        annotations=annotation_map(meta.get("annotations"), f"{path}.annotations"),
        owner_references=owners,
        uid=get_str(meta, "uid", path),
        generate_name=generate_name,
        deletion_timestamp=0 if deletion else None,
    )


def _check_name(name: str, path: str, rule: str) -> None:
    if rule == "label":
        dns_name(name, path, _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
    elif rule == "dns1035":
        if len(name) > 63 or not _DNS1035_LABEL.match(name):
            raise invalid(path, name, "a DNS-1035 label must consist of lower case alphanumeric characters "
                                      "or '-', start with an alphabetic character, and end with an alphanumeric "
                                      "character")
    elif rule == "subdomain":
        dns_name(name, path)


def _owner_ref(value, path: str) -> o.OwnerReference:
    ref = as_map(value, path)
    return o.OwnerReference(
        api_version=get_str(ref, "apiVersion", path, require=True),
        kind=get_str(ref, "kind", path, require=True),
        name=get_str(ref, "name", path, require=True),
        uid=get_str(ref, "uid", path),
        controller=get_bool(ref, "controller", path),
        block_owner_deletion=get_bool(ref, "blockOwnerDeletion", path),
    )


# --------------------------------------------------------------------------- containers


def _port_name(name: str, path: str) -> None:
    """validation.IsValidPortName (IANA_SVC_NAME)."""
    if len(name) > 15 or not _IANA_SVC_NAME.match(name) or "--" in name \
            or name.startswith("-") or name.endswith("-") or not re.search("[a-z]", name):
        raise invalid(path, name, "must be no more than 15 characters, contain only lowercase alphanumeric "
                                  "characters or '-', contain at least one letter, and not start or end with '-'")


def _container_port(value, path: str) -> o.ContainerPort:
    port = as_map(value, path)
    number = get_int(port, "containerPort", path, None, minimum=1, maximum=65535)
    if number is None:
        raise required(f"{path}.containerPort")
    name = get_str(port, "name", path)
    if name:
        _port_name(name, f"{path}.name")
    return o.ContainerPort(
        container_port=number,
        name=name,
        protocol=get_choice(port, "protocol", path, PROTOCOLS, "TCP"),
        host_port=get_int(port, "hostPort", path, 0, minimum=0, maximum=65535),
        host_ip=get_str(port, "hostIP", path),
    )


def _probe(value, path: str) -> o.Probe | None:
    if value is None:
        return None
    probe = as_map(value, path)
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
    if len(handlers) != 1:
        raise ValidationError(path, "must specify exactly one handler (exec, httpGet, tcpSocket or grpc)"
                              if not handlers else f"may not specify more than 1 handler type, got {handlers}")
    handler = handlers[0]
    body = as_map(probe[handler], f"{path}.{handler}")
    port = body.get("port")
    if port is not None and not isinstance(port, (int, str)) or isinstance(port, bool):
        raise ValidationError(f"{path}.{handler}.port", f"expected an integer or a port name, got {_go(port)}")
    return o.Probe(
        handler=handler,
        port=port,
        path=body.get("path") if isinstance(body.get("path"), str) else None,
        initial_delay_seconds=get_int(probe, "initialDelaySeconds", path, 0, minimum=0),
        timeout_seconds=get_int(probe, "timeoutSeconds", path, 1, minimum=1),
        period_seconds=get_int(probe, "periodSeconds", path, 10, minimum=1),
        success_threshold=get_int(probe, "successThreshold", path, 1, minimum=1),
        failure_threshold=get_int(probe, "failureThreshold", path, 3, minimum=1),
    )


def _security_context(value, path: str) -> o.SecurityContext | None:
    if value is None:
        return None
    ctx = as_map(value, path)
    caps = as_map(ctx.get("capabilities"), f"{path}.capabilities")
    return o.SecurityContext(
        privileged=ctx.get("privileged") if isinstance(ctx.get("privileged"), bool) else None,
        allow_privilege_escalation=ctx.get("allowPrivilegeEscalation")
        if isinstance(ctx.get("allowPrivilegeEscalation"), bool) else None,
        run_as_non_root=ctx.get("runAsNonRoot") if isinstance(ctx.get("runAsNonRoot"), bool) else None,
        run_as_user=get_int(ctx, "runAsUser", path, None, bits=64),
        read_only_root_filesystem=ctx.get("readOnlyRootFilesystem")
        if isinstance(ctx.get("readOnlyRootFilesystem"), bool) else None,
        capabilities_add=get_strings(caps, "add", f"{path}.capabilities"),
    )


def _env(value, path: str) -> tuple[o.EnvVar, ...]:
    result = []
    for index, item in enumerate(as_list(value, path)):
        item_path = f"{path}[{index}]"
        var = as_map(item, item_path)
        name = get_str(var, "name", item_path, require=True)
        raw_value = var.get("value")
        if raw_value is not None and not isinstance(raw_value, str):
            raise ValidationError(f"{item_path}.value", f"expected a string, got {_type_name(raw_value)} {_go(raw_value)}")
        source = var.get("valueFrom")
        result.append(o.EnvVar(name, raw_value, next(iter(source), None) if isinstance(source, dict) else None))
    return tuple(result)


def _resources(value, path: str) -> o.Resources:
    res = as_map(value, path)
    requests = resource_list(res.get("requests"), f"{path}.requests")
    limits = resource_list(res.get("limits"), f"{path}.limits")
    for name, limit in limits.items():
        request = requests.get(name)
        if request is not None and request > limit and name in ("cpu", "memory", "ephemeral-storage"):
            raise invalid(f"{path}.requests", str(request), f"must be less than or equal to {name} limit of {limit}")
    return o.Resources(requests, limits)


def build_container(value, path: str, *, init: bool = False) -> o.Container:
    c = as_map(value, path)
    name = get_str(c, "name", path, require=True)
    dns_name(name, f"{path}.name", _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
    image = get_str(c, "image", path)
    if not image.strip():
        raise required(f"{path}.image")
    mounts = tuple(
        o.VolumeMount(get_str(m, "name", f"{path}.volumeMounts[{i}]", require=True),
                      get_str(m, "mountPath", f"{path}.volumeMounts[{i}]", require=True),
                      get_bool(m, "readOnly", f"{path}.volumeMounts[{i}]"))
        for i, m in enumerate(as_map(m, f"{path}.volumeMounts[{i}]") for i, m in
                              enumerate(as_list(c.get("volumeMounts"), f"{path}.volumeMounts")))
    )
    restart = get_str(c, "restartPolicy", path) or None
    if restart is not None and (not init or restart != "Always"):
        raise unsupported(f"{path}.restartPolicy", restart, ["Always"] if init else [])
    return o.Container(
        name=name,
        image=image,
        image_pull_policy=get_choice(c, "imagePullPolicy", path, ("Always", "IfNotPresent", "Never"), "IfNotPresent"),
        command=get_strings(c, "command", path),
        args=get_strings(c, "args", path),
        ports=tuple(_container_port(p, f"{path}.ports[{i}]") for i, p in enumerate(as_list(c.get("ports"), f"{path}.ports"))),
        env=_env(c.get("env"), f"{path}.env"),
        resources=_resources(c.get("resources"), f"{path}.resources"),
        volume_mounts=mounts,
        liveness_probe=_probe(c.get("livenessProbe"), f"{path}.livenessProbe"),
        readiness_probe=_probe(c.get("readinessProbe"), f"{path}.readinessProbe"),
        startup_probe=_probe(c.get("startupProbe"), f"{path}.startupProbe"),
        security_context=_security_context(c.get("securityContext"), f"{path}.securityContext"),
        restart_policy=restart,
    )


def _volume(value, path: str) -> o.Volume:
    v = as_map(value, path)
    name = get_str(v, "name", path, require=True)
    sources = [k for k in v if k != "name"]
    if len(sources) > 1:
        raise ValidationError(path, f"may not specify more than 1 volume type, got {sources}")
    source = sources[0] if sources else "emptyDir"
    details = v.get(source)
    flat = {k: x for k, x in details.items() if isinstance(x, (str, int, bool))} if isinstance(details, dict) else {}
    return o.Volume(name, source, FrozenDict(flat))


# --------------------------------------------------------------------------- scheduling constraints


def _node_requirement(value, path: str, *, field: bool = False) -> o.NodeSelectorRequirement:
    r = as_map(value, path)
    key = get_str(r, "key", path, require=True)
    op = get_str(r, "operator", path, require=True)
    values = get_strings(r, "values", path)
    if op not in NODE_SELECTOR_OPS:
        raise unsupported(f"{path}.operator", op, NODE_SELECTOR_OPS)
    if op in ("In", "NotIn") and not values:
        raise required(f"{path}.values")
    if op in ("Exists", "DoesNotExist") and values:
        raise ValidationError(f"{path}.values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    if op in ("Gt", "Lt"):
        if len(values) != 1:
            raise required(f"{path}.values") if not values else ValidationError(
                f"{path}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'")
        try:
            int(values[0])
        except ValueError:
            raise invalid(f"{path}.values[0]", values[0], "must be a valid integer") from None
    if field and key != "metadata.name":
        raise unsupported(f"{path}.key", key, ["metadata.name"])
    if field and op not in ("In", "NotIn"):
        raise unsupported(f"{path}.operator", op, ["In", "NotIn"])
    return o.NodeSelectorRequirement(key, op, values)


def _node_term(value, path: str) -> o.NodeSelectorTerm:
    t = as_map(value, path)
    return o.NodeSelectorTerm(
        match_expressions=tuple(_node_requirement(e, f"{path}.matchExpressions[{i}]")
                                for i, e in enumerate(as_list(t.get("matchExpressions"), f"{path}.matchExpressions"))),
        match_fields=tuple(_node_requirement(e, f"{path}.matchFields[{i}]", field=True)
                           for i, e in enumerate(as_list(t.get("matchFields"), f"{path}.matchFields"))),
    )


def _node_affinity(value, path: str) -> o.NodeAffinity | None:
    if value is None:
        return None
    na = as_map(value, path)
    required_terms = None
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req is not None:
        req_path = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
        terms = as_list(as_map(req, req_path).get("nodeSelectorTerms"), f"{req_path}.nodeSelectorTerms")
        if not terms:
            raise required(f"{req_path}.nodeSelectorTerms")
        required_terms = tuple(_node_term(t, f"{req_path}.nodeSelectorTerms[{i}]") for i, t in enumerate(terms))
    pref_path = f"{path}.preferredDuringSchedulingIgnoredDuringExecution"
    preferred = []
    for i, item in enumerate(as_list(na.get("preferredDuringSchedulingIgnoredDuringExecution"), pref_path)):
        p = as_map(item, f"{pref_path}[{i}]")
        preferred.append(o.PreferredSchedulingTerm(
            get_int(p, "weight", f"{pref_path}[{i}]", 1, minimum=1, maximum=100),
            _node_term(p.get("preference"), f"{pref_path}[{i}].preference")))
    return o.NodeAffinity(required_terms, tuple(preferred))


def _pod_affinity_term(value, path: str) -> o.PodAffinityTerm:
    t = as_map(value, path)
    topology_key = get_str(t, "topologyKey", path, require=True)
    errors = qualified_name_errors(topology_key)
    if errors:
        raise invalid(f"{path}.topologyKey", topology_key, errors[0])
    namespace_selector = None
    if "namespaceSelector" in t:
        namespace_selector = selector_at(lambda: selector_from_dict(t["namespaceSelector"]), f"{path}.namespaceSelector")
    return o.PodAffinityTerm(
        topology_key=topology_key,
        label_selector=selector_at(lambda: selector_from_dict(t.get("labelSelector")), f"{path}.labelSelector"),
        namespaces=get_strings(t, "namespaces", path),
        namespace_selector=namespace_selector,
        match_label_keys=get_strings(t, "matchLabelKeys", path),
        mismatch_label_keys=get_strings(t, "mismatchLabelKeys", path),
    )


def _pod_affinity(value, path: str) -> o.PodAffinity | None:
    if value is None:
        return None
    pa = as_map(value, path)
    req_path = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
    pref_path = f"{path}.preferredDuringSchedulingIgnoredDuringExecution"
    required_terms = tuple(_pod_affinity_term(t, f"{req_path}[{i}]")
                           for i, t in enumerate(as_list(pa.get("requiredDuringSchedulingIgnoredDuringExecution"), req_path)))
    preferred = []
    for i, item in enumerate(as_list(pa.get("preferredDuringSchedulingIgnoredDuringExecution"), pref_path)):
        w = as_map(item, f"{pref_path}[{i}]")
        preferred.append(o.WeightedPodAffinityTerm(
            get_int(w, "weight", f"{pref_path}[{i}]", 1, minimum=1, maximum=100),
            _pod_affinity_term(w.get("podAffinityTerm"), f"{pref_path}[{i}].podAffinityTerm")))
    return o.PodAffinity(required_terms, tuple(preferred))


def _affinity(value, path: str) -> o.Affinity | None:
    if value is None:
        return None
    a = as_map(value, path)
    return o.Affinity(
        node_affinity=_node_affinity(a.get("nodeAffinity"), f"{path}.nodeAffinity"),
        pod_affinity=_pod_affinity(a.get("podAffinity"), f"{path}.podAffinity"),
        pod_anti_affinity=_pod_affinity(a.get("podAntiAffinity"), f"{path}.podAntiAffinity"),
    )


def build_toleration(value, path: str) -> o.Toleration:
    """validateTolerations: Exists takes no value; an empty key needs Exists."""
    t = as_map(value, path)
    key = get_str(t, "key", path)
    operator = get_choice(t, "operator", path, ("Equal", "Exists"), "Equal")
    tol_value = get_str(t, "value", path)
    effect = get_str(t, "effect", path)
    if key:
        errors = qualified_name_errors(key)
        if errors:
            raise invalid(f"{path}.key", key, errors[0])
    elif operator != "Exists":
        raise invalid(f"{path}.operator", operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
    if operator == "Exists" and tol_value:
        raise invalid(f"{path}.operator", operator, "value must be empty when `operator` is 'Exists'")
    if effect and effect not in TAINT_EFFECTS:
        raise unsupported(f"{path}.effect", effect, TAINT_EFFECTS)
    seconds = get_int(t, "tolerationSeconds", path, None, bits=64)
    if seconds is not None and effect != "NoExecute":
        raise invalid(f"{path}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
    return o.Toleration(key, operator, tol_value, effect, seconds)


def build_taint(value, path: str) -> o.Taint:
    t = as_map(value, path)
    key = get_str(t, "key", path, require=True)
    errors = qualified_name_errors(key)
    if errors:
        raise invalid(f"{path}.key", key, errors[0])
    taint_value = get_str(t, "value", path)
    if taint_value:
        errors = label_value_errors(taint_value)
        if errors:
            raise invalid(f"{path}.value", taint_value, errors[0])
    effect = get_str(t, "effect", path, require=True)
    if effect not in TAINT_EFFECTS:
        raise unsupported(f"{path}.effect", effect, TAINT_EFFECTS)
    return o.Taint(key, effect, taint_value)


def _spread(value, path: str) -> o.TopologySpreadConstraint:
    c = as_map(value, path)
    max_skew = get_int(c, "maxSkew", path, None, minimum=1)
    if max_skew is None:
        raise required(f"{path}.maxSkew")
    when = get_str(c, "whenUnsatisfiable", path, require=True)
    if when not in ("DoNotSchedule", "ScheduleAnyway"):
        raise unsupported(f"{path}.whenUnsatisfiable", when, ("DoNotSchedule", "ScheduleAnyway"))
    min_domains = get_int(c, "minDomains", path, None, minimum=1)
    if min_domains is not None and when != "DoNotSchedule":
        raise invalid(f"{path}.minDomains", min_domains, "can only use minDomains if whenUnsatisfiable=DoNotSchedule")
    return o.TopologySpreadConstraint(
        max_skew=max_skew,
        topology_key=get_str(c, "topologyKey", path, require=True),
        when_unsatisfiable=when,
        label_selector=selector_at(lambda: selector_from_dict(c.get("labelSelector")), f"{path}.labelSelector"),
        min_domains=min_domains,
        node_affinity_policy=get_choice(c, "nodeAffinityPolicy", path, ("Honor", "Ignore"), "Honor"),
        node_taints_policy=get_choice(c, "nodeTaintsPolicy", path, ("Honor", "Ignore"), "Ignore"),
        match_label_keys=get_strings(c, "matchLabelKeys", path),
    )


# --------------------------------------------------------------------------- pod spec


def build_pod_spec(value, path: str, *, restart_policies=RESTART_POLICIES) -> o.PodSpec:
    s = as_map(value, path)
    containers_raw = as_list(s.get("containers"), f"{path}.containers")
    if not containers_raw:
        raise required(f"{path}.containers")
    containers = tuple(build_container(c, f"{path}.containers[{i}]") for i, c in enumerate(containers_raw))
    inits = tuple(build_container(c, f"{path}.initContainers[{i}]", init=True)
                  for i, c in enumerate(as_list(s.get("initContainers"), f"{path}.initContainers")))
    _unique_container_names(containers, inits, path)
    restart = get_str(s, "restartPolicy", path, "Always")
    if restart not in restart_policies:
        raise unsupported(f"{path}.restartPolicy", restart, restart_policies)
    volumes = tuple(_volume(v, f"{path}.volumes[{i}]") for i, v in enumerate(as_list(s.get("volumes"), f"{path}.volumes")))
    _unique_names([v.name for v in volumes], f"{path}.volumes")
    node_selector = string_map(s.get("nodeSelector"), f"{path}.nodeSelector")
    return o.PodSpec(
        containers=containers,
        init_containers=inits,
        volumes=volumes,
        restart_policy=restart,
        node_name=get_str(s, "nodeName", path),
        node_selector=node_selector,
        affinity=_affinity(s.get("affinity"), f"{path}.affinity"),
        tolerations=tuple(build_toleration(t, f"{path}.tolerations[{i}]")
                          for i, t in enumerate(as_list(s.get("tolerations"), f"{path}.tolerations"))),
        topology_spread_constraints=tuple(
            _spread(c, f"{path}.topologySpreadConstraints[{i}]")
            for i, c in enumerate(as_list(s.get("topologySpreadConstraints"), f"{path}.topologySpreadConstraints"))),
        priority=get_int(s, "priority", path, None),
        priority_class_name=get_str(s, "priorityClassName", path),
        overhead=resource_list(s.get("overhead"), f"{path}.overhead"),
        scheduler_name=get_str(s, "schedulerName", path, "default-scheduler"),
        service_account_name=get_str(s, "serviceAccountName", path) or get_str(s, "serviceAccount", path),
        host_network=get_bool(s, "hostNetwork", path),
        host_pid=get_bool(s, "hostPID", path),
        host_ipc=get_bool(s, "hostIPC", path),
        termination_grace_period_seconds=get_int(s, "terminationGracePeriodSeconds", path, 30, minimum=0, bits=64),
    )


def _unique_container_names(containers, inits, path: str) -> None:
    seen: set[str] = set()
    for field, group in (("containers", containers), ("initContainers", inits)):
        for index, container in enumerate(group):
            if container.name in seen:
                raise ValidationError(f"{path}.{field}[{index}].name", f'Duplicate value: "{container.name}"')
            seen.add(container.name)


def _unique_names(names, path: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise ValidationError(f"{path}[{index}].name", f'Duplicate value: "{name}"')
        seen.add(name)


def _pod_status(value, path: str) -> o.PodStatus:
    st = as_map(value, path)
    conditions = []
    for i, c in enumerate(as_list(st.get("conditions"), f"{path}.conditions")):
        cond = as_map(c, f"{path}.conditions[{i}]")
        conditions.append(o.PodCondition(get_str(cond, "type", f"{path}.conditions[{i}]", require=True),
                                         get_str(cond, "status", f"{path}.conditions[{i}]", "Unknown"),
                                         get_str(cond, "reason", f"{path}.conditions[{i}]")))
    phase = get_choice(st, "phase", path, ("Pending", "Running", "Succeeded", "Failed", "Unknown"), "Pending")
    return o.PodStatus(phase=phase, conditions=tuple(conditions), reason=get_str(st, "reason", path))


def _template(spec: dict, path: str, *, restart_policies=("Always",)) -> o.PodTemplate:
    tpath = f"{path}.template"
    template = as_map(spec.get("template"), tpath)
    if not template:
        raise required(tpath)
    meta = build_meta(template, "PodTemplate", False, f"{tpath}.metadata", name_required=False)
    pod_spec = build_pod_spec(template.get("spec"), f"{tpath}.spec", restart_policies=restart_policies)
    return o.PodTemplate(meta, pod_spec)


# --------------------------------------------------------------------------- kinds


def _pod(obj: dict, source: o.Source) -> o.Pod:
    return o.Pod(
        metadata=build_meta(obj, "Pod", True),
        spec=build_pod_spec(obj.get("spec"), "spec"),
        status=_pod_status(obj.get("status"), "status"),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _node(obj: dict, source: o.Source) -> o.Node:
    spec = as_map(obj.get("spec"), "spec")
    status = as_map(obj.get("status"), "status")
    conditions = []
    for i, c in enumerate(as_list(status.get("conditions"), "status.conditions")):
        cond = as_map(c, f"status.conditions[{i}]")
        conditions.append(o.NodeCondition(get_str(cond, "type", f"status.conditions[{i}]", require=True),
                                          get_str(cond, "status", f"status.conditions[{i}]", "Unknown"),
                                          get_str(cond, "reason", f"status.conditions[{i}]")))
    return o.Node(
        metadata=build_meta(obj, "Node", False),
        spec=o.NodeSpec(
            unschedulable=get_bool(spec, "unschedulable", "spec"),
            taints=tuple(build_taint(t, f"spec.taints[{i}]") for i, t in enumerate(as_list(spec.get("taints"), "spec.taints"))),
            pod_cidr=get_str(spec, "podCIDR", "spec"),
            provider_id=get_str(spec, "providerID", "spec"),
        ),
        status=o.NodeStatus(
            capacity=resource_list(status.get("capacity"), "status.capacity"),
            allocatable=resource_list(status.get("allocatable"), "status.allocatable"),
            conditions=tuple(conditions),
        ),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _check_selects_template(selector: Selector, template: o.PodTemplate, path: str) -> None:
    """ValidateReplicationControllerSpec / ValidateReplicaSetSpec: the selector selects the template."""
    if not selector.matches(template.metadata.labels):
        error = invalid("spec.template.metadata.labels", dict(template.metadata.labels),
                        f"`selector` does not match template `labels` (selector: {selector})")
        error.code = SELECTOR_MISMATCH
        raise error


def _replicas(spec: dict) -> int:
    return get_int(spec, "replicas", "spec", 1, minimum=0)


def _label_selector(spec: dict) -> Selector:
    raw = spec.get("selector")
    if raw is None:
        raise required("spec.selector")
    selector = selector_at(lambda: selector_from_dict(raw), "spec.selector")
    if selector.empty:
        raise invalid("spec.selector", raw, "empty selector is invalid for deployment")
    return selector


def _replication_controller(obj: dict, source: o.Source) -> o.ReplicationController:
    spec = as_map(obj.get("spec"), "spec")
    template = _template(spec, "spec")
    selector_map = string_map(spec.get("selector"), "spec.selector")
    if not selector_map:
        raise required("spec.selector")
    selector = selector_at(lambda: selector_from_map(selector_map), "spec.selector")
    _check_selects_template(selector, template, "spec")
    return o.ReplicationController(
        metadata=build_meta(obj, "ReplicationController", True),
        spec=o.ReplicationControllerSpec(_replicas(spec), selector, selector_map, template,
                                         get_int(spec, "minReadySeconds", "spec", 0, minimum=0)),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _selected_template(obj: dict) -> tuple[dict, Selector, o.PodTemplate]:
    """An apps/v1 controller's spec, its required selector, and the template it must select."""
    spec = as_map(obj.get("spec"), "spec")
    selector = _label_selector(spec)
    template = _template(spec, "spec")
    _check_selects_template(selector, template, "spec")
    return spec, selector, template


def _replica_set(obj: dict, source: o.Source) -> o.ReplicaSet:
    spec, selector, template = _selected_template(obj)
    return o.ReplicaSet(
        metadata=build_meta(obj, "ReplicaSet", True),
        spec=o.ReplicaSetSpec(_replicas(spec), selector, template, get_int(spec, "minReadySeconds", "spec", 0, minimum=0)),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def int_or_percent(value, path: str):
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(path, value, "must be an integer or percentage (e.g '5%')")
    if isinstance(value, int):
        if value >= 2**31:  # IntOrString holds an int32
            raise ValidationError(path, f"json: cannot unmarshal number {value} into Go struct field of type int32")
        if value < 0:
            raise invalid(path, value, "must be greater than or equal to 0")
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value):
        return value
    raise invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")


def _is_zero(value) -> bool:
    return value in (0, "0%")


def _strategy(spec: dict) -> o.DeploymentStrategy:
    path = "spec.strategy"
    s = as_map(spec.get("strategy"), path)
    kind = get_choice(s, "type", path, ("RollingUpdate", "Recreate"), "RollingUpdate")
    rolling = s.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            raise ValidationError(f"{path}.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'")
        return o.DeploymentStrategy("Recreate", None, None)
    r = as_map(rolling, f"{path}.rollingUpdate")
    surge = int_or_percent(r.get("maxSurge", "25%"), f"{path}.rollingUpdate.maxSurge")
    unavailable = int_or_percent(r.get("maxUnavailable", "25%"), f"{path}.rollingUpdate.maxUnavailable")
    if _is_zero(surge) and _is_zero(unavailable):
        raise invalid(f"{path}.rollingUpdate.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0")
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        raise invalid(f"{path}.rollingUpdate.maxUnavailable", unavailable, "must not be greater than 100%")
    return o.DeploymentStrategy("RollingUpdate", surge, unavailable)


def _deployment(obj: dict, source: o.Source) -> o.Deployment:
    spec, selector, template = _selected_template(obj)
    return o.Deployment(
        metadata=build_meta(obj, "Deployment", True),
        spec=o.DeploymentSpec(
            replicas=_replicas(spec),
            selector=selector,
            template=template,
            strategy=_strategy(spec),
            min_ready_seconds=get_int(spec, "minReadySeconds", "spec", 0, minimum=0),
            revision_history_limit=get_int(spec, "revisionHistoryLimit", "spec", 10, minimum=0),
            progress_deadline_seconds=get_int(spec, "progressDeadlineSeconds", "spec", 600, minimum=0),
            paused=get_bool(spec, "paused", "spec"),
        ),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _stateful_set(obj: dict, source: o.Source) -> o.StatefulSet:
    spec, selector, template = _selected_template(obj)
    return o.StatefulSet(
        metadata=build_meta(obj, "StatefulSet", True),
        spec=o.StatefulSetSpec(_replicas(spec), selector, template, get_str(spec, "serviceName", "spec"),
                               get_choice(spec, "podManagementPolicy", "spec", ("OrderedReady", "Parallel"), "OrderedReady")),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _daemon_set(obj: dict, source: o.Source) -> o.DaemonSet:
    spec, selector, template = _selected_template(obj)
    return o.DaemonSet(
        metadata=build_meta(obj, "DaemonSet", True),
        spec=o.DaemonSetSpec(selector, template),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _job(obj: dict, source: o.Source) -> o.Job:
    spec = as_map(obj.get("spec"), "spec")
    template = _template(spec, "spec", restart_policies=("OnFailure", "Never"))
    raw_selector = spec.get("selector")
    selector = selector_at(lambda: selector_from_dict(raw_selector), "spec.selector") \
        if raw_selector is not None else selector_from_map(template.metadata.labels)
    completions = get_int(spec, "completions", "spec", None, minimum=0)
    return o.Job(
        metadata=build_meta(obj, "Job", True),
        spec=o.JobSpec(selector, template, get_int(spec, "parallelism", "spec", 1, minimum=0), completions,
                       get_int(spec, "backoffLimit", "spec", 6, minimum=0)),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _service_port(value, path: str, service_type: str) -> o.ServicePort:
    p = as_map(value, path)
    port = get_int(p, "port", path, None, minimum=1, maximum=65535)
    if port is None:
        raise required(f"{path}.port")
    target = p.get("targetPort", port)
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise invalid(f"{path}.targetPort", target, "must be an integer or a port name")
    if isinstance(target, int):
        if not 1 <= target <= 65535:
            raise invalid(f"{path}.targetPort", target, "must be between 1 and 65535, inclusive")
    elif target.isdigit():
        target = int(target)
    else:
        _port_name(target, f"{path}.targetPort")
    node_port = get_int(p, "nodePort", path, None, minimum=0, maximum=65535)
    if node_port and service_type not in ("NodePort", "LoadBalancer"):
        raise ValidationError(f"{path}.nodePort", f"Forbidden: may not be used when `type` is '{service_type}'")
    name = get_str(p, "name", path)
    if name:
        dns_name(name, f"{path}.name", _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
    return o.ServicePort(port=port, target_port=target, protocol=get_choice(p, "protocol", path, PROTOCOLS, "TCP"),
                         name=name, node_port=node_port or None)


def _service(obj: dict, source: o.Source) -> o.Service:
    spec = as_map(obj.get("spec"), "spec")
    service_type = get_choice(spec, "type", "spec", SERVICE_TYPES, "ClusterIP")
    ports = tuple(_service_port(p, f"spec.ports[{i}]", service_type)
                  for i, p in enumerate(as_list(spec.get("ports"), "spec.ports")))
    cluster_ip = get_str(spec, "clusterIP", "spec")
    if service_type == "ExternalName":
        if not get_str(spec, "externalName", "spec"):
            raise required("spec.externalName")
    elif not ports and cluster_ip != "None":
        raise required("spec.ports")
    if len(ports) > 1:
        for index, port in enumerate(ports):
            if not port.name:
                raise required(f"spec.ports[{index}].name")
        _unique_names([p.name for p in ports], "spec.ports")
    selector = None
    if "selector" in spec and spec["selector"] is not None:
        selector = label_map(spec["selector"], "spec.selector")
    return o.Service(
        metadata=build_meta(obj, "Service", True, name_rule="dns1035"),
        spec=o.ServiceSpec(
            type=service_type,
            selector=selector,
            ports=ports,
            cluster_ip=cluster_ip,
            external_name=get_str(spec, "externalName", "spec"),
            session_affinity=get_choice(spec, "sessionAffinity", "spec", ("None", "ClientIP"), "None"),
            publish_not_ready_addresses=get_bool(spec, "publishNotReadyAddresses", "spec"),
        ),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _namespace(obj: dict, source: o.Source) -> o.Namespace:
    return o.Namespace(build_meta(obj, "Namespace", False, name_rule="label"), obj["apiVersion"], source, obj)


def _opaque(obj: dict, source: o.Source) -> o.OpaqueObject:
    kind = obj["kind"]
    namespaced = kind not in o.CLUSTER_SCOPED_KINDS
    return o.OpaqueObject(kind, obj["apiVersion"], build_meta(obj, kind, namespaced, name_rule="none"),
                          obj.get("spec"), source, obj)


BUILDERS: dict[str, Callable[[dict, o.Source], Any]] = {
    "Pod": _pod,
    "Node": _node,
    "ReplicationController": _replication_controller,
    "ReplicaSet": _replica_set,
    "Deployment": _deployment,
    "StatefulSet": _stateful_set,
    "DaemonSet": _daemon_set,
    "Job": _job,
    "Service": _service,
    "Namespace": _namespace,
}


def check_type_meta(obj: dict) -> tuple[str, str]:
    """apiVersion and kind are present, strings, and known together for modelled kinds."""
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    if not kind:
        raise required("kind")
    if not isinstance(kind, str):
        raise ValidationError("kind", f"expected a string, got {_type_name(kind)} {_go(kind)}")
    if not api_version:
        raise required("apiVersion")
    if not isinstance(api_version, str):
        raise ValidationError("apiVersion", f"expected a string, got {_type_name(api_version)} {_go(api_version)}")
    served = API_VERSIONS.get(kind)
    if served is not None and api_version not in served:
        raise ValidationError("apiVersion", f'no matches for kind "{kind}" in version "{api_version}" '
                                            f"(served: {', '.join(served)})")
    return api_version, kind


def build_record(obj: dict, source: o.Source):
    """A defaulted manifest to its record; raises ValidationError with a field path."""
    _, kind = check_type_meta(obj)
    builder = BUILDERS.get(kind, _opaque)
    return builder(obj, source)
