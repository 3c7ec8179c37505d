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
  between consecutive states, so no action or state is stored twice.
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
- Under partial-order reduction (on by default when the model declares its
  steps' footprints, :mod:`kspec.checker.reduction`) a state may be expanded
  by an ample set of its steps only; an ample expansion that reaches a state
  already stored is redone in full (the cycle proviso). It preserves
  ``always`` and ``sometimes``; when a liveness property is checked the
  reduction is off, and the statistics say why. A counterexample found under
  it is a real trace, not necessarily a shortest one.
- Under symmetry reduction the store holds one representative per orbit;
  traces are rebuilt with concrete names by choosing, from the concrete state,
  a successor whose representative is the next one stored.
- Results are three-valued. A violation is always genuine (its trace replays
  in the model). ``holds`` needs a complete search; when a bound stops the
  search first, the verdict is ``inconclusive``, names the bound and says why
  in words (``reason``): ``max_states``, ``max_depth``, ``time_limit``,
  ``max_memory``, ``interrupted`` (Ctrl-C), ``stopped_at_first_violation``,
  ``random`` (random walks never prove anything), or ``boundary``
  (``within_boundary`` cut transitions off, or cut every initial state so
  that nothing was explored). A model without initial states is a
  :class:`~kspec.checker.model.ModelError`.
- Bounds hold in every phase: the run's :class:`~kspec.util.budget.Budget`
  (wall time and resident memory) is checked at every expansion, in the
  liveness analysis and while rebuilding traces; Ctrl-C anywhere gives the
  partial results with bound ``interrupted``.
"""

from __future__ import annotations

import collections
from array import array
import contextlib
import gc
import math
import random
import time
from typing import Any, Callable, Sequence

import attrs

from kspec.errors import KspecError
from kspec.checker.model import (
    Kind,
    Model,
    ModelError,
    PackedActions,
    PackedBoundary,
    PackedEncoding,
    PackedSymmetric,
    PackedSymmetricSteps,
    Independent,
    Property,
    Settling,
    Sliced,
    Stepped,
    Symmetric,
    SymmetricSteps,
    Verdict,
    actor_of,
    initial_states,
    select_properties,
    successors,
)
from kspec.checker.reduction import ample
from kspec.checker.search import breadth_first
from kspec.checker.trace import Trace, build
from kspec.checker.vacuity import Watch, nearest_key
from kspec.util.bounded import put_bounded
from kspec.util.budget import Budget, BudgetExceeded, peak_memory_bytes
from kspec.util.progress import Progress

__all__ = ["ExploreError", "ExploreResult", "Explorer", "LocalStore", "PropertyResult", "PropertyResults", "Space", "Stats",
           "explain", "explore"]

STRATEGIES = ("bfs", "dfs", "random")

TRACE_GRACE = 1.0
"""Seconds past the deadline allowed for rebuilding the traces of violations
already found (so a time limit does not throw away what the search found)."""


def explain(bound: str | None, detail: str = "") -> str | None:
    """The reason, in words, that a bound leaves a verdict inconclusive."""
    if bound is None:
        return None
    text = {
        "max_states": "the search stopped at max_states before it covered every reachable state",
        "max_depth": "states at max_depth were not expanded, so deeper states were not checked",
        "time_limit": "the time limit was reached before every reachable state was checked",
        "max_memory": "resident memory reached max_memory before every reachable state was checked",
        "interrupted": "interrupted (Ctrl-C) before every reachable state was checked",
        "stopped_at_first_violation": "the search stopped at the first violation of another property",
        "random": "random testing never proves a property",
        "boundary": "within_boundary cut transitions off, so the states beyond it were not checked",
    }.get(bound, f"the search stopped at {bound}")
    return f"{text} ({detail})" if detail else text


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
    reduction: bool = False
    reduction_note: str = ""
    reduced_expansions: int = 0
    slice_note: str = ""  # what the model left out because no property reads it (Sliced)
    stopped_decided: bool = False  # the search stopped once every property was decided (stop_when_decided)

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
            "reduction": {"partial_order": self.reduction, "note": self.reduction_note,
                          "reduced_expansions": self.reduced_expansions, "slice": self.slice_note},
            "stopped_when_decided": self.stopped_decided,
        }

    def reduction_text(self) -> str:
        """The reductions used, in words: ``partial-order reduction on (...)`` or
        off and why, then what the model left out, if anything."""
        sliced = f", {self.slice_note}" if self.slice_note else ""
        if self.reduction:
            return (f"partial-order reduction on ({self.reduced_expansions:,} states expanded by an ample set"
                    + (f"; {self.reduction_note}" if self.reduction_note else "") + ")" + sliced)
        return f"partial-order reduction off ({self.reduction_note})" + sliced


@attrs.frozen
class PropertyResult:
    """The verdict on one property. ``trace`` is the counterexample when
    violated (a lasso with ``cycle_start`` for liveness), or for a
    ``sometimes`` that holds, the example that shows it. ``bound`` names what
    stopped the search when the verdict is inconclusive, and ``reason`` says
    why in words. ``vacuous``: a property that holds while a witness of it
    was never reached (:mod:`kspec.checker.vacuity`) says why here; the
    verdict stays ``holds``. For a violated ``sometimes``: ``unreached`` says
    what no reachable state satisfies (the property's description, else its
    name), ``nearest`` how close the search came, in words, when the property
    measures closeness, and ``nearest_trace`` the path to that state."""

    name: str
    kind: Kind
    verdict: Verdict
    trace: Trace | None = None
    bound: str | None = None
    reason: str | None = None
    vacuous: str | None = None
    unreached: str | None = None
    nearest: str | None = None
    nearest_trace: Trace | None = None

    @property
    def cycle_start(self) -> int | None:
        return None if self.trace is None else self.trace.cycle_start

    def to_json(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "kind": str(self.kind), "verdict": str(self.verdict)}
        if self.bound:
            out["bound"] = self.bound
        if self.reason and self.verdict is Verdict.INCONCLUSIVE:
            out["reason"] = self.reason
        if self.trace is not None:
            out["example" if self.verdict is Verdict.HOLDS else "trace"] = self.trace.to_json()
            if self.kind.is_liveness:
                out["cycle_start"] = self.trace.cycle_start
                out["cycle_up_to_symmetry"] = self.trace.cycle_up_to_symmetry
        if self.vacuous:
            out["vacuous"] = self.vacuous
        if self.unreached:
            out["unreached"] = self.unreached
        if self.nearest:
            out["nearest"] = {"state": self.nearest, "trace": self.nearest_trace.to_json() if self.nearest_trace else None}
        return out

    def __str__(self) -> str:
        head = f"{self.name} ({self.kind}): {self.verdict}"
        if self.bound and self.verdict is Verdict.INCONCLUSIVE:
            head += f" (bound hit: {self.bound})"
        if self.reason and self.verdict is Verdict.INCONCLUSIVE:
            head += f": {self.reason}"
        if self.vacuous:
            head += f" (vacuous: {self.vacuous})"
        if self.unreached:
            head += f": never reached: {self.unreached}"
        if self.nearest:
            n = len(self.nearest_trace) if self.nearest_trace is not None else None
            steps = "" if n is None else f" ({n} step{'' if n == 1 else 's'} from the start)"
            head += f"; nearest state{steps}: {self.nearest}"
        if self.trace is not None and self.verdict is Verdict.VIOLATED:
            head += f", counterexample of {len(self.trace)} steps:\n{self.trace}"
        elif self.trace is not None:
            head += f", example of {len(self.trace)} steps"
        return head


class PropertyResults:
    """What every run's result shares (exhaustive or random): the results of
    its ``properties``, looked up by name, and one overall verdict."""

    properties: tuple[PropertyResult, ...]

    def __getitem__(self, name: str) -> PropertyResult:
        for res in self.properties:
            if res.name == name:
                return res
        raise KeyError(f"no result for {name!r}; have: {', '.join(r.name for r in self.properties)}")

    @property
    def verdict(self) -> Verdict:
        return Verdict.overall(r.verdict for r in self.properties)


@attrs.frozen
class ExploreResult(PropertyResults):
    """Every property's result and the statistics of the run."""

    properties: tuple[PropertyResult, ...]
    stats: Stats
    complete: bool
    bound: str | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        out = {
            "verdict": str(self.verdict),
            "complete": self.complete,
            "bound": self.bound,
            "stats": self.stats.to_json(),
            "properties": [r.to_json() for r in self.properties],
        }
        if self.reason and self.verdict is Verdict.INCONCLUSIVE:
            out["reason"] = self.reason
        return out


class LocalStore:
    """The seen-set of one partition: exact key -> parent key (None for initial states).

    Keys are stored whole, so there are no collisions.
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


class Space:
    """The model seen through keys: the packed fast path when the model has
    one (and ``packed`` is on), else the states themselves."""

    def __init__(self, model: Model, symmetry: bool, packed: bool):
        self.model = model
        self.packed = packed and isinstance(model, PackedEncoding)
        self.symmetry = symmetry
        if not symmetry:
            self.canon: Callable | None = None
        elif self.packed and isinstance(model, PackedSymmetric):
            self.canon = model.encoded_representative
        elif not self.packed and isinstance(model, Symmetric):
            self.canon = model.representative
        else:
            need = "encoded_representative" if self.packed else "representative"
            raise ExploreError(f"symmetry reduction needs the model to define {need}()")
        if self.packed:
            self.decode = model.decode
            self.concrete_steps = model.encoded_steps
            self.encode = model.encode
        else:
            self.decode = self.encode = _identity
            self.concrete_steps = model.step_list if isinstance(model, Stepped) else self._plain_steps
        self.steps = self.steps_against(())
        self._last = (object(), None)

    def _plain_steps(self, state):
        return [(i, nxt) for i, _, nxt in successors(self.model, state)]

    def steps_against(self, stored):
        """Successor keys by action index, as representatives under symmetry.
        A successor already in ``stored`` (a container of representatives,
        the search's seen-set) is not canonicalised again: a representative
        is the canonical member of its own orbit, so it is its own
        representative."""
        canon, concrete = self.canon, self.concrete_steps
        if canon is None:
            return concrete
        if self.packed and isinstance(self.model, PackedSymmetricSteps):
            return self.model.encoded_symmetric_steps
        if not self.packed and isinstance(self.model, SymmetricSteps):
            listed = self.model.symmetric_step_list
            return lambda key: listed(key, stored)
        return lambda key: [(i, x if x in stored else canon(x)) for i, x in concrete(key)]

    def init_keys(self) -> list:
        """Keys of the initial states (representatives under symmetry); a model
        without initial states is a ModelError."""
        keys = []
        for state in initial_states(self.model):
            key = self.encode(state)
            keys.append(self.canon(key) if self.canon else key)
        return keys

    def state(self, key):
        """The state record of a key (packed keys: a one-entry cache, properties share it)."""
        if not self.packed:  # keys are the states
            return key
        last_key, last_state = self._last
        if last_key is key or last_key == key:
            return last_state
        state = self.decode(key)
        self._last = (key, state)
        return state

    def predicate(self, condition, encoded):
        if self.packed and encoded is not None:
            return encoded
        if not self.packed:  # keys are the states
            return condition
        state = self.state
        return lambda key: condition(state(key))

    def boundary(self) -> Callable | None:
        """``within_boundary`` on keys; None when every state is within it."""
        model = self.model
        if self.packed and isinstance(model, PackedBoundary):
            return model.encoded_within_boundary
        if not self.packed:
            return model.within_boundary
        state = self.state
        return lambda key: model.within_boundary(state(key))

    def actions(self, key) -> Sequence:
        if self.packed and isinstance(self.model, PackedActions):
            return self.model.encoded_actions(key)
        return tuple(self.model.actions(self.state(key)))


def _identity(x):
    return x


@attrs.define
class Explorer:
    """Checker settings; :meth:`run` explores and returns an :class:`ExploreResult`.

    ``properties``: names to check (default all). ``strategy``: ``bfs``
    (shortest counterexamples), ``dfs`` (less memory for the frontier) or
    ``random`` (seeded random walks of up to ``max_depth`` steps, default 100,
    until ``max_states`` distinct states or ``time_limit``). ``symmetry``:
    use the model's representative. Bounds: ``max_states`` (distinct states
    stored), ``max_depth``, ``time_limit`` (seconds), ``max_memory`` (bytes of
    resident memory). ``budget``: the run's wall-time and memory budget, shared
    with the phases before the search (loading the model); without one,
    ``time_limit`` and ``max_memory`` make one when the search starts.
    ``stop_at_first``: stop at the first safety violation. ``progress``: None
    shows progress on a terminal only. ``packed``: use the model's packed fast
    path when it has one. ``por``: partial-order reduction where the model
    declares footprints (liveness checks included, see
    :meth:`_Run._unproven`); :meth:`reduction_plan` says whether it applies.
    ``stop_when_decided``: once every property is decided (each ``always``
    violated, each ``sometimes`` reached; none is a liveness property) the
    search stops: the rest of the state space cannot change a verdict, and
    breadth-first search has already found the shortest traces. The run is
    complete; its statistics say it stopped.
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
    budget: Budget | None = None
    por: bool = True
    stop_when_decided: bool = False

    def run(self) -> ExploreResult:
        if self.strategy not in STRATEGIES:
            raise ExploreError(f"unknown strategy {self.strategy!r}; use one of {', '.join(STRATEGIES)}")
        props = select_properties(list(self.model.properties()), self.properties)
        if isinstance(self.model, Settling):
            self.model.reduce_settling = self.por
        space = Space(self.model, self.symmetry, self.packed)
        budget = self.run_budget()
        if self.strategy == "random":
            return _RandomRun(self, props, space, budget).run()
        first = _Run(self, props, space, budget)
        result = first.run()
        if not first.redo:
            return result
        why = (f"{first.redo}, so the checks were explored again in full, "
               f"after {result.stats.distinct_states:,} states with the reduction")
        again = _Run(self, props, space, budget, reduction_off=why).run()
        stats = attrs.evolve(again.stats, seconds=again.stats.seconds + result.stats.seconds)
        return attrs.evolve(again, stats=stats)

    def reduction_plan(self, props: Sequence[Property], space: Space) -> tuple[frozenset | None, str]:
        """The visible keys when partial-order reduction applies (else None),
        and a note saying why it is off, or what it leaves out."""
        model = self.model
        if not self.por:
            return None, "--no-por"
        if self.strategy == "random":
            return None, "random walks expand one step at a time"
        if space.packed:
            return None, "the packed fast path is on (explore with packed=False to reduce)"
        if not isinstance(model, Independent):
            return None, "the model does not declare what its steps read and write"
        undeclared = model.undeclared_steps()
        if undeclared:
            return None, f"steps without declared footprints: {undeclared}"
        # a convergence check's own reads need not be visible (see _Run._unproven)
        visible = model.visible_keys([p for p in props if p.kind is not Kind.EVENTUALLY_ALWAYS])
        if visible is None:
            return None, "every step may change what a checked property reads (or a check does not say what it reads)"
        return frozenset(visible), "ample sets from declared footprints"

    def run_budget(self) -> Budget | None:
        """The budget given, else one made of ``time_limit`` and ``max_memory``, else None."""
        if self.budget is not None:
            return self.budget
        if self.time_limit is None and self.max_memory is None:
            return None
        return Budget(time_limit=self.time_limit, max_memory=self.max_memory)


def explore(model: Model, **settings) -> ExploreResult:
    """``Explorer(model, **settings).run()``."""
    return Explorer(model, **settings).run()


@contextlib.contextmanager
def _quiet_collector():
    """Keep CPython's cyclic collector from rescanning the stored states.

    The search allocates millions of small long-lived objects (states, their
    tuples, dict entries) and no reference cycles; every full collection walks
    all of them (a quarter of the run time on myapp-two-faults). Inside the
    block young garbage is collected less often, and the function yielded,
    called with the number of states stored, moves what exists into the
    permanent generation (``gc.freeze``) each time the store has grown by a
    quarter. On exit the thresholds are restored and frozen objects are
    returned to the collector, unless something froze objects before.
    """
    thresholds = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    next_freeze = 0

    def settle(stored: int) -> None:
        nonlocal next_freeze
        if stored >= next_freeze:
            gc.freeze()
            next_freeze = stored + stored // 4 + 4096

    gc.set_threshold(20_000, 50, 1000)
    try:
        yield settle
    finally:
        gc.set_threshold(*thresholds)
        if not frozen_before:
            gc.unfreeze()


_DECIDED = "decided"  # every property decided: not a bound (stop_when_decided)


class _Stop(Exception):
    def __init__(self, bound: str):
        self.bound = bound


class _Run:
    """One exhaustive search (BFS or DFS)."""

    PROGRESS_EVERY = 2048

    def __init__(self, settings: Explorer, props: Sequence[Property], space: Space, budget: Budget | None = None,
                 reduction_off: str = ""):
        self.settings = settings
        self.props = props
        self.space = space
        self.budget = budget
        self.empty = False  # within_boundary excluded every initial state
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
        self._last_bits: list = []
        self._all_sccs: list | None = None
        self.budget_phase = ""  # the model's phase a BudgetExceeded came from
        self.budget_reached = ""  # and what that phase had reached
        self.watch = Watch((), space.predicate)  # witnesses reached, set up by _search
        plan = (None, reduction_off) if reduction_off else settings.reduction_plan(props, space)
        self.visible, self.reduction_note = plan
        self.reduced = 0  # states expanded by an ample set
        self.stopped_decided = False
        # liveness under the reduction: the actors every liveness property assumes fair (a state where
        # another one is enabled is expanded in full), and whether the verdicts need the full graph
        self.fair_actors = frozenset.intersection(*(props[i].fair for i in self.liveness)) if self.liveness else None
        self._fair_mask = (0, 0)  # (actors known, bitmask of the fair ones among them)
        self.redo = ""  # why the verdicts of this reduced search need the full one
        self._ample_memo: dict = {}
        self.trying = True  # ample sets are still computed (see TRIAL)
        self._tried = 0

    # -- search ----------------------------------------------------------------

    def run(self) -> ExploreResult:
        s = self.settings
        start = time.monotonic()
        progress = Progress(s.progress)
        bound = None
        with _quiet_collector() as settle:
            try:
                self._search(progress, settle)
            except _Stop as stop:
                bound = stop.bound
            except BudgetExceeded as stop:  # raised by the model itself, e.g. while settling its initial states
                bound, self.budget_phase, self.budget_reached = stop.bound, stop.phase, stop.reached
            except KeyboardInterrupt:
                bound = "interrupted"
            finally:
                progress.done()
            if bound == _DECIDED:
                bound, self.depth_cut, self.stopped_decided = None, False, True
            if self.depth_cut and bound is None:
                bound = "max_depth"
            complete = bound is None and not self.empty
            results, late_bound = self._results(complete, bound)
            if complete and late_bound is None:
                self.redo = self._unproven(results)
            if self.liveness and self.reduced and not self.redo:
                self.reduction_note += "; liveness: weak fairness judged on every enabled step"
        if bound is None and late_bound is not None:  # the liveness phase or a trace hit the budget
            bound, complete = late_bound, False
        if bound is None and self.empty:
            bound = "boundary"
        seconds = time.monotonic() - start
        stats = Stats(
            len(self.store), self.transitions, self.max_depth, seconds, peak_memory_bytes(), s.strategy, s.symmetry,
            self.visible is not None, self.reduction_note, self.reduced,
            s.model.slice_note if isinstance(s.model, Sliced) else "", self.stopped_decided,
        )
        ordered = tuple(results[i] for i in range(len(self.props)))
        return ExploreResult(ordered, stats, complete, bound, self._reason(bound))

    def _reason(self, bound: str | None) -> str | None:
        if bound == "boundary" and self.empty:
            return "within_boundary excludes every initial state: no state was explored"
        if self.budget_phase:
            reached = f", {self.budget_reached}" if self.budget_reached else ""
            return f"{explain(bound)} (reached while {self.budget_phase}{reached})"
        return explain(bound)

    def _search(self, progress: Progress, settle: Callable[[int], None]) -> None:
        s, space, store = self.settings, self.space, self.store
        parent = self.ids if self.graph else store.parent  # the seen-set
        steps = space.steps_against(parent)
        boundary = space.boundary()
        limit = s.max_states if s.max_states is not None else math.inf
        max_depth = s.max_depth if s.max_depth is not None else math.inf
        budget = self.budget
        bounded = budget is not None and (budget.deadline is not None or budget.max_memory is not None)
        exceeded = budget.exceeded if bounded else None
        graph = self.graph
        outside: set = set()
        self.depth_cut = False
        checks = self._checks()
        watch = self.watch = Watch(self.props, space.predicate)
        queue: collections.deque = collections.deque()
        pop = queue.popleft if s.strategy == "bfs" else queue.pop
        count = 0
        # the states found while expanding the current breadth-first level (the cycle proviso's exemption)
        fresh: set | None = set() if self.visible is not None and s.strategy == "bfs" else None
        level = 0

        def admit(key, depth) -> None:
            """Queue and check a state the caller has just stored."""
            nonlocal count, checks
            count += 1
            if fresh is not None:
                fresh.add(key)
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
                        if not checks and s.stop_when_decided and not self.liveness:
                            raise _Stop(_DECIDED)
            if watch.active:
                watch.see(key)
            if count >= limit:
                raise _Stop("max_states")

        inits = space.init_keys()
        for key in inits:
            if key in parent:
                continue
            if boundary is not None and not boundary(key):
                continue
            if graph:
                self._add_vertex(key, -1)
            else:
                parent[key] = None
            admit(key, 0)
        if not queue:  # every initial state is outside the boundary: nothing to explore
            self.empty = self.cut = True
            return

        tick = 0
        while queue:
            if exceeded is not None:  # every expansion: a bound overshoots by one expansion at most
                bound = exceeded()
                if bound is not None:
                    raise _Stop(bound)
            key, depth = pop()
            if fresh is not None and depth != level:
                level = depth
                fresh.clear()
            tick += 1
            if tick >= self.PROGRESS_EVERY:
                tick = 0
                progress.update("explored", count, f"{self.transitions:,} transitions", f"depth {self.max_depth}",
                                f"queue {len(queue):,}")
                settle(count)
            if depth >= max_depth:
                self.depth_cut = True
                continue
            enabled = None
            if self.visible is None or not self.trying:
                succ = steps(key)
            else:
                succ, enabled = self._ample(key, parent, fresh)
            self.transitions += len(succ)
            if graph:
                self._expand_graph(key, depth, succ, boundary, outside, admit, enabled)
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

    def _ample(self, key, seen, fresh: set | None) -> tuple[list, int | None]:
        """The successors by an ample set of ``key``'s steps, or all of them
        when none applies or when one would reach a state stored before
        (the cycle proviso: every cycle of the reduced graph then holds a fully
        expanded state). Under breadth-first search a successor first found
        while expanding the current level (in ``fresh``) is deeper than
        ``key``, so it cannot close a cycle and does not count; every cycle
        has an edge that does not go one level deeper, to a state stored before.

        With liveness checks (the graph is kept) also the actors of *every*
        enabled step, as a bitmask: weak fairness is judged on what is
        enabled, not on what was expanded. A state where an actor some
        liveness property does not assume fair is enabled (a fault, an
        operation) is expanded in full; see :meth:`_unproven`."""
        space = self.space
        concrete = space.concrete_steps(key)
        canon = space.canon or _identity
        enabled = None
        if self.graph:
            bits = self._actor_bits(key)
            enabled = 0
            for i, _ in concrete:
                enabled |= 1 << bits[i]
        chosen = None
        if len(concrete) > 1 and (enabled is None or not enabled & ~self._fair_bits()):
            self._tried += 1
            if self._tried == self.TRIAL and self.reduced * self.PAYOFF < self.TRIAL:
                self.trying = False  # the rest in full: sound, and cheaper than footprints that never pay
                self.reduction_note += (f"; fewer than 1 in {self.PAYOFF} of the first {self.TRIAL:,} states "
                                        f"tried had a smaller ample set, so the rest were expanded in full")
            footprints = space.model.footprints(space.state(key))
            chosen = None if footprints is None else self._ample_of(footprints)
        if chosen is None:
            return [(i, x if x in seen else canon(x)) for i, x in concrete], enabled
        subset = [(i, x if x in seen else canon(x)) for i, x in concrete if i in chosen]
        if 0 < len(subset) < len(concrete) and not any(
                nxt in seen and (fresh is None or nxt not in fresh) for _, nxt in subset):
            self.reduced += 1
            return subset, enabled
        done = dict(subset)  # the cycle proviso: every step, the chosen ones canonicalised once
        return [(i, done[i] if i in done else x if x in seen else canon(x)) for i, x in concrete], enabled

    AMPLE_MEMO = 100_000
    # ample sets are given up when fewer than 1 in PAYOFF of the first TRIAL states tried reduce
    TRIAL, PAYOFF = 5_000, 100

    def _ample_of(self, footprints) -> frozenset | None:
        """The step indexes of ``footprints``' ample set (None: every step),
        memoised: states far apart share their families and enabled steps."""
        memo = self._ample_memo
        chosen = memo.get(footprints, memo)
        if chosen is memo:
            found = ample(footprints, self.visible)
            chosen = None if found is None else frozenset(found)
            put_bounded(memo, footprints, chosen, self.AMPLE_MEMO)
        return chosen

    def _fair_bits(self) -> int:
        """The bitmask of the actors every liveness property assumes weakly fair."""
        known, mask = self._fair_mask
        if known != len(self.actor_index):
            mask = 0
            for name, bit in self.actor_index.items():
                if name in self.fair_actors:
                    mask |= 1 << bit
            self._fair_mask = (len(self.actor_index), mask)
        return mask

    def _unproven(self, results: dict) -> str:
        """Why a verdict of this reduced search needs the full one ('' when none does).

        A verdict of *vacuous* says a witness was never reached: the
        reduction keeps the values of what checks read, not of what
        witnesses read, so that is said only after a full search.

        Liveness: the reduced graph keeps the fair behaviours when it has no
        cycle. Every infinite path of the full graph has a counterpart in the
        reduced one (strong stubborn sets: the first step of the path that is
        in the state's set can be moved to the front, or, if none is, any
        enabled member can be prepended), so an acyclic reduced graph means an
        acyclic full graph: every fair behaviour then stops in a state where
        no fair actor is enabled. Every such state is stored: along a path to
        it, a reduced state's set holds a step of the path (moved to the
        front), since an enabled member the path never takes would still be
        enabled at its end, and that member is a fair actor's (a state where
        another one is enabled is expanded in full). An ``eventually_always``
        verdict depends on those states alone, so what it reads need not even
        be visible; a ``leads_to`` also on the order of its two conditions
        along the path, which visible keys keep. Violations found on the
        reduced graph are real whatever its shape (its edges are real, and
        fairness is judged on every enabled actor). So a liveness property not
        violated on a reduced graph with a cycle is unproven."""
        if not self.reduced:
            return ""
        if any(r.vacuous for r in results.values()):
            return "a witness was not reached with the reduction"
        if not self.liveness or all(results[i].verdict is Verdict.VIOLATED for i in self.liveness):
            return ""
        return "the reduced graph has a cycle" if self._has_cycle() else ""

    def _has_cycle(self) -> bool:
        """Whether the explored graph has a cycle (a self-loop counts)."""
        view = self.edges.view(None)
        if self._all_sccs is None:
            self._all_sccs = _tarjan(view.targets, len(view))
        for comp in self._all_sccs:
            if len(comp) > 1 or view.loops(comp[0]):
                return True
        return False

    def _checks(self) -> list:
        """Undecided safety properties as (index, predicate on keys, value that decides, kind)."""
        checks = []
        for i, prop in enumerate(self.props):
            if prop.kind.is_liveness or i in self.found:
                continue
            want = prop.kind is Kind.SOMETIMES
            checks.append((i, self.space.predicate(prop.condition, prop.encoded), want, prop.kind))
        return checks

    def _actor_bits(self, key) -> list[int]:
        """Action index -> actor bit for the actions of ``key`` (memoised on the
        action table: models often return one shared table)."""
        actions = self.space.actions(key)
        if actions is not self._last_actions:
            self._last_actions = actions
            self._last_bits = self._bits_of(actions)
        return self._last_bits

    def _bits_of(self, actions: Sequence) -> list[int]:
        """The actor index of each action of a table (new actors numbered as met)."""
        index = self.actor_index
        bits = []
        for action in actions:
            name = actor_of(action)
            bit = index.get(name)
            if bit is None:
                bit = len(index)
                if bit >= 1 << _ACTOR_BITS:  # pragma: no cover - 65,536 actors
                    raise ExploreError("too many actors for the liveness graph")
                index[name] = bit
            bits.append(bit)
        return bits

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

    def _expand_graph(self, key, depth, succ, boundary, outside, admit, enabled: int | None = None) -> None:
        """Admit the successors of ``key`` and record its edges (for liveness)
        as target ids at once, so the graph holds small ints and every state
        object is stored once; targets outside the boundary get no edge.
        ``enabled``: the actors of every enabled step, when ``succ`` is an
        ample set's (else ``succ``'s own)."""
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
            self.enabled[me] = mask if enabled is None else mask | enabled

    # -- results -----------------------------------------------------------------

    def _results(self, complete: bool, bound: str | None) -> tuple[dict[int, PropertyResult], str | None]:
        """Every property's result, safety first; and the bound hit after the
        search (in the liveness analysis or while rebuilding a trace), if any."""
        out: dict[int, PropertyResult] = {}
        late: str | None = None
        decided = complete and not self.cut
        for i, prop in enumerate(self.props):
            if prop.kind.is_liveness:
                continue
            key = self.found.get(i)
            if key is not None:
                verdict = Verdict.VIOLATED if prop.kind is Kind.ALWAYS else Verdict.HOLDS
                try:
                    out[i] = PropertyResult(prop.name, prop.kind, verdict, self._trace(self.store.path_to(key)))
                    continue
                except BudgetExceeded as err:
                    late = late or err.bound
                except KeyboardInterrupt:
                    late = "interrupted"
                out[i] = self._inconclusive(prop, late, "a state deciding it was found, but its trace was not rebuilt")
            elif decided and prop.kind is Kind.ALWAYS:
                out[i] = PropertyResult(prop.name, prop.kind, Verdict.HOLDS, vacuous=self.watch.vacuous(i))
            elif decided:
                out[i] = self._never_reached(i, prop)
            else:  # a bound was hit, or within_boundary cut states off: nothing proven
                out[i] = self._inconclusive(prop, bound or "boundary")
        for i in self.liveness:
            prop = self.props[i]
            # the budget is spent already: the liveness analysis could not start
            stop = late or (bound if bound in ("interrupted", "time_limit", "max_memory") else None)
            if stop is not None:
                out[i] = self._inconclusive(prop, stop)
                continue
            try:
                lasso = _find_lasso(self, prop)
                if lasso is not None:
                    out[i] = PropertyResult(prop.name, prop.kind, Verdict.VIOLATED, self._lasso_trace(*lasso))
                    continue
            except BudgetExceeded as err:
                late = err.bound
                out[i] = self._inconclusive(prop, late, "in the liveness analysis")
                continue
            except KeyboardInterrupt:
                late = "interrupted"
                out[i] = self._inconclusive(prop, late, "in the liveness analysis")
                continue
            if decided:
                out[i] = PropertyResult(prop.name, prop.kind, Verdict.HOLDS, vacuous=self.watch.vacuous(i))
            else:
                out[i] = self._inconclusive(prop, bound or "boundary")
        return out, late

    def _never_reached(self, i: int, prop: Property) -> PropertyResult:
        """A violated ``sometimes``, with the nearest state the search reached
        when the property measures closeness (found, and its trace rebuilt,
        within the time allowed for traces)."""
        violated = PropertyResult(prop.name, prop.kind, Verdict.VIOLATED,
                                  unreached=(prop.description or prop.name).rstrip("."))
        if prop.closeness is None or prop.nearest is None:
            return violated
        keys = self.keys if self.graph else self.store.parent
        try:
            key = nearest_key(self.space.predicate(prop.closeness, None), keys, self._check_trace_time)
            if key is None:
                return violated
            trace = self._trace(self.store.path_to(key))
        except BudgetExceeded:
            return violated
        return attrs.evolve(violated, nearest=prop.nearest(self.space.state(key)), nearest_trace=trace)

    def _inconclusive(self, prop: Property, bound: str, detail: str = "") -> PropertyResult:
        reason = self._reason(bound) if not detail else explain(bound, detail)
        return PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound, reason=reason)

    def check_budget(self) -> None:
        """Raise BudgetExceeded when the run's budget is spent (liveness analysis)."""
        if self.budget is not None:
            self.budget.check()

    def _check_trace_time(self) -> None:
        """Rebuilding traces of what was found may run :data:`TRACE_GRACE`
        seconds past the deadline, no more."""
        budget = self.budget
        if budget is not None and budget.deadline is not None and time.monotonic() > budget.deadline + TRACE_GRACE:
            raise BudgetExceeded("time_limit")

    # -- traces with concrete names ------------------------------------------------

    def _walk(self, concrete, reps: Sequence) -> tuple[list, list]:
        """Follow representatives ``reps`` (after the first) from concrete key
        ``concrete``; returns the concrete keys and action indexes taken."""
        space = self.space
        canon = space.canon or _identity
        path, indexes = [concrete], []
        check = self._check_trace_time
        for rep in reps:
            check()
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
        for state in initial_states(self.space.model):
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

    def targets(self, i: int) -> list | None:
        """The target ids of ``view[i]`` alone (what components are found from)."""
        start = self.first[i]
        allowed = self.allowed
        if start < 0 or (allowed is not None and not allowed[i]):
            return None
        shift = _ACTOR_BITS
        targets = [e >> shift for e in self.flat[start : self.last[i]]]
        if allowed is None:
            return targets
        return [j for j in targets if allowed[j]]

    def loops(self, i: int) -> bool:
        """Has state ``i`` an edge to itself (in the view)?"""
        targets = self.targets(i)
        return targets is not None and i in targets


def _find_lasso(run: _Run, prop: Property) -> tuple[list, list] | None:
    """A fair lasso violating a liveness property, as (prefix keys, cycle keys), or None.
    Checks the run's budget as it goes (BudgetExceeded stops it)."""
    keys, enabled = run.keys, run.enabled
    check = run.check_budget
    n = len(keys)
    pred = run.space.predicate(prop.condition, prop.encoded)
    fair = 0
    for name in prop.fair:
        bit = run.actor_index.get(name)
        if bit is not None:  # an actor never enabled imposes nothing
            fair |= 1 << bit
    if prop.kind is Kind.EVENTUALLY_ALWAYS:
        allowed = [True] * n
        bad = _over_keys(lambda k: not pred(k), keys, check)
        sources = None
    else:
        goal = run.space.predicate(prop.goal, prop.encoded_goal)
        allowed = _over_keys(lambda k: not goal(k), keys, check)
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
    check()
    if sources is None:  # the whole graph: the same for every eventually_always property
        if run._all_sccs is None:
            run._all_sccs = _tarjan(sub.targets, n, check)
        comps = run._all_sccs
    else:
        comps = _tarjan(sub.targets, n, check)
    for count, comp in enumerate(comps):
        if not count & 1023:
            check()
        if len(comp) == 1 and not sub.loops(comp[0]):
            continue  # a lone state without a self-loop: no cycle
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
        reached = breadth_first(sources, sub.__getitem__, goal=anchors.__contains__, check=check, check_every=1024)
        if not reached.found:
            return None
        anchor = reached.goal
        start = reached.source_of(anchor)
        prefix = run.store.path_to(keys[start]) + [keys[i] for _, i in reached.path_to(anchor)]
    info = anchors[anchor]
    if info is None:
        return prefix, []
    members, _, _ = info
    cycle = _fair_cycle(anchor, members, sub, enabled, fair, check)
    return prefix, [keys[i] for i in cycle]


def _over_keys(fn: Callable[[Any], bool], keys: list, check: Callable[[], None], chunk: int = 8192) -> list[bool]:
    """``[fn(k) for k in keys]``, checking the budget between chunks."""
    out: list[bool] = []
    for start in range(0, len(keys), chunk):
        check()
        out += [fn(k) for k in keys[start : start + chunk]]
    return out


def _fair_cycle(anchor: int, members: set, sub, enabled: list, fair: int, check=None) -> list[int]:
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
        reached = breadth_first([cur], local.__getitem__, edge_goal=edge_ok, check=check, check_every=1024)
        if not reached.found:  # pragma: no cover
            raise AssertionError("no such path inside a strongly connected component")
        cycle.extend(node for _, node in reached.goal_path())
        cur = reached.goal

    for b in bits:
        if any(not enabled[i] >> b & 1 for i in members):
            if enabled[cur] >> b & 1:
                go(lambda j, _b, b=b: not enabled[j] >> b & 1)
        else:
            go(lambda j, eb, b=b: eb == b)
    if cur != anchor or not cycle:
        go(lambda j, _b: j == anchor)
    return cycle


def _tarjan(adj: Callable[[int], Sequence[int] | None], n: int,
            check: Callable[[], None] | None = None) -> list[list[int]]:
    """Strongly connected components of states ``0 .. n-1``, iteratively (no
    recursion limit). ``adj(v)`` is v's target ids, or None; it is asked once
    per v. ``check`` (a budget check) is called every 4,096 roots and states
    visited."""
    index = array("q", [-1]) * n
    low = array("q", [0]) * n
    on_stack = bytearray(n)
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for root in range(n):
        if check is not None and not root & 4095:
            check()
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        work = [(root, iter(adj(root) or ()))]
        while work:
            v, edges = work[-1]
            for w in edges:  # on from where v's edges were left
                if index[w] == -1:
                    if check is not None and not counter & 4095:
                        check()
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = 1
                    work.append((w, iter(adj(w) or ())))
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:  # every edge of v followed: v is done
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

    DEFAULT_SECONDS = 10.0  # without a time limit, random walks stop after this long

    def __init__(self, settings: Explorer, props: Sequence[Property], space: Space, budget: Budget | None = None):
        self.settings, self.props, self.space = settings, props, space
        self.budget = budget if budget is not None and budget.deadline is not None else Budget(
            self.DEFAULT_SECONDS, budget.max_memory if budget is not None else None)

    def run(self) -> ExploreResult:
        s, space = self.settings, self.space
        rng = random.Random(s.seed)
        start = time.monotonic()
        exceeded = self.budget.exceeded
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
        inits = [space.encode(st) for st in initial_states(space.model)]
        bound = "random"
        try:
            while len(seen) < limit and len(found) < len(preds):
                spent = exceeded()
                if spent is not None:
                    if spent == "max_memory":
                        bound = spent
                    break
                path, indexes = [rng.choice(inits)], []
                while True:
                    if exceeded() is not None:
                        break
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
                results.append(PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound,
                                              reason=explain(bound)))
        stats = Stats(len(seen), transitions, max_depth, time.monotonic() - start, peak_memory_bytes(), "random", False,
                      slice_note=self.settings.model.slice_note if isinstance(self.settings.model, Sliced) else "")
        return ExploreResult(tuple(results), stats, False, bound, explain(bound))

    def _trace(self, path: list, indexes: list) -> Trace:
        states = [self.space.decode(k) for k in path]
        actions = [tuple(self.space.model.actions(st))[i] for st, i in zip(states, indexes)]
        return build(states, actions, model=self.space.model)
