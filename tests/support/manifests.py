"""Kubernetes API objects for tests: nodes and pods from manifest dicts, through the real loader."""

from __future__ import annotations

from kspec.loading.cluster import Cluster
from kspec.loading.manifests import parse_object


def node(name="node", labels=None, alloc=None, taints=(), unschedulable=False, hostname=True):
    """A Node; ``alloc`` defaults to upstream fit_test's makeAllocatableResources(10, 20, 32, ...)."""
    labels = dict(labels or {})
    if hostname:
        labels.setdefault("kubernetes.io/hostname", name)
    alloc = {"cpu": "10m", "memory": "20", "pods": "32"} if alloc is None else alloc
    return parse_object({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"unschedulable": unschedulable, "taints": [dict(t) for t in taints]},
        "status": {"allocatable": dict(alloc), "capacity": dict(alloc)},
    })


def container(name="c", requests=None, ports=()):
    c = {"name": name, "image": "registry.example/app:1"}
    if requests:
        c["resources"] = {"requests": dict(requests)}
    if ports:
        c["ports"] = [dict(p) for p in ports]
    return c


def pod(name="pod", namespace="default", labels=None, requests=None, init=(), overhead=None,
        ports=(), node_name="", node_selector=None, affinity=None, tolerations=(), spread=(),
        containers=None, phase=None):
    """A Pod; ``init`` is a list of init-container request maps, ``containers`` a list of request maps."""
    spec: dict = {"containers": [container(f"c{i}", r, ports if i == 0 else ())
                                 for i, r in enumerate(containers or [requests])]}
    if init:
        spec["initContainers"] = [container(f"init{i}", r) for i, r in enumerate(init)]
    if overhead:
        spec["overhead"] = dict(overhead)
    if node_name:
        spec["nodeName"] = node_name
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if affinity:
        spec["affinity"] = affinity
    if tolerations:
        spec["tolerations"] = [dict(t) for t in tolerations]
    if spread:
        spec["topologySpreadConstraints"] = [dict(s) for s in spread]
    manifest = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
                "spec": spec}
    if phase:
        manifest["status"] = {"phase": phase}
    return parse_object(manifest)


def cluster(*objects):
    return Cluster.from_objects(objects)


def served_rc(name: str, replicas: int) -> str:
    """YAML of a ReplicationController ``name`` (label ``app: name``) and a
    Service of the same name selecting its pods: one app of a scenario."""
    return f"""\
apiVersion: v1
kind: ReplicationController
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{app: {name}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: nginx}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec: {{selector: {{app: {name}}}, ports: [{{port: 80}}]}}
"""


def served_rcs(*apps: tuple[str, int]) -> str:
    """Several :func:`served_rc` apps in one YAML stream."""
    return "---\n".join(served_rc(name, replicas) for name, replicas in apps)
