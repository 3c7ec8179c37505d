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
from kspec.checker.model import Kind, Property, Witness, always, eventually_always, sometimes
from kspec.scheduling.filters import Snapshot, allocatable_vector, filter_pod, request_vector
from kspec.simulation.controllers.daemonset import current_group as ds_current_group
from kspec.simulation.controllers.daemonset import rollout_status as ds_rollout_status
from kspec.simulation.controllers.daemonset import pod_node as ds_pod_node
from kspec.simulation.controllers.daemonset import should_run, updated_desired_node_counts
from kspec.simulation.controllers.cronjob import cron_record
from kspec.simulation.controllers.job import index_of as job_index_of, record_of as job_record_of
from kspec.simulation.controllers.statefulset import ordinal as sts_ordinal
from kspec.simulation.controllers.statefulset import pod_group as sts_pod_group
from kspec.simulation.controllers.statefulset import revision_of as sts_revision_of
from kspec.simulation.controllers.statefulset import rollout_status as sts_rollout_status
from kspec.simulation.controllers.statefulset import update_strategy as sts_update_strategy
from kspec.simulation.controllers.deployment import (
    calculate_status, deployment_status_viewer, generation, max_unavailable, observed, observed_generation,
    resolve_fenceposts,
)
from kspec.simulation.network import can_reach_serving_pod
from kspec.simulation.controllers.podautoscaler import SYNC_PERIOD, steady_replicas
from kspec.simulation.state import HUNG, READY, UP, State, World, is_active, is_terminal, released, status_of

__all__ = ["EXPLAINERS", "LIBRARY", "NEAREST", "READS_ENDPOINTS", "SPLIT_OVER_SERVICES", "WITNESSES", "Entry", "build",
           "checked_services", "names",
           "with_fault_witness", "with_sanity", "GENERATION_CHECKS", "VIEWERS", "stuck_terminating"]


@attrs.frozen
class Entry:
    name: str
    kind: str
    rationale: str
    params: tuple[str, ...]
    make: Callable = attrs.field(repr=False)


LIBRARY: dict[str, Entry] = {}

READS_ENDPOINTS = frozenset({"service-always-has-endpoint", "endpoint-lost", "endpoints-only-ready-pods",
                             "service-reachable", "service-sees-workloads"})
"""The library checks that read Services' endpoints (``State.endpoints``), in
their condition, explainer or witnesses. A scenario whose checks are all
outside this set is explored without the endpoints controller (see
``scenario._slice``); tests evaluate every other check on states whose
endpoints cannot be read."""

SPLIT_OVER_SERVICES: dict[str, str] = {"service-always-has-endpoint": "all", "endpoints-only-ready-pods": "all",
                                       "service-reachable": "all", "endpoint-lost": "any"}
"""The checks of :data:`READS_ENDPOINTS` that, over every Service, are a
conjunction (``all``) or a disjunction (``any``) of the same check on each
Service alone, each reading only that Service's endpoints: their conditions
are ``all``/``any`` over :func:`checked_services`, their witnesses hold when
one Service's do, and ``endpoint-lost``'s nearest state is the closest
Service's. ``service-sees-workloads`` names its one Service. A scenario may
explore such a check one Service at a time (:mod:`kspec.simulation.split`)."""


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
    prop = attrs.evolve(prop, explain=explainer(world, **params)) if explainer else prop
    return with_sanity(world, name, params, prop)


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


def checked_services(world: World) -> tuple[int, ...]:
    """The Services a check naming none reads: those with a selector (the
    endpoints controller leaves a Service without one alone)."""
    return _services(world, None)


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


MEMO_LIMIT = 100_000  # values a memoised check keeps; emptied when full


def _memoised(check, key):
    """``check`` memoised on ``key(state)``, the fields it reads: a
    representative shares its pod list with every other that has it (most
    states of a search differ only in their Endpoints or faults), so the
    look-up is cheaper than counting the pods again. It goes by the pod
    list's identity first (a representative's pod list is one object per
    value, :meth:`kspec.simulation.symmetry.Canonicaliser._shared_pods`), as
    hashing a pod list costs more than comparing the key's other fields; an
    entry holds its pod list, so no other object can take its identity while
    the entry is there."""
    cache: dict = {}
    by_pods: dict = {}  # id(pod list) -> (pod list, key, value)

    def memo(s):
        k = key(s)
        pods = s.pods
        hit = by_pods.get(id(pods))
        if hit is not None and hit[0] is pods and hit[1] == k:
            return hit[2]
        value = cache.get(k)
        if value is None:
            if len(cache) >= MEMO_LIMIT:
                cache.clear()
            value = cache[k] = check(s)
        if len(by_pods) >= MEMO_LIMIT:
            by_pods.clear()
        by_pods[id(pods)] = (pods, k, value)
        return value
    return memo


def _pods_replicas(s: State) -> tuple:
    return s.pods, s.replicas


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
    return _memoised(lambda s: all(converged(s, w) for w in targets), _pods_replicas)


@_entry("rc-never-exceeds-replicas", "always", ("workload",))
def _rc_never_exceeds(world: World, workload: str | None = None):
    """API view: the active pods a workload owns never exceed its replicas.

    What ``kubectl get rc`` shows; evicted pods on a lost node are terminating,
    hence not active, so this holds even while their containers still run.
    """
    return _memoised(_never_above_replicas(_workloads(world, workload), active_owned), _pods_replicas)


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
    check = _never_above_replicas(_workloads(world, workload),
                                  lambda s, w: running_copies(s, w, world.workloads[w].group))
    return _memoised(check, lambda s: (s.pods, s.nodes, s.replicas))


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
    return _memoised(check, _pods_replicas)


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
    """Active pods of Deployment ``d``'s ReplicaSets (not those it orphaned when deleted)."""
    rss = [rs for rs in world.workloads[d].replica_sets if not released(world, s, rs)]
    return [p for p in s.pods if p.owner in rss and is_active(p)]


@_entry("deployment-converges", "eventually_always", ("deployment",))
def _deployment_converges(world: World, deployment: str | None = None):
    """Once faults and edits stop, each Deployment eventually always runs exactly its replicas, updated and available (`kubectl rollout status`).

    What ``kubectl rollout status`` requires (``DeploymentStatusViewer``, on the
    status ``calculateStatus`` computes): the spec observed (``observedGeneration``
    where the scenario keeps generations, else: the current template's
    ReplicaSet exists), ``updatedReplicas >= replicas``, no old
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


def _daemon_duplicates(world: World, s: State, w: int) -> list[str]:
    """The active pods of one template of DaemonSet ``w`` for one node, when a node has
    two or more (the first such node); empty when none has."""
    seen: dict[tuple[int, int], list[str]] = {}
    for p in s.pods:
        if p.owner == w and is_active(p):
            names = seen.setdefault((ds_pod_node(world, p), p.group), [])
            names.append(p.name)
            if len(names) > 1:
                return names
    return []


@_entry("daemonset-one-pod-per-node", "always", ("daemonset",))
def _daemonset_one_pod_per_node(world: World, daemonset: str | None = None):
    """API view: no node ever has two active pods of one DaemonSet's template.

    A node agent runs once per node (two log shippers ship every line twice,
    two CNI agents fight over the node's network). A surge rollout's old and
    new pod side by side are of two templates and allowed; the duplicate is a
    second pod of the same template, which the controller creates when it acts
    on a cache that has not yet seen its first one.
    """
    targets = _daemonsets(world, daemonset)
    return lambda s: all(not _daemon_duplicates(world, s, w) for w in targets)


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
    return _memoised(check, lambda s: s.pods)


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
    return _memoised(check, lambda s: s.pods)


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


@_explains("daemonset-one-pod-per-node")
def _explain_daemonset_one_pod(world: World, daemonset: str | None = None):
    targets = _daemonsets(world, daemonset)

    def explain(s):
        for w in targets:
            names = _daemon_duplicates(world, s, w)
            if names:
                node = ds_pod_node(world, s.pod(names[0]))
                return f"{_ref(world, w)} has {len(names)} active pods for node {_node_name(world, node)}: " \
                       + ", ".join(names)
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


# --------------------------------------------------------------------------- sanity
#
# What must happen for each check to mean something (kspec.checker.model.Witness:
# a check that holds while one is never reached holds vacuously, and says why),
# and for a ``sometimes``, how near a state comes to it (closeness, and the
# nearest state in words), so that a violated one says how close the search came.
# Each entry takes the property's parameters; entries of ``WITNESSES`` replace
# the checker's generic witnesses of that property (see ``eventually_always``).

WITNESSES: dict[str, Callable] = {}
NEAREST: dict[str, Callable] = {}


def _witnesses(*names_: str):
    def register(fn):
        for name in names_:
            WITNESSES[name] = fn
        return fn
    return register


def _nearest(*names_: str):
    def register(fn):
        for name in names_:
            NEAREST[name] = fn
        return fn
    return register


def with_sanity(world: World, name: str, params: Mapping[str, Any], prop: Property) -> Property:
    """``prop`` (library property ``name``) with its witnesses and, for a ``sometimes``, its nearest-state measure."""
    witnesses = WITNESSES.get(name)
    if witnesses is not None:
        prop = attrs.evolve(prop, witnesses=witnesses(world, **params))
    nearest = NEAREST.get(name)
    if nearest is not None:
        closeness, words = nearest(world, **params)
        prop = attrs.evolve(prop, closeness=closeness, nearest=words)
    return prop


def with_fault_witness(props, fault_budget: int) -> tuple[Property, ...]:
    """A scenario that allows faults: each check but the ``sometimes`` ones also
    needs a fault to fire in some reachable state, else it says nothing about faults."""
    if fault_budget <= 0:
        return tuple(props)
    witness = Witness(f"no fault ever fires (the scenario allows {_plural(fault_budget, 'fault')})",
                      lambda s: s.faults_used >= 1)
    return tuple(p if p.kind is Kind.SOMETIMES else attrs.evolve(p, witnesses=p.witnesses + (witness,))
                 for p in props)


def _nothing(what: str) -> tuple[Witness, ...]:
    """A check over no object at all: vacuous whatever happens."""
    return (Witness(f"there is no {what} to check", lambda s: False),)


def _refs(world: World, targets) -> str:
    return ", ".join(_ref(world, w) for w in targets)


@_witnesses("rc-replicas-converge")
def _witness_converge(world: World, workload: str | None = None):
    targets = _workloads(world, workload)
    if not targets:
        return _nothing("ReplicationController or ReplicaSet")
    return (Witness(f"no fault or operation ever takes {_refs(world, targets)} off its replicas, so nothing had to "
                    "converge", lambda s: not all(converged(s, w) for w in targets)),)


@_witnesses("rc-never-exceeds-replicas", "at-most-replicas-running")
def _witness_creates(world: World, workload: str | None = None):
    targets = _workloads(world, workload)
    if not targets:
        return _nothing("ReplicationController or ReplicaSet")

    def short(s):
        return any(s.replicas[w] is not None and active_owned(s, w) < s.replicas[w] for w in targets)
    return (Witness(f"{_refs(world, targets)} never has fewer active pods than replicas, so its controller never "
                    "creates a pod that could be one too many", short),)


@_witnesses("scale-down-deletes-not-ready")
def _witness_scale_down(world: World, workload: str | None = None):
    targets = _workloads(world, workload)
    if not targets:
        return _nothing("ReplicationController or ReplicaSet")
    return (Witness(f"{_refs(world, targets)} never has more active pods than replicas, so it never chooses a pod "
                    "to delete", lambda s: any(s.replicas[w] is not None and active_owned(s, w) > s.replicas[w]
                                               for w in targets)),)


@_witnesses("service-always-has-endpoint", "service-reachable", "endpoints-only-ready-pods")
def _witness_endpoint(world: World, service: str | None = None):
    targets = _services(world, service)
    if not targets:
        return _nothing("Service with a selector")
    names_ = ", ".join(world.services[i].name for i in targets)
    return (Witness(f"Service {names_} never has an endpoint to lose after a fault or an operation",
                    lambda s: (s.faults_used >= 1 or s.ops != 0) and any(s.endpoints[i] for i in targets)),)


@_witnesses("deployment-converges", "deployment-min-available", "deployment-max-surge")
def _witness_deployment(world: World, deployment: str | None = None):
    targets = _deployments(world, deployment)
    if not targets:
        return _nothing("Deployment")

    def disturbed(s):
        for d in targets:
            replicas = s.replicas[d]
            pods = _deployment_pods(world, s, d)
            if replicas is None or len(pods) != replicas or len({p.owner for p in pods}) > 1 or not all(
                    p.ready for p in pods):
                return True
        return False
    return (Witness(f"no fault, edit or rollout ever disturbs {_refs(world, targets)}: it always runs its replicas, "
                    "Ready, from one ReplicaSet", disturbed),)


@_witnesses("daemonset-on-every-node")
def _witness_daemonset(world: World, daemonset: str | None = None):
    targets = world.daemonsets if daemonset is None else (world.workload_named(daemonset, "DaemonSet"),)
    if not targets:
        return _nothing("DaemonSet")
    check = _daemonset_on_every_node(world, daemonset)
    return (Witness(f"every Ready node always runs a Ready pod of {_refs(world, targets)}, so nothing had to "
                    "converge", lambda s: not check(s)),)


@_witnesses("daemonset-one-pod-per-node")
def _witness_daemonset_one_pod(world: World, daemonset: str | None = None):
    targets = _daemonsets(world, daemonset)
    if not targets:
        return _nothing("DaemonSet")
    check = _daemonset_on_every_node(world, daemonset)
    return (Witness(f"every Ready node always runs a Ready pod of {_refs(world, targets)}, so its controller never "
                    "creates a pod that could be a second one", lambda s: not check(s)),)


@_witnesses("drain-completes")
def _witness_drain(world: World):
    check = _drain_completes(world)
    return (Witness("no node is ever cordoned while it holds pods, so no drain had anything to do",
                    lambda s: not check(s)),)


@_witnesses("no-overcommit", "scheduler-binds-only-feasible")
def _witness_scheduling(world: World):
    return (Witness("no pod ever waits to be scheduled, so the scheduler never places one",
                    lambda s: any(p.node < 0 and not is_terminal(p) for p in s.pods)),)


@_nearest("running-copies-reach")
def _nearest_copies(world: World, workload: str, count: int):
    w = world.workload_named(workload)
    group = world.workloads[w].group

    def words(s):
        return (f"at most {_plural(running_copies(s, w, group), 'container')} of {_ref(world, w)} ran at once, "
                f"not {count}")
    return (lambda s: running_copies(s, w, group)), words


@_nearest("replacement-created")
def _nearest_replacement(world: World, workload: str | None = None):
    targets = _workloads(world, workload)

    def terminating(s):
        return any(p.owner in targets and p.deleting for p in s.pods)

    def at_replicas(s):
        return any(s.replicas[w] is not None and converged(s, w) and any(p.owner == w and p.deleting for p in s.pods)
                   for w in targets)

    def closeness(s):
        # a pod terminating first, then the most active pods of a workload that has one terminating
        return (terminating(s), max((active_owned(s, w) - (s.replicas[w] or 0) for w in targets
                                     if any(p.owner == w and p.deleting for p in s.pods)), default=-1_000_000))

    def words(s):
        if not terminating(s):
            return "no pod of it was ever terminating"
        for w in targets:
            if any(p.owner == w and p.deleting for p in s.pods) and not at_replicas(s):
                return (f"while a pod of {_ref(world, w)} was terminating, it had at most "
                        f"{_plural(active_owned(s, w), 'active pod')} of {s.replicas[w] or 0} replicas")
        return "a replacement was created"
    return closeness, words


@_nearest("fault-then-converged")
def _nearest_fault_converged(world: World):
    owners = world.pod_owners

    def lagging(s):
        return [p.name for p in s.pods if is_active(p) and not (p.run == UP and p.ready)]

    def closeness(s):
        return (s.faults_used >= 1, sum(1 for w in owners if converged(s, w)), -len(lagging(s)))

    def words(s):
        if s.faults_used < 1:
            return "no fault ever fired"
        off = [_ref(world, w) for w in owners if not converged(s, w)]
        parts = [f"{', '.join(off)} not at its replicas"] if off else ["every workload at its replicas"]
        late = lagging(s)
        parts.append(f"pod {', '.join(late)} not running and Ready" if late else "every active pod running and Ready")
        return "after a fault, the nearest state had " + " and ".join(parts)
    return closeness, words


@_nearest("endpoint-lost")
def _nearest_endpoint_lost(world: World, service: str | None = None):
    targets = _services(world, service)

    def fewest(s):
        return min((len(s.endpoints[i]), world.services[i].name) for i in targets) if targets else (0, "")

    def words(s):
        count, name = fewest(s)
        return f"Service {name} kept at least {_plural(count, 'ready endpoint')}" if name else "there is no Service"
    return (lambda s: -fewest(s)[0]), words


@_nearest("service-sees-workloads")
def _nearest_sees(world: World, service: str, workloads: list):
    i = world.service_named(service)
    groups = [(w, _workloads(world, w)) for w in workloads]

    def seen(s):
        owners = {p.owner for p in s.pods if p.name in s.endpoints[i]}
        return [name for name, group in groups if any(w in owners for w in group)]

    def words(s):
        got = seen(s)
        return (f"Service {service} routed to pods of at most {len(got)} of the {len(groups)} workloads at once"
                + (f" ({', '.join(got)})" if got else ""))
    return (lambda s: len(seen(s))), words


@_nearest("rollout-serves-both-versions")
def _nearest_both(world: World, deployment: str | None = None):
    targets = _deployments(world, deployment)

    def versions(s):
        return max((len({p.owner for p in _deployment_pods(world, s, d) if p.ready}) for d in targets), default=0)
    return versions, lambda s: f"Ready pods of at most {_plural(versions(s), 'ReplicaSet')} of a Deployment at once"


@_nearest("active-pods-reach")
def _nearest_labelled(world: World, labels: Mapping[str, str], count: int):
    sel = _label_selector(labels)
    selects = [sel.matches(g.labels) for g in world.groups]
    shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def words(s):
        return f"the nearest count was {_plural(_active_labelled(world, s, selects), 'active pod')} carrying {shown}, not {count}"
    return (lambda s: -abs(_active_labelled(world, s, selects) - count)), words


# --------------------------------------------------------------------------- update strategies (StatefulSet, DaemonSet)
# Registered after EXPLAINERS so each entry and its explainer sit together.


def _statefulsets(world: World, statefulset: str | None) -> tuple[int, ...]:
    return world.statefulsets if statefulset is None else (world.workload_named(statefulset, "StatefulSet"),)


def _daemonsets(world: World, daemonset: str | None) -> tuple[int, ...]:
    return world.daemonsets if daemonset is None else (world.workload_named(daemonset, "DaemonSet"),)


def _statefulset_lag(world: World, s: State, w: int) -> str | None:
    """Why StatefulSet ``w`` is not rolled out in ``s`` (None when it is): every ordinal below its
    replicas Running and Ready from the template its strategy gives that ordinal, nothing above."""
    replicas = s.replicas[w]
    owned = {sts_ordinal(world, w, p.name): p for p in s.pods if p.owner == w}
    if replicas is None:
        left = ", ".join(p.name for p in owned.values())
        return f"{_ref(world, w)} is deleted but pod(s) {left} remain" if owned else None
    for i in range(replicas):
        pod = owned.get(i)
        if pod is None or pod.deleting or pod.phase != "Running" or not pod.ready:
            return f"{_ref(world, w)} has no Running and Ready pod with ordinal {i}"
        want = sts_pod_group(world, s, w, i)
        if pod.group != want:
            return (f"{pod.name} of {_ref(world, w)} runs template revision {sts_revision_of(world, w, pod) + 1}, "
                    f"not {world.workloads[w].revisions.index(want) + 1}")
    extra = sorted(i for i in owned if i >= replicas)
    return f"{_ref(world, w)} still has pod {owned[extra[0]].name} above its {replicas} replicas" if extra else None


@_entry("statefulset-rollout-converges", "eventually_always", ("statefulset",))
def _statefulset_rollout_converges(world: World, statefulset: str | None = None):
    """Once faults and edits stop, each StatefulSet eventually always runs every ordinal Running and Ready from the template its strategy gives it.

    RollingUpdate: ordinals at or above ``partition`` on the new template, those
    below on the old one (``newVersionedStatefulSetPod``). OnDelete: every ordinal on
    the new template, which never happens unless someone deletes the old pods.
    """
    targets = _statefulsets(world, statefulset)
    return lambda s: all(_statefulset_lag(world, s, w) is None for w in targets)


@_explains("statefulset-rollout-converges")
def _explain_statefulset_rollout(world: World, statefulset: str | None = None):
    targets = _statefulsets(world, statefulset)

    def explain(s):
        return next((why for why in (_statefulset_lag(world, s, w) for w in targets) if why), None)
    return explain


def _below_partition_updated(world: World, s: State, w: int) -> str | None:
    partition = sts_update_strategy(world, w).partition
    for p in s.pods:
        if p.owner == w and sts_ordinal(world, w, p.name) < partition and sts_revision_of(world, w, p) > 0:
            return f"{p.name} of {_ref(world, w)} runs the new template below partition {partition}"
    return None


@_entry("statefulset-respects-partition", "always", ("statefulset",))
def _statefulset_partition(world: World, statefulset: str | None = None):
    """A StatefulSet's pods with an ordinal below its RollingUpdate ``partition`` never run the new template.

    What a canary rollout relies on: ``partition: 2`` of 3 updates only the
    pod with ordinal 2; the others keep the old template even when they are
    deleted and made again.
    """
    targets = _statefulsets(world, statefulset)
    return lambda s: all(_below_partition_updated(world, s, w) is None for w in targets)


@_explains("statefulset-respects-partition")
def _explain_statefulset_partition(world: World, statefulset: str | None = None):
    targets = _statefulsets(world, statefulset)
    return lambda s: next((why for why in (_below_partition_updated(world, s, w) for w in targets) if why), None)


def _daemonset_unavailable(world: World, s: State, w: int) -> tuple[int, int]:
    """(nodes that should run DaemonSet ``w`` and have no available pod of it, maxUnavailable as
    ``updatedDesiredNodeCounts`` resolves it)."""
    desired = [n for n in range(len(world.nodes)) if should_run(world, s, w, n)[0]]
    up = {p.node for p in s.pods if p.owner == w and p.ready and is_active(p)}
    strategy = world.workloads[w].record.spec.update_strategy
    limit = updated_desired_node_counts(strategy.max_surge, strategy.max_unavailable, len(desired))[1]
    return sum(1 for n in desired if n not in up), limit


@_entry("daemonset-max-unavailable", "always", ("daemonset",))
def _daemonset_max_unavailable(world: World, daemonset: str | None = None):
    """A DaemonSet never has more nodes without an available pod than its RollingUpdate ``maxUnavailable``.

    What ``maxUnavailable`` promises while the pods are replaced node by node
    (``maxSurge`` starts the new pod before the old one goes, so none is
    missing); a node failure breaks it, and so does OnDelete when pods are deleted by hand.
    """
    targets = _daemonsets(world, daemonset)

    def check(s):
        for w in targets:
            if s.replicas[w] is not None:
                missing, limit = _daemonset_unavailable(world, s, w)
                if missing > limit:
                    return False
        return True
    return check


@_explains("daemonset-max-unavailable")
def _explain_daemonset_unavailable(world: World, daemonset: str | None = None):
    targets = _daemonsets(world, daemonset)

    def explain(s):
        for w in targets:
            if s.replicas[w] is not None:
                missing, limit = _daemonset_unavailable(world, s, w)
                if missing > limit:
                    return (f"{_plural(missing, 'node')} without an available pod of {_ref(world, w)}"
                            f" > maxUnavailable {limit}")
        return None
    return explain


def _daemonset_lag(world: World, s: State, w: int) -> str | None:
    if s.replicas[w] is None:
        return None
    group = ds_current_group(world, s, w)
    old = [p.name for p in s.pods if p.owner == w and p.group != group]
    if old:
        return f"{_ref(world, w)} still has pod {old[0]} of its old template"
    for n, rec in enumerate(s.nodes):
        if rec.ready == READY and should_run(world, s, w, n)[0] and not any(
                p.owner == w and p.node == n and p.ready and is_active(p) for p in s.pods):
            return f"{_ref(world, w)} has no Ready pod on Ready node {_node_name(world, n)}"
    return None


@_entry("daemonset-rollout-converges", "eventually_always", ("daemonset",))
def _daemonset_rollout_converges(world: World, daemonset: str | None = None):
    """Once faults and edits stop, each DaemonSet eventually always runs only its current template, Ready on every Ready node that should run it.

    RollingUpdate gets there by itself; OnDelete waits for someone to delete
    the old pods, so it is violated in a scenario where nobody does.
    """
    targets = _daemonsets(world, daemonset)
    return lambda s: all(_daemonset_lag(world, s, w) is None for w in targets)


@_explains("daemonset-rollout-converges")
def _explain_daemonset_rollout(world: World, daemonset: str | None = None):
    targets = _daemonsets(world, daemonset)
    return lambda s: next((why for why in (_daemonset_lag(world, s, w) for w in targets) if why), None)


def _deployment_running(world: World, s: State, d: int) -> int:
    """Containers really running (up or hung) for a Deployment's pods, terminating ones included."""
    return sum(running_copies(s, rs) for rs in world.workloads[d].replica_sets)


@_entry("deployment-running-within-surge", "always", ("deployment",))
def _deployment_running_within_surge(world: World, deployment: str | None = None):
    """Physical view: no more containers of a Deployment really run than replicas + maxSurge.

    The deployment controller counts neither terminating pods nor their
    containers, so while old pods shut down (their grace period) new ones
    start and the cluster carries more pods than ``maxSurge`` allows: upstream
    documents it (kubernetes#95498). Capacity planned for replicas + maxSurge
    is too little.
    """
    targets = _deployments(world, deployment)

    def check(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is None:
                continue
            if _deployment_running(world, s, d) > replicas + _fenceposts(world, d, replicas)[0]:
                return False
        return True
    return check


@_explains("deployment-running-within-surge")
def _explain_running_within_surge(world: World, deployment: str | None = None):
    targets = _deployments(world, deployment)

    def explain(s):
        for d in targets:
            replicas = s.replicas[d]
            if replicas is None:
                continue
            running = _deployment_running(world, s, d)
            surge = _fenceposts(world, d, replicas)[0]
            terminating = sum(1 for p in s.pods if p.owner in world.workloads[d].replica_sets and p.deleting
                              and p.run in (UP, HUNG))
            if running > replicas + surge:
                return (f"{_plural(running, 'container')} of {_ref(world, d)} run ({terminating} of them terminating)"
                        f" > {replicas} replicas + maxSurge {surge}")
        return None
    return explain


# --------------------------------------------------------------------------- Jobs


def _jobs(world: World, job: str | None) -> tuple[int, ...]:
    return world.jobs if job is None else (world.workload_named(job, "Job"),)


def _job_present(s: State, w: int) -> list:
    """A Job's pods that are active or terminating (not yet Succeeded or Failed)."""
    return [p for p in s.pods if p.owner == w and not is_terminal(p)]


def _job_running_by_index(world: World, s: State, w: int) -> dict[int, list[str]]:
    """An Indexed Job's pods whose containers really run (up or hung), by completion index."""
    out: dict[int, list[str]] = {}
    for p in s.pods:
        if p.owner == w and p.run in (UP, HUNG) and p.node >= 0 and s.nodes[p.node].up:
            out.setdefault(job_index_of(world, p), []).append(p.name)
    return out


@_entry("job-pods-within-parallelism", "always", ("job",))
def _job_within_parallelism(world: World, job: str | None = None):
    """API view: a Job's active plus terminating pods never exceed its parallelism.

    The job controller's over-creation (kubernetes#28486, #115844): with the
    default podReplacementPolicy (TerminatingOrFailed) a terminating pod is
    replaced at once; `podReplacementPolicy: Failed` waits until it is Failed.
    """
    targets = _jobs(world, job)
    return lambda s: all(s.replicas[w] is None or len(_job_present(s, w)) <= world.job_specs[w].parallelism
                         for w in targets)


@_entry("job-finishes", "eventually_always", ("job",))
def _job_finishes(world: World, job: str | None = None):
    """Once faults stop, every Job that exists eventually has its Complete or Failed condition.

    A Job that never finishes holds its pods' slots and, under a CronJob with
    `concurrencyPolicy: Forbid`, every later run.
    """
    targets = _jobs(world, job)
    return lambda s: all(s.replicas[w] is None or job_record_of(world, s, w).finished for w in targets)


@_entry("job-completes", "sometimes", ("job",))
def _job_completes(world: World, job: str | None = None):
    """Sometimes a Job is Complete (the scenario's work can finish at all)."""
    targets = _jobs(world, job)
    return lambda s: any(job_record_of(world, s, w).condition == "Complete" for w in targets)


@_entry("job-one-pod-per-index", "always", ("job",))
def _job_one_pod_per_index(world: World, job: str | None = None):
    """Physical view: at most one pod of each completion index of an Indexed Job really runs.

    Two running pods of one index do the same shard of work twice (the old one
    on a node cut off from the API server, the replacement elsewhere).
    """
    targets = [w for w in _jobs(world, job) if world.job_specs[w].indexed]
    return lambda s: all(len(names) <= 1 for w in targets for names in _job_running_by_index(world, s, w).values())


@_explains("job-pods-within-parallelism")
def _explain_job_within_parallelism(world: World, job: str | None = None):
    targets = _jobs(world, job)

    def explain(s):
        for w in targets:
            present = _job_present(s, w)
            parallelism = world.job_specs[w].parallelism
            if s.replicas[w] is not None and len(present) > parallelism:
                terminating = sum(1 for p in present if p.deleting)
                return (f"{_ref(world, w)} has {len(present) - terminating} active + {terminating} terminating pods"
                        f" > parallelism {parallelism}")
        return None
    return explain


@_explains("job-finishes")
def _explain_job_finishes(world: World, job: str | None = None):
    targets = _jobs(world, job)

    def explain(s):
        for w in targets:
            record = job_record_of(world, s, w)
            if s.replicas[w] is not None and not record.finished:
                stuck = [p.name for p in s.pods if p.owner == w and p.deleting and not is_terminal(p)]
                why = f"; pod(s) {', '.join(stuck)} still terminating" if stuck else ""
                return (f"{_ref(world, w)} is neither Complete nor Failed ({record.succeeded} succeeded, "
                        f"{record.failed} failed{why})")
        return None
    return explain


@_explains("job-one-pod-per-index")
def _explain_job_one_pod_per_index(world: World, job: str | None = None):
    targets = [w for w in _jobs(world, job) if world.job_specs[w].indexed]

    def explain(s):
        for w in targets:
            for index, names in sorted(_job_running_by_index(world, s, w).items()):
                if len(names) > 1:
                    return (f"{_plural(len(names), 'pod')} of {_ref(world, w)} index {index} run at once"
                            f" ({', '.join(names)})")
        return None
    return explain


# --------------------------------------------------------------------------- horizontal pod autoscaling


def _autoscalers(world: World, hpa: str | None) -> tuple[int, ...]:
    """The HorizontalPodAutoscalers meant (indexes of ``World.autoscalers``): all, or the one named."""
    if hpa is None:
        return tuple(range(len(world.autoscalers)))
    for h, autoscaler in enumerate(world.autoscalers):
        if autoscaler.name == hpa:
            return (h,)
    known = ", ".join(a.name for a in world.autoscalers) or "(none)"
    raise PropertyParamError(f"no HorizontalPodAutoscaler named {hpa!r}; the scenario has: {known}")


def _hpa_status(world: World, s: State, h: int):
    return status_of(world, s, world.autoscalers[h].key)


def _out_of_bounds(world: World, s: State, h: int) -> bool:
    """The HPA wrote a desired count outside [min, max] for a target it did not find at 0 replicas."""
    status, hpa = _hpa_status(world, s, h), world.autoscalers[h]
    return status.current != 0 and not hpa.min_replicas <= status.desired <= hpa.max_replicas


@_entry("hpa-replicas-within-bounds", "always", ("hpa",))
def _hpa_within_bounds(world: World, hpa: str | None = None):
    """Every count a HorizontalPodAutoscaler sets is within its minReplicas and maxReplicas.

    ``reconcileAutoscaler`` brings a target above max or below min back to the
    bound and clamps every recommendation; a target found at 0 replicas (with
    minReplicas above 0) is left alone: autoscaling is off for it.
    """
    targets = _autoscalers(world, hpa)
    return lambda s: not any(_out_of_bounds(world, s, h) for h in targets)


def _constant(world: World, targets) -> dict[int, int]:
    """HPA index -> the count it holds under its constant load (those whose load is one value)."""
    out = {}
    for h in targets:
        autoscaler = world.autoscalers[h]
        if all(len(choices) == 1 for choices in autoscaler.readings):
            out[h] = steady_replicas(world, autoscaler, tuple(choices[0] for choices in autoscaler.readings))
    return out


@_entry("hpa-desired-constant", "always", ("hpa",))
def _hpa_desired_constant(world: World, hpa: str | None = None):
    """Under a constant load, a HorizontalPodAutoscaler's desired replicas never leave the count that load calls for.

    The count is the one the HPA holds when every pod is Ready and reports the
    load (:func:`~kspec.simulation.controllers.podautoscaler.steady_replicas`);
    nothing but a change of load should move it. A rollout with ``maxSurge``
    does move it: the replica calculator counts the surge pods, Ready and
    reporting the same per-pod usage, and scales up (kubernetes#72775, #90461).
    Checked from a settled start, for HPAs whose load is one value.
    """
    steady = _constant(world, _autoscalers(world, hpa))
    if not steady:
        raise PropertyParamError("hpa-desired-constant: no HorizontalPodAutoscaler here has a constant load "
                                 "(one value per metric under load:)")

    def check(s):
        return all(_hpa_status(world, s, h).desired in (0, count) for h, count in steady.items())
    return check


@_entry("hpa-no-flapping", "always", ("hpa",))
def _hpa_no_flapping(world: World, hpa: str | None = None):
    """A HorizontalPodAutoscaler never undoes a scale at its next sync.

    The stabilisation windows exist so that a count is not raised and lowered
    again one period later. The window keeps a scale-up from being undone only
    while the controller remembers the recommendation behind it: a restart
    forgets it, and a scale-up driven by a recommendation about to leave the
    window is followed, one period later, by the scale-down the window held
    back. The check looks one sync period back (not the whole window).
    """
    targets = _autoscalers(world, hpa)
    return lambda s: not any(_hpa_status(world, s, h).reversal for h in targets)


@_entry("hpa-rescales", "sometimes", ("hpa",))
def _hpa_rescales(world: World, hpa: str | None = None):
    """Sometimes a HorizontalPodAutoscaler changes its target's replicas (the autoscaler really acts)."""
    targets = _autoscalers(world, hpa)
    return lambda s: any(_hpa_status(world, s, h).last != 0 for h in targets)


@_explains("hpa-replicas-within-bounds")
def _explain_hpa_bounds(world: World, hpa: str | None = None):
    targets = _autoscalers(world, hpa)

    def explain(s):
        for h in targets:
            if _out_of_bounds(world, s, h):
                autoscaler, status = world.autoscalers[h], _hpa_status(world, s, h)
                return (f"HorizontalPodAutoscaler {autoscaler.name} set {status.desired} replicas, outside "
                        f"[{autoscaler.min_replicas}, {autoscaler.max_replicas}]")
        return None
    return explain


@_explains("hpa-desired-constant")
def _explain_hpa_constant(world: World, hpa: str | None = None):
    steady = _constant(world, _autoscalers(world, hpa))

    def explain(s):
        for h, count in steady.items():
            status = _hpa_status(world, s, h)
            if status.desired not in (0, count):
                autoscaler = world.autoscalers[h]
                return (f"HorizontalPodAutoscaler {autoscaler.name} wants {status.desired} replicas of "
                        f"{_ref(world, autoscaler.target)} under a load that calls for {count} "
                        f"({_active_selected(world, s, autoscaler)} active pods selected, "
                        f"{sum(1 for p in s.pods if world.selects[autoscaler.target][p.group] and p.ready)} Ready)")
        return None
    return explain


def _active_selected(world: World, s: State, autoscaler) -> int:
    """Active pods the HPA's target selects (a Deployment's: every ReplicaSet's)."""
    return sum(1 for p in s.pods if world.selects[autoscaler.target][p.group] and is_active(p))


@_explains("hpa-no-flapping")
def _explain_hpa_flapping(world: World, hpa: str | None = None):
    targets = _autoscalers(world, hpa)

    def explain(s):
        for h in targets:
            status = _hpa_status(world, s, h)
            if status.reversal:
                way, back = ("down", "up") if status.last < 0 else ("up", "down")
                return (f"HorizontalPodAutoscaler {world.autoscalers[h].name} scaled {way} from {status.current} "
                        f"to {status.desired} one sync ({SYNC_PERIOD} s) after scaling {back}")
        return None
    return explain


@_witnesses("hpa-replicas-within-bounds", "hpa-desired-constant")
def _witness_hpa_syncs(world: World, hpa: str | None = None):
    targets = _autoscalers(world, hpa)
    if not targets:
        return _nothing("HorizontalPodAutoscaler")
    return (Witness("no HorizontalPodAutoscaler ever syncs (its target never reaches a count it reads)",
                    lambda s: any(_hpa_status(world, s, h).current != 0 for h in targets)),)


@_witnesses("hpa-no-flapping")
def _witness_hpa_scales(world: World, hpa: str | None = None):
    targets = _autoscalers(world, hpa)
    if not targets:
        return _nothing("HorizontalPodAutoscaler")
    return (Witness("no HorizontalPodAutoscaler ever scales, so none could undo a scale",
                    lambda s: any(_hpa_status(world, s, h).last != 0 for h in targets)),)


# --------------------------------------------------------------------------- CronJobs


def _cronjobs(world: World, cronjob: str | None) -> tuple[int, ...]:
    if cronjob is None:
        return tuple(range(len(world.cronjobs)))
    for c, info in enumerate(world.cronjobs):
        if info.name == cronjob:
            return (c,)
    known = ", ".join(info.name for info in world.cronjobs) or "(none)"
    raise PropertyParamError(f"no CronJob named {cronjob!r}; the scenario has: {known}")


def _unfinished_runs(world: World, s: State, c: int) -> list[str]:
    """A CronJob's Jobs that exist and have neither Complete nor Failed."""
    return [world.workloads[w].name for w in world.cronjobs[c].jobs
            if s.replicas[w] is not None and not job_record_of(world, s, w).finished]


def _runs_with_pods(world: World, s: State, c: int) -> list[str]:
    """A CronJob's Jobs with a pod not yet Succeeded or Failed (terminating ones included)."""
    jobs = world.cronjobs[c].jobs
    return [world.workloads[w].name for w in jobs if any(p.owner == w and not is_terminal(p) for p in s.pods)]


@_entry("cronjob-one-job-at-a-time", "always", ("cronjob",))
def _cronjob_one_at_a_time(world: World, cronjob: str | None = None):
    """API view: a CronJob with `concurrencyPolicy: Forbid` or `Replace` never has two unfinished Jobs.

    What the policy promises, as the CronJob controller reads it: Jobs, by
    their conditions (a CronJob that allows overlap is not checked).
    """
    targets = [c for c in _cronjobs(world, cronjob) if world.cronjobs[c].concurrency_policy != "Allow"]
    return lambda s: all(len(_unfinished_runs(world, s, c)) <= 1 for c in targets)


@_entry("cronjob-one-job-running", "always", ("cronjob",))
def _cronjob_one_running(world: World, cronjob: str | None = None):
    """API view: pods of at most one of a Forbid or Replace CronJob's runs are active or terminating at once.

    A run that finished (its replacement pod succeeded) may still hold a pod
    Terminating on a node that is down or cut off: the next run starts beside it.
    """
    targets = [c for c in _cronjobs(world, cronjob) if world.cronjobs[c].concurrency_policy != "Allow"]
    return lambda s: all(len(_runs_with_pods(world, s, c)) <= 1 for c in targets)


@_entry("cronjob-runs-again", "sometimes", ("cronjob",))
def _cronjob_runs_again(world: World, cronjob: str | None = None):
    """Sometimes a CronJob has started a second run (its schedule really fires)."""
    targets = _cronjobs(world, cronjob)
    return lambda s: any(cron_record(world, s, c).last is not None
                         and cron_record(world, s, c).last > world.cronjobs[c].times[0] for c in targets)


@_explains("cronjob-one-job-at-a-time")
def _explain_cronjob_one_at_a_time(world: World, cronjob: str | None = None):
    targets = [c for c in _cronjobs(world, cronjob) if world.cronjobs[c].concurrency_policy != "Allow"]

    def explain(s):
        for c in targets:
            runs = _unfinished_runs(world, s, c)
            if len(runs) > 1:
                info = world.cronjobs[c]
                return (f"CronJob/{info.name} ({info.concurrency_policy}) has {len(runs)} unfinished Jobs at once"
                        f" ({', '.join(runs)})")
        return None
    return explain


@_explains("cronjob-one-job-running")
def _explain_cronjob_one_running(world: World, cronjob: str | None = None):
    targets = [c for c in _cronjobs(world, cronjob) if world.cronjobs[c].concurrency_policy != "Allow"]

    def explain(s):
        for c in targets:
            runs = _runs_with_pods(world, s, c)
            if len(runs) > 1:
                info = world.cronjobs[c]
                return (f"pods of {len(runs)} runs of CronJob/{info.name} ({info.concurrency_policy}) are active or "
                        f"terminating at once ({', '.join(runs)})")
        return None
    return explain


# --------------------------------------------------------------------------- generations and finalizers

GENERATION_CHECKS = ("rollout-status-truthful",)
"""Checks that read ``metadata.generation``/``status.observedGeneration``: a scenario
with one keeps them in its states (:func:`~kspec.simulation.controllers.deployment.track_generations`)."""

VIEWERS = ("kubectl", "without-generation-check")
"""How ``rollout-status-truthful`` reads a workload: ``kubectl rollout status``
(``DeploymentStatusViewer``, ``StatefulSetStatusViewer``, ``DaemonSetStatusViewer``),
or the same comparisons without their ``observedGeneration`` guard (what a
hand-written wait script often does)."""


def _viewer(world: World, s: State, w: int, viewer: str) -> tuple[str, bool]:
    """The viewer's message for workload ``w`` and whether it says the rollout is done."""
    guard = viewer == "kubectl"
    kind = world.workloads[w].kind
    if kind == "StatefulSet":
        return sts_rollout_status(world, s, w, guard)
    if kind == "DaemonSet":
        return ds_rollout_status(world, s, w, guard)
    return deployment_status_viewer(world.workloads[w].name, s.replicas[w], calculate_status(world, s, w),
                                    observed(world, s, w) if guard else True)


def _not_rolled(world: World, s: State, w: int) -> list[str]:
    """Active pods of workload ``w`` that do not run the template its current
    spec gives them (for a StatefulSet, the one its partition gives each ordinal)."""
    kind = world.workloads[w].kind
    if kind == "StatefulSet":
        return [p.name for p in s.pods if p.owner == w and is_active(p)
                and p.group != sts_pod_group(world, s, w, sts_ordinal(world, w, p.name))]
    if kind == "DaemonSet":
        current = ds_current_group(world, s, w)
        return [p.name for p in s.pods if p.owner == w and is_active(p) and p.group != current]
    current = world.workloads[w].replica_sets[world.current_revision(s, w)]
    return [p.name for p in _deployment_pods(world, s, w) if p.owner != current]


def _check_viewer(viewer: str) -> None:
    if viewer not in VIEWERS:
        raise PropertyParamError(f"rollout-status-truthful: viewer is {' or '.join(VIEWERS)}, got {viewer!r}")


def _rolled_workloads(world: World, deployment: str | None, statefulset: str | None,
                      daemonset: str | None) -> tuple[int, ...]:
    """The workloads named (every Deployment, StatefulSet and DaemonSet when none is)."""
    if deployment is None and statefulset is None and daemonset is None:
        return world.deployments + world.statefulsets + world.daemonsets
    return ((_deployments(world, deployment) if deployment is not None else ())
            + (_statefulsets(world, statefulset) if statefulset is not None else ())
            + (_daemonsets(world, daemonset) if daemonset is not None else ()))


@_entry("rollout-status-truthful", "always", ("deployment", "statefulset", "daemonset", "viewer"))
def _rollout_status_truthful(world: World, deployment: str | None = None, statefulset: str | None = None,
                             daemonset: str | None = None, viewer: str = "kubectl"):
    """Whenever `kubectl rollout status` says a Deployment, StatefulSet or DaemonSet is rolled out, every active pod of it runs its current template.

    The rules are kubectl's (``rollout_status.go``): ``DeploymentStatusViewer``,
    ``StatefulSetStatusViewer`` (RollingUpdate only; ``readyReplicas`` and
    ``updatedReplicas >= replicas - partition``: pods below the partition keep
    the old template and are not counted against it) and
    ``DaemonSetStatusViewer`` (RollingUpdate only), each reading the status the
    controller last wrote and done only once ``status.observedGeneration >=
    metadata.generation``. Right after ``kubectl set image`` the status still
    describes the old template, every replica "updated", so a reader that
    skips that guard (``viewer: without-generation-check``) reports success
    while only old pods run. Terminating pods are not counted (the viewers
    count none as updated).
    """
    _check_viewer(viewer)
    targets = _rolled_workloads(world, deployment, statefulset, daemonset)

    def check(s):
        for w in targets:
            if s.replicas[w] is not None and _viewer(world, s, w, viewer)[1] and _not_rolled(world, s, w):
                return False
        return True
    return check


@_explains("rollout-status-truthful")
def _explain_rollout_status(world: World, deployment: str | None = None, statefulset: str | None = None,
                            daemonset: str | None = None, viewer: str = "kubectl"):
    targets = _rolled_workloads(world, deployment, statefulset, daemonset)

    def explain(s):
        for w in targets:
            if s.replicas[w] is None:
                continue
            message, done = _viewer(world, s, w, viewer)
            old = _not_rolled(world, s, w) if done else []
            if old:
                seen = observed_generation(world, s, w)
                at = "" if seen is None else f" (observedGeneration {seen}, generation {generation(world, s, w)})"
                return (f"the status of {_ref(world, w)} reads as '{message}'{at} while "
                        f"{_plural(len(old), 'pod')} of an old template run{'s' if len(old) == 1 else ''}: "
                        f"{', '.join(old)}")
        return None
    return explain


@_witnesses("rollout-status-truthful")
def _witness_rollout_status(world: World, deployment: str | None = None, statefulset: str | None = None,
                            daemonset: str | None = None, viewer: str = "kubectl"):
    targets = _rolled_workloads(world, deployment, statefulset, daemonset)
    if not targets:
        return _nothing("Deployment, StatefulSet or DaemonSet")
    return (Witness(f"the controller never lags behind a change of {_refs(world, targets)}'s spec, so the "
                    "observedGeneration guard never matters",
                    lambda s: any(s.replicas[w] is not None and observed_generation(world, s, w) is not None
                                  and observed_generation(world, s, w) < generation(world, s, w)
                                  for w in targets)),)


def stuck_terminating(world: World, s: State) -> list[str]:
    """Pods Terminating that nothing physical holds back: unbound, or on a node
    that is up and reaches the API server (its kubelet can finish them). What
    keeps such a pod is a finalizer, or a controller that has not acted yet."""
    out = []
    for p in s.pods:
        if p.deleting and (p.node < 0 or s.nodes[p.node].heartbeating):
            out.append(p.name)
    return out


@_entry("no-stuck-terminating", "eventually_always", ())
def _no_stuck_terminating(world: World):
    """Once faults stop, no pod stays Terminating on a node that works (or on none): every deletion eventually finishes.

    A pod with a deletionTimestamp leaves the API once its kubelet has stopped
    it and its ``metadata.finalizers`` are empty. A finalizer no controller
    removes keeps it Terminating for ever (``kubectl get pods`` shows it; a
    ReplicationController has long made its replacement, as a pod with a
    deletionTimestamp is not active). Pods on a node that stays down or cut
    off are not counted: only its kubelet, or a force delete, can end them.
    """
    return lambda s: not stuck_terminating(world, s)


@_explains("no-stuck-terminating")
def _explain_stuck_terminating(world: World):
    def explain(s):
        names = stuck_terminating(world, s)
        if not names:
            return None
        pod = s.pod(names[0])
        held = world.groups[pod.group].finalizers
        why = f" held by finalizer {', '.join(held)}" if held else ""
        where = world.node_names[pod.node] if pod.node >= 0 else "no node"
        return f"pod {pod.name} is Terminating ({pod.phase}) on {where}{why}"
    return explain


@_witnesses("no-stuck-terminating")
def _witness_stuck_terminating(world: World):
    return (Witness("no pod is ever deleted, so none could get stuck Terminating",
                    lambda s: any(p.deleting for p in s.pods)),)
