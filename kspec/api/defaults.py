"""API defaulting, applied to manifests as the API server applies it on create.

Each function mirrors an upstream ``SetDefaults_*`` (pkg/apis/core/v1/defaults.go,
pkg/apis/apps/v1/defaults.go, pkg/apis/batch/v1/defaults.go) and works on a
deep copy of the manifest dict, so that rules see the object exactly as a
ValidatingAdmissionPolicy would, after defaulting. Values that are invalid are
left alone: validation reports them afterwards with their field path.

The admission step that adds the default not-ready/unreachable tolerations
(the DefaultTolerationSeconds plugin, on by default) lives in
:func:`admit_pod`, because it applies to pods created at run time by
controllers as much as to pods read from files.
"""

from __future__ import annotations

import copy

DEFAULT_NAMESPACE = "default"
DEFAULT_TOLERATION_SECONDS = 300
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"


def apply_defaults(manifest: dict, namespaced: bool, *, in_place: bool = False) -> dict:
    """``manifest`` after defaulting: a deep copy unless ``in_place``."""
    obj = manifest if in_place else copy.deepcopy(manifest)
    meta = obj.get("metadata")
    if isinstance(meta, dict) and namespaced and not meta.get("namespace"):
        meta["namespace"] = DEFAULT_NAMESPACE
    defaulter = _DEFAULTERS.get(obj.get("kind"))
    if defaulter is not None and isinstance(obj.get("spec", {}), dict):
        defaulter(obj)
    return obj


def _spec(obj: dict) -> dict:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    return spec


def _template_spec(spec: dict) -> dict | None:
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return template["spec"]
    return None


def _template_labels(spec: dict):
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        labels = template["metadata"].get("labels")
        return labels if isinstance(labels, dict) else None  # validation reports other shapes
    return None


# --------------------------------------------------------------------------- pods


def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec plus the per-container defaults."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    for field in ("containers", "initContainers"):
        containers = spec.get(field)
        if isinstance(containers, list):
            for container in containers:
                if isinstance(container, dict):
                    default_container(container)


def default_container(container: dict) -> None:
    """SetDefaults_Container, port protocol, probes, and requests from limits."""
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = container.get("image")
    if "imagePullPolicy" not in container and isinstance(image, str):
        container["imagePullPolicy"] = image_pull_policy(image)
    for port in _dicts(container.get("ports")):
        port.setdefault("protocol", "TCP")
    for probe_field in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_field)
        if isinstance(probe, dict):
            default_probe(probe)
    resources = container.get("resources")
    if isinstance(resources, dict):
        default_requests_from_limits(resources)


def image_pull_policy(image: str) -> str:
    """SetDefaults_Container: Always for ``:latest`` or no tag, else IfNotPresent."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_probe(probe: dict) -> None:
    """SetDefaults_Probe."""
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    http = probe.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")


def default_requests_from_limits(resources: dict) -> None:
    """SetDefaults_Pod: a resource with a limit and no request gets the limit as request."""
    limits = resources.get("limits")
    if not isinstance(limits, dict) or not limits:
        return
    requests = resources.get("requests")
    if requests is None:
        requests = resources["requests"] = {}
    if isinstance(requests, dict):
        for name, value in limits.items():
            requests.setdefault(name, value)


def admit_pod(manifest: dict) -> None:
    """DefaultTolerationSeconds admission: tolerate not-ready/unreachable for 300 s.

    Added only when the pod does not already tolerate that taint with NoExecute
    (plugin/pkg/admission/defaulttolerationseconds).
    """
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        return
    tolerations = spec.get("tolerations")
    if tolerations is None:
        tolerations = []
    if not isinstance(tolerations, list):
        return
    for taint in (NOT_READY_TAINT, UNREACHABLE_TAINT):
        if not any(_tolerates_noexecute(t, taint) for t in tolerations if isinstance(t, dict)):
            tolerations.append(
                {
                    "key": taint,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
                }
            )
    spec["tolerations"] = tolerations


def _tolerates_noexecute(toleration: dict, key: str) -> bool:
    effect = toleration.get("effect", "")
    if effect not in ("", "NoExecute"):
        return False
    tkey = toleration.get("key", "")
    return tkey in ("", key) and (tkey == key or toleration.get("operator") == "Exists")


def _default_pod(obj: dict) -> None:
    default_pod_spec(_spec(obj))
    admit_pod(obj)
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def _dicts(items):
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# --------------------------------------------------------------------------- workloads


def _default_template(spec: dict) -> None:
    template_spec = _template_spec(spec)
    if template_spec is not None:
        default_pod_spec(template_spec)


def _default_replication_controller(obj: dict) -> None:
    """SetDefaults_ReplicationController: selector and labels from the template."""
    spec = _spec(obj)
    labels = _template_labels(spec)
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.get("metadata")
        if isinstance(meta, dict) and not meta.get("labels"):
            meta["labels"] = dict(labels)
    spec.setdefault("replicas", 1)
    _default_template(spec)


def _default_replica_set(obj: dict) -> None:
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    _default_template(spec)


def _default_deployment(obj: dict) -> None:
    """SetDefaults_Deployment (apps/v1)."""
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _default_template(spec)


def _default_stateful_set(obj: dict) -> None:
    """SetDefaults_StatefulSet (apps/v1)."""
    spec = _spec(obj)
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"partition": 0})
    _default_template(spec)


def _default_daemon_set(obj: dict) -> None:
    """SetDefaults_DaemonSet (apps/v1)."""
    spec = _spec(obj)
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type") == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        if isinstance(rolling, dict):
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
    _default_template(spec)


def _default_job(obj: dict) -> None:
    """SetDefaults_Job (batch/v1).

    Upstream generates the selector from the Job's uid (``controller-uid``);
    kspec has no uids at load time, so a Job without a selector selects its
    template labels, which is what that generated selector amounts to.
    """
    spec = _spec(obj)
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    # with a per-index limit there is no Job-wide one: the largest int32
    spec.setdefault("backoffLimit", 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6)
    spec.setdefault("completionMode", "NonIndexed")
    labels = _template_labels(spec)
    if "selector" not in spec and labels:
        spec["selector"] = {"matchLabels": dict(labels)}
    template_spec = _template_spec(spec)
    if template_spec is not None:
        template_spec.setdefault("restartPolicy", "Never")
        default_pod_spec(template_spec)


# --------------------------------------------------------------------------- services, nodes


def _default_service(obj: dict) -> None:
    """SetDefaults_Service: type, session affinity, protocol, targetPort = port."""
    spec = _spec(obj)
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in _dicts(spec.get("ports")):
        port.setdefault("protocol", "TCP")
        if "targetPort" not in port or port["targetPort"] in (0, ""):
            if "port" in port:
                port["targetPort"] = port["port"]


def _default_node(obj: dict) -> None:
    """SetDefaults_NodeStatus: allocatable defaults to capacity."""
    status = obj.get("status")
    if isinstance(status, dict) and isinstance(status.get("capacity"), dict):
        if not status.get("allocatable"):
            status["allocatable"] = dict(status["capacity"])


def _default_namespace(obj: dict) -> None:
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Active")


_DEFAULTERS = {
    "Pod": _default_pod,
    "ReplicationController": _default_replication_controller,
    "ReplicaSet": _default_replica_set,
    "Deployment": _default_deployment,
    "StatefulSet": _default_stateful_set,
    "DaemonSet": _default_daemon_set,
    "Job": _default_job,
    "Service": _default_service,
    "Node": _default_node,
    "Namespace": _default_namespace,
}
