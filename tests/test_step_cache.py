"""Transition caching (kspec.simulation.stepcache) changes nothing but speed:
the step map of every state it serves is the one computed from the state
itself, action for action, in the same order, with the same next states and
resourceVersions; checked on every bundled scenario and on random ones."""

from __future__ import annotations

import collections
import pathlib
import tempfile

import pytest
from hypothesis import HealthCheck, assume, given, settings

from kspec.errors import KspecError
from kspec.simulation.scenario import load_scenario
from kspec.simulation.state import State
from kspec.simulation.stepcache import StepCache
from support.profiles import examples
from support.random_scenarios import scenarios
from support.scenarios import MODELS
from support.states import pod, state as make_state
from support.stepping import first_states, scenario as write_scenario
from support.manifests import served_rc

BUNDLED = sorted(p.stem for p in MODELS.glob("*.yaml"))


def _steps(model, state) -> list:
    """``(action, next state, its resourceVersion)`` in the model's order (``rv`` is left out of equality)."""
    return [(a, n, n.rv) for a in model.actions(state) for n in [model.next_state(state, a)]]


def _app(tmp_path, replicas: int) -> pathlib.Path:
    path = tmp_path / "app.yaml"
    path.write_text(served_rc("web", replicas))
    return path


def _compare(path, limit: int) -> tuple[int, int]:
    """Walks up to ``limit`` representatives within the model's boundary,
    breadth first, with the cache on, asserting each step map equals the one
    computed without it; returns the cache's (hits, misses)."""
    cached, plain = load_scenario(path, allow_outside=True), load_scenario(path, allow_outside=True)
    if cached.step_cache is None:
        return 0, 0
    plain.step_cache = None
    start = list(cached.init_states())
    seen = set(start)
    queue = collections.deque(start)
    while queue and len(seen) < limit:
        state = queue.popleft()
        got = _steps(cached, state)
        assert got == _steps(plain, state), f"{path.name}: steps differ at {state}"
        for _, nxt, _ in got:
            rep = cached.representative(nxt)
            if rep not in seen and cached.within_boundary(rep):  # as the explorer cuts
                seen.add(rep)
                queue.append(rep)
    return cached.step_cache.hits, cached.step_cache.misses


@pytest.mark.parametrize("name", BUNDLED)
def test_cached_steps_equal_the_steps_computed_afresh(name):
    _compare(MODELS / f"{name}.yaml", 3000)


def _compare_symmetric(path, limit: int) -> int:
    """Walks up to ``limit`` representatives breadth first, asserting that
    ``symmetric_step_list`` (kept layouts applied to each state's Endpoints)
    gives what canonicalising each step of a cache-less model gives: the same
    indexes, representatives, resourceVersions and actions; returns how many
    states it served through the cache."""
    fused, plain = load_scenario(path, allow_outside=True), load_scenario(path, allow_outside=True)
    if fused.step_cache is None or not hasattr(fused, "symmetric_step_list"):
        return 0
    plain.step_cache = None
    start = [fused.representative(s) for s in fused.init_states()]
    seen = set(start)
    queue = collections.deque(start)
    served = 0
    while queue and len(seen) < limit:
        state = queue.popleft()
        got = fused.symmetric_step_list(state, seen)
        served += fused._actions_state is state
        want = [(i, x if x in seen else plain.representative(x)) for i, x in plain.step_list(state)]
        assert [(i, r, r.rv) for i, r in got] == [(i, r, r.rv) for i, r in want], f"{path.name}: differ at {state}"
        assert fused.actions(state) == plain.actions(state)
        for _, rep in got:
            if rep not in seen and fused.within_boundary(rep):
                seen.add(rep)
                queue.append(rep)
    return served


@pytest.mark.parametrize("name", BUNDLED)
def test_successors_through_kept_layouts_are_the_representatives_of_the_steps(name):
    _compare_symmetric(MODELS / f"{name}.yaml", 3000)


def test_kept_layouts_serve_most_states_of_a_crash_scenario():
    """The comparison above is not vacuous: on myapp-node-crash the cache and
    its kept layouts serve the states it walks."""
    assert _compare_symmetric(MODELS / "myapp-node-crash.yaml", 3000) > 1000


def test_the_cache_serves_most_states_of_a_crash_scenario():
    """The comparison above is not vacuous: on myapp-node-crash most states
    share their non-Endpoints part with an earlier one."""
    hits, misses = _compare(MODELS / "myapp-node-crash.yaml", 3000)
    assert hits > misses > 0


@settings(examples(15), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios())
def test_random_scenarios_step_alike_with_and_without_the_cache(drawn):
    with tempfile.TemporaryDirectory() as tmp:
        path = drawn.write(pathlib.Path(tmp))
        try:
            _compare(path, 400)
            _compare_symmetric(path, 400)
        except KspecError:
            assume(False)


def test_a_new_pod_avoids_a_stale_address_whatever_the_cache_holds(tmp_path):
    """``free_name`` skips addresses of pods already gone (upstream: a fresh
    name never matches an Endpoints address still listed); two states equal
    but for such an address must not share a cached creation."""
    model = write_scenario(tmp_path, "faults: {budget: 0}\nchecks: [service-always-has-endpoint]\n",
                           [_app(tmp_path, 2)])
    world = model.world
    fresh = make_state(world, [pod("web-1", owner=0, node=0, phase="Running", ready=True)])
    stale = State(fresh.pods, fresh.nodes, (("web-0", "web-1"),), fresh.replicas, fresh.memory, fresh.faults,
                  fresh.ops, fresh.rv, fresh.log, fresh.informers, fresh.etcd_down, fresh.status)
    created = {}
    for label, start in (("fresh", fresh), ("stale", stale)):
        created[label] = {p.name for _, nxt, _ in _steps(model, start) for p in nxt.pods} - {"web-1"}
    assert created == {"fresh": {"web-0"}, "stale": {"web-2"}}


@pytest.mark.parametrize("name", ["rc-stale-cache-surplus", "etcd-quorum-loss", "custom-singleton-buggy"])
def test_the_cache_is_off_with_a_modelled_api_server_or_a_user_controller(name):
    """Informer caches, several etcd members, a user's controller: each keeps an
    endpoints controller, so only these rules turn the cache off."""
    model = load_scenario(MODELS / f"{name}.yaml")
    assert any(type(s).__name__ == "EndpointsController" for s in model.sources)
    assert model.step_cache is None


class _WritesEndpoints:
    """A source that (wrongly, for the cache) writes Endpoints."""

    def steps(self, world, state):
        yield "write", State(state.pods, state.nodes, (("x",),), state.replicas, state.memory, state.faults,
                             state.ops, state.rv + 1, state.log, state.informers, state.etcd_down, state.status)


def test_a_cached_source_that_writes_endpoints_is_refused_not_replayed(tmp_path):
    model = write_scenario(tmp_path, "faults: {budget: 0}\nchecks: [rc-replicas-converge]\n", [_app(tmp_path, 1)])
    start = next(iter(model.init_states()))
    with pytest.raises(RuntimeError, match="changed Endpoints"):
        StepCache(model.world, [_WritesEndpoints()]).step_map(start)


def test_a_full_table_drops_its_oldest_half_and_stays_correct(tmp_path):
    app = _app(tmp_path, 2)
    body = "faults: {budget: 1, kinds: [node-crash]}\nchecks: [service-always-has-endpoint]\n"
    model, plain = write_scenario(tmp_path, body, [app]), write_scenario(tmp_path, body, [app], name="t.yaml")
    plain.step_cache = None
    model.step_cache.limit = 4
    states = first_states(plain, 200)
    for state in states:
        assert _steps(model, state) == _steps(plain, state)
        assert len(model.step_cache.table) <= 4
    assert len(states) > 20 and model.step_cache.misses > 4
