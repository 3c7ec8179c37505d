"""Traces people can read and replay.

A :class:`Trace` is the initial state followed by steps; each step names the
actor and the action and lists what changed (``status[2]: 'Absent' ->
'Pending'``). A liveness counterexample is a lasso: ``cycle_start`` is the
index of the state where the cycle begins; the behaviour repeats
``steps[cycle_start+1:]`` forever, and an empty cycle means the system stays in
the last state forever (no fair actor is enabled there).

:func:`assert_trace` lets tests pin counterexamples (stateright's
``assert_discovery``), and :func:`kspec.checker.replay.emit_test` writes a
pytest file that replays a run's counterexamples step by step::

    assert_trace(result["running-at-most-r-plus-1"], ["RCCreatePod(slot=0)", ...])
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import attrs

from kspec.errors import KspecError
from kspec.checker.model import Describable, Drawable, actor_of, successors

__all__ = ["Step", "Trace", "TraceError", "assert_trace", "changes", "lanes_to_json", "replay", "state_to_json"]


class TraceError(KspecError, AssertionError):
    """A trace that does not replay, or that differs from the expected one."""


@attrs.frozen
class Step:
    """One step: ``action`` (None for the initial state), its actor, the state
    reached and the changes from the previous state."""

    action: Any
    state: Any
    changes: tuple[str, ...] = ()
    explanation: str | None = attrs.field(default=None, eq=False)  # why this step breaks the property
    lanes: Any = attrs.field(default=None, eq=False, repr=False)  # a Drawable model's views of the state

    @property
    def actor(self) -> str | None:
        return None if self.action is None else actor_of(self.action)

    def to_json(self) -> dict:
        out = {
            "action": None if self.action is None else str(self.action),
            "actor": self.actor,
            "changes": list(self.changes),
            "state": state_to_json(self.state),
        }
        if self.lanes is not None:
            out["views"] = lanes_to_json(self.lanes)
        if self.explanation:
            out["explanation"] = self.explanation
        return out


@attrs.frozen
class Trace:
    """The initial state (``steps[0]``, no action) and the steps after it."""

    steps: tuple[Step, ...]
    cycle_start: int | None = None
    cycle_up_to_symmetry: bool = False

    @property
    def actions(self) -> tuple:
        return tuple(s.action for s in self.steps[1:])

    @property
    def states(self) -> tuple:
        return tuple(s.state for s in self.steps)

    @property
    def last(self) -> Any:
        return self.steps[-1].state

    @property
    def explanation(self) -> str | None:
        """The sentence saying why the step that breaks the property breaks it."""
        return next((s.explanation for s in self.steps if s.explanation), None)

    def __len__(self) -> int:
        """The number of actions."""
        return len(self.steps) - 1

    def __str__(self) -> str:
        first = self.steps[0]
        if first.changes:  # the model described its initial state in words
            lines = ["  0. initial state:"] + [f"       {line}" for line in first.changes]
        else:
            lines = [f"  0. initial state: {first.state!r}"]
        if first.explanation:
            lines.append(f"     => {first.explanation}")
        for i, step in enumerate(self.steps[1:], start=1):
            mark = "  "
            lines.append(f"{mark}{i}. [{step.actor}] {step.action}")
            for change in step.changes:
                lines.append(f"       {change}")
            if step.explanation:
                lines.append(f"     => {step.explanation}")
        if self.cycle_start is not None:
            if self.cycle_start == len(self.steps) - 1:
                lines.append(f"  ... then stays in state {self.cycle_start} forever (no fair actor is enabled)")
            else:
                back = "a state symmetric to" if self.cycle_up_to_symmetry else "state"
                lines.append(f"  ... then steps {self.cycle_start + 1}..{len(self) } repeat forever (back to {back} {self.cycle_start})")
        return "\n".join(lines)

    def to_json(self) -> list[dict]:
        return [s.to_json() for s in self.steps]


def changes(before: Any, after: Any) -> tuple[str, ...]:
    """What changed between two states, field by field (and index by index in tuples)."""
    if before == after:
        return ()
    if attrs.has(type(before)) and type(before) is type(after):
        out = []
        for field in attrs.fields(type(before)):
            old, new = getattr(before, field.name), getattr(after, field.name)
            if old == new:
                continue
            if isinstance(old, tuple) and isinstance(new, tuple) and len(old) == len(new):
                out += [f"{field.name}[{i}]: {o!r} -> {n!r}" for i, (o, n) in enumerate(zip(old, new)) if o != n]
            else:
                out.append(f"{field.name}: {old!r} -> {new!r}")
        return tuple(out)
    return (f"state: {before!r} -> {after!r}",)


def build(states: Sequence[Any], actions: Sequence[Any], cycle_start: int | None = None, up_to_symmetry=False,
          model: Any = None) -> Trace:
    """A trace from its states and the actions between them.

    A :class:`~kspec.checker.model.Describable` model describes its own steps
    (e.g. in API and physical terms); otherwise, or when it gives no words for
    a step, the changes are the field-by-field difference of the two states.
    """
    describable = isinstance(model, Describable)
    draw = model.swim_lanes if isinstance(model, Drawable) else (lambda state: None)
    initial = tuple(model.describe_state(states[0]) or ()) if describable else ()
    steps = [Step(None, states[0], initial, lanes=draw(states[0]))]
    for prev, action, state in zip(states, actions, states[1:]):
        described = tuple(model.describe_step(prev, action, state) or ()) if describable else ()
        steps.append(Step(action, state, described or changes(prev, state), lanes=draw(state)))
    return Trace(tuple(steps), cycle_start, up_to_symmetry)


def replay(model, actions: Iterable[Any], initial: Any = None) -> Trace:
    """Run ``actions`` from ``initial`` (default: the model's only initial state)."""
    if initial is None:
        inits = list(model.init_states())
        if len(inits) != 1:
            raise TraceError(f"the model has {len(inits)} initial states; pass initial=")
        initial = inits[0]
    states, done = [initial], []
    for i, action in enumerate(actions):
        nxt = model.next_state(states[-1], action)
        if nxt is None:
            raise TraceError(f"step {i + 1}: {action} is not enabled in {states[-1]!r}")
        states.append(nxt)
        done.append(action)
    return build(states, done)


def assert_trace(trace: Any, expected: Sequence[Any], cycle_start: int | None = None) -> None:
    """Assert that a trace (or a property result carrying one) takes exactly
    the ``expected`` actions, given as action values or their ``str``."""
    trace = getattr(trace, "trace", trace)
    if trace is None:
        raise TraceError("no trace (the property was not violated)")
    got = [str(a) for a in trace.actions]
    want = [str(a) for a in expected]
    if got != want:
        raise TraceError("trace differs:\n  got:      " + ", ".join(got) + "\n  expected: " + ", ".join(want))
    if cycle_start is not None and trace.cycle_start != cycle_start:
        raise TraceError(f"cycle starts at {trace.cycle_start}, expected {cycle_start}")


def state_to_json(state: Any) -> Any:
    """A JSON-able rendering of a state: attrs records and named tuples become objects."""
    if attrs.has(type(state)):
        return {f.name: state_to_json(getattr(state, f.name)) for f in attrs.fields(type(state))}
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return {name: state_to_json(value) for name, value in zip(state._fields, state)}
    if isinstance(state, (tuple, list, frozenset, set)):
        items = [state_to_json(x) for x in state]
        return sorted(items, key=repr) if isinstance(state, (frozenset, set)) else items
    if isinstance(state, dict) or hasattr(state, "items"):
        return {str(k): state_to_json(v) for k, v in state.items()}
    if state is None or isinstance(state, (bool, int, float, str)):
        return state
    return repr(state)



def lanes_to_json(views: Any) -> list[list[dict]]:
    """A :class:`~kspec.checker.model.Drawable` model's views of one state:
    per view, its lanes as ``{"place", "status", "items": [{"name", "status"}]}``."""
    return [[{"place": str(place), "status": str(status),
              "items": [{"name": str(name), "status": str(item_status)} for name, item_status in items]}
             for place, status, items in view] for view in views]
