"""A PodDisruptionBudget breach is reported the same way whatever model Z3 returns.

``check_budgets`` asks Z3 for a placement and a node failure that lose more
pods than a budget allows. Among interchangeable nodes (the same class of
``Problem.node_classes``, as ``SelectHost`` treats them: any top-scoring
node) many such models are equally good, and which one Z3 returns depends on
everything the process asked Z3 before. The report names nodes canonically
within each class: the failed nodes first, then the fuller ones, so the
same manifests always give the same words.
"""

from __future__ import annotations

import z3
from hypothesis import given, settings, strategies as st

from kspec.loading.manifests import load
from kspec.scheduling import solver
from kspec.scheduling.budgets import disruption_limits
from kspec.scheduling.problem import Problem
from support.profiles import examples

ZK = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: zk}
spec:
  serviceName: zk-hs
  replicas: 3
  selector: {matchLabels: {app: zk}}
  template:
    metadata: {labels: {app: zk}}
    spec:
      containers:
        - {name: zk, image: zookeeper, resources: {requests: {cpu: 500m, memory: 1Gi}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: zk-pdb}
spec: {selector: {matchLabels: {app: zk}}, maxUnavailable: 1}
"""


def breach(tmp_path):
    path = tmp_path / "zk.yaml"
    path.write_text(ZK)
    problem = Problem(load([str(path)], nodes=["3:cpu=4,memory=16Gi"]))
    answer = solver.check_budgets(problem, disruption_limits(problem), kind="nodes", k=1, timeout=30)
    assert answer.verdict == "infeasible"
    return answer.breach


def test_the_failed_node_and_the_fullest_take_the_first_names(tmp_path):
    """No anti-affinity: two or three of the pods may share the failed node."""
    found = breach(tmp_path)
    assert found.failed == ("node-0",)
    (workload, nodes), = found.placement
    assert nodes[0][0] == "node-0" and nodes[0][1] == found.lost
    assert [count for _, count in nodes] == sorted((count for _, count in nodes), reverse=True)


@settings(examples(8))
@given(st.lists(st.integers(0, 7), max_size=12), st.integers(0, 3))
def test_the_breach_is_the_same_after_any_earlier_z3_work(tmp_path_factory, sizes, rounds):
    """Terms and queries made before (other checks in the same process) move
    Z3's choice among symmetric models, never the report."""
    first = breach(tmp_path_factory.mktemp("zk"))
    for size in sizes:  # perturb the global context: fresh terms and a solved query
        noise = z3.Solver()
        bools = [z3.Bool(f"noise_{size}_{i}") for i in range(size + 1)]
        noise.add(z3.PbEq([(b, 1) for b in bools], min(rounds, len(bools))))
        noise.check()
    assert breach(tmp_path_factory.mktemp("zk")) == first
