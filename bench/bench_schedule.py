"""Benchmarks for kspec schedule. Not a test: prints figures and peak memory.

    python3 bench/bench_schedule.py                 # everything
    python3 bench/bench_schedule.py large           # 5,000 pods / 100 workloads / 500 nodes / 3 zones
    python3 bench/bench_schedule.py binpack [N]     # greedy vs Z3 on N bin-packing instances

The large cluster: 500 nodes in 3 zones (420 general 8 cpu/32Gi, 50 high-memory
16 cpu/128Gi labelled ``pool=highmem``, 30 GPU nodes tainted
``nvidia.com/gpu=present:NoSchedule`` with 4 ``nvidia.com/gpu``), and 100
Deployments, 5,000 replicas in all: every workload requests cpu and memory;
every 10th needs high-memory nodes (node affinity), every 25th is a GPU job
(toleration + gpu request), every 7th has hostname anti-affinity, every 5th a
zone topology spread (maxSkew 1).
"""

from __future__ import annotations

import random
import sys
import time
import resource

from kspec.loading.cluster import Cluster
from kspec.loading.manifests import parse_object, pool_nodes
from kspec.scheduling import greedy, solver
from kspec.scheduling.problem import Problem

TIMEOUT = 300.0


def deployment(name, replicas, cpu, memory, *, affinity=None, tolerations=None, spread=None, extra=None):
    requests = {"cpu": cpu, "memory": memory, **(extra or {})}
    spec = {"containers": [{"name": "app", "image": "registry.example/app:1",
                            "resources": {"requests": requests}}]}
    if affinity:
        spec["affinity"] = affinity
    if tolerations:
        spec["tolerations"] = tolerations
    if spread:
        spec["topologySpreadConstraints"] = spread
    labels = {"app": name}
    return parse_object({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                         "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                                  "template": {"metadata": {"labels": labels}, "spec": spec}}})


def large_cluster(seed: int = 5) -> Cluster:
    rng = random.Random(seed)
    nodes = pool_nodes([
        "420:cpu=8,memory=32Gi;zones=a,b,c;name=general",
        "50:cpu=16,memory=128Gi;zones=a,b,c;labels=pool=highmem;name=highmem",
        "30:cpu=16,memory=64Gi,nvidia.com/gpu=4;zones=a,b,c;taints=nvidia.com/gpu=present:NoSchedule;name=gpu",
    ])
    workloads = []
    remaining = 5000
    for w in range(100):
        name = f"app-{w:03d}"
        replicas = 50 if w < 99 else remaining
        remaining -= replicas
        kwargs = {}
        cpu, memory = rng.choice(["100m", "250m", "500m"]), rng.choice(["128Mi", "256Mi", "512Mi"])
        if w % 10 == 3:
            kwargs["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["highmem"]}]}]}}}
            memory = "2Gi"
        if w % 25 == 4:
            kwargs["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
            kwargs["extra"] = {"nvidia.com/gpu": "1"}
            replicas = 20 if w < 99 else replicas
        if w % 7 == 0 and w % 10 != 3 and w % 25 != 4:  # hostname anti-affinity on general nodes only
            kwargs.setdefault("affinity", {})["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": name}}, "topologyKey": "kubernetes.io/hostname"}]}
        if w % 5 == 0:
            kwargs["spread"] = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                 "whenUnsatisfiable": "DoNotSchedule",
                                 "labelSelector": {"matchLabels": {"app": name}}}]
        if w % 25 == 4:
            remaining += 50 - replicas
        workloads.append(deployment(name, replicas, cpu, memory, **kwargs))
    return Cluster.from_objects(list(nodes) + workloads)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Python and Z3 alike)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(label, fn):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:8.2f} s   peak RSS so far {peak_rss_mib():7.0f} MiB", flush=True)
    return value, seconds


def bench_large() -> None:
    print("large: building the cluster")
    cluster, _ = measure("load 500 nodes + 100 deployments", large_cluster)
    problem, _ = measure("static filters (Problem)", lambda: Problem(cluster))
    print(f"  pods {problem.total_pods()}, groups {len(problem.groups)}, nodes {len(problem.nodes)}, "
          f"node classes {len(problem.node_classes())}")
    (verdict, placement, encoding), _ = measure("feasibility (encode + solve)",
                                                lambda: solver.solve(problem, timeout=TIMEOUT))
    print(f"  verdict {verdict}, variables {len(encoding.x)}, nodes used "
          f"{placement.nodes_used() if placement else '-'}")
    tol, _ = measure("any single node failure", lambda: solver.check_failures(
        problem, solver.node_failure_scenarios(problem, 1), kind="nodes", k=1, timeout=TIMEOUT))
    print(f"  verdict {tol.verdict}: {tol.scenarios} scenarios for {tol.equivalent_sets} failure sets")
    zone, _ = measure("loss of any one zone", lambda: solver.check_failures(
        problem, solver.zone_scenarios(problem), kind="zone", k=1, timeout=TIMEOUT))
    print(f"  verdict {zone.verdict}: {zone.scenarios} zones"
          + (f", fails without {zone.counterexample.failed[0][:12]}... zone" if zone.counterexample else ""))


def binpack_instance(rng: random.Random) -> Cluster:
    """Nodes of 10 cpu; pods of sizes drawn so that a perfect packing exists by construction
    (each node's capacity is cut into pieces), deployments ordered small-first so that the
    least-allocated greedy spreads small pods and strands the big ones."""
    n_nodes = rng.randint(3, 6)
    sizes = []
    for _ in range(n_nodes):
        left = 10
        while left > 0:
            piece = min(left, rng.choice([1, 2, 3, 4, 5, 6, 7]))
            sizes.append(piece)
            left -= piece
    counts: dict[int, int] = {}
    for size in sizes:
        counts[size] = counts.get(size, 0) + 1
    nodes = pool_nodes([f"{n_nodes}:cpu=10,memory=64Gi"])
    workloads = [deployment(f"size-{size:02d}", count, str(size), "64Mi") for size, count in sorted(counts.items())]
    return Cluster.from_objects(list(nodes) + workloads)


def bench_binpack(instances: int = 50, seed: int = 7) -> None:
    rng = random.Random(seed)
    z3_all = greedy_all = gap = 0
    z3_time = greedy_time = 0.0
    for _ in range(instances):
        problem = Problem(binpack_instance(rng))
        start = time.perf_counter()
        verdict = solver.solve(problem, timeout=TIMEOUT)[0]
        z3_time += time.perf_counter() - start
        start = time.perf_counter()
        result = greedy.schedule(problem)
        greedy_time += time.perf_counter() - start
        z3_all += verdict == "feasible"
        greedy_all += result.all_placed
        gap += verdict == "feasible" and not result.all_placed
    print(f"binpack: {instances} instances (3-6 nodes of 10 cpu, a perfect packing exists in each)")
    print(f"  Z3 places everything in {z3_all}/{instances}, {z3_time / instances * 1000:.1f} ms per instance")
    print(f"  greedy places everything in {greedy_all}/{instances}, {greedy_time / instances * 1000:.1f} ms per instance")
    print(f"  greedy leaves pods Pending although a placement exists: {gap}/{instances}")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which in ("all", "large"):
        bench_large()
    if which in ("all", "binpack"):
        bench_binpack(int(sys.argv[2]) if len(sys.argv) > 2 else 50)
