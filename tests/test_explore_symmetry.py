"""Symmetry reduction never changes a verdict: Hypothesis-generated small models
of interchangeable processes, checked with and without it; the reduced count
is the number of orbits."""

from __future__ import annotations

from typing import ClassVar

import attrs
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import explore
from kspec.checker.model import Action, always, eventually_always, leads_to, sometimes


@attrs.frozen
class Move(Action):
    actor: ClassVar[str] = "proc"
    proc: int
    target: int


@attrs.frozen
class Glitch(Action):
    actor: ClassVar[str] = "fault"
    proc: int
    target: int


@attrs.frozen
class Procs:
    """K interchangeable processes, each in a local state 0..L-1. ``moves`` are
    (from, to, needs) triples: a process may go from ``from`` to ``to`` when at
    most ``needs`` other processes are at ``to``; ``glitches`` likewise, as faults."""

    k: int
    moves: tuple
    glitches: tuple
    limit: int
    target: int

    def init_states(self):
        return [(0,) * self.k]

    def actions(self, s):
        acts = []
        for p in range(self.k):
            acts += [Move(p, i) for i in range(len(self.moves))]
            acts += [Glitch(p, i) for i in range(len(self.glitches))]
        return acts

    def next_state(self, s, a):
        src, dst, needs = (self.moves if isinstance(a, Move) else self.glitches)[a.target]
        if s[a.proc] != src or sum(1 for q, v in enumerate(s) if q != a.proc and v == dst) > needs:
            return None
        return tuple(dst if q == a.proc else v for q, v in enumerate(s))

    def properties(self):
        t, lim = self.target, self.limit
        return [
            always("few-at-target", lambda s: s.count(t) <= lim),
            sometimes("all-at-target", lambda s: s.count(t) == self.k),
            eventually_always("none-at-zero", lambda s: 0 not in s, fair={"proc"}),
            leads_to("zero-leads-to-target", lambda s: 0 in s, lambda s: t in s, fair={"proc"}),
        ]

    def within_boundary(self, s):
        return True

    def representative(self, s):
        return tuple(sorted(s))


transitions = st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2))


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 3),
    moves=st.lists(transitions, min_size=1, max_size=5).map(tuple),
    glitches=st.lists(transitions, max_size=2).map(tuple),
    limit=st.integers(0, 2),
    target=st.integers(0, 3),
)
def test_symmetry_never_changes_a_verdict(k, moves, glitches, limit, target):
    m = Procs(k, moves, glitches, limit, target)
    plain = explore(m)
    reduced = explore(m, symmetry=True)
    assert [r.verdict for r in plain.properties] == [r.verdict for r in reduced.properties]
    # shortest safety counterexamples have the same length, and replay with concrete names
    for a, b in zip(plain.properties, reduced.properties):
        if a.kind.value in ("always", "sometimes") and a.trace is not None:
            assert len(a.trace) == len(b.trace)
    # the reduced count is the number of orbits of the reachable states
    assert reduced.stats.distinct_states == len({tuple(sorted(s)) for s in _reachable(m)})


def _reachable(m):
    seen = set(m.init_states())
    todo = list(seen)
    while todo:
        s = todo.pop()
        for a in m.actions(s):
            t = m.next_state(s, a)
            if t is not None and t not in seen:
                seen.add(t)
                todo.append(t)
    return seen
