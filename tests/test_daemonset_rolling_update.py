"""The DaemonSet RollingUpdate arithmetic against upstream's tests.

Upstream: ``pkg/controller/daemon/update.go`` (``updatedDesiredNodeCounts``,
``rollingUpdate``, ``findUpdatedPodsOnNode``) and ``daemon/util``
(``SurgeCount``, ``UnavailableCount``), with ``update_test.go``:
``TestGetUnavailableNumbers`` as a table, and the sync sequences of
``TestDaemonSetUpdatesPods``, ``TestDaemonSetUpdatesPodsWithMaxSurge``,
``TestDaemonSetUpdatesWhenNewPodIsNotReady`` and
``TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge`` replayed here: each
``expectSyncDaemonSets(creates, deletes)`` after a template change is one
:func:`rolling_update` plus the manage loop, which gives a pod to every node
that should run one and has none (what ``markPodsReady`` then makes
available). ``newUpdateSurge`` sets ``maxUnavailable`` to 0.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, strategies as st

from kspec.simulation.controllers.daemonset import NodeDaemonPods, rolling_update, updated_desired_node_counts


@pytest.mark.parametrize("name,surge,unavailable,desired,expected", [
    ("No nodes", None, 0, 0, (0, 0)),
    ("Two nodes with ready pods", None, 1, 2, (0, 1)),
    ("Two nodes, one node without pods", None, 0, 2, (0, 1)),
    ("Two nodes, one node without pods, surge", 0, 0, 2, (0, 1)),
    ("Two nodes with pods, MaxUnavailable in percents", None, "50%", 2, (0, 1)),
    ("Two nodes with pods, MaxUnavailable in percents, surge", "50%", 0, 2, (1, 0)),
    ("Two nodes with pods, MaxUnavailable is 100%, surge", "100%", 0, 2, (2, 0)),
    ("Two nodes with pods, MaxUnavailable in percents, pod terminating", None, "50%", 3, (0, 2)),
])
def test_TestGetUnavailableNumbers(name, surge, unavailable, desired, expected):
    assert updated_desired_node_counts(surge, unavailable, desired) == expected


class Cluster:
    """Daemon pods on nodes through a template change: ``old`` or ``new`` pods, available or not."""

    def __init__(self, nodes: int, tainted: frozenset[int] = frozenset()):
        self.pods = {n: {"old": True, "available": True} for n in range(nodes)}  # node -> its pods
        self.extra: dict[int, bool] = {}  # node -> available, for a surged new pod beside the old one
        self.tainted = tainted
        self.serial = 0

    def view(self) -> list[NodeDaemonPods]:
        nodes = []
        for n in sorted(self.pods):
            pod = self.pods[n]
            new = (f"new-{n}",) if n in self.extra else ()
            if pod is None:
                nodes.append(NodeDaemonPods(f"node-{n}", n not in self.tainted))
            elif pod["old"]:
                nodes.append(NodeDaemonPods(f"node-{n}", n not in self.tainted, new, self.extra.get(n, False),
                                            (f"old-{n}",), pod["available"]))
            else:
                nodes.append(NodeDaemonPods(f"node-{n}", n not in self.tainted, (f"new-{n}",), pod["available"]))
        return nodes

    def sync(self, surge: int, unavailable: int, rng: random.Random) -> tuple[int, int]:
        """One rolling update (choices as upstream's map order might fall), then the manage loop."""
        desired = sum(1 for n in self.pods if n not in self.tainted)
        plan = rolling_update(self.view(), surge, unavailable, desired)
        deleted = list(plan.delete) + rng.sample(plan.delete_choices, plan.delete_count)
        created = list(plan.create_on) + rng.sample(plan.create_choices, plan.create_count)
        for name in deleted:
            n = int(name.split("-")[1])
            if name.startswith("old") and n in self.extra:
                self.pods[n] = {"old": False, "available": self.extra.pop(n)}
            else:
                self.pods[n] = None
        for node in created:
            self.extra[int(node.split("-")[1])] = False
        managed = [n for n, pod in self.pods.items() if pod is None and n not in self.tainted]
        for n in managed:
            self.pods[n] = {"old": False, "available": False}
        return len(created) + len(managed), len(deleted)

    def mark_ready(self):
        for n, pod in self.pods.items():
            if pod is not None:
                pod["available"] = True
        self.extra = {n: True for n in self.extra}


def replay(cluster, surge, unavailable, steps, seed):
    rng = random.Random(seed)
    for expected in steps:
        if expected == "ready":
            cluster.mark_ready()
        else:
            assert cluster.sync(surge, unavailable, rng) == expected


@pytest.mark.parametrize("seed", range(5))
def test_TestDaemonSetUpdatesPods(seed):
    """Five nodes, ``maxUnavailable: 2``: two old pods go, their replacements come, and so on. (Upstream
    counts the deletions and the manage loop's creations in separate syncs; here they are one.)"""
    replay(Cluster(5), 0, 2, [(2, 2), (0, 0), "ready", (2, 2), "ready", (1, 1), "ready", (0, 0)], seed)


@pytest.mark.parametrize("seed", range(5))
def test_TestDaemonSetUpdatesPodsWithMaxSurge(seed):
    """Five nodes, ``maxSurge: 2``: two new pods beside the old ones; once available, the two old ones
    go and two more nodes surge; then the last node."""
    replay(Cluster(5), 2, 0, [(2, 0), (0, 0), "ready", (2, 2), (0, 0), "ready", (5 % 2, 2), (0, 0), "ready",
                              (0, 5 % 2), (0, 0)], seed)


@pytest.mark.parametrize("seed", range(5))
def test_TestDaemonSetUpdatesWhenNewPodIsNotReady(seed):
    replay(Cluster(5), 0, 3, [(3, 3), (0, 0), (0, 0)], seed)


@pytest.mark.parametrize("seed", range(5))
def test_TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge(seed):
    """``maxSurge: 1``; node-0 gets a taint the new template does not tolerate: its old pod goes once
    the other nodes' availability allows it, one node at a time."""
    replay(Cluster(5, frozenset({0})), 1, 0, [(1, 1), (0, 0), "ready", (1, 1), (0, 0), "ready", (1, 1), (0, 0),
                                              "ready", (1, 1), (0, 0), "ready", (0, 1), (0, 0)], seed)


@given(st.integers(1, 8), st.integers(0, 3), st.integers(0, 3), st.randoms(use_true_random=False))
def test_rollingUpdate_property_availability_and_surge_bounds(nodes, surge, unavailable, rng):
    """Through a whole rollout: without surge at most ``maxUnavailable`` nodes lack an available pod
    after any sync (the manage loop's new pods counting as unavailable); with surge no node ever
    holds more than two pods and at most ``maxSurge`` nodes hold two; the rollout finishes."""
    surge_n, unavailable_n = updated_desired_node_counts(surge or None, unavailable, nodes)
    cluster = Cluster(nodes)
    for _ in range(4 * nodes + 4):
        cluster.sync(surge_n, unavailable_n, rng)
        if surge_n == 0:
            down = sum(1 for pod in cluster.pods.values() if pod is None or not pod["available"])
            assert down <= unavailable_n
        else:
            assert len(cluster.extra) <= surge_n
        cluster.mark_ready()
    assert all(pod is not None and not pod["old"] for pod in cluster.pods.values()) and not cluster.extra
