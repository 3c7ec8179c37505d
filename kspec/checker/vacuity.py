"""What the search saw besides verdicts: witnesses reached and nearest states.

A property's :class:`~kspec.checker.model.Witness` values say what must
happen for its verdict to mean something; a ``sometimes`` property's
``closeness`` says how near a state comes to satisfying it.

- :class:`Watch` keeps one bit per witness while the explorer stores states:
  a witness is evaluated on each new state until one reaches it, then
  dropped, so a meaningful run pays for it only until then. After a
  complete search, :meth:`Watch.vacuous` gives the reasons of the witnesses
  never reached.
- :func:`nearest_key` runs once over the stored states after the search,
  and only for a ``sometimes`` that no state satisfied: the first stored
  state (the shallowest, under breadth-first search) with the highest
  closeness. A run in which every ``sometimes`` is found pays nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from kspec.checker.model import Property

__all__ = ["Watch", "nearest_key"]


class Watch:
    """Witness bits of ``props``, fed with each stored key.

    ``predicate(condition, encoded)`` turns a predicate on states into one on
    keys (the explorer's :meth:`~kspec.checker.explore.Space.predicate`).
    """

    def __init__(self, props: Sequence[Property], predicate: Callable):
        self.props = props
        self.pending = [(i, j, predicate(w.condition, w.encoded))
                        for i, p in enumerate(props) for j, w in enumerate(p.witnesses)]
        self.reached: set[tuple[int, int]] = set()
        self.active = bool(self.pending)

    def see(self, key) -> None:
        """Take a newly stored state into account."""
        hits = [entry for entry in self.pending if entry[2](key)]
        if hits:
            self.reached.update((i, j) for i, j, _ in hits)
            self.pending = [entry for entry in self.pending if entry not in hits]
            self.active = bool(self.pending)

    def vacuous(self, index: int) -> str | None:
        """Why property ``index`` says nothing (its witnesses never reached, joined), or None."""
        reasons = [w.reason for j, w in enumerate(self.props[index].witnesses) if (index, j) not in self.reached]
        return "; ".join(reasons) or None


def nearest_key(closeness: Callable[[Any], Any], keys: Iterable, check: Callable[[], None], every: int = 4096):
    """The first of ``keys`` with the highest ``closeness`` (None when there
    are none); ``check`` (a budget check) is called every ``every`` keys."""
    best_key, best = None, None
    for count, key in enumerate(keys):
        if not count % every:
            check()
        value = closeness(key)
        if best_key is None or value > best:
            best_key, best = key, value
    return best_key
