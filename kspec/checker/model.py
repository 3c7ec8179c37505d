"""The model protocol: what the explorer, the Hypothesis runner and the CLI consume.

A model is any object with these five methods (the contract of stateright's
``Model`` trait, and of a TLA+ spec's ``Init``/``Next``/invariants)::

    init_states()            -> iterable of states
    actions(state)           -> iterable of actions (deterministic order)
    next_state(state, action) -> state | None   (None: the action changes nothing
                                                  here, i.e. it is not enabled)
    properties()             -> sequence of Property (built with always,
                                 sometimes, eventually_always, leads_to)
    within_boundary(state)   -> bool   (False: the state is outside the space to
                                        check; it is neither checked nor expanded)

States are frozen, hashable values (``@attrs.frozen`` records of tuples, ints and
strings); actions are small frozen records, subclasses of :class:`Action`, named
actor-and-verb (``RCCreatePod``) and carrying an ``actor`` (``"rc"``) that
fairness refers to. Everything a model holds must be picklable, and nothing may
assume one process: a later issue partitions exploration across workers, each of
which unpickles the model and calls ``properties()`` itself.

Optional methods (duck-typed; the engine works without them):

``representative(state) -> state``
    Symmetry reduction: a canonical member of the state's equivalence class
    under the model's symmetries (interchangeable pods, identical nodes). Must
    map every member of an orbit to the same state, must not change any
    property's value, and must not change the set of enabled actors. Build it
    with :mod:`kspec.checker.symmetry`.

``encode(state) -> key``, ``decode(key) -> state``, ``encoded_steps(key)``, ``encoded_representative(key)``
    A packed fast path for big models. ``encode`` is an exact, compact,
    hashable encoding (typically one int); ``encoded_steps(key)`` yields
    ``(action_index, successor_key)`` for every action whose ``next_state`` is
    not None, where ``action_index`` indexes ``tuple(actions(decode(key)))``;
    ``encoded_representative`` is ``representative`` on keys. The explorer then
    builds state records only for distinct states. A model providing the fast
    path must agree exactly with its plain methods (test it with
    ``Explorer(..., packed=False)``). Properties may carry ``encoded=``
    (and ``encoded_goal=``) predicates on keys so that checking needs no record.

``encoded_symmetric_steps(key)``
    Under symmetry reduction: for a *representative* key, ``(action_index,
    representative of the successor)`` pairs. It may omit a step when another
    listed step of the same actor leads to the same successor orbit (creating
    the pod in any of several identical Absent slots); it must keep every
    successor orbit and every enabled actor, so verdicts do not change.

Example: a counter that can step up to 3 and wrap to 0.

>>> import attrs
>>> @attrs.frozen
... class Inc(Action):
...     actor = "counter"
>>> class Counter:
...     def init_states(self): return [0]
...     def actions(self, state): return [Inc()]
...     def next_state(self, state, action): return (state + 1) % 4
...     def properties(self):
...         return [always("below-4", lambda s: s < 4),
...                 sometimes("reaches-3", lambda s: s == 3)]
...     def within_boundary(self, state): return True
>>> [p.name for p in Counter().properties()]
['below-4', 'reaches-3']
>>> actor_of(Inc())
'counter'
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import pathlib
import re
import sys
from typing import Any, Callable, ClassVar, Hashable, Iterable, Protocol, Sequence, runtime_checkable

import attrs

from kspec.errors import KspecError

__all__ = [
    "Action",
    "Kind",
    "Model",
    "ModelError",
    "Property",
    "UnknownPropertyError",
    "Verdict",
    "actor_of",
    "always",
    "eventually_always",
    "find_property",
    "leads_to",
    "load_model",
    "parse_params",
    "select_properties",
    "sometimes",
    "successors",
]


class ModelError(KspecError):
    """A model that breaks the protocol, or a model file that cannot be loaded."""


class UnknownPropertyError(ModelError, KeyError):
    """A property name the model does not define; the message lists those it does."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Verdict(str, enum.Enum):
    """Three-valued result of checking one property; never a bare boolean."""

    HOLDS = "holds"
    VIOLATED = "violated"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def overall(cls, verdicts) -> "Verdict":
        """One verdict for many: violated beats inconclusive beats holds."""
        verdicts = set(verdicts)
        if cls.VIOLATED in verdicts:
            return cls.VIOLATED
        if cls.INCONCLUSIVE in verdicts:
            return cls.INCONCLUSIVE
        return cls.HOLDS


class Kind(str, enum.Enum):
    """What a property claims (TLA+ operator in brackets).

    - ``always``: every reachable state satisfies the condition ([]P).
    - ``sometimes``: some reachable state satisfies it; evidence that something
      can happen, violated when it cannot (stateright's ``sometimes``).
    - ``eventually_always``: every fair behaviour ends up satisfying it forever
      (<>[]P), e.g. "the replica count converges".
    - ``leads_to``: every fair behaviour that reaches ``condition`` later
      reaches ``goal`` (P ~> Q).
    """

    ALWAYS = "always"
    SOMETIMES = "sometimes"
    EVENTUALLY_ALWAYS = "eventually_always"
    LEADS_TO = "leads_to"

    def __str__(self) -> str:
        return self.value

    @property
    def is_liveness(self) -> bool:
        return self in (Kind.EVENTUALLY_ALWAYS, Kind.LEADS_TO)


@attrs.frozen
class Action:
    """Base class of actions: small frozen records named actor-and-verb.

    Subclasses set the class attribute ``actor`` (the controller or fault
    source doing it, e.g. ``"rc"``, ``"scheduler"``, ``"fault"``); weak
    fairness is declared per actor. ``str(action)`` reads like a trace step:
    ``RCCreatePod(slot=2)``.
    """

    actor: ClassVar[str] = ""

    def __str__(self) -> str:
        fields = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in attrs.fields(type(self)))
        return f"{type(self).__name__}({fields})"


def actor_of(action: Any) -> str:
    """The actor of an action: its ``actor`` attribute, else its class name."""
    actor = getattr(action, "actor", "")
    return actor or type(action).__name__


@attrs.frozen
class Property:
    """A named claim about a model. Build with the functions below, not directly.

    ``condition`` is a predicate on states. ``goal`` is the second predicate of
    ``leads_to``. ``fair`` is the set of actors assumed weakly fair for the
    liveness kinds (TLA+ ``WF_vars(A)`` for each: an actor that stays enabled
    eventually acts); actors not named (faults) are never forced to act.
    """

    name: str
    kind: Kind
    condition: Callable[[Any], bool] = attrs.field(eq=False, repr=False)
    goal: Callable[[Any], bool] | None = attrs.field(default=None, eq=False, repr=False)
    fair: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    description: str = ""
    encoded: Callable[[Any], bool] | None = attrs.field(default=None, eq=False, repr=False)
    encoded_goal: Callable[[Any], bool] | None = attrs.field(default=None, eq=False, repr=False)
    score: Callable[[Any], float] | None = attrs.field(default=None, eq=False, repr=False)
    encoded_score: Callable[[Any], float] | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ModelError(f"property name must be a non-empty string, got {self.name!r}")
        if self.kind is Kind.LEADS_TO and self.goal is None:
            raise ModelError(f"property {self.name}: leads_to needs a goal")
        if self.fair and not self.kind.is_liveness:
            raise ModelError(f"property {self.name}: fairness only applies to liveness properties")


def always(
    name: str, condition: Callable[[Any], bool], description: str = "", encoded=None, score=None, encoded_score=None
) -> Property:
    """Invariant: ``condition`` holds in every reachable state.

    ``score`` (optional, a number per state, higher = closer to a violation)
    guides randomized search: the Hypothesis runner maximises it with
    ``hypothesis.target`` (targeted property-based testing). The exhaustive
    explorer ignores it."""
    return Property(
        name, Kind.ALWAYS, condition, description=description, encoded=encoded, score=score, encoded_score=encoded_score
    )


def sometimes(name: str, condition: Callable[[Any], bool], description: str = "", encoded=None) -> Property:
    """Reachability: some reachable state satisfies ``condition`` (violated if none does)."""
    return Property(name, Kind.SOMETIMES, condition, description=description, encoded=encoded)


def eventually_always(
    name: str, condition: Callable[[Any], bool], fair: Iterable[str] = (), description: str = "", encoded=None
) -> Property:
    """Convergence (<>[]P): under weak fairness of the ``fair`` actors, every
    behaviour reaches a point after which ``condition`` holds forever.

    A behaviour may stop (stutter forever) in a state where no fair actor is
    enabled, as in TLA+; a terminal state violating ``condition`` is therefore
    a counterexample (a lasso whose cycle is empty)."""
    return Property(
        name, Kind.EVENTUALLY_ALWAYS, condition, fair=frozenset(fair), description=description, encoded=encoded
    )


def leads_to(
    name: str,
    condition: Callable[[Any], bool],
    goal: Callable[[Any], bool],
    fair: Iterable[str] = (),
    description: str = "",
    encoded=None,
    encoded_goal=None,
) -> Property:
    """P ~> Q: under weak fairness of the ``fair`` actors, whenever ``condition``
    holds, ``goal`` holds then or later."""
    return Property(
        name,
        Kind.LEADS_TO,
        condition,
        goal=goal,
        fair=frozenset(fair),
        description=description,
        encoded=encoded,
        encoded_goal=encoded_goal,
    )


@runtime_checkable
class Model(Protocol):
    """The whole contract between a model and the checkers (see module docstring)."""

    def init_states(self) -> Iterable[Hashable]: ...

    def actions(self, state: Any) -> Iterable[Any]: ...

    def next_state(self, state: Any, action: Any) -> Any | None: ...

    def properties(self) -> Sequence[Property]: ...

    def within_boundary(self, state: Any) -> bool: ...


def successors(model: Model, state: Any) -> list[tuple[int, Any, Any]]:
    """``(action_index, action, next_state)`` for each enabled action, in order.

    The one place that turns ``actions``/``next_state`` into steps; the
    explorer, the fuzzer and trace replay all use it.
    """
    steps = []
    for index, action in enumerate(model.actions(state)):
        nxt = model.next_state(state, action)
        if nxt is not None:
            steps.append((index, action, nxt))
    return steps


def find_property(properties: Sequence[Property], name: str) -> Property:
    """The property called ``name``; a missing name lists the names that exist."""
    for prop in properties:
        if prop.name == name:
            return prop
    known = ", ".join(p.name for p in properties) or "(none)"
    raise UnknownPropertyError(f"no property named {name!r}; the model defines: {known}")


def select_properties(properties: Sequence[Property], names: Iterable[str] = ()) -> tuple[Property, ...]:
    """The named properties in the order given, or all of them when no names are given.

    Also rejects duplicate names in the model, which would make results ambiguous.
    """
    seen: set[str] = set()
    for prop in properties:
        if not isinstance(prop, Property):
            raise ModelError(f"properties() must return Property values, got {prop!r}")
        if prop.name in seen:
            raise ModelError(f"two properties are named {prop.name!r}")
        seen.add(prop.name)
    names = list(names)
    if not names:
        return tuple(properties)
    return tuple(find_property(properties, n) for n in dict.fromkeys(names))


_INT = re.compile(r"^[+-]?\d+$")


def parse_params(pairs: Iterable[str]) -> dict[str, Any]:
    """``["N=3", "name=web"]`` -> ``{"N": 3, "name": "web"}``; values that look like
    ints become ints, everything else stays a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ModelError(f"parameter {pair!r} is not NAME=VALUE")
        params[name] = int(value) if _INT.match(value.strip()) else value
    return params


def load_model(path: str | pathlib.Path, params: dict[str, Any] | None = None) -> Model:
    """Build the model that a file describes.

    - ``.py``: a module exposing ``build_model(**params) -> Model`` (preferred),
      or a ready ``MODEL`` object (then no parameters are accepted).
    - ``.yaml``/``.yml``: a scenario, via ``kspec.simulation.scenario.load_scenario(path, params)``.
    """
    path = pathlib.Path(path)
    params = dict(params or {})
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            scenario = importlib.import_module("kspec.simulation.scenario")
        except ModuleNotFoundError as err:
            if err.name != "kspec.simulation.scenario":
                raise
            raise ModelError(f"{path}: scenario files need kspec.simulation.scenario, which is not installed yet") from None
        return scenario.load_scenario(path, params)
    if suffix != ".py":
        raise ModelError(f"{path}: a model is a .py model file or a .yaml scenario file")
    module = import_user_module(path)
    build = getattr(module, "build_model", None)
    if build is not None:
        try:
            model = build(**params)
        except TypeError as err:
            raise ModelError(f"{path}: build_model rejected the parameters {sorted(params)}: {err}") from None
    elif hasattr(module, "MODEL"):
        if params:
            raise ModelError(f"{path}: MODEL takes no parameters (got {sorted(params)}); define build_model")
        model = module.MODEL
    else:
        raise ModelError(f"{path}: a model file must define build_model(**params) or MODEL")
    missing = [m for m in ("init_states", "actions", "next_state", "properties", "within_boundary") if not hasattr(model, m)]
    if missing:
        raise ModelError(f"{path}: the model lacks {', '.join(missing)}")
    return model


def import_user_module(path: pathlib.Path, what: str = "model file"):
    """Import a user's Python file (a model, a controller) under its dotted name
    when it sits on ``sys.path`` (so its classes pickle and unpickle in other
    processes), else under a private name registered in ``sys.modules``.
    Any error in the user's code becomes a one-line ModelError."""
    resolved = path.resolve()
    for entry in sys.path:
        base = pathlib.Path(entry or ".").resolve()
        try:
            rel = resolved.with_suffix("").relative_to(base)
        except ValueError:
            continue
        if all(part.isidentifier() for part in rel.parts):
            name = ".".join(rel.parts)
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            except Exception as err:  # user code: report, never a traceback
                raise ModelError(f"{path}: cannot import {what}: {type(err).__name__}: {err}") from err
            if getattr(module, "__file__", None) and pathlib.Path(module.__file__).resolve() == resolved:
                return module
    name = "kspec_model_" + re.sub(r"\W", "_", str(resolved))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # user code: report, never a traceback
        del sys.modules[name]
        raise ModelError(f"{path}: cannot import {what}: {type(err).__name__}: {err}") from err
    return module
