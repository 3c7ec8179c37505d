"""Informer caches fed by the watch stream (kspec.simulation.informer).

What client-go's reflector and DeltaFIFO guarantee, checked on generated
histories: a cache is the API's pods as of some earlier point of the stream,
never further behind than the scenario's staleness; delivering every event
brings it level; a lost event keeps the old object until the pod's next event
or a relist; handlers see events relative to the cache (``processDeltas``).
"""

from __future__ import annotations

import types

from hypothesis import given, settings, strategies as st

from kspec.simulation.informer import (Consistency, Event, InformerRec, cached_pods, deliver, drop_next, pod_events,
                                       record_events, relist)
from kspec.simulation.state import PENDING, RUNNING, PodRec, State


class Recorder:
    """An informed controller whose handlers record what they are given."""

    actor = "recorder"

    def __init__(self):
        self.seen: list[Event] = []

    def observe(self, world, state, event):
        self.seen.append(event)
        return state


def world_with(staleness: int, *, time_travel: bool = False):
    recorder = Recorder()
    world = types.SimpleNamespace(consistency=Consistency(staleness, ("recorder",), time_travel=time_travel),
                                  informed=(recorder,), informer_slots={"recorder": 0})
    return world, recorder


def state_of(pods) -> State:
    return State(pods=tuple(sorted(pods)), nodes=(), endpoints=(), replicas=(), informers=(InformerRec(),))


def pod(name: str, phase: str = PENDING, node: int = -1) -> PodRec:
    return PodRec(name=name, group=0, node=node, phase=phase, ready=phase == RUNNING)


# a history: each step replaces the pod list by one built from (name, phase) choices
pod_lists = st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from([PENDING, RUNNING])), max_size=4).map(
    lambda items: tuple(sorted({name: pod(name, phase, 0 if phase == RUNNING else -1)
                                for name, phase in items}.values())))


@settings(max_examples=150, deadline=None)
@given(history=st.lists(pod_lists, min_size=1, max_size=6), staleness=st.integers(0, 3),
       deliveries=st.lists(st.booleans(), max_size=6))
def test_a_cache_is_an_earlier_api_state_never_more_than_staleness_events_behind(history, staleness, deliveries):
    """client-go reflector: the store applies the watch's events in order, so
    a cache always equals the API as of some event; bounded staleness caps how far back."""
    world, _ = world_with(staleness)
    state = state_of(())
    snapshots = [state.pods]  # the API's pods after each event, in stream order
    for pods, deliver_now in zip(history, deliveries + [False] * len(history)):
        after = State(pods, (), (), (), informers=state.informers, log=state.log)
        events = pod_events(state.pods, pods)
        current = dict((p.name, p) for p in snapshots[-1])
        for event in events:
            if event.after is None:
                current.pop(event.name)
            else:
                current[event.name] = event.after
            snapshots.append(tuple(sorted(current.values())))
        state = record_events(world, state, after)
        if deliver_now and state.informers[0].lag:
            state = deliver(world, state, 0)
        lag = state.informers[0].lag
        assert lag <= staleness
        assert cached_pods(state, 0) == snapshots[len(snapshots) - 1 - lag]
        assert len(state.log) == lag  # only what some cache still needs is kept
    while state.informers[0].lag:
        state = deliver(world, state, 0)
    assert cached_pods(state, 0) == state.pods


def test_a_lost_event_keeps_the_old_object_until_the_pods_next_event():
    world, recorder = world_with(2)
    state = state_of([pod("a")])
    running = state_of([pod("a", RUNNING, 0)])
    state = record_events(world, state, State(running.pods, (), (), (), informers=state.informers))
    state = drop_next(world, state, 0)  # the MODIFIED a (Pending -> Running) is lost
    assert cached_pods(state, 0) == (pod("a"),) and state.informers[0].missed == (("a", pod("a")),)
    assert recorder.seen == []
    gone = State((), (), (), (), informers=state.informers, log=state.log)
    state = record_events(world, state, gone)
    assert cached_pods(state, 0) == (pod("a"),)  # the DELETED a not yet delivered: still the old object
    state = deliver(world, state, 0)
    assert cached_pods(state, 0) == () and state.informers[0] == InformerRec()
    (event,) = recorder.seen
    assert event == Event("a", pod("a"), None)  # processDeltas: OnDelete gets the object the cache held


def test_an_update_of_an_object_the_cache_lacks_reaches_the_handlers_as_an_add():
    """client-go processDeltas: Updated on an object not in the indexer calls OnAdd."""
    world, recorder = world_with(2)
    state = state_of([])
    state = record_events(world, state, State((pod("a"),), (), (), (), informers=state.informers))
    state = drop_next(world, state, 0)  # ADDED a lost
    later = State((pod("a", RUNNING, 0),), (), (), (), informers=state.informers, log=state.log)
    state = record_events(world, state, later)
    state = deliver(world, state, 0)
    assert recorder.seen == [Event("a", None, pod("a", RUNNING, 0))]
    assert cached_pods(state, 0) == (pod("a", RUNNING, 0),)


def test_a_relist_replaces_the_cache_and_reports_the_differences():
    """Reflector ListAndWatch after a broken watch: Replace, with deletions of
    what the cache held and the API no longer has."""
    world, recorder = world_with(2)
    state = state_of([pod("a")])
    state = record_events(world, state, State((pod("b"),), (), (), (), informers=state.informers))
    state = drop_next(world, state, 0)  # DELETED a lost
    state = drop_next(world, state, 0)  # ADDED b lost
    assert cached_pods(state, 0) == (pod("a"),)
    state = relist(world, state, 0)
    assert cached_pods(state, 0) == (pod("b"),) and state.informers[0] == InformerRec()
    assert sorted(recorder.seen) == sorted([Event("a", pod("a"), None), Event("b", None, pod("b"))])


def test_a_new_process_lists_every_pod_as_added():
    world, recorder = world_with(1)
    state = state_of([pod("a"), pod("b")])
    relist(world, state, 0, new_process=True)
    assert recorder.seen == [Event("a", None, pod("a")), Event("b", None, pod("b"))]


def test_time_travel_keeps_the_last_events_for_a_restart_to_list_behind():
    """kubernetes#59848: a restarted controller may list from an API server
    whose watch cache is behind; the last ``staleness`` events stay on the state."""
    world, _ = world_with(1, time_travel=True)
    state = state_of([])
    state = record_events(world, state, State((pod("a"),), (), (), (), informers=state.informers))
    state = deliver(world, state, 0)
    assert len(state.log) == 1  # kept although every cache has it
    behind = relist(world, state, 0, lag=1, new_process=True)
    assert cached_pods(behind, 0) == ()  # the lagging API server has not seen pod a yet
