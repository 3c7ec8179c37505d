"""Randomized exploration: the same model driven by Hypothesis stateful testing.

For state spaces too large to exhaust. :func:`fuzz` builds a
``RuleBasedStateMachine`` from the model protocol alone: an ``initialize`` rule
picks an initial state, one ``step`` rule draws an index into the actions
enabled in the current state (so Hypothesis shrinks towards fewer steps and
earlier actions), and every ``always`` property is an invariant checked after
each step. A failure is shrunk by Hypothesis to a minimal trace and returned as
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
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test, initialize, invariant, rule

from kspec.explore import PropertyResult
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


def machine_for(model: Model, props: Sequence[Property], record: _Record | None = None) -> type:
    """A ``RuleBasedStateMachine`` class driving ``model`` and checking ``props``."""
    inits = list(model.init_states())
    invariants = [p for p in props if p.kind is Kind.ALWAYS]
    reachables = [p for p in props if p.kind is Kind.SOMETIMES]
    record = record or _Record()

    class ModelMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.states: list = []
            self.actions: list = []
            record.examples += 1

        @initialize(index=st.integers(0, max(len(inits) - 1, 0)))
        def start(self, index):
            self.states = [inits[index]]

        @rule(data=st.data())
        def step(self, data):
            enabled = successors(model, self.states[-1])
            if not enabled:  # a terminal state: the behaviour stays there
                return
            choice = data.draw(st.integers(0, len(enabled) - 1), label="action")
            _, action, nxt = enabled[choice]
            self.actions.append(action)
            self.states.append(nxt)
            record.steps += 1

        @invariant()
        def check_properties(self):
            if not self.states:
                return
            state = self.states[-1]
            for prop in reachables:
                if prop.condition(state):
                    best = record.seen.get(prop.name)
                    if best is None or len(best) > len(self.actions):
                        record.seen[prop.name] = build(self.states, self.actions)
            for prop in invariants:
                if not prop.condition(state):
                    raise PropertyViolated(prop.name, build(self.states, self.actions))

        def teardown(self):
            pass

    ModelMachine.__name__ = f"{type(model).__name__}Machine"
    return ModelMachine


def fuzz(
    model: Model,
    properties: Sequence[str] = (),
    seed: int | None = None,
    max_examples: int = 200,
    steps: int = 50,
) -> FuzzResult:
    """Run ``max_examples`` random behaviours of up to ``steps`` steps each.

    ``seed`` None draws one (report it: passing it back replays the run).
    """
    props = select_properties(list(model.properties()), properties)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    record = _Record()
    machine = machine_for(model, props, record)
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
