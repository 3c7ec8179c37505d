"""What was loaded, as a person wants to see it: the data behind ``kspec inspect``.

:func:`inspect` turns a :class:`~kspec.loading.manifests.LoadResult` into a plain,
JSON-ready dict whose shape is documented in the README ("kspec inspect -o
json") and versioned by its ``schema`` field.
"""

from __future__ import annotations

from collections import Counter

from kspec.util.frozendict import FrozenDict
from kspec.api.labels import selector_from_map
from kspec.api.objects import (
    WORKLOAD_KINDS,
    OpaqueObject,
    object_ref,
    pod_requests,
    total_quantity,
)

SCHEMA = "kspec.inspect/v1"


def quantities(resources: FrozenDict) -> dict:
    return {name: str(qty) for name, qty in resources.items()}


def _where(obj) -> dict:
    return {"file": obj.source.file, "line": obj.source.line}


def _replicas(obj) -> int | None:
    if obj.kind == "Pod":
        return 1
    return obj.spec.replicas


def _container(container, init: bool) -> dict:
    return {
        "name": container.name,
        "init": init,
        "image": container.image,
        "requests": quantities(container.resources.requests),
        "limits": quantities(container.resources.limits),
    }


def workload_entry(obj) -> dict:
    template = obj.spec if obj.kind == "Pod" else obj.spec.template.spec
    labels = obj.metadata.labels if obj.kind == "Pod" else obj.spec.template.metadata.labels
    per_pod = pod_requests(template)
    replicas = _replicas(obj)
    return {
        "ref": f"{obj.kind}/{obj.metadata.name}",
        "kind": obj.kind,
        "namespace": obj.metadata.namespace,
        "name": obj.metadata.name,
        "replicas": replicas,
        "pod_labels": dict(labels),
        "containers": [_container(c, True) for c in template.init_containers]
        + [_container(c, False) for c in template.containers],
        "requests_per_pod": quantities(per_pod),
        "requests_total": quantities(total_quantity(per_pod, replicas)) if replicas is not None else None,
        **_where(obj),
    }


def _pod_labels(obj) -> FrozenDict:
    return obj.metadata.labels if obj.kind == "Pod" else obj.spec.template.metadata.labels


def service_selects(service, workloads) -> list[str]:
    """Workloads (same namespace) whose pods the Service's selector picks.

    A Service with no selector, or an empty one, selects no pods: its
    endpoints are managed by hand (the endpoints controller skips it).
    """
    if not service.spec.selector:
        return []
    selector = selector_from_map(service.spec.selector, validate=False)
    return [
        f"{w.kind}/{w.metadata.name}"
        for w in workloads
        if w.metadata.namespace == service.metadata.namespace and selector.matches(_pod_labels(w))
    ]


def service_entry(service, workloads) -> dict:
    selects = service_selects(service, workloads)
    selector = dict(service.spec.selector) if service.spec.selector is not None else None
    return {
        "ref": f"Service/{service.metadata.name}",
        "namespace": service.metadata.namespace,
        "name": service.metadata.name,
        "type": service.spec.type,
        "selector": selector,
        "ports": [
            {"name": p.name, "port": p.port, "target_port": p.target_port, "protocol": p.protocol,
             "node_port": p.node_port}
            for p in service.spec.ports
        ],
        "selects": selects,
        "selects_nothing": service.spec.type != "ExternalName" and not selects,
        **_where(service),
    }


def node_entry(node) -> dict:
    return {
        "name": node.metadata.name,
        "labels": dict(node.metadata.labels),
        "allocatable": quantities(node.status.allocatable),
        "taints": [str(t) for t in node.spec.taints],
        "unschedulable": node.spec.unschedulable,
        "ready": node.ready,
        **_where(node),
    }


def _is_workload(obj) -> bool:
    return obj.kind in WORKLOAD_KINDS or (obj.kind == "Pod" and obj.metadata.controller_ref() is None)


def inspect(result) -> dict:
    """The ``kspec inspect`` document for a load result (duplicates listed, not merged)."""
    objects = result.objects
    workloads = [o for o in objects if _is_workload(o)]
    return {
        "schema": SCHEMA,
        "files": list(result.files),
        "summary": dict(sorted(Counter(o.kind for o in objects).items())),
        "objects": [
            {"kind": o.kind, "namespace": o.metadata.namespace, "name": o.metadata.name,
             "modelled": not isinstance(o, OpaqueObject), **_where(o)}
            for o in objects
        ],
        "workloads": [workload_entry(w) for w in workloads],
        "services": [service_entry(s, workloads) for s in objects if s.kind == "Service"],
        "nodes": [node_entry(n) for n in objects if n.kind == "Node"],
        "duplicates": [
            {"kind": a.kind, "namespace": a.metadata.namespace, "name": a.metadata.name,
             "first": _where(a), "second": _where(b)}
            for a, b in result.duplicates
        ],
        "not_modelled": [
            {"kind": o.kind, "api_version": o.api_version, "namespace": o.metadata.namespace,
             "name": o.metadata.name, **_where(o)}
            for o in objects if isinstance(o, OpaqueObject)
        ],
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }


__all__ = ["inspect", "SCHEMA", "object_ref"]
