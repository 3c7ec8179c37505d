"""Library checks memoised on the state fields they read (``_memoised`` in
kspec.simulation.properties) give, on every state, what the same check built
afresh gives: states that share a pod list but differ in their nodes,
replicas, Endpoints or faults get their own values, so the memo's key names
every field the check reads."""

from __future__ import annotations

import collections

import attrs
import pytest

from kspec.simulation.properties import LIBRARY, build
from kspec.simulation.scenario import load_scenario
from kspec.simulation.state import NodeRec
from support.scenarios import MODELS

MEMOISED = ["rc-replicas-converge", "rc-never-exceeds-replicas", "at-most-replicas-running", "replacement-created",
            "no-overcommit", "scheduler-binds-only-feasible"]


def _states(limit: int) -> list:
    """The first ``limit`` representatives of a crash scenario, each with
    variants that keep its pods: one replica fewer and more, a node with
    orphaned containers of every template, a node down."""
    model = load_scenario(MODELS / "myapp-node-crash.yaml")
    seen, queue, out = set(), collections.deque(model.init_states()), []
    while queue and len(seen) < limit:
        state = queue.popleft()
        out.append(state)
        for delta in (-1, 1):
            out.append(attrs.evolve(state, replicas=tuple(None if r is None else max(0, r + delta)
                                                          for r in state.replicas)))
        orphans = tuple(range(len(model.world.groups))) * 2
        out.append(attrs.evolve(state, nodes=(NodeRec(orphans=orphans),) + state.nodes[1:]))
        out.append(attrs.evolve(state, nodes=(NodeRec(up=False),) + state.nodes[1:]))
        for _, nxt in model.step_list(state):
            rep = model.representative(nxt)
            if rep not in seen:
                seen.add(rep)
                queue.append(rep)
    return model.world, out


@pytest.mark.parametrize("name", MEMOISED)
def test_a_memoised_check_equals_the_check_built_afresh_on_every_state(name):
    assert name in LIBRARY
    world, states = _states(400)
    warm = build(world, frozenset(), name).condition
    values = set()
    for state in states:
        fresh = build(world, frozenset(), name).condition
        assert warm(state) == fresh(state), state
        values.add(fresh(state))
    assert values == {True, False} or name in ("no-overcommit", "scheduler-binds-only-feasible")
