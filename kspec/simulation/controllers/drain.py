"""``kubectl drain --ignore-daemonsets``: evict a cordoned node's pods through the Eviction API.

The user operation ``drain`` cordons the node (``spec.unschedulable``, so the
scheduler sends nothing new there); this actor is the ``kubectl drain``
process that then keeps evicting until the node is empty, retrying every pod
the API refuses (HTTP 429) for as long as it takes. It is weakly fair: the
operator does not give up.

What the drain evicts (``k8s.io/kubectl/pkg/drain``): every pod on the node
except DaemonSet pods (``--ignore-daemonsets``). A pod that no controller
owns makes the whole drain refuse to start ("cannot delete Pods that declare
no controller"; ``--force`` is not modelled), so nothing is evicted.

Whether the API server allows one eviction
(``pkg/registry/core/pod/storage/eviction.go``): a pod that is terminating,
Pending, Succeeded or Failed is deleted regardless of budgets; otherwise every
PodDisruptionBudget selecting it must allow it: none selecting it is fine,
more than one is an error (refused); with one, a Ready pod needs
``disruptionsAllowed > 0`` and a pod that is not Ready needs the budget to be
healthy (``currentHealthy >= desiredHealthy``, the default
``unhealthyPodEvictionPolicy: IfHealthyBudget``). The disruption controller's
numbers (:func:`budget_status`) are computed from the state when read, never
stale. An allowed eviction is a graceful delete.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.simulation.controllers.protocol import scaled_value
from kspec.checker.model import Action
from kspec.simulation.state import PENDING, State, World, delete_pod, is_active, is_terminal

__all__ = ["DrainEvict", "Drainer", "budget_status", "eviction_allowed", "to_evict"]


@attrs.frozen
class DrainEvict(Action):
    """``kubectl drain`` evicted one pod of a cordoned node."""

    actor: ClassVar[str] = "drain"
    pod: str
    node: str


def budget_status(world: World, state: State, b: int) -> tuple[int, int]:
    """``(currentHealthy, desiredHealthy)`` of budget ``b`` (the disruption
    controller's ``getExpectedPodCount`` and ``countHealthyPods``)."""
    budget = world.budgets[b]
    selects = world.budget_selects[b]
    pods = [p for p in state.pods if selects[p.group] and not is_terminal(p)]
    healthy = sum(1 for p in pods if p.ready and not p.deleting)
    if budget.max_unavailable is None and not isinstance(budget.min_available, str):
        return healthy, budget.min_available or 0
    expected = 0  # the scale of the controllers that own the selected pods
    for w in {p.owner for p in pods if p.owner >= 0}:
        expected += state.replicas[w] or 0
    if budget.max_unavailable is not None:
        return healthy, max(0, expected - scaled_value(budget.max_unavailable, expected, True))
    return healthy, scaled_value(budget.min_available, expected, True)


def eviction_allowed(world: World, state: State, index: int) -> bool:
    """Would the API server accept an eviction of pod ``index`` now?"""
    pod = state.pods[index]
    if pod.deleting or pod.phase == PENDING or is_terminal(pod):
        return True
    budgets = [b for b in range(len(world.budgets)) if world.budget_selects[b][pod.group]
               and world.budgets[b].namespace == world.groups[pod.group].namespace]
    if not budgets:
        return True
    if len(budgets) > 1:  # "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
        return False
    healthy, desired = budget_status(world, state, budgets[0])
    if pod.ready:
        return healthy - desired > 0
    return healthy >= desired


def to_evict(world: World, state: State, node: int) -> list[int]:
    """The pods ``kubectl drain --ignore-daemonsets`` wants gone from ``node``
    (empty when an unmanaged pod makes it refuse)."""
    pods = [i for i, p in enumerate(state.pods) if p.node == node and not world.groups[p.group].daemon]
    if any(state.pods[i].owner < 0 and is_active(state.pods[i]) for i in pods):
        return []
    return [i for i in pods if not state.pods[i].deleting]


class Drainer:
    """Evicts one pod per step from every cordoned node, as budgets allow."""

    actor = "drain"
    fair = True

    def steps(self, world: World, state: State):
        for node, rec in enumerate(state.nodes):
            if not rec.cordoned:
                continue
            for i in to_evict(world, state, node):
                if eviction_allowed(world, state, i):
                    yield DrainEvict(state.pods[i].name, world.node_names[node]), delete_pod(state, i, world)
