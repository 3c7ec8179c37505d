"""Frozen records for the Kubernetes objects kspec models.

The records mirror the API's shape (``metadata``, ``spec``, ``status``) with
snake_case names, so ``pod.spec.containers[0].resources.requests["cpu"]`` reads
like ``pod.Spec.Containers[0].Resources.Requests[cpu]`` upstream. Every record
is deeply immutable and hashable: tuples, :class:`FrozenDict`, other records.

Two fields on every top-level record are excluded from equality and hashing:
``source`` (where it was read) and ``raw`` (the manifest after API defaulting,
as a ValidatingAdmissionPolicy would see it). A cluster's identity is its
objects' content, not the files they came from.

Records are built from manifests by :mod:`kspec.api.validation`, never from ad hoc
dicts inside controllers.
"""

from __future__ import annotations

from typing import Any

import attrs

from kspec.util.frozendict import EMPTY, FrozenDict
from kspec.api.labels import Selector

frozen = attrs.frozen(cache_hash=True)


@attrs.frozen
class Source:
    """Where an object was read: file and the line its document starts on."""

    file: str = "<memory>"
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


def _side(default=None):
    """A field kept for reports but left out of equality, hashing and repr."""
    return attrs.field(default=default, eq=False, hash=False, repr=False)


# --------------------------------------------------------------------------- metadata


@frozen
class OwnerReference:
    api_version: str
    kind: str
    name: str
    uid: str = ""
    controller: bool = False
    block_owner_deletion: bool = False


@frozen
class ObjectMeta:
    name: str
    namespace: str | None = None
    labels: FrozenDict = EMPTY
    annotations: FrozenDict = EMPTY
    owner_references: tuple[OwnerReference, ...] = ()
    uid: str = ""
    generate_name: str = ""
    deletion_timestamp: int | None = None
    resource_version: int = 0

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with ``controller: true`` (metav1.GetControllerOf)."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None


# --------------------------------------------------------------------------- containers


@frozen
class ContainerPort:
    container_port: int
    name: str = ""
    protocol: str = "TCP"
    host_port: int = 0
    host_ip: str = ""


@frozen
class Resources:
    requests: FrozenDict = EMPTY
    limits: FrozenDict = EMPTY


@frozen
class EnvVar:
    name: str
    value: str | None = None
    value_from: str | None = None


@frozen
class Probe:
    """A liveness, readiness or startup probe; ``handler`` is exec, httpGet, tcpSocket or grpc."""

    handler: str
    port: int | str | None = None
    path: str | None = None
    initial_delay_seconds: int = 0
    timeout_seconds: int = 1
    period_seconds: int = 10
    success_threshold: int = 1
    failure_threshold: int = 3


@frozen
class SecurityContext:
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    read_only_root_filesystem: bool | None = None
    capabilities_add: tuple[str, ...] = ()


@frozen
class VolumeMount:
    name: str
    mount_path: str
    read_only: bool = False


@frozen
class Container:
    name: str
    image: str = ""
    image_pull_policy: str = ""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    env: tuple[EnvVar, ...] = ()
    resources: Resources = Resources()
    volume_mounts: tuple[VolumeMount, ...] = ()
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    security_context: SecurityContext | None = None
    restart_policy: str | None = None  # sidecar init containers ("Always")


@frozen
class Volume:
    """A pod volume; ``source`` is its type (emptyDir, configMap, persistentVolumeClaim, ...)."""

    name: str
    source: str
    details: FrozenDict = EMPTY


# --------------------------------------------------------------------------- scheduling constraints


@frozen
class NodeSelectorRequirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...] = ()


@frozen
class NodeSelectorTerm:
    match_expressions: tuple[NodeSelectorRequirement, ...] = ()
    match_fields: tuple[NodeSelectorRequirement, ...] = ()


@frozen
class PreferredSchedulingTerm:
    weight: int
    preference: NodeSelectorTerm


@frozen
class NodeAffinity:
    required: tuple[NodeSelectorTerm, ...] | None = None  # None: no required terms
    preferred: tuple[PreferredSchedulingTerm, ...] = ()


@frozen
class PodAffinityTerm:
    topology_key: str
    label_selector: Selector = attrs.field(factory=Selector.nothing)
    namespaces: tuple[str, ...] = ()
    namespace_selector: Selector | None = None
    match_label_keys: tuple[str, ...] = ()
    mismatch_label_keys: tuple[str, ...] = ()


@frozen
class WeightedPodAffinityTerm:
    weight: int
    term: PodAffinityTerm


@frozen
class PodAffinity:
    required: tuple[PodAffinityTerm, ...] = ()
    preferred: tuple[WeightedPodAffinityTerm, ...] = ()


@frozen
class Affinity:
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None


@frozen
class Toleration:
    key: str = ""
    operator: str = "Equal"  # Equal or Exists
    value: str = ""
    effect: str = ""  # "" matches every effect
    toleration_seconds: int | None = None

    def tolerates(self, taint: "Taint") -> bool:
        """v1.Toleration.ToleratesTaint (k8s.io/api/core/v1/toleration.go)."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.operator in ("Equal", "") and self.value == taint.value


@frozen
class TopologySpreadConstraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: str  # DoNotSchedule or ScheduleAnyway
    label_selector: Selector = attrs.field(factory=Selector.nothing)
    min_domains: int | None = None
    node_affinity_policy: str = "Honor"
    node_taints_policy: str = "Ignore"
    match_label_keys: tuple[str, ...] = ()


# --------------------------------------------------------------------------- pods


@frozen
class PodSpec:
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    restart_policy: str = "Always"
    node_name: str = ""
    node_selector: FrozenDict = EMPTY
    affinity: Affinity | None = None
    tolerations: tuple[Toleration, ...] = ()
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] = ()
    priority: int | None = None
    priority_class_name: str = ""
    overhead: FrozenDict = EMPTY
    scheduler_name: str = "default-scheduler"
    service_account_name: str = ""
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    termination_grace_period_seconds: int = 30


@frozen
class PodCondition:
    type: str
    status: str  # "True", "False", "Unknown"
    reason: str = ""
    message: str = ""


@frozen
class PodStatus:
    phase: str = "Pending"  # Pending, Running, Succeeded, Failed, Unknown
    conditions: tuple[PodCondition, ...] = ()
    reason: str = ""
    message: str = ""

    def condition(self, type_: str) -> PodCondition | None:
        for cond in self.conditions:
            if cond.type == type_:
                return cond
        return None


@frozen
class PodTemplate:
    metadata: ObjectMeta
    spec: PodSpec


@frozen
class Pod:
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus = PodStatus()
    api_version: str = "v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "Pod"

    @property
    def ready(self) -> bool:
        """podutil.IsPodReady: the Ready condition is True."""
        cond = self.status.condition("Ready")
        return cond is not None and cond.status == "True"


# --------------------------------------------------------------------------- nodes


@frozen
class Taint:
    key: str
    effect: str  # NoSchedule, PreferNoSchedule, NoExecute
    value: str = ""
    time_added: int | None = None

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


@frozen
class NodeCondition:
    type: str
    status: str
    reason: str = ""


@frozen
class NodeSpec:
    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()
    pod_cidr: str = ""
    provider_id: str = ""


@frozen
class NodeStatus:
    capacity: FrozenDict = EMPTY
    allocatable: FrozenDict = EMPTY
    conditions: tuple[NodeCondition, ...] = ()


@frozen
class Node:
    metadata: ObjectMeta
    spec: NodeSpec = NodeSpec()
    status: NodeStatus = NodeStatus()
    api_version: str = "v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "Node"

    @property
    def ready(self) -> bool:
        """The Ready condition is True; a node that reports no conditions counts as ready."""
        for cond in self.status.conditions:
            if cond.type == "Ready":
                return cond.status == "True"
        return True


# --------------------------------------------------------------------------- workloads


@frozen
class ReplicationControllerSpec:
    replicas: int
    selector: Selector
    selector_map: FrozenDict
    template: PodTemplate
    min_ready_seconds: int = 0


@frozen
class ReplicaSetSpec:
    replicas: int
    selector: Selector
    template: PodTemplate
    min_ready_seconds: int = 0


@frozen
class WorkloadStatus:
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0


@frozen
class ReplicationController:
    metadata: ObjectMeta
    spec: ReplicationControllerSpec
    status: WorkloadStatus = WorkloadStatus()
    api_version: str = "v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "ReplicationController"


@frozen
class ReplicaSet:
    metadata: ObjectMeta
    spec: ReplicaSetSpec
    status: WorkloadStatus = WorkloadStatus()
    api_version: str = "apps/v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "ReplicaSet"


@frozen
class DeploymentStrategy:
    """``max_surge``/``max_unavailable`` are ints or percentage strings ("25%")."""

    type: str = "RollingUpdate"
    max_surge: int | str | None = "25%"
    max_unavailable: int | str | None = "25%"


@frozen
class DeploymentSpec:
    replicas: int
    selector: Selector
    template: PodTemplate
    strategy: DeploymentStrategy = DeploymentStrategy()
    min_ready_seconds: int = 0
    revision_history_limit: int = 10
    progress_deadline_seconds: int = 600
    paused: bool = False


@frozen
class Deployment:
    metadata: ObjectMeta
    spec: DeploymentSpec
    status: WorkloadStatus = WorkloadStatus()
    api_version: str = "apps/v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "Deployment"


@frozen
class UpdateStrategy:
    """A StatefulSet's or DaemonSet's ``spec.updateStrategy``: ``RollingUpdate`` or ``OnDelete``.
    ``partition`` is a StatefulSet's, ``max_surge`` a DaemonSet's; ``max_unavailable`` is an int or
    a percentage string, None when unset (a StatefulSet then updates one pod at a time)."""

    type: str = "RollingUpdate"
    partition: int = 0
    max_unavailable: int | str | None = None
    max_surge: int | str | None = None


@frozen
class StatefulSetSpec:
    replicas: int
    selector: Selector
    template: PodTemplate
    service_name: str = ""
    pod_management_policy: str = "OrderedReady"
    update_strategy: UpdateStrategy = UpdateStrategy()


@frozen
class StatefulSet:
    metadata: ObjectMeta
    spec: StatefulSetSpec
    status: WorkloadStatus = WorkloadStatus()
    api_version: str = "apps/v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "StatefulSet"


@frozen
class DaemonSetSpec:
    selector: Selector
    template: PodTemplate
    update_strategy: UpdateStrategy = UpdateStrategy(max_unavailable=1, max_surge=0)
    replicas = None  # one pod per eligible node


@frozen
class DaemonSet:
    metadata: ObjectMeta
    spec: DaemonSetSpec
    status: WorkloadStatus = WorkloadStatus()
    api_version: str = "apps/v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "DaemonSet"


@frozen
class JobSpec:
    selector: Selector
    template: PodTemplate
    parallelism: int = 1
    completions: int | None = 1
    backoff_limit: int = 6

    @property
    def replicas(self) -> int:
        """Pods running at once: parallelism, capped by completions."""
        if self.completions is None:
            return self.parallelism
        return min(self.parallelism, self.completions)


@frozen
class Job:
    metadata: ObjectMeta
    spec: JobSpec
    status: WorkloadStatus = WorkloadStatus()
    api_version: str = "batch/v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "Job"


# --------------------------------------------------------------------------- services and the rest


@frozen
class ServicePort:
    port: int
    target_port: int | str
    protocol: str = "TCP"
    name: str = ""
    node_port: int | None = None


@frozen
class ServiceSpec:
    type: str = "ClusterIP"  # ClusterIP, NodePort, LoadBalancer, ExternalName
    selector: FrozenDict | None = None  # None: no selector (endpoints managed by hand)
    ports: tuple[ServicePort, ...] = ()
    cluster_ip: str = ""
    external_name: str = ""
    session_affinity: str = "None"
    publish_not_ready_addresses: bool = False


@frozen
class Service:
    metadata: ObjectMeta
    spec: ServiceSpec = ServiceSpec()
    api_version: str = "v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "Service"


@frozen
class Namespace:
    metadata: ObjectMeta
    api_version: str = "v1"
    source: Source = _side(Source())
    raw: Any = _side()
    kind = "Namespace"


@frozen
class OpaqueObject:
    """An object of a kind kspec does not model: kept, listed as "not modelled"."""

    kind: str
    api_version: str
    metadata: ObjectMeta
    body: Any = _side()
    source: Source = _side(Source())
    raw: Any = _side()


WORKLOAD_KINDS = ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job")
MODELLED_KINDS = WORKLOAD_KINDS + ("Pod", "Node", "Service", "Namespace")
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Node", "Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
        "CustomResourceDefinition", "PriorityClass", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding", "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration", "APIService", "CSIDriver", "RuntimeClass",
        "IngressClass", "VolumeAttachment",
    }
)


# --------------------------------------------------------------------------- derived facts


def object_key(obj) -> tuple[str, str, str]:
    """(kind, namespace, name): an object's identity in the API ("" for cluster-scoped)."""
    return (obj.kind, obj.metadata.namespace or "", obj.metadata.name)


def object_ref(obj) -> str:
    """``Kind/name``, or ``Kind/namespace/name`` outside the default namespace."""
    ns = obj.metadata.namespace
    if ns and ns != "default":
        return f"{obj.kind}/{ns}/{obj.metadata.name}"
    return f"{obj.kind}/{obj.metadata.name}"


def _add(total: dict, resources) -> None:
    for name, qty in resources.items():
        total[name] = total[name] + qty if name in total else qty


def _max_into(total: dict, resources) -> None:
    for name, qty in resources.items():
        if name not in total or qty > total[name]:
            total[name] = qty


def pod_requests(spec: PodSpec) -> FrozenDict:
    """The pod's effective request, per resource (resourcehelper.PodRequests).

    max(sum of app containers, each init container) plus overhead. Sidecar init
    containers (restartPolicy Always) keep running, so they add to the sum and
    to every later init container, as upstream computes since 1.28.
    """
    total: dict = {}
    for container in spec.containers:
        _add(total, container.resources.requests)
    sidecars: dict = {}
    init_peak: dict = {}
    for container in spec.init_containers:
        if container.restart_policy == "Always":
            _add(sidecars, container.resources.requests)
            _max_into(init_peak, sidecars)
        else:
            step = dict(sidecars)
            _add(step, container.resources.requests)
            _max_into(init_peak, step)
    _add(total, sidecars)
    _max_into(total, init_peak)
    _add(total, spec.overhead)
    return FrozenDict(total)


def pod_limits(spec: PodSpec) -> FrozenDict:
    """The pod's effective limits, computed like :func:`pod_requests`."""
    total: dict = {}
    for container in spec.containers:
        _add(total, container.resources.limits)
    init_peak: dict = {}
    for container in spec.init_containers:
        _max_into(init_peak, container.resources.limits)
    _max_into(total, init_peak)
    _add(total, spec.overhead)
    return FrozenDict(total)


def pod_template_of(obj) -> PodTemplate | None:
    """The pod template of a workload, or a bare pod seen as its own template."""
    if obj.kind == "Pod":
        return PodTemplate(obj.metadata, obj.spec)
    spec = getattr(obj, "spec", None)
    return getattr(spec, "template", None)


def total_quantity(resources: FrozenDict, times: int) -> FrozenDict:
    """Each quantity multiplied by ``times``."""
    return FrozenDict({name: qty * times for name, qty in resources.items()})


__all__ = [name for name in dir() if not name.startswith("_") and name[0].isupper()] + [
    "object_key",
    "object_ref",
    "pod_requests",
    "pod_limits",
    "pod_template_of",
    "total_quantity",
]
