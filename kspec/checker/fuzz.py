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
"""

from __future__ import annotations

import random
import time
from typing import Any, Callable, Sequence

import attrs
import hypothesis
import hypothesis.strategies as st
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, invariant, rule

from kspec.checker.explore import PropertyResult, _Space
from kspec.checker.model import Kind, Model, ModelError, Property, Verdict, actor_of, select_properties, successors
from kspec.checker.trace import Trace, build

__all__ = ["TIERS", "FuzzResult", "PropertyViolated", "action_classes", "fuzz", "machine_for", "shorten"]

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


@attrs.frozen
class FuzzResult:
    """Verdicts of a randomized run, the seed that reproduces it, and its size.

    ``seconds_to_violation`` is the time until the first violation was seen
    (before shrinking), None without one."""

    properties: tuple[PropertyResult, ...]
    seed: int
    examples: int
    steps: int
    seconds: float
    seconds_to_violation: float | None = None

    def __getitem__(self, name: str) -> PropertyResult:
        for res in self.properties:
            if res.name == name:
                return res
        raise KeyError(name)

    @property
    def verdict(self) -> Verdict:
        return Verdict.overall(r.verdict for r in self.properties)

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
    """What the runs observed, across examples."""

    def __init__(self):
        self.examples = 0
        self.steps = 0
        self.seen: dict[str, tuple[list, list]] = {}  # sometimes name -> shortest (keys, actions)
        self.first_violation: float | None = None


def action_classes(model: Model, limit: int = 2000) -> dict[type, str]:
    """The action classes seen in the first ``limit`` states (breadth-first),
    in the order first seen, each with its actor."""
    inits = list(model.init_states())
    seen, queue, classes = set(inits), list(inits), {}
    head = 0
    while head < len(queue) and len(seen) < limit:
        state = queue[head]
        head += 1
        for action in model.actions(state):
            classes.setdefault(type(action), actor_of(action))
        for _, _, nxt in successors(model, state):
            if nxt not in seen and len(seen) < limit:
                seen.add(nxt)
                queue.append(nxt)
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
    space = _Space(model, symmetry=False, packed=True)  # the packed fast path when the model has one
    inits = [space.encode(s) for s in model.init_states()]
    if not inits:
        raise ModelError("the model has no initial state")
    inside = space.boundary()
    invariants = [(p.name, space.predicate(p.condition, p.encoded)) for p in props if p.kind is Kind.ALWAYS]
    reachables = [(p.name, space.predicate(p.condition, p.encoded)) for p in props if p.kind is Kind.SOMETIMES]
    scores = [
        (p.name, space.predicate(p.score, p.encoded_score)) for p in props if p.kind is Kind.ALWAYS and p.score is not None
    ]
    actor = action_classes(model)
    classes = list(actor)
    actors = list(dict.fromkeys(actor.values()))
    rank = {cls: i for i, cls in enumerate(classes)}
    fair = frozenset().union(*(p.fair for p in model.properties()))
    tables = _Tables()
    record = record or _Record()

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
                    raise PropertyViolated(name, list(self.keys), list(self.actions))
            for name, score in scores:
                value = float(score(key))
                if value > self.best.get(name, float("-inf")):
                    self.best[name] = value

        def teardown(self):
            for name, value in self.best.items():
                hypothesis.target(value, label=name)

    ModelMachine.__name__ = f"{type(model).__name__}Machine"
    return ModelMachine


def shorten(space: _Space, keys: list, actions: list, bad: Callable[[Any], bool], radius: int = 2) -> tuple[list, list]:
    """Remove redundant steps from a path ``keys`` (``actions[i]`` leads from
    ``keys[i]`` to ``keys[i+1]``) whose last state is ``bad``, keeping a path
    from the same initial state to a ``bad`` state. Deterministic.

    Two moves, repeated until neither applies (delta debugging on the trace):

    - shortcut: from a state, reach a later state of the path in fewer steps,
      searching at most ``radius`` steps breadth-first;
    - deletion: drop one step when the rest still replays (every action
      enabled where it is taken) and reaches a ``bad`` state; cut at the first.

    The result cannot be shortened by deleting one step or by bridging any
    stretch of more than ``radius`` steps with fewer.
    """
    inside = space.boundary()
    keys, actions = _cut(list(keys), list(actions), bad)
    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(keys) - 2:
            near = _near(space, keys[i], radius, inside)
            for j in range(len(keys) - 1, i + 1, -1):
                path = near.get(keys[j])
                if path is not None and len(path) < j - i:
                    keys = keys[: i + 1] + [k for _, k in path] + keys[j + 1 :]
                    actions = actions[:i] + [a for a, _ in path] + actions[j:]
                    keys, actions = _cut(keys, actions, bad)
                    changed = True
                    break
            i += 1
        for p in range(len(actions)):
            run = _replay(space, keys[0], actions[:p] + actions[p + 1 :], bad, inside)
            if run is not None:
                keys, actions = run
                changed = True
                break
    return keys, actions


def _cut(keys: list, actions: list, bad) -> tuple[list, list]:
    """The path up to its first ``bad`` state."""
    for n, key in enumerate(keys):
        if bad(key):
            return keys[: n + 1], actions[:n]
    return keys, actions


def _near(space: _Space, start, radius: int, inside) -> dict:
    """States within ``radius`` steps of ``start``, each with a shortest path
    to it as ``[(action, key), ...]``."""
    paths: dict = {start: []}
    frontier = [start]
    for _ in range(radius):
        nxt_frontier = []
        for key in frontier:
            if inside is not None and not inside(key):
                continue
            table = space.actions(key)
            for index, nxt in space.concrete_steps(key):
                if nxt not in paths:
                    paths[nxt] = paths[key] + [(table[index], nxt)]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return paths


def _replay(space: _Space, start, actions: list, bad, inside) -> tuple[list, list] | None:
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
) -> FuzzResult:
    """Run up to ``max_examples`` random behaviours of up to ``steps`` steps
    each, stopping at the first violation.

    ``seed`` None draws one (report it: passing it back replays the run).
    A violation's trace, and each ``sometimes`` example, is shortened with
    :func:`shorten`. ``hypothesis_shrink`` runs Hypothesis's own shrinker on
    the failing behaviour first: it simplifies the whole choice sequence, not
    only the trace, but replays the machine a thousand times or more (tens of
    seconds on rc_converge), and :func:`shorten` alone reaches the
    breadth-first length there.
    """
    props = select_properties(list(model.properties()), properties)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    record = _Record()
    machine = machine_for(model, props, record)
    phases = [p for p in hypothesis.Phase if hypothesis_shrink or p is not hypothesis.Phase.shrink]
    settings = hypothesis.settings(
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
    test = hypothesis.seed(seed)(get_state_machine_test(machine, settings=settings))
    start = time.monotonic()
    violation: PropertyViolated | None = None
    try:
        test()
    except PropertyViolated as err:
        violation = err
    space = _Space(model, symmetry=False, packed=True)

    def shortest(prop: Property, keys: list, actions: list, wanted: bool) -> Trace:
        holds = space.predicate(prop.condition, prop.encoded)
        keys, actions = shorten(space, keys, actions, lambda k: bool(holds(k)) is wanted)
        return build([space.decode(k) for k in keys], actions, model=space.model)

    results = []
    for prop in props:
        if violation is not None and prop.name == violation.name:
            trace = shortest(prop, violation.keys, violation.actions, wanted=False)
            results.append(PropertyResult(prop.name, prop.kind, Verdict.VIOLATED, trace))
        elif prop.kind is Kind.SOMETIMES and prop.name in record.seen:
            trace = shortest(prop, *record.seen[prop.name], wanted=True)
            results.append(PropertyResult(prop.name, prop.kind, Verdict.HOLDS, trace))
        else:
            results.append(PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound="random"))
    seconds = time.monotonic() - start
    to_violation = None if record.first_violation is None else record.first_violation - start
    return FuzzResult(tuple(results), seed, record.examples, record.steps, seconds, to_violation)
