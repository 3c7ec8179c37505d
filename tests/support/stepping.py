"""Stepping a scenario model by hand: the enabled steps of a state, one step
of a given kind, a path of steps named by their ``repr``, and a scenario
file written for one test."""

from __future__ import annotations

import collections
import pathlib

from kspec.checker.model import successors
from kspec.simulation.scenario import load_scenario


def kinds(trace) -> list[str]:
    """The action class names of a trace's steps."""
    return [type(action).__name__ for action in trace.actions]


def operator(model):
    """The scenario's one user controller."""
    custom, = [c for c in model.controllers if not type(c).__module__.startswith("kspec.")]
    return custom


def enabled(model, state) -> dict:
    """``repr(action) -> next state`` for every step enabled in ``state``."""
    return {repr(action): model.next_state(state, action) for action in model.actions(state)}


def follow(model, actions) -> list:
    """The states ``model`` goes through taking the steps whose ``repr`` are
    ``actions`` from its one initial state (each must be enabled)."""
    start, = model.init_states()
    states = [start]
    for action in actions:
        steps = enabled(model, states[-1])
        assert action in steps, f"{action} is not enabled; enabled: {sorted(steps)}"
        states.append(steps[action])
    return states


def step(model, state, kind, **fields):
    """The one enabled step of type ``kind`` (with these field values) and the state after it."""
    for action in model.actions(state):
        if isinstance(action, kind) and all(getattr(action, k) == v for k, v in fields.items()):
            return action, model.next_state(state, action)
    raise AssertionError(f"no {kind.__name__} step enabled")


def scenario(tmp_path: pathlib.Path, body: str, manifests, nodes: int = 2, name: str = "s.yaml"):
    """The model of a scenario written into ``tmp_path``: ``manifests`` (paths),
    ``nodes`` nodes of cpu=2, memory=4Gi, and ``body`` (the rest of the file)."""
    path = tmp_path / name
    listed = ", ".join(str(m) for m in manifests)
    path.write_text(f"name: s\nmanifests: [{listed}]\nnodes: [\"{nodes}:cpu=2,memory=4Gi\"]\n{body}")
    return load_scenario(path, allow_outside=True)


def first_states(model, limit: int) -> list:
    """Up to ``limit`` states reachable from the model's initial states,
    breadth first, on its plain successors (no symmetry, no reduction)."""
    seen = dict.fromkeys(model.init_states())
    queue = collections.deque(seen)
    while queue and len(seen) < limit:
        for _, _, nxt in successors(model, queue.popleft()):
            if nxt not in seen:
                seen[nxt] = None
                queue.append(nxt)
    return list(seen)[:limit]


def reachable_steps(model):
    """Every ``(state, action, next state)`` from the states ``model``
    reaches up to symmetry, breadth first (``state`` a representative,
    ``next state`` as the step left it)."""
    seen = set(model.init_states())
    queue = collections.deque(seen)
    while queue:
        state = queue.popleft()
        for action in model.actions(state):
            nxt = model.next_state(state, action)
            yield state, action, nxt
            canonical = model.representative(nxt)
            if canonical not in seen:
                seen.add(canonical)
                queue.append(canonical)


def reachable_states(model):
    """Every state ``model`` reaches up to symmetry (representatives), breadth first."""
    seen = set(model.init_states())
    yield from seen
    for _, _, nxt in reachable_steps(model):
        canonical = model.representative(nxt)
        if canonical not in seen:
            seen.add(canonical)
            yield canonical
