"""The kube-scheduler Filter plugins, in plain Python.

One function per plugin, named after it, each deciding whether one pod fits
one node given the pods already bound (``pkg/scheduler/framework/plugins``):

==========================  ===================================================
``node_unschedulable``      NodeUnschedulable (``nodeunschedulable``)
``node_name``               NodeName (``nodename``)
``taint_toleration``        TaintToleration (``tainttoleration``)
``node_affinity``           NodeAffinity (``nodeaffinity``)
``node_ports``              NodePorts (``nodeports``)
``node_resources_fit``      NodeResourcesFit (``noderesources/fit.go``)
``pod_topology_spread``     PodTopologySpread (``podtopologyspread``)
``inter_pod_affinity``      InterPodAffinity (``interpodaffinity``)
==========================  ===================================================

:func:`filter_pod` runs them in the default profile's order and, like the
framework's ``RunFilterPlugins``, stops at the first plugin that rejects.
Every result carries upstream's status code (``Unschedulable`` or
``UnschedulableAndUnresolvable``) and upstream's reason strings.

"Pods already on the node" are the cluster's pods with ``spec.nodeName`` set
and a phase other than Succeeded or Failed (the scheduler cache drops terminal
pods); the pod being filtered is never counted against itself.

>>> import kspec
>>> from kspec.loading.manifests import parse_object
>>> from kspec.loading.cluster import Cluster
>>> node = parse_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
...     "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
...     "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}})
>>> pod = parse_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
...     "spec": {"containers": [{"name": "c", "image": "x",
...                               "resources": {"requests": {"cpu": "2"}}}]}})
>>> filter_pod(pod, node, Cluster([node]))
FilterResult(fits=False, code='UnschedulableAndUnresolvable', reasons=('node(s) had untolerated taint {dedicated: gpu}',), plugin='TaintToleration')
>>> node_resources_fit(pod, node, Cluster([node])).reasons
('Insufficient cpu',)
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Callable, Iterable, Mapping

import attrs

from kspec.api.labels import Selector, new_requirement
from kspec.api.objects import Node, Pod, PodSpec, Taint, Toleration, pod_requests

__all__ = [
    "UNSCHEDULABLE",
    "UNRESOLVABLE",
    "FilterResult",
    "Snapshot",
    "ALL",
    "PLUGIN_NAMES",
    "filter_pod",
    "node_unschedulable",
    "node_name",
    "taint_toleration",
    "node_affinity",
    "node_ports",
    "node_resources_fit",
    "pod_topology_spread",
    "inter_pod_affinity",
    "request_vector",
    "allocatable_vector",
    "host_ports",
    "ports_conflict",
    "node_selector_matches",
    "term_matches_node",
    "untolerated_taint",
    "affinity_term_matches",
    "effective_term_selector",
    "effective_spread_selector",
    "is_bound",
]

UNSCHEDULABLE = "Unschedulable"
UNRESOLVABLE = "UnschedulableAndUnresolvable"

# upstream reason strings
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_NODE_NAME = "node(s) didn't match the requested node name"
REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
REASON_SPREAD = "node(s) didn't match pod topology spread constraints"
REASON_SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"

UNSCHEDULABLE_TAINT = Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule")
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@attrs.frozen
class FilterResult:
    """One plugin's verdict (``framework.Status``): fits, or a code and reasons."""

    fits: bool
    code: str = ""
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    def __bool__(self) -> bool:
        return self.fits


FITS = FilterResult(True)


def _reject(plugin: str, code: str, *reasons: str) -> FilterResult:
    return FilterResult(False, code, tuple(reasons), plugin)


# --------------------------------------------------------------------------- the scheduler's view


def is_bound(pod) -> bool:
    """A pod the scheduler cache holds as assigned: nodeName set, not Succeeded or Failed."""
    return bool(pod.spec.node_name) and pod.status.phase not in ("Succeeded", "Failed")


class Snapshot:
    """The scheduler cache's view of a cluster: nodes, the pods bound to each, namespace labels.

    Built once from a :class:`~kspec.loading.cluster.Cluster` (``Snapshot.of``) and
    extended with :meth:`add` by the greedy scheduler, which binds pods one at
    a time; plugins only read it.
    """

    def __init__(self, nodes: Iterable[Node], pods: Iterable[Pod] = (), namespaces: Iterable = ()):
        self.nodes: dict[str, Node] = {node.metadata.name: node for node in nodes}
        self.anti_pods = 0  # bound pods with required anti-affinity (lets PreFilter skip work)
        self.pods_on: dict[str, list[Pod]] = defaultdict(list)
        self.requested: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.namespace_labels: dict[str, Mapping[str, str]] = {
            ns.metadata.name: {**ns.metadata.labels, NAMESPACE_NAME_LABEL: ns.metadata.name} for ns in namespaces
        }
        for pod in pods:
            if is_bound(pod):
                self.add(pod, pod.spec.node_name)

    @classmethod
    def of(cls, cluster) -> "Snapshot":
        if isinstance(cluster, Snapshot):
            return cluster
        return _snapshot_of(cluster)

    def add(self, pod: Pod, node_name: str) -> None:
        """Bind ``pod`` to ``node_name`` in this view (pods on unknown nodes are kept, like the cache)."""
        self.pods_on[node_name].append(pod)
        if _required(pod, "pod_anti_affinity"):
            self.anti_pods += 1
        requested = self.requested[node_name]
        for name, amount in request_vector(pod.spec).items():
            requested[name] += amount

    def labels_of_namespace(self, namespace: str) -> Mapping[str, str]:
        return self.namespace_labels.get(namespace, {NAMESPACE_NAME_LABEL: namespace})

    def bound_pods(self):
        """(node, pod) for every pod bound to a node that exists."""
        for name, node in self.nodes.items():
            for pod in self.pods_on.get(name, ()):
                yield node, pod

    def others_on(self, node_name: str, pod: Pod) -> list[Pod]:
        """Pods on ``node_name`` other than ``pod`` itself."""
        return [p for p in self.pods_on.get(node_name, ()) if not _same_pod(p, pod)]


def _same_pod(a: Pod, b: Pod) -> bool:
    return (a is b) or (a.metadata.name and a.metadata.name == b.metadata.name
                        and (a.metadata.namespace or "") == (b.metadata.namespace or "") and a == b)


@functools.lru_cache(maxsize=16)
def _snapshot_of(cluster) -> Snapshot:
    return Snapshot(cluster.nodes, cluster.pods, cluster.of_kind("Namespace"))


def _view(cluster, pod: Pod) -> tuple[Snapshot, Callable[[str], list[Pod]]]:
    snapshot = Snapshot.of(cluster)
    return snapshot, lambda node_name: snapshot.others_on(node_name, pod)


# --------------------------------------------------------------------------- NodeUnschedulable


def node_unschedulable(pod: Pod, node: Node, cluster=None) -> FilterResult:
    """NodeUnschedulable: ``spec.unschedulable`` rejects unless the pod tolerates
    ``node.kubernetes.io/unschedulable:NoSchedule``."""
    if node.spec.unschedulable and not any(t.tolerates(UNSCHEDULABLE_TAINT) for t in pod.spec.tolerations):
        return _reject("NodeUnschedulable", UNRESOLVABLE, REASON_UNSCHEDULABLE)
    return FITS


# --------------------------------------------------------------------------- NodeName


def node_name(pod: Pod, node: Node, cluster=None) -> FilterResult:
    """NodeName: ``spec.nodeName``, when set, must be this node."""
    if pod.spec.node_name and pod.spec.node_name != node.metadata.name:
        return _reject("NodeName", UNRESOLVABLE, REASON_NODE_NAME)
    return FITS


# --------------------------------------------------------------------------- TaintToleration


def untolerated_taint(taints: Iterable[Taint], tolerations: Iterable[Toleration],
                      effects=("NoSchedule", "NoExecute")) -> Taint | None:
    """v1helper.FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc: the first
    NoSchedule/NoExecute taint no toleration tolerates."""
    tolerations = tuple(tolerations)
    for taint in taints:
        if taint.effect in effects and not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def taint_reason(taint: Taint) -> str:
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


def taint_toleration(pod: Pod, node: Node, cluster=None) -> FilterResult:
    """TaintToleration: every NoSchedule and NoExecute taint must be tolerated
    (PreferNoSchedule is only scored)."""
    taint = untolerated_taint(node.spec.taints, pod.spec.tolerations)
    if taint is not None:
        return _reject("TaintToleration", UNRESOLVABLE, taint_reason(taint))
    return FITS


# --------------------------------------------------------------------------- NodeAffinity


def _requirement_matches(req, labels: Mapping[str, str]) -> bool:
    """corev1 nodeSelectorRequirementsAsSelector + Matches, per operator.

    Gt and Lt need exactly one integer value and an integer label; otherwise
    the requirement matches nothing (upstream drops the term with an error).
    """
    op, key, values = req.operator, req.key, req.values
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        if len(values) != 1 or key not in labels:
            return False
        try:
            bound, have = int(values[0]), int(labels[key])
        except ValueError:
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def _field_requirement_matches(req, node: Node) -> bool:
    """matchFields: only ``metadata.name`` with In or NotIn is valid upstream."""
    if req.key != "metadata.name" or req.operator not in ("In", "NotIn"):
        return False
    return _requirement_matches(req, {"metadata.name": node.metadata.name})


def term_matches_node(term, node: Node) -> bool:
    """One NodeSelectorTerm: its expressions and fields ANDed; an empty term matches nothing."""
    if not term.match_expressions and not term.match_fields:
        return False
    labels = node.metadata.labels
    return (all(_requirement_matches(r, labels) for r in term.match_expressions)
            and all(_field_requirement_matches(r, node) for r in term.match_fields))


def node_selector_matches(spec: PodSpec, node: Node) -> bool:
    """nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector AND any required term."""
    labels = node.metadata.labels
    for key, value in spec.node_selector.items():
        if labels.get(key) != value:
            return False
    affinity = spec.affinity.node_affinity if spec.affinity else None
    if affinity is not None and affinity.required is not None:
        return any(term_matches_node(term, node) for term in affinity.required)
    return True


def node_affinity(pod: Pod, node: Node, cluster=None) -> FilterResult:
    """NodeAffinity: ``nodeSelector`` and required node affinity (terms ORed, expressions ANDed)."""
    if not node_selector_matches(pod.spec, node):
        return _reject("NodeAffinity", UNRESOLVABLE, REASON_NODE_AFFINITY)
    return FITS


# --------------------------------------------------------------------------- NodePorts


def host_ports(spec: PodSpec) -> tuple[tuple[str, str, int], ...]:
    """(hostIP, protocol, hostPort) of every container port with a host port, sanitised
    like HostPortInfo (empty IP is 0.0.0.0, empty protocol is TCP)."""
    ports = []
    for container in spec.containers:
        for port in container.ports:
            if port.host_port > 0:
                ports.append((port.host_ip or "0.0.0.0", port.protocol or "TCP", port.host_port))
    return tuple(ports)


def ports_conflict(a: tuple[str, str, int], b: tuple[str, str, int]) -> bool:
    """HostPortInfo.CheckConflict: same protocol and port, and equal IPs or either 0.0.0.0."""
    ip_a, proto_a, port_a = a
    ip_b, proto_b, port_b = b
    if proto_a != proto_b or port_a != port_b:
        return False
    return ip_a == ip_b or ip_a == "0.0.0.0" or ip_b == "0.0.0.0"


def node_ports(pod: Pod, node: Node, cluster) -> FilterResult:
    """NodePorts: no wanted host port may conflict with one in use on the node."""
    wanted = host_ports(pod.spec)
    if not wanted:
        return FITS
    _, others = _view(cluster, pod)
    used = [p for other in others(node.metadata.name) for p in host_ports(other.spec)]
    if any(ports_conflict(w, u) for w in wanted for u in used):
        return _reject("NodePorts", UNSCHEDULABLE, REASON_NODE_PORTS)
    return FITS


# --------------------------------------------------------------------------- NodeResourcesFit

NATIVE = ("cpu", "memory", "ephemeral-storage")


def _is_scalar(name: str) -> bool:
    """schedutil.IsScalarResourceName: extended or prefixed-native (with a '/'),
    hugepages-*, attachable-volumes-*."""
    return "/" in name or name.startswith("hugepages-") or name.startswith("attachable-volumes-")


def _amount(name: str, quantity) -> int:
    """What the scheduler compares: MilliValue for cpu, Value (rounded up) otherwise."""
    return quantity.milli_value() if name == "cpu" else quantity.value()


@functools.lru_cache(maxsize=4096)
def request_vector(spec: PodSpec) -> dict[str, int]:
    """The effective request the scheduler checks (computePodResourceRequest), as integers:
    cpu in millicores, the rest in units; only cpu, memory, ephemeral-storage and scalar
    resources, zero requests dropped."""
    vector = {}
    for name, quantity in pod_requests(spec).items():
        if name in NATIVE or _is_scalar(name):
            amount = _amount(name, quantity)
            if amount:
                vector[name] = amount
    return vector


def allocatable_vector(node: Node) -> dict[str, int]:
    """Node allocatable as integers; ``pods`` is AllowedPodNumber; absent resources are 0."""
    return {name: _amount(name, qty) for name, qty in node.status.allocatable.items()}


def resource_reason(name: str) -> str:
    return f"Insufficient {name}"


def node_resources_fit(pod: Pod, node: Node, cluster) -> FilterResult:
    """NodeResourcesFit (fitsRequest): pod count, then every requested resource.

    All insufficient resources are reported, in upstream's order: ``Too many
    pods``, cpu, memory, ephemeral-storage, then scalar resources (sorted here;
    upstream iterates a map).
    """
    snapshot, others = _view(cluster, pod)
    name = node.metadata.name
    on_node = others(name)
    allocatable = allocatable_vector(node)
    reasons = []
    if len(on_node) + 1 > allocatable.get("pods", 0):
        reasons.append(REASON_TOO_MANY_PODS)
    wanted = request_vector(pod.spec)
    if wanted:
        requested = snapshot.requested.get(name, {})
        if len(on_node) != len(snapshot.pods_on.get(name, ())):  # the pod itself is bound here
            requested = dict(requested)
            for res, amount in wanted.items():
                requested[res] = requested.get(res, 0) - amount
        ordered = [r for r in NATIVE if r in wanted] + sorted(r for r in wanted if r not in NATIVE)
        for res in ordered:
            if wanted[res] > allocatable.get(res, 0) - requested.get(res, 0):
                reasons.append(resource_reason(res))
    if reasons:
        return _reject("NodeResourcesFit", UNSCHEDULABLE, *reasons)
    return FITS


# --------------------------------------------------------------------------- InterPodAffinity


def _with_label_keys(selector: Selector, labels: Mapping[str, str], match_keys, mismatch_keys) -> Selector:
    """matchLabelKeys / mismatchLabelKeys, merged into the selector as the API server does
    (``key in (value)`` / ``key notin (value)`` for keys the pod carries)."""
    if not selector.selectable:
        return selector
    extra = [new_requirement(k, "in", [labels[k]]) for k in match_keys if k in labels]
    extra += [new_requirement(k, "notin", [labels[k]]) for k in mismatch_keys if k in labels]
    return selector.add(*extra) if extra else selector


def effective_term_selector(term, owner_labels: Mapping[str, str]) -> Selector:
    return _with_label_keys(term.label_selector, owner_labels, term.match_label_keys, term.mismatch_label_keys)


def affinity_term_matches(term, owner_namespace: str, owner_labels: Mapping[str, str],
                          target_namespace: str, target_labels: Mapping[str, str],
                          namespace_labels: Mapping[str, str]) -> bool:
    """framework.AffinityTerm.Matches: the target is in the term's namespaces (its own
    namespace when none and no namespaceSelector) or selected by the namespaceSelector,
    and the label selector matches."""
    namespaces = term.namespaces
    if not namespaces and term.namespace_selector is None:
        namespaces = (owner_namespace,)
    in_namespace = target_namespace in namespaces or (
        term.namespace_selector is not None and term.namespace_selector.matches(namespace_labels))
    return in_namespace and effective_term_selector(term, owner_labels).matches(target_labels)


def _ns(obj) -> str:
    return obj.metadata.namespace or "default"


def _required(pod: Pod, which: str) -> tuple:
    affinity = pod.spec.affinity
    block = getattr(affinity, which, None) if affinity else None
    return block.required if block else ()


def _term_matches_pod(term, owner: Pod, target: Pod, snapshot: Snapshot) -> bool:
    return affinity_term_matches(term, _ns(owner), owner.metadata.labels, _ns(target),
                                 target.metadata.labels, snapshot.labels_of_namespace(_ns(target)))


class _AffinityState:
    """PreFilter of InterPodAffinity: topology pair counts for one incoming pod."""

    def __init__(self, pod: Pod, snapshot: Snapshot):
        self.affinity_terms = _required(pod, "pod_affinity")
        self.anti_terms = _required(pod, "pod_anti_affinity")
        self.affinity_counts: dict[tuple[str, str], int] = defaultdict(int)
        self.anti_counts: dict[tuple[str, str], int] = defaultdict(int)
        self.existing_anti: dict[tuple[str, str], int] = defaultdict(int)
        for node, other in snapshot.bound_pods():
            if _same_pod(other, pod):
                continue
            labels = node.metadata.labels
            # existing pods' anti-affinity terms that match the incoming pod
            for term in _required(other, "pod_anti_affinity"):
                if term.topology_key in labels and _term_matches_pod(term, other, pod, snapshot):
                    self.existing_anti[(term.topology_key, labels[term.topology_key])] += 1
            # the incoming pod's affinity: existing pods matching *all* its terms
            if self.affinity_terms and all(_term_matches_pod(t, pod, other, snapshot) for t in self.affinity_terms):
                for term in self.affinity_terms:
                    if term.topology_key in labels:
                        self.affinity_counts[(term.topology_key, labels[term.topology_key])] += 1
            for term in self.anti_terms:
                if term.topology_key in labels and _term_matches_pod(term, pod, other, snapshot):
                    self.anti_counts[(term.topology_key, labels[term.topology_key])] += 1
        self.self_match = bool(self.affinity_terms) and all(
            _term_matches_pod(t, pod, pod, snapshot) for t in self.affinity_terms)

    def satisfies_affinity(self, node: Node) -> bool:
        labels = node.metadata.labels
        pods_exist = True
        for term in self.affinity_terms:
            if term.topology_key not in labels:
                return False  # all topology labels must exist on the node
            if self.affinity_counts.get((term.topology_key, labels[term.topology_key]), 0) <= 0:
                pods_exist = False
        if pods_exist:
            return True
        # the first pod of a group with affinity to itself
        return not any(v > 0 for v in self.affinity_counts.values()) and self.self_match

    def satisfies_anti_affinity(self, node: Node) -> bool:
        labels = node.metadata.labels
        return not any(term.topology_key in labels
                       and self.anti_counts.get((term.topology_key, labels[term.topology_key]), 0) > 0
                       for term in self.anti_terms)

    def satisfies_existing_anti_affinity(self, node: Node) -> bool:
        return not any(self.existing_anti.get(pair, 0) > 0 for pair in node.metadata.labels.items())

    def check(self, node: Node) -> FilterResult:
        if not self.satisfies_affinity(node):
            return _reject("InterPodAffinity", UNRESOLVABLE, REASON_AFFINITY)
        if not self.satisfies_anti_affinity(node):
            return _reject("InterPodAffinity", UNSCHEDULABLE, REASON_ANTI_AFFINITY)
        if not self.satisfies_existing_anti_affinity(node):
            return _reject("InterPodAffinity", UNSCHEDULABLE, REASON_EXISTING_ANTI_AFFINITY)
        return FITS


def inter_pod_affinity(pod: Pod, node: Node, cluster) -> FilterResult:
    """InterPodAffinity: the incoming pod's required affinity (with the first-pod rule) and
    anti-affinity, and the existing pods' required anti-affinity, by topology domain."""
    return _AffinityState(pod, Snapshot.of(cluster)).check(node)


# --------------------------------------------------------------------------- PodTopologySpread


def effective_spread_selector(constraint, pod_labels: Mapping[str, str]) -> Selector:
    return _with_label_keys(constraint.label_selector, pod_labels, constraint.match_label_keys, ())


def _hard_constraints(spec: PodSpec) -> tuple:
    return tuple(c for c in spec.topology_spread_constraints if c.when_unsatisfiable == "DoNotSchedule")


def spread_node_included(constraint, spec: PodSpec, node: Node) -> bool:
    """MatchNodeInclusionPolicies: nodeAffinityPolicy Honor (default) counts only nodes the pod's
    required node affinity selects; nodeTaintsPolicy Honor only nodes whose taints it tolerates."""
    if constraint.node_affinity_policy != "Ignore" and not node_selector_matches(spec, node):
        return False
    if constraint.node_taints_policy == "Honor" and untolerated_taint(node.spec.taints, spec.tolerations):
        return False
    return True


class _SpreadState:
    """PreFilter of PodTopologySpread: matching pods per domain, domains per constraint."""

    def __init__(self, pod: Pod, snapshot: Snapshot):
        self.pod = pod
        self.constraints = _hard_constraints(pod.spec)
        self.selectors = [effective_spread_selector(c, pod.metadata.labels) for c in self.constraints]
        self.counts: list[dict[str, int]] = [dict() for _ in self.constraints]
        keys = [c.topology_key for c in self.constraints]
        namespace = _ns(pod)
        for name, node in snapshot.nodes.items():
            labels = node.metadata.labels
            if not all(k in labels for k in keys):
                continue
            others = [p for p in snapshot.pods_on.get(name, ())
                      if not _same_pod(p, pod) and _ns(p) == namespace and p.metadata.deletion_timestamp is None]
            for i, constraint in enumerate(self.constraints):
                if not spread_node_included(constraint, pod.spec, node):
                    continue
                value = labels[constraint.topology_key]
                matched = sum(1 for p in others if self.selectors[i].matches(p.metadata.labels))
                self.counts[i][value] = self.counts[i].get(value, 0) + matched

    def min_match(self, i: int) -> int:
        constraint, counts = self.constraints[i], self.counts[i]
        if constraint.min_domains is not None and len(counts) < constraint.min_domains:
            return 0
        return min(counts.values()) if counts else 0

    def check(self, node: Node) -> FilterResult:
        labels = node.metadata.labels
        for i, constraint in enumerate(self.constraints):
            if constraint.topology_key not in labels:
                return _reject("PodTopologySpread", UNRESOLVABLE, REASON_SPREAD_LABEL)
        for i, constraint in enumerate(self.constraints):
            value = labels[constraint.topology_key]
            self_match = 1 if self.selectors[i].matches(self.pod.metadata.labels) else 0
            skew = self.counts[i].get(value, 0) + self_match - self.min_match(i)
            if skew > constraint.max_skew:
                return _reject("PodTopologySpread", UNSCHEDULABLE, REASON_SPREAD)
        return FITS


def pod_topology_spread(pod: Pod, node: Node, cluster) -> FilterResult:
    """PodTopologySpread (DoNotSchedule constraints): the node must carry every topology key,
    and matching pods in its domain + self - global minimum must not exceed maxSkew; the
    global minimum is 0 while fewer than minDomains domains exist."""
    if not _hard_constraints(pod.spec):
        return FITS
    return _SpreadState(pod, Snapshot.of(cluster)).check(node)


# --------------------------------------------------------------------------- the framework

#: The Filter plugins of the default profile, in its order.
ALL = (
    node_unschedulable,
    node_name,
    taint_toleration,
    node_affinity,
    node_ports,
    node_resources_fit,
    pod_topology_spread,
    inter_pod_affinity,
)

PLUGIN_NAMES = {
    node_unschedulable: "NodeUnschedulable",
    node_name: "NodeName",
    taint_toleration: "TaintToleration",
    node_affinity: "NodeAffinity",
    node_ports: "NodePorts",
    node_resources_fit: "NodeResourcesFit",
    pod_topology_spread: "PodTopologySpread",
    inter_pod_affinity: "InterPodAffinity",
}


def filter_pod(pod: Pod, node: Node, cluster, plugins=ALL) -> FilterResult:
    """Run ``plugins`` in order; the first rejection is the verdict (RunFilterPlugins).

    ``cluster`` is a :class:`~kspec.loading.cluster.Cluster` (or a :class:`Snapshot`);
    its bound, non-terminal pods are the pods already on the nodes.
    """
    for plugin in plugins:
        result = plugin(pod, node, cluster)
        if not result.fits:
            return result
    return FITS


class PodFilter:
    """All plugins for one pod against one snapshot, with PreFilter work done once
    (what the framework does per scheduling cycle); used by the greedy scheduler."""

    def __init__(self, pod: Pod, snapshot: Snapshot):
        self.pod = pod
        self.snapshot = snapshot
        needs_affinity = snapshot.anti_pods or _required(pod, "pod_affinity") or _required(pod, "pod_anti_affinity")
        self.affinity = _AffinityState(pod, snapshot) if needs_affinity else None
        self.spread = _SpreadState(pod, snapshot) if _hard_constraints(pod.spec) else None

    def check(self, node: Node, plugins=(node_unschedulable, node_name, taint_toleration, node_affinity,
                                         node_ports, node_resources_fit)) -> FilterResult:
        """All plugins in profile order; ``plugins`` are the per-node ones to run before
        PodTopologySpread and InterPodAffinity (callers that know the node-local verdict
        already may pass fewer)."""
        pod, snapshot = self.pod, self.snapshot
        for plugin in plugins:
            result = plugin(pod, node, snapshot)
            if not result.fits:
                return result
        if self.spread is not None:
            result = self.spread.check(node)
            if not result.fits:
                return result
        return self.affinity.check(node) if self.affinity is not None else FITS
