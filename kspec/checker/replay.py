"""Counterexamples as regression tests: the source of a pytest file that replays them.

``kspec explore MODEL --emit-test FILE`` writes what :func:`emit_test`
returns: a test file that needs only kspec, with one test function per
violated property that carries a trace. Each test

1. rebuilds the model with ``kspec.simulation.modelfile.load_model(MODEL, PARAMS, slicing=SLICING,
   checked=CHECKED, allow_outside=ALLOW_OUTSIDE)``
   (after a run in parts, ``kspec.simulation.split.load_part(MODEL, PARAMS, CHECKED, PART)``:
   the part whose trace it replays);
   ``MODEL`` is the model or scenario path *relative to the emitted file's
   folder* (so the file and the model can move together; an absolute path
   when no location is given or none relative exists);
2. replays the counterexample step by step: it starts from the initial state
   equal to the recorded one and, at each step, takes the enabled action whose
   ``repr`` is the recorded one, asserting that the state reached equals the
   recorded state (compared in the JSON form of
   :func:`kspec.checker.trace.state_to_json`);
3. asserts the violation as the explorer defines it: for ``always``, the last
   state breaks the condition; for a liveness lasso (``eventually_always``,
   ``leads_to``), the cycle returns to its start (or to a state symmetric to
   it, under symmetry reduction), every fair actor acts in it or is disabled
   somewhere in it (weak fairness), and a state in the cycle breaks the
   condition (``leads_to``: from some state where the condition holds, the
   goal never holds again); an empty cycle is a state where no fair actor is
   enabled.

The test fails when the model no longer behaves this way, which is what a
regression test of a found bug should do once the bug is fixed: then update
or delete it.

The emitted source names kspec's modules only as text, so this module
imports nothing above the checker.
"""

from __future__ import annotations

import os
import pathlib
import pprint
import re
from typing import Any, Mapping, Sequence

from kspec.checker.model import Kind, ModelError
from kspec.checker.trace import Trace, state_to_json

__all__ = ["NothingToEmit", "emit_test", "recorded_steps"]


class NothingToEmit(ModelError):
    """No property of the result was violated with a counterexample trace."""


def recorded_steps(trace: Trace) -> list[dict]:
    """The trace as the emitted test records it: ``{"action": repr or None, "state": JSON form}``."""
    return [{"action": None if step.action is None else repr(step.action), "state": state_to_json(step.state)}
            for step in trace.steps]


def emit_test(model_path: str | os.PathLike, params: Mapping[str, Any] | None, result,
              test_path: str | os.PathLike | None = None, slicing: bool = True, checked: Sequence[str] = (),
              parts: Mapping[str, str | None] | None = None, allow_outside: bool = False) -> str:
    """The source of a pytest file replaying every violated property's
    counterexample in ``result`` (an explore or fuzz result).

    ``test_path`` is where the file will be written: ``MODEL`` is then the
    model path relative to its folder. ``slicing``: whether the model was
    loaded with slicing (``--no-slice`` explores every step, and the test
    must replay on the same model), and ``checked`` the checks the run was
    limited to (``--property``; slicing is judged on them). ``parts``: after
    a run in parts (``kspec.simulation.split``), the part each property's
    trace comes from (a name, or None), which the test rebuilds.
    ``allow_outside``: the scenario names files outside its folder
    (``--allow-paths-outside``), and the test loads it the same way. Raises
    :class:`NothingToEmit` when no property was violated with a trace.
    """
    violated = [r for r in result.properties if str(r.verdict) == "violated" and r.trace is not None]
    if not violated:
        raise NothingToEmit("no property was violated with a counterexample: no test to emit")
    params = dict(params or {})
    names: set[str] = set()
    texts = [_header(model_path, params, test_path, slicing, tuple(checked), parts is not None, allow_outside)]
    for number, res in enumerate(violated, start=1):
        if parts is None:
            load = "load_model(MODEL, PARAMS, slicing=SLICING, checked=CHECKED, allow_outside=ALLOW_OUTSIDE)"
        else:
            load = f"load_part(MODEL, PARAMS, CHECKED, {parts[res.name]!r}, allow_outside=ALLOW_OUTSIDE)"
        texts.append(_test(res, _function_name(res.name, names), number, load))
    return "\n\n".join(texts).rstrip() + "\n"


def _model_location(model_path, test_path) -> str:
    model = pathlib.Path(model_path).resolve()
    if test_path is None:
        return f"pathlib.Path({str(model)!r})"
    folder = pathlib.Path(test_path).resolve().parent
    try:
        rel = os.path.relpath(model, folder)
    except ValueError:  # another drive: no relative path
        return f"pathlib.Path({str(model)!r})"
    return f"pathlib.Path(__file__).resolve().parent / {pathlib.PurePath(rel).as_posix()!r}"


def _header(model_path, params: dict, test_path, slicing: bool = True, checked: tuple[str, ...] = (),
            split: bool = False, allow_outside: bool = False) -> str:
    command = " ".join([pathlib.PurePath(model_path).as_posix()] + [f"-p {k}={v}" for k, v in params.items()]
                       + ([] if slicing else ["--no-slice"]) + [f"--property {name}" for name in checked]
                       + (["--allow-paths-outside"] if allow_outside else []))
    command = command.replace("\\", "/").replace('"', "'")  # safe inside the docstring
    return f'''"""Counterexamples of `kspec explore {command}`, as regression tests.

Emitted by `kspec explore --emit-test`. Each test rebuilds the model, replays
one counterexample step by step (at each step the enabled action whose repr is
the recorded one), checks every state against the recorded one, then checks
the violation. A test fails once the model no longer behaves this way (for
example when the bug is fixed): then update or delete it.
"""

import pathlib

from kspec.checker.model import actor_of, find_property
from kspec.checker.trace import state_to_json
{"from kspec.simulation.split import load_part" if split else "from kspec.simulation.modelfile import load_model"}

MODEL = {_model_location(model_path, test_path)}
PARAMS = {params!r}
SLICING = {slicing!r}
CHECKED = {(list(checked) or None)!r}
ALLOW_OUTSIDE = {allow_outside!r}


def enabled(model, state):
    """``(action, next state)`` for every action enabled in ``state``."""
    steps = ((action, model.next_state(state, action)) for action in model.actions(state))
    return [(action, nxt) for action, nxt in steps if nxt is not None]


def replay(model, steps):
    """The states the recorded steps lead to, each checked against the recorded one."""
    starts = [s for s in model.init_states() if state_to_json(s) == steps[0]["state"]]
    assert starts, "no initial state of the model equals the recorded one"
    states = [starts[0]]
    for number, step in enumerate(steps[1:], start=1):
        taken = [nxt for action, nxt in enabled(model, states[-1]) if repr(action) == step["action"]]
        assert taken, f"step {{number}}: {{step['action']}} is not enabled"
        same = [nxt for nxt in taken if state_to_json(nxt) == step["state"]]
        assert same, f"step {{number}}: {{step['action']}} leads to another state than the recorded one"
        states.append(same[0])
    return states


def assert_lasso(model, prop, states, cycle_start, up_to_symmetry):
    """The behaviour that repeats ``states[cycle_start + 1:]`` forever violates ``prop`` under weak fairness."""
    loop = states[cycle_start:]
    if len(loop) == 1:  # the behaviour stays in its last state forever
        acting = {{actor_of(action) for action, _ in enabled(model, loop[0])}}
        assert not acting & prop.fair, f"fair actors {{sorted(acting & prop.fair)}} are enabled in the last state"
    else:
        if up_to_symmetry:
            assert model.representative(loop[-1]) == model.representative(loop[0]), "the cycle does not close"
        else:
            assert loop[-1] == loop[0], "the cycle does not return to its start"
        taken = set()
        for before, after in zip(loop, loop[1:]):
            taken |= {{actor_of(a) for a, nxt in enabled(model, before) if nxt == after}}
        for actor in prop.fair:
            disabled = any(actor not in {{actor_of(a) for a, _ in enabled(model, s)}} for s in loop)
            assert actor in taken or disabled, f"the cycle is unfair to {{actor}}"
    if prop.kind.value == "eventually_always":
        assert any(not prop.condition(s) for s in loop), f"{{prop.name}} holds all along the cycle"
    else:  # leads_to: from a state where the condition holds, the goal never holds again
        assert any(prop.condition(states[i]) and not any(prop.goal(s) for s in states[i:])
                   for i in range(cycle_start + 1)), f"{{prop.name}}: the goal is reached"'''


def _function_name(name: str, taken: set[str]) -> str:
    base = "test_" + (re.sub(r"\W+", "_", name).strip("_") or "property")
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _test(res, function: str, number: int, load: str) -> str:
    trace = res.trace
    steps = pprint.pformat(recorded_steps(trace), width=110, sort_dicts=False)
    data = f"TRACE_{number} = {steps}"
    if res.kind is Kind.ALWAYS:
        doc = f"always {res.name}: violated after {len(trace)} steps."
        check = f"    assert not prop.condition(states[-1]), {res.name + ' holds in the last state'!r}"
    elif res.kind.is_liveness:
        if trace.cycle_start == len(trace):
            shape = f"then stays in state {trace.cycle_start} forever"
        else:
            shape = f"then steps {trace.cycle_start + 1}..{len(trace)} repeat forever"
        doc = f"{res.kind} {res.name}: violated by a lasso of {len(trace)} steps, {shape}."
        check = (f"    assert_lasso(model, prop, states, cycle_start={trace.cycle_start}, "
                 f"up_to_symmetry={bool(trace.cycle_up_to_symmetry)})")
    else:  # a sometimes is violated without a trace; nothing else carries one
        raise NothingToEmit(f"{res.name}: a {res.kind} property has no counterexample to replay")
    return f'''{data}


def {function}():
    """{doc}"""
    model = {load}
    prop = find_property(model.properties(), {res.name!r})
    states = replay(model, TRACE_{number})
{check}'''
