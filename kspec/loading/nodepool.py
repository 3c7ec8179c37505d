"""Pools of identical nodes, declared once instead of N Node manifests.

From the command line (``--nodes``)::

    3:cpu=4,memory=16Gi                          three nodes, 110 pods each
    6:cpu=8,memory=32Gi;zones=a,b,c;name=big     spread round-robin over zones
    2:cpu=4,memory=8Gi;labels=disk=ssd;taints=dedicated=gpu:NoSchedule

From a file, a manifest of kspec's own kind::

    apiVersion: kspec.dev/v1
    kind: NodePool
    metadata: {name: worker}
    spec:
      count: 3
      allocatable: {cpu: "4", memory: 16Gi}
      labels: {disk: ssd}
      taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
      zones: [a, b, c]

Each node is named ``<name>-<i>`` and labelled like a real kubelet would label
it: ``kubernetes.io/hostname``, ``kubernetes.io/os=linux``,
``kubernetes.io/arch=amd64`` (and their ``beta.`` forms; ``labels=`` overrides
them) and, with zones, ``topology.kubernetes.io/zone``.
``pods`` defaults to 110 (the kubelet's default ``--max-pods``).

Generated names never collide. :func:`name_pools`, the one place that names
pool nodes (``--nodes`` in every verb, ``NodePool`` files, a scenario's
``nodes:``, ``kspec.load``), gives each pool the first run of consecutive
numbers whose names are free: Node manifests keep theirs, then ``NodePool``
files take theirs in load order, then ``--nodes`` pools in order. So
``models/myapp`` (node-1..node-3) with ``--nodes "3:cpu=4,memory=16Gi"`` gets
node-4, node-5 and node-6, and a manifest pinned to node-1 still means the
manifest's node-1.

All the pools of one run generate at most :data:`MAX_POOL_NODES` nodes
together (a :class:`PoolQuota` counts them): twice the 5,000 nodes Kubernetes
supports in one cluster, about 240 MB and 5 s for ``kspec schedule``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import attrs

from kspec.api.validation import as_list, as_map, get_int, get_str
from kspec.errors import ValidationError

POOL_KIND = "NodePool"
POOL_API_VERSION = "kspec.dev/v1"
DEFAULT_MAX_PODS = 110
MAX_POOL_NODES = 10_000
HOSTNAME_LABEL = "kubernetes.io/hostname"
ZONE_LABEL = "topology.kubernetes.io/zone"
# What a Linux/amd64 kubelet puts on its Node (well-known labels; the beta ones are still set).
KUBELET_LABELS = {
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "beta.kubernetes.io/arch": "amd64",
}


class PoolQuota:
    """The nodes the pools of one run may still generate (``limit`` in all)."""

    def __init__(self, limit: int = MAX_POOL_NODES):
        self.limit = limit
        self.left = limit

    def take(self, count: int, field: str) -> None:
        """Count ``count`` more nodes, or raise a ValidationError at ``field`` before any is made."""
        if count > self.left:
            others = self.limit - self.left
            raise ValidationError(field, f"Invalid value: {count}: the node pools would generate more than "
                                         f"{self.limit} nodes" + (f" ({others} from other pools)" if others else ""))
        self.left -= count


@attrs.frozen(eq=False)
class Pool:
    """One validated pool: what its nodes share. Their names come later, from
    :func:`name_pools`, once every other node name of the run is known."""

    name: str
    count: int
    allocatable: dict
    labels: dict
    taints: tuple
    zones: tuple[str, ...]


def read_pool(pool: dict, path: str = "", quota: PoolQuota | None = None) -> Pool:
    """A NodePool manifest, validated field by field, its count taken from ``quota``
    (a fresh one when None)."""
    meta = as_map(pool.get("metadata"), _p(path, "metadata"))
    name = get_str(meta, "name", _p(path, "metadata"), "node")
    spec = as_map(pool.get("spec"), _p(path, "spec"))
    count = get_int(spec, "count", _p(path, "spec"), None, minimum=0)
    if count is None:
        raise ValidationError(_p(path, "spec.count"), "Required value")
    (quota or PoolQuota()).take(count, _p(path, "spec.count"))
    allocatable = dict(as_map(spec.get("allocatable"), _p(path, "spec.allocatable")))
    allocatable.setdefault("pods", DEFAULT_MAX_PODS)
    labels = dict(as_map(spec.get("labels"), _p(path, "spec.labels")))
    taints = tuple(as_list(spec.get("taints"), _p(path, "spec.taints")))
    zones = tuple(str(z) for z in as_list(spec.get("zones"), _p(path, "spec.zones")))
    if "zone" in spec:
        zones = (str(spec["zone"]),)
    return Pool(name, count, allocatable, labels, taints, zones)


def name_pools(pools: Sequence[Pool], taken: Iterable[str] = ()) -> list[tuple[str, ...]]:
    """The node names of each pool, in order: ``<name>-<s>`` .. ``<name>-<s+count-1>``
    for the smallest ``s >= 0`` where none is ``taken`` (by a Node manifest) or
    given to an earlier pool. Deterministic, and unique across the run."""
    used = set(taken)
    result = []
    for pool in pools:
        start = index = 0
        while index < start + pool.count:  # each number is looked at once
            if f"{pool.name}-{index}" in used:
                start = index + 1
            index += 1
        names = tuple(f"{pool.name}-{i}" for i in range(start, start + pool.count))
        used.update(names)
        result.append(names)
    return result


def pool_node_manifests(pool: Pool, names: Sequence[str]) -> list[dict]:
    """The Node manifests of ``pool`` with these names (zones round-robin by position in the pool)."""
    nodes = []
    for index, node_name in enumerate(names):
        node_labels = {**KUBELET_LABELS, **pool.labels, HOSTNAME_LABEL: node_name}
        if pool.zones:
            node_labels[ZONE_LABEL] = pool.zones[index % len(pool.zones)]
        nodes.append({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": node_name, "labels": node_labels},
            "spec": {"taints": [dict(t) if isinstance(t, dict) else t for t in pool.taints]},
            "status": {
                "capacity": dict(pool.allocatable),
                "allocatable": dict(pool.allocatable),
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        })
    return nodes


def _p(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix else field


def parse_pool_spec(text: str, default_name: str = "node") -> dict:
    """A ``--nodes`` string to a NodePool manifest (see the module docstring)."""
    head, *options = [part.strip() for part in text.split(";")]
    count_text, _, resources = head.partition(":")
    if not count_text.strip().isdigit():
        raise ValidationError("--nodes", f'Invalid value: "{text}": expected COUNT:RESOURCE=QTY,... '
                                         '(e.g. "3:cpu=4,memory=16Gi")')
    spec: dict = {"count": int(count_text), "allocatable": _pairs(resources, text)}
    name = default_name
    for option in options:
        key, _, value = option.partition("=")
        key = key.strip()
        if key == "zones" or key == "zone":
            spec["zones"] = [z.strip() for z in value.split(",") if z.strip()]
        elif key == "labels":
            spec["labels"] = _pairs(value, text)
        elif key == "taints":
            spec["taints"] = [_taint(t, text) for t in value.split(",") if t.strip()]
        elif key == "name":
            name = value.strip()
        else:
            raise ValidationError("--nodes", f'Invalid value: "{text}": unknown option "{key}" '
                                             "(known: zones, labels, taints, name)")
    return {"apiVersion": POOL_API_VERSION, "kind": POOL_KIND, "metadata": {"name": name}, "spec": spec}


def _pairs(text: str, whole: str) -> dict:
    result = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise ValidationError("--nodes", f'Invalid value: "{whole}": expected KEY=VALUE, got "{item}"')
        result[key.strip()] = value.strip()
    return result


def _taint(text: str, whole: str) -> dict:
    body, sep, effect = text.rpartition(":")
    if not sep:
        raise ValidationError("--nodes", f'Invalid value: "{whole}": a taint is KEY[=VALUE]:EFFECT, got "{text}"')
    key, _, value = body.partition("=")
    taint = {"key": key.strip(), "effect": effect.strip()}
    if value:
        taint["value"] = value.strip()
    return taint
