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

Optional capabilities are named protocols below (``isinstance(model, Symmetric)``);
the explorer, fuzz, traces and the report ask for them this way and never look
at a model's own fields or type names:

:class:`Symmetric` -- ``representative(state) -> state``
    Symmetry reduction: a canonical member of the state's equivalence class
    under the model's symmetries (interchangeable pods, identical nodes). Must
    map every member of an orbit to the same state, must not change any
    property's value, and must not change the set of enabled actors.

:class:`Stepped` -- ``step_list(state) -> [(action_index, next_state)]``
    Every step at once, as ``successors`` would list them (``action_index``
    indexes ``tuple(actions(state))``, steps whose ``next_state`` is None
    left out): the explorer's path, one call per state instead of one per
    action. It must agree exactly with ``actions``/``next_state``.

:class:`PackedEncoding` -- ``encode(state) -> key``, ``decode(key) -> state``, ``encoded_steps(key)``
    A packed fast path for big models. ``encode`` is an exact, compact,
    hashable encoding (typically one int); ``encoded_steps(key)`` yields
    ``(action_index, successor_key)`` for every action whose ``next_state`` is
    not None, where ``action_index`` indexes ``tuple(actions(decode(key)))``.
    The explorer then builds state records only for distinct states. A model
    providing the fast path must agree exactly with its plain methods (test it
    with ``Explorer(..., packed=False)``). Properties may carry ``encoded=``
    (and ``encoded_goal=``) predicates on keys so that checking needs no record.
    Its optional extras, each its own protocol:

    - :class:`PackedSymmetric` -- ``encoded_representative(key)``:
      ``representative`` on keys;
    - :class:`PackedSymmetricSteps` -- ``encoded_symmetric_steps(key)``: under
      symmetry reduction, for a *representative* key, ``(action_index,
      representative of the successor)`` pairs. It may omit a step when another
      listed step of the same actor leads to the same successor orbit; it must
      keep every successor orbit and every enabled actor;
    - :class:`PackedActions` -- ``encoded_actions(key)``: ``tuple(actions(decode(key)))``
      without decoding;
    - :class:`PackedBoundary` -- ``encoded_within_boundary``: ``within_boundary``
      on keys, or None when every state is within the boundary.

:class:`Describable` -- ``describe()``, ``describe_state(state)``, ``describe_step(before, action, after)``
    Words for traces and reports: a :class:`Description` (title and
    parameters, for a report's header), a state in lines, what a step changed
    in lines (an empty result means: use the field-by-field difference).

:class:`Independent` -- ``footprints(state)``, ``visible_keys(properties)``, ``undeclared_steps()``
    What steps read and write, for partial-order reduction
    (:mod:`kspec.checker.reduction`). ``footprints(state)`` returns
    :class:`Footprints`: *families* of steps, each a :class:`Footprint` of
    hashable keys, and the family of every enabled step. The families must
    cover every step that is enabled in ``state`` or may become enabled in a
    state reached from it; a family's steps are enabled and act according to
    the values of its ``reads`` only, change only its ``writes``, and a family
    with no enabled step gets one only after a step writes its ``guard``
    (default: its reads). A family's footprint may depend on the state only
    through the keys it reads. None means "not known here": the state is
    expanded fully. ``visible_keys(properties)`` is every key the given
    properties and ``within_boundary`` read (a tuple key also stands for
    every longer key it begins), or None when they may read anything.
    ``undeclared_steps()`` says which steps have no footprint at all (a user's
    controller, say), or is empty; the reduction is then off, for that reason.

:class:`HasAssumptions` -- ``assumptions()`` and ``warnings``
    ``assumptions()`` yields ``(topic, text)`` pairs a report lists under its
    assumptions (``nodes``, ``faults``, ``not modelled``, ...); ``warnings`` is
    a tuple of diagnostics about the input (things the model leaves out),
    printed before the results.

A model with no initial state is an error (:func:`initial_states` raises
:class:`ModelError`), never an empty search that "holds".

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
    "Describable",
    "Description",
    "Footprint",
    "Footprints",
    "HasAssumptions",
    "Independent",
    "Kind",
    "Model",
    "ModelError",
    "PackedActions",
    "PackedBoundary",
    "PackedEncoding",
    "PackedSymmetric",
    "PackedSymmetricSteps",
    "Property",
    "Stepped",
    "Symmetric",
    "SymmetricSteps",
    "UnknownPropertyError",
    "Verdict",
    "Witness",
    "actor_of",
    "always",
    "describe_title",
    "eventually_always",
    "find_property",
    "import_user_module",
    "initial_states",
    "is_symmetric",
    "leads_to",
    "load_model_file",
    "nearest_by_parts",
    "parse_params",
    "select_properties",
    "sometimes",
    "successors",
    "warnings_of",
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
    ``explain`` (optional) says in one sentence why ``condition`` is false in a
    state, for the step of a trace that breaks the property
    (:func:`kspec.checker.explain.explain_result`).

    Sanity, so that nothing passes vacuously: ``witnesses`` are what must
    happen in some reachable state for the verdict to mean something (a fault
    fires, the antecedent of an implication holds); a property that holds
    while one of them is never reached holds *vacuously*, and the result says
    which and why (:attr:`Witness.reason`). ``eventually_always`` and
    ``leads_to`` get one by default (their condition fails somewhere / holds
    somewhere). For a ``sometimes``, ``closeness`` measures how near a state
    comes to satisfying ``condition`` (comparable values, higher is nearer)
    and ``nearest`` says it in words, so a violated ``sometimes`` tells how
    close the search came (:func:`nearest_by_parts` builds both for a
    conjunction).
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
    explain: Callable[[Any], str | None] | None = attrs.field(default=None, eq=False, repr=False)
    witnesses: tuple[Witness, ...] = attrs.field(default=(), converter=tuple, eq=False, repr=False)
    closeness: Callable[[Any], Any] | None = attrs.field(default=None, eq=False, repr=False)
    nearest: Callable[[Any], str] | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ModelError(f"property name must be a non-empty string, got {self.name!r}")
        if self.kind is Kind.LEADS_TO and self.goal is None:
            raise ModelError(f"property {self.name}: leads_to needs a goal")
        if self.fair and not self.kind.is_liveness:
            raise ModelError(f"property {self.name}: fairness only applies to liveness properties")
        if self.closeness is not None and self.kind is not Kind.SOMETIMES:
            raise ModelError(f"property {self.name}: closeness only applies to sometimes properties")
        if not all(isinstance(w, Witness) for w in self.witnesses):
            raise ModelError(f"property {self.name}: witnesses must be Witness values")


@attrs.frozen
class Witness:
    """What must happen in some reachable state for a property to mean something.

    ``condition`` is a predicate on states (``encoded`` the same on packed
    keys); ``reason`` says what it means when no reachable state satisfies it,
    e.g. "no fault ever fires".
    """

    reason: str
    condition: Callable[[Any], bool] = attrs.field(eq=False, repr=False)
    encoded: Callable[[Any], bool] | None = attrs.field(default=None, eq=False, repr=False)


def nearest_by_parts(parts: Sequence[tuple[str, Callable[[Any], bool]]]):
    """``(closeness, nearest)`` for a condition that is the conjunction of
    named ``parts``: a state is nearer the more parts it satisfies at once,
    and the words name the parts that held there and those that did not.

    >>> closeness, nearest = nearest_by_parts([("x > 0", lambda s: s > 0), ("x even", lambda s: s % 2 == 0)])
    >>> closeness(3), nearest(3)
    (1, 'at most 1 of 2 parts held at once: x > 0 held; x even did not')
    """
    parts = tuple(parts)

    def closeness(state) -> int:
        return sum(1 for _, part in parts if part(state))

    def nearest(state) -> str:
        values = [(name, part(state)) for name, part in parts]
        held = [name for name, value in values if value]
        missed = [name for name, value in values if not value]
        words = f"at most {len(held)} of {len(parts)} parts held at once"
        if held:
            words += f": {', '.join(held)} held"
        return words + (f"; {', '.join(missed)} did not" if missed else "")
    return closeness, nearest


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


def sometimes(name: str, condition: Callable[[Any], bool], description: str = "", encoded=None, closeness=None,
              nearest=None) -> Property:
    """Reachability: some reachable state satisfies ``condition`` (violated if none does).

    ``closeness`` and ``nearest`` (optional, see :class:`Property`) let a
    violation say how close the search came."""
    return Property(name, Kind.SOMETIMES, condition, description=description, encoded=encoded, closeness=closeness,
                    nearest=nearest)


def eventually_always(
    name: str, condition: Callable[[Any], bool], fair: Iterable[str] = (), description: str = "", encoded=None
) -> Property:
    """Convergence (<>[]P): under weak fairness of the ``fair`` actors, every
    behaviour reaches a point after which ``condition`` holds forever.

    A behaviour may stop (stutter forever) in a state where no fair actor is
    enabled, as in TLA+; a terminal state violating ``condition`` is therefore
    a counterexample (a lasso whose cycle is empty).

    Witness by default: ``condition`` is false in some reachable state (else
    nothing ever had to converge and the property holds vacuously)."""
    witness = Witness("its condition holds in every reachable state, so nothing ever had to converge",
                      lambda state: not condition(state), None if encoded is None else lambda key: not encoded(key))
    return Property(name, Kind.EVENTUALLY_ALWAYS, condition, fair=frozenset(fair), description=description,
                    encoded=encoded, witnesses=(witness,))


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
    holds, ``goal`` holds then or later.

    Witness by default: ``condition`` holds in some reachable state (else
    the property holds vacuously)."""
    return Property(
        name,
        Kind.LEADS_TO,
        condition,
        goal=goal,
        fair=frozenset(fair),
        description=description,
        encoded=encoded,
        encoded_goal=encoded_goal,
        witnesses=(Witness("its condition never holds, so nothing ever had to follow", condition, encoded),),
    )


@runtime_checkable
class Model(Protocol):
    """The whole contract between a model and the checkers (see module docstring)."""

    def init_states(self) -> Iterable[Hashable]: ...

    def actions(self, state: Any) -> Iterable[Any]: ...

    def next_state(self, state: Any, action: Any) -> Any | None: ...

    def properties(self) -> Sequence[Property]: ...

    def within_boundary(self, state: Any) -> bool: ...


@runtime_checkable
class Symmetric(Protocol):
    """Symmetry reduction: ``representative(state)`` is the canonical member of the state's orbit."""

    def representative(self, state: Any) -> Any: ...


@runtime_checkable
class Stepped(Protocol):
    """A model that lists its steps at once: ``step_list(state)`` is
    ``[(index, next_state) for index, _, next_state in successors(model, state)]``,
    without asking ``next_state`` action by action."""

    def step_list(self, state: Any) -> list[tuple[int, Any]]: ...


@runtime_checkable
class SymmetricSteps(Protocol):
    """A symmetric model that lists a state's successors as representatives
    at once: ``symmetric_step_list(state, stored)`` is
    ``[(i, x if x in stored else representative(x)) for i, x in step_list(state)]``
    (``stored``: a container of representatives), by a faster path."""

    def symmetric_step_list(self, state: Any, stored) -> list[tuple[int, Any]]: ...


@runtime_checkable
class PackedEncoding(Protocol):
    """The packed fast path: exact keys for states and successor keys by action index."""

    def encode(self, state: Any) -> Hashable: ...

    def decode(self, key: Any) -> Any: ...

    def encoded_steps(self, key: Any) -> Iterable[tuple[int, Any]]: ...


@runtime_checkable
class PackedSymmetric(Protocol):
    """``representative`` on packed keys."""

    def encoded_representative(self, key: Any) -> Any: ...


@runtime_checkable
class PackedSymmetricSteps(Protocol):
    """Successors of a representative key, as representatives, possibly fewer per orbit."""

    def encoded_symmetric_steps(self, key: Any) -> Iterable[tuple[int, Any]]: ...


@runtime_checkable
class PackedActions(Protocol):
    """The action table of a packed key without decoding it."""

    def encoded_actions(self, key: Any) -> Sequence[Any]: ...


@runtime_checkable
class PackedBoundary(Protocol):
    """``within_boundary`` on packed keys; None when every state is within the boundary."""

    encoded_within_boundary: Callable[[Any], bool] | None


@runtime_checkable
class Settling(Protocol):
    """A model whose initial states come from a search of its own (a
    scenario's ``start: settled``); ``reduce_settling`` lets that search use
    partial-order reduction (the explorer sets it from ``por``)."""

    reduce_settling: bool


@runtime_checkable
class Sliced(Protocol):
    """A model that left out parts no property reads (a cone-of-influence
    reduction): ``slice_note`` says what, "" when nothing was left out."""

    slice_note: str


@attrs.frozen
class Footprint:
    """What a family of steps reads and writes, as hashable keys; ``guard``
    (None: the reads) holds the keys whose change may enable the family when
    none of its steps is enabled."""

    reads: frozenset = attrs.field(converter=frozenset)
    writes: frozenset = attrs.field(converter=frozenset)
    guard: frozenset | None = attrs.field(default=None, converter=attrs.converters.optional(frozenset))

    @property
    def guard_keys(self) -> frozenset:
        return self.reads if self.guard is None else self.guard


@attrs.frozen
class Footprints:
    """A state's step families and, for each enabled step, ``(action index,
    family index)`` (the action index into ``tuple(actions(state))``). When
    every enabled step belongs to one family no smaller set can be chosen,
    and the other families may be left out."""

    families: tuple[Footprint, ...] = attrs.field(converter=tuple)
    of_step: tuple[tuple[int, int], ...] = attrs.field(converter=tuple)


@runtime_checkable
class Independent(Protocol):
    """Footprints of steps, for partial-order reduction (see the module docstring)."""

    def footprints(self, state: Any) -> Footprints | None: ...

    def visible_keys(self, properties: Sequence[Property]) -> frozenset | None: ...

    def undeclared_steps(self) -> str: ...


@attrs.frozen
class Description:
    """What a model is, for a report's header: a title and its parameters."""

    title: str
    parameters: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=lambda items: tuple((str(k), str(v)) for k, v in items))


@runtime_checkable
class Describable(Protocol):
    """A model that tells its states and steps in words (traces, reports)."""

    def describe(self) -> Description: ...

    def describe_state(self, state: Any) -> Sequence[str]: ...

    def describe_step(self, before: Any, action: Any, after: Any) -> Sequence[str]: ...


@runtime_checkable
class Drawable(Protocol):
    """A model whose states can be drawn as swim lanes (the report's timeline).

    ``swim_lanes(state)`` returns one or more views (a cluster model gives three:
    what the API server stores, what the machines run, the Services and their
    ready endpoints), each a sequence of
    lanes ``(place, status, ((item, item_status), ...))``: for a cluster, a
    lane is a node and its items are pods.
    """

    def swim_lanes(self, state: Any) -> Sequence[Sequence[tuple[str, str, Sequence[tuple[str, str]]]]]: ...


@runtime_checkable
class HasAssumptions(Protocol):
    """A model that states its assumptions (``(topic, text)`` pairs) and input warnings."""

    warnings: tuple

    def assumptions(self) -> Iterable[tuple[str, str]]: ...


def is_symmetric(model: Model) -> bool:
    """Whether symmetry reduction can run on ``model`` (plain or packed)."""
    return isinstance(model, Symmetric) or (isinstance(model, PackedEncoding) and isinstance(model, PackedSymmetric))


def warnings_of(model: Model) -> tuple:
    """The model's input warnings, none when it does not state any."""
    return tuple(model.warnings) if isinstance(model, HasAssumptions) else ()


def initial_states(model: Model) -> list:
    """``list(model.init_states())``; a model with none is a :class:`ModelError`
    (a search over nothing would report "holds")."""
    states = list(model.init_states())
    if not states:
        raise ModelError(f"{describe_title(model)} has no initial states")
    return states


def describe_title(model: Model) -> str:
    """The model's title when it is :class:`Describable`, else "the model"."""
    return model.describe().title if isinstance(model, Describable) else "the model"


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


def load_model_file(path: str | pathlib.Path, params: dict[str, Any] | None = None) -> Model:
    """Build the model a Python file describes: a module exposing
    ``build_model(**params) -> Model`` (preferred), or a ready ``MODEL`` object
    (then no parameters are accepted). Scenario files (``.yaml``) are loaded by
    ``kspec.simulation.modelfile.load_model``, which dispatches on the suffix."""
    path = pathlib.Path(path)
    params = dict(params or {})
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    module = import_user_module(path)
    build = getattr(module, "build_model", None)
    if build is not None:
        try:
            model = build(**params)
        except TypeError as err:
            raise ModelError(f"{path}: build_model rejected the parameters {sorted(params)}: {err}") from None
        except USER_CODE_ERRORS as err:  # user code: report, never a traceback
            raise ModelError(f"{path}: build_model {user_error(err)}") from None
    elif hasattr(module, "MODEL"):
        if params:
            raise ModelError(f"{path}: MODEL takes no parameters (got {sorted(params)}); define build_model")
        model = module.MODEL
    else:
        raise ModelError(f"{path}: a model file must define build_model(**params) or MODEL")
    if not isinstance(model, Model):
        missing = [m for m in ("init_states", "actions", "next_state", "properties", "within_boundary")
                   if not callable(getattr(model, m, None))]
        raise ModelError(f"{path}: the model lacks {', '.join(missing)}")
    return model


# What user code (a model, a controller) may raise that kspec turns into one line
# of bad input: any exception, and SystemExit, so that a module calling
# ``sys.exit(0)`` cannot end kspec with a silent success.
USER_CODE_ERRORS = (Exception, SystemExit)


def user_error(err: BaseException) -> str:
    """``raised ValueError: ...`` or ``called sys.exit(0)``, for a message naming the file."""
    if isinstance(err, SystemExit):
        return f"called sys.exit({err.code!r}) (user code must not exit kspec)"
    return f"raised {type(err).__name__}: {err}"


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
            except USER_CODE_ERRORS as err:  # user code: report, never a traceback
                raise ModelError(f"{path}: cannot import {what}: it {user_error(err)}") from err
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
    except USER_CODE_ERRORS as err:  # user code: report, never a traceback
        del sys.modules[name]
        raise ModelError(f"{path}: cannot import {what}: it {user_error(err)}") from err
    return module
