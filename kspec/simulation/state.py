"""The exploration state: what the API server stores and what is physically true.

Many real failures live in the gap between the two views:
the API server says a pod is Running and Ready while its node has crashed, or a
pod is Terminating in etcd while its containers keep running on a node that
was cut off. A :class:`State` therefore keeps both, side by side:

API view (what etcd holds, what controllers read and write)
    per pod: ``spec.nodeName``, ``status.phase``, the ``Ready`` condition,
    ``deletionTimestamp`` (``deleting``), the controller ``ownerReference``
    and whether the scheduler recorded ``PodScheduled=False``; per node: the
    ``Ready`` condition (``True`` or ``Unknown``) and the
    ``node.kubernetes.io/unreachable:NoExecute`` taint; per Service: its
    Endpoints' ready addresses; per workload: ``spec.replicas`` (``None``
    once the workload is deleted).

Physical view (what kubelets and machines actually do)
    per pod: the containers' state on its node (``run``: not running, up,
    hung, crashed); per node: whether the machine is up, whether it can
    reach the API server (a partition keeps containers running but stops
    heartbeats and API access), and the containers still running there whose
    pod objects were force-deleted (``orphans``, by template, until the
    kubelet sees the API again and kills them).

Time is abstract: a node's ``timer`` counts which ``tolerationSeconds``
thresholds have passed since its NoExecute taint was added (bounded by the
number of distinct thresholds), and every other delay (the node monitor grace
period, informer latency, back-off) is a step that may happen at any later
point. Faults used and user operations done are counted in the state, so the
space is finite and convergence is judged after faults stop.

The static part (manifests, templates, nodes' capacity, selectors) lives in a
:class:`World` built once per scenario; states refer to it by index, which
keeps them small and fast to hash. ``resourceVersion`` (the count of API
writes) is kept on the state for traces, but it is history, not state: it is
left out of equality and hashing, as two clusters that differ only in how many
writes led to them behave identically.

Writes go through :func:`create_pod`, :func:`delete_pod`, :func:`remove_pod`
and :func:`update_pod`, which apply the API server's rules in one place
(``pkg/registry/core/pod/strategy.go``: a pod that is not bound to a node, or
already Succeeded/Failed, is deleted at once; any other pod gets a
``deletionTimestamp`` and waits for its kubelet).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Mapping, NamedTuple, Sequence

import attrs

from kspec.api.defaults import UNREACHABLE_TAINT
from kspec.api.validation import int_or_percent
from kspec.errors import Diagnostic, KspecError, LoadError, SelectorError, ValidationError
from kspec.loading.cluster import Cluster
from kspec.loading.manifests import parse_object
from kspec.util.frozendict import FrozenDict
from kspec.api.labels import Selector, new_requirement, qualified_name_errors, selector_from_dict, selector_from_map
from kspec.api.objects import Node, NodeCondition, Pod, Taint, pod_requests
from kspec.simulation.controllers.cronschedule import CronScheduleError, parse_schedule
from kspec.simulation.controllers.jobspec import job_spec

__all__ = [
    "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "TERMINAL_PHASES",
    "NOT_RUNNING", "UP", "HUNG", "CRASHED",
    "READY", "UNKNOWN",
    "PodRec", "NodeRec", "State", "World", "Workload", "PodGroup", "ServiceInfo", "CronJobInfo", "CRON_HORIZON",
    "StateError",
    "create_pod", "delete_pod", "remove_pod", "update_pod", "update_node",
    "is_active", "is_terminal", "has_ip", "serving", "well_formed", "has_quorum", "status_of", "with_status",
    "add_status_slot", "deletion_pending", "DELETIONS", "RELEASED", "released", "remove_finalizer",
    "finished_terminating", "FINALIZED_TEMPLATES",
]

# API phases (``status.phase``); Unknown is no longer written by the node controller.
PENDING, RUNNING, SUCCEEDED, FAILED = "Pending", "Running", "Succeeded", "Failed"
TERMINAL_PHASES = (SUCCEEDED, FAILED)

# Physical container state on the node.
NOT_RUNNING, UP, HUNG, CRASHED = "-", "up", "hung", "crashed"
RUN_STATES = (NOT_RUNNING, UP, HUNG, CRASHED)

# Node Ready condition in the API.
READY, UNKNOWN = "True", "Unknown"


class StateError(KspecError):
    """A write that the API server would refuse (unknown pod, duplicate name)."""


class PodRec(NamedTuple):
    """One pod: its API object and its containers on the node.

    ``group`` indexes :attr:`World.groups` (the template it was made from:
    labels and spec never change); ``owner`` indexes :attr:`World.workloads`
    (the controller ``ownerReference``), -1 for none; ``node`` indexes
    :attr:`World.nodes`, -1 while unbound.

    Pod and node records are named tuples rather than attrs classes: they are
    built and hashed millions of times per exploration, and tuple hashing and
    comparison run in C.
    """

    name: str
    group: int
    owner: int = -1
    node: int = -1
    phase: str = PENDING
    ready: bool = False
    deleting: bool = False
    unschedulable: bool = False  # PodScheduled=False recorded by the scheduler
    run: str = NOT_RUNNING  # physical view

    def __repr__(self) -> str:
        api = self.phase + (" Ready" if self.ready else "") + (" Terminating" if self.deleting else "")
        api += " Unschedulable" if self.unschedulable else ""
        where = f"@n{self.node}" if self.node >= 0 else ""
        owner = f" owner={self.owner}" if self.owner >= 0 else ""
        return f"{self.name}{where}({api}; containers {self.run}{owner})"


class NodeRec(NamedTuple):
    """One node: machine and network (physical), Ready condition and taint (API)."""

    up: bool = True
    reachable: bool = True
    ready: str = READY
    tainted: bool = False  # node.kubernetes.io/unreachable:NoExecute
    timer: int = 0  # thresholds passed since the taint was added
    cordoned: bool = False  # spec.unschedulable (kubectl cordon / drain)
    orphans: tuple[int, ...] = ()  # physical: groups of containers still running whose pod objects were force-deleted
    together: bool = False  # cut off at the same instant as every other node (a control-plane partition)

    def __repr__(self) -> str:
        machine = ("up" if self.up else "down") + ("" if self.reachable else " partitioned")
        machine += f" orphans={list(self.orphans)}" if self.orphans else ""
        api = f"Ready={self.ready}" + (f" unreachable:NoExecute t={self.timer}" if self.tainted else "")
        api += " cordoned" if self.cordoned else ""
        return f"({machine}; {api})"

    @property
    def heartbeating(self) -> bool:
        """The kubelet can post status: the machine runs and reaches the API server."""
        return self.up and self.reachable


@attrs.frozen(cache_hash=True, slots=True)
class State:
    """One cluster state (see the module docstring); compared and hashed by value."""

    pods: tuple[PodRec, ...]  # sorted by name
    nodes: tuple[NodeRec, ...]  # in World.nodes order
    endpoints: tuple[tuple[str, ...], ...]  # per World.services: ready addresses (pod names, sorted)
    replicas: tuple[int | None, ...]  # per World.workloads: spec.replicas, None once deleted
    memory: tuple = ()  # per World.controllers with memory (custom controllers)
    faults: tuple[int, ...] = ()  # faults used: per kind of the budget, or one pooled count (FaultBudget.pooled)
    ops: int = 0  # bitmask of user operations done
    rv: int = attrs.field(default=0, eq=False, repr=False)  # last resourceVersion written
    log: tuple = ()  # the watch stream's recent pod events some informer cache has not seen (informer.Event)
    informers: tuple = ()  # per informed controller: its cache's position on the stream (informer.InformerRec)
    etcd_down: int = 0  # etcd members down (World.etcd_members in all)
    status: tuple = ()  # other API objects' stored state, one slot per World.status_slots entry (see status_of)

    # ---------------------------------------------------------------- look-ups

    def pod(self, name: str) -> PodRec | None:
        for pod in self.pods:
            if pod.name == name:
                return pod
        return None

    def index_of(self, name: str) -> int:
        for index, pod in enumerate(self.pods):
            if pod.name == name:
                return index
        raise StateError(f"no pod named {name!r}")

    def owned_by(self, workload: int) -> tuple[PodRec, ...]:
        return tuple(p for p in self.pods if p.owner == workload)

    def on_node(self, node: int) -> tuple[PodRec, ...]:
        return tuple(p for p in self.pods if p.node == node)

    @property
    def faults_used(self) -> int:
        return sum(self.faults)


# --------------------------------------------------------------------------- pod predicates


DELETIONS = "deletions"  # status slot: per workload, the propagation of a pending deletion (Foreground, Orphan)


def add_status_slot(world: "World", key: str, initial) -> None:
    """Give API object ``key`` a slot in ``State.status``, starting at ``initial``."""
    world.status_slots[key] = len(world.status_slots)
    world.status_initial = tuple(world.status_initial) + (initial,)


def deletion_pending(world: "World", state: State, w: int) -> str | None:
    """How workload ``w`` is being deleted, while it still exists: the
    ``foregroundDeletion`` or ``orphan`` finalizer its DELETE set (None: not being deleted)."""
    slot = world.status_slots.get(DELETIONS)
    return None if slot is None else state.status[slot][w]


RELEASED = "released"  # status slot: per workload, whether the GC removed its controller ownerReference (Orphan)


def released(world: "World", state: State, w: int) -> bool:
    """Whether workload ``w`` (a Deployment's ReplicaSet) was orphaned: the
    garbage collector removed its ownerReference when its Deployment was
    deleted with ``propagationPolicy: Orphan``; it lives on, owned by nobody."""
    slot = world.status_slots.get(RELEASED)
    return slot is not None and state.status[slot][w]


def status_of(world: "World", state: State, key: str):
    """The stored state of API object ``key`` (a slot of ``World.status_slots``)."""
    return state.status[world.status_slots[key]]


def with_status(world: "World", state: State, key: str, value) -> State:
    """``state`` with object ``key``'s stored state replaced (an API write)."""
    slot = world.status_slots[key]
    return attrs.evolve(state, status=state.status[:slot] + (value,) + state.status[slot + 1:], rv=state.rv + 1)


def has_quorum(world: "World", state: State) -> bool:
    """Whether a majority of etcd's members is up: without it every write fails."""
    return world.etcd_members - state.etcd_down > world.etcd_members // 2


def is_terminal(pod: PodRec) -> bool:
    return pod.phase in TERMINAL_PHASES


def is_active(pod: PodRec) -> bool:
    """controller.IsPodActive: not Succeeded or Failed and no deletionTimestamp."""
    return not pod.deleting and pod.phase not in TERMINAL_PHASES


def has_ip(pod: PodRec) -> bool:
    """The pod has a sandbox and an IP: its kubelet started it (phase Running)."""
    return pod.phase == RUNNING


def serving(pod: PodRec, state: State) -> bool:
    """Physically answering requests: containers up on a machine that is up."""
    return pod.run == UP and pod.node >= 0 and state.nodes[pod.node].up


# --------------------------------------------------------------------------- the static world


@attrs.frozen
class PodGroup:
    """A template pods are made from (a workload's ``spec.template``, or a bare
    pod from the manifests). Pods of one generated group are interchangeable."""

    prefix: str  # generated names: prefix + index; bare pods: the name itself
    namespace: str
    labels: FrozenDict
    pod: Pod  # the admitted pod object (defaults and DefaultTolerationSeconds applied)
    generated: bool
    deletion_cost: int = 0
    unreachable_level: int | None = 0  # timer value at which the unreachable taint evicts; None: never
    readiness_probe: bool = False
    liveness_probe: bool = False
    restart_policy: str = "Always"
    pinned_node: int = -1  # spec.nodeName in the template: bound at creation, the scheduler skips it
    daemon: bool = False  # a DaemonSet's: one pod per node, named <daemonset>-<node>, scheduled to that node only
    runs_to_completion: bool = False  # a Job's: its containers finish their work and exit 0 (phase Succeeded)
    finalizer: bool = False  # a Job's, with the tracking finalizer: the object stays until the Job counts it
    finalizers: tuple[str, ...] = ()  # metadata.finalizers of the template or bare pod (see World.finalizer_twins)
    completion_index: int = -1  # an Indexed Job's: batch.kubernetes.io/job-completion-index


@attrs.frozen
class Workload:
    """A ReplicationController, ReplicaSet, StatefulSet, DaemonSet or Deployment.

    A Deployment owns no pods (``group`` is -1): it owns one ReplicaSet per
    template revision (``replica_sets``, oldest first), each a workload of its
    own whose ``deployment`` is the Deployment's index. Those ReplicaSets do not
    exist until the deployment controller creates them (their ``spec.replicas``
    in the state starts as ``None``).
    """

    kind: str
    name: str
    namespace: str
    uid: str
    selector: Selector
    replicas: int
    group: int
    record: Any = attrs.field(eq=False, repr=False, default=None)
    deployment: int = -1  # a Deployment's ReplicaSet: that Deployment's index
    revision: int = 0  # a Deployment's ReplicaSet: its template revision (1, 2, ...)
    strategy: Any = None  # a Deployment: its DeploymentStrategy
    replica_sets: tuple[int, ...] = ()  # a Deployment: its ReplicaSets, oldest revision first
    cronjob: int = -1  # a CronJob's Job: that CronJob's index in World.cronjobs (the Job exists once created)
    revisions: tuple[int, ...] = ()  # a rolled-out StatefulSet or DaemonSet: its pod groups, oldest template first

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def owns_pods(self) -> bool:
        """RCs, ReplicaSets and StatefulSets own pods; a Deployment owns ReplicaSets."""
        return self.group >= 0


CRON_HORIZON = 3
"""Activations of each CronJob's schedule a scenario explores (the clock stops after the last)."""


@attrs.frozen
class CronJobInfo:
    """A CronJob (batch/v1): its schedule, the times of its first activations on
    the scenario's clock (seconds since its creation at 0) and the Job workload
    made for each, ``concurrencyPolicy``, ``startingDeadlineSeconds``, ``suspend``
    and the history limits."""

    name: str
    namespace: str
    schedule: Any
    times: tuple[int, ...]
    jobs: tuple[int, ...]
    concurrency_policy: str = "Allow"
    starting_deadline: int | None = None
    suspend: bool = False
    successful_history: int = 3
    failed_history: int = 1


@attrs.frozen
class DisruptionBudget:
    """A PodDisruptionBudget (policy/v1): ``min_available`` or ``max_unavailable``,
    each an int or a percentage string."""

    name: str
    namespace: str
    selector: Selector
    min_available: int | str | None = None
    max_unavailable: int | str | None = None


@attrs.frozen
class ServiceInfo:
    name: str
    namespace: str
    selector: Selector | None  # None: no selector, endpoints are not managed
    cluster_ip: str
    publish_not_ready: bool = False


class World:
    """Everything that never changes during exploration, built once from a Cluster.

    Precomputes which groups each workload selects and each Service selects
    (labels are fixed per group), node classes for symmetry, and the eviction
    thresholds; materialises Pod and Node records for the scheduler filters on
    demand, with caches.
    """

    def __init__(self, cluster: Cluster, *, extra_templates: Sequence[Pod] = (), pod_gc_threshold: int = 12500,
                 rollouts: Mapping[str, str | None] | None = None):
        """``rollouts``: Deployments whose template a user operation changes
        (name -> the new image of the first container, or None for ``kubectl
        rollout restart``); each gets a second ReplicaSet for revision 2, and
        a StatefulSet or DaemonSet named there a second pod group (``revisions``)."""
        self.cluster = cluster
        self.rollouts = dict(rollouts or {})
        self.rollout_bits: dict[int, int] = {}  # Deployment index -> its rollout operation's bit in State.ops
        # Deployment index -> the bits of State.ops whose operations change its spec (metadata.generation counts
        # them); empty unless a check reads generations (kspec.simulation.controllers.deployment.track_generations)
        self.spec_bits: dict[int, int] = {}
        self.nodes: tuple[Node, ...] = tuple(cluster.nodes)
        if not self.nodes:
            raise KspecError("the scenario has no nodes: add Node manifests or a node pool (nodes: [\"3:cpu=2,memory=4Gi\"])")
        self.node_names = tuple(n.metadata.name for n in self.nodes)
        self.node_index = {name: i for i, name in enumerate(self.node_names)}
        self.pod_gc_threshold = pod_gc_threshold
        self.workloads: list[Workload] = []
        self.groups: list[PodGroup] = []
        self.services: list[ServiceInfo] = []
        self.job_groups: dict[int, tuple[tuple[int, int], ...]] = {}  # Job -> per index: (tracked, counted) groups
        self.job_specs: dict = {}  # Job -> its jobmath.JobSpec
        self.counted_twin: dict[int, int] = {}  # a Job pod's template with the tracking finalizer -> without it
        # (group, finalizer) -> the same template without that finalizer (see remove_finalizer)
        self.finalizer_twins: dict[tuple[int, str], int] = {}
        self.unmodelled_finalizers: dict[str, Diagnostic] = {}  # workload ref -> warning: template finalizers left out
        self.cronjobs: list[CronJobInfo] = []
        self._build_workloads(cluster)
        self.bare_pods: list[tuple[Pod, int]] = []  # (pod record, group) from the manifests
        for pod in cluster.pods:
            self.bare_pods.append((pod, self._add_group(pod, pod.metadata.name, generated=False)))
        self.template_groups: dict[str, int] = {}
        for pod in extra_templates:
            self.template_groups[pod.metadata.generate_name or pod.metadata.name] = self._add_group(
                pod, pod.metadata.generate_name or pod.metadata.name + "-", generated=True)
        for svc in cluster.services:
            sel = None if svc.spec.selector is None else selector_from_map(svc.spec.selector, validate=False)
            if svc.spec.type == "ExternalName":
                sel = None
            self.services.append(ServiceInfo(svc.metadata.name, svc.metadata.namespace or "default", sel,
                                             svc.spec.cluster_ip or f"10.96.0.{10 + len(self.services)}",
                                             svc.spec.publish_not_ready_addresses))
        self.workloads = tuple(self.workloads)
        self.budgets = tuple(_budget(obj) for obj in cluster.of_kind("PodDisruptionBudget"))
        # pod_owners: the workloads whose pods the replica checks count (RCs, ReplicaSets, StatefulSets)
        self.pod_owners = tuple(i for i, w in enumerate(self.workloads)
                                if w.owns_pods and w.kind not in ("DaemonSet", "Job"))
        self.replicated = tuple(i for i in self.pod_owners if self.workloads[i].kind != "StatefulSet")
        self.replicated_index = {w: j for j, w in enumerate(self.replicated)}
        self.daemonsets = tuple(i for i, w in enumerate(self.workloads) if w.kind == "DaemonSet")
        self.statefulsets = tuple(i for i, w in enumerate(self.workloads) if w.kind == "StatefulSet")
        self.deployments = tuple(i for i, w in enumerate(self.workloads) if w.kind == "Deployment")
        self.jobs = tuple(self.job_groups)
        self.cronjobs = tuple(self.cronjobs)
        self.groups = tuple(self.groups)
        self.services = tuple(self.services)
        self.levels = self._levels()
        self.groups = tuple(attrs.evolve(g, unreachable_level=self._level_of(g.pod)) for g in self.groups)
        # selects[w][g]: workload w's selector matches group g (and namespaces agree)
        self.selects = tuple(tuple(w.namespace == g.namespace and w.selector.matches(g.labels) for g in self.groups)
                             for w in self.workloads)
        self.budget_selects = tuple(tuple(b.namespace == g.namespace and b.selector.matches(g.labels)
                                          for g in self.groups) for b in self.budgets)
        self.service_selects = tuple(
            tuple(s.selector is not None and s.namespace == g.namespace and s.selector.matches(g.labels)
                  for g in self.groups) for s in self.services)
        self.requests = tuple(pod_requests(g.pod.spec) for g in self.groups)
        self.static_noexecute = tuple(tuple(t for t in n.spec.taints if t.effect == "NoExecute") for n in self.nodes)
        self.zones = tuple(n.metadata.labels.get("topology.kubernetes.io/zone",
                                                 n.metadata.labels.get("failure-domain.beta.kubernetes.io/zone", ""))
                           for n in self.nodes)
        self._pod_cache: dict = {}
        self._node_cache: dict = {}
        # the control plane, as the scenario sets it (kspec.simulation.scenario fills these in)
        self.etcd_members = 1
        self.lifecycle = None  # nodelifecycle.EvictionRule (None: upstream's)
        self.consistency = None  # informer.Consistency
        self.informed: tuple = ()  # controllers reading through an informer cache, in State.informers order
        self.informer_slots: dict[str, int] = {}
        self.memory_slots: dict[str, int] = {}
        self.status_slots: dict[str, int] = {}  # API objects with stored state beyond the above (an HPA, a Job)
        self.status_initial: tuple = ()  # each slot's value when the manifests are applied
        # a Job's and a CronJob's status (kspec.simulation.controllers.job, .cronjob): None until first written
        for ref in [self.workloads[w].ref for w in self.jobs] + [f"CronJob/{c.name}" for c in self.cronjobs]:
            add_status_slot(self, ref, None)
        self.autoscalers: tuple = ()  # podautoscaler.Autoscaler per HorizontalPodAutoscaler (the scenario fills it in)
        self.controllers: tuple = ()

    # ---------------------------------------------------------------- building

    def _build_workloads(self, cluster: Cluster) -> None:
        for obj in cluster.of_kind("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet",
                                   "Job"):
            namespace = obj.metadata.namespace or "default"
            uid = obj.metadata.uid or f"uid-{obj.kind.lower()}-{namespace}-{obj.metadata.name}"
            if obj.kind == "Job":
                self._build_job(obj, namespace, uid)
                continue
            if obj.kind == "Deployment":
                self._build_deployment(obj, namespace, uid)
                continue
            if obj.kind == "DaemonSet":
                pod = self._template_pod(obj, _daemon_template(_raw_template(obj)), namespace)
                group = self._add_group(pod, obj.metadata.name + "-", generated=False, daemon=True)
                self.workloads.append(Workload(obj.kind, obj.metadata.name, namespace, uid, obj.spec.selector,
                                               len(self.nodes), group, obj, revisions=self._revised(obj, group)))
                continue
            pod = self._template_pod(obj, _raw_template(obj), namespace)
            # a StatefulSet's pods have stable identities (<name>-<ordinal>): symmetry never renames them
            group = self._add_group(pod, obj.metadata.name + "-", generated=obj.kind != "StatefulSet")
            revisions = self._revised(obj, group) if obj.kind == "StatefulSet" else ()
            self.workloads.append(Workload(obj.kind, obj.metadata.name, namespace, uid, obj.spec.selector,
                                           obj.spec.replicas, group, obj, revisions=revisions))
        for obj in cluster.of_kind("CronJob"):
            self._build_cronjob(obj)

    def _revised(self, obj, group: int) -> tuple[int, ...]:
        """A StatefulSet's or DaemonSet's pod groups per template revision when a rollout changes
        its template (empty otherwise). A StatefulSet's revision-2 pods keep the ordinal names; a
        DaemonSet's are named ``<daemonset>-v2-<node>``, so a surge pod can run beside the old one."""
        if obj.metadata.name not in self.rollouts:
            return ()
        template = _next_revision(_raw_template(obj), self.rollouts[obj.metadata.name])
        daemon = obj.kind == "DaemonSet"
        namespace = obj.metadata.namespace or "default"
        pod = self._template_pod(obj, _daemon_template(template) if daemon else template, namespace)
        prefix = obj.metadata.name + ("-v2-" if daemon else "-")
        return group, self._add_group(pod, prefix, generated=False, daemon=daemon)

    def _build_deployment(self, obj, namespace: str, uid: str) -> None:
        """The Deployment and a ReplicaSet per template revision, named
        ``<deployment>-<pod-template-hash>`` as ``getNewReplicaSet`` does; the
        hash label joins the pod labels and the ReplicaSet's selector."""
        d = len(self.workloads)
        self.workloads.append(Workload("Deployment", obj.metadata.name, namespace, uid, obj.spec.selector,
                                       obj.spec.replicas, -1, obj, strategy=obj.spec.strategy))
        templates = [_raw_template(obj)]
        if obj.metadata.name in self.rollouts:
            templates.append(_next_revision(templates[0], self.rollouts[obj.metadata.name]))
        indexes = []
        for revision, template in enumerate(templates, start=1):
            template_hash = pod_template_hash(template)
            template = copy.deepcopy(template)
            meta = template.setdefault("metadata", {})
            meta["labels"] = {**(meta.get("labels") or {}), "pod-template-hash": template_hash}
            name = f"{obj.metadata.name}-{template_hash}"
            pod = self._template_pod(obj, template, namespace)
            group = self._add_group(pod, name + "-", generated=True)
            selector = obj.spec.selector.add(new_requirement("pod-template-hash", "=", [template_hash]))
            indexes.append(len(self.workloads))
            self.workloads.append(Workload("ReplicaSet", name, namespace, f"{uid}-rs{revision}", selector,
                                           obj.spec.replicas, group, None, deployment=d, revision=revision))
        self.workloads[d] = attrs.evolve(self.workloads[d], replica_sets=tuple(indexes))

    def _build_cronjob(self, obj) -> None:
        """A CronJob and the Jobs of its first :data:`CRON_HORIZON` activations
        after its creation (at time 0 of the scenario's clock), each named
        ``<cronjob>-<scheduled minute>`` as ``getJobName`` does; a Job exists once
        the CronJob controller creates it."""
        raw = obj.raw if isinstance(obj.raw, dict) else {}
        spec = raw.get("spec") or {}
        namespace = obj.metadata.namespace or "default"
        name = obj.metadata.name

        def fail(field: str, message: str):
            raise LoadError([Diagnostic(str(obj.source.file), obj.source.line, f"CronJob/{name}: {message}", field)])

        try:
            schedule = parse_schedule(str(spec.get("schedule", "")))
        except CronScheduleError as err:
            fail("spec.schedule", str(err))
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy not in ("Allow", "Forbid", "Replace"):
            fail("spec.concurrencyPolicy", 'Unsupported value: supported values: "Allow", "Forbid", "Replace"')
        limits = []
        for key, default in (("startingDeadlineSeconds", None), ("successfulJobsHistoryLimit", 3),
                             ("failedJobsHistoryLimit", 1)):
            value = spec.get(key, default)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                fail(f"spec.{key}", "must be greater than or equal to 0")
            limits.append(value)
        template = spec.get("jobTemplate") if isinstance(spec.get("jobTemplate"), dict) else {}
        times: list[int] = []
        t: int | None = 0
        while len(times) < CRON_HORIZON:
            t = schedule.next(t)
            if t is None:
                break
            times.append(t)
        c = len(self.cronjobs)
        slots = []
        for t in times:
            manifest = {"apiVersion": "batch/v1", "kind": "Job",
                        "metadata": {**copy.deepcopy(template.get("metadata") or {}), "name": f"{name}-{t // 60}",
                                     "namespace": namespace},
                        "spec": copy.deepcopy(template.get("spec") or {})}
            job = parse_object(manifest, file=str(obj.source.file), line=obj.source.line)
            slots.append(len(self.workloads))
            self._build_job(job, namespace, f"uid-cronjob-{namespace}-{name}-{t}")
            self.workloads[-1] = attrs.evolve(self.workloads[-1], cronjob=c)
        self.cronjobs.append(CronJobInfo(name, namespace, schedule, tuple(times), tuple(slots), policy,
                                         limits[0], spec.get("suspend") is True, limits[1], limits[2]))

    def _build_job(self, obj, namespace: str, uid: str) -> None:
        """A Job and its pod templates: an Indexed Job has one per completion
        index (pods ``<job>-<index>-<n>``, the index in the
        ``batch.kubernetes.io/job-completion-index`` annotation and label), and
        each template comes twice, with the job controller's tracking finalizer
        and without it (the pod once the controller has counted it), under one
        name prefix. The template gets the ``job-name`` labels the API server adds."""
        spec = job_spec(obj)
        w = len(self.workloads)
        name = obj.metadata.name
        base = copy.deepcopy(_raw_template(obj))
        meta = base.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), "batch.kubernetes.io/job-name": name, "job-name": name}
        pairs = []
        for index in (range(spec.completions) if spec.indexed else (-1,)):
            template = copy.deepcopy(base)
            prefix = f"{name}-"
            if index >= 0:
                meta = template["metadata"]
                meta["labels"]["batch.kubernetes.io/job-completion-index"] = str(index)
                meta["annotations"] = {**(meta.get("annotations") or {}),
                                       "batch.kubernetes.io/job-completion-index": str(index)}
                prefix = f"{name}-{index}-"
            pod = self._template_pod(obj, template, namespace)
            pair = tuple(self._add_group(pod, prefix, generated=True, job=(finalizer, index))
                         for finalizer in (True, False))
            self.counted_twin[pair[0]] = pair[1]
            pairs.append(pair)
        self.job_groups[w] = tuple(pairs)
        self.job_specs[w] = spec
        self.workloads.append(Workload("Job", name, namespace, uid, obj.spec.selector, spec.parallelism,
                                       pairs[0][0], obj))

    def _template_pod(self, obj, template: Mapping, namespace: str) -> Pod:
        """The pod a controller would create: the template through API admission
        (defaulting and DefaultTolerationSeconds), as ``controller.GetPodFromTemplate``."""
        meta = dict(template.get("metadata") or {})
        manifest = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": obj.metadata.name + "-x", "namespace": namespace,
                         "labels": dict(meta.get("labels") or {}),
                         "annotations": dict(meta.get("annotations") or {})},
            "spec": copy.deepcopy(dict(template.get("spec") or {})),
        }
        finalizers = _finalizers(template, obj.source, "spec.template.metadata.finalizers")
        if finalizers and obj.kind in FINALIZED_TEMPLATES:
            manifest["metadata"]["finalizers"] = list(finalizers)
        elif finalizers:
            self.unmodelled_finalizers[f"{obj.kind}/{obj.metadata.name}"] = Diagnostic(
                str(obj.source.file), obj.source.line, f"{obj.kind}/{obj.metadata.name}: the finalizers of its pod "
                "template are left out by kspec explore (modelled for bare pods, RCs, ReplicaSets and Deployments)",
                "spec.template.metadata.finalizers", severity="warning", code="not-modelled")
        return parse_object(manifest, file=str(obj.source.file), line=obj.source.line)

    def initial_replicas(self) -> tuple[int | None, ...]:
        """``spec.replicas`` per workload when the manifests are applied: a
        Deployment's ReplicaSets do not exist yet (None)."""
        return tuple(None if w.deployment >= 0 or w.cronjob >= 0 else w.replicas for w in self.workloads)

    def current_revision(self, state: State, d: int) -> int:
        """Which of Deployment ``d``'s ReplicaSets holds its current template
        (index into ``replica_sets``; for a StatefulSet or DaemonSet, into
        ``revisions``): the second once its rollout operation (bit
        ``rollout_bits[d]`` of ``State.ops``) is done."""
        bit = self.rollout_bits.get(d)
        return 1 if bit is not None and state.ops >> bit & 1 else 0


    def _add_group(self, pod: Pod, prefix: str, *, generated: bool, daemon: bool = False,
                   job: tuple[bool, int] | None = None) -> int:
        """``job``: a Job's template, (with the tracking finalizer, completion index or -1)."""
        spec = pod.spec
        containers = spec.containers
        cost = 0
        text = pod.metadata.annotations.get("controller.kubernetes.io/pod-deletion-cost")
        if text is not None:
            try:
                cost = int(text)
            except ValueError:
                cost = 0
        pinned = self.node_index.get(spec.node_name, -2) if spec.node_name else -1
        self.groups.append(PodGroup(
            prefix=prefix, namespace=pod.metadata.namespace or "default", labels=pod.metadata.labels, pod=pod,
            generated=generated, deletion_cost=cost,
            readiness_probe=any(c.readiness_probe is not None for c in containers),
            liveness_probe=any(c.liveness_probe is not None for c in containers),
            restart_policy=spec.restart_policy, pinned_node=pinned, daemon=daemon,
            runs_to_completion=job is not None, finalizer=job is not None and job[0],
            completion_index=job[1] if job is not None else -1,
            finalizers=_finalizers(pod.raw, pod.source, "metadata.finalizers")))
        index = len(self.groups) - 1
        self._add_finalizer_twins(index, {})
        return index

    def _add_finalizer_twins(self, group: int, made: dict) -> None:
        """The template ``group`` less each of its finalizers in turn (and so on
        down to none), under the same name prefix: what a pod becomes when a
        controller removes a finalizer (``made``: finalizer sets already made)."""
        finalizers = self.groups[group].finalizers
        for name in finalizers:
            rest = tuple(f for f in finalizers if f != name)
            twin = made.get(rest)
            if twin is None:
                self.groups.append(attrs.evolve(self.groups[group], finalizers=rest))
                twin = made[rest] = len(self.groups) - 1
                self._add_finalizer_twins(twin, made)
            self.finalizer_twins[(group, name)] = twin

    def _levels(self) -> tuple[int, ...]:
        """Distinct positive tolerationSeconds for the unreachable taint: the timer's thresholds."""
        seconds = set()
        for group in self.groups:
            for tol in group.pod.spec.tolerations:
                if tol.tolerates(_UNREACHABLE_NOEXECUTE) and tol.toleration_seconds is not None and tol.toleration_seconds > 0:
                    seconds.add(tol.toleration_seconds)
        return tuple(sorted(seconds))

    def _level_of(self, pod: Pod) -> int | None:
        """Timer value at which the unreachable NoExecute taint evicts this pod
        (taint manager ``getMinTolerationTime``): 0 now, None never."""
        matching = [t for t in pod.spec.tolerations if t.tolerates(_UNREACHABLE_NOEXECUTE)]
        if not matching:
            return 0
        seconds = [t.toleration_seconds for t in matching]
        if any(s is None for s in seconds):
            return None
        least = min(seconds)
        return 0 if least <= 0 else self.levels.index(least) + 1

    # ---------------------------------------------------------------- objects for the filters

    def pod_object(self, group: int, name: str, node: int) -> Pod:
        """The API Pod record of a pod of ``group`` named ``name`` bound to ``node``."""
        key = (group, name, node)
        pod = self._pod_cache.get(key)
        if pod is None:
            base = self.groups[group].pod
            meta = attrs.evolve(base.metadata, name=name)
            spec = attrs.evolve(base.spec, node_name=self.node_names[node] if node >= 0 else "")
            pod = attrs.evolve(base, metadata=meta, spec=spec)
            self._pod_cache[key] = pod
        return pod

    def node_object(self, index: int, rec: NodeRec) -> Node:
        """The API Node record: the manifest plus what the node controller wrote
        (Ready=Unknown and the unreachable taints, NoSchedule and NoExecute)
        and ``spec.unschedulable`` once cordoned."""
        key = (index, rec.ready, rec.tainted, rec.cordoned)
        node = self._node_cache.get(key)
        if node is None:
            node = self.nodes[index]
            if rec.cordoned:
                node = attrs.evolve(node, spec=attrs.evolve(node.spec, unschedulable=True))
            if rec.ready != READY or rec.tainted:
                taints = tuple(node.spec.taints)
                if rec.ready != READY:
                    taints += (Taint(UNREACHABLE_TAINT, "NoSchedule"),)
                if rec.tainted:
                    taints += (_UNREACHABLE_NOEXECUTE,)
                conditions = tuple(c for c in node.status.conditions if c.type != "Ready")
                conditions += (NodeCondition("Ready", rec.ready, "NodeStatusUnknown" if rec.ready != READY else ""),)
                node = attrs.evolve(node, spec=attrs.evolve(node.spec, taints=taints),
                                    status=attrs.evolve(node.status, conditions=conditions))
            self._node_cache[key] = node
        return node

    # ---------------------------------------------------------------- names

    def workload_named(self, name: str, kind: str | None = None) -> int:
        for i, w in enumerate(self.workloads):
            if w.name == name and (kind is None or w.kind == kind):
                return i
        known = ", ".join(w.ref for w in self.workloads) or "(none)"
        raise KspecError(f"no ReplicationController or ReplicaSet named {name!r}; the scenario has: {known}")

    def service_named(self, name: str) -> int:
        for i, s in enumerate(self.services):
            if s.name == name:
                return i
        known = ", ".join(s.name for s in self.services) or "(none)"
        raise KspecError(f"no Service named {name!r}; the scenario has: {known}")

    def node_named(self, name: str) -> int:
        if name not in self.node_index:
            raise KspecError(f"no node named {name!r}; the scenario has: {', '.join(self.node_names)}")
        return self.node_index[name]

    def owner_of_ref(self, pod: Pod) -> int:
        """The workload a manifest pod's controller ownerReference names, or -1."""
        ref = pod.metadata.controller_ref()
        if ref is None:
            return -1
        for i, w in enumerate(self.workloads):
            if w.kind == ref.kind and w.name == ref.name and w.namespace == (pod.metadata.namespace or "default"):
                return i
        return -1

    def describe_pod(self, pod: PodRec) -> str:
        return pod.name


_UNREACHABLE_NOEXECUTE = Taint(UNREACHABLE_TAINT, "NoExecute")

FINALIZED_TEMPLATES = ("ReplicationController", "ReplicaSet", "Deployment")
"""Workloads whose template's ``metadata.finalizers`` the model keeps on the pods it makes (a
StatefulSet's, DaemonSet's or Job's pod groups stand for revisions and counts, not finalizers)."""


def _finalizers(raw, source, field: str) -> tuple[str, ...]:
    """``metadata.finalizers`` of a pod manifest or template, validated as the API
    server does (``ValidateFinalizers``: each a qualified name, not both
    ``orphan`` and ``foregroundDeletion``); a bad one is a :class:`LoadError` at the manifest's line."""
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    names = meta.get("finalizers") if isinstance(meta, dict) else None
    if names is None:
        return ()

    def fail(where: str, message: str):
        raise LoadError([Diagnostic(str(source.file), source.line, message, where)])

    if not isinstance(names, list):
        fail(field, f"must be a list of strings, got {type(names).__name__}")
    for name in names:
        problems = qualified_name_errors(name)
        if problems:
            fail(field, f"Invalid value: {json.dumps(name)}: {'; '.join(problems)}")
    if "orphan" in names and "foregroundDeletion" in names:
        fail(field, "Invalid value: finalizer orphan and foregroundDeletion cannot be both set")
    return tuple(dict.fromkeys(names))

def _budget(obj) -> DisruptionBudget:
    """A PodDisruptionBudget from its manifest (kspec loads it as a kept,
    unmodelled object); a bad field is a :class:`LoadError` at the manifest's line."""
    raw = obj.raw if isinstance(obj.raw, dict) else {}
    spec = raw.get("spec") or {}

    def fail(field: str, message: str):
        raise LoadError([Diagnostic(str(obj.source.file), obj.source.line,
                                    f"PodDisruptionBudget/{obj.metadata.name}: {message}", field)])

    try:
        low = int_or_percent(spec.get("minAvailable"), "spec.minAvailable")
        high = int_or_percent(spec.get("maxUnavailable"), "spec.maxUnavailable")
    except ValidationError as err:
        fail(err.path, err.message)
    try:
        selector = selector_from_dict(spec.get("selector"))
    except SelectorError as err:
        fail("spec.selector", str(err))
    if low is not None and high is not None:
        fail("spec", "minAvailable and maxUnavailable cannot be both set")
    return DisruptionBudget(obj.metadata.name, obj.metadata.namespace or "default", selector, low, high)


_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand: no vowels, no 0, 1, 3


def _raw_template(obj) -> dict:
    raw = obj.raw if isinstance(obj.raw, dict) else {}
    return (raw.get("spec") or {}).get("template") or {}


def pod_template_hash(template: Mapping) -> str:
    """``controller.ComputeHash``'s shape: FNV-32a of the template, its decimal
    digits mapped through ``rand.SafeEncodeString``'s alphabet. (Upstream hashes
    the Go struct; the value differs, the form and stability do not.)"""
    h = 0x811C9DC5
    for byte in json.dumps(template, sort_keys=True, default=str).encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in str(h))


# DaemonSet pods tolerate these taints whatever their template says (daemon/util AddOrUpdateDaemonPodTolerations)
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
# Added for host-network daemons only (a CNI agent must start before the node's network is up).
HOST_NETWORK_DAEMON_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                                  "effect": "NoSchedule"}


def _daemon_template(template: Mapping) -> dict:
    """The template with the DaemonSet controller's tolerations added, as
    upstream ``AddOrUpdateDaemonPodTolerations`` does (never evicted from a node
    that is unreachable or not ready; a host-network daemon also tolerates
    ``network-unavailable``)."""
    template = copy.deepcopy(dict(template))
    spec = template.setdefault("spec", {})
    tolerations = list(spec.get("tolerations") or [])
    added = DAEMON_TOLERATIONS + ((HOST_NETWORK_DAEMON_TOLERATION,) if spec.get("hostNetwork") is True else ())
    for toleration in added:
        if not any(t.get("key") == toleration["key"] and t.get("effect") == toleration["effect"] for t in tolerations):
            tolerations.append(dict(toleration))
    spec["tolerations"] = tolerations
    return template


def _next_revision(template: Mapping, image: str | None) -> dict:
    """The template after ``kubectl set image`` (first container) or, without an
    image, ``kubectl rollout restart`` (the ``restartedAt`` annotation)."""
    template = copy.deepcopy(dict(template))
    if image is not None:
        containers = (template.get("spec") or {}).get("containers") or []
        if containers:
            containers[0]["image"] = image
    else:
        meta = template.setdefault("metadata", {})
        meta["annotations"] = {**(meta.get("annotations") or {}), "kubectl.kubernetes.io/restartedAt": "revision-2"}
    return template


# --------------------------------------------------------------------------- writes (the API server's rules)


def _bump(state: State) -> int:
    return state.rv + 1


def _put(state: State, pods: tuple[PodRec, ...]) -> State:
    return State(pods, state.nodes, state.endpoints, state.replicas, state.memory, state.faults, state.ops,
                 state.rv + 1, state.log, state.informers, state.etcd_down,
                 state.status)


def update_pod(state: State, index: int, **changes) -> State:
    """``state`` with pod ``index`` changed (an API write when API fields change)."""
    pods = state.pods
    new = pods[index]._replace(**changes)
    return State(pods[:index] + (new,) + pods[index + 1:], state.nodes, state.endpoints, state.replicas,
                 state.memory, state.faults, state.ops, state.rv + 1, state.log, state.informers, state.etcd_down,
                 state.status)


def update_node(state: State, index: int, **changes) -> State:
    nodes = state.nodes
    new = nodes[index]._replace(**changes)
    return State(state.pods, nodes[:index] + (new,) + nodes[index + 1:], state.endpoints, state.replicas,
                 state.memory, state.faults, state.ops, state.rv + 1, state.log, state.informers, state.etcd_down,
                 state.status)


def free_name(state: State, prefix: str) -> str:
    """The generated name for a new pod: ``prefix`` plus the least unused index.

    Upstream appends five random characters (``names.SimpleNameGenerator``);
    any fresh name will do, and the least index keeps states comparable.
    """
    taken = {p.name for p in state.pods}
    for addresses in state.endpoints:  # a stale address keeps its name until the endpoints controller syncs
        taken.update(addresses)
    taken.update(event[0] for event in state.log)  # a name some informer cache may still hold
    for rec in state.informers:
        taken.update(name for name, _ in rec[1])
    index = 0
    while f"{prefix}{index}" in taken:
        index += 1
    return f"{prefix}{index}"


def create_pod(world: World, state: State, group: int, owner: int = -1, name: str | None = None) -> tuple[State, str]:
    """POST a pod made from ``group``'s template; returns the new state and its name.

    A template with ``spec.nodeName`` is bound at creation (the scheduler never
    sees it), as with any pod created with ``nodeName`` set.
    """
    g = world.groups[group]
    name = name or free_name(state, g.prefix)
    if state.pod(name) is not None:
        raise StateError(f"pod {name!r} already exists")
    node = g.pinned_node if g.pinned_node >= 0 else -1
    if g.pinned_node == -2:  # pinned to a node that does not exist: stays Pending forever
        node = -1
    rec = PodRec(name=name, group=group, owner=owner, node=node)
    pods = tuple(sorted(state.pods + (rec,), key=_name_key))
    return _put(state, pods), name


def _name_key(pod: PodRec) -> str:
    return pod.name


def remove_pod(state: State, index: int) -> State:
    """The API object is gone (final deletion)."""
    return _put(state, state.pods[:index] + state.pods[index + 1:])


def delete_pod(state: State, index: int, world: World | None = None) -> State:
    """DELETE with the default grace period (``pod strategy CheckGracefulDelete``):
    unbound or already terminated pods go at once; others get a
    ``deletionTimestamp`` and wait for their kubelet to confirm. With ``world``,
    a pod whose ``metadata.finalizers`` are not empty never goes at once: it
    keeps its ``deletionTimestamp`` until the last finalizer is removed
    (``BeforeDelete`` then ``updateForGracefulDeletionAndFinalizers`` in the
    generic registry store)."""
    pod = state.pods[index]
    if pod.deleting:
        return state
    if world is not None and world.groups[pod.group].finalizers:
        return update_pod(state, index, deleting=True)
    if pod.node < 0 or pod.phase in TERMINAL_PHASES:
        if pod.run != NOT_RUNNING:  # containers cannot outlive a terminal or unbound pod
            return update_pod(state, index, deleting=True)
        return remove_pod(state, index)
    return update_pod(state, index, deleting=True)


def finished_terminating(pod: PodRec) -> bool:
    """A deleted pod nothing but finalizers keeps: its grace period is over
    (``deletionGracePeriodSeconds`` 0: it was unbound or terminal when deleted,
    or its kubelet has stopped its containers and posted a terminal phase)."""
    return pod.deleting and pod.run == NOT_RUNNING and (pod.node < 0 or pod.phase in TERMINAL_PHASES)


def remove_finalizer(world: World, state: State, index: int, finalizer: str) -> State:
    """UPDATE of pod ``index`` that removes ``finalizer`` from ``metadata.finalizers``:
    the pod moves to its template's twin without it; if that was the last one and
    the pod's grace period is over, the API server deletes the object in the same
    update (the generic registry store's ``ShouldDeleteDuringUpdate``). A
    :class:`StateError` when the pod does not carry ``finalizer``."""
    pod = state.pods[index]
    twin = world.finalizer_twins.get((pod.group, finalizer))
    if twin is None:
        raise StateError(f"pod {pod.name!r} has no finalizer {finalizer!r}")
    if not world.groups[twin].finalizers and finished_terminating(pod):
        return remove_pod(state, index)
    return update_pod(state, index, group=twin)


# --------------------------------------------------------------------------- invariants of the encoding


def well_formed(state: State, world: World) -> list[str]:
    """Problems with ``state`` as an encoding of a cluster (empty when well formed).

    Every controller step must preserve these; tests check it on generated states.
    """
    problems = []
    names = [p.name for p in state.pods]
    if names != sorted(names):
        problems.append("pods are not sorted by name")
    if len(set(names)) != len(names):
        problems.append("two pods share a name")
    if len(state.nodes) != len(world.nodes):
        problems.append("node count differs from the world")
    if len(state.endpoints) != len(world.services):
        problems.append("endpoints count differs from the services")
    if len(state.replicas) != len(world.workloads):
        problems.append("replicas count differs from the workloads")
    for pod in state.pods:
        where = f"pod {pod.name}"
        if not 0 <= pod.group < len(world.groups):
            problems.append(f"{where}: unknown group {pod.group}")
            continue
        if not -1 <= pod.owner < len(world.workloads):
            problems.append(f"{where}: unknown owner {pod.owner}")
        if not -1 <= pod.node < len(world.nodes):
            problems.append(f"{where}: unknown node {pod.node}")
        if pod.run not in RUN_STATES:
            problems.append(f"{where}: bad run state {pod.run!r}")
        if pod.run != NOT_RUNNING and pod.node < 0:
            problems.append(f"{where}: containers running but not bound")
        if pod.run != NOT_RUNNING and pod.node >= 0 and not state.nodes[pod.node].up:
            problems.append(f"{where}: containers running on a node that is down")
        if pod.phase == RUNNING and pod.node < 0:
            problems.append(f"{where}: Running but not bound")
        if pod.ready and pod.phase != RUNNING:
            problems.append(f"{where}: Ready but phase {pod.phase}")
        if pod.unschedulable and pod.node >= 0:
            problems.append(f"{where}: bound but marked unschedulable")
    for n, rec in enumerate(state.nodes):
        if rec.orphans and not rec.up:
            problems.append(f"node {n}: orphaned containers on a machine that is down")
        if list(rec.orphans) != sorted(rec.orphans):
            problems.append(f"node {n}: orphans not sorted")
    for svc, addresses in zip(world.services, state.endpoints):
        if list(addresses) != sorted(set(addresses)):
            problems.append(f"endpoints {svc.name}: addresses not sorted and unique")
    for rec in state.nodes:
        if not 0 <= rec.timer <= len(world.levels):
            problems.append(f"node timer {rec.timer} out of range")
        if rec.timer and not rec.tainted:
            problems.append("node timer running without a taint")
    return problems
