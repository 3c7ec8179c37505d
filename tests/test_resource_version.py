"""Preconditions checked as upstream checks resourceVersions, for writes of a pod read from a cache.

Every write of an object bumps its ``metadata.resourceVersion``
(``storage/etcd3/store.go``: the object's version is the etcd revision of
its last write), and a PUT, or a DELETE with ``DeleteOptions.preconditions``,
carrying an older one is refused with 409 Conflict
(``rest.BeforeDelete``, ``storage.Preconditions.Check``). The state keeps no
resourceVersions; given the cache a pod was read from
(``reader=(world, controller)``), :func:`written_since_cached` tells the
same thing from the watch stream: the pod was written after the cache's copy
exactly when one of the events that cache has not received, or one it
missed, is the pod's. Checked here against a per-object version counter on
generated write histories, and on the two cases record comparison gets
wrong: a pod changed and changed back, and one deleted and made again.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, strategies as st

from kspec.simulation.controllers.protocol import Conflict, delete_cached_pod, update_cached_pod
from kspec.simulation.informer import Event, InformerRec, api_record, informer_index, written_since_cached
from kspec.simulation.state import NOT_RUNNING, PENDING
from support.scenarios import explored

FIXED = "sieve-stale-delete-fixed"  # the pod reaper reads a cache and deletes with preconditions


def reaper_world():
    """The fixed reaper's model, its controller, and its start state (``web-0`` Running and Ready)."""
    model, _ = explored(FIXED)
    start, = model.init_states()
    reaper = next(c for c in model.controllers if c.actor == "pod-reaper")
    return model.world, reaper, start


def after_writes(world, start, records, lag: int):
    """``start`` after ``web-0`` was written as each of ``records`` in turn
    (None: deleted), with the reaper's cache ``lag`` of those events behind."""
    pod, = start.pods
    events, now = [], api_record(pod)
    for record in records:
        after = None if record is None else pod._replace(**record)
        events.append(Event(pod.name, now, api_record(after)))
        now = api_record(after)
    k = informer_index(world, "pod-reaper")
    informers = list(start.informers)
    informers[k] = InformerRec(lag=lag)
    pods = () if now is None else (pod._replace(**records[-1]),)
    return attrs.evolve(start, pods=pods, log=tuple(events), informers=tuple(informers))


def test_a_pod_changed_and_changed_back_is_a_conflict_for_the_cache_that_missed_both_writes():
    """Not Ready, then Ready again: the record is the one the lagging cache
    holds, but two writes bumped the resourceVersion, so the DELETE with
    preconditions is refused; by records alone it would go through."""
    world, reaper, start = reaper_world()
    seen, = start.pods
    state = after_writes(world, start, [{"ready": False}, {"ready": True}], lag=2)
    assert state.pods == start.pods
    with pytest.raises(Conflict):
        delete_cached_pod(state, seen, preconditions=True, reader=(world, reaper))
    assert delete_cached_pod(state, seen, preconditions=True).pods[0].deleting


def test_a_cache_that_received_the_writes_reads_the_current_version():
    """Once the cache has both events its copy is the current object: no Conflict."""
    world, reaper, start = reaper_world()
    seen, = start.pods
    state = after_writes(world, start, [{"ready": False}, {"ready": True}], lag=0)
    assert delete_cached_pod(state, seen, preconditions=True, reader=(world, reaper)).pods[0].deleting


def test_a_pod_deleted_and_made_again_with_the_same_record_is_a_conflict():
    """A replacement under the same name has a new UID ("the object might
    have been deleted and then recreated"), whatever its record."""
    world, reaper, start = reaper_world()
    seen, = start.pods
    fresh = {"node": -1, "phase": PENDING, "ready": False, "run": NOT_RUNNING}
    original = {f: getattr(seen, f) for f in fresh}
    state = after_writes(world, start, [None, fresh, original], lag=3)
    with pytest.raises(Conflict):
        delete_cached_pod(state, seen, preconditions=True, reader=(world, reaper))


def test_an_update_from_a_cache_that_missed_an_event_is_a_conflict():
    """A cache holding a record whose event a broken watch lost holds an old version."""
    world, reaper, start = reaper_world()
    seen, = start.pods
    k = informer_index(world, "pod-reaper")
    informers = list(start.informers)
    informers[k] = InformerRec(missed=((seen.name, seen),))
    state = attrs.evolve(start, informers=tuple(informers))
    with pytest.raises(Conflict):
        update_cached_pod(state, seen, reader=(world, reaper), ready=False)
    assert update_cached_pod(state, seen, ready=False).pods[0].ready is False


@given(st.lists(st.sampled_from(["web-0", "web-1"]), max_size=8), st.data())
def test_written_since_cached_is_a_resource_version_comparison(written, data):
    """On any history of writes to two pods and any cache lag (and, or not, a
    missed event): the pod was written since the cache's copy iff its
    per-object version, bumped by each of its writes as etcd's revision is,
    differs between the cache's copy and now."""
    world, _, start = reaper_world()
    pod, = start.pods
    record = api_record(pod)
    lag = data.draw(st.integers(0, len(written)))
    missed = data.draw(st.sets(st.sampled_from(["web-0", "web-1"])))
    k = informer_index(world, "pod-reaper")
    informers = list(start.informers)
    informers[k] = InformerRec(lag=lag, missed=tuple((name, pod) for name in sorted(missed)))
    log = tuple(Event(name, record, record) for name in written)
    state = attrs.evolve(start, log=log, informers=tuple(informers))
    for name in ("web-0", "web-1"):
        version_now = written.count(name)
        version_cached = written[:len(written) - lag].count(name)
        stale = version_cached != version_now or name in missed  # a lost event: the copy is older still
        assert written_since_cached(world, state, "pod-reaper", name) == stale
