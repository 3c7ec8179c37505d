"""Disruption limits: how many pods of a workload may be down at once.

Failure tolerance asks two questions. *Re-placeable*: after the failure, do
the lost pods fit on the nodes left (:func:`kspec.scheduling.solver.check_failures`)?
*Budget kept*: does the failure itself take down more pods of a workload
than it can lose (:func:`kspec.scheduling.solver.check_budgets`)? Three
ZooKeeper replicas on one node are re-placeable, but losing that node loses
the quorum.

The limits come from

* each PodDisruptionBudget (policy/v1), over the workloads whose pod template
  it selects in its namespace: ``maxUnavailable``, or the expected pods minus
  ``minAvailable``, percentages of the expected pods rounded up, as the
  disruption controller computes ``desiredHealthy``
  (pkg/controller/disruption/disruption.go, ``getExpectedScale`` and
  ``GetScaledValueFromIntOrPercent``);
* each replicated workload (2 or more replicas) with pod anti-affinity and no
  PodDisruptionBudget: anti-affinity says its replicas must not fall
  together; kspec reads it as a quorum, a majority of the replicas staying up
  (at most ``(replicas - 1) // 2`` down), and says so.
"""

from __future__ import annotations

import math

import attrs

from kspec.api.labels import SelectorError, selector_from_dict
from kspec.api.validation import int_or_percent
from kspec.errors import Diagnostic, LoadError, ValidationError

__all__ = ["Limit", "disruption_limits"]


@attrs.frozen
class Limit:
    """At most ``allowed`` pods of ``groups`` (indexes into the problem's groups) down at once."""

    source: str  # PodDisruptionBudget/zk-pdb, or the workload whose anti-affinity implies a quorum
    groups: tuple[int, ...]
    expected: int
    allowed: int

    def describe(self, problem) -> str:
        names = ", ".join(problem.groups[g].key for g in self.groups)
        if self.source.startswith("PodDisruptionBudget/"):
            return f"{self.source}: at most {self.allowed} of the {self.expected} pods of {names} down"
        return (f"{names}: a majority of its {self.expected} replicas up (pod anti-affinity, no "
                f"PodDisruptionBudget), at most {self.allowed} down")


def _scaled(value, total: int) -> int:
    """``intstr.GetScaledValueFromIntOrPercent`` rounding up: an int as it is, ``"25%"`` of ``total``."""
    if isinstance(value, str):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def _fail(obj, field: str, message: str):
    raise LoadError([Diagnostic(str(obj.source.file), obj.source.line,
                                f"PodDisruptionBudget/{obj.metadata.name}: {message}", field)])


def _budget_limit(obj, problem) -> Limit | None:
    raw = obj.raw if isinstance(obj.raw, dict) else {}
    spec = raw.get("spec") or {}
    try:
        low = int_or_percent(spec.get("minAvailable"), "spec.minAvailable")
        high = int_or_percent(spec.get("maxUnavailable"), "spec.maxUnavailable")
    except ValidationError as err:
        _fail(obj, err.path, err.message)
    try:
        selector = selector_from_dict(spec.get("selector"))
    except SelectorError as err:
        _fail(obj, "spec.selector", str(err))
    namespace = obj.metadata.namespace or "default"
    groups = tuple(g for g, group in enumerate(problem.groups)
                   if group.pinned is None and (group.pod.metadata.namespace or "default") == namespace
                   and selector.matches(group.pod.metadata.labels))
    if not groups:
        return None
    expected = sum(problem.groups[g].count for g in groups)
    if high is not None:
        allowed = _scaled(high, expected)
    else:
        allowed = expected - _scaled(low if low is not None else 0, expected)
    return Limit(f"PodDisruptionBudget/{obj.metadata.name}", groups, expected, max(0, min(allowed, expected)))


def _has_anti_affinity(pod) -> bool:
    affinity = pod.spec.affinity
    block = affinity.pod_anti_affinity if affinity else None
    return bool(block and (block.required or block.preferred))


def disruption_limits(problem) -> list[Limit]:
    """Every limit of :mod:`this module <kspec.scheduling.budgets>` for ``problem``, budgets first."""
    limits = [limit for obj in problem.cluster.of_kind("PodDisruptionBudget")
              if (limit := _budget_limit(obj, problem)) is not None]
    budgeted = {g for limit in limits for g in limit.groups}
    for g, group in enumerate(problem.groups):
        if group.pinned is None and group.count >= 2 and g not in budgeted and _has_anti_affinity(group.pod):
            limits.append(Limit(group.key, (g,), group.count, (group.count - 1) // 2))
    return limits
