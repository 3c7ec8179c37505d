"""The reference model rc_converge: pinned state counts cross-checked by an
independent brute-force enumerator, exact orbit counts under symmetry, the
issue's verdicts and the shape of its lasso counterexamples."""

from __future__ import annotations

import itertools
import pathlib

import pytest

from kspec.checker.explore import explore
from kspec.checker.model import Verdict
from kspec.simulation.modelfile import load_model
from kspec.checker.trace import replay

MODEL = pathlib.Path(__file__).resolve().parent.parent / "models" / "reference" / "rc_converge.py"


def model(N, R, F):
    return load_model(MODEL, {"N": N, "R": R, "F": F})


# -- an independent enumerator, written from the text ------------------------


def brute_force_states(N, R, F):
    """Every reachable (statuses, nodes, up, faults), by the issue's rules, with plain tuples."""
    P = R + 2

    def succ(state):
        st, nd, up, f = state
        out = []

        def put(i, s, n=0):
            return st[:i] + (s,) + st[i + 1 :], nd[:i] + (n,) + nd[i + 1 :]

        count = sum(s in ("Pending", "Running") for s in st)
        for i in range(P):
            if count < R and st[i] == "Absent":
                out.append((*put(i, "Pending"), up, f))
            if count > R and st[i] in ("Pending", "Running"):
                out.append((*put(i, "Terminating"), up, f))
            if st[i] == "Pending":
                out += [(*put(i, "Running", k + 1), up, f) for k in range(N) if up[k]]
            if st[i] == "Terminating":
                out.append((*put(i, "Absent"), up, f))
            if st[i] == "Running" and not up[nd[i] - 1]:
                out.append((*put(i, "Unresponsive", nd[i]), up, f))
        if f < F:
            for k in range(N):
                flipped = up[:k] + (not up[k],) + up[k + 1 :]
                if up[k]:
                    out.append((st, nd, flipped, f + 1))
                else:
                    back = tuple("Running" if s == "Unresponsive" and n == k + 1 else s for s, n in zip(st, nd))
                    out.append((back, nd, flipped, f + 1))
            for i in range(P):
                if st[i] == "Running" and up[nd[i] - 1]:
                    out.append((*put(i, "Unresponsive", nd[i]), up, f + 1))
                if st[i] == "Unresponsive" and up[nd[i] - 1]:
                    out.append((*put(i, "Running", nd[i]), up, f + 1))
        return out

    init = (("Absent",) * P, (0,) * P, (True,) * N, 0)
    seen, todo = {init}, [init]
    while todo:
        for t in succ(todo.pop()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def brute_force_orbits(states, N, R):
    """Equivalence classes under every permutation of slots and of nodes."""
    P = R + 2
    classes = set()
    node_perms = list(itertools.permutations(range(1, N + 1)))
    slot_perms = list(itertools.permutations(range(P)))
    for st, nd, up, f in states:
        images = []
        for pn in node_perms:  # node k+1 becomes pn[k]
            new_nd = tuple(pn[n - 1] if n else 0 for n in nd)
            new_up = [None] * N
            for k in range(N):
                new_up[pn[k] - 1] = up[k]
            for ps in slot_perms:
                images.append((tuple(st[i] for i in ps), tuple(new_nd[i] for i in ps), tuple(new_up), f))
        classes.add(min(images))
    return len(classes)


def as_tuple(s):
    return (s.status, s.node, s.up, s.faults)


def test_877_states_for_n2_r2_f1():
    result = explore(model(2, 2, 1))
    assert result.stats.distinct_states == 877
    assert len(brute_force_states(2, 2, 1)) == 877


PINNED = {  # (N, R, F): (distinct states, orbits); the orbits column is checked by brute force below
    (2, 2, 1): (877, 42),
    (2, 2, 2): (3655, 165),
    (3, 2, 1): (2168, 46),
    (2, 3, 1): (5848, 94),
}


@pytest.mark.slow
@pytest.mark.parametrize("size", sorted(PINNED))
def test_pinned_counts_and_exact_orbits(size):
    N, R, F = size
    states = brute_force_states(N, R, F)
    m = model(N, R, F)
    plain = explore(m, properties=["running-at-most-r-plus-1"])
    reduced = explore(m, properties=["running-at-most-r-plus-1"], symmetry=True)
    assert (plain.stats.distinct_states, reduced.stats.distinct_states) == PINNED[size]
    assert len(states) == PINNED[size][0]
    assert brute_force_orbits(states, N, R) == PINNED[size][1]


def test_explored_states_are_exactly_the_brute_force_states():
    m = model(2, 2, 2)
    from kspec.checker.explore import _Run, Space, Explorer

    run = _Run(Explorer(m), m.properties()[:1], Space(m, False, True))
    run.run()
    assert {as_tuple(m.decode(k)) for k in run.store.parent} == brute_force_states(2, 2, 2)


def test_packed_fast_path_agrees_with_the_plain_protocol():
    m = model(2, 2, 2)
    for symmetry in (False, True):
        fast = explore(m, symmetry=symmetry)
        slow = explore(m, symmetry=symmetry, packed=False)
        assert fast.stats.distinct_states == slow.stats.distinct_states
        assert [r.verdict for r in fast.properties] == [r.verdict for r in slow.properties]
        assert [r.trace and len(r.trace) for r in fast.properties] == [r.trace and len(r.trace) for r in slow.properties]


def test_packed_steps_and_predicates_agree_state_by_state():
    m = model(2, 2, 2)
    props = m.properties()
    for st in brute_force_states(2, 2, 2):
        from models.reference.rc_converge import RCState

        state = RCState(*st)
        key = m.encode(state)
        assert m.decode(key) == state
        plain = sorted((i, m.encode(nxt)) for i, a in enumerate(m.actions(state)) if (nxt := m.next_state(state, a)))
        assert sorted(m.encoded_steps(key)) == plain
        for prop in props:
            assert prop.condition(state) == prop.encoded(key), prop.name


def test_symmetric_steps_keep_every_successor_orbit_and_actor():
    m = model(3, 3, 2)
    table = m.actions(None)
    canon, steps = m.encoded_representative, m.encoded_steps
    root = canon(m.encode(m.init_states()[0]))
    seen, todo = {root}, [root]
    while todo:
        key = todo.pop()
        reduced = m.encoded_symmetric_steps(key)
        full = {(table[i].actor, canon(x)) for i, x in steps(key)}
        assert {(table[i].actor, x) for i, x in reduced} == full
        for _, x in reduced:
            if x not in seen:
                seen.add(x)
                todo.append(x)
    assert len(seen) == explore(m, properties=["surplus-reachable"], symmetry=True).stats.distinct_states


# -- the verdicts -----------------------------------------------------------------


def verdicts(result):
    return {r.name: r.verdict.value for r in result.properties}


def test_f1_safety_holds_and_surplus_needs_two_faults():
    v = verdicts(explore(model(2, 2, 1)))
    assert v == {
        "running-at-most-r-plus-1": "holds",
        "no-overshoot-before-two-faults": "holds",
        "surplus-reachable": "violated",
        "surplus-removed": "holds",
        "converges": "holds",
    }


def test_f2_overshoot_shortest_trace():
    m = model(2, 2, 2)
    res = explore(m, properties=["running-at-most-r-plus-1", "no-overshoot-before-two-faults"])
    assert res["no-overshoot-before-two-faults"].verdict is Verdict.HOLDS
    trace = res["running-at-most-r-plus-1"].trace
    assert len(trace) == 12  # both pods stranded on one node, replaced, then the node comes back
    assert trace.last.running == 4
    assert replay(m, trace.actions).last == trace.last
    reduced = explore(m, properties=["running-at-most-r-plus-1"], symmetry=True)
    assert len(reduced["running-at-most-r-plus-1"].trace) == 12
    assert replay(m, reduced["running-at-most-r-plus-1"].trace.actions).last.running == 4


def test_converges_holds_for_n3_r2_f1():
    res = explore(model(3, 2, 1), properties=["converges", "surplus-removed"], symmetry=True)
    assert verdicts(res) == {"converges": "holds", "surplus-removed": "holds"}


@pytest.mark.parametrize("symmetry", [False, True])
def test_converges_violated_n3_r3_f1_three_pods_stranded(symmetry):
    m = model(3, 3, 1)
    res = explore(m, properties=["converges", "surplus-removed"], symmetry=symmetry)
    assert res["surplus-removed"].verdict is Verdict.HOLDS
    lasso = res["converges"]
    assert lasso.verdict is Verdict.VIOLATED
    end = lasso.trace.steps[lasso.cycle_start].state
    assert lasso.cycle_start == len(lasso.trace)  # stays there forever: no controller is enabled
    down = [k + 1 for k, up in enumerate(end.up) if not up]
    assert len(down) == 1
    stranded = [i for i, (s, n) in enumerate(zip(end.status, end.node)) if s == "Unresponsive" and n == down[0]]
    assert len(stranded) == 3
    assert end.running == 2 and end.faults == 1  # and no slot left to create the third replica
    assert replay(m, lasso.trace.actions).last == end


def test_converges_violated_n2_r2_f2_both_nodes_down():
    m = model(2, 2, 2)
    lasso = explore(m, properties=["converges"], symmetry=True)["converges"]
    assert lasso.verdict is Verdict.VIOLATED
    end = lasso.trace.last
    assert end.up == (False, False) and end.running == 0
    assert lasso.cycle_start == len(lasso.trace)
    assert replay(m, lasso.trace.actions).last == end


def test_n3_r5_f3_with_symmetry_all_properties():
    res = explore(model(3, 5, 3), symmetry=True)
    assert res.stats.distinct_states == 5628
    assert verdicts(res) == {
        "running-at-most-r-plus-1": "violated",
        "no-overshoot-before-two-faults": "holds",
        "surplus-reachable": "holds",
        "surplus-removed": "holds",
        "converges": "violated",
    }
