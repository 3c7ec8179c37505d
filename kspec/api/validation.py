"""Defaulted manifest dicts to frozen records, with the API server's validation.

Every check names the field path it concerns (``spec.template.spec.containers[0].image``)
and uses upstream's wording (field.ErrorList: ``Required value``, ``Invalid value:
"x": ...``, ``Unsupported value: "x": supported values: ...``), so that the loader
can print ``file:line: error: field: message``. Validation follows
pkg/apis/core/validation and pkg/apis/apps/validation for what kspec models.

As upstream collects a ``field.ErrorList``, an object's problems are reported
all at once: each builder reads its fields through an :class:`ErrorList`, which
keeps a field's error and goes on to the next field, in upstream's order
(metadata, then the spec field by field). A check that needs a value that
failed (the selector against the template's labels, a request against its
limit, the rolling update of an unsupported strategy type) is skipped, as
upstream skips what it cannot compute. :func:`build_record` raises the one
:class:`~kspec.errors.ValidationError`, or a :class:`ValidationErrors` holding
each of several.
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


# --------------------------------------------------------------------------- every error of an object


class ValidationErrors(ValidationError):
    """Several problems of one object, in the order validation found them
    (``errors``, each a :class:`~kspec.errors.ValidationError`). Its own
    ``path``, ``message`` and ``code`` are the first one's, so code that reports
    one error still reports a real one."""

    def __init__(self, errors):
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.path, first.message, first.code)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def each_error(error: ValidationError) -> tuple[ValidationError, ...]:
    """The single problems in ``error``: itself, or each of a :class:`ValidationErrors`."""
    return getattr(error, "errors", (error,))


class _Reported(Exception):
    """A part of the object whose problems are already in the :class:`ErrorList`:
    the record that would hold it is not built (a rejected object has no record)."""


class ErrorList:
    """Upstream's ``field.ErrorList``: every problem of one object.

    A builder reads each field with :meth:`field`, which answers None once the
    field's error is kept, so the fields after it are still read (upstream's
    ``allErrs = append(allErrs, ...)``); :meth:`complete` then stops the part
    from being built from missing values. Reads that cannot go on (a ``spec``
    that is not a mapping has no fields to read) just raise.
    """

    __slots__ = ("errors",)

    def __init__(self):
        self.errors: list[ValidationError] = []

    def add(self, error: ValidationError) -> None:
        self.errors.append(error)

    def field(self, read: Callable[..., Any], *args, **kwargs):
        """``read(*args, **kwargs)``, or None with its problems kept."""
        try:
            return read(*args, **kwargs)
        except ValidationError as error:
            self.errors.extend(each_error(error))
        except _Reported:
            pass
        return None

    def mark(self) -> int:
        """Where the part being built starts, for :meth:`complete`."""
        return len(self.errors)

    def complete(self, mark: int) -> None:
        """Raise :class:`_Reported` if a problem was kept since ``mark``."""
        if len(self.errors) > mark:
            raise _Reported


def _each(errs: ErrorList, d: dict, key: str, path: str, build: Callable[..., Any], **options):
    """``build(item, item_path, errs, **options)`` on each item of the list ``d[key]``,
    every item checked whatever its siblings hold; None if the list itself is bad."""
    items = d.get(key)
    if items is None:
        return ()
    field = f"{path}.{key}"
    items = errs.field(as_list, items, field)
    if items is None:
        return None
    return tuple(errs.field(build, item, f"{field}[{index}]", errs, **options) for index, item in enumerate(items))


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


def string_map(value, path: str, errs: ErrorList) -> FrozenDict:
    mapping = as_map(value, path)
    mark = errs.mark()
    for key, item in mapping.items():
        if not isinstance(item, str):
            errs.add(ValidationError(f"{path}.{key}", f"expected a string, got {_type_name(item)} {_go(item)}"))
    errs.complete(mark)
    return FrozenDict(mapping) if mapping else EMPTY


_VALID_LABELS: set = set()


def label_map(value, path: str, errs: ErrorList) -> FrozenDict:
    """metadata.labels: string values with valid keys and values (ValidateLabels), every pair checked."""
    labels = string_map(value, path, errs)
    mark = errs.mark()
    for pair in labels.items():
        if pair in _VALID_LABELS:
            continue
        key, item = pair
        key_errors = qualified_name_errors(key)
        if key_errors:
            errs.add(invalid(path, key, key_errors[0]))
        value_errors = label_value_errors(item)
        if value_errors:
            errs.add(invalid(f"{path}.{key}", item, value_errors[0]))
        if not key_errors and not value_errors and len(_VALID_LABELS) < 100_000:
            _VALID_LABELS.add(pair)
    errs.complete(mark)
    return labels


def annotation_map(value, path: str, errs: ErrorList) -> FrozenDict:
    annotations = string_map(value, path, errs)
    mark = errs.mark()
    for key in annotations:
        errors = qualified_name_errors(key.lower())
        if errors:
            errs.add(invalid(path, key, errors[0]))
    errs.complete(mark)
    return annotations


_RESOURCE_LISTS: dict = {}


def resource_list(value, path: str, errs: ErrorList) -> FrozenDict:
    """A resource list of non-negative quantities, every entry checked; identical lists are parsed once."""
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
    mark = errs.mark()
    parsed = {}
    for name, raw in mapping.items():
        one = errs.field(parse_resource_list, {name: raw}, path)
        if one is None:
            continue
        quantity = one[name]
        if quantity < _ZERO:
            errs.add(invalid(f"{path}.{name}", str(raw), "must be greater than or equal to 0"))
        parsed[name] = quantity
    errs.complete(mark)
    quantities = FrozenDict(parsed)
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


def build_meta(obj: dict, kind: str, namespaced: bool, errs: ErrorList, path: str = "metadata", *,
               name_required: bool = True, name_rule: str = "subdomain") -> o.ObjectMeta:
    """ValidateObjectMeta: name, namespace, labels, annotations, owner references."""
    meta = as_map(obj.get("metadata"), path)
    mark = errs.mark()
    field = errs.field
    name = field(get_str, meta, "name", path)
    generate_name = field(get_str, meta, "generateName", path)
    if name_required and name == "" and generate_name == "":
        errs.add(ValidationError(f"{path}.name", "Required value: name or generateName is required"))
    if name:
        field(_check_name, name, f"{path}.name", name_rule)
    namespace = None
    if namespaced:
        namespace = field(get_str, meta, "namespace", path, "default")
        if namespace is not None:
            field(dns_name, namespace, f"{path}.namespace", _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
    labels = field(label_map, meta.get("labels"), f"{path}.labels", errs)
    annotations = field(annotation_map, meta.get("annotations"), f"{path}.annotations", errs)
    owners = _each(errs, meta, "ownerReferences", path, _owner_ref)
    uid = field(get_str, meta, "uid", path)
    errs.complete(mark)
    return o.ObjectMeta(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations,
        owner_references=owners,
        uid=uid,
        generate_name=generate_name,
        deletion_timestamp=0 if meta.get("deletionTimestamp") else None,
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


def _owner_ref(value, path: str, errs: ErrorList) -> o.OwnerReference:
    ref = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    record = dict(
        api_version=field(get_str, ref, "apiVersion", path, require=True),
        kind=field(get_str, ref, "kind", path, require=True),
        name=field(get_str, ref, "name", path, require=True),
        uid=field(get_str, ref, "uid", path),
        controller=field(get_bool, ref, "controller", path),
        block_owner_deletion=field(get_bool, ref, "blockOwnerDeletion", path),
    )
    errs.complete(mark)
    return o.OwnerReference(**record)


# --------------------------------------------------------------------------- containers


def _port_name(name: str, path: str) -> None:
    """validation.IsValidPortName (IANA_SVC_NAME)."""
    if len(name) > 15 or not _IANA_SVC_NAME.match(name) or "--" in name \
            or name.startswith("-") or name.endswith("-") or not re.search("[a-z]", name):
        raise invalid(path, name, "must be no more than 15 characters, contain only lowercase alphanumeric "
                                  "characters or '-', contain at least one letter, and not start or end with '-'")


def _container_port(value, path: str, errs: ErrorList) -> o.ContainerPort:
    """validateContainerPorts: name, containerPort, hostPort, protocol."""
    port = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    name = field(get_str, port, "name", path)
    if name:
        field(_port_name, name, f"{path}.name")
    number = None
    if port.get("containerPort") is None:
        errs.add(required(f"{path}.containerPort"))
    else:
        number = field(get_int, port, "containerPort", path, None, minimum=1, maximum=65535)
    host_port = field(get_int, port, "hostPort", path, 0, minimum=0, maximum=65535)
    protocol = field(get_choice, port, "protocol", path, PROTOCOLS, "TCP")
    host_ip = field(get_str, port, "hostIP", path)
    errs.complete(mark)
    return o.ContainerPort(container_port=number, name=name, protocol=protocol, host_port=host_port, host_ip=host_ip)


def _probe(value, path: str, errs: ErrorList) -> o.Probe | None:
    if value is None:
        return None
    probe = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
    port = http_path = None
    if len(handlers) != 1:
        errs.add(ValidationError(path, "must specify exactly one handler (exec, httpGet, tcpSocket or grpc)"
                                 if not handlers else f"may not specify more than 1 handler type, got {handlers}"))
    else:
        handler = handlers[0]
        body = field(as_map, probe[handler], f"{path}.{handler}")
        if body is not None:
            port = body.get("port")
            if port is not None and not isinstance(port, (int, str)) or isinstance(port, bool):
                errs.add(ValidationError(f"{path}.{handler}.port", f"expected an integer or a port name, got {_go(port)}"))
            http_path = body.get("path") if isinstance(body.get("path"), str) else None
    record = dict(
        initial_delay_seconds=field(get_int, probe, "initialDelaySeconds", path, 0, minimum=0),
        timeout_seconds=field(get_int, probe, "timeoutSeconds", path, 1, minimum=1),
        period_seconds=field(get_int, probe, "periodSeconds", path, 10, minimum=1),
        success_threshold=field(get_int, probe, "successThreshold", path, 1, minimum=1),
        failure_threshold=field(get_int, probe, "failureThreshold", path, 3, minimum=1),
    )
    errs.complete(mark)
    return o.Probe(handler=handlers[0], port=port, path=http_path, **record)


def _security_context(value, path: str, errs: ErrorList) -> o.SecurityContext | None:
    if value is None:
        return None
    ctx = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    caps = field(as_map, ctx.get("capabilities"), f"{path}.capabilities")
    run_as_user = field(get_int, ctx, "runAsUser", path, None, bits=64)
    capabilities_add = field(get_strings, caps, "add", f"{path}.capabilities") if caps is not None else None
    errs.complete(mark)

    def flag(name: str) -> bool | None:
        return ctx.get(name) if isinstance(ctx.get(name), bool) else None

    return o.SecurityContext(
        privileged=flag("privileged"),
        allow_privilege_escalation=flag("allowPrivilegeEscalation"),
        run_as_non_root=flag("runAsNonRoot"),
        run_as_user=run_as_user,
        read_only_root_filesystem=flag("readOnlyRootFilesystem"),
        capabilities_add=capabilities_add,
    )


def _env_var(value, path: str, errs: ErrorList) -> o.EnvVar:
    var = as_map(value, path)
    mark = errs.mark()
    name = errs.field(get_str, var, "name", path, require=True)
    raw_value = var.get("value")
    if raw_value is not None and not isinstance(raw_value, str):
        errs.add(ValidationError(f"{path}.value", f"expected a string, got {_type_name(raw_value)} {_go(raw_value)}"))
    errs.complete(mark)
    source = var.get("valueFrom")
    return o.EnvVar(name, raw_value, next(iter(source), None) if isinstance(source, dict) else None)


def _resources(value, path: str, errs: ErrorList) -> o.Resources:
    res = as_map(value, path)
    mark = errs.mark()
    requests = errs.field(resource_list, res.get("requests"), f"{path}.requests", errs)
    limits = errs.field(resource_list, res.get("limits"), f"{path}.limits", errs)
    if requests is not None and limits is not None:
        for name, limit in limits.items():
            request = requests.get(name)
            if request is not None and request > limit and name in ("cpu", "memory", "ephemeral-storage"):
                errs.add(invalid(f"{path}.requests", str(request), f"must be less than or equal to {name} limit of {limit}"))
    errs.complete(mark)
    return o.Resources(requests, limits)


def _volume_mount(value, path: str, errs: ErrorList) -> o.VolumeMount:
    m = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    record = (field(get_str, m, "name", path, require=True), field(get_str, m, "mountPath", path, require=True),
              field(get_bool, m, "readOnly", path))
    errs.complete(mark)
    return o.VolumeMount(*record)


def build_container(value, path: str, errs: ErrorList, *, init: bool = False) -> o.Container:
    """validateContainerCommon and the container checks of validateContainers,
    in upstream's order: name, image, ports, env, volume mounts, pull policy,
    resources, security context, probes, restart policy."""
    c = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    name = field(get_str, c, "name", path, require=True)
    if name is not None:
        field(dns_name, name, f"{path}.name", _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
    image = field(get_str, c, "image", path)
    if image is not None and not image.strip():
        errs.add(required(f"{path}.image"))
    ports = _each(errs, c, "ports", path, _container_port)
    env = field(_env, c.get("env"), f"{path}.env", errs)
    mounts = _each(errs, c, "volumeMounts", path, _volume_mount)
    pull_policy = field(get_choice, c, "imagePullPolicy", path, ("Always", "IfNotPresent", "Never"), "IfNotPresent")
    resources = field(_resources, c.get("resources"), f"{path}.resources", errs)
    security_context = field(_security_context, c.get("securityContext"), f"{path}.securityContext", errs)
    liveness = field(_probe, c.get("livenessProbe"), f"{path}.livenessProbe", errs)
    readiness = field(_probe, c.get("readinessProbe"), f"{path}.readinessProbe", errs)
    startup = field(_probe, c.get("startupProbe"), f"{path}.startupProbe", errs)
    restart = field(get_str, c, "restartPolicy", path)
    if restart and (not init or restart != "Always"):
        errs.add(unsupported(f"{path}.restartPolicy", restart, ["Always"] if init else []))
    command = field(get_strings, c, "command", path)
    args = field(get_strings, c, "args", path)
    errs.complete(mark)
    return o.Container(
        name=name,
        image=image,
        image_pull_policy=pull_policy,
        command=command,
        args=args,
        ports=ports,
        env=env,
        resources=resources,
        volume_mounts=mounts,
        liveness_probe=liveness,
        readiness_probe=readiness,
        startup_probe=startup,
        security_context=security_context,
        restart_policy=restart or None,
    )


def _env(value, path: str, errs: ErrorList) -> tuple[o.EnvVar, ...]:
    items = as_list(value, path)
    mark = errs.mark()
    result = tuple(errs.field(_env_var, item, f"{path}[{index}]", errs) for index, item in enumerate(items))
    errs.complete(mark)
    return result


def _volume(value, path: str, errs: ErrorList) -> o.Volume:
    """ValidateVolumes, one volume: its source, then its name."""
    v = as_map(value, path)
    mark = errs.mark()
    sources = [k for k in v if k != "name"]
    if len(sources) > 1:
        errs.add(ValidationError(path, f"may not specify more than 1 volume type, got {sources}"))
    name = errs.field(get_str, v, "name", path, require=True)
    errs.complete(mark)
    source = sources[0] if sources else "emptyDir"
    details = v.get(source)
    flat = {k: x for k, x in details.items() if isinstance(x, (str, int, bool))} if isinstance(details, dict) else {}
    return o.Volume(name, source, FrozenDict(flat))


# --------------------------------------------------------------------------- scheduling constraints


def _node_requirement(value, path: str, errs: ErrorList, *, field: bool = False) -> o.NodeSelectorRequirement:
    r = as_map(value, path)
    mark = errs.mark()
    read = errs.field
    key = read(get_str, r, "key", path, require=True)
    op = read(get_str, r, "operator", path, require=True)
    values = read(get_strings, r, "values", path)
    if op is not None:
        if op not in NODE_SELECTOR_OPS:
            errs.add(unsupported(f"{path}.operator", op, NODE_SELECTOR_OPS))
        elif values is not None:
            if op in ("In", "NotIn") and not values:
                errs.add(required(f"{path}.values"))
            if op in ("Exists", "DoesNotExist") and values:
                errs.add(ValidationError(f"{path}.values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
            if op in ("Gt", "Lt"):
                if len(values) != 1:
                    errs.add(required(f"{path}.values") if not values else ValidationError(
                        f"{path}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"))
                else:
                    try:
                        int(values[0])
                    except ValueError:
                        errs.add(invalid(f"{path}.values[0]", values[0], "must be a valid integer"))
    if field and key is not None and key != "metadata.name":
        errs.add(unsupported(f"{path}.key", key, ["metadata.name"]))
    if field and op in NODE_SELECTOR_OPS and op not in ("In", "NotIn"):
        errs.add(unsupported(f"{path}.operator", op, ["In", "NotIn"]))
    errs.complete(mark)
    return o.NodeSelectorRequirement(key, op, values)


def _node_term(value, path: str, errs: ErrorList) -> o.NodeSelectorTerm:
    t = as_map(value, path)
    mark = errs.mark()
    expressions = _each(errs, t, "matchExpressions", path, _node_requirement)
    fields = _each(errs, t, "matchFields", path, _node_requirement, field=True)
    errs.complete(mark)
    return o.NodeSelectorTerm(match_expressions=expressions, match_fields=fields)


def _preferred_node_term(value, path: str, errs: ErrorList) -> o.PreferredSchedulingTerm:
    p = as_map(value, path)
    mark = errs.mark()
    weight = errs.field(get_int, p, "weight", path, 1, minimum=1, maximum=100)
    preference = errs.field(_node_term, p.get("preference"), f"{path}.preference", errs)
    errs.complete(mark)
    return o.PreferredSchedulingTerm(weight, preference)


def _node_affinity(value, path: str, errs: ErrorList) -> o.NodeAffinity | None:
    if value is None:
        return None
    na = as_map(value, path)
    mark = errs.mark()
    required_terms = None
    req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req is not None:
        req_path = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
        selector = errs.field(as_map, req, req_path)
        if selector is not None:
            terms = errs.field(as_list, selector.get("nodeSelectorTerms"), f"{req_path}.nodeSelectorTerms")
            if terms is not None and not terms:
                errs.add(required(f"{req_path}.nodeSelectorTerms"))
            elif terms:
                required_terms = tuple(errs.field(_node_term, t, f"{req_path}.nodeSelectorTerms[{i}]", errs)
                                       for i, t in enumerate(terms))
    preferred = _each(errs, na, "preferredDuringSchedulingIgnoredDuringExecution", path, _preferred_node_term)
    errs.complete(mark)
    return o.NodeAffinity(required_terms, preferred)


def _pod_affinity_term(value, path: str, errs: ErrorList) -> o.PodAffinityTerm:
    """validatePodAffinityTerm: selectors, namespaces, label keys, topology key."""
    t = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    label_selector = field(selector_at, lambda: selector_from_dict(t.get("labelSelector")), f"{path}.labelSelector")
    namespace_selector = None
    if "namespaceSelector" in t:
        namespace_selector = field(selector_at, lambda: selector_from_dict(t["namespaceSelector"]), f"{path}.namespaceSelector")
    namespaces = field(get_strings, t, "namespaces", path)
    match_label_keys = field(get_strings, t, "matchLabelKeys", path)
    mismatch_label_keys = field(get_strings, t, "mismatchLabelKeys", path)
    topology_key = field(get_str, t, "topologyKey", path, require=True)
    if topology_key:
        errors = qualified_name_errors(topology_key)
        if errors:
            errs.add(invalid(f"{path}.topologyKey", topology_key, errors[0]))
    errs.complete(mark)
    return o.PodAffinityTerm(
        topology_key=topology_key,
        label_selector=label_selector,
        namespaces=namespaces,
        namespace_selector=namespace_selector,
        match_label_keys=match_label_keys,
        mismatch_label_keys=mismatch_label_keys,
    )


def _weighted_pod_affinity_term(value, path: str, errs: ErrorList) -> o.WeightedPodAffinityTerm:
    w = as_map(value, path)
    mark = errs.mark()
    weight = errs.field(get_int, w, "weight", path, 1, minimum=1, maximum=100)
    term = errs.field(_pod_affinity_term, w.get("podAffinityTerm"), f"{path}.podAffinityTerm", errs)
    errs.complete(mark)
    return o.WeightedPodAffinityTerm(weight, term)


def _pod_affinity(value, path: str, errs: ErrorList) -> o.PodAffinity | None:
    if value is None:
        return None
    pa = as_map(value, path)
    mark = errs.mark()
    required_terms = _each(errs, pa, "requiredDuringSchedulingIgnoredDuringExecution", path, _pod_affinity_term)
    preferred = _each(errs, pa, "preferredDuringSchedulingIgnoredDuringExecution", path, _weighted_pod_affinity_term)
    errs.complete(mark)
    return o.PodAffinity(required_terms, preferred)


def _affinity(value, path: str, errs: ErrorList) -> o.Affinity | None:
    if value is None:
        return None
    a = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    record = dict(
        node_affinity=field(_node_affinity, a.get("nodeAffinity"), f"{path}.nodeAffinity", errs),
        pod_affinity=field(_pod_affinity, a.get("podAffinity"), f"{path}.podAffinity", errs),
        pod_anti_affinity=field(_pod_affinity, a.get("podAntiAffinity"), f"{path}.podAntiAffinity", errs),
    )
    errs.complete(mark)
    return o.Affinity(**record)


def build_toleration(value, path: str, errs: ErrorList) -> o.Toleration:
    """validateTolerations, in its order: the key, an empty key needs Exists,
    tolerationSeconds needs NoExecute, Exists takes no value, the effect."""
    t = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    key = field(get_str, t, "key", path)
    operator = field(get_str, t, "operator", path, "Equal")
    tol_value = field(get_str, t, "value", path)
    effect = field(get_str, t, "effect", path)
    seconds = field(get_int, t, "tolerationSeconds", path, None, bits=64)
    if key:
        errors = qualified_name_errors(key)
        if errors:
            errs.add(invalid(f"{path}.key", key, errors[0]))
    elif key is not None and operator is not None and operator != "Exists":
        errs.add(invalid(f"{path}.operator", operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
    if seconds is not None and effect is not None and effect != "NoExecute":
        errs.add(invalid(f"{path}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    if operator == "Exists":
        if tol_value:
            errs.add(invalid(f"{path}.operator", operator, "value must be empty when `operator` is 'Exists'"))
    elif operator is not None and operator != "Equal":
        errs.add(unsupported(f"{path}.operator", operator, ("Equal", "Exists")))
    if effect and effect not in TAINT_EFFECTS:
        errs.add(unsupported(f"{path}.effect", effect, TAINT_EFFECTS))
    errs.complete(mark)
    return o.Toleration(key, operator, tol_value, effect, seconds)


def build_taint(value, path: str, errs: ErrorList) -> o.Taint:
    """validateNodeTaints, one taint: key, value, effect."""
    t = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    key = field(get_str, t, "key", path, require=True)
    if key is not None:
        errors = qualified_name_errors(key)
        if errors:
            errs.add(invalid(f"{path}.key", key, errors[0]))
    taint_value = field(get_str, t, "value", path)
    if taint_value:
        errors = label_value_errors(taint_value)
        if errors:
            errs.add(invalid(f"{path}.value", taint_value, errors[0]))
    effect = field(get_str, t, "effect", path, require=True)
    if effect is not None and effect not in TAINT_EFFECTS:
        errs.add(unsupported(f"{path}.effect", effect, TAINT_EFFECTS))
    errs.complete(mark)
    return o.Taint(key, effect, taint_value)


def _spread(value, path: str, errs: ErrorList) -> o.TopologySpreadConstraint:
    """validateTopologySpreadConstraints, one constraint, in its order."""
    c = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    max_skew = None
    if c.get("maxSkew") is None:
        errs.add(required(f"{path}.maxSkew"))
    else:
        max_skew = field(get_int, c, "maxSkew", path, None, minimum=1)
    topology_key = field(get_str, c, "topologyKey", path, require=True)
    when = field(get_str, c, "whenUnsatisfiable", path, require=True)
    if when is not None and when not in ("DoNotSchedule", "ScheduleAnyway"):
        errs.add(unsupported(f"{path}.whenUnsatisfiable", when, ("DoNotSchedule", "ScheduleAnyway")))
    min_domains = field(get_int, c, "minDomains", path, None, minimum=1)
    if min_domains is not None and when is not None and when != "DoNotSchedule":
        errs.add(invalid(f"{path}.minDomains", min_domains, "can only use minDomains if whenUnsatisfiable=DoNotSchedule"))
    label_selector = field(selector_at, lambda: selector_from_dict(c.get("labelSelector")), f"{path}.labelSelector")
    affinity_policy = field(get_choice, c, "nodeAffinityPolicy", path, ("Honor", "Ignore"), "Honor")
    taints_policy = field(get_choice, c, "nodeTaintsPolicy", path, ("Honor", "Ignore"), "Ignore")
    match_label_keys = field(get_strings, c, "matchLabelKeys", path)
    errs.complete(mark)
    return o.TopologySpreadConstraint(
        max_skew=max_skew,
        topology_key=topology_key,
        when_unsatisfiable=when,
        label_selector=label_selector,
        min_domains=min_domains,
        node_affinity_policy=affinity_policy,
        node_taints_policy=taints_policy,
        match_label_keys=match_label_keys,
    )


# --------------------------------------------------------------------------- pod spec


def _volumes(s: dict, path: str, errs: ErrorList) -> tuple[o.Volume, ...] | None:
    """ValidateVolumes: each volume, and a name already taken is a duplicate."""
    items = errs.field(as_list, s.get("volumes"), f"{path}.volumes")
    if items is None:
        return None
    volumes = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        volumes.append(errs.field(_volume, item, f"{path}.volumes[{index}]", errs))
        _check_unique(item, seen, f"{path}.volumes[{index}].name", errs)
    return tuple(volumes)


def _check_unique(item, seen: set, path: str, errs: ErrorList) -> None:
    """A ``Duplicate value`` at ``path`` if ``item``'s name is in ``seen`` (else it is added)."""
    name = item.get("name") if isinstance(item, dict) else None
    if not isinstance(name, str) or not name:
        return
    if name in seen:
        errs.add(ValidationError(path, f'Duplicate value: "{name}"'))
    else:
        seen.add(name)


def _containers(items: list, path: str, seen: set, errs: ErrorList, *, init: bool = False) -> tuple:
    """validateContainers / validateInitContainers: each container, and a name
    already taken (by a container or an init container) is a duplicate."""
    containers = []
    for index, item in enumerate(items):
        containers.append(errs.field(build_container, item, f"{path}[{index}]", errs, init=init))
        _check_unique(item, seen, f"{path}[{index}].name", errs)
    return tuple(containers)


def build_pod_spec(value, path: str, errs: ErrorList, *, restart_policies=RESTART_POLICIES) -> o.PodSpec:
    """ValidatePodSpec, in its order: volumes, containers, init containers,
    restart policy, node selector, affinity, topology spread, service account,
    node name, tolerations, priority class, overhead; then kspec's other fields."""
    s = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    volumes = _volumes(s, path, errs)
    names: set[str] = set()
    containers_raw = field(as_list, s.get("containers"), f"{path}.containers")
    containers = None
    if containers_raw is not None and not containers_raw:
        errs.add(required(f"{path}.containers"))
    elif containers_raw:
        containers = _containers(containers_raw, f"{path}.containers", names, errs)
    inits_raw = field(as_list, s.get("initContainers"), f"{path}.initContainers")
    inits = _containers(inits_raw, f"{path}.initContainers", names, errs, init=True) if inits_raw is not None else None
    restart = field(get_str, s, "restartPolicy", path, "Always")
    if restart is not None and restart not in restart_policies:
        errs.add(unsupported(f"{path}.restartPolicy", restart, restart_policies))
    node_selector = field(string_map, s.get("nodeSelector"), f"{path}.nodeSelector", errs)
    affinity = field(_affinity, s.get("affinity"), f"{path}.affinity", errs)
    spread = _each(errs, s, "topologySpreadConstraints", path, _spread)
    service_account = field(get_str, s, "serviceAccountName", path)
    if service_account == "":
        service_account = field(get_str, s, "serviceAccount", path)
    node_name = field(get_str, s, "nodeName", path)
    tolerations = _each(errs, s, "tolerations", path, build_toleration)
    priority_class_name = field(get_str, s, "priorityClassName", path)
    overhead = field(resource_list, s.get("overhead"), f"{path}.overhead", errs)
    priority = field(get_int, s, "priority", path, None)
    scheduler_name = field(get_str, s, "schedulerName", path, "default-scheduler")
    host_network = field(get_bool, s, "hostNetwork", path)
    host_pid = field(get_bool, s, "hostPID", path)
    host_ipc = field(get_bool, s, "hostIPC", path)
    grace = field(get_int, s, "terminationGracePeriodSeconds", path, 30, minimum=0, bits=64)
    errs.complete(mark)
    return o.PodSpec(
        containers=containers,
        init_containers=inits,
        volumes=volumes,
        restart_policy=restart,
        node_name=node_name,
        node_selector=node_selector,
        affinity=affinity,
        tolerations=tolerations,
        topology_spread_constraints=spread,
        priority=priority,
        priority_class_name=priority_class_name,
        overhead=overhead,
        scheduler_name=scheduler_name,
        service_account_name=service_account,
        host_network=host_network,
        host_pid=host_pid,
        host_ipc=host_ipc,
        termination_grace_period_seconds=grace,
    )


def _pod_condition(value, path: str, errs: ErrorList) -> o.PodCondition:
    cond = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    record = (field(get_str, cond, "type", path, require=True), field(get_str, cond, "status", path, "Unknown"),
              field(get_str, cond, "reason", path))
    errs.complete(mark)
    return o.PodCondition(*record)


def _node_condition(value, path: str, errs: ErrorList) -> o.NodeCondition:
    cond = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    record = (field(get_str, cond, "type", path, require=True), field(get_str, cond, "status", path, "Unknown"),
              field(get_str, cond, "reason", path))
    errs.complete(mark)
    return o.NodeCondition(*record)


def _pod_status(value, path: str, errs: ErrorList) -> o.PodStatus:
    st = as_map(value, path)
    mark = errs.mark()
    conditions = _each(errs, st, "conditions", path, _pod_condition)
    phase = errs.field(get_choice, st, "phase", path, ("Pending", "Running", "Succeeded", "Failed", "Unknown"), "Pending")
    reason = errs.field(get_str, st, "reason", path)
    errs.complete(mark)
    return o.PodStatus(phase=phase, conditions=conditions, reason=reason)


def _check_selects_template(selector: Selector, template: dict, errs: ErrorList) -> None:
    """ValidatePodTemplateSpecForReplicaSet / ...ForRC: the selector selects the
    template's labels (as written: labels that are not a map of strings are
    reported as such, and this check is skipped)."""
    meta = template.get("metadata")
    meta = {} if meta is None else meta
    labels = meta.get("labels") if isinstance(meta, dict) else None
    labels = {} if labels is None and isinstance(meta, dict) else labels
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        return
    if not selector.matches(labels):
        error = invalid("spec.template.metadata.labels", dict(labels),
                        f"`selector` does not match template `labels` (selector: {selector})")
        error.code = SELECTOR_MISMATCH
        errs.add(error)


def _template(spec: dict, path: str, errs: ErrorList, *, selector: Selector | None = None,
              restart_policies=("Always",)) -> o.PodTemplate:
    """The pod template: the selector's match first (when there is a valid
    selector), then the template's metadata and pod spec."""
    tpath = f"{path}.template"
    template = as_map(spec.get("template"), tpath)
    if not template:
        raise required(tpath)
    mark = errs.mark()
    if selector is not None:
        _check_selects_template(selector, template, errs)
    meta = errs.field(build_meta, template, "PodTemplate", False, errs, f"{tpath}.metadata", name_required=False)
    pod_spec = errs.field(build_pod_spec, template.get("spec"), f"{tpath}.spec", errs, restart_policies=restart_policies)
    errs.complete(mark)
    return o.PodTemplate(meta, pod_spec)


# --------------------------------------------------------------------------- kinds


def _pod(obj: dict, source: o.Source, errs: ErrorList) -> o.Pod:
    mark = errs.mark()
    metadata = errs.field(build_meta, obj, "Pod", True, errs)
    spec = errs.field(build_pod_spec, obj.get("spec"), "spec", errs)
    status = errs.field(_pod_status, obj.get("status"), "status", errs)
    errs.complete(mark)
    return o.Pod(metadata=metadata, spec=spec, status=status, api_version=obj["apiVersion"], source=source, raw=obj)


def _node_spec(spec: dict, errs: ErrorList) -> o.NodeSpec:
    mark = errs.mark()
    field = errs.field
    record = dict(
        unschedulable=field(get_bool, spec, "unschedulable", "spec"),
        taints=_each(errs, spec, "taints", "spec", build_taint),
        pod_cidr=field(get_str, spec, "podCIDR", "spec"),
        provider_id=field(get_str, spec, "providerID", "spec"),
    )
    errs.complete(mark)
    return o.NodeSpec(**record)


def _node_status(status: dict, errs: ErrorList) -> o.NodeStatus:
    mark = errs.mark()
    record = dict(
        capacity=errs.field(resource_list, status.get("capacity"), "status.capacity", errs),
        allocatable=errs.field(resource_list, status.get("allocatable"), "status.allocatable", errs),
        conditions=_each(errs, status, "conditions", "status", _node_condition),
    )
    errs.complete(mark)
    return o.NodeStatus(**record)


def _node(obj: dict, source: o.Source, errs: ErrorList) -> o.Node:
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "Node", False, errs)
    spec = field(as_map, obj.get("spec"), "spec")
    node_spec = field(_node_spec, spec, errs) if spec is not None else None
    status = field(as_map, obj.get("status"), "status")
    node_status = field(_node_status, status, errs) if status is not None else None
    errs.complete(mark)
    return o.Node(metadata=metadata, spec=node_spec, status=node_status, api_version=obj["apiVersion"],
                  source=source, raw=obj)


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


def _spec(obj: dict, errs: ErrorList, mark: int) -> dict:
    """The object's ``spec`` mapping; when it is not one, nothing under it can be checked."""
    spec = errs.field(as_map, obj.get("spec"), "spec")
    if spec is None:
        errs.complete(mark)
    return spec


def _replication_controller(obj: dict, source: o.Source, errs: ErrorList) -> o.ReplicationController:
    """ValidateReplicationControllerSpec: minReadySeconds, selector, replicas, template."""
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "ReplicationController", True, errs)
    spec = _spec(obj, errs, mark)
    min_ready = field(get_int, spec, "minReadySeconds", "spec", 0, minimum=0)
    selector_map = field(string_map, spec.get("selector"), "spec.selector", errs)
    selector = None
    if selector_map is not None:
        if not selector_map:
            errs.add(required("spec.selector"))
        else:
            selector = field(selector_at, lambda: selector_from_map(selector_map), "spec.selector")
    replicas = field(_replicas, spec)
    template = field(_template, spec, "spec", errs, selector=selector)
    errs.complete(mark)
    return o.ReplicationController(
        metadata=metadata,
        spec=o.ReplicationControllerSpec(replicas, selector, selector_map, template, min_ready),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _selected_template(spec: dict, errs: ErrorList) -> tuple[Selector | None, o.PodTemplate | None]:
    """An apps/v1 controller's required selector, and the template it must select."""
    selector = errs.field(_label_selector, spec)
    template = errs.field(_template, spec, "spec", errs, selector=selector)
    return selector, template


def _replica_set(obj: dict, source: o.Source, errs: ErrorList) -> o.ReplicaSet:
    """ValidateReplicaSetSpec: replicas, minReadySeconds, selector, template."""
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "ReplicaSet", True, errs)
    spec = _spec(obj, errs, mark)
    replicas = field(_replicas, spec)
    min_ready = field(get_int, spec, "minReadySeconds", "spec", 0, minimum=0)
    selector, template = _selected_template(spec, errs)
    errs.complete(mark)
    return o.ReplicaSet(
        metadata=metadata,
        spec=o.ReplicaSetSpec(replicas, selector, template, min_ready),
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


def _strategy(spec: dict, errs: ErrorList) -> o.DeploymentStrategy:
    """ValidateDeploymentStrategy and ValidateRollingUpdateDeployment, in their order."""
    path = "spec.strategy"
    s = as_map(spec.get("strategy"), path)
    mark = errs.mark()
    kind = errs.field(get_choice, s, "type", path, ("RollingUpdate", "Recreate"), "RollingUpdate")
    rolling = s.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            errs.add(ValidationError(f"{path}.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'"))
        errs.complete(mark)
        return o.DeploymentStrategy("Recreate", None, None)
    errs.complete(mark)  # an unsupported type: upstream checks no rolling update then
    r = as_map(rolling, f"{path}.rollingUpdate")
    unavailable = errs.field(int_or_percent, r.get("maxUnavailable", "25%"), f"{path}.rollingUpdate.maxUnavailable")
    surge = errs.field(int_or_percent, r.get("maxSurge", "25%"), f"{path}.rollingUpdate.maxSurge")
    if _is_zero(surge) and _is_zero(unavailable):
        errs.add(invalid(f"{path}.rollingUpdate.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0"))
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        errs.add(invalid(f"{path}.rollingUpdate.maxUnavailable", unavailable, "must not be greater than 100%"))
    errs.complete(mark)
    return o.DeploymentStrategy("RollingUpdate", surge, unavailable)


def _deployment(obj: dict, source: o.Source, errs: ErrorList) -> o.Deployment:
    """ValidateDeploymentSpec: replicas, selector, template, strategy, minReadySeconds,
    revisionHistoryLimit, progressDeadlineSeconds."""
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "Deployment", True, errs)
    spec = _spec(obj, errs, mark)
    replicas = field(_replicas, spec)
    selector, template = _selected_template(spec, errs)
    strategy = field(_strategy, spec, errs)
    record = dict(
        min_ready_seconds=field(get_int, spec, "minReadySeconds", "spec", 0, minimum=0),
        revision_history_limit=field(get_int, spec, "revisionHistoryLimit", "spec", 10, minimum=0),
        progress_deadline_seconds=field(get_int, spec, "progressDeadlineSeconds", "spec", 600, minimum=0),
        paused=field(get_bool, spec, "paused", "spec"),
    )
    errs.complete(mark)
    return o.Deployment(
        metadata=metadata,
        spec=o.DeploymentSpec(replicas=replicas, selector=selector, template=template, strategy=strategy, **record),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _positive_percent(value, path: str):
    """An int-or-percent field that is not more than 100% (``IsNotMoreThan100Percent``)."""
    value = int_or_percent(value, path)
    if isinstance(value, str) and int(value[:-1]) > 100:
        raise invalid(path, value, "must not be greater than 100%")
    return value


def _update_strategy(spec: dict, errs: ErrorList, stateful: bool) -> o.UpdateStrategy:
    """``spec.updateStrategy`` of a StatefulSet (``ValidateStatefulSetUpdateStrategy``: a
    non-negative ``partition``, a ``maxUnavailable`` above 0) or a DaemonSet
    (``ValidateRollingUpdateDaemonSet``: exactly one of ``maxUnavailable`` and ``maxSurge`` non-zero)."""
    path = "spec.updateStrategy"
    s = as_map(spec.get("updateStrategy"), path)
    mark = errs.mark()
    kind = errs.field(get_choice, s, "type", path, ("RollingUpdate", "OnDelete"), "RollingUpdate")
    errs.complete(mark)
    if kind == "OnDelete":
        if s.get("rollingUpdate") is not None:
            errs.add(ValidationError(f"{path}.rollingUpdate",
                                     "Forbidden: only allowed for updateStrategy 'RollingUpdate'"))
        errs.complete(mark)
        return o.UpdateStrategy("OnDelete")
    r = as_map(s.get("rollingUpdate"), f"{path}.rollingUpdate")
    rpath = f"{path}.rollingUpdate"
    if stateful:
        partition = errs.field(get_int, r, "partition", rpath, 0, minimum=0)
        unavailable = errs.field(_positive_percent, r.get("maxUnavailable"), f"{rpath}.maxUnavailable")
        if _is_zero(unavailable):
            errs.add(invalid(f"{rpath}.maxUnavailable", unavailable, "cannot be 0"))
        errs.complete(mark)
        return o.UpdateStrategy("RollingUpdate", partition, unavailable)
    unavailable = errs.field(_positive_percent, r.get("maxUnavailable", 1), f"{rpath}.maxUnavailable")
    surge = errs.field(_positive_percent, r.get("maxSurge", 0), f"{rpath}.maxSurge")
    errs.complete(mark)
    if not _is_zero(unavailable) and not _is_zero(surge):  # exactly one of the two is non-zero
        errs.add(invalid(f"{rpath}.maxSurge", surge, "may not be set when maxUnavailable is non-zero"))
    elif _is_zero(unavailable) and _is_zero(surge):
        errs.add(ValidationError(f"{rpath}.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0"))
    errs.complete(mark)
    return o.UpdateStrategy("RollingUpdate", max_unavailable=unavailable, max_surge=surge)


def _stateful_set(obj: dict, source: o.Source, errs: ErrorList) -> o.StatefulSet:
    """ValidateStatefulSetSpec: podManagementPolicy, replicas, selector, template."""
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "StatefulSet", True, errs)
    spec = _spec(obj, errs, mark)
    policy = field(get_choice, spec, "podManagementPolicy", "spec", ("OrderedReady", "Parallel"), "OrderedReady")
    replicas = field(_replicas, spec)
    selector, template = _selected_template(spec, errs)
    service_name = field(get_str, spec, "serviceName", "spec")
    strategy = field(_update_strategy, spec, errs, True)
    errs.complete(mark)
    return o.StatefulSet(
        metadata=metadata,
        spec=o.StatefulSetSpec(replicas, selector, template, service_name, policy, strategy),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _daemon_set(obj: dict, source: o.Source, errs: ErrorList) -> o.DaemonSet:
    mark = errs.mark()
    metadata = errs.field(build_meta, obj, "DaemonSet", True, errs)
    spec = _spec(obj, errs, mark)
    selector, template = _selected_template(spec, errs)
    strategy = errs.field(_update_strategy, spec, errs, False)
    errs.complete(mark)
    return o.DaemonSet(
        metadata=metadata,
        spec=o.DaemonSetSpec(selector, template, strategy),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _job(obj: dict, source: o.Source, errs: ErrorList) -> o.Job:
    """ValidateJobSpec: parallelism, completions, backoffLimit, selector, template."""
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "Job", True, errs)
    spec = _spec(obj, errs, mark)
    parallelism = field(get_int, spec, "parallelism", "spec", 1, minimum=0)
    completions = field(get_int, spec, "completions", "spec", None, minimum=0)
    backoff_limit = field(get_int, spec, "backoffLimit", "spec", 6, minimum=0)
    raw_selector = spec.get("selector")
    selector = None
    if raw_selector is not None:
        selector = field(selector_at, lambda: selector_from_dict(raw_selector), "spec.selector")
    template = field(_template, spec, "spec", errs, restart_policies=("OnFailure", "Never"))
    errs.complete(mark)
    if raw_selector is None:
        selector = selector_from_map(template.metadata.labels)
    return o.Job(
        metadata=metadata,
        spec=o.JobSpec(selector, template, parallelism, completions, backoff_limit),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _target_port(p: dict, path: str, port: int):
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
    return target


def _service_port(value, path: str, errs: ErrorList, *, service_type: str | None, several: bool,
                  names: set) -> o.ServicePort:
    """validateServicePort: name (required with several ports, a DNS label, not
    taken), port, protocol, targetPort; then nodePort against the type."""
    p = as_map(value, path)
    mark = errs.mark()
    field = errs.field
    name = field(get_str, p, "name", path)
    if name == "" and several:
        errs.add(required(f"{path}.name"))
    elif name:
        field(dns_name, name, f"{path}.name", _DNS1123_LABEL, 63, "a lowercase RFC 1123 label")
        _check_unique(p, names, f"{path}.name", errs)
    port = None
    if p.get("port") is None:
        errs.add(required(f"{path}.port"))
    else:
        port = field(get_int, p, "port", path, None, minimum=1, maximum=65535)
    protocol = field(get_choice, p, "protocol", path, PROTOCOLS, "TCP")
    target = None
    if port is not None or "targetPort" in p and p["targetPort"] != p.get("port"):  # not defaulted from a bad port
        target = field(_target_port, p, path, port)
    node_port = field(get_int, p, "nodePort", path, None, minimum=0, maximum=65535)
    if node_port and service_type is not None and service_type not in ("NodePort", "LoadBalancer"):
        errs.add(ValidationError(f"{path}.nodePort", f"Forbidden: may not be used when `type` is '{service_type}'"))
    errs.complete(mark)
    return o.ServicePort(port=port, target_port=target, protocol=protocol, name=name, node_port=node_port or None)


def _service(obj: dict, source: o.Source, errs: ErrorList) -> o.Service:
    """ValidateService: metadata, then the type, the ports (or the external
    name), each port, the selector, session affinity."""
    mark = errs.mark()
    field = errs.field
    metadata = field(build_meta, obj, "Service", True, errs, name_rule="dns1035")
    spec = _spec(obj, errs, mark)
    service_type = field(get_choice, spec, "type", "spec", SERVICE_TYPES, "ClusterIP")
    cluster_ip = field(get_str, spec, "clusterIP", "spec")
    external_name = field(get_str, spec, "externalName", "spec")
    ports_raw = field(as_list, spec.get("ports"), "spec.ports")
    if service_type == "ExternalName":
        if external_name == "":
            errs.add(required("spec.externalName"))
    elif ports_raw == [] and cluster_ip is not None and cluster_ip != "None":
        errs.add(required("spec.ports"))
    ports = None
    if ports_raw is not None:
        names: set[str] = set()
        ports = tuple(field(_service_port, p, f"spec.ports[{i}]", errs, service_type=service_type,
                            several=len(ports_raw) > 1, names=names) for i, p in enumerate(ports_raw))
    selector = None
    if spec.get("selector") is not None:
        selector = field(label_map, spec["selector"], "spec.selector", errs)
    session_affinity = field(get_choice, spec, "sessionAffinity", "spec", ("None", "ClientIP"), "None")
    publish_not_ready = field(get_bool, spec, "publishNotReadyAddresses", "spec")
    errs.complete(mark)
    return o.Service(
        metadata=metadata,
        spec=o.ServiceSpec(
            type=service_type,
            selector=selector,
            ports=ports,
            cluster_ip=cluster_ip,
            external_name=external_name,
            session_affinity=session_affinity,
            publish_not_ready_addresses=publish_not_ready,
        ),
        api_version=obj["apiVersion"],
        source=source,
        raw=obj,
    )


def _namespace(obj: dict, source: o.Source, errs: ErrorList) -> o.Namespace:
    metadata = build_meta(obj, "Namespace", False, errs, name_rule="label")
    return o.Namespace(metadata, obj["apiVersion"], source, obj)


def _opaque(obj: dict, source: o.Source, errs: ErrorList) -> o.OpaqueObject:
    kind = obj["kind"]
    namespaced = kind not in o.CLUSTER_SCOPED_KINDS
    return o.OpaqueObject(kind, obj["apiVersion"], build_meta(obj, kind, namespaced, errs, name_rule="none"),
                          obj.get("spec"), source, obj)


BUILDERS: dict[str, Callable[[dict, o.Source, ErrorList], Any]] = {
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
    """A defaulted manifest to its record.

    Raises :class:`~kspec.errors.ValidationError` with a field path for one
    problem, :class:`ValidationErrors` (each problem with its path, in upstream's
    order) for several. A kind or apiVersion that is missing or not served
    stops validation there, as the API server cannot decode such an object.
    """
    _, kind = check_type_meta(obj)
    errs = ErrorList()
    record = None
    try:
        record = BUILDERS.get(kind, _opaque)(obj, source, errs)
    except ValidationError as error:  # the object's own shape (a spec that is not a mapping...)
        errs.errors.extend(each_error(error))
    except _Reported:
        pass
    if not errs.errors:
        return record
    if len(errs.errors) == 1:
        raise errs.errors[0]
    raise ValidationErrors(errs.errors)
