"""An immutable, hashable mapping whose equality ignores insertion order."""

from __future__ import annotations

from collections.abc import Mapping


class FrozenDict(Mapping):
    """A read-only dict with a cached, order-independent hash.

    Iteration is in sorted key order so that printing and serialising are
    canonical too.
    """

    __slots__ = ("_d", "_hash")

    def __init__(self, data=(), **kwargs):
        d = dict(data, **kwargs)
        self._d = {k: d[k] for k in sorted(d)}
        self._hash = None

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __contains__(self, key):
        return key in self._d

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(frozenset(self._d.items()))
        return self._hash

    def __eq__(self, other):
        if isinstance(other, FrozenDict):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    def __repr__(self):
        return f"FrozenDict({self._d!r})"

    def __reduce__(self):
        return (FrozenDict, (self._d,))

    def set(self, key, value) -> "FrozenDict":
        """A copy with ``key`` set to ``value``."""
        d = dict(self._d)
        d[key] = value
        return FrozenDict(d)

    def delete(self, key) -> "FrozenDict":
        """A copy without ``key`` (no error when absent)."""
        return FrozenDict({k: v for k, v in self._d.items() if k != key})


EMPTY = FrozenDict()
