"""One sentence per violated property, at the trace step that breaks it.

A property may carry ``explain`` (a state to a sentence, None where the
property's condition holds); :func:`explain_result` finds the step that
breaks each violated property and puts the sentence there, so text traces,
``-o json`` and reports show it at that step:

- ``always``: the last state of the shortest trace (the first bad one);
- ``eventually_always``: the first state of the repeating part where the
  condition is false (the lasso never leaves such states for good);
- ``leads_to``: the last state where the condition holds, after which the
  goal never does;
- ``sometimes``: there is no trace; the sentence says that no reachable state
  satisfies it and, when the property measures closeness, how close the
  search came (:attr:`~kspec.checker.explore.PropertyResult.nearest`).

A property without ``explain`` gets a sentence naming it and its description.
"""

from __future__ import annotations

from typing import Any

import attrs

from kspec.checker.model import Kind, Verdict
from kspec.checker.trace import Trace

__all__ = ["breaking_step", "explain_result", "explanation_of", "result_to_json", "sentence"]


def breaking_step(prop, trace: Trace) -> int:
    """The index of the state where ``trace`` breaks ``prop``."""
    states = trace.states
    last = len(states) - 1
    if prop.kind is Kind.LEADS_TO:
        hits = [i for i, s in enumerate(states) if prop.condition(s)]
        return hits[-1] if hits else last
    if prop.kind is Kind.EVENTUALLY_ALWAYS and trace.cycle_start is not None:
        return next((i for i in range(trace.cycle_start, len(states)) if not prop.condition(states[i])),
                    trace.cycle_start)
    return last


def _fallback(prop) -> str:
    what = f" ({prop.description})" if prop.description else ""
    if prop.kind is Kind.LEADS_TO:
        return f"{prop.name}{what}: its condition holds here and its goal is never reached afterwards"
    if prop.kind is Kind.EVENTUALLY_ALWAYS:
        return f"{prop.name}{what} is false here, and the behaviour never makes it true for good"
    return f"{prop.name}{what} is false here"


def explanation_of(prop, state: Any) -> str:
    """Why ``state`` breaks ``prop``, in one sentence."""
    words = None
    if prop.explain is not None and prop.kind is not Kind.LEADS_TO:
        words = prop.explain(state)
    if not words:
        return _fallback(prop)
    if prop.kind is Kind.EVENTUALLY_ALWAYS:
        return f"{words}, and it is never fixed for good from here"
    return words


def _explained(res, prop):
    if res.verdict is not Verdict.VIOLATED:
        return res
    if res.trace is None:
        return res
    at = breaking_step(prop, res.trace)
    steps = list(res.trace.steps)
    steps[at] = attrs.evolve(steps[at], explanation=explanation_of(prop, steps[at].state))
    return attrs.evolve(res, trace=attrs.evolve(res.trace, steps=tuple(steps)))


def explain_result(result, properties) -> Any:
    """``result`` (an explore or fuzz result) with each violated property's
    trace carrying its sentence at the step that breaks it. ``properties``
    are the model's, looked up by name (results of others are left alone)."""
    by_name = {p.name: p for p in properties}
    explained = tuple(_explained(res, by_name[res.name]) if res.name in by_name else res
                      for res in result.properties)
    return attrs.evolve(result, properties=explained)


def sentence(res) -> str | None:
    """The explanation of one property result: its trace's, or for a violated
    ``sometimes`` (no trace) that no reachable state satisfies it."""
    if res.verdict is not Verdict.VIOLATED:
        return None
    if res.trace is not None:
        return res.trace.explanation
    if res.kind is Kind.SOMETIMES:
        return f"no reachable state satisfies {res.name}" + (f"; nearest: {res.nearest}" if res.nearest else "")
    return None


def result_to_json(result) -> dict:
    """``result.to_json()`` with ``explanation`` on every violated property."""
    out = result.to_json()
    for res, doc in zip(result.properties, out["properties"]):
        words = sentence(res)
        if words:
            doc["explanation"] = words
    return out
