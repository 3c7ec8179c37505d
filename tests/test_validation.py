"""Validation as the API server does it (pkg/apis/core/validation, pkg/apis/apps/validation)."""

from __future__ import annotations

import pytest

from kspec.errors import LoadError
from kspec.loading.manifests import parse_object

C = {"name": "c", "image": "nginx:1.25"}


def pod(**spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [C], **spec}}


def template(labels, **spec):
    return {"metadata": {"labels": labels}, "spec": {"containers": [C], **spec}}


def error_of(manifest) -> str:
    with pytest.raises(LoadError) as err:
        parse_object(manifest)
    (diagnostic,) = err.value.diagnostics
    return f"{diagnostic.field}: {diagnostic.message}"


CASES = [
    ("ValidatePodSpec-containers-required", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}},
     "spec.containers: Required value"),
    ("validateContainers-duplicate-name", pod(containers=[C, C]), 'spec.containers[1].name: Duplicate value: "c"'),
    ("validateContainers-image-required", pod(containers=[{"name": "c"}]), "spec.containers[0].image: Required value"),
    ("validateRestartPolicy", pod(restartPolicy="Sometimes"),
     'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
    ("validateContainerPorts-range", pod(containers=[{**C, "ports": [{"containerPort": 70000}]}]),
     "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be less than or equal to 65535"),
    ("validateResourceRequirements-request-above-limit",
     pod(containers=[{**C, "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]),
     'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'),
    ("validateTolerations-empty-key-needs-Exists", pod(tolerations=[{"operator": "Equal", "value": "x"}]),
     "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty"),
    ("validateTolerations-seconds-need-NoExecute", pod(tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]),
     "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"),
    ("ValidateNodeSelectorRequirement-In-needs-values",
     pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
         {"matchExpressions": [{"key": "zone", "operator": "In"}]}]}}}),
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value"),
    ("ValidateReplicationControllerSpec-template-restartPolicy",
     {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc"},
      "spec": {"template": template({"a": "b"}, restartPolicy="Never")}},
     'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'),
    ("ValidateReplicationControllerSpec-negative-replicas",
     {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc"},
      "spec": {"replicas": -1, "template": template({"a": "b"})}},
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    ("ValidateDeploymentStrategy-both-zero",
     {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": template({"a": "b"}),
               "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}}},
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"),
    ("ValidateServicePorts-names-required-with-several",
     {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}, {"port": 443, "name": "https"}]}},
     "spec.ports[0].name: Required value"),
    ("ValidateService-nodePort-forbidden-for-ClusterIP",
     {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80, "nodePort": 30080}]}},
     "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"),
    ("ValidateService-name-is-DNS-1035",
     {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}},
     'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters'),
    ("ValidateNodeTaints-effect",
     {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Never"}]}},
     'spec.taints[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'),
]


@pytest.mark.parametrize("manifest, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rejected_with_upstream_wording(manifest, expected):
    assert error_of(manifest).startswith(expected)


def test_valid_objects_of_every_modelled_kind_load():
    for manifest in [
        pod(),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
         "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template({"app": "db"})}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
         "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template({"app": "agent"})}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
         "spec": {"template": template({"job": "once"}, restartPolicy="Never")}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
         "spec": {"replicas": 2, "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]},
                  "template": template({"app": "a"})}},
    ]:
        record = parse_object(manifest)
        assert record.kind == manifest["kind"]
