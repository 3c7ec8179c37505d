"""The kube-scheduler's way: one pod at a time, filter then score, never reconsider.

Pods are taken in queue order (priority, highest first; then the cluster's
canonical order of their groups, replicas in sequence). For each pod every
node runs the Filter plugins (:class:`kspec.scheduling.filters.PodFilter`);
feasible nodes are scored by NodeResourcesFit's default LeastAllocated
strategy (cpu and memory, weight 1 each, on non-zero requests: 100m cpu and
200Mi memory for a container that requests nothing), and the highest score
wins, ties broken by node order (upstream breaks ties at random; a fixed
order keeps results reproducible). A pod no node accepts stays Pending with
upstream's ``0/N nodes are available: ...`` message. No preemption.

The loop checks a :class:`~kspec.util.budget.Budget` before each node it
tries; when the budget runs out the result says so (``timed_out``) and holds
no placement: a half-done baseline would read as pods left Pending.
"""

from __future__ import annotations

import time
from collections import Counter

import attrs

from kspec.scheduling import filters as F
from kspec.scheduling.problem import Problem
from kspec.scheduling.result import GreedyResult, NodeRow, Placement
from kspec.util.budget import Budget, BudgetExceeded

DEFAULT_CPU_MILLI = 100  # schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY = 200 * 1024 * 1024  # schedutil.DefaultMemoryRequest
MAX_NODE_SCORE = 100


def non_zero_requests(spec) -> tuple[int, int]:
    """schedutil.GetNonzeroRequests, summed like the pod's effective request (approximately: per app container)."""
    cpu = memory = 0
    for container in spec.containers:
        req = container.resources.requests
        cpu += req["cpu"].milli_value() if "cpu" in req else DEFAULT_CPU_MILLI
        memory += req["memory"].value() if "memory" in req else DEFAULT_MEMORY
    return cpu, memory


def least_allocated(requested: tuple[int, int], allocatable: tuple[int, int]) -> int:
    """LeastAllocated: mean over cpu and memory of (allocatable - requested) * 100 / allocatable."""
    total = 0
    for req, alloc in zip(requested, allocatable):
        if alloc == 0 or req > alloc:
            continue
        total += (alloc - req) * MAX_NODE_SCORE // alloc
    return total // 2


def fit_error(results: list[F.FilterResult], nodes: int) -> str:
    """FitError.Error(): ``0/N nodes are available: <count> <reason>, ...`` (reasons sorted)."""
    counts = Counter(reason for r in results for reason in r.reasons)
    parts = sorted(f"{count} {reason}" for reason, count in counts.items())
    return f"0/{nodes} nodes are available: {', '.join(parts)}."


def schedule(problem: Problem, budget: Budget | None = None) -> GreedyResult:
    """Bind every pod of ``problem`` one at a time; what is left is Pending.
    Stops with a ``timed_out`` result when ``budget`` runs out."""
    start = time.monotonic()
    try:
        return _schedule(problem, budget or Budget(), start)
    except BudgetExceeded as err:
        return GreedyResult(Placement(()), (), time.monotonic() - start, timed_out=err.bound)


def _schedule(problem: Problem, budget: Budget, start: float) -> GreedyResult:
    snapshot = F.Snapshot(problem.nodes, problem.cluster.pods, problem.cluster.of_kind("Namespace"))
    non_zero = {}
    for name, pods in snapshot.pods_on.items():
        cpu = memory = 0
        for pod in pods:
            c, m = non_zero_requests(pod.spec)
            cpu, memory = cpu + c, memory + m
        non_zero[name] = [cpu, memory]
    order = sorted(range(len(problem.groups)),
                   key=lambda g: (-(problem.groups[g].pod.spec.priority or 0), g))
    placed: dict[tuple[str, str], int] = Counter()
    pending = []
    local_plugins = (F.node_ports, F.node_resources_fit)
    for g in order:
        group = problem.groups[g]
        pod_nz = non_zero_requests(group.pod.spec)
        candidates = [problem.nodes[i] for i in problem.eligible[g]]
        left = 0
        message = ""
        for k in range(group.count):
            pod = attrs.evolve(group.pod, metadata=attrs.evolve(group.pod.metadata,
                                                                name=f"{group.pod.metadata.name}-{k}"))
            check = F.PodFilter(pod, snapshot)
            best, best_score, failures = None, -1, []
            for node in candidates:
                budget.check()
                result = check.check(node, local_plugins)
                if not result.fits:
                    failures.append(result)
                    continue
                name = node.metadata.name
                have = non_zero.get(name, [0, 0])
                alloc = problem.alloc[problem.node_index[name]]
                score = least_allocated((have[0] + pod_nz[0], have[1] + pod_nz[1]),
                                        (alloc.get("cpu", 0), alloc.get("memory", 0)))
                if score > best_score:
                    best, best_score = node, score
            if best is None:
                left = group.count - k
                excluded = [F.FilterResult(False, w.code, (w.reason,), w.plugin) for w in problem.excluded[g].values()]
                message = fit_error(excluded + failures, len(problem.nodes))
                break
            name = best.metadata.name
            snapshot.add(pod, name)
            nz = non_zero.setdefault(name, [0, 0])
            nz[0] += pod_nz[0]
            nz[1] += pod_nz[1]
            placed[group.key, name] += 1
        if left:
            pending.append((group.key, left, message))
    rows = []
    for i, node in enumerate(problem.nodes):
        name = node.metadata.name
        pods = tuple((problem.groups[g].key, placed[problem.groups[g].key, name]) for g in range(len(problem.groups))
                     if placed.get((problem.groups[g].key, name)))
        requested = dict(snapshot.requested.get(name, {}))
        requested["pods"] = len(snapshot.pods_on.get(name, ()))
        rows.append(NodeRow(name, pods, problem.bound_count(i), tuple(sorted(requested.items())),
                            tuple(sorted(problem.alloc[i].items()))))
    return GreedyResult(Placement(tuple(rows)), tuple(pending), time.monotonic() - start)
