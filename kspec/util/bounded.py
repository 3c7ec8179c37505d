"""Memo tables of bounded size for the engine's caches."""

from __future__ import annotations

__all__ = ["put_bounded"]


def put_bounded(table: dict, key, value, limit: int) -> None:
    """``table[key] = value``, dropping the oldest half of ``table`` first
    when it holds ``limit`` entries (a breadth-first search reads its latest
    levels, so the newest entries are the ones met again)."""
    if len(table) >= limit:
        for old in list(table)[: limit // 2]:
            del table[old]
    table[key] = value
