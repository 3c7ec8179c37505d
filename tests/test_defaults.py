"""API defaulting as the API server applies it (pkg/apis/*/v1/defaults.go)."""

from __future__ import annotations

from kspec.loading.manifests import parse_object
from kspec.api.objects import pod_requests
from kspec.api.quantity import parse_quantity as q


def _pod(spec, **meta):
    return parse_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **meta}, "spec": spec})


def _container(**fields):
    return {"name": fields.pop("name", "c"), "image": fields.pop("image", "nginx:1.25"), **fields}


def test_SetDefaults_Pod_namespace_restart_policy_and_protocol():
    pod = _pod({"containers": [_container(ports=[{"containerPort": 80}])]})
    assert pod.metadata.namespace == "default"
    assert pod.spec.restart_policy == "Always"
    assert pod.spec.containers[0].ports[0].protocol == "TCP"
    assert pod.raw["spec"]["dnsPolicy"] == "ClusterFirst"
    assert pod.raw["spec"]["terminationGracePeriodSeconds"] == 30


def test_SetDefaults_Pod_requests_default_to_limits_per_resource():
    pod = _pod({"containers": [_container(resources={"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "200m"}})]})
    requests = pod.spec.containers[0].resources.requests
    assert requests["cpu"] == q("200m")  # an explicit request is kept
    assert requests["memory"] == q("1Gi")  # the missing one comes from the limit


def test_SetDefaults_Container_image_pull_policy():
    pods = {image: _pod({"containers": [_container(image=image)]}).spec.containers[0].image_pull_policy
            for image in ("nginx", "nginx:latest", "nginx:1.25", "registry:5000/nginx", "nginx@sha256:abc")}
    assert pods == {"nginx": "Always", "nginx:latest": "Always", "nginx:1.25": "IfNotPresent",
                    "registry:5000/nginx": "Always", "nginx@sha256:abc": "IfNotPresent"}


def test_SetDefaults_Probe():
    pod = _pod({"containers": [_container(readinessProbe={"httpGet": {"port": 80}})]})
    probe = pod.spec.containers[0].readiness_probe
    assert (probe.timeout_seconds, probe.period_seconds, probe.success_threshold, probe.failure_threshold) == (1, 10, 1, 3)
    assert probe.path == "/"


def test_DefaultTolerationSeconds_admission_adds_not_ready_and_unreachable():
    pod = _pod({"containers": [_container()]})
    keys = {(t.key, t.effect, t.toleration_seconds) for t in pod.spec.tolerations}
    assert keys == {("node.kubernetes.io/not-ready", "NoExecute", 300), ("node.kubernetes.io/unreachable", "NoExecute", 300)}


def test_DefaultTolerationSeconds_keeps_an_existing_toleration():
    pod = _pod({"containers": [_container()], "tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]})
    unreachable = [t for t in pod.spec.tolerations if t.key == "node.kubernetes.io/unreachable"]
    assert [t.toleration_seconds for t in unreachable] == [5]


def test_SetDefaults_ReplicationController_selector_and_labels_from_template():
    rc = parse_object({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "fe"},
                       "spec": {"template": {"metadata": {"labels": {"app": "guestbook", "tier": "frontend"}},
                                             "spec": {"containers": [_container()]}}}})
    assert rc.spec.replicas == 1
    assert dict(rc.spec.selector_map) == {"app": "guestbook", "tier": "frontend"}
    assert dict(rc.metadata.labels) == {"app": "guestbook", "tier": "frontend"}
    assert rc.spec.selector.matches({"app": "guestbook", "tier": "frontend", "extra": "x"})


def test_SetDefaults_Deployment_strategy_and_limits():
    d = parse_object({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                      "spec": {"selector": {"matchLabels": {"a": "b"}},
                               "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [_container()]}}}})
    assert d.spec.replicas == 1
    assert (d.spec.strategy.type, d.spec.strategy.max_surge, d.spec.strategy.max_unavailable) == ("RollingUpdate", "25%", "25%")
    assert (d.spec.revision_history_limit, d.spec.progress_deadline_seconds) == (10, 600)


def test_SetDefaults_Service_target_port_defaults_to_port_and_type_to_cluster_ip():
    svc = parse_object({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                        "spec": {"selector": {"a": "b"}, "ports": [{"port": 8080}]}})
    assert svc.spec.type == "ClusterIP"
    assert svc.spec.ports[0].target_port == 8080
    assert svc.spec.ports[0].protocol == "TCP"


def test_SetDefaults_NodeStatus_allocatable_defaults_to_capacity():
    node = parse_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
                         "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}})
    assert node.status.allocatable == node.status.capacity
    assert node.metadata.namespace is None


def test_PodRequests_is_max_of_app_sum_and_largest_init_plus_overhead():
    pod = _pod({
        "containers": [_container(name="a", resources={"requests": {"cpu": "100m", "memory": "100Mi"}}),
                       _container(name="b", resources={"requests": {"cpu": "200m", "memory": "50Mi"}})],
        "initContainers": [_container(name="i1", resources={"requests": {"cpu": "1", "memory": "10Mi"}}),
                           _container(name="i2", resources={"requests": {"memory": "120Mi"}})],
        "overhead": {"cpu": "10m"},
    })
    requests = pod_requests(pod.spec)
    assert requests["cpu"] == q("1010m")  # init container 1 dominates cpu, plus overhead
    assert requests["memory"] == q("150Mi")  # app containers' sum dominates memory


def test_PodRequests_sidecar_init_containers_add_to_the_sum():
    pod = _pod({
        "containers": [_container(name="app", resources={"requests": {"cpu": "500m"}})],
        "initContainers": [_container(name="proxy", restartPolicy="Always", resources={"requests": {"cpu": "100m"}}),
                           _container(name="setup", resources={"requests": {"cpu": "550m"}})],
    })
    # setup runs beside the proxy sidecar (650m); afterwards app + proxy run (600m)
    assert pod_requests(pod.spec)["cpu"] == q("650m")
