"""Stable fingerprints of states, for anything persisted or partitioned.

In one process the explorer keys its seen-set by the state (or the model's
exact packed key) itself, so there are no collisions at all: Python's
``hash()`` only picks the dict bucket and equality decides. ``hash()`` is not
stable across processes (string hashing is salted), so whatever leaves the
process (a partition owner, a file of seen states, a distributed worker) uses
:func:`fingerprint`: a 64-bit BLAKE2b digest of a canonical serialisation.

Collisions: two distinct states share a 64-bit fingerprint with probability
about n**2 / 2**65 for n states (5e-8 for 1.4e6 states, 1e-5 for 2e7 states).
A store that keeps only fingerprints would silently merge such states;
:func:`fingerprint128` makes it n**2 / 2**129, negligible at any size we run.
The local store keeps full keys, so the question never arises in-process.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import attrs

__all__ = ["digest", "fingerprint", "fingerprint128", "owner"]


def _feed(h, obj: Any) -> None:
    # A tag byte per type keeps (1, "1") and ("1", 1) apart; lengths keep nesting unambiguous.
    if obj is None:
        h.update(b"N")
    elif obj is True or obj is False:
        h.update(b"T" if obj else b"F")
    elif isinstance(obj, int):
        data = obj.to_bytes((obj.bit_length() + 8) // 8 or 1, "little", signed=True)
        h.update(b"I" + struct.pack("<I", len(data)) + data)
    elif isinstance(obj, str):
        data = obj.encode()
        h.update(b"S" + struct.pack("<I", len(data)) + data)
    elif isinstance(obj, bytes):
        h.update(b"B" + struct.pack("<I", len(obj)) + obj)
    elif isinstance(obj, float):
        h.update(b"D" + struct.pack("<d", obj))
    elif isinstance(obj, (tuple, list)):
        h.update(b"L" + struct.pack("<I", len(obj)))
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, (frozenset, set)):
        parts = sorted(digest(item) for item in obj)
        h.update(b"E" + struct.pack("<I", len(parts)) + b"".join(parts))
    elif attrs.has(type(obj)):
        name = f"{type(obj).__module__}.{type(obj).__qualname__}".encode()
        h.update(b"R" + struct.pack("<I", len(name)) + name)
        for field in attrs.fields(type(obj)):
            _feed(h, getattr(obj, field.name))
    elif hasattr(obj, "items"):  # mappings, FrozenDict: order-independent
        parts = sorted(digest(k) + digest(v) for k, v in obj.items())
        h.update(b"M" + struct.pack("<I", len(parts)) + b"".join(parts))
    elif hasattr(obj, "value") and hasattr(type(obj), "__members__"):  # enums
        _feed(h, obj.value)
    else:
        raise TypeError(f"cannot fingerprint a {type(obj).__name__}")


def digest(obj: Any, size: int = 16) -> bytes:
    """A stable BLAKE2b digest of ``obj`` (ints, strs, tuples, frozensets, attrs records, mappings)."""
    h = hashlib.blake2b(digest_size=size)
    _feed(h, obj)
    return h.digest()


def fingerprint(obj: Any) -> int:
    """A stable 64-bit fingerprint (same value in every process and run)."""
    return int.from_bytes(digest(obj, 8), "little")


def fingerprint128(obj: Any) -> int:
    """A stable 128-bit fingerprint, for stores that keep fingerprints only."""
    return int.from_bytes(digest(obj, 16), "little")


def owner(obj: Any, partitions: int) -> int:
    """The partition (0..partitions-1) that owns a state: stable across processes."""
    return fingerprint(obj) % partitions
