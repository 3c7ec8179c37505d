"""Exhaustive model checking: breadth-first (shortest counterexamples), depth-first,
or random walks, with liveness on the explored graph and symmetry reduction.

Search settings live on the :class:`Explorer` (stateright's ``CheckerBuilder``),
never in the model::

    result = Explorer(model, symmetry=True, max_states=10**6).run()
    result["converges"].verdict        # Verdict.VIOLATED
    print(result["converges"].trace)   # a lasso: prefix, then a cycle

How it works:

- States are stored by their exact key (the state itself, or the model's
  packed ``encode`` form) in a :class:`LocalStore` that maps each state to its
  parent; traces are rebuilt by walking parents and re-finding the action
  between consecutive states, so no action or state is stored twice. The
  store's :meth:`LocalStore.owner` gives each state a partition by stable
  fingerprint, which is how a distributed run will split frontier and
  seen-set; nothing here assumes that one process holds everything.
- Safety (``always``, ``sometimes``) is checked on each new state as it is
  stored; under breadth-first search the first violation found is a shortest one.
- Liveness (``eventually_always``, ``leads_to``) is decided on the explored
  graph, built only when such a property is requested: strongly connected
  components (iterative Tarjan) of the graph, restricted for ``P ~> Q`` to the
  states where Q does not hold. A counterexample is a reachable SCC that can
  be traversed fairly (for every fair actor, some edge in it is that actor's,
  or some state in it has the actor disabled: weak fairness) and visits a bad
  state, or a bad state where no fair actor is enabled (the behaviour may
  stop there, as in TLA+). It is reported as a lasso.
- Under symmetry reduction the store holds one representative per orbit;
  traces are rebuilt with concrete names by choosing, from the concrete state,
  a successor whose representative is the next one stored.
- Results are three-valued. A violation is always genuine (its trace replays
  in the model). ``holds`` needs a complete search; when a bound stops the
  search first, the verdict is ``inconclusive`` and names the bound:
  ``max_states``, ``max_depth``, ``time_limit``, ``max_memory``,
  ``interrupted`` (Ctrl-C), ``stopped_at_first_violation``, ``random`` (random
  walks never prove anything), or ``boundary`` (liveness when
  ``within_boundary`` cut transitions off).
"""

from __future__ import annotations

import collections
from array import array
import math
import os
import random
import resource
import sys
import time
from typing import Any, Callable, Sequence

import attrs

from kspec.errors import KspecError
from kspec.checker.fingerprint import owner as stable_owner
from kspec.checker.model import Kind, Model, ModelError, Property, Verdict, actor_of, select_properties, successors
from kspec.checker.trace import Trace, build

__all__ = ["ExploreError", "ExploreResult", "Explorer", "LocalStore", "PropertyResult", "Stats", "explore"]

STRATEGIES = ("bfs", "dfs", "random")


class ExploreError(KspecError):
    """Settings the explorer cannot run with."""


@attrs.frozen
class Stats:
    """What a run covered. ``peak_memory_bytes`` is the process's peak resident size."""

    distinct_states: int
    transitions: int
    max_depth: int
    seconds: float
    peak_memory_bytes: int
    strategy: str = "bfs"
    symmetry: bool = False

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict:
        return {
            "distinct_states": self.distinct_states,
            "transitions": self.transitions,
            "max_depth": self.max_depth,
            "seconds": round(self.seconds, 3),
            "states_per_second": round(self.states_per_second, 1),
            "peak_memory_bytes": self.peak_memory_bytes,
            "strategy": self.strategy,
            "symmetry": self.symmetry,
        }


@attrs.frozen
class PropertyResult:
    """The verdict on one property. ``trace`` is the counterexample when
    violated (a lasso with ``cycle_start`` for liveness), or for a
    ``sometimes`` that holds, the example that shows it. ``bound`` names what
    stopped the search when the verdict is inconclusive."""

    name: str
    kind: Kind
    verdict: Verdict
    trace: Trace | None = None
    bound: str | None = None

    @property
    def cycle_start(self) -> int | None:
        return None if self.trace is None else self.trace.cycle_start

    def to_json(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "kind": str(self.kind), "verdict": str(self.verdict)}
        if self.bound:
            out["bound"] = self.bound
        if self.trace is not None:
            out["example" if self.verdict is Verdict.HOLDS else "trace"] = self.trace.to_json()
            if self.kind.is_liveness:
                out["cycle_start"] = self.trace.cycle_start
                out["cycle_up_to_symmetry"] = self.trace.cycle_up_to_symmetry
        return out

    def __str__(self) -> str:
        head = f"{self.name} ({self.kind}): {self.verdict}"
        if self.bound and self.verdict is Verdict.INCONCLUSIVE:
            head += f" (bound hit: {self.bound})"
        if self.trace is not None and self.verdict is Verdict.VIOLATED:
            head += f", counterexample of {len(self.trace)} steps:\n{self.trace}"
        elif self.trace is not None:
            head += f", example of {len(self.trace)} steps"
        return head


@attrs.frozen
class ExploreResult:
    """Every property's result and the statistics of the run."""

    properties: tuple[PropertyResult, ...]
    stats: Stats
    complete: bool
    bound: str | None = None

    def __getitem__(self, name: str) -> PropertyResult:
        for res in self.properties:
            if res.name == name:
                return res
        raise KeyError(f"no result for {name!r}; have: {', '.join(r.name for r in self.properties)}")

    @property
    def verdict(self) -> Verdict:
        return Verdict.overall(r.verdict for r in self.properties)

    def to_json(self) -> dict:
        return {
            "verdict": str(self.verdict),
            "complete": self.complete,
            "bound": self.bound,
            "stats": self.stats.to_json(),
            "properties": [r.to_json() for r in self.properties],
        }


class LocalStore:
    """The seen-set of one partition: exact key -> parent key (None for initial states).

    Keys are stored whole, so there are no fingerprint collisions in-process.
    ``owner`` maps a key to its partition by stable fingerprint; a distributed
    run gives each worker the keys it owns and ships the others to their owner.
    """

    def __init__(self):
        self.parent: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self.parent)

    def __contains__(self, key) -> bool:
        return key in self.parent

    def add(self, key, parent) -> bool:
        """Store ``key`` with its parent; False when it was already there."""
        if key in self.parent:
            return False
        self.parent[key] = parent
        return True

    def path_to(self, key) -> list:
        """Keys from an initial state to ``key``, following parents."""
        path = [key]
        while (key := self.parent[key]) is not None:
            path.append(key)
        path.reverse()
        return path

    @staticmethod
    def owner(key, partitions: int) -> int:
        return stable_owner(key, partitions)


class _IdStore:
    """The seen-set when the explored graph is kept (liveness): each state gets
    a small int id in order of arrival, and one dict entry (key -> id); keys
    and parent ids are arrays by id, so the graph refers to states by id and
    each key object is stored once. Same interface as :class:`LocalStore`."""

    def __init__(self):
        self.ids: dict[Any, int] = {}
        self.keys: list = []  # id -> key
        self.parents = array("q")  # id -> parent id, -1 for initial states

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key) -> bool:
        return key in self.ids

    def add(self, key, parent) -> bool:
        """Store ``key`` with its parent key; False when it was already there."""
        if key in self.ids:
            return False
        self.ids[key] = len(self.keys)
        self.keys.append(key)
        self.parents.append(-1 if parent is None else self.ids[parent])
        return True

    def path_to(self, key) -> list:
        """Keys from an initial state to ``key``, following parents."""
        keys, parents = self.keys, self.parents
        i = self.ids[key]
        path = []
        while i >= 0:
            path.append(keys[i])
            i = parents[i]
        path.reverse()
        return path

    owner = LocalStore.owner


class _Space:
    """The model seen through keys: the packed fast path when the model has
    one (and ``packed`` is on), else the states themselves."""

    def __init__(self, model: Model, symmetry: bool, packed: bool):
        self.model = model
        self.packed = packed and all(hasattr(model, m) for m in ("encode", "decode", "encoded_steps"))
        self.symmetry = symmetry
        if symmetry:
            rep = "encoded_representative" if self.packed else "representative"
            if not hasattr(model, rep):
                raise ExploreError(f"symmetry reduction needs the model to define {rep}()")
            self.canon: Callable | None = getattr(model, rep)
        else:
            self.canon = None
        if self.packed:
            self.decode = model.decode
            self.concrete_steps = model.encoded_steps
            self.encode = model.encode
        else:
            self.decode = self.encode = _identity
            self.concrete_steps = self._plain_steps
        self.steps = self._make_steps()
        self._last = (object(), None)

    def _plain_steps(self, state):
        return [(i, nxt) for i, _, nxt in successors(self.model, state)]

    def _make_steps(self):
        canon, concrete = self.canon, self.concrete_steps
        if canon is None:
            return concrete
        if self.packed and hasattr(self.model, "encoded_symmetric_steps"):
            return self.model.encoded_symmetric_steps
        return lambda key: [(i, canon(x)) for i, x in concrete(key)]

    def init_keys(self) -> list:
        keys = []
        for state in self.model.init_states():
            key = self.encode(state)
            keys.append(self.canon(key) if self.canon else key)
        return keys

    def state(self, key):
        """The state record of a key (one-entry cache: properties share it)."""
        last_key, last_state = self._last
        if last_key is key or last_key == key:
            return last_state
        state = self.decode(key)
        self._last = (key, state)
        return state

    def predicate(self, condition, encoded):
        if self.packed and encoded is not None:
            return encoded
        state = self.state
        return lambda key: condition(state(key))

    def boundary(self) -> Callable | None:
        model = self.model
        if self.packed and hasattr(model, "encoded_within_boundary"):
            fn = model.encoded_within_boundary
            return None if fn is None else fn
        state = self.state
        return lambda key: model.within_boundary(state(key))

    def actions(self, key) -> Sequence:
        if self.packed and hasattr(self.model, "encoded_actions"):
            return self.model.encoded_actions(key)
        return tuple(self.model.actions(self.state(key)))


def _identity(x):
    return x


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return _peak_bytes()


def _peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class _Progress:
    """A one-line progress display on stderr, shown on a terminal after one second."""

    def __init__(self, enabled: bool | None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def update(self, states: int, transitions: int, depth: int, queued: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < 1.0 or now - self.last < 0.25:
            return
        self.last = now
        rate = states / elapsed if elapsed else 0
        sys.stderr.write(
            f"\rexplored {states:,} states, {transitions:,} transitions, depth {depth}, "
            f"queue {queued:,}, {rate:,.0f} states/s, {elapsed:.0f}s "
        )
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@attrs.define
class Explorer:
    """Checker settings; :meth:`run` explores and returns an :class:`ExploreResult`.

    ``properties``: names to check (default all). ``strategy``: ``bfs``
    (shortest counterexamples), ``dfs`` (less memory for the frontier) or
    ``random`` (seeded random walks of up to ``max_depth`` steps, default 100,
    until ``max_states`` distinct states or ``time_limit``). ``symmetry``:
    use the model's representative. Bounds: ``max_states`` (distinct states
    stored), ``max_depth``, ``time_limit`` (seconds), ``max_memory`` (bytes of
    resident memory). ``stop_at_first``: stop at the first safety violation.
    ``progress``: None shows progress on a terminal only. ``packed``: use the
    model's packed fast path when it has one.
    """

    model: Model
    properties: Sequence[str] = ()
    strategy: str = "bfs"
    symmetry: bool = False
    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None
    max_memory: int | None = None
    stop_at_first: bool = False
    seed: int = 0
    progress: bool | None = None
    packed: bool = True

    def run(self) -> ExploreResult:
        if self.strategy not in STRATEGIES:
            raise ExploreError(f"unknown strategy {self.strategy!r}; use one of {', '.join(STRATEGIES)}")
        props = select_properties(list(self.model.properties()), self.properties)
        space = _Space(self.model, self.symmetry, self.packed)
        if self.strategy == "random":
            return _RandomRun(self, props, space).run()
        return _Run(self, props, space).run()


def explore(model: Model, **settings) -> ExploreResult:
    """``Explorer(model, **settings).run()``."""
    return Explorer(model, **settings).run()


class _Stop(Exception):
    def __init__(self, bound: str):
        self.bound = bound


class _Run:
    """One exhaustive search (BFS or DFS)."""

    CHECK_EVERY = 2048

    def __init__(self, settings: Explorer, props: Sequence[Property], space: _Space):
        self.settings = settings
        self.props = props
        self.space = space
        self.found: dict[int, Any] = {}  # property index -> key where decided
        self.liveness = [i for i, p in enumerate(props) if p.kind.is_liveness]
        self.graph = bool(self.liveness)
        self.store: LocalStore | _IdStore = _IdStore() if self.graph else LocalStore()
        self.ids: dict[Any, int] = self.store.ids if self.graph else {}
        self.keys: list = self.store.keys if self.graph else []
        self.edges = _Edges()  # id -> (target id, actor index) pairs, or None when not expanded
        self.enabled: list[int] = []  # id -> bitmask of enabled actors
        self.actor_index: dict[str, int] = {}
        self.cut = False  # the boundary dropped a transition
        self.transitions = 0
        self.max_depth = 0
        self.depth_cut = False
        self._last_actions: Any = None
        self._last_bits: dict = {}
        self._all_sccs: list | None = None

    # -- search ----------------------------------------------------------------

    def run(self) -> ExploreResult:
        s = self.settings
        start = time.monotonic()
        progress = _Progress(s.progress)
        bound = None
        try:
            self._search(start, progress)
        except _Stop as stop:
            bound = stop.bound
        except KeyboardInterrupt:
            bound = "interrupted"
        progress.done()
        if self.depth_cut and bound is None:
            bound = "max_depth"
        complete = bound is None
        results = self._safety_results(complete, bound)
        live: dict[int, PropertyResult] = {}
        if self.liveness:
            live = self._liveness_results(complete, bound)
        seconds = time.monotonic() - start
        stats = Stats(
            len(self.store), self.transitions, self.max_depth, seconds, _peak_bytes(), s.strategy, s.symmetry
        )
        ordered = tuple(live.get(i) or results[i] for i in range(len(self.props)))
        return ExploreResult(ordered, stats, complete, bound)

    def _search(self, start: float, progress: _Progress) -> None:
        s, space, store = self.settings, self.space, self.store
        parent = self.ids if self.graph else store.parent  # the seen-set
        steps = space.steps
        boundary = space.boundary()
        limit = s.max_states if s.max_states is not None else math.inf
        max_depth = s.max_depth if s.max_depth is not None else math.inf
        deadline = start + s.time_limit if s.time_limit is not None else math.inf
        max_memory = s.max_memory
        graph = self.graph
        outside: set = set()
        self.depth_cut = False
        checks = self._checks()
        queue: collections.deque = collections.deque()
        pop = queue.popleft if s.strategy == "bfs" else queue.pop
        count = 0

        def admit(key, depth) -> None:
            """Queue and check a state the caller has just stored."""
            nonlocal count, checks
            count += 1
            if depth > self.max_depth:
                self.max_depth = depth
            queue.append((key, depth))
            if checks:
                for entry in checks:
                    if bool(entry[1](key)) is entry[2]:
                        self.found[entry[0]] = key
                        checks = self._checks()
                        if s.stop_at_first and entry[3] is Kind.ALWAYS:
                            raise _Stop("stopped_at_first_violation")
            if count >= limit:
                raise _Stop("max_states")

        for key in space.init_keys():
            if key in parent:
                continue
            if boundary is not None and not boundary(key):
                continue
            if graph:
                self._add_vertex(key, -1)
            else:
                parent[key] = None
            admit(key, 0)

        tick = 0
        while queue:
            key, depth = pop()
            tick += 1
            if tick >= self.CHECK_EVERY:
                tick = 0
                progress.update(count, self.transitions, self.max_depth, len(queue))
                if time.monotonic() > deadline:
                    queue.append((key, depth))
                    raise _Stop("time_limit")
                if max_memory is not None and _rss_bytes() > max_memory:
                    raise _Stop("max_memory")
            if depth >= max_depth:
                self.depth_cut = True
                continue
            succ = steps(key)
            self.transitions += len(succ)
            if graph:
                self._expand_graph(key, depth, succ, boundary, outside, admit)
                continue
            for _index, nxt in succ:
                if nxt in parent:
                    continue
                if boundary is not None:
                    if nxt in outside:
                        continue
                    if not boundary(nxt):
                        outside.add(nxt)
                        self.cut = True
                        continue
                parent[nxt] = key
                admit(nxt, depth + 1)

    def _checks(self) -> list:
        """Undecided safety properties as (index, predicate on keys, value that decides, kind)."""
        checks = []
        for i, prop in enumerate(self.props):
            if prop.kind.is_liveness or i in self.found:
                continue
            want = prop.kind is Kind.SOMETIMES
            checks.append((i, self.space.predicate(prop.condition, prop.encoded), want, prop.kind))
        return checks

    def _actor_bits(self, key) -> dict:
        """Action index -> actor bit for the actions of ``key`` (memoised on the
        action table: models often return one shared table)."""
        actions = self.space.actions(key)
        if actions is not self._last_actions:
            self._last_actions = actions
            self._last_bits = _ActorBits(actions, self.actor_index)
        return self._last_bits

    def _add_vertex(self, key, parent: int) -> int:
        """Store a state of the graph; returns its id."""
        me = len(self.keys)
        self.ids[key] = me
        self.keys.append(key)
        self.store.parents.append(parent)
        self.edges.first.append(-1)
        self.edges.last.append(-1)
        self.enabled.append(0)
        return me

    def _expand_graph(self, key, depth, succ, boundary, outside, admit) -> None:
        """Admit the successors of ``key`` and record its edges (for liveness)
        as target ids at once, so the graph holds small ints and every state
        object is stored once; targets outside the boundary get no edge."""
        bits = self._actor_bits(key)
        ids, keys, edges = self.ids, self.keys, self.edges
        append = edges.flat.append
        add_key, add_parent = keys.append, self.store.parents.append
        add_first, add_last, add_enabled = edges.first.append, edges.last.append, self.enabled.append
        me = ids[key]
        edges.first[me] = len(edges.flat)
        mask = 0
        try:
            for index, nxt in succ:
                bit = bits[index]
                mask |= 1 << bit
                j = ids.get(nxt)
                if j is None:
                    if boundary is not None:
                        if nxt in outside:
                            continue
                        if not boundary(nxt):
                            outside.add(nxt)
                            self.cut = True
                            continue
                    j = ids[nxt] = len(keys)  # a new state: stored here, queued and checked by admit
                    add_key(nxt)
                    add_parent(me)
                    add_first(-1)
                    add_last(-1)
                    add_enabled(0)
                    append(j << _ACTOR_BITS | bit)
                    admit(nxt, depth + 1)
                else:
                    append(j << _ACTOR_BITS | bit)
        except _Stop:
            for index, _ in succ:  # every enabled actor counts, as when the search goes on
                mask |= 1 << bits[index]
            raise
        finally:
            edges.last[me] = len(edges.flat)
            self.enabled[me] = mask

    # -- results -----------------------------------------------------------------

    def _safety_results(self, complete: bool, bound: str | None) -> dict[int, PropertyResult]:
        out = {}
        for i, prop in enumerate(self.props):
            if prop.kind.is_liveness:
                continue
            key = self.found.get(i)
            if key is not None:
                trace = self._trace(self.store.path_to(key))
                verdict = Verdict.VIOLATED if prop.kind is Kind.ALWAYS else Verdict.HOLDS
                out[i] = PropertyResult(prop.name, prop.kind, verdict, trace)
            elif complete and not self.cut:
                verdict = Verdict.HOLDS if prop.kind is Kind.ALWAYS else Verdict.VIOLATED
                out[i] = PropertyResult(prop.name, prop.kind, verdict)
            else:  # a bound was hit, or within_boundary cut states off: nothing proven
                out[i] = PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound or "boundary")
        return out

    def _liveness_results(self, complete: bool, bound: str | None) -> dict[int, PropertyResult]:
        out = {}
        for i in self.liveness:
            prop = self.props[i]
            lasso = None if bound == "interrupted" else _find_lasso(self, prop)
            if lasso is not None:
                out[i] = PropertyResult(prop.name, prop.kind, Verdict.VIOLATED, self._lasso_trace(*lasso))
            elif complete and not self.cut:
                out[i] = PropertyResult(prop.name, prop.kind, Verdict.HOLDS)
            else:
                out[i] = PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound or "boundary")
        return out

    # -- traces with concrete names ------------------------------------------------

    def _walk(self, concrete, reps: Sequence) -> tuple[list, list]:
        """Follow representatives ``reps`` (after the first) from concrete key
        ``concrete``; returns the concrete keys and action indexes taken."""
        space = self.space
        canon = space.canon or _identity
        path, indexes = [concrete], []
        for rep in reps:
            for index, nxt in space.concrete_steps(path[-1]):
                if canon(nxt) == rep:
                    path.append(nxt)
                    indexes.append(index)
                    break
            else:  # pragma: no cover - would mean a model whose fast path disagrees with itself
                raise ModelError("cannot rebuild the trace: the model's steps are not deterministic")
        return path, indexes

    def _start(self, rep):
        canon = self.space.canon or _identity
        for state in self.space.model.init_states():
            key = self.space.encode(state)
            if canon(key) == rep:
                return key
        raise ModelError("cannot rebuild the trace: no initial state matches")  # pragma: no cover

    def _materialise(self, keys: list, indexes: list, cycle_start=None, up_to_symmetry=False) -> Trace:
        states = [self.space.decode(k) for k in keys]
        actions = [tuple(self.space.model.actions(st))[i] for st, i in zip(states, indexes)]
        return build(states, actions, cycle_start, up_to_symmetry, model=self.space.model)

    def _trace(self, reps: list) -> Trace:
        path, indexes = self._walk(self._start(reps[0]), reps[1:])
        return self._materialise(path, indexes)

    def _lasso_trace(self, prefix: list, cycle: list) -> Trace:
        """``prefix`` ends at the cycle's first state; ``cycle`` lists the states
        after it, ending back at it (empty: the behaviour stays there)."""
        path, indexes = self._walk(self._start(prefix[0]), prefix[1:])
        cycle_start = len(path) - 1
        if not cycle:
            return self._materialise(path, indexes, cycle_start)
        anchor = path[-1]
        up_to_symmetry = True
        for _ in range(24):  # repeat the cycle until the concrete state comes back
            more, more_idx = self._walk(path[-1], cycle)
            path += more[1:]
            indexes += more_idx
            if path[-1] == anchor:
                up_to_symmetry = False
                break
        if up_to_symmetry:  # keep one round only, and say it closes up to symmetry
            path = path[: cycle_start + 1 + len(cycle)]
            indexes = indexes[: cycle_start + len(cycle)]
        return self._materialise(path, indexes, cycle_start, up_to_symmetry)


_ACTOR_BITS = 16  # an edge is packed as target id << 16 | actor index


class _ActorBits(dict):
    """Action index -> actor index for one action table, filled on demand."""

    def __init__(self, actions: Sequence, actor_index: dict[str, int]):
        super().__init__()
        self.actions, self.actor_index = actions, actor_index

    def __missing__(self, index: int) -> int:
        name = actor_of(self.actions[index])
        bit = self.actor_index.get(name)
        if bit is None:
            bit = len(self.actor_index)
            if bit >= 1 << _ACTOR_BITS:  # pragma: no cover - 65,536 actors
                raise ExploreError("too many actors for the liveness graph")
            self.actor_index[name] = bit
        self[index] = bit
        return bit


class _Edges:
    """The explored graph, flat: each state's edges are a slice of one array of
    packed (target id, actor index) ints, 8 bytes an edge."""

    def __init__(self):
        self.first = array("q")  # id -> start of its slice, -1 when not expanded
        self.last = array("q")  # id -> end of its slice
        self.flat = array("q")

    def __len__(self) -> int:
        return len(self.first)

    def expanded(self, i: int) -> bool:
        return self.first[i] >= 0

    def view(self, allowed: Sequence[bool] | None = None) -> "_View":
        return _View(self, allowed)


class _View:
    """``view[i]``: the edges of state ``i`` as a list of (target id, actor
    index) between allowed states, None when ``i`` was not expanded or is not
    allowed; lists are built on demand, so no copy of the graph is kept."""

    def __init__(self, edges: _Edges, allowed: Sequence[bool] | None):
        self.first, self.last, self.flat, self.allowed = edges.first, edges.last, edges.flat, allowed

    def __len__(self) -> int:
        return len(self.first)

    def __getitem__(self, i: int) -> list | None:
        start = self.first[i]
        allowed = self.allowed
        if start < 0 or (allowed is not None and not allowed[i]):
            return None
        mask = (1 << _ACTOR_BITS) - 1
        pairs = [(e >> _ACTOR_BITS, e & mask) for e in self.flat[start : self.last[i]]]
        if allowed is None:
            return pairs
        return [(j, b) for j, b in pairs if allowed[j]]


def _find_lasso(run: _Run, prop: Property) -> tuple[list, list] | None:
    """A fair lasso violating a liveness property, as (prefix keys, cycle keys), or None."""
    keys, enabled = run.keys, run.enabled
    n = len(keys)
    pred = run.space.predicate(prop.condition, prop.encoded)
    fair = 0
    for name in prop.fair:
        bit = run.actor_index.get(name)
        if bit is not None:  # an actor never enabled imposes nothing
            fair |= 1 << bit
    if prop.kind is Kind.EVENTUALLY_ALWAYS:
        allowed = [True] * n
        bad = [not pred(k) for k in keys]
        sources = None
    else:
        goal = run.space.predicate(prop.goal, prop.encoded_goal)
        allowed = [not goal(k) for k in keys]
        bad = allowed
        sources = [i for i in range(n) if allowed[i] and pred(keys[i])]
        if not sources:
            return None
    graph = run.edges
    sub = graph.view(None if sources is None else allowed)
    # where a lasso may loop: a bad stuttering state, or a fair SCC holding a bad state
    anchors: dict[int, tuple | None] = {}
    for i in range(n):
        if allowed[i] and bad[i] and graph.expanded(i) and not (enabled[i] & fair):
            anchors[i] = None
    if sources is None:  # the whole graph: the same for every eventually_always property
        if run._all_sccs is None:
            run._all_sccs = _tarjan(sub)
        comps = run._all_sccs
    else:
        comps = _tarjan(sub)
    for comp in comps:
        members = set(comp)
        internal = [(i, j, b) for i in comp for j, b in sub[i] or () if j in members]
        if not internal:
            continue
        taken = 0
        for _, _, b in internal:
            taken |= 1 << b
        disabled = 0
        for i in comp:
            disabled |= fair & ~enabled[i]
        if fair & ~(taken | disabled):
            continue  # some fair actor stays enabled and never acts in it: unfair
        for i in comp:
            if bad[i] and i not in anchors:
                anchors[i] = (members, fair & ~disabled & ~taken, fair & disabled)
    if not anchors:
        return None
    if sources is None:
        anchor = min(anchors)
        prefix = run.store.path_to(keys[anchor])
    else:  # reach an anchor from a state where P and not Q, staying in not-Q
        dist_parent = _bfs(sub, sources, lambda i: i in anchors)
        if dist_parent is None:
            return None
        anchor, back = dist_parent
        chain = [anchor]
        while back[chain[-1]] is not None:
            chain.append(back[chain[-1]])
        chain.reverse()
        prefix = run.store.path_to(keys[chain[0]]) + [keys[i] for i in chain[1:]]
    info = anchors[anchor]
    if info is None:
        return prefix, []
    members, _, _ = info
    cycle = _fair_cycle(anchor, members, sub, enabled, fair)
    return prefix, [keys[i] for i in cycle]


def _fair_cycle(anchor: int, members: set, sub: list, enabled: list, fair: int) -> list[int]:
    """A cycle from ``anchor`` back to it inside ``members`` that takes an edge
    of each fair actor, or passes a state where that actor is disabled (weak
    fairness); returned as the states after ``anchor``, ending with it."""
    local = {i: [(j, b) for j, b in sub[i] if j in members] for i in members}
    bits = [b for b in range(fair.bit_length()) if fair >> b & 1]
    cycle: list[int] = []
    cur = anchor

    def go(edge_ok) -> None:
        """Extend the cycle along a shortest path from ``cur`` ending with an edge that ``edge_ok``."""
        nonlocal cur
        back = {cur: None}
        frontier = collections.deque([cur])
        while frontier:
            i = frontier.popleft()
            for j, b in local[i]:
                if edge_ok(j, b):
                    nodes = [j]
                    while i != cur:
                        nodes.append(i)
                        i = back[i]
                    cycle.extend(reversed(nodes))
                    cur = j
                    return
                if j not in back:
                    back[j] = i
                    frontier.append(j)
        raise AssertionError("no such path inside a strongly connected component")  # pragma: no cover

    for b in bits:
        if any(not enabled[i] >> b & 1 for i in members):
            if enabled[cur] >> b & 1:
                go(lambda j, _b, b=b: not enabled[j] >> b & 1)
        else:
            go(lambda j, eb, b=b: eb == b)
    if cur != anchor or not cycle:
        go(lambda j, _b: j == anchor)
    return cycle


def _bfs(sub: list, sources: list[int], goal) -> tuple[int, dict] | None:
    back = {s: None for s in sources}
    frontier = collections.deque(sources)
    while frontier:
        i = frontier.popleft()
        if goal(i):
            return i, back
        for j, _ in sub[i] or ():
            if j not in back:
                back[j] = i
                frontier.append(j)
    return None


def _tarjan(adj: Sequence) -> list[list[int]]:
    """Strongly connected components, iteratively (no recursion limit).
    ``adj[v]`` is v's list of (target, label) pairs, or None; it is asked once per v."""
    n = len(adj)
    index = array("q", [-1]) * n
    low = array("q", [0]) * n
    on_stack = bytearray(n)
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        work = [(root, adj[root] or (), 0)]
        while work:
            v, edges, pos = work[-1]
            if pos < len(edges):
                work[-1] = (v, edges, pos + 1)
                w = edges[pos][0]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = 1
                    work.append((w, adj[w] or (), 0))
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = 0
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
    return comps


class _RandomRun:
    """Seeded random walks: finds violations, never proves anything."""

    def __init__(self, settings: Explorer, props: Sequence[Property], space: _Space):
        self.settings, self.props, self.space = settings, props, space

    def run(self) -> ExploreResult:
        s, space = self.settings, self.space
        rng = random.Random(s.seed)
        start = time.monotonic()
        deadline = start + (s.time_limit if s.time_limit is not None else 10.0)
        limit = s.max_states if s.max_states is not None else 100_000
        depth_limit = s.max_depth if s.max_depth is not None else 100
        preds = {
            i: (space.predicate(p.condition, p.encoded), p.kind is Kind.SOMETIMES)
            for i, p in enumerate(self.props)
            if not p.kind.is_liveness
        }
        found: dict[int, Trace] = {}
        seen: set = set()
        transitions = max_depth = 0
        inits = [space.encode(st) for st in space.model.init_states()]
        bound = "random"
        try:
            while len(seen) < limit and time.monotonic() < deadline and len(found) < len(preds):
                path, indexes = [rng.choice(inits)], []
                while True:
                    key = path[-1]
                    seen.add(key)
                    for i, (pred, want) in preds.items():
                        if i not in found and pred(key) == want:
                            found[i] = self._trace(path, indexes)
                    if len(indexes) >= depth_limit:
                        break
                    succ = space.concrete_steps(key)
                    transitions += len(succ)
                    if not succ:
                        break
                    index, nxt = rng.choice(succ)
                    path.append(nxt)
                    indexes.append(index)
                max_depth = max(max_depth, len(indexes))
        except KeyboardInterrupt:
            bound = "interrupted"
        results = []
        for i, prop in enumerate(self.props):
            if i in found:
                verdict = Verdict.VIOLATED if prop.kind is Kind.ALWAYS else Verdict.HOLDS
                results.append(PropertyResult(prop.name, prop.kind, verdict, found[i]))
            else:
                results.append(PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound))
        stats = Stats(len(seen), transitions, max_depth, time.monotonic() - start, _peak_bytes(), "random", False)
        return ExploreResult(tuple(results), stats, False, bound)

    def _trace(self, path: list, indexes: list) -> Trace:
        states = [self.space.decode(k) for k in path]
        actions = [tuple(self.space.model.actions(st))[i] for st, i in zip(states, indexes)]
        return build(states, actions, model=self.space.model)
