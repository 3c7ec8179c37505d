"""Explanations: a minimal unsatisfiable core, mapped back to objects, fields and file:line.

Each constraint family of the encoding is guarded by one assumption literal
(per group: its replica count, its request of each resource, each kind of
node-local exclusion (a taint it does not tolerate, its node affinity, ...),
each anti-affinity term, its affinity, each spread constraint, its host
ports). When the problem is infeasible the core is shrunk until dropping any
member makes the rest satisfiable, and each member becomes a :class:`Cause`.
"""

from __future__ import annotations

import functools
from collections import Counter

from kspec.loading.manifests import parse_path, read_text
from kspec.api.objects import object_ref
from kspec.scheduling import filters as F
from kspec.scheduling.problem import Problem
from kspec.scheduling.result import Cause, Explanation
from kspec.scheduling.solver import Encoding
from kspec.loading.yamlio import load_documents

PLUGIN_FIELDS = {
    "TaintToleration": "tolerations",
    "NodeAffinity": "affinity.nodeAffinity",
    "NodeName": "nodeName",
    "NodeUnschedulable": "tolerations",
    "NodePorts": "containers",
    "PodTopologySpread": "topologySpreadConstraints",
    "InterPodAffinity": "affinity.podAffinity",
}


@functools.lru_cache(maxsize=64)
def _documents(file: str):
    try:
        return {doc.line: doc for doc in load_documents(read_text(file))}
    except Exception:  # a file that cannot be re-read: fall back to the object's line
        return {}


def location(record, field: str = "") -> str:
    """``file:line`` of ``field`` inside ``record`` (the deepest part of the path present)."""
    source = getattr(record, "source", None)
    if source is None or source.line is None or source.file.startswith("<") or source.file == "--nodes":
        return str(source) if source is not None else "<memory>"
    doc = _documents(source.file).get(source.line)
    if doc is None or not field:
        return str(source)
    return f"{source.file}:{doc.line_of(parse_path(field))}"


def _prefix(group) -> str:
    return "spec" if group.owner.kind == "Pod" else "spec.template.spec"


def _fmt(resource: str, amount: int) -> str:
    if resource == "cpu":
        return f"{amount}m"
    if resource in ("memory", "ephemeral-storage") and amount % (1 << 20) == 0:
        return f"{amount >> 20}Mi"
    return str(amount)


def _name(group) -> str:
    return group.owner.metadata.name


def cause_of(problem: Problem, name: str, detail: tuple, failed=()) -> Cause:
    kind, g, extra = detail
    group = problem.groups[g]
    owner = group.owner
    prefix = _prefix(group)
    if kind == "replicas":
        if group.pinned:
            field = "spec.template"
            message = f"{object_ref(owner)} runs one pod on node {group.pinned}"
        else:
            field = "spec.replicas" if owner.kind != "Pod" else "metadata.name"
            message = f"{object_ref(owner)} needs {group.count} pod(s)"
        return Cause("replicas", object_ref(owner), field, location(owner, field), message)
    if kind == "requests":
        resource = extra
        if resource == "pods":
            field = "spec.replicas" if owner.kind != "Pod" else "metadata.name"
            return Cause("pods", object_ref(owner), field, location(owner, field),
                         f"each {_name(group)} pod takes one of a node's pod slots (allocatable pods)")
        amount = problem.requests[g][resource]
        field = f"{prefix}.containers"
        where = _request_field(group, resource)
        return Cause("requests", object_ref(owner), where, location(owner, where or field),
                     f"each {_name(group)} pod requests {resource} {_fmt(resource, amount)}")
    if kind == "exclude":
        why = extra
        nodes = [problem.nodes[i].metadata.name for i, w in problem.excluded[g].items() if w == why]
        field = f"{prefix}.{PLUGIN_FIELDS.get(why.plugin, '')}".rstrip(".")
        affinity = group.pod.spec.affinity
        if why.plugin == "NodeAffinity" and group.pod.spec.node_selector and not (
                affinity and affinity.node_affinity and affinity.node_affinity.required is not None):
            field = f"{prefix}.nodeSelector"
        shown = ", ".join(nodes[:5]) + (f", ... ({len(nodes)} in all)" if len(nodes) > 5 else "")
        usable = len(problem.eligible[g])
        message = (f"{why.reason} for {_name(group)} on {len(nodes)} of {len(problem.nodes)} nodes ({shown}); "
                   f"{usable} node(s) remain usable")
        return Cause(_exclusion_kind(why.plugin), object_ref(owner), field, location(owner, field), message)
    if kind == "anti-affinity":
        term = F._required(group.pod, "pod_anti_affinity")[extra]
        field = f"{prefix}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[{extra}]"
        domains = problem.domains(term.topology_key, problem.eligible[g])
        return Cause("anti-affinity", object_ref(owner), field, location(owner, field),
                     f"{_name(group)} has required anti-affinity on {term.topology_key}: at most one matching pod "
                     f"per domain, and its usable nodes form {len(domains)} such domain(s)")
    if kind == "affinity":
        field = f"{prefix}.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        keys = ", ".join(t.topology_key for t in F._required(group.pod, "pod_affinity"))
        return Cause("affinity", object_ref(owner), field, location(owner, field),
                     f"{_name(group)} must share a {keys} domain with pods its required affinity selects")
    if kind == "spread":
        constraint = group.pod.spec.topology_spread_constraints[extra]
        field = f"{prefix}.topologySpreadConstraints[{extra}]"
        return Cause("topology-spread", object_ref(owner), field, location(owner, field),
                     f"{_name(group)} spreads over {constraint.topology_key} with maxSkew {constraint.max_skew}"
                     + (f" and minDomains {constraint.min_domains}" if constraint.min_domains else ""))
    if kind in ("ports", "ports-pair"):
        field = f"{prefix}.containers"
        ports = ", ".join(f"{proto}/{port}" for _, proto, port in F.host_ports(group.pod.spec))
        other = f" and {problem.groups[extra].key}" if kind == "ports-pair" else ""
        return Cause("host-ports", object_ref(owner), field, location(owner, field),
                     f"{_name(group)}{other} use host port(s) {ports}: one such pod per node")
    if kind == "existing-anti":
        pod, term = extra
        return Cause("existing-anti-affinity", object_ref(pod),
                     "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                     location(pod, "spec.affinity.podAntiAffinity"),
                     f"bound pod {pod.metadata.name} repels {_name(group)} from its {term.topology_key} domain")
    return Cause(kind, object_ref(owner), "", location(owner), name)


def _exclusion_kind(plugin: str) -> str:
    return {"TaintToleration": "taint", "NodeAffinity": "node-affinity", "NodeName": "node-name",
            "NodeUnschedulable": "unschedulable", "NodePorts": "host-ports",
            "PodTopologySpread": "topology-label", "InterPodAffinity": "topology-label"}.get(plugin, plugin)


def _request_field(group, resource: str) -> str:
    prefix = _prefix(group)
    for index, container in enumerate(group.pod.spec.containers):
        if resource in container.resources.requests:
            return f"{prefix}.containers[{index}].resources.requests.{resource}"
    for index, container in enumerate(group.pod.spec.init_containers):
        if resource in container.resources.requests:
            return f"{prefix}.initContainers[{index}].resources.requests.{resource}"
    return f"{prefix}.overhead.{resource}" if resource in group.pod.spec.overhead else f"{prefix}.containers"


def explain(problem: Problem, failed=(), timeout: float = 60.0) -> Explanation | None:
    """A minimal core for an infeasible problem (with ``failed`` node indexes dead), or None."""
    encoding = Encoding(problem, explain=True, failures=bool(failed), timeout=timeout)
    assumptions = encoding.all_alive(failed) if failed else []
    core, minimal = encoding.minimal_core(assumptions, budget=timeout)
    if not core:
        return None
    causes = tuple(cause_of(problem, name, encoding.causes[name], failed) for name in _ordered(core))
    return Explanation(summarise(problem, causes, failed), causes, minimal)


def _ordered(core):
    rank = {"replicas": 0, "requests": 1, "anti": 2, "aff": 3, "spread": 4, "ports": 5, "exclude": 6}
    return sorted(core, key=lambda n: (rank.get(n.split(":")[0], 9), n))


def summarise(problem: Problem, causes, failed=()) -> str:
    """One line: who needs what, and what stands in the way."""
    wants = [c.message for c in causes if c.kind == "replicas"]
    limits = [c.message for c in causes if c.kind != "replicas"]
    lost = ""
    if failed:
        names = [problem.nodes[i].metadata.name for i in failed]
        lost = f"after losing {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}: "
    kinds = Counter(c.kind for c in causes)
    if not limits:
        return lost + "; ".join(wants) + f" (no {len(problem.nodes) - len(failed)} node(s) can host them)"
    del kinds
    return lost + "; ".join(wants + limits)
