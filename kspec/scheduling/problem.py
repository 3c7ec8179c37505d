"""The placement problem, as plain data: which pods must go somewhere, which nodes each may use.

Pods to place come in *groups* of interchangeable pods:

* every replica of a ReplicationController, ReplicaSet, Deployment, StatefulSet
  or Job (``spec.replicas``; a Job's ``min(parallelism, completions)``) is one
  group of ``replicas`` pods built from the pod template, in the workload's
  namespace; a Deployment's ReplicaSets and a workload's already-created pods
  are not counted twice: pods with a controller owner reference are left out;
* every pending pod (no ``nodeName``) without a controller is a group of one;
* a DaemonSet is one pinned group of one pod per eligible node, as the
  DaemonSet controller creates them (``NodeShouldRunDaemonPod``: nodeName,
  node affinity, and taints with the tolerations the controller adds); a
  pinned pod must fit on its node and is not moved on failure (it dies with
  its node);
* bound pods (``nodeName`` set, not Succeeded/Failed) are placed already: they
  use their node's resources and ports and count for affinity and spread.

Static facts are computed here once, with the plain filters: for each group,
the nodes the node-local plugins accept (NodeUnschedulable, NodeName,
TaintToleration, NodeAffinity, NodePorts against bound pods, and the topology
keys that PodTopologySpread and InterPodAffinity require), and for each
rejected node the plugin and upstream reason, for explanations.

A problem holds at most :data:`MAX_PODS` pods to place: the quick packing and
the greedy baseline work pod by pod, so ``replicas: 2000000000`` is refused
as bad input (``file:line: error: spec.replicas: ...``) instead of running
for hours.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from math import gcd

import attrs

from kspec.api.objects import Pod, Toleration, object_ref
from kspec.errors import Diagnostic, LoadError
from kspec.scheduling import filters as F

# Pods to place in one problem: well above the 150,000 pods Kubernetes supports in one cluster.
MAX_PODS = 1_000_000

LOCAL_PLUGINS = (F.node_unschedulable, F.node_name, F.taint_toleration, F.node_affinity)

# Tolerations the DaemonSet controller adds to every daemon pod (util.AddOrUpdateDaemonPodTolerations).
DAEMON_TOLERATIONS = tuple(
    Toleration(key=key, operator="Exists", effect=effect)
    for key, effect in (
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    )
)


@attrs.frozen
class Group:
    """Interchangeable pods: a workload's replicas, one pending pod, or one daemon pod on one node."""

    key: str
    owner: object = attrs.field(eq=False, repr=False)
    pod: Pod = attrs.field(eq=False, repr=False)
    count: int
    pinned: str | None = None

    @property
    def ref(self) -> str:
        return object_ref(self.owner)


@attrs.frozen
class Exclusion:
    """Why a group may not use a node: the plugin and upstream's reason."""

    plugin: str
    reason: str
    code: str


def _template_pod(workload) -> Pod:
    template = workload.spec.template
    namespace = workload.metadata.namespace or "default"
    meta = attrs.evolve(template.metadata, name=f"{workload.metadata.name}-pod", namespace=namespace)
    return Pod(meta, template.spec, source=workload.source)


def _daemon_pod(ds, node_name: str) -> Pod:
    pod = _template_pod(ds)
    spec = pod.spec
    extra = tuple(t for t in DAEMON_TOLERATIONS if t not in spec.tolerations)
    return attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, name=f"{ds.metadata.name}-{node_name}"),
                        spec=attrs.evolve(spec, tolerations=spec.tolerations + extra))


def groups_of(cluster) -> list[Group]:
    """The groups of pods to place, in the cluster's canonical order."""
    groups: list[Group] = []
    for obj in cluster.objects:
        kind = obj.kind
        if kind == "Pod":
            if not obj.spec.node_name and obj.metadata.controller_ref() is None \
                    and obj.status.phase not in ("Succeeded", "Failed"):
                groups.append(Group(object_ref(obj), obj, obj, 1))
        elif kind == "DaemonSet":
            for node in cluster.nodes:
                pod = _daemon_pod(obj, node.metadata.name)
                if F.filter_pod(pod, node, None, plugins=(F.node_name, F.taint_toleration, F.node_affinity)).fits:
                    groups.append(Group(f"{object_ref(obj)}@{node.metadata.name}", obj, pod, 1, node.metadata.name))
        elif kind in ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "Job"):
            if kind == "ReplicaSet" and obj.metadata.controller_ref() is not None:
                continue  # owned by a Deployment, which is counted instead
            replicas = obj.spec.replicas
            if replicas:
                groups.append(Group(object_ref(obj), obj, _template_pod(obj), replicas))
    return groups


def check_size(groups: list[Group]) -> None:
    """Raise LoadError at the workload that takes the total past :data:`MAX_PODS`."""
    total = 0
    for group in groups:
        total += group.count
        if total > MAX_PODS:
            source = group.owner.source
            raise LoadError([Diagnostic(str(source.file), source.line,
                                        f"Invalid value: {group.count}: more than {MAX_PODS} pods to place in all "
                                        "(the packing and the greedy baseline go pod by pod)",
                                        "spec.replicas")])


def _topology_keys(pod: Pod) -> tuple[str, ...]:
    """Labels a node must carry: hard spread constraint keys and required pod-affinity keys."""
    keys = [c.topology_key for c in pod.spec.topology_spread_constraints if c.when_unsatisfiable == "DoNotSchedule"]
    keys += [t.topology_key for t in F._required(pod, "pod_affinity")]
    return tuple(dict.fromkeys(keys))


class Problem:
    """Groups, nodes, bound pods, and the static eligibility of each group on each node."""

    def __init__(self, cluster, groups: list[Group] | None = None):
        self.cluster = cluster
        self.nodes = list(cluster.nodes)
        self.node_index = {n.metadata.name: i for i, n in enumerate(self.nodes)}
        self.snapshot = F.Snapshot(self.nodes, cluster.pods, cluster.of_kind("Namespace"))
        self.bound = {n.metadata.name: list(self.snapshot.pods_on.get(n.metadata.name, ())) for n in self.nodes}
        self.groups = groups_of(cluster) if groups is None else groups
        check_size(self.groups)
        self.requests = [F.request_vector(g.pod.spec) for g in self.groups]
        self.alloc = [F.allocatable_vector(n) for n in self.nodes]
        self.eligible: list[list[int]] = []
        self.excluded: list[dict[int, Exclusion]] = []
        for g in self.groups:
            ok, why = self._eligibility(g)
            self.eligible.append(ok)
            self.excluded.append(why)

    def _eligibility(self, group: Group):
        ok: list[int] = []
        why: dict[int, Exclusion] = {}
        keys = _topology_keys(group.pod)
        wanted_ports = F.host_ports(group.pod.spec)
        for i, node in enumerate(self.nodes):
            if group.pinned is not None and group.pinned != node.metadata.name:
                continue
            result = F.filter_pod(group.pod, node, None, plugins=LOCAL_PLUGINS)
            if result.fits and wanted_ports:
                result = F.node_ports(group.pod, node, self.snapshot)
            if result.fits:
                missing = [k for k in keys if k not in node.metadata.labels]
                if missing:
                    spread_keys = {c.topology_key for c in group.pod.spec.topology_spread_constraints}
                    if missing[0] in spread_keys:
                        result = F.FilterResult(False, F.UNRESOLVABLE, (F.REASON_SPREAD_LABEL,), "PodTopologySpread")
                    else:
                        result = F.FilterResult(False, F.UNRESOLVABLE, (F.REASON_AFFINITY,), "InterPodAffinity")
            if result.fits:
                ok.append(i)
            else:
                why[i] = Exclusion(result.plugin, result.reasons[0], result.code)
        return ok, why

    # ------------------------------------------------------------------ helpers for encoders

    def bound_requested(self, i: int) -> dict[str, int]:
        return self.snapshot.requested.get(self.nodes[i].metadata.name, {})

    def bound_count(self, i: int) -> int:
        return len(self.bound[self.nodes[i].metadata.name])

    def resources(self) -> list[str]:
        """Resources some group requests, in a stable order (``pods`` is handled apart)."""
        names = {r for req in self.requests for r in req}
        return [r for r in F.NATIVE if r in names] + sorted(names - set(F.NATIVE))

    def scale(self, resource: str) -> int:
        """The gcd of every group's request of ``resource``: dividing requests by it and
        flooring capacities keeps ``sum(req * x) <= cap`` exact with smaller numbers."""
        g = 0
        for req in self.requests:
            g = gcd(g, req.get(resource, 0))
        return g or 1

    def domains(self, key: str, nodes=None) -> dict[str, list[int]]:
        """Topology domains of ``key``: value -> node indexes carrying it."""
        out: dict[str, list[int]] = defaultdict(list)
        for i in (range(len(self.nodes)) if nodes is None else nodes):
            value = self.nodes[i].metadata.labels.get(key)
            if value is not None:
                out[value].append(i)
        return dict(out)

    def term_matches_group(self, term, owner: Pod, target: Group) -> bool:
        return F._term_matches_pod(term, owner, target.pod, self.snapshot)

    def term_matches_bound(self, term, owner: Pod, target: Pod) -> bool:
        return F._term_matches_pod(term, owner, target, self.snapshot)

    def total_pods(self) -> int:
        return sum(g.count for g in self.groups)

    def without_requests(self) -> list[str]:
        """Workloads (and pending pods) whose pods request no resource: only their pod slots
        are counted, so a feasible answer says nothing about whether they really fit."""
        return list(dict.fromkeys(g.key.split("@")[0] for g, req in zip(self.groups, self.requests) if not req))

    # ------------------------------------------------------------------ symmetry

    def node_classes(self) -> list[list[int]]:
        """Nodes that are interchangeable for this problem (see docs/schedule.md).

        Two nodes are in one class when allocatable, the labels used as topology keys
        (except keys whose values are unique per node, such as the hostname, which
        make every node its own domain), unschedulable, taints, the set of groups that
        may use them, and the pods bound to them are equal. Swapping two such nodes
        maps the problem onto itself, so failing either gives the same answer.
        """
        keys = set()
        for g in self.groups:
            keys.update(c.topology_key for c in g.pod.spec.topology_spread_constraints)
            for which in ("pod_affinity", "pod_anti_affinity"):
                keys.update(t.topology_key for t in F._required(g.pod, which))
        for pods in self.bound.values():
            for p in pods:
                keys.update(t.topology_key for t in F._required(p, "pod_anti_affinity"))
        unique = {k for k in keys if self._unique_per_node(k)}
        shared = sorted(keys - unique)
        eligible_sets = [set(ok) for ok in self.eligible]
        classes: dict[tuple, list[int]] = {}
        for i, node in enumerate(self.nodes):
            labels = node.metadata.labels
            signature = (
                tuple(sorted((k, str(v)) for k, v in self.alloc[i].items())),
                tuple((k, labels.get(k)) for k in shared),
                tuple(k in labels for k in sorted(unique)),
                node.spec.unschedulable,
                tuple(sorted(str(t) for t in node.spec.taints)),
                tuple(gi for gi, s in enumerate(eligible_sets) if i in s and self.groups[gi].pinned is None),
                tuple(sorted(self.groups[gi].key.split("@")[0] for gi, s in enumerate(eligible_sets)
                             if i in s and self.groups[gi].pinned is not None)),
                tuple(sorted(repr((p.metadata.labels, p.spec)) for p in self.bound[node.metadata.name])),
            )
            classes.setdefault(signature, []).append(i)
        return list(classes.values())

    def _unique_per_node(self, key: str) -> bool:
        values = [n.metadata.labels.get(key) for n in self.nodes if key in n.metadata.labels]
        return len(values) == len(set(values))


# ---------------------------------------------------------------------------- a witness heuristic


def _self_only(problem: Problem, g: int, term) -> bool:
    owner = problem.groups[g].pod
    return all(not problem.term_matches_group(term, owner, other) or h == g
               for h, other in enumerate(problem.groups))


def pack(problem: Problem, failed=frozenset()) -> dict[tuple[int, int], int] | None:
    """A quick candidate placement ``{(group, node): count}`` on the nodes not in ``failed``, or None.

    Not a decision procedure: the solver checks the candidate against the full
    encoding and solves from scratch when it is rejected. It handles the common
    shapes: resources and pod slots (spreading each group round-robin over the
    nodes with the most room, groups with the fewest usable nodes first),
    self-selecting hostname or zone anti-affinity (one pod per domain) and
    self-selecting topology spread (an even split over domains).
    """
    free = []
    for i in range(len(problem.nodes)):
        room = {r: v - problem.bound_requested(i).get(r, 0) for r, v in problem.alloc[i].items()}
        room["pods"] = problem.alloc[i].get("pods", 0) - problem.bound_count(i)
        free.append(room)
    counts: dict[tuple[int, int], int] = {}

    def difficulty(g):
        group = problem.groups[g]
        heaviest = max((Fraction(amount, max(problem.alloc[i].get(r, 1) or 1, 1))  # exact: amounts may pass 1e308
                        for r, amount in problem.requests[g].items() for i in problem.eligible[g][:1]), default=0)
        return (group.pinned is None, len(problem.eligible[g]), -heaviest)

    for g in sorted(range(len(problem.groups)), key=difficulty):
        group = problem.groups[g]
        nodes = [i for i in problem.eligible[g] if i not in failed]
        need = group.count
        if group.pinned is not None:
            need = 0 if problem.node_index[group.pinned] in failed else 1
        one_per_node = False
        one_per_domain_keys = []
        for term in F._required(group.pod, "pod_anti_affinity"):
            if _self_only(problem, g, term):
                if problem._unique_per_node(term.topology_key):
                    one_per_node = True
                else:
                    one_per_domain_keys.append(term.topology_key)
        spread = [c for c in group.pod.spec.topology_spread_constraints
                  if c.when_unsatisfiable == "DoNotSchedule"
                  and F.effective_spread_selector(c, group.pod.metadata.labels).matches(group.pod.metadata.labels)]
        if one_per_domain_keys:
            domains = list(problem.domains(one_per_domain_keys[0], nodes).values())
            quotas = [1 if k < need else 0 for k in range(len(domains))]
        elif spread and not problem._unique_per_node(spread[0].topology_key):
            domains = list(problem.domains(spread[0].topology_key, nodes).values())
            if not domains:
                return None
            base, extra = divmod(need, len(domains))
            quotas = [base + (1 if k < extra else 0) for k in range(len(domains))]
        else:
            domains, quotas = [nodes], [need]
        request = problem.requests[g]
        for domain, quota in zip(domains, quotas):
            order = sorted(domain, key=lambda i: -free[i].get("cpu", 0))
            placed = 0
            while placed < quota:
                progress = False
                for i in order:
                    room = free[i]
                    if room["pods"] < 1 or any(room.get(r, 0) < amount for r, amount in request.items()):
                        continue
                    if one_per_node and counts.get((g, i), 0) >= 1:
                        continue
                    room["pods"] -= 1
                    for r, amount in request.items():
                        room[r] = room.get(r, 0) - amount
                    counts[g, i] = counts.get((g, i), 0) + 1
                    placed += 1
                    progress = True
                    if placed == quota:
                        break
                if not progress:
                    return None
            if placed < quota:
                return None
    return counts
