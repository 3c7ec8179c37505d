"""kspec.scheduling.filters against the kube-scheduler Filter plugins' own tests.

Each case names the upstream test (``pkg/scheduler/framework/plugins/<plugin>/*_test.go``,
function and case name) it is taken from, with upstream's expected code and reasons.
Resources follow fit_test.go's helpers: ``makeResources(milliCPU, memory, pods, extended)``
and a node allocatable of 10m cpu, 20 bytes memory, 32 pods, 5 ``example.com/aaa``.
"""

from __future__ import annotations

import pytest

from kspec.api.objects import NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, Affinity
from kspec.scheduling.filters import (
    ALL,
    UNRESOLVABLE,
    UNSCHEDULABLE,
    FilterResult,
    filter_pod,
    inter_pod_affinity,
    node_affinity,
    node_name,
    node_ports,
    node_resources_fit,
    node_unschedulable,
    pod_topology_spread,
    taint_toleration,
)
from support.manifests import cluster, node, pod

import attrs

FIT_NODE = {"cpu": "10m", "memory": "20", "pods": "32", "example.com/aaa": "5"}


def fit_case(requests=None, used=None, init=(), overhead=None, alloc=FIT_NODE, containers=None):
    n = node("machine1", alloc=alloc)
    objects = [n]
    if used is not None:
        objects.append(pod("existing", requests=used, node_name="machine1"))
    p = pod("incoming", requests=requests, init=init, overhead=overhead, containers=containers)
    return node_resources_fit(p, n, cluster(*objects))


def reasons(result: FilterResult):
    return (result.code, result.reasons) if not result.fits else "fits"


# --------------------------------------------------------------------------- NodeResourcesFit
# noderesources/fit_test.go: TestEnoughRequests


@pytest.mark.parametrize("name,args,expected", [
    ("TestEnoughRequests/no resources requested always fits",
     dict(used={"cpu": "10m", "memory": "20"}), "fits"),
    ("TestEnoughRequests/too many resources fails",
     dict(requests={"cpu": "1m", "memory": "1"}, used={"cpu": "10m", "memory": "20"}),
     (UNSCHEDULABLE, ("Insufficient cpu", "Insufficient memory"))),
    ("TestEnoughRequests/too many resources fails due to init container cpu",
     dict(requests={"cpu": "1m", "memory": "1"}, init=[{"cpu": "3m", "memory": "1"}], used={"cpu": "8m", "memory": "19"}),
     (UNSCHEDULABLE, ("Insufficient cpu",))),
    ("TestEnoughRequests/too many resources fails due to highest init container cpu",
     dict(requests={"cpu": "1m", "memory": "1"}, init=[{"cpu": "3m", "memory": "1"}, {"cpu": "2m", "memory": "1"}],
          used={"cpu": "8m", "memory": "19"}),
     (UNSCHEDULABLE, ("Insufficient cpu",))),
    ("TestEnoughRequests/too many resources fails due to init container memory",
     dict(requests={"cpu": "1m", "memory": "1"}, init=[{"cpu": "1m", "memory": "3"}], used={"cpu": "9m", "memory": "19"}),
     (UNSCHEDULABLE, ("Insufficient memory",))),
    ("TestEnoughRequests/init container fits because it's the max, not sum, of containers and init containers",
     dict(requests={"cpu": "1m", "memory": "1"}, init=[{"cpu": "1m", "memory": "1"}], used={"cpu": "9m", "memory": "19"}),
     "fits"),
    ("TestEnoughRequests/multiple init containers fit because it's the max, not sum, of containers and init containers",
     dict(requests={"cpu": "1m", "memory": "1"}, init=[{"cpu": "1m", "memory": "1"}, {"cpu": "1m", "memory": "1"}],
          used={"cpu": "9m", "memory": "19"}),
     "fits"),
    ("TestEnoughRequests/both resources fit",
     dict(requests={"cpu": "1m", "memory": "1"}, used={"cpu": "5m", "memory": "5"}), "fits"),
    ("TestEnoughRequests/one resource memory fits",
     dict(requests={"cpu": "2m", "memory": "1"}, used={"cpu": "9m", "memory": "5"}),
     (UNSCHEDULABLE, ("Insufficient cpu",))),
    ("TestEnoughRequests/one resource cpu fits",
     dict(requests={"cpu": "1m", "memory": "2"}, used={"cpu": "5m", "memory": "19"}),
     (UNSCHEDULABLE, ("Insufficient memory",))),
    ("TestEnoughRequests/equal edge case",
     dict(requests={"cpu": "5m", "memory": "1"}, used={"cpu": "5m", "memory": "19"}), "fits"),
    ("TestEnoughRequests/equal edge case for init container",
     dict(requests={"cpu": "4m", "memory": "1"}, init=[{"cpu": "5m", "memory": "1"}], used={"cpu": "5m", "memory": "19"}),
     "fits"),
    ("TestEnoughRequests/extended resource fits",
     dict(requests={"example.com/aaa": "1"}, used={}), "fits"),
    ("TestEnoughRequests/extended resource capacity enforced",
     dict(requests={"example.com/aaa": "10"}, used={}),
     (UNSCHEDULABLE, ("Insufficient example.com/aaa",))),
    ("TestEnoughRequests/extended resource allocatable enforced for multiple containers",
     dict(containers=[{"example.com/aaa": "3"}, {"example.com/aaa": "3"}], used={"example.com/aaa": "0"}),
     (UNSCHEDULABLE, ("Insufficient example.com/aaa",))),
    ("TestEnoughRequests/extended resource allocatable admits multiple init containers",
     dict(requests={"cpu": "1m"}, init=[{"example.com/aaa": "3"}, {"example.com/aaa": "2"}], used={}), "fits"),
    ("TestEnoughRequests/extended resource allocatable enforced for unknown resource",
     dict(requests={"example.com/bbb": "1"}, used={}),
     (UNSCHEDULABLE, ("Insufficient example.com/bbb",))),
    ("TestEnoughRequests/resources + pod overhead fits",
     dict(requests={"cpu": "1m", "memory": "1"}, overhead={"cpu": "3m", "memory": "13"}, used={"cpu": "5m", "memory": "5"}),
     "fits"),
    ("TestEnoughRequests/requests + overhead does not fit for memory",
     dict(requests={"cpu": "1m", "memory": "1"}, overhead={"cpu": "1m", "memory": "15"}, used={"cpu": "5m", "memory": "5"}),
     (UNSCHEDULABLE, ("Insufficient memory",))),
    ("TestPredicateWithPodCount/even without specified resources, predicate fails when there's no space for additional pod",
     dict(alloc={"cpu": "10m", "memory": "20", "pods": "1"}, used={}),
     (UNSCHEDULABLE, ("Too many pods",))),
    ("TestPredicateWithPodCount/even if both resources fit, predicate fails when there's no space for additional pod",
     dict(requests={"cpu": "1m", "memory": "1"}, alloc={"cpu": "10m", "memory": "20", "pods": "1"},
          used={"cpu": "5m", "memory": "5"}),
     (UNSCHEDULABLE, ("Too many pods",))),
    ("TestPredicateWithPodCount/even for equal edge case, predicate fails when there's no space for additional pod",
     dict(requests={"cpu": "5m", "memory": "1"}, alloc={"cpu": "10m", "memory": "20", "pods": "1"},
          used={"cpu": "5m", "memory": "19"}),
     (UNSCHEDULABLE, ("Too many pods",))),
    ("TestStorageRequests/ephemeral local storage request is ignored due to not requesting",
     dict(requests={"cpu": "1m"}, alloc={"cpu": "10m", "memory": "20", "pods": "32", "ephemeral-storage": "20"},
          used={"ephemeral-storage": "20"}), "fits"),
    ("TestStorageRequests/storage ephemeral local storage request exceeds allocatable",
     dict(requests={"ephemeral-storage": "25"}, alloc={"cpu": "10m", "memory": "20", "pods": "32", "ephemeral-storage": "20"},
          used={}),
     (UNSCHEDULABLE, ("Insufficient ephemeral-storage",))),
])
def test_node_resources_fit(name, args, expected):
    assert reasons(fit_case(**args)) == expected, name


def test_node_resources_fit_absent_resource_counts_as_zero():
    # fit.go fitsRequest: Allocatable.ScalarResources[rName] is 0 when the node lacks it,
    # and a node with no "pods" allocatable allows no pod at all.
    assert reasons(fit_case(requests={"nvidia.com/gpu": "1"}, alloc={"cpu": "1"})) == (
        UNSCHEDULABLE, ("Too many pods", "Insufficient nvidia.com/gpu"))


def test_terminal_pods_do_not_count():
    # the scheduler cache holds no Succeeded/Failed pods
    n = node("machine1")
    done = pod("done", requests={"cpu": "10m"}, node_name="machine1", phase="Succeeded")
    p = pod("incoming", requests={"cpu": "1m"})
    assert node_resources_fit(p, n, cluster(n, done)).fits


# --------------------------------------------------------------------------- NodeName, NodeUnschedulable
# nodename/node_name_test.go: TestNodeName; nodeunschedulable/node_unschedulable_test.go: TestNodeUnschedulable


@pytest.mark.parametrize("name,pod_node,expected", [
    ("TestNodeName/no host specified", "", "fits"),
    ("TestNodeName/host matches", "foo", "fits"),
    ("TestNodeName/host doesn't match", "bar", (UNRESOLVABLE, ("node(s) didn't match the requested node name",))),
])
def test_node_name(name, pod_node, expected):
    n = node("foo")
    assert reasons(node_name(pod("p", node_name=pod_node), n)) == expected, name


@pytest.mark.parametrize("name,unschedulable,tolerations,expected", [
    ("TestNodeUnschedulable/Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)",
     True, (), (UNRESOLVABLE, ("node(s) were unschedulable",))),
    ("TestNodeUnschedulable/Schedule pod to normal node", False, (), "fits"),
    ("TestNodeUnschedulable/Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)",
     True, ({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},), "fits"),
])
def test_node_unschedulable(name, unschedulable, tolerations, expected):
    n = node("n", unschedulable=unschedulable)
    assert reasons(node_unschedulable(pod("p", tolerations=tolerations), n)) == expected, name


# --------------------------------------------------------------------------- TaintToleration
# tainttoleration/taint_toleration_test.go: TestTaintTolerationFilter

T_USER1 = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}


@pytest.mark.parametrize("name,tolerations,taints,expected", [
    ("A pod having no tolerations can't be scheduled onto a node with nonempty taints",
     (), (T_USER1,), (UNRESOLVABLE, ("node(s) had untolerated taint {dedicated: user1}",))),
    ("A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
     ({"key": "dedicated", "value": "user1", "effect": "NoSchedule"},), (T_USER1,), "fits"),
    ("A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
     ({"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},), (T_USER1,),
     (UNRESOLVABLE, ("node(s) had untolerated taint {dedicated: user1}",))),
    ("A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node",
     ({"key": "foo", "operator": "Exists", "effect": "NoSchedule"},),
     ({"key": "foo", "value": "bar", "effect": "NoSchedule"},), "fits"),
    ("A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node",
     ({"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},
      {"key": "foo", "operator": "Exists", "effect": "NoSchedule"}),
     ({"key": "dedicated", "value": "user2", "effect": "NoSchedule"}, {"key": "foo", "value": "bar", "effect": "NoSchedule"}),
     "fits"),
    ("A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, "
     "can't be scheduled onto the node",
     ({"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"},),
     ({"key": "foo", "value": "bar", "effect": "NoSchedule"},),
     (UNRESOLVABLE, ("node(s) had untolerated taint {foo: bar}",))),
    ("The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, "
     "and the effect of taint is NoSchedule. Pod can be scheduled onto the node",
     ({"key": "foo", "operator": "Equal", "value": "bar"},),
     ({"key": "foo", "value": "bar", "effect": "NoSchedule"},), "fits"),
    ("The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node "
     "is PreferNoSchedule. Pod can be scheduled onto the node",
     ({"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},),
     ({"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"},), "fits"),
    ("The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
     (), ({"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"},), "fits"),
    ("(kspec) NoExecute taints are filtered too; Exists with an empty key tolerates everything",
     ({"operator": "Exists"},), ({"key": "a", "effect": "NoExecute"}, T_USER1), "fits"),
])
def test_taint_toleration(name, tolerations, taints, expected):
    n = node("node-a", taints=taints)
    assert reasons(taint_toleration(pod("p", tolerations=tolerations), n)) == expected, name


# --------------------------------------------------------------------------- NodeAffinity
# nodeaffinity/node_affinity_test.go: TestNodeAffinity

NA_REASON = (UNRESOLVABLE, ("node(s) didn't match Pod's node affinity/selector",))


def required(*terms):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key, op, *values):
    e = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


@pytest.mark.parametrize("name,selector,affinity,labels,node_name_,expected", [
    ("no selector", None, None, {}, "node1", "fits"),
    ("missing labels", {"foo": "bar"}, None, {}, "node1", NA_REASON),
    ("same labels", {"foo": "bar"}, None, {"foo": "bar"}, "node1", "fits"),
    ("node labels are superset", {"foo": "bar"}, None, {"foo": "bar", "baz": "blah"}, "node1", "fits"),
    ("node labels are subset", {"foo": "bar", "baz": "blah"}, None, {"foo": "bar"}, "node1", NA_REASON),
    ("Pod with matchExpressions using In operator that matches the existing node", None,
     required({"matchExpressions": [expr("foo", "In", "bar", "value2")]}), {"foo": "bar"}, "node1", "fits"),
    ("Pod with matchExpressions using Gt operator that matches the existing node", None,
     required({"matchExpressions": [expr("kernel-version", "Gt", "0204")]}), {"kernel-version": "0206"}, "node1", "fits"),
    ("Pod with matchExpressions using NotIn operator that matches the existing node", None,
     required({"matchExpressions": [expr("mem-type", "NotIn", "DDR", "DDR2")]}), {"mem-type": "DDR3"}, "node1", "fits"),
    ("Pod with matchExpressions using Exists operator that matches the existing node", None,
     required({"matchExpressions": [expr("GPU", "Exists")]}), {"GPU": "NVIDIA-GRID-K1"}, "node1", "fits"),
    ("Pod with affinity that don't match node's labels won't schedule onto the node", None,
     required({"matchExpressions": [expr("foo", "In", "value1", "value2")]}), {"foo": "bar"}, "node1", NA_REASON),
    ("Pod with multiple matchExpressions ANDed that doesn't match the existing node", None,
     required({"matchExpressions": [expr("GPU", "Exists"), expr("GPU", "NotIn", "AMD", "INTER")]}),
     {"GPU": "AMD"}, "node1", NA_REASON),
    ("Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node",
     None, required({"matchExpressions": [expr("foo", "In", "bar", "value2")]},
                    {"matchExpressions": [expr("diffkey", "In", "wrong", "value2")]}), {"foo": "bar"}, "node1", "fits"),
    ("Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, "
     "will schedule onto the node", {"foo": "bar"},
     required({"matchExpressions": [expr("foo", "Exists")]}), {"foo": "bar"}, "node1", "fits"),
    ("Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) "
     "is not satisfied, won't schedule onto the node", {"foo": "bar"},
     required({"matchExpressions": [expr("foo", "Exists")]}), {"foo": "barrrrrr"}, "node1", NA_REASON),
    ("Pod with matchFields using In operator that matches the existing node", None,
     required({"matchFields": [expr("metadata.name", "In", "node1")]}), {}, "node1", "fits"),
    ("Pod with matchFields using In operator that does not match the existing node", None,
     required({"matchFields": [expr("metadata.name", "In", "node1")]}), {}, "node2", NA_REASON),
    ("Pod with two terms: matchFields does not match, but matchExpressions matches", None,
     required({"matchFields": [expr("metadata.name", "In", "node1")]},
              {"matchExpressions": [expr("foo", "In", "bar")]}), {"foo": "bar"}, "node2", "fits"),
    ("Pod with one term: matchFields does not match, but matchExpressions matches", None,
     required({"matchFields": [expr("metadata.name", "In", "node1")],
               "matchExpressions": [expr("foo", "In", "bar")]}), {"foo": "bar"}, "node2", NA_REASON),
    ("Pod with one term: both matchFields and matchExpressions match", None,
     required({"matchFields": [expr("metadata.name", "In", "node1")],
               "matchExpressions": [expr("foo", "In", "bar")]}), {"foo": "bar"}, "node1", "fits"),
    ("Pod with two terms: both matchFields and matchExpressions do not match", None,
     required({"matchFields": [expr("metadata.name", "In", "node1")]},
              {"matchExpressions": [expr("foo", "In", "not-match-to-bar")]}), {"foo": "bar"}, "node2", NA_REASON),
])
def test_node_affinity(name, selector, affinity, labels, node_name_, expected):
    p = pod("p", node_selector=selector, affinity=affinity)
    n = node(node_name_, labels=labels, hostname=False)
    assert reasons(node_affinity(p, n)) == expected, name


def test_node_affinity_empty_term_matches_nothing():
    # TestNodeAffinity/"Pod with empty MatchExpressions is not a valid value will match no objects and won't
    # schedule onto the node" (built directly: the loader rejects it as the API server would)
    p = pod("p")
    empty = Affinity(node_affinity=NodeAffinity(required=(NodeSelectorTerm(),)))
    p = attrs.evolve(p, spec=attrs.evolve(p.spec, affinity=empty))
    assert reasons(node_affinity(p, node("node1"))) == NA_REASON
    # and Lt on a non-integer label matches nothing
    lt = Affinity(node_affinity=NodeAffinity(required=(NodeSelectorTerm(
        match_expressions=(NodeSelectorRequirement("v", "Lt", ("5",)),)),)))
    p = attrs.evolve(p, spec=attrs.evolve(p.spec, affinity=lt))
    assert reasons(node_affinity(p, node("n", labels={"v": "x"}))) == NA_REASON
    assert node_affinity(p, node("n", labels={"v": "4"})).fits


# --------------------------------------------------------------------------- NodePorts
# nodeports/node_ports_test.go: TestNodePorts


def hp(spec: str):
    proto, ip, port = spec.split("/")
    return {"containerPort": int(port), "hostPort": int(port), "protocol": proto, "hostIP": ip}


NP_REASON = (UNSCHEDULABLE, ("node(s) didn't have free ports for the requested pod ports",))


@pytest.mark.parametrize("name,wanted,existing,expected", [
    ("nothing running", ["UDP/127.0.0.1/8080"], [], "fits"),
    ("other port", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/9090"], "fits"),
    ("same udp port", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], NP_REASON),
    ("same tcp port", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], NP_REASON),
    ("different host ip", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.2/8080"], "fits"),
    ("different protocol", ["UDP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], "fits"),
    ("second udp port conflict", ["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], NP_REASON),
    ("first tcp port conflict", ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
     ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"], NP_REASON),
    ("first tcp port conflict due to 0.0.0.0 hostIP", ["TCP/0.0.0.0/8001"], ["TCP/127.0.0.1/8001"], NP_REASON),
    ("TCP hostPort conflict due to 0.0.0.0 hostIP", ["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
     ["TCP/127.0.0.1/8001"], NP_REASON),
    ("second tcp port conflict to 0.0.0.0 hostIP", ["TCP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], NP_REASON),
    ("second different protocol", ["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], "fits"),
    ("UDP hostPort conflict due to 0.0.0.0 hostIP", ["UDP/127.0.0.1/8001"],
     ["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"], NP_REASON),
])
def test_node_ports(name, wanted, existing, expected):
    n = node("n")
    objects = [n]
    if existing:
        objects.append(pod("existing", ports=[hp(s) for s in existing], node_name="n"))
    p = pod("incoming", ports=[hp(s) for s in wanted])
    assert reasons(node_ports(p, n, cluster(*objects))) == expected, name


# --------------------------------------------------------------------------- InterPodAffinity
# interpodaffinity/filtering_test.go: TestRequiredAffinitySingleNode, TestRequiredAffinityMultipleNodes

AFF = (UNRESOLVABLE, ("node(s) didn't match pod affinity rules",))
ANTI = (UNSCHEDULABLE, ("node(s) didn't match pod anti-affinity rules",))
EXISTING_ANTI = (UNSCHEDULABLE, ("node(s) didn't satisfy existing pods anti-affinity rules",))


def pod_term(key, op, values, topology="region", namespaces=None, namespace_selector=None):
    term = {"labelSelector": {"matchExpressions": [expr(key, op, *values)]}, "topologyKey": topology}
    if namespaces is not None:
        term["namespaces"] = namespaces
    if namespace_selector is not None:
        term["namespaceSelector"] = namespace_selector
    return term


def pod_affinity(affinity=(), anti=()):
    result = {}
    if affinity:
        result["podAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": list(affinity)}
    if anti:
        result["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": list(anti)}
    return result


REGION = {"region": "r1", "zone": "z11"}


@pytest.mark.parametrize("name,incoming,existing,expected", [
    ("A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
     dict(), [], "fits"),
    ("satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches "
     "the existing pod",
     dict(affinity=pod_affinity([pod_term("service", "In", ["securityscan", "value2"])])),
     [dict(labels={"service": "securityscan"})], "fits"),
    ("satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in "
     "labelSelector that matches the existing pod",
     dict(affinity=pod_affinity([pod_term("service", "NotIn", ["securityscan3", "value3"])])),
     [dict(labels={"service": "securityscan"})], "fits"),
    ("Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
     dict(affinity=pod_affinity([pod_term("service", "In", ["securityscan", "value2"], namespaces=["DiffNameSpace"])])),
     [dict(labels={"service": "securityscan"}, namespace="ns")], AFF),
    ("Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
     dict(affinity=pod_affinity([pod_term("service", "In", ["antivirusscan", "value2"])])),
     [dict(labels={"service": "securityscan"})], AFF),
    ("satisfies the PodAffinity and PodAntiAffinity with the existing pod",
     dict(affinity=pod_affinity([pod_term("service", "In", ["securityscan", "value2"])],
                                [pod_term("service", "In", ["antivirusscan", "value2"], topology="node")])),
     [dict(labels={"service": "securityscan"})], "fits"),
    ("satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
     dict(affinity=pod_affinity([pod_term("service", "In", ["securityscan", "value2"])],
                                [pod_term("service", "In", ["securityscan", "value2"], topology="zone")])),
     [dict(labels={"service": "securityscan"})], ANTI),
    ("verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. "
     "doesn't satisfy PodAntiAffinity symmetry with the existing pod",
     dict(labels={"service": "securityscan"}),
     [dict(labels={"service": "securityscan"},
           affinity=pod_affinity(anti=[pod_term("service", "In", ["securityscan", "value2"], topology="zone")]))],
     EXISTING_ANTI),
    ("pod matches its own Label in PodAffinity and that matches the existing pod Labels",
     dict(labels={"service": "securityscan"}, affinity=pod_affinity([pod_term("service", "In", ["securityscan"])])),
     [dict(labels={"service": "securityscan"})], "fits"),
    ("PodAffinity fails because the existing pod's node doesn't have the topology key (kspec: incoming node lacks it)",
     dict(affinity=pod_affinity([pod_term("service", "In", ["securityscan"], topology="rack")])),
     [dict(labels={"service": "securityscan"})], AFF),
    ("satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod "
     "(kspec variant: the incoming pod's own term misses the other namespace; the existing pod's namespaceSelector {} "
     "selects every namespace)",
     dict(labels={"service": "securityscan"}, affinity=pod_affinity(
         anti=[pod_term("service", "In", ["antivirusscan"], topology="zone")])),
     [dict(labels={"service": "antivirusscan"}, namespace="other", affinity=pod_affinity(
         anti=[pod_term("service", "In", ["securityscan"], topology="zone", namespace_selector={})]))],
     EXISTING_ANTI),
])
def test_inter_pod_affinity_single_node(name, incoming, existing, expected):
    n = node("node1", labels=REGION)
    objects = [n] + [pod(f"existing{i}", node_name="node1", **spec) for i, spec in enumerate(existing)]
    p = pod("incoming", **incoming)
    assert reasons(inter_pod_affinity(p, n, cluster(*objects))) == expected, name


def test_inter_pod_affinity_first_pod_of_a_group():
    # TestRequiredAffinityMultipleNodes/"The affinity rule is to schedule all of the pods of this collection to the
    # same zone. The first pod of the collection should not be blocked from being scheduled onto any node, even
    # there's no existing pod that matches the rule anywhere."
    a = node("node-a", labels={"zone": "az1", "hostname": "h1"})
    b = node("node-b", labels={"zone": "az2", "hostname": "h2"})
    c = cluster(a, b)
    p = pod("p", labels={"foo": "bar"}, affinity=pod_affinity([pod_term("foo", "In", ["bar"], topology="zone")]))
    assert inter_pod_affinity(p, a, c).fits and inter_pod_affinity(p, b, c).fits
    # but not when the pod does not match its own term
    q = pod("q", labels={"foo": "baz"}, affinity=pod_affinity([pod_term("foo", "In", ["bar"], topology="zone")]))
    assert reasons(inter_pod_affinity(q, a, c)) == AFF
    # once one is placed, the second follows it into the same zone
    placed = pod("placed", labels={"foo": "bar"}, node_name="node-a")
    c2 = cluster(a, b, placed)
    assert inter_pod_affinity(p, a, c2).fits
    assert reasons(inter_pod_affinity(p, b, c2)) == AFF


def test_inter_pod_affinity_same_domain_other_node():
    # TestRequiredAffinityMultipleNodes/"A pod can be scheduled onto all the nodes that have the same topology key &
    # label value with one of them has an existing pod that matches the affinity rules"; and the anti-affinity
    # variant "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the
    # inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB."
    a = node("node-a", labels={"zone": "az1", "hostname": "h1"})
    b = node("node-b", labels={"zone": "az1", "hostname": "h2"})
    existing = pod("e", labels={"foo": "bar"}, node_name="node-a")
    c = cluster(a, b, existing)
    aff = pod("p", affinity=pod_affinity([pod_term("foo", "In", ["bar"], topology="zone")]))
    assert inter_pod_affinity(aff, a, c).fits and inter_pod_affinity(aff, b, c).fits
    anti = pod("q", affinity=pod_affinity(anti=[pod_term("foo", "In", ["bar"], topology="zone")]))
    assert reasons(inter_pod_affinity(anti, a, c)) == ANTI
    assert reasons(inter_pod_affinity(anti, b, c)) == ANTI


# --------------------------------------------------------------------------- PodTopologySpread
# podtopologyspread/filtering_test.go: TestSingleConstraint

SPREAD = (UNSCHEDULABLE, ("node(s) didn't match pod topology spread constraints",))
SPREAD_LABEL = (UNRESOLVABLE, ("node(s) didn't match pod topology spread constraints (missing required label)",))


def spread_constraint(key, skew=1, min_domains=None, selector_key="foo"):
    c = {"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchExpressions": [{"key": selector_key, "operator": "Exists"}]}}
    if min_domains is not None:
        c["minDomains"] = min_domains
    return c


def four_nodes(labels_b=None):
    return [
        node("node-a", labels={"zone": "zone1", "node": "node-a"}),
        node("node-b", labels=labels_b if labels_b is not None else {"zone": "zone1", "node": "node-b"}),
        node("node-x", labels={"zone": "zone2", "node": "node-x"}),
        node("node-y", labels={"zone": "zone2", "node": "node-y"}),
    ]


def spread_verdicts(incoming, placement, nodes=None, namespace="default"):
    nodes = nodes or four_nodes()
    pods = []
    for node_, count in placement.items():
        for i in range(count):
            pods.append(pod(f"p-{node_}-{i}", namespace=namespace, labels={"foo": ""}, node_name=node_))
    c = cluster(*nodes, *pods)
    return {n.metadata.name: reasons(pod_topology_spread(incoming, n, c)) for n in nodes}


def test_spread_no_existing_pods():
    # TestSingleConstraint/"no existing pods"
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("zone", 1)])
    assert set(spread_verdicts(p, {}).values()) == {"fits"}


def test_spread_other_namespace_does_not_count():
    # TestSingleConstraint/"existing pods in a different namespace do not count"
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("zone", 1)])
    v = spread_verdicts(p, {"node-a": 1, "node-b": 1}, namespace="ns2")
    assert set(v.values()) == {"fits"}


def test_spread_3_3_all_fit():
    # TestSingleConstraint/"pods spread across zones as 3/3, all nodes fit"
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("zone", 1)])
    v = spread_verdicts(p, {"node-a": 1, "node-b": 2, "node-x": 2, "node-y": 1})
    assert set(v.values()) == {"fits"}


def test_spread_missing_label():
    # TestSingleConstraint/"pods spread across zones as 1/2 due to absence of label 'zone' on node-b"
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("zone", 1)])
    v = spread_verdicts(p, {"node-a": 1, "node-b": 1, "node-x": 1, "node-y": 1},
                        nodes=four_nodes(labels_b={"zon": "zone1", "node": "node-b"}))
    assert v == {"node-a": "fits", "node-b": SPREAD_LABEL, "node-x": SPREAD, "node-y": SPREAD}


def test_spread_all_nodes_lack_key():
    # TestSingleConstraint/"pod cannot be scheduled as all nodes don't have label 'rack'"
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("rack", 1)])
    assert set(spread_verdicts(p, {}).values()) == {SPREAD_LABEL}


def test_spread_by_node():
    # TestSingleConstraint/"pods spread across nodes as 2/1/0/3, only node-x fits" and "... maxSkew is 2, node-b and
    # node-x fit", and "... but pod doesn't match itself"
    placement = {"node-a": 2, "node-b": 1, "node-y": 3}
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("node", 1)])
    v = spread_verdicts(p, placement)
    assert [n for n, r in v.items() if r == "fits"] == ["node-x"]
    p2 = pod("p", labels={"foo": ""}, spread=[spread_constraint("node", 2)])
    assert [n for n, r in spread_verdicts(p2, placement).items() if r == "fits"] == ["node-b", "node-x"]
    p3 = pod("p", labels={"bar": ""}, spread=[spread_constraint("node", 1)])
    assert [n for n, r in spread_verdicts(p3, placement).items() if r == "fits"] == ["node-b", "node-x"]


def test_spread_min_domains():
    # TestSingleConstraint/"pods spread across zone as 2/1, maxSkew is 2, and the number of domains < minDomains,
    # then the third and fourth pod can't be scheduled"
    placement = {"node-a": 2, "node-x": 1}
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("zone", 2, min_domains=3)])
    v = spread_verdicts(p, placement)
    assert v == {"node-a": SPREAD, "node-b": SPREAD, "node-x": "fits", "node-y": "fits"}
    # "... the number of domains >= minDomains" (minDomains 2): global minimum is 1 again
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("zone", 2, min_domains=2)])
    assert set(spread_verdicts(p, placement).values()) == {"fits"}


def test_spread_node_affinity_policy():
    # TestSingleConstraint/"incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits": nodes the
    # pod's node affinity excludes are not domains (nodeAffinityPolicy Honor)
    placement = {"node-a": 2, "node-b": 1, "node-y": 3}
    p = pod("p", labels={"foo": ""}, spread=[spread_constraint("node", 1)],
            affinity=required({"matchExpressions": [expr("node", "NotIn", "node-b", "node-x")]}))
    v = spread_verdicts(p, placement)
    assert v["node-a"] == "fits" and v["node-y"] == SPREAD


# --------------------------------------------------------------------------- filter_pod


def test_filter_pod_stops_at_first_rejection_in_profile_order():
    n = node("n", alloc={"cpu": "1", "pods": "1"}, taints=[T_USER1], unschedulable=True)
    p = pod("p", requests={"cpu": "2"})
    c = cluster(n)
    assert filter_pod(p, n, c).plugin == "NodeUnschedulable"
    assert filter_pod(p, n, c, plugins=ALL[2:]).plugin == "TaintToleration"
    assert filter_pod(p, n, c, plugins=[node_resources_fit]).reasons == ("Insufficient cpu",)
    assert filter_pod(pod("q"), node("m"), cluster(node("m"))).fits


def test_filter_pod_on_the_article_cluster():
    import kspec
    c = kspec.load(["models/myapp"])
    frontend = c.get("ReplicationController", "default", "frontend")
    from kspec.api.objects import Pod
    p = Pod(frontend.spec.template.metadata, frontend.spec.template.spec)
    assert all(filter_pod(p, n, c).fits for n in c.nodes)
