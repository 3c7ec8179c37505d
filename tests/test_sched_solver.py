"""The Z3 encoding against the plain filters: agreement properties, tolerance, explanations, greedy.

* one pod, one node (and possibly one bound pod): the solver's verdict equals
  ``filter_pod`` on every generated vector;
* small random clusters: the solver's feasibility equals a brute-force search
  for a *stable* placement: every placed pod accepted by ``filter_pod`` against
  all the others where they are (the order-free reading of the scheduler's
  checks that kspec decides; see docs/schedule.md);
* hand-made clusters whose answers are known.
"""

from __future__ import annotations

import itertools

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.loading.cluster import Cluster
from kspec.loading.manifests import parse_object
from kspec.scheduling import filters as F
from kspec.scheduling import greedy, solver
from kspec.scheduling.explain import explain
from kspec.scheduling.problem import Problem
from kspec.scheduling.result import FEASIBLE, INFEASIBLE
from support.manifests import node, pod
from support.profiles import examples

# --------------------------------------------------------------------------- generators

ZONES = ("a", "b")
TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
TOLERATE = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}


@st.composite
def node_specs(draw, name):
    return node(name,
                labels={"topology.kubernetes.io/zone": draw(st.sampled_from(ZONES)),
                        **({"disk": "ssd"} if draw(st.booleans()) else {})},
                alloc={"cpu": str(draw(st.integers(1, 4))), "pods": str(draw(st.integers(1, 4)))},
                taints=[TAINT] if draw(st.integers(0, 3)) == 0 else [],
                unschedulable=draw(st.integers(0, 7)) == 0)


def anti_term(app, key):
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}


@st.composite
def pod_specs(draw, name, apps=("x", "y")):
    app = draw(st.sampled_from(apps))
    affinity = {}
    if draw(st.integers(0, 2)) == 0:
        key = draw(st.sampled_from(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]))
        affinity["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [
            anti_term(draw(st.sampled_from(apps)), key)]}
    if draw(st.integers(0, 5)) == 0:
        affinity["podAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [
            anti_term(draw(st.sampled_from(apps)), "topology.kubernetes.io/zone")]}
    spread = []
    if draw(st.integers(0, 3)) == 0:
        spread = [{"maxSkew": draw(st.integers(1, 2)),
                   "topologyKey": draw(st.sampled_from(["kubernetes.io/hostname", "topology.kubernetes.io/zone"])),
                   "whenUnsatisfiable": "DoNotSchedule",
                   "labelSelector": {"matchLabels": {"app": app}}}]
    ports = [{"containerPort": 80, "hostPort": 8080}] if draw(st.integers(0, 4)) == 0 else []
    return pod(name, labels={"app": app},
               requests={"cpu": str(draw(st.integers(0, 2)))} if draw(st.booleans()) else None,
               node_selector={"disk": "ssd"} if draw(st.integers(0, 4)) == 0 else None,
               tolerations=[TOLERATE] if draw(st.booleans()) else [],
               affinity=affinity or None, spread=spread, ports=ports)


def bind(p, node_name):
    return attrs.evolve(p, spec=attrs.evolve(p.spec, node_name=node_name))


# --------------------------------------------------------------------------- one pod, one node


@examples(150)
@given(data=st.data())
def test_filters_and_z3_agree_on_one_pod_one_node(data):
    n = data.draw(node_specs("n1"))
    incoming = data.draw(pod_specs("incoming"))
    objects = [n, incoming]
    if data.draw(st.booleans()):
        objects.append(bind(data.draw(pod_specs("bound")), "n1"))
    cluster = Cluster.from_objects(objects)
    expected = F.filter_pod(incoming, n, cluster).fits
    verdict = solver.feasible(cluster, timeout=20)
    assert verdict == (FEASIBLE if expected else INFEASIBLE), F.filter_pod(incoming, n, cluster)


# --------------------------------------------------------------------------- brute force


def compositions(total: int, parts: int):
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in compositions(total - first, parts - 1):
            yield (first,) + rest


def brute_force(cluster) -> bool:
    """Some stable placement exists: every placed pod, checked by filter_pod against all the
    others where they are, is accepted (enumerating every count of every group on every node)."""
    problem = Problem(cluster)
    groups, nodes = problem.groups, problem.nodes
    for split in itertools.product(*(compositions(g.count, len(nodes)) for g in groups)):
        placed = []
        for g, counts in zip(groups, split):
            for i, k in enumerate(counts):
                for j in range(k):
                    p = g.pod
                    placed.append((attrs.evolve(p, metadata=attrs.evolve(p.metadata, name=f"{p.metadata.name}-{i}-{j}"),
                                                spec=attrs.evolve(p.spec, node_name=nodes[i].metadata.name)), nodes[i]))
        state = Cluster(list(cluster.objects) + [p for p, _ in placed])
        if all(F.filter_pod(p, n, state).fits for p, n in placed):
            return True
    return False


def workload(name, template, replicas):
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                "spec": {"replicas": replicas, "selector": {"matchLabels": dict(template.metadata.labels)},
                         "template": {"metadata": {"labels": dict(template.metadata.labels)},
                                      "spec": template.raw["spec"]}}}
    return parse_object(manifest)


@pytest.mark.slow
@examples(60)
@given(data=st.data())
def test_z3_feasibility_matches_brute_force_on_small_clusters(data):
    nodes = [data.draw(node_specs(f"n{i}")) for i in range(data.draw(st.integers(1, 3)))]
    groups = []
    for j in range(data.draw(st.integers(1, 2))):
        template = data.draw(pod_specs(f"t{j}"))
        groups.append(workload(f"w{j}", template, data.draw(st.integers(1, 3))))
    cluster = Cluster.from_objects(nodes + groups)
    expected = brute_force(cluster)
    assert solver.feasible(cluster, timeout=20) == (FEASIBLE if expected else INFEASIBLE)


# --------------------------------------------------------------------------- known answers


def deployment(name, replicas, labels, spec_extra=None, cpu="100m"):
    spec = {"containers": [{"name": "c", "image": "img", "resources": {"requests": {"cpu": cpu}}}]}
    spec.update(spec_extra or {})
    return parse_object({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                                  "template": {"metadata": {"labels": labels}, "spec": spec}}})


HOSTNAME_ANTI = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    anti_term("web", "kubernetes.io/hostname")]}}}


def test_three_nodes_anti_affinity_three_replicas_tolerates_zero_failures_not_one():
    nodes = [node(f"n{i}", alloc={"cpu": "4", "pods": "110"}) for i in range(3)]
    cluster = Cluster.from_objects(nodes + [deployment("web", 3, {"app": "web"}, HOSTNAME_ANTI)])
    problem = Problem(cluster)
    verdict, placement, _ = solver.solve(problem)
    assert verdict == FEASIBLE
    assert sorted(placement.count("Deployment/web", f"n{i}") for i in range(3)) == [1, 1, 1]
    one = solver.check_failures(problem, solver.node_failure_scenarios(problem, 1), kind="nodes", k=1, timeout=20)
    assert one.verdict == INFEASIBLE and len(one.counterexample.failed) == 1
    assert one.scenarios == 1 and one.equivalent_sets == 3  # three identical nodes: one representative


def test_zone_loss_names_the_zone_and_spread_min_domains():
    pools = []
    for i, zone in enumerate("abc"):
        pools.append(node(f"n{i}", labels={"topology.kubernetes.io/zone": zone}, alloc={"cpu": "4", "pods": "3"}))
    spread = {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                             "whenUnsatisfiable": "DoNotSchedule",
                                             "labelSelector": {"matchLabels": {"app": "web"}}}]}
    cluster = Cluster.from_objects(pools + [deployment("web", 6, {"app": "web"}, spread)])
    problem = Problem(cluster)
    assert solver.solve(problem)[0] == FEASIBLE
    zone = solver.check_failures(problem, solver.zone_scenarios(problem), kind="zone", k=1, timeout=20)
    assert zone.verdict == FEASIBLE  # 6 pods on 2 zones of 3 slots, skew 0
    bigger = Cluster.from_objects(pools + [deployment("web", 7, {"app": "web"}, spread)])
    problem = Problem(bigger)
    zone = solver.check_failures(problem, solver.zone_scenarios(problem), kind="zone", k=1, timeout=20)
    assert zone.verdict == INFEASIBLE and zone.counterexample.failed == ("n0",)


def test_explanation_names_taint_anti_affinity_and_replicas():
    gpu = [node(f"gpu{i}", labels={"pool": "gpu"}, alloc={"cpu": "4", "pods": "110"}, taints=[TAINT]) for i in range(2)]
    cpu = [node(f"cpu{i}", alloc={"cpu": "4", "pods": "110"}) for i in range(3)]
    frontend = deployment("frontend", 3, {"app": "web"}, {**HOSTNAME_ANTI, "tolerations": [TOLERATE],
                                                          "nodeSelector": {"pool": "gpu"}})
    other = deployment("backend", 2, {"app": "api"})
    problem = Problem(Cluster.from_objects(gpu + cpu + [frontend, other]))
    assert solver.solve(problem)[0] == INFEASIBLE
    why = explain(problem, timeout=20)
    kinds = {(c.kind, c.object) for c in why.causes}
    assert kinds == {("replicas", "Deployment/frontend"), ("anti-affinity", "Deployment/frontend"),
                     ("node-affinity", "Deployment/frontend")}
    assert why.minimal
    assert "only" not in why.summary or "2" in why.summary
    # without the nodeSelector the taint is what keeps frontend off three nodes
    no_selector = deployment("frontend", 6, {"app": "web"}, {**HOSTNAME_ANTI, "tolerations": [TOLERATE]})
    problem = Problem(Cluster.from_objects(gpu + cpu[:2] + [no_selector]))
    why = explain(problem, timeout=20)
    assert {c.kind for c in why.causes} == {"replicas", "anti-affinity"}
    untolerating = deployment("frontend", 3, {"app": "web"}, HOSTNAME_ANTI)
    problem = Problem(Cluster.from_objects(gpu + cpu[:2] + [untolerating]))
    why = explain(problem, timeout=20)
    taint = [c for c in why.causes if c.kind == "taint"]
    assert taint and "untolerated taint {dedicated: gpu}" in taint[0].message
    assert taint[0].field == "spec.template.spec.tolerations"


def test_daemonset_pod_on_every_eligible_node_uses_capacity():
    nodes = [node("n0", alloc={"cpu": "1", "pods": "110"}),
             node("n1", alloc={"cpu": "1", "pods": "110"}, taints=[TAINT])]
    ds = parse_object({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                       "spec": {"selector": {"matchLabels": {"app": "agent"}},
                                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [
                                    {"name": "c", "image": "i", "resources": {"requests": {"cpu": "600m"}}}]}}}})
    web = deployment("web", 1, {"app": "web"}, {"tolerations": [TOLERATE]}, cpu="500m")
    problem = Problem(Cluster.from_objects(nodes + [ds, web]))
    assert [g.key for g in problem.groups] == ["DaemonSet/agent@n0", "Deployment/web"]
    verdict, placement, _ = solver.solve(problem)
    assert verdict == FEASIBLE and placement.count("Deployment/web", "n1") == 1
    tight = deployment("web", 2, {"app": "web"}, {"tolerations": [TOLERATE]}, cpu="600m")
    assert solver.solve(Problem(Cluster.from_objects(nodes + [ds, tight])))[0] == INFEASIBLE


def test_bound_pods_consume_and_min_nodes_objective():
    nodes = [node(f"n{i}", alloc={"cpu": "2", "pods": "110"}) for i in range(4)]
    bound = pod("bound", requests={"cpu": "1500m"}, node_name="n0")
    web = deployment("web", 4, {"app": "web"}, cpu="1")
    problem = Problem(Cluster.from_objects(nodes + [bound, web]))
    verdict, placement, _ = solver.solve(problem, objective="min-nodes", timeout=20)
    assert verdict == FEASIBLE
    assert placement.count("Deployment/web", "n0") == 0
    assert placement.nodes_used() == 3  # n0 (bound pod) plus two nodes with two replicas each


def test_greedy_leaves_pods_pending_where_a_placement_exists():
    # bin packing: least-allocated spreads the small pods, leaving no node free for the big ones
    nodes = [node(f"n{i}", alloc={"cpu": "4", "pods": "110"}) for i in range(2)]
    small = deployment("small", 2, {"app": "small"}, cpu="2")
    big = deployment("zbig", 1, {"app": "big"}, cpu="4")
    problem = Problem(Cluster.from_objects(nodes + [small, big]))
    assert solver.solve(problem)[0] == FEASIBLE
    result = greedy.schedule(problem)
    assert result.pending == (("Deployment/zbig", 1, "0/2 nodes are available: 2 Insufficient cpu."),)


def test_class_combinations_cover_every_failure_set():
    from math import comb
    classes = [[0, 1, 2], [3, 4], [5]]
    for k in range(0, 5):
        combos = list(solver.class_combinations(classes, k))
        assert sum(c for _, c in combos) == comb(6, k)
