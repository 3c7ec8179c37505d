"""The named property library scenarios pick from (``checks:`` in a scenario file).

Each entry has a name, a kind (``always``, ``sometimes``, ``eventually_always``),
a rationale (why a design review cares) and optional parameters. ``build``
turns a scenario's check entry into a :class:`kspec.checker.model.Property` bound to
the scenario's :class:`~kspec.simulation.state.World`. Liveness properties assume weak
fairness of every controller (not of faults or user operations), so "once
faults stop" is built in: a behaviour has finitely many faults, and after the
last one the controllers keep acting.

API view and physical view: ``rc-never-exceeds-replicas`` counts what etcd
says (active pods); ``at-most-replicas-running`` counts containers that are
really running, terminating pods on unreachable nodes included, which is where
the split-brain window under partition shows.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import attrs

from kspec.errors import KspecError
from kspec.api.labels import selector_from_map
from kspec.checker.model import Property, always, eventually_always, sometimes
from kspec.scheduling.filters import Snapshot, allocatable_vector, filter_pod, request_vector
from kspec.simulation.controllers.daemonset import should_run
from kspec.simulation.controllers.deployment import (
    calculate_status, deployment_status_viewer, max_unavailable, observed, resolve_fenceposts,
)
from kspec.simulation.network import can_reach_serving_pod
from kspec.simulation.state import HUNG, READY, UP, State, World, is_active, is_terminal

__all__ = ["EXPLAINERS", "LIBRARY", "Entry", "build", "names"]


@attrs.frozen
class Entry:
    name: str
    kind: str
    rationale: str
    params: tuple[str, ...]
    make: Callable = attrs.field(repr=False)


LIBRARY: dict[str, Entry] = {}


def _entry(name: str, kind: str, params: tuple[str, ...] = ()):
    def register(fn):
        LIBRARY[name] = Entry(name, kind, (fn.__doc__ or "").strip(), params, fn)
        return fn
    return register


def names() -> list[str]:
    return sorted(LIBRARY)


class PropertyParamError(KspecError):
    pass


def build(world: World, fair: frozenset[str], name: str, params: Mapping[str, Any] | None = None) -> Property:
    """The property ``name`` of the library with ``params`` (``as`` renames it)."""
    params = dict(params or {})
    entry = LIBRARY.get(name)
    if entry is None:
        raise PropertyParamError(f"no property named {name!r} in the library; known: {', '.join(names())}")
    label = params.pop("as", None) or name
    unknown = sorted(set(params) - set(entry.params))
    if unknown:
        allowed = ", ".join(entry.params) or "none"
        raise PropertyParamError(f"{name}: unknown parameter {unknown[0]!r} (parameters: {allowed})")
    try:
        condition = entry.make(world, **params)
    except TypeError as err:
        raise PropertyParamError(f"{name}: {err}") from None
    description = entry.rationale.splitlines()[0] if entry.rationale else ""
    if entry.kind == "always":
        prop = always(label, condition, description)
    elif entry.kind == "sometimes":
        prop = sometimes(label, condition, description)
    else:
        prop = eventually_always(label, condition, fair, description)
    explainer = EXPLAINERS.get(name)
    return attrs.evolve(prop, explain=explainer(world, **params)) if explainer else prop


# --------------------------------------------------------------------------- helpers


def _workloads(world: World, workload: str | None) -> tuple[int, ...]:
    """The pod-owning workloads meant: all, one RC/ReplicaSet, or a Deployment's ReplicaSets."""
    if workload is None:
        return world.pod_owners
    w = world.workload_named(workload)
    return world.workloads[w].replica_sets if world.workloads[w].kind == "Deployment" else (w,)


def _deployments(world: World, deployment: str | None) -> tuple[int, ...]:
    if deployment is None:
        return world.deployments
    d = world.workload_named(deployment, "Deployment")
    return (d,)


def _services(world: World, service: str | None) -> tuple[int, ...]:
    if service is None:
        return tuple(i for i, s in enumerate(world.services) if s.selector is not None)
    return (world.service_named(service),)


def active_owned(state: State, w: int) -> int:
    return sum(1 for p in state.pods if p.owner == w and is_active(p))


def running_copies(state: State, w: int, group: int = -1) -> int:
    """Containers really running (up or hung) for pods the workload owns,
    terminating ones included, plus orphans of its template (``group``):
    containers of force-deleted pods still running on a machine that is up."""
    copies = sum(1 for p in state.pods if p.owner == w and p.run in (UP, HUNG))
    if group >= 0:
        copies += sum(rec.orphans.count(group) for rec in state.nodes if rec.up and rec.orphans)
    return copies


def converged(state: State, w: int) -> bool:
    replicas = state.replicas[w]
    return active_owned(state, w) == (0 if replicas is None else replicas)


# --------------------------------------------------------------------------- replication


@_entry("rc-replicas-converge", "eventually_always", ("workload",))
def _rc_converge(world: World, workload: str | None = None):
    """Once faults stop, the active pods each ReplicationController/ReplicaSet owns eventually always equal its replicas.

    The "eventually stable reconciliation" of Anvil (OSDI'24): a controller is
    correct when, after the environment stops interfering, it brings the
    cluster to the desired state and keeps it there. A violation is a lasso: a
    fair cycle (or a stuck state) where the count is wrong forever.
    """
    targets = _workloads(world, workload)
    return lambda s: all(converged(s, w) for w in targets)


@_entry("rc-never-exceeds-replicas", "always", ("workload",))
def _rc_never_exceeds(world: World, workload: str | None = None):
    """API view: the active pods a workload owns never exceed its replicas.

    What ``kubectl get rc`` shows; evicted pods on a lost node are terminating,
    hence not active, so this holds even while their containers still run.
    """
    return _never_above_replicas(_workloads(world, workload), active_owned)


def _never_above_replicas(targets, count):
    """A state check: ``count(state, workload)`` never exceeds that workload's replicas."""

    def check(s):
        for w in targets:
            replicas = s.replicas[w]
            if replicas is not None and count(s, w) > replicas:
                return False
        return True
    return check


@_entry("at-most-replicas-running", "always", ("workload",))
def _at_most_running(world: World, workload: str | None = None):
    """Physical view: no more containers of a workload really run than its replicas.

    The split-brain check: under a partition the evicted pod keeps running on
    the cut-off node while its replacement starts, so a singleton can run twice.
    Containers of a force-deleted pod that still run count too.
    """
    return _never_above_replicas(_workloads(world, workload),
                                 lambda s, w: running_copies(s, w, world.workloads[w].group))


@_entry("running-copies-reach", "sometimes", ("workload", "count"))
def _copies_reach(world: World, workload: str, count: int):
    """Sometimes at least ``count`` containers of the workload really run at once (split-brain evidence)."""
    w = world.workload_named(workload)
    group = world.workloads[w].group
    return lambda s: running_copies(s, w, group) >= count


@_entry("replacement-created", "sometimes", ("workload",))
def _replacement(world: World, workload: str | None = None):
    """Sometimes a workload is back at its replicas while a pod it replaced is still terminating.

    Companion of the convergence properties: shows that faults really took a
    pod away and the controller really replaced it (the model is not vacuous).
    """
    targets = _workloads(world, workload)

    def check(s):
        for w in targets:
            if s.replicas[w] is not None and converged(s, w) and any(
                    p.owner == w and p.deleting for p in s.pods):
                return True
        return False
    return check


@_entry("fault-then-converged", "sometimes", ())
def _fault_then_converged(world: World):
    """Sometimes, after at least one fault, every workload has exactly its replicas and all pods run.

    The generic ``sometimes`` companion: evidence that faults happen and that
    recovery is reachable.
    """
    def check(s):
        return s.faults_used >= 1 and all(converged(s, w) for w in world.pod_owners) and all(
            p.run == UP and p.ready for p in s.pods if is_active(p))
    return check


@_entry("scale-down-deletes-not-ready", "always", ("workload",))
def _scale_down_not_ready(world: World, workload: str | None = None):
    """When a workload deletes a pod, a not-ready pod goes before a ready one.

    ``ActivePodsWithRanks``: unassigned, then Pending, then not ready pods are
    deleted first. Checked as: no Ready pod of the workload is terminating while
    an active sibling is not Ready.
    """
    targets = _workloads(world, workload)

    def check(s):
        for w in targets:
            owned = [p for p in s.pods if p.owner == w]
            if any(p.deleting and p.ready for p in owned) and any(is_active(p) and not p.ready for p in owned):
                return False
        return True
    return check


@_entry("pod-owned-by", "sometimes", ("pod", "workload"))
def _pod_owned_by(world: World, pod: str, workload: str):
    """Sometimes the pod ``pod`` (from the manifests) is owned by ``workload`` (adoption evidence)."""
    w = world.workload_named(workload)
    return lambda s: any(p.name == pod and p.owner == w for p in s.pods)


# --------------------------------------------------------------------------- services


@_entry("service-always-has-endpoint", "always", ("service",))
def _always_endpoint(world: World, service: str | None = None):
    """Every selected Service always lists at least one ready address.

    Clients resolve the Service name and kube-proxy needs an address to
    forward to; an empty Endpoints means connection refused for everyone.
    """
    targets = _services(world, service)
    return lambda s: all(s.endpoints[i] for i in targets)


@_entry("endpoint-lost", "sometimes", ("service",))
def _endpoint_lost(world: World, service: str | None = None):
    """Sometimes a Service has no ready address (evidence that outages are reachable)."""
    targets = _services(world, service)
    return lambda s: any(not s.endpoints[i] for i in targets)


@_entry("endpoints-only-ready-pods", "always", ("service",))
def _only_ready(world: World, service: str | None = None):
    """Every address in a Service's Endpoints is a pod that exists, is Ready and is not terminating.

    The endpoints controller lags behind readiness changes; a violation shows
    the window in which kube-proxy still routes to a pod the API already
    knows is not ready.
    """
    targets = _services(world, service)

    def check(s):
        for i in targets:
            if world.services[i].publish_not_ready:
                continue
            for name in s.endpoints[i]:
                pod = s.pod(name)
                if pod is None or not pod.ready or pod.deleting:
                    return False
        return True
    return check


@_entry("service-reachable", "always", ("service",))
def _reachable(world: World, service: str | None = None):
    """Physical view through kube-proxy and DNS: a request to the Service name can reach a pod that answers."""
    targets = _services(world, service)
    return lambda s: all(can_reach_serving_pod(world, s, world.services[i].name, world.services[i].namespace)
                         for i in targets)


@_entry("service-sees-workloads", "sometimes", ("service", "workloads"))
def _sees_workloads(world: World, service: str, workloads: list):
    """Sometimes the Service routes to pods of every listed workload at once (overlapping selectors)."""
    i = world.service_named(service)
    ws = [_workloads(world, w) for w in workloads]

    def check(s):
        owners = {p.owner for p in s.pods if p.name in s.endpoints[i]}
        return all(any(w in owners for w in group) for group in ws)
    return check


# --------------------------------------------------------------------------- deployments


def _deployment_pods(world: World, s: State, d: int):
    rss = world.workloads[d].replica_sets
    return [p for p in s.pods if p.owner in rss and is_active(p)]


@_entry("deployment-converges", "eventually_always", ("deployment",))
def _deployment_converges(world: World, deployment: str | None = None):
    """Once faults and edits stop, each Deployment eventually always runs exactly its replicas, updated and available (`kubectl rollout status`).

    What ``kubectl rollout status`` requires (``DeploymentStatusViewer``, on the
    status ``calculateStatus`` computes): the spec observed (here: the current
    template's ReplicaSet exists), ``updatedReplicas >= replicas``, no old
    replica left (``replicas <= updatedReplicas``) and every updated replica
    available (``availableReplicas >= updatedReplicas``); and, as a
    convergence claim, no surplus: ``updatedReplicas == replicas``. A deleted
    Deployment converges when its ReplicaSets have no active pod left.
    """
    targets = _deployments(world, deployment)

    def check(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is None:
                if _deployment_pods(world, s, d):
                    return False
                continue
            status = calculate_status(world, s, d)
            done = deployment_status_viewer(world.workloads[d].name, replicas, status, observed(world, s, d))[1]
            if not done or status.updated_replicas != replicas:
                return False
        return True
    return check


def _fenceposts(world: World, d: int, replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as the deployment controller resolves them; Recreate allows neither."""
    strategy = world.workloads[d].strategy
    if strategy.type != "RollingUpdate":
        return 0, 0
    return resolve_fenceposts(strategy, replicas)[0], max_unavailable(strategy, replicas)


@_entry("deployment-min-available", "always", ("deployment",))
def _deployment_min_available(world: World, deployment: str | None = None):
    """API view: a Deployment never has fewer Ready pods than replicas - maxUnavailable.

    What ``maxUnavailable`` promises for a rollout; a node failure, a crash or
    the Recreate strategy (maxUnavailable 0 here, as it takes every old pod
    down first) breaks it, and the trace shows how.
    """
    targets = _deployments(world, deployment)

    def check(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is None:
                continue
            ready = sum(1 for p in _deployment_pods(world, s, d) if p.ready)
            if ready < replicas - _fenceposts(world, d, replicas)[1]:
                return False
        return True
    return check


@_entry("deployment-max-surge", "always", ("deployment",))
def _deployment_max_surge(world: World, deployment: str | None = None):
    """API view: a Deployment never has more active pods than replicas + maxSurge.

    Upstream bounds the sum of its ReplicaSets' ``spec.replicas``; the pods
    lag behind those numbers, so this pod count is the stronger claim.
    """
    targets = _deployments(world, deployment)

    def check(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is not None and len(_deployment_pods(world, s, d)) > replicas + _fenceposts(world, d, replicas)[0]:
                return False
        return True
    return check


@_entry("rollout-serves-both-versions", "sometimes", ("deployment",))
def _both_versions(world: World, deployment: str | None = None):
    """Sometimes Ready pods of an old and of the new template run side by side (a rolling update really rolls)."""
    targets = _deployments(world, deployment)

    def check(s):
        for d in targets:
            owners = {p.owner for p in _deployment_pods(world, s, d) if p.ready}
            if len(owners) >= 2:
                return True
        return False
    return check


# --------------------------------------------------------------------------- daemonsets


@_entry("daemonset-on-every-node", "eventually_always", ("daemonset",))
def _daemonset_on_every_node(world: World, daemonset: str | None = None):
    """Once faults stop, every Ready node that should run a DaemonSet's pod eventually always runs a Ready one.

    What a node agent (log shipper, CNI, monitoring) promises; a node that is
    down or cut off is not Ready and is not counted, and its daemon pod stays
    (it tolerates the node's taints) to start again when the node returns.
    """
    targets = world.daemonsets if daemonset is None else (world.workload_named(daemonset, "DaemonSet"),)

    def check(s):
        for w in targets:
            if s.replicas[w] is None:
                continue
            ready_on = {p.node for p in s.pods if p.owner == w and p.ready and is_active(p)}
            for node, rec in enumerate(s.nodes):
                if rec.ready == READY and node not in ready_on and should_run(world, s, w, node)[0]:
                    return False
        return True
    return check


# --------------------------------------------------------------------------- maintenance


@_entry("drain-completes", "eventually_always", ())
def _drain_completes(world: World):
    """Once faults stop, every drained (cordoned) node eventually holds no pod but DaemonSet pods.

    ``kubectl drain`` returns. It does not when a PodDisruptionBudget can never
    allow the next eviction (``minAvailable`` equal to the replicas, say), or
    when the node holds a pod no controller owns; the lasso shows where it stays.
    """
    def check(s):
        for node, rec in enumerate(s.nodes):
            if rec.cordoned and any(p.node == node and not world.groups[p.group].daemon for p in s.pods):
                return False
        return True
    return check


# --------------------------------------------------------------------------- scheduling


def _vectors(world: World):
    requests = [request_vector(g.pod.spec) for g in world.groups]
    allocatable = [allocatable_vector(n) for n in world.nodes]
    return requests, allocatable


@_entry("no-overcommit", "always", ())
def _no_overcommit(world: World):
    """The requests of the pods bound to a node never exceed its allocatable (and its pod count).

    What the scheduler's NodeResourcesFit guarantees for pods it places; pods
    pinned with ``nodeName`` bypass it and the kubelet's admission is the last line.
    """
    requests, allocatable = _vectors(world)
    cache: dict = {}

    def check(s):
        placed = tuple(sorted((p.group, p.node) for p in s.pods if p.node >= 0 and not is_terminal(p)))
        hit = cache.get(placed)
        if hit is None:
            hit = cache[placed] = fits(s)
        return hit

    def fits(s):
        used: dict[int, dict[str, int]] = {}
        for p in s.pods:
            if p.node >= 0 and not is_terminal(p):
                node_used = used.setdefault(p.node, {})
                node_used["pods"] = node_used.get("pods", 0) + 1
                for res, amount in requests[p.group].items():
                    node_used[res] = node_used.get(res, 0) + amount
        for n, node_used in used.items():
            cap = allocatable[n]
            for res, amount in node_used.items():
                if res in cap and amount > cap[res]:
                    return False
        return True
    return check


@_entry("scheduler-binds-only-feasible", "always", ())
def _binds_feasible(world: World):
    """Every pod the scheduler placed passes every Filter plugin against the other pods on its node.

    Taints the node controller adds later (unreachable) do not count: they
    arrive after the binding.
    """
    cache: dict = {}

    def check(s):
        placed = tuple(sorted((p.group, p.node) for p in s.pods if p.node >= 0 and not is_terminal(p)))
        hit = cache.get(placed)
        if hit is None:
            pods = [world.pod_object(g, f"{world.groups[g].prefix}~{k}", n) for k, (g, n) in enumerate(placed)]
            snapshot = Snapshot(world.nodes, pods)
            hit = True
            for pod, (g, n) in zip(pods, placed):
                if world.groups[g].pinned_node != -1:
                    continue
                if not filter_pod(pod, world.nodes[n], snapshot).fits:
                    hit = False
                    break
            cache[placed] = hit
        return hit
    return check


# --------------------------------------------------------------------------- label-selected pods (custom controllers)


def _label_selector(labels: Mapping[str, str]):
    if not isinstance(labels, Mapping) or not labels:
        raise PropertyParamError("labels must be a non-empty mapping of label to value")
    return selector_from_map({str(k): str(v) for k, v in labels.items()})


def _active_labelled(world: World, s: State, selects) -> int:
    return sum(1 for p in s.pods if selects[p.group] and is_active(p))


@_entry("active-pods-converge", "eventually_always", ("labels", "count"))
def _labelled_converge(world: World, labels: Mapping[str, str], count: int):
    """Once faults stop, the active pods carrying ``labels`` eventually always number ``count``."""
    sel = _label_selector(labels)
    selects = [sel.matches(g.labels) for g in world.groups]
    return lambda s: _active_labelled(world, s, selects) == count


@_entry("active-pods-reach", "sometimes", ("labels", "count"))
def _labelled_reach(world: World, labels: Mapping[str, str], count: int):
    """Sometimes exactly ``count`` active pods carry ``labels``."""
    sel = _label_selector(labels)
    selects = [sel.matches(g.labels) for g in world.groups]
    return lambda s: _active_labelled(world, s, selects) == count


# --------------------------------------------------------------------------- explanations
#
# One sentence per violated state, for the trace step that breaks a property:
# which object, the numbers compared, and the bound they cross. Each explainer
# takes the property's parameters and returns ``state -> str | None`` (None:
# the property holds in that state).

EXPLAINERS: dict[str, Callable] = {}


def _explains(*names_: str):
    def register(fn):
        for name in names_:
            EXPLAINERS[name] = fn
        return fn
    return register


def _ref(world: World, w: int) -> str:
    return f"{world.workloads[w].kind}/{world.workloads[w].name}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@_explains("rc-replicas-converge")
def _explain_converge(world: World, workload: str | None = None):
    targets = _workloads(world, workload)

    def explain(s):
        for w in targets:
            if not converged(s, w):
                want = s.replicas[w] or 0
                return f"{_ref(world, w)} has {_plural(active_owned(s, w), 'active pod')}, not its {want} replicas"
        return None
    return explain


@_explains("rc-never-exceeds-replicas")
def _explain_never_exceeds(world: World, workload: str | None = None):
    targets = _workloads(world, workload)

    def explain(s):
        for w in targets:
            if s.replicas[w] is not None and active_owned(s, w) > s.replicas[w]:
                return f"{_plural(active_owned(s, w), 'active pod')} of {_ref(world, w)} > {s.replicas[w]} replicas"
        return None
    return explain


def _node_name(world: World, node: int) -> str:
    return world.node_names[node] if 0 <= node < len(world.node_names) else "no node"


@_explains("at-most-replicas-running")
def _explain_running(world: World, workload: str | None = None):
    targets = _workloads(world, workload)

    def explain(s):
        for w in targets:
            group = world.workloads[w].group
            copies = running_copies(s, w, group)
            if s.replicas[w] is None or copies <= s.replicas[w]:
                continue
            where = [f"{p.name} on {_node_name(world, p.node)}" for p in s.pods if p.owner == w and p.run in (UP, HUNG)]
            where += [f"a force-deleted pod's container on {_node_name(world, n)}" for n, rec in enumerate(s.nodes)
                      if rec.up for _ in range(rec.orphans.count(group))]
            return (f"{_plural(copies, 'container')} of {_ref(world, w)} run at once ({', '.join(where)})"
                    f" > {s.replicas[w]} replicas")
        return None
    return explain


@_explains("scale-down-deletes-not-ready")
def _explain_scale_down(world: World, workload: str | None = None):
    targets = _workloads(world, workload)

    def explain(s):
        for w in targets:
            owned = [p for p in s.pods if p.owner == w]
            gone = [p.name for p in owned if p.deleting and p.ready]
            kept = [p.name for p in owned if is_active(p) and not p.ready]
            if gone and kept:
                return (f"{_ref(world, w)} deletes Ready pod {gone[0]} while pod {kept[0]} is not Ready")
        return None
    return explain


@_explains("service-always-has-endpoint")
def _explain_endpoint(world: World, service: str | None = None):
    targets = _services(world, service)

    def explain(s):
        empty = [world.services[i].name for i in targets if not s.endpoints[i]]
        return f"Service {empty[0]} has 0 ready endpoints" if empty else None
    return explain


@_explains("endpoints-only-ready-pods")
def _explain_only_ready(world: World, service: str | None = None):
    targets = _services(world, service)

    def explain(s):
        for i in targets:
            if world.services[i].publish_not_ready:
                continue
            for name in s.endpoints[i]:
                pod = s.pod(name)
                why = ("does not exist" if pod is None else "is terminating" if pod.deleting
                       else "is not Ready" if not pod.ready else "")
                if why:
                    return f"Service {world.services[i].name} lists pod {name} as an endpoint, but the pod {why}"
        return None
    return explain


@_explains("service-reachable")
def _explain_reachable(world: World, service: str | None = None):
    targets = _services(world, service)

    def explain(s):
        for i in targets:
            svc = world.services[i]
            if not can_reach_serving_pod(world, s, svc.name, svc.namespace):
                return (f"a request to Service {svc.name} reaches no pod that answers "
                        f"({_plural(len(s.endpoints[i]), 'endpoint')} listed)")
        return None
    return explain


@_explains("deployment-converges")
def _explain_deployment_converges(world: World, deployment: str | None = None):
    targets = _deployments(world, deployment)
    check = _deployment_converges(world, deployment)

    def explain(s):
        if check(s):
            return None
        for d in targets:
            replicas = s.replicas[d]
            ref = _ref(world, d)
            if replicas is None:
                left = len(_deployment_pods(world, s, d))
                if left:
                    return f"{ref} is deleted but {_plural(left, 'active pod')} of it remain"
                continue
            status = calculate_status(world, s, d)
            if (status.updated_replicas, status.available_replicas, status.replicas) != (replicas,) * 3:
                return (f"{ref} is not rolled out: {status.updated_replicas} updated, "
                        f"{status.available_replicas} available, {status.replicas} active pods for {replicas} replicas")
        return "a Deployment is not rolled out: kubectl rollout status would not return"
    return explain


@_explains("deployment-min-available")
def _explain_min_available(world: World, deployment: str | None = None):
    targets = _deployments(world, deployment)

    def explain(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is None:
                continue
            ready = sum(1 for p in _deployment_pods(world, s, d) if p.ready)
            unavailable = _fenceposts(world, d, replicas)[1]
            if ready < replicas - unavailable:
                return (f"{_plural(ready, 'Ready pod')} of {_ref(world, d)} < {replicas} replicas"
                        f" - maxUnavailable {unavailable}")
        return None
    return explain


@_explains("deployment-max-surge")
def _explain_max_surge(world: World, deployment: str | None = None):
    targets = _deployments(world, deployment)

    def explain(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is None:
                continue
            active = len(_deployment_pods(world, s, d))
            surge = _fenceposts(world, d, replicas)[0]
            if active > replicas + surge:
                return f"{_plural(active, 'active pod')} of {_ref(world, d)} > {replicas} replicas + maxSurge {surge}"
        return None
    return explain


@_explains("daemonset-on-every-node")
def _explain_daemonset(world: World, daemonset: str | None = None):
    targets = world.daemonsets if daemonset is None else (world.workload_named(daemonset, "DaemonSet"),)

    def explain(s):
        for w in targets:
            if s.replicas[w] is None:
                continue
            ready_on = {p.node for p in s.pods if p.owner == w and p.ready and is_active(p)}
            for node, rec in enumerate(s.nodes):
                if rec.ready == READY and node not in ready_on and should_run(world, s, w, node)[0]:
                    return f"{_ref(world, w)} has no Ready pod on Ready node {_node_name(world, node)}"
        return None
    return explain


@_explains("drain-completes")
def _explain_drain(world: World):
    def explain(s):
        for node, rec in enumerate(s.nodes):
            left = [p.name for p in s.pods if p.node == node and not world.groups[p.group].daemon]
            if rec.cordoned and left:
                return f"cordoned node {_node_name(world, node)} still holds pod(s) {', '.join(left)}"
        return None
    return explain


@_explains("no-overcommit")
def _explain_overcommit(world: World):
    requests, allocatable = _vectors(world)

    def explain(s):
        used: dict[int, dict[str, int]] = {}
        for p in s.pods:
            if p.node >= 0 and not is_terminal(p):
                node_used = used.setdefault(p.node, {"pods": 0})
                node_used["pods"] += 1
                for res, amount in requests[p.group].items():
                    node_used[res] = node_used.get(res, 0) + amount
        for n, node_used in sorted(used.items()):
            for res, amount in node_used.items():
                cap = allocatable[n].get(res)
                if cap is not None and amount > cap:
                    unit = "m" if res == "cpu" else ""
                    return (f"pods bound to {_node_name(world, n)} request {amount}{unit} {res}"
                            f" > {cap}{unit} allocatable")
        return None
    return explain


@_explains("scheduler-binds-only-feasible")
def _explain_binds_feasible(world: World):
    def explain(s):
        placed = [p for p in s.pods if p.node >= 0 and not is_terminal(p)]
        pods = [world.pod_object(p.group, p.name, p.node) for p in placed]
        snapshot = Snapshot(world.nodes, pods)
        for rec, pod in zip(placed, pods):
            if world.groups[rec.group].pinned_node != -1:
                continue
            verdict = filter_pod(pod, world.nodes[rec.node], snapshot)
            if not verdict.fits:
                why = "; ".join(verdict.reasons) or verdict.code
                return f"pod {rec.name} is bound to {_node_name(world, rec.node)}, which fails {verdict.plugin}: {why}"
        return None
    return explain


@_explains("active-pods-converge")
def _explain_labelled(world: World, labels: Mapping[str, str], count: int):
    sel = _label_selector(labels)
    selects = [sel.matches(g.labels) for g in world.groups]
    shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def explain(s):
        active = _active_labelled(world, s, selects)
        return None if active == count else f"{_plural(active, 'active pod')} carry {shown}, not {count}"
    return explain
