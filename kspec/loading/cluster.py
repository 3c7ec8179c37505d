"""The one state type: every object of a cluster in canonical order.

A :class:`Cluster` is frozen and compared by value; the order of files,
documents or mapping keys it was read from never changes equality or hash.
Nothing mutates it: a transition builds a new one (``with_object``,
``without``, ``attrs.evolve``).
"""

from __future__ import annotations

from typing import Iterable

import attrs

from kspec.errors import Diagnostic, LoadError
from kspec.api.objects import WORKLOAD_KINDS, OpaqueObject, object_key


def _canonical(objects: Iterable) -> tuple:
    return tuple(sorted(objects, key=object_key))


@attrs.frozen(cache_hash=True)
class Cluster:
    """Objects sorted by (kind, namespace, name), one per identity."""

    objects: tuple = attrs.field(converter=_canonical)
    _index: dict = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self):
        index: dict = {}
        for obj in self.objects:
            index[object_key(obj)] = obj
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_objects(cls, records: Iterable) -> "Cluster":
        """A cluster of ``records``; two records with one identity are a LoadError."""
        records = tuple(records)
        seen: dict = {}
        problems = []
        for record in records:
            key = object_key(record)
            if key in seen:
                kind, namespace, name = key
                problems.append(Diagnostic(record.source.file, record.source.line,
                                           f"duplicate object {kind} {namespace + '/' if namespace else ''}{name}: "
                                           f"also defined at {seen[key].source}", "metadata.name",
                                           code="duplicate-object"))
            else:
                seen[key] = record
        if problems:
            raise LoadError(problems)
        return cls(records)

    # ------------------------------------------------------------------ look-ups

    def get(self, kind: str, namespace: str | None, name: str):
        """The object with that identity, or None."""
        return self._index.get((kind, namespace or "", name))

    def of_kind(self, *kinds: str) -> tuple:
        return tuple(obj for obj in self.objects if obj.kind in kinds)

    @property
    def nodes(self) -> tuple:
        return self.of_kind("Node")

    @property
    def pods(self) -> tuple:
        return self.of_kind("Pod")

    @property
    def services(self) -> tuple:
        return self.of_kind("Service")

    @property
    def workloads(self) -> tuple:
        """Controllers that create pods, and bare pods (which nothing replaces)."""
        return tuple(obj for obj in self.objects
                     if obj.kind in WORKLOAD_KINDS or (obj.kind == "Pod" and obj.metadata.controller_ref() is None))

    @property
    def not_modelled(self) -> tuple:
        return tuple(obj for obj in self.objects if isinstance(obj, OpaqueObject))

    def __len__(self) -> int:
        return len(self.objects)

    # ------------------------------------------------------------------ transitions

    def with_object(self, obj) -> "Cluster":
        """A cluster with ``obj`` added, or replacing the object of its identity."""
        key = object_key(obj)
        return Cluster(tuple(o for o in self.objects if object_key(o) != key) + (obj,))

    def without(self, kind: str, namespace: str | None, name: str) -> "Cluster":
        key = (kind, namespace or "", name)
        return Cluster(tuple(o for o in self.objects if object_key(o) != key))
