"""Randomized exploration: the same model driven by Hypothesis stateful testing.

For state spaces too large to exhaust. :func:`fuzz` builds a
``RuleBasedStateMachine`` from the model protocol alone: an ``initialize`` rule
picks an initial state; one rule per action class (``RCCreatePod``,
``NodeCrash``, ... found in the first states explored), guarded by a
``precondition`` that some action of that class is enabled, draws an index
into those enabled actions; a catch-all rule draws among all enabled actions,
so classes not seen up front are still reached. One rule per class lets
Hypothesis's swarm testing switch whole kinds of actions off in some runs
(runs without pod faults, say), which is what finds deep bugs; drawing indexes
lets it shrink towards fewer steps and earlier actions. Every ``always``
property is an invariant checked after each step. A failure is shrunk by Hypothesis to a minimal trace and returned as
a :class:`~kspec.trace.Trace`. The seed is printed by the CLI and accepted
back for replay; the example database is off so that a seed alone decides the run.

Verdicts: a violated ``always`` is ``violated`` (with the shrunk trace); a
``sometimes`` seen in some run ``holds`` (with the shortest example seen);
everything else is ``inconclusive`` with bound ``random``: random testing
never proves a property.
"""

from __future__ import annotations

import random
import time
from typing import Any, Sequence

import attrs
import hypothesis
import hypothesis.strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    precondition,
    rule,
)

from kspec.explore import PropertyResult, _Space
from kspec.model import Kind, Model, Property, Verdict, select_properties, successors
from kspec.trace import Trace, build

__all__ = ["FuzzResult", "PropertyViolated", "fuzz", "machine_for"]


class PropertyViolated(AssertionError):
    """Raised inside the state machine when an invariant fails; carries the trace."""

    def __init__(self, name: str, trace: Trace):
        super().__init__(f"property {name} violated after {len(trace)} steps")
        self.name = name
        self.trace = trace


@attrs.frozen
class FuzzResult:
    """Verdicts of a randomized run, the seed that reproduces it, and its size."""

    properties: tuple[PropertyResult, ...]
    seed: int
    examples: int
    steps: int
    seconds: float

    def __getitem__(self, name: str) -> PropertyResult:
        for res in self.properties:
            if res.name == name:
                return res
        raise KeyError(name)

    @property
    def verdict(self) -> Verdict:
        verdicts = {r.verdict for r in self.properties}
        if Verdict.VIOLATED in verdicts:
            return Verdict.VIOLATED
        if Verdict.INCONCLUSIVE in verdicts:
            return Verdict.INCONCLUSIVE
        return Verdict.HOLDS

    def to_json(self) -> dict:
        return {
            "verdict": str(self.verdict),
            "seed": self.seed,
            "stats": {"examples": self.examples, "steps": self.steps, "seconds": round(self.seconds, 3)},
            "properties": [r.to_json() for r in self.properties],
        }


class _Record:
    """What the runs observed, across examples."""

    def __init__(self):
        self.examples = 0
        self.steps = 0
        self.seen: dict[str, Trace] = {}


def action_classes(model: Model, limit: int = 2000) -> list[type]:
    """The action classes seen in the first ``limit`` states (breadth-first)."""
    inits = list(model.init_states())
    seen, queue, classes = set(inits), list(inits), {}
    while queue and len(seen) < limit:
        state = queue.pop(0)
        for _, action, nxt in successors(model, state):
            classes.setdefault(type(action), None)
            if nxt not in seen and len(seen) < limit:
                seen.add(nxt)
                queue.append(nxt)
        for action in model.actions(state):
            classes.setdefault(type(action), None)
    return list(classes)


def machine_for(model: Model, props: Sequence[Property], record: _Record | None = None, class_rules: bool = True) -> type:
    """A ``RuleBasedStateMachine`` class driving ``model`` and checking ``props``."""
    space = _Space(model, symmetry=False, packed=True)  # the packed fast path when the model has one
    inits = [space.encode(s) for s in model.init_states()]
    invariants = [(p.name, space.predicate(p.condition, p.encoded)) for p in props if p.kind is Kind.ALWAYS]
    reachables = [(p.name, space.predicate(p.condition, p.encoded)) for p in props if p.kind is Kind.SOMETIMES]
    scores = [
        (p.name, space.predicate(p.score, p.encoded_score)) for p in props if p.kind is Kind.ALWAYS and p.score is not None
    ]
    record = record or _Record()

    def trace(keys: list, actions: list) -> Trace:
        return build([space.decode(k) for k in keys], actions, model=space.model)

    class ModelMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.states: list = []
            self.actions: list = []
            self._enabled_for: Any = None
            self._enabled: list = []
            self.best: dict[str, float] = {}
            record.examples += 1

        @initialize(index=st.integers(0, max(len(inits) - 1, 0)))
        def start(self, index):
            self.states = [inits[index]]

        def enabled(self) -> list:
            if self._enabled_for is not self.states[-1]:
                self._enabled_for = self.states[-1]
                key = self.states[-1]
                table = space.actions(key)
                self._enabled = [(i, table[i], nxt) for i, nxt in space.concrete_steps(key)]
            return self._enabled

        def take(self, data, choices: list) -> None:
            choice = data.draw(st.integers(0, len(choices) - 1), label="action")
            _, action, nxt = choices[choice]
            self.actions.append(action)
            self.states.append(nxt)
            record.steps += 1

        @precondition(lambda self: bool(self.states) and bool(self.enabled()))
        @rule(data=st.data())
        def any_action(self, data):
            self.take(data, self.enabled())

        @precondition(lambda self: bool(self.states) and not self.enabled())
        @rule()
        def stay(self):
            """A terminal state: the behaviour stays there (nothing to do)."""

        @invariant()
        def check_properties(self):
            if not self.states:
                return
            key = self.states[-1]
            for name, pred in reachables:
                if pred(key):
                    best = record.seen.get(name)
                    if best is None or len(best) > len(self.actions):
                        record.seen[name] = trace(self.states, self.actions)
            for name, pred in invariants:
                if not pred(key):
                    raise PropertyViolated(name, trace(self.states, self.actions))
            for name, score in scores:
                value = float(score(key))
                if value > self.best.get(name, float("-inf")):
                    self.best[name] = value

        def teardown(self):
            for name, value in self.best.items():
                hypothesis.target(value, label=name)

    for cls in action_classes(model) if class_rules else ():
        setattr(ModelMachine, f"do_{cls.__name__}", _class_rule(cls))
    ModelMachine.__name__ = f"{type(model).__name__}Machine"
    return ModelMachine


def _class_rule(cls: type):
    def of_class(self) -> list:
        return [step for step in self.enabled() if type(step[1]) is cls]

    def do(self, data):
        self.take(data, of_class(self))

    do.__name__ = do.__qualname__ = f"do_{cls.__name__}"
    return precondition(lambda self: bool(self.states) and bool(of_class(self)))(rule(data=st.data())(do))


def fuzz(
    model: Model,
    properties: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int = 200,
    steps: int = 50,
    class_rules: bool = True,
) -> FuzzResult:
    """Run ``max_examples`` random behaviours of up to ``steps`` steps each.

    ``seed`` None draws one (report it: passing it back replays the run).
    """
    props = select_properties(list(model.properties()), properties)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    record = _Record()
    machine = machine_for(model, props, record, class_rules)
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
    )
    test = hypothesis.seed(seed)(get_state_machine_test(machine, settings=settings))
    start = time.monotonic()
    violation: PropertyViolated | None = None
    try:
        test()
    except PropertyViolated as err:
        violation = err
    seconds = time.monotonic() - start
    results = []
    for prop in props:
        if violation is not None and prop.name == violation.name:
            results.append(PropertyResult(prop.name, prop.kind, Verdict.VIOLATED, violation.trace))
        elif prop.kind is Kind.SOMETIMES and prop.name in record.seen:
            results.append(PropertyResult(prop.name, prop.kind, Verdict.HOLDS, record.seen[prop.name]))
        else:
            results.append(PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound="random"))
    return FuzzResult(tuple(results), seed, record.examples, record.steps, seconds)
