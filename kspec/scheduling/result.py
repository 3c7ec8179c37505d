"""Frozen result records of ``kspec schedule``; reports only render them.

Verdicts are three-valued everywhere: ``feasible`` (a placement exists, shown),
``infeasible`` (proved: no placement exists) and ``unknown`` (the solver hit its
timeout; never read as infeasible).
"""

from __future__ import annotations

import attrs

FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
UNKNOWN = "unknown"


@attrs.frozen
class Cause:
    """One member of a minimal unsatisfiable core, mapped back to the user's object and field."""

    kind: str  # replicas, requests, taint, node-affinity, node-name, unschedulable, ports, anti-affinity, ...
    object: str  # Kind/name
    field: str  # field path inside the object
    location: str  # file:line of the field (or of the object)
    message: str

    def to_json(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class Explanation:
    """Why no placement exists: a minimal set of constraints that cannot hold together."""

    summary: str
    causes: tuple[Cause, ...]
    minimal: bool = True  # False when core minimisation ran out of time

    def to_json(self) -> dict:
        return {"summary": self.summary, "minimal": self.minimal, "causes": [c.to_json() for c in self.causes]}


@attrs.frozen
class NodeRow:
    """One node of a placement: pods per group, requested (incl. bound pods) vs allocatable."""

    node: str
    pods: tuple[tuple[str, int], ...]  # (group, count), placed by kspec
    bound: int  # pods already bound by nodeName
    requested: tuple[tuple[str, int], ...]  # resource -> amount (cpu in millicores)
    allocatable: tuple[tuple[str, int], ...]

    def utilisation(self, resource: str) -> float | None:
        req, alloc = dict(self.requested).get(resource, 0), dict(self.allocatable).get(resource, 0)
        if not alloc:
            return None
        try:
            return req / alloc
        except OverflowError:  # a bound pod's request beyond 1e308 times the allocatable
            return float("inf")

    def to_json(self) -> dict:
        return {
            "node": self.node,
            "pods": [{"group": g, "count": c} for g, c in self.pods],
            "bound_pods": self.bound,
            "requested": dict(self.requested),
            "allocatable": dict(self.allocatable),
        }


@attrs.frozen
class Placement:
    rows: tuple[NodeRow, ...]

    def count(self, group: str, node: str) -> int:
        for row in self.rows:
            if row.node == node:
                return dict(row.pods).get(group, 0)
        return 0

    def nodes_used(self) -> int:
        return sum(1 for row in self.rows if row.pods or row.bound)

    def to_json(self) -> list:
        return [row.to_json() for row in self.rows]


@attrs.frozen
class FailureCheck:
    """One failure scenario checked: the failed nodes and whether everything still fits."""

    failed: tuple[str, ...]
    verdict: str
    seconds: float
    explanation: Explanation | None = None

    def to_json(self) -> dict:
        return {"failed": list(self.failed), "verdict": self.verdict, "seconds": round(self.seconds, 3),
                "explanation": self.explanation.to_json() if self.explanation else None}


@attrs.frozen
class Tolerance:
    """Failure tolerance: ``kind`` is ``nodes`` (any ``k`` nodes) or ``zone`` (any one zone).

    ``verdict`` is ``feasible`` when every scenario fits (tolerant), ``infeasible``
    when some scenario does not (``counterexample`` names it), ``unknown`` when a
    scenario timed out and none failed.
    """

    kind: str
    k: int
    verdict: str
    scenarios: int  # scenarios actually solved (one per class combination / zone)
    equivalent_sets: int  # failure sets they stand for
    counterexample: FailureCheck | None
    checks: tuple[FailureCheck, ...]
    seconds: float

    @property
    def tolerant(self) -> bool:
        return self.verdict == FEASIBLE

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "k": self.k, "verdict": self.verdict, "tolerant": self.tolerant,
            "scenarios_solved": self.scenarios, "failure_sets_covered": self.equivalent_sets,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
            "seconds": round(self.seconds, 3),
        }


@attrs.frozen
class BudgetBreach:
    """A placement the filters allow and a failure that takes down more pods than a limit allows."""

    limit: str  # the limit in words (which budget, how many may be down)
    failed: tuple[str, ...]  # the failed nodes
    lost: int  # pods of the limit's workloads on them
    allowed: int
    placement: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # per workload: (node, pods) where it sits

    def summary(self) -> str:
        where = "; ".join(f"{w} on " + ", ".join(f"{n} x{c}" for n, c in nodes) for w, nodes in self.placement)
        verb = "fails" if len(self.failed) == 1 else "fail"
        return (f"a placement the filters allow ({where}) loses {self.lost} pod(s) when "
                f"{', '.join(self.failed)} {verb}, more than the {self.allowed} allowed by {self.limit}")

    def to_json(self) -> dict:
        return {"limit": self.limit, "failed": list(self.failed), "lost": self.lost, "allowed": self.allowed,
                "placement": [{"workload": w, "nodes": [{"node": n, "pods": c} for n, c in nodes]}
                              for w, nodes in self.placement]}


@attrs.frozen
class BudgetTolerance:
    """Whether every placement the filters allow keeps every disruption limit through the failure.

    ``verdict``: ``feasible`` (kept: no allowed placement and failure of the
    kind asked breaks a limit), ``infeasible`` (not kept: ``breach`` shows one),
    ``unknown`` (the solver timed out).
    """

    kind: str  # nodes (any k nodes) or zone (any one zone)
    k: int
    verdict: str
    limits: tuple[str, ...]  # every limit checked, in words
    breach: BudgetBreach | None
    seconds: float

    @property
    def kept(self) -> bool:
        return self.verdict == FEASIBLE

    def to_json(self) -> dict:
        return {"kind": self.kind, "k": self.k, "verdict": self.verdict, "kept": self.kept,
                "limits": list(self.limits), "breach": self.breach.to_json() if self.breach else None,
                "seconds": round(self.seconds, 3)}


@attrs.frozen
class GreedyResult:
    """The one-pod-at-a-time baseline: pods it bound and pods it left Pending (with reasons).

    ``timed_out`` names the bound that stopped it (``time_limit``), empty when it
    finished; a baseline that did not finish is "not computed": no placement,
    nothing Pending, and neither all placed nor not.
    """

    placement: Placement
    pending: tuple[tuple[str, int, str], ...]  # (group, pods left pending, "0/N nodes are available: ...")
    seconds: float
    timed_out: str = ""

    @property
    def computed(self) -> bool:
        return not self.timed_out

    @property
    def all_placed(self) -> bool:
        return self.computed and not self.pending

    def summary(self) -> str:
        """``not computed (timeout after 5.0s)`` for a baseline that did not finish."""
        what = "timeout" if self.timed_out == "time_limit" else self.timed_out.replace("_", " ")
        return f"not computed ({what} after {self.seconds:.1f}s)"

    def to_json(self) -> dict:
        if not self.computed:
            return {"computed": False, "result": self.summary(), "seconds": round(self.seconds, 3),
                    "all_placed": None, "pending": [], "nodes_used": None}
        return {"computed": True, "all_placed": self.all_placed, "seconds": round(self.seconds, 3),
                "pending": [{"group": g, "count": c, "message": m} for g, c, m in self.pending],
                "nodes_used": self.placement.nodes_used()}


@attrs.frozen
class ScheduleResult:
    """Everything ``kspec schedule`` found about one cluster."""

    verdict: str
    objective: str
    groups: tuple[tuple[str, int], ...]  # (group, pods)
    placement: Placement | None
    explanation: Explanation | None
    tolerances: tuple[Tolerance, ...]
    greedy: GreedyResult | None
    seconds: float
    stats: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    budgets: tuple[BudgetTolerance, ...] = ()  # disruption limits kept through the failures asked about
    warnings: tuple[str, ...] = ()  # what the verdicts say nothing about (workloads without requests)

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "objective": self.objective,
            "pods": sum(c for _, c in self.groups),
            "groups": [{"group": g, "count": c} for g, c in self.groups],
            "placement": self.placement.to_json() if self.placement else None,
            "explanation": self.explanation.to_json() if self.explanation else None,
            "tolerance": [t.to_json() for t in self.tolerances],
            "budget_tolerance": [b.to_json() for b in self.budgets],
            "greedy": self.greedy.to_json() if self.greedy else None,
            "seconds": round(self.seconds, 3),
            "stats": dict(self.stats),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }
