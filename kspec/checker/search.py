"""The breadth-first search every small search of the checker shares.

The explorer's main loop (:mod:`kspec.checker.explore`) is its own, tuned
for millions of states; the smaller searches (reaching a lasso's loop inside
the liveness graph, closing a fair cycle inside a component, the action
classes a fuzzer sees first, the neighbourhood a trace is shortened in) are
all this one loop: from some sources, follow a neighbour function, remember
each node's predecessor and edge, stop at a goal, a depth or a size.

>>> edges = {0: [(1, "a"), (2, "b")], 1: [(3, "c")], 2: [(3, "d")], 3: []}
>>> found = breadth_first([0], lambda n: edges[n], goal=lambda n: n == 3)
>>> found.goal, found.goal_path()
(3, [('a', 1), ('c', 3)])
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Hashable, Iterable

__all__ = ["Reached", "breadth_first"]

class Reached:
    """What a breadth-first search reached: each node's ``(predecessor, edge)``
    (``None`` for sources), its depth, and the goal node found, if any."""

    def __init__(self):
        self.back: dict[Hashable, tuple | None] = {}
        self.depth: dict[Hashable, int] = {}
        self.goal: Hashable | None = None
        self.found = False
        self.last: tuple | None = None  # (predecessor, edge) when an edge goal stopped the search

    def __contains__(self, node) -> bool:
        return node in self.back

    def path_to(self, node) -> list[tuple[Any, Hashable]]:
        """``[(edge, node), ...]`` from a source (excluded) to ``node``."""
        path = []
        while (step := self.back[node]) is not None:
            path.append((step[1], node))
            node = step[0]
        path.reverse()
        return path

    def goal_path(self) -> list[tuple[Any, Hashable]]:
        """The path to the goal, ending with the goal edge when an edge goal stopped the search."""
        if self.last is None:
            return self.path_to(self.goal)
        before, edge = self.last
        return self.path_to(before) + [(edge, self.goal)]

    def source_of(self, node) -> Hashable:
        while (step := self.back[node]) is not None:
            node = step[0]
        return node


def breadth_first(
    sources: Iterable[Hashable],
    neighbours: Callable[[Hashable], Iterable[tuple[Hashable, Any]] | None],
    goal: Callable[[Hashable], bool] | None = None,
    edge_goal: Callable[[Hashable, Any], bool] | None = None,
    max_depth: int | None = None,
    max_nodes: int | None = None,
    check: Callable[[], None] | None = None,
    check_every: int = 1,
) -> Reached:
    """Breadth-first from ``sources``; ``neighbours(node)`` yields ``(node, edge)``
    pairs (None: no edges).

    Stops at the first node that passes ``goal`` (sources included), or at the
    first edge ``(target, edge)`` that passes ``edge_goal``: then ``goal`` of
    the result is that target, reached through that edge even when it was seen
    before (so a cycle can close on its start). ``max_depth`` stops expanding
    at that depth, ``max_nodes`` stops the search once that many nodes are stored;
    ``check`` (a budget check; it raises to stop) is called every
    ``check_every`` expansions: every one where an expansion runs model code,
    less often on a graph already built, where expansions are cheap.
    """
    reached = Reached()
    back, depth = reached.back, reached.depth
    frontier: collections.deque = collections.deque()
    for node in sources:
        if node not in back:
            back[node] = None
            depth[node] = 0
            frontier.append(node)
    ticks = 0
    while frontier:
        if max_nodes is not None and len(back) >= max_nodes:
            return reached
        node = frontier.popleft()
        if goal is not None and goal(node):
            reached.goal, reached.found = node, True
            return reached
        if max_depth is not None and depth[node] >= max_depth:
            continue
        if check is not None:
            ticks += 1
            if ticks >= check_every:
                ticks = 0
                check()
        for nxt, edge in neighbours(node) or ():
            if edge_goal is not None and edge_goal(nxt, edge):
                reached.goal, reached.found, reached.last = nxt, True, (node, edge)
                return reached
            if nxt in back:
                continue
            if max_nodes is not None and len(back) >= max_nodes:
                return reached
            back[nxt] = (node, edge)
            depth[nxt] = depth[node] + 1
            frontier.append(nxt)
    return reached

