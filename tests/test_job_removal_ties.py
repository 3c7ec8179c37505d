"""Which pods ``manageJob`` deletes when upstream's ordering cannot tell them apart.

``activePodsForRemoval`` sorts with ``controller.ActivePods``: unscheduled
before scheduled, Pending before Unknown before Running, not Ready before
Ready, more restarts first, then how long Ready, creation time and UID, and
deletes the first. The model keeps none of the last three, so pods equal in
the rest are tied, and every way of taking the tied ones is a behaviour of
the controller (``removal_alternatives``): the job controller's sync branches
over them, as the replication manager's ``getPodsToDelete`` does. Without it
the choice followed generated names, which symmetry reduction renumbers.
"""

from __future__ import annotations

import math

from hypothesis import given, strategies as st

from kspec.simulation.controllers.jobmath import JobPod, JobSpec, active_pods_for_removal, removal_alternatives
from kspec.simulation.state import PENDING, RUNNING

PODS = st.lists(st.builds(lambda phase, ready, scheduled, restarts, index: (phase, ready and phase == RUNNING,
                                                                         scheduled, restarts, index),
                          st.sampled_from([PENDING, RUNNING]), st.booleans(), st.booleans(), st.integers(0, 1),
                          st.integers(0, 2)),
                min_size=1, max_size=6)


def pods_of(drawn) -> list[JobPod]:
    return [JobPod(f"p{i}", phase, ready=ready, scheduled=scheduled, restarts=restarts, index=index)
            for i, (phase, ready, scheduled, restarts, index) in enumerate(drawn)]


def rank(pod: JobPod) -> tuple:
    """``ActivePods``' comparison as far as the model keeps it."""
    return pod.scheduled, {PENDING: 0, RUNNING: 2}[pod.phase], pod.ready, -pod.restarts


@given(PODS, st.data())
def test_every_alternative_is_an_order_activePods_allows(drawn, data):
    """Work queue Jobs: each alternative deletes as many pods, and never keeps
    a pod that sorts strictly before one it deletes; all such sets are there."""
    pods = pods_of(drawn)
    spec = JobSpec(parallelism=len(pods), completions=None)
    count = data.draw(st.integers(1, len(pods)))
    chosen = tuple(sorted(p.name for p in active_pods_for_removal(spec, pods, count)))
    alternatives = removal_alternatives(spec, pods, chosen)
    assert alternatives[0] == chosen and len(set(alternatives)) == len(alternatives)
    by_name = {p.name: p for p in pods}
    for names in alternatives:
        kept = [p for p in pods if p.name not in names]
        assert len(names) == count
        assert all(rank(by_name[n]) <= rank(k) for n in names for k in kept)
    boundary = rank(by_name[max(chosen, key=lambda n: rank(by_name[n]))])
    tied = [p for p in pods if rank(p) == boundary]
    taken = sum(1 for n in chosen if rank(by_name[n]) == boundary)
    assert len(alternatives) == math.comb(len(tied), taken)


@given(PODS)
def test_an_indexed_job_keeps_one_pod_per_index_any_of_the_tied_ones(drawn):
    """``appendDuplicatedIndexPodsForRemoval``: of several pods with one index
    all but one go; among pods tied for the one kept, any may stay."""
    pods = pods_of(drawn)
    spec = JobSpec(parallelism=3, completions=3, indexed=True)
    chosen = tuple(sorted(p.name for p in active_pods_for_removal(spec, pods, 0)))
    alternatives = removal_alternatives(spec, pods, chosen) if chosen else [()]
    for names in alternatives:
        kept = [p for p in pods if p.name not in names]
        assert sorted(p.index for p in kept) == sorted({p.index for p in pods})
        for index in {p.index for p in pods}:
            group = [p for p in pods if p.index == index]
            keeper, = [p for p in kept if p.index == index]
            assert all(rank(p) <= rank(keeper) for p in group)
