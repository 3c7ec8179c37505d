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
2. *Conflicts*: two live families conflict when one writes a key the other
   reads or writes. The connected components of that relation are closed
   under conflicts, and a component's disabled members can only be enabled by
   its own members, so any component holding an enabled step is a stubborn
   set: steps outside it never change what it reads, and it never changes what
   they read (SPIN's condition C1).
3. *Visibility* (C2): a component whose steps may write a key that a checked
   property reads is not taken, unless it is every enabled step anyway.
4. The smallest admissible component is taken (fewest enabled steps); if none
   is smaller than the whole enabled set, the state is expanded fully (C0:
   never an empty set where a step is enabled).

The cycle proviso (C3) is the explorer's: a reduced expansion that reaches a
state already stored is redone in full, so every cycle of the reduced graph
holds a fully expanded state (the breadth-first proviso of Bošnački and
Holzmann). Together these keep every ``always`` and ``sometimes`` verdict of
the full search; liveness under fairness is not preserved by them, so the
explorer turns the reduction off when a liveness property is checked.
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


def _components(families: Sequence[Footprint], live: Sequence[int]) -> dict[int, int]:
    """Live family -> root of its conflict component (union-find over keys:
    every family touching a key that some live family writes joins its writers)."""
    root = {f: f for f in live}

    def find(f: int) -> int:
        while root[f] != f:
            root[f] = root[root[f]]
            f = root[f]
        return f

    touching: dict[Any, list[int]] = {}
    written: set = set()
    for f in live:
        fam = families[f]
        for key in fam.reads | fam.writes:
            touching.setdefault(key, []).append(f)
        written |= fam.writes
    for key in written:
        members = touching[key]
        first = find(members[0])
        for f in members[1:]:
            other = find(f)
            if other != first:
                root[other] = first
    return {f: find(f) for f in live}


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
    comp = _components(families, _live(families, set(steps_of)))
    groups: dict[int, list[int]] = {}
    for f in steps_of:
        groups.setdefault(comp[f], []).append(f)
    best: list[int] | None = None
    for members in groups.values():
        if any(is_visible(families[f].writes, visible) for f in members):
            continue
        chosen = sorted(i for f in members for i in steps_of[f])
        if best is None or len(chosen) < len(best):
            best = chosen
    if best is None or len(best) >= len(of_step):
        return None
    return tuple(best)
