"""The deployment controller's proportional scaling against upstream's table.

Upstream: ``pkg/controller/deployment/sync.go`` ``scale`` with
``deploymentutil.GetReplicaSetProportion``/``getReplicaSetFraction``,
``FindActiveOrLatest`` and ``IsSaturated``, and the table of ``sync_test.go``
``TestScale``. Its fixtures: ``newDeployment`` is a RollingUpdate Deployment
with ``maxSurge`` and ``maxUnavailable`` 0 unless given; ``rs(name, n, _, t)``
has ``n`` replicas, all available; every ReplicaSet is annotated with the
*old* Deployment's size (``desired-replicas``) and that size plus its
``maxSurge`` (``max-replicas``), as ``SetReplicasAnnotations`` writes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from kspec.simulation.controllers.deployment import ReplicaSetSize, proportional_scale

NEWER, OLD, OLDER = 3, 2, 1


def rs(name, replicas, created, old_replicas, old_surge=0, available=None):
    return ReplicaSetSize(name, replicas, created, replicas if available is None else available,
                          old_replicas, old_replicas + old_surge)


SCALE_CASES = {
    # name: (replicas, surge, new, olds (name, size, created), old replicas, old surge, expected sizes)
    "normal scaling event: 10 -> 12": (12, 0, ("foo-v1", 10, NEWER), [], 10, 0, {"foo-v1": 12}),
    "normal scaling event: 10 -> 5": (5, 0, ("foo-v1", 10, NEWER), [], 10, 0, {"foo-v1": 5}),
    "proportional scaling: 5 -> 10": (10, 0, ("foo-v2", 2, NEWER), [("foo-v1", 3, OLD)], 5, 0,
                                      {"foo-v2": 4, "foo-v1": 6}),
    "proportional scaling: 5 -> 3": (3, 0, ("foo-v2", 2, NEWER), [("foo-v1", 3, OLD)], 5, 0,
                                     {"foo-v2": 1, "foo-v1": 2}),
    "proportional scaling: 9 -> 4": (4, 0, ("foo-v2", 8, NEWER), [("foo-v1", 1, OLD)], 9, 0,
                                     {"foo-v2": 4, "foo-v1": 0}),
    "proportional scaling: 7 -> 10": (10, 0, ("foo-v3", 2, NEWER), [("foo-v2", 3, OLD), ("foo-v1", 2, OLDER)], 7, 0,
                                      {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3}),
    "proportional scaling: 13 -> 8": (8, 0, ("foo-v3", 2, NEWER), [("foo-v2", 8, OLD), ("foo-v1", 3, OLDER)], 13, 0,
                                      {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2}),
    "leftover distribution: 3 -> 4": (4, 0, ("foo-v3", 1, NEWER), [("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)], 3, 0,
                                      {"foo-v3": 2, "foo-v2": 1, "foo-v1": 1}),
    "leftover distribution: 3 -> 2": (2, 0, ("foo-v3", 1, NEWER), [("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)], 3, 0,
                                      {"foo-v3": 1, "foo-v2": 1, "foo-v1": 0}),
    "proportional scaling (no new rs): 4 -> 5": (5, 0, None, [("foo-v2", 2, OLD), ("foo-v1", 2, OLDER)], 4, 0,
                                                 {"foo-v2": 3, "foo-v1": 2}),
    "proportional scaling: 6 -> 0": (0, 0, ("foo-v3", 3, NEWER), [("foo-v2", 2, OLD), ("foo-v1", 1, OLDER)], 6, 0,
                                     {"foo-v3": 0, "foo-v2": 0, "foo-v1": 0}),
    "proportional scaling: 0 -> 6": (6, 0, ("foo-v3", 0, NEWER), [("foo-v2", 0, OLD), ("foo-v1", 0, OLDER)], 6, 0,
                                     {"foo-v3": 6, "foo-v2": 0, "foo-v1": 0}),
    "deployment with surge pods": (20, 2, ("foo-v2", 6, NEWER), [("foo-v1", 6, OLD)], 10, 2,
                                   {"foo-v2": 11, "foo-v1": 11}),
    "change both surge and size": (50, 6, ("foo-v2", 5, NEWER), [("foo-v1", 8, OLD)], 10, 3,
                                   {"foo-v2": 22, "foo-v1": 34}),
    "change both size and template": (14, 0, None, [("foo-v2", 7, NEWER), ("foo-v1", 3, OLD)], 10, 0,
                                      {"foo-v2": 10, "foo-v1": 4}),
}


@pytest.mark.parametrize("name", SCALE_CASES)
def test_TestScale(name):
    replicas, surge, new, olds, old_replicas, old_surge, expected = SCALE_CASES[name]
    new_rs = rs(*new, old_replicas, old_surge) if new else None
    old_rss = [rs(*o, old_replicas, old_surge) for o in olds]
    before = {r.name: r.replicas for r in ([new_rs] if new_rs else []) + old_rss}
    got = proportional_scale(replicas, surge, True, new_rs, old_rss, sum(before.values()))
    assert {**before, **got} == expected


def test_TestScale_saturated_but_broken_new_replica_set_does_not_affect_old_pods():
    """``maxSurge`` 1: the new ReplicaSet has its 2 replicas but none available, so it is not
    saturated and the total (3) is already ``replicas + maxSurge``: nothing changes."""
    new = rs("foo-v2", 2, NEWER, 2, 1, available=0)
    assert proportional_scale(2, 1, True, new, [rs("foo-v1", 1, OLD, 2, 1)], 3) == {}


def test_scale_saturated_new_replica_set_scales_the_old_ones_to_zero():
    new = rs("foo-v2", 4, NEWER, 4)
    assert proportional_scale(4, 1, True, new, [rs("foo-v1", 2, OLD, 4, 1)], 6) == {"foo-v1": 0}


def test_scale_Recreate_leaves_several_active_replica_sets_alone():
    new, old = rs("foo-v2", 2, NEWER, 5), rs("foo-v1", 3, OLD, 5)
    assert proportional_scale(10, 0, False, new, [old], 5) == {}


@given(st.integers(0, 30), st.integers(0, 5), st.lists(st.integers(0, 10), min_size=2, max_size=4))
def test_scale_property_total_is_replicas_plus_surge_and_no_negative_size(replicas, surge, sizes):
    """A rolling Deployment with several active ReplicaSets ends with ``replicas + maxSurge`` in all
    (0 when scaled to zero), none negative, every annotation saying the previous total; except
    where the leftover given to the largest ReplicaSet would take it below zero: ``scale()``
    clamps it at 0 (sync.go "if nameToSize[rs.Name] < 0"), and the total stays above."""
    total = sum(sizes)
    sets = [rs(f"v{i}", size, i, total, 0) for i, size in enumerate(sizes)]
    new, olds = sets[-1], sets[:-1]
    got = proportional_scale(replicas, surge, True, new, olds, total)
    after = {r.name: got.get(r.name, r.replicas) for r in sets}
    assert all(size >= 0 for size in after.values())
    if sum(1 for s in sizes if s) > 1 and not (new.replicas == replicas == new.available):
        expected = replicas + surge if replicas else 0
        total = sum(after.values())
        assert total == expected or (total > expected and 0 in after.values())
