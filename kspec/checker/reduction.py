"""Partial-order reduction: expand fewer steps where the skipped orders cannot matter.

When a model tells what its steps read and write (the
:class:`~kspec.checker.model.Independent` capability), the explorer may expand
only an *ample set* of a state's enabled steps instead of all of them, and
still reach a state of every property-relevant behaviour. This module chooses
that set; it knows nothing of what the keys name.

The model describes a state as *families* of steps (a controller's work on one
object, say): each a :class:`~kspec.checker.model.Footprint` whose ``reads``
determine whether its steps are enabled and what they do, whose ``writes``
cover everything they change, and whose ``guard`` (a subset of the reads)
holds the keys a disabled family needs written before it can act again. The
families must cover every step that is enabled now *or could become enabled
later*: that is how steps which are not enabled yet are accounted for (they
are the disabled transitions of a stubborn set).

The choice, for one state (Valmari's stubborn sets, computed on families as
LTSmin computes them on transition groups):

1. *Live families*: those enabled now, and every family whose guard a live
   family writes (a fixed point). A family that is not live cannot act again
   before the state leaves it, because nothing that can happen writes its
   guard.
2. *Stubborn sets*: for each enabled family in turn, grow a set from it.
   An enabled member brings every live family it conflicts with (one writes
   a key the other reads or writes), enabled or not; a disabled member
   brings only the live families that write its guard, the ones that could
   enable it. Steps outside the set then never change what its enabled
   steps read, nor read what they write, and cannot enable its disabled
   members (SPIN's condition C1). Unlike the connected components of the
   conflict relation, a disabled family's other conflicts stay out: the
   scheduler's binds of every workload read one another's placements, but a
   Deployment sync whose pod is already bound need not wait for them.
3. *Visibility* (C2): a set with an enabled step that may write a key a
   checked property reads is not taken, unless it is every enabled step anyway.
4. The smallest admissible set is taken (fewest enabled steps); if none
   is smaller than the whole enabled set, the state is expanded fully (C0:
   never an empty set where a step is enabled).

The cycle proviso (C3) is the explorer's: a reduced expansion that reaches a
state already stored is redone in full, so every cycle of the reduced graph
holds a fully expanded state (the breadth-first proviso of Bošnački and
Holzmann). Together these keep every ``always`` and ``sometimes`` verdict of
the full search. Weak fairness is not preserved by them in general (a
reduced path may leave an actor enabled forever where the full one disabled
it now and then); the explorer keeps liveness verdicts with three more rules
of its own (``_Run._unproven`` in :mod:`kspec.checker.explore`):
fairness is judged on every enabled step, a state where an actor some
liveness property does not assume fair is enabled is expanded in full, and
a liveness verdict other than a violation is trusted only when the reduced
graph has no cycle (else the full graph is explored again).
"""

from __future__ import annotations

import functools
from typing import Any, Hashable, Sequence

from kspec.checker.model import Footprint, Footprints

__all__ = ["ample", "is_visible"]


@functools.lru_cache(maxsize=65536)
def is_visible(writes: frozenset[Hashable], visible: frozenset) -> bool:
    """Whether a write set touches a visible key: a key in ``visible``, or a
    tuple key one of whose prefixes is in ``visible`` (``("pods",)`` names
    every ``("pods", g)``)."""
    for key in writes:
        if key in visible:
            return True
        if isinstance(key, tuple):
            for end in range(len(key)):
                if key[:end] in visible:
                    return True
    return False


def _live(families: Sequence[Footprint], enabled: set[int]) -> list[int]:
    """Families enabled now, and those whose guard a live family writes (fixed point)."""
    guarded: dict[Any, list[int]] = {}
    for f, fam in enumerate(families):
        for key in fam.guard_keys:
            guarded.setdefault(key, []).append(f)
    live = set(enabled)
    work = list(enabled)
    while work:
        for key in families[work.pop()].writes:
            for g in guarded.get(key, ()):
                if g not in live:
                    live.add(g)
                    work.append(g)
    return sorted(live)


def ample(footprints: Footprints, visible: frozenset) -> tuple[int, ...] | None:
    """The step indexes (into the state's action table) of the smallest
    admissible stubborn set, or None when the state must be expanded fully."""
    of_step = footprints.of_step
    families = footprints.families
    steps_of: dict[int, list[int]] = {}
    for index, f in of_step:
        steps_of.setdefault(f, []).append(index)
    if len(steps_of) < 2:  # one family: no smaller set closed under conflicts
        return None
    if all(is_visible(families[f].writes, visible) for f in steps_of):
        return None
    touching = _Touching(families, _live(families, set(steps_of)))
    best: list[int] | None = None
    limit = len(of_step)
    for seed in sorted(steps_of, key=lambda f: len(steps_of[f])):
        members = _closure(families, touching, steps_of, seed, visible, limit)
        if members is not None:
            best = sorted(i for f in members if f in steps_of for i in steps_of[f])
            limit = len(best)
            if limit == 1:
                break
    return None if best is None else tuple(best)


class _Touching:
    """Live families by key: which read it, which write it."""

    def __init__(self, families: Sequence[Footprint], live: Sequence[int]):
        self.readers: dict[Any, list[int]] = {}
        self.writers: dict[Any, list[int]] = {}
        for f in live:
            fam = families[f]
            for key in fam.reads:
                self.readers.setdefault(key, []).append(f)
            for key in fam.writes:
                self.writers.setdefault(key, []).append(f)


def _closure(families: Sequence[Footprint], touching: _Touching, steps_of: dict[int, list[int]], seed: int,
             visible: frozenset, limit: int) -> set[int] | None:
    """The stubborn set grown from enabled family ``seed``, or None when it
    holds a visible enabled family or ``limit`` enabled steps or more.

    An enabled member brings every live family it conflicts with (one writes
    a key the other reads or writes), enabled or not, so nothing outside can
    change what it reads or read what it writes; a disabled member brings
    only the live families that write its guard, the only ones that could
    enable it (Valmari's strong stubborn sets; ``_live`` leaves out families
    nothing can ever enable)."""
    readers, writers = touching.readers, touching.writers
    members = {seed}
    work = [seed]
    steps = 0
    while work:
        f = work.pop()
        fam = families[f]
        if f in steps_of:
            if is_visible(fam.writes, visible):
                return None
            steps += len(steps_of[f])
            if steps >= limit:
                return None
            wanted = [writers.get(key, ()) for key in fam.reads | fam.writes]
            wanted += [readers.get(key, ()) for key in fam.writes]
        else:
            wanted = [writers.get(key, ()) for key in fam.guard_keys]
        for group in wanted:
            for g in group:
                if g not in members:
                    members.add(g)
                    work.append(g)
    return members
