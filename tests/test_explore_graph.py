"""The explorer's liveness bookkeeping: the flat edge arrays, the filtered
views Tarjan reads, and the id-based seen-set, checked against plain lists
and against the store used for safety-only runs."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import Explorer, _Edges, _tarjan
from kspec.simulation.modelfile import load_model
from kspec.checker.trace import replay

RC = pathlib.Path(__file__).resolve().parent.parent / "models" / "reference" / "rc_converge.py"


@st.composite
def graphs(draw):
    """(adjacency as lists of (target, actor) or None when not expanded, allowed flags)."""
    n = draw(st.integers(1, 12))
    adj = []
    for _ in range(n):
        if draw(st.booleans()) and draw(st.booleans()):
            adj.append(None)
        else:
            adj.append(draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 5)), max_size=5)))
    allowed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return adj, allowed


def _flat(adj) -> _Edges:
    edges = _Edges()
    order = list(range(len(adj)))
    order.reverse()  # slices need not be in id order (depth-first expansion)
    for _ in adj:
        edges.first.append(-1)
        edges.last.append(-1)
    for i in order:
        if adj[i] is not None:
            edges.first[i] = len(edges.flat)
            for j, b in adj[i]:
                edges.flat.append(j << 16 | b)
            edges.last[i] = len(edges.flat)
    return edges


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_views_and_their_components_match_plain_lists(case):
    adj, allowed = case
    edges = _flat(adj)
    whole = edges.view()
    sub = edges.view(allowed)
    plain_sub = [None if e is None or not allowed[i] else [(j, b) for j, b in e if allowed[j]] for i, e in enumerate(adj)]
    assert [whole[i] for i in range(len(adj))] == adj
    assert [sub[i] for i in range(len(adj))] == plain_sub
    assert [edges.expanded(i) for i in range(len(adj))] == [e is not None for e in adj]
    for view, plain in ((whole, adj), (sub, plain_sub)):
        targets = [None if e is None else [j for j, _ in e] for e in plain]
        assert [view.targets(i) for i in range(len(adj))] == targets
        assert [view.loops(i) for i in range(len(adj))] == [t is not None and i in t for i, t in enumerate(targets)]
        assert _tarjan(view.targets, len(adj)) == _tarjan(targets.__getitem__, len(adj))
        assert sorted(map(sorted, _tarjan(view.targets, len(adj)))) == _components(targets)


def _components(targets: list) -> list[list[int]]:
    """Strongly connected components by reachability, independent of Tarjan's algorithm."""
    n = len(targets)
    reach = [{i} for i in range(n)]
    for i in range(n):
        todo = [i]
        while todo:
            for j in targets[todo.pop()] or ():
                if j not in reach[i]:
                    reach[i].add(j)
                    todo.append(j)
    return sorted(sorted(j for j in range(n) if j in reach[i] and i in reach[j]) for i in range(n)
                  if min(j for j in range(n) if j in reach[i] and i in reach[j]) == i)


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_graph_store_gives_the_same_states_and_traces_as_the_plain_store(strategy):
    """Asking for a liveness property switches to the id store; the safety
    results (counts, the ``sometimes`` example) must not change."""
    m = load_model(RC, {"N": 2, "R": 2, "F": 2})
    plain = Explorer(m, properties=["surplus-reachable"], strategy=strategy, progress=False).run()
    graph = Explorer(m, properties=["surplus-reachable", "converges"], strategy=strategy, progress=False).run()
    assert graph.stats.distinct_states == plain.stats.distinct_states == 3655
    assert graph.stats.transitions == plain.stats.transitions
    assert graph["surplus-reachable"].trace.to_json() == plain["surplus-reachable"].trace.to_json()
    assert len(plain["surplus-reachable"].trace) > 0


def test_lassos_found_under_a_state_bound_replay():
    """``max_states`` stops the search inside an expansion: a lasso found in
    the explored part is still genuine (it replays, its cycle closes, it
    starts at a state breaking the goal)."""
    m = load_model(RC, {"N": 2, "R": 2, "F": 2})
    prop = next(p for p in m.properties() if p.name == "converges")
    violated = 0
    for bound in (40, 41, 300, 1001, 2000):
        res = Explorer(m, properties=["converges"], max_states=bound, progress=False).run()
        assert res.stats.distinct_states == bound
        trace = res["converges"].trace
        if trace is None:
            continue
        violated += 1
        states = [step.state for step in trace.steps]
        replayed = replay(m, [step.action for step in trace.steps[1:]], initial=states[0])
        assert [step.state for step in replayed.steps] == states
        assert not prop.condition(states[trace.cycle_start])
        assert states[-1] == states[trace.cycle_start]
    assert violated
