"""Randomized exploration: the same model driven by Hypothesis stateful testing.

For state spaces too large to exhaust. :func:`fuzz` builds a
``RuleBasedStateMachine`` from the model protocol alone, checks every
``always`` property as an invariant after each step, and returns a failure
shrunk to a short trace as a :class:`~kspec.checker.trace.Trace`.

How a behaviour is generated (the search strategy, generic over models):

- **Swarm profile per behaviour** (Groce et al., "Swarm testing", ISSTA 2012).
  The ``initialize`` rule picks an initial state and draws a priority tier in
  ``0..TIERS-1`` for every action class (``RCCreatePod``, ``NodeCrash``, ...
  found in the first states explored). In each state only the enabled actions
  of the highest-tier enabled classes are candidates. So one behaviour lets the
  controllers settle before any fault strikes, another lets faults fire first,
  another never garbage-collects while anything else can happen: the rare
  orderings that deep bugs need become common, whereas a uniform random walk
  spreads its steps over every enabled action. A class is never switched off
  outright: a lowest-tier class still acts when nothing else can, so no
  behaviour dead-ends early. All tiers 0 is the uniform walk, and it is where
  Hypothesis shrinks the profile to (it "shrinks open", like its feature flags).
- **Stable choices.** A step draws its class from the fixed list of classes and
  its action from that class's entries in ``actions(state)``, each with
  ``sampled_from(...).filter(enabled)``, as Hypothesis does for rules, so a
  step keeps its meaning when the shrinker deletes the steps before it.
- ``hypothesis.target`` maximises each ``always`` property's ``score=``
  (higher = closer to a violation), when the model gives one.
- **Shrinking.** Hypothesis shrinks the failing behaviour (deleting steps,
  simplifying choices); then :func:`shorten` removes what is still redundant on
  the concrete trace: it jumps ahead whenever a state on the trace has a later
  state on it as a direct successor, and deletes single steps while the rest
  still replays and still reaches a violating state. The result is 1-minimal
  (no single step can be removed), usually the breadth-first length; only the
  explorer guarantees the shortest.

The seed is printed by the CLI and accepted back for replay; the example
database is off so that a seed alone decides the run.

Verdicts: a violated ``always`` is ``violated`` (with the shrunk trace); a
``sometimes`` seen in some run ``holds`` (with the shortest example seen);
everything else is ``inconclusive`` with bound ``random``: random testing
never proves a property.

Bounds and Ctrl-C: the run's :class:`~kspec.util.budget.Budget` is checked at
every step. Hypothesis must not see a Ctrl-C arrive at an arbitrary point: it
treats an exception during its final replay of a failure as part of the
failure (the interrupt then surfaces as a ``FlakyFailure``, or not at all).
So while :func:`fuzz` runs, SIGINT only sets a flag; the next step raises
:class:`RunStopped` (a ``KeyboardInterrupt``, which Hypothesis passes
through), and whatever the machine recorded so far (the latest violation,
``sometimes`` examples) becomes the partial result, with bound
``interrupted`` (or the budget's ``time_limit`` / ``max_memory``).
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from typing import Any, Callable, Sequence

import attrs
import hypothesis
import hypothesis.strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, invariant, rule

from kspec.checker.explore import TRACE_GRACE, PropertyResult, PropertyResults, Space, explain
from kspec.checker.model import Kind, Model, Property, Verdict, actor_of, initial_states, select_properties, successors
from kspec.checker.search import breadth_first
from kspec.checker.trace import Trace, build
from kspec.util.budget import Budget, BudgetExceeded

__all__ = ["TIERS", "FuzzResult", "PropertyViolated", "RunStopped", "action_classes", "fuzz", "machine_for", "shorten"]

TIERS = 4
"""Priority tiers a behaviour's swarm profile assigns to actors and to action classes."""

_LOWEST = (False, 0, 0)  # the priority of a class not seen up front


class PropertyViolated(AssertionError):
    """Raised inside the state machine when an invariant fails; carries the
    path as keys of the explored space and the actions taken."""

    def __init__(self, name: str, keys: list, actions: list):
        super().__init__(f"property {name} violated after {len(actions)} steps")
        self.name = name
        self.keys = keys
        self.actions = actions


class RunStopped(KeyboardInterrupt):
    """Raised by a step when the run must stop (Ctrl-C or the budget); a
    ``KeyboardInterrupt`` so that Hypothesis passes it through untouched."""

    def __init__(self, bound: str):
        super().__init__(bound)
        self.bound = bound


@attrs.frozen
class FuzzResult(PropertyResults):
    """Verdicts of a randomized run, the seed that reproduces it, and its size.

    ``seconds_to_violation`` is the time until the first violation was seen
    (before shrinking), None without one."""

    properties: tuple[PropertyResult, ...]
    seed: int
    examples: int
    steps: int
    seconds: float
    seconds_to_violation: float | None = None

    def to_json(self) -> dict:
        stats = {"examples": self.examples, "steps": self.steps, "seconds": round(self.seconds, 3)}
        if self.seconds_to_violation is not None:
            stats["seconds_to_violation"] = round(self.seconds_to_violation, 3)
        return {
            "verdict": str(self.verdict),
            "seed": self.seed,
            "stats": stats,
            "properties": [r.to_json() for r in self.properties],
        }


class _Record:
    """What the runs observed, across examples, and why the run stopped early
    (``stopped``: ``interrupted``, ``time_limit``, ``max_memory``)."""

    def __init__(self, budget: Budget | None = None):
        self.examples = 0
        self.steps = 0
        self.seen: dict[str, tuple[list, list]] = {}  # sometimes name -> shortest (keys, actions)
        self.first_violation: float | None = None
        self.violation: PropertyViolated | None = None  # the latest one raised
        self.budget = budget
        self.stopped: str | None = None

    def check(self) -> None:
        """Raise :class:`RunStopped` once the run must stop (at every step)."""
        if self.stopped is None and self.budget is not None:
            self.stopped = self.budget.exceeded()
        if self.stopped is not None:
            raise RunStopped(self.stopped)


def action_classes(model: Model, limit: int = 2000, check: Callable[[], None] | None = None) -> dict[type, str]:
    """The action classes seen in the first ``limit`` states (breadth-first),
    in the order first seen, each with its actor."""
    classes: dict[type, str] = {}

    def expand(state):
        for action in model.actions(state):
            classes.setdefault(type(action), actor_of(action))
        return [(nxt, None) for _, _, nxt in successors(model, state)]

    breadth_first(initial_states(model), expand, max_nodes=limit, check=check)
    return classes


class _Tables:
    """For an ``actions(state)`` table: the table indexes of each action class."""

    def __init__(self):
        self._last: tuple = ((), {})
        self._by_content: dict = {}

    def groups(self, table: Sequence) -> dict[type, tuple[int, ...]]:
        last_table, last_groups = self._last
        if table is last_table:  # packed models return one table object
            return last_groups
        table = tuple(table)
        found = self._by_content.get(table)
        if found is None:
            by: dict[type, list[int]] = {}
            for i, action in enumerate(table):
                by.setdefault(type(action), []).append(i)
            found = {cls: tuple(ix) for cls, ix in by.items()}
            if len(self._by_content) < 4096:
                self._by_content[table] = found
        self._last = (table, found)
        return found


def machine_for(model: Model, props: Sequence[Property], record: _Record | None = None) -> type:
    """A ``RuleBasedStateMachine`` class driving ``model`` and checking ``props``."""
    space = Space(model, symmetry=False, packed=True)  # the packed fast path when the model has one
    inits = [space.encode(s) for s in initial_states(model)]
    record = record or _Record()
    inside = space.boundary()
    invariants = [(p.name, space.predicate(p.condition, p.encoded)) for p in props if p.kind is Kind.ALWAYS]
    reachables = [(p.name, space.predicate(p.condition, p.encoded)) for p in props if p.kind is Kind.SOMETIMES]
    scores = [
        (p.name, space.predicate(p.score, p.encoded_score)) for p in props if p.kind is Kind.ALWAYS and p.score is not None
    ]
    actor = action_classes(model, check=record.check)
    classes = list(actor)
    actors = list(dict.fromkeys(actor.values()))
    rank = {cls: i for i, cls in enumerate(classes)}
    fair = frozenset().union(*(p.fair for p in model.properties()))
    tables = _Tables()

    class ModelMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.keys: list = []
            self.actions: list = []
            self.priority: dict[type, tuple] = {}
            self.best: dict[str, float] = {}
            self._at: Any = object()
            self._enabled: dict[int, Any] = {}
            self._by_class: dict[type, tuple[int, ...]] = {}
            self._allowed: list[type] = []
            self._allowed_set: set = set()
            self._class_choice = st.sampled_from(classes).filter(lambda c: c in self._allowed_set)
            self._action_choices: dict[tuple, Any] = {}
            record.examples += 1

        @initialize(
            index=st.integers(0, len(inits) - 1),
            fair_first=st.booleans() if fair else st.just(False),
            actor_tiers=st.tuples(*(st.integers(0, TIERS - 1) for _ in actors)),
            class_tiers=st.tuples(*(st.integers(0, TIERS - 1) for _ in classes)),
        )
        def start(self, index, fair_first, actor_tiers, class_tiers):
            """Pick an initial state and this behaviour's swarm profile: a
            priority per action class, compared as (fair actor, when
            ``fair_first``; the actor's tier; the class's tier)."""
            self.keys = [inits[index]]
            tier_of_actor = dict(zip(actors, actor_tiers))
            self.priority = {
                cls: (fair_first and actor[cls] in fair, tier_of_actor[actor[cls]], tier)
                for cls, tier in zip(classes, class_tiers)
            }

        def _refresh(self) -> None:
            """Enabled steps of the current state, and the classes allowed by the profile."""
            key = self.keys[-1]
            if self._at is key:
                return
            self._at = key
            if inside is not None and not inside(key):
                self._enabled, self._allowed = {}, []
                return
            self._enabled = dict(space.concrete_steps(key))
            groups = tables.groups(space.actions(key))
            enabled = self._enabled
            by_class = {cls: ix for cls, ix in groups.items() if any(i in enabled for i in ix)}
            self._by_class = by_class
            priority = self.priority
            top = max((priority.get(cls, _LOWEST) for cls in by_class), default=_LOWEST)
            self._allowed = [cls for cls in by_class if priority.get(cls, _LOWEST) == top]
            self._allowed_set = set(self._allowed)

        @rule(data=st.data())
        def step(self, data):
            """Take one enabled action of an allowed class; in a terminal state
            (or outside the boundary) the behaviour stays where it is."""
            record.check()
            self._refresh()
            allowed = self._allowed
            if not allowed:
                return
            if len(allowed) == 1:
                cls = allowed[0]
            elif all(cls in rank for cls in allowed):
                cls = data.draw(self._class_choice, label="class")
            else:  # a class not seen up front
                cls = data.draw(st.sampled_from(sorted(allowed, key=lambda c: rank.get(c, len(rank)))), label="class")
            indexes = self._by_class[cls]
            enabled = self._enabled
            live = [i for i in indexes if i in enabled]
            if len(live) == 1:
                index = live[0]
            else:
                choice = self._action_choices.get(indexes)
                if choice is None:
                    choice = self._action_choices[indexes] = st.sampled_from(indexes).filter(
                        lambda i: i in self._enabled
                    )
                index = data.draw(choice, label="action")
            self.actions.append(space.actions(self.keys[-1])[index])
            self.keys.append(enabled[index])
            record.steps += 1

        @invariant()
        def check_properties(self):
            if not self.keys:
                return
            key = self.keys[-1]
            if inside is not None and not inside(key):
                return
            for name, pred in reachables:
                if pred(key):
                    best = record.seen.get(name)
                    if best is None or len(best[1]) > len(self.actions):
                        record.seen[name] = (list(self.keys), list(self.actions))
            for name, pred in invariants:
                if not pred(key):
                    if record.first_violation is None:
                        record.first_violation = time.monotonic()
                    record.violation = PropertyViolated(name, list(self.keys), list(self.actions))
                    raise record.violation
            for name, score in scores:
                value = float(score(key))
                if value > self.best.get(name, float("-inf")):
                    self.best[name] = value

        def teardown(self):
            for name, value in self.best.items():
                hypothesis.target(value, label=name)

    ModelMachine.__name__ = f"{type(model).__name__}Machine"
    return ModelMachine


def shorten(space: Space, keys: list, actions: list, bad: Callable[[Any], bool], radius: int = 2,
            check: Callable[[], None] | None = None) -> tuple[list, list]:
    """Remove redundant steps from a path ``keys`` (``actions[i]`` leads from
    ``keys[i]`` to ``keys[i+1]``) whose last state is ``bad``, keeping a path
    from the same initial state to a ``bad`` state. Deterministic.

    Two moves, repeated until neither applies (delta debugging on the trace):

    - shortcut: from a state, reach a later state of the path in fewer steps,
      searching at most ``radius`` steps breadth-first;
    - deletion: drop one step when the rest still replays (every action
      enabled where it is taken) and reaches a ``bad`` state; cut at the first.

    The result cannot be shortened by deleting one step or by bridging any
    stretch of more than ``radius`` steps with fewer. ``check`` is called
    before each move; when it raises (a budget spent, Ctrl-C), the path as
    shortened so far is returned: still a valid path to a ``bad`` state.
    """
    inside = space.boundary()
    keys, actions = _cut(list(keys), list(actions), bad)
    changed = True
    try:
        while changed:
            changed = False
            i = 0
            while i < len(keys) - 2:
                if check is not None:
                    check()
                near = _near(space, keys[i], radius, inside)
                for j in range(len(keys) - 1, i + 1, -1):
                    if keys[j] in near and len(path := near.path_to(keys[j])) < j - i:
                        keys = keys[: i + 1] + [k for _, k in path] + keys[j + 1 :]
                        actions = actions[:i] + [a for a, _ in path] + actions[j:]
                        keys, actions = _cut(keys, actions, bad)
                        changed = True
                        break
                i += 1
            for p in range(len(actions)):
                if check is not None:
                    check()
                run = _replay(space, keys[0], actions[:p] + actions[p + 1 :], bad, inside)
                if run is not None:
                    keys, actions = run
                    changed = True
                    break
    except (BudgetExceeded, KeyboardInterrupt):
        pass
    return keys, actions


def _cut(keys: list, actions: list, bad) -> tuple[list, list]:
    """The path up to its first ``bad`` state."""
    for n, key in enumerate(keys):
        if bad(key):
            return keys[: n + 1], actions[:n]
    return keys, actions


def _near(space: Space, start, radius: int, inside):
    """States within ``radius`` steps of ``start``; ``path_to(key)`` of the
    result is a shortest path to one as ``[(action, key), ...]``."""

    def steps(key):
        if inside is not None and not inside(key):
            return ()
        table = space.actions(key)
        return [(nxt, table[index]) for index, nxt in space.concrete_steps(key)]

    return breadth_first([start], steps, max_depth=radius)


def _replay(space: Space, start, actions: list, bad, inside) -> tuple[list, list] | None:
    """The path that ``actions`` take from ``start``, cut at its first ``bad``
    state; None if an action is not enabled or no state is ``bad``."""
    keys = [start]
    for n, action in enumerate(actions):
        key = keys[-1]
        if inside is not None and not inside(key):
            return None
        enabled = dict(space.concrete_steps(key))
        table = space.actions(key)
        nxt = next((enabled[i] for i, a in enumerate(table) if i in enabled and a == action), None)
        if nxt is None:
            return None
        keys.append(nxt)
        if bad(nxt):
            return keys, list(actions[: n + 1])
    return None


def fuzz(
    model: Model,
    properties: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int = 200,
    steps: int = 50,
    hypothesis_shrink: bool = False,
    budget: Budget | None = None,
) -> FuzzResult:
    """Run up to ``max_examples`` random behaviours of up to ``steps`` steps
    each, stopping at the first violation.

    ``seed`` None draws one (report it: passing it back replays the run).
    A violation's trace, and each ``sometimes`` example, is shortened with
    :func:`shorten`. ``hypothesis_shrink`` runs Hypothesis's own shrinker on
    the failing behaviour first: it simplifies the whole choice sequence, not
    only the trace, but replays the machine a thousand times or more (tens of
    seconds on rc_converge), and :func:`shorten` alone reaches the
    breadth-first length there. ``budget`` bounds the run (checked at every
    step); Ctrl-C or a spent budget gives the partial results (see the module
    docstring).
    """
    start = time.monotonic()  # reset when the behaviours start, below
    props = select_properties(list(model.properties()), properties)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    record = _Record(budget)
    violation: PropertyViolated | None = None
    with _interrupt_flag(record):
        try:
            machine = machine_for(model, props, record)
            test = hypothesis.seed(seed)(get_state_machine_test(machine, settings=_settings(max_examples, steps,
                                                                                           hypothesis_shrink)))
            start = time.monotonic()
            test()
        except PropertyViolated as err:
            violation = err
        except KeyboardInterrupt:  # RunStopped, or Ctrl-C before the flag was set up
            record.stopped = record.stopped or "interrupted"
        except BaseException:
            if record.stopped is None:
                raise
            # Hypothesis wrapped our stop in its report of a failure it was replaying
        if record.stopped is not None:
            violation = record.violation
    space = Space(model, symmetry=False, packed=True)
    check = _shorten_check(budget, record)

    def shortest(prop: Property, keys: list, actions: list, wanted: bool) -> Trace:
        holds = space.predicate(prop.condition, prop.encoded)
        keys, actions = shorten(space, keys, actions, lambda k: bool(holds(k)) is wanted, check=check)
        return build([space.decode(k) for k in keys], actions, model=space.model)

    bound = record.stopped or "random"
    results = []
    for prop in props:
        if violation is not None and prop.name == violation.name:
            trace = shortest(prop, violation.keys, violation.actions, wanted=False)
            results.append(PropertyResult(prop.name, prop.kind, Verdict.VIOLATED, trace))
        elif prop.kind is Kind.SOMETIMES and prop.name in record.seen:
            trace = shortest(prop, *record.seen[prop.name], wanted=True)
            results.append(PropertyResult(prop.name, prop.kind, Verdict.HOLDS, trace))
        else:
            results.append(PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound,
                                          reason=explain(bound)))
    seconds = time.monotonic() - start
    to_violation = None if record.first_violation is None else record.first_violation - start
    return FuzzResult(tuple(results), seed, record.examples, record.steps, seconds, to_violation)


def _settings(max_examples: int, steps: int, hypothesis_shrink: bool) -> hypothesis.settings:
    phases = [p for p in hypothesis.Phase if hypothesis_shrink or p is not hypothesis.Phase.shrink]
    return hypothesis.settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=hypothesis.Verbosity.quiet,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=phases,
    )


@contextlib.contextmanager
def _interrupt_flag(record: _Record):
    """While the run lasts, SIGINT sets ``record.stopped`` instead of raising
    wherever the program happens to be (only the main thread can set handlers;
    elsewhere Ctrl-C raises as usual)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def flag(_signum, _frame):
        record.stopped = "interrupted"

    previous = signal.signal(signal.SIGINT, flag)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _shorten_check(budget: Budget | None, record: _Record) -> Callable[[], None]:
    """Shortening stops at a second Ctrl-C, or :data:`TRACE_GRACE` seconds past the deadline."""
    interrupted = record.stopped == "interrupted"

    def check() -> None:
        if interrupted:
            raise KeyboardInterrupt
        if budget is not None and budget.deadline is not None and time.monotonic() > budget.deadline + TRACE_GRACE:
            raise BudgetExceeded("time_limit")

    return check
