"""Symmetry reduction: canonical representatives of states, in one module.

Generated pod names and identical nodes are arbitrary (DESIGN.md section 3):
two states that differ only by renaming interchangeable pods or nodes are the
same state for checking. A model opts in by providing ``representative(state)``
(and, on the packed fast path, ``encoded_representative(key)``) built from the
functions here; the explorer then stores one state per equivalence class
(orbit) while traces keep the concrete names (see ``kspec.checker.trace``).

Correctness conditions (the model's responsibility, as in stateright's
``Representative``): the representative is a member of the state's orbit, every
member of an orbit maps to the same representative, and properties and the set
of enabled actors (fairness) are invariant under the symmetry.

Two ways to canonicalise:

- :func:`canonical_slots_on_nodes` for the common Kubernetes shape, pods that
  sit on nodes: it sorts node *signatures* (node attributes plus the sorted
  multiset of the states of the pods on the node), relabels nodes in that
  order and then sorts the pods. Cost O(P log P + N log N) per state, not N!.
  The result is an exact orbit representative: nodes with equal signatures are
  interchangeable, and swapping them leaves the sorted pod list unchanged.
- :func:`orbit_minimum` for small models and tests: the least image of the
  state over an explicit list of permutations (exact by construction, N! cost).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Hashable, Iterable, Sequence, TypeVar

__all__ = ["canonical_slots_on_nodes", "node_order", "orbit_minimum", "permutations_of", "sort_interchangeable"]

T = TypeVar("T")


def canonical_slots_on_nodes(
    statuses: Sequence[Hashable], nodes: Sequence[int], node_attrs: Sequence[Hashable]
) -> tuple[list, list[int], list]:
    """Canonical form of pods (slot ``i`` has ``statuses[i]`` and sits on node
    ``nodes[i]``, or ``-1`` when on none) on interchangeable nodes (node ``k``
    has attributes ``node_attrs[k]``), under any permutation of slots and of nodes.

    Returns ``(statuses, nodes, node_attrs)`` of the representative: nodes
    relabelled in order of signature, slots sorted by ``(status, node)``.
    Statuses and attributes must be mutually comparable (ints are best).
    """
    n = len(node_attrs)
    on_node: list[list] = [[] for _ in range(n)]
    for st, nd in zip(statuses, nodes):
        if nd >= 0:
            on_node[nd].append(st)
    signature = [(node_attrs[k], sorted(on_node[k])) for k in range(n)]
    order = node_order(signature)
    relabel = [0] * n
    for new, old in enumerate(order):
        relabel[old] = new
    pairs = sorted((st, relabel[nd] if nd >= 0 else -1) for st, nd in zip(statuses, nodes))
    return [st for st, _ in pairs], [nd for _, nd in pairs], [node_attrs[old] for old in order]


def node_order(signatures: Sequence[Hashable]) -> list[int]:
    """Old node indexes in canonical order: sorted by signature, where a node's
    signature is everything about it and its pods that a renaming preserves
    (attributes plus the multiset of its pods' states). Relabelling node
    ``order[j]`` as ``j`` is exact when signatures determine nodes up to swaps
    of equal-signature nodes, which is the case when pods are also interchangeable."""
    return sorted(range(len(signatures)), key=signatures.__getitem__)


def sort_interchangeable(items: Iterable[T]) -> tuple[T, ...]:
    """Representative of a tuple of fully interchangeable items (a multiset)."""
    return tuple(sorted(items))


def permutations_of(n: int) -> list[tuple[int, ...]]:
    """Every permutation of ``range(n)``; for brute-force checks only (n! of them)."""
    return list(itertools.permutations(range(n)))


def orbit_minimum(state: Any, transforms: Iterable[Callable[[Any], Any]], key=None) -> Any:
    """The least image of ``state`` under ``transforms`` (which must include
    the identity and form a group): an exact representative by brute force."""
    return min((t(state) for t in transforms), key=key)
