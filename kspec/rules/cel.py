"""CEL for kspec: the only module that imports the CEL implementation.

kspec uses **cel-expr-python** (Google's Python bindings over cel-cpp, the C++
implementation maintained with the CEL specification), chosen by measurement
(``bench/bench_cel.py``; numbers in ``docs/rules.md``): it passed the whole
conformance subset and was the fastest of the three maintained candidates.

The environment declares the variables a ValidatingAdmissionPolicy sees
(``object``, ``oldObject``, ``request``, ``params``, ``namespaceObject``,
``variables``) plus kspec's ``cluster`` (every loaded object, as a map from
kind to the list of manifests), ``source`` (``{file, line, at}`` of the object)
``pod`` (the Pod-shaped template of a workload, the Pod itself, else null)
and ``ref`` (the object's identity, ``{apiVersion, kind, metadata: {name,
namespace}}``, a cheap argument for the cluster helper functions),
all of type ``dyn``; the cel-go string and math extensions that Kubernetes
enables (``ext.Strings``, ``ext.Math``), ``cel.bind``, optional values
(``object.?spec.?replicas.orValue(1)``, as in Kubernetes 1.29+); and kspec's functions
(:mod:`kspec.rules.functions`). Expressions are type-checked and compiled once
(:func:`compile_expression` is cached by source text).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import attrs

from kspec.errors import KspecError
from kspec.rules import functions as fn

VARIABLES = (
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
    "variables",
    "cluster",
    "source",
    "pod",
    "ref",
)


class CelCompileError(KspecError):
    """An expression that does not parse or type-check.

    ``line`` and ``column`` (1-based) are positions inside the expression.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column


class CelEvaluationError(KspecError):
    """An expression that failed on a particular input (missing field, wrong type...)."""


@functools.cache
def _environment(variables: tuple[str, ...] = VARIABLES):
    """The CEL environment declaring ``variables`` (all ``dyn``); rules use
    :data:`VARIABLES`, scenario checks :data:`kspec.simulation.scenario_cel.VARIABLES`."""
    from cel_expr_python import cel
    from cel_expr_python.ext import ext_bindings, ext_math, ext_optional, ext_strings

    types = {
        "dyn": cel.Type.DYN,
        "string": cel.Type.STRING,
        "int": cel.Type.INT,
        "double": cel.Type.DOUBLE,
        "bool": cel.Type.BOOL,
        "list": cel.Type.List(cel.Type.DYN),
        "map": cel.Type.Map(cel.Type.DYN, cel.Type.DYN),
    }
    declarations = [
        cel.FunctionDecl(
            name,
            [
                cel.Overload(
                    o.id,
                    types[o.result],
                    [types[p] for p in o.params],
                    is_member=o.member,
                    impl=o.impl,
                )
                for o in overloads
            ],
        )
        for name, overloads in fn.FUNCTIONS.items()
    ]
    env = cel.NewEnv(
        variables={name: cel.Type.DYN for name in variables},
        extensions=[
            ext_strings.ExtStrings(),
            ext_math.ExtMath(),
            ext_bindings.ExtBindings(),
            ext_optional.ExtOptional(),
            cel.CelExtension("kspec", declarations),
        ],
    )
    return cel, env


_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")
_STATUS = re.compile(r"^[A-Z_]+: ")


def _compile_error(text: str) -> CelCompileError:
    """Parse cel-cpp's ``ERROR: <input>:LINE:COL: message`` into a record."""
    match = _POSITION.search(text)
    if not match:
        return CelCompileError(_clean(text))
    message = match.group(3).strip()
    if "undeclared reference to 'authorizer'" in message:
        message += " (authorizer checks need a live API server; kspec runs offline)"
    return CelCompileError(message, int(match.group(1)), int(match.group(2)))


def _clean(text: str) -> str:
    """cel-cpp status text without the status code and the trailing ``[CODE]``."""
    text = str(text).strip()
    text = re.sub(r"\s*\[[A-Z_]+\]$", "", text)
    while _STATUS.match(text):
        text = _STATUS.sub("", text, count=1)
    return text


@attrs.frozen
class Program:
    """A compiled expression; :meth:`evaluate` runs it on one set of variables."""

    source: str
    uses_cluster: bool
    _expression: Any = attrs.field(eq=False, repr=False)
    variables: tuple[str, ...] = VARIABLES

    def evaluate(self, variables: "dict | Bindings") -> Any:
        """The value as plain Python; raises :class:`CelEvaluationError`.

        ``variables`` is a dict, or :class:`Bindings` shared by several
        programs so that each value is converted to CEL once.
        """
        cel, _ = _environment()
        try:
            if isinstance(variables, Bindings):
                value = self._expression.eval(variables.activation)
            else:
                value = self._expression.eval(data=variables)
        except RuntimeError as err:  # bad input types for the bindings
            raise CelEvaluationError(_clean(err)) from None
        if value.type() == cel.Type.ERROR:
            raise CelEvaluationError(_clean(value.value()))
        return value.plain_value()


class Bindings:
    """Variables converted to CEL lazily, once, and shared by every program evaluated on them."""

    __slots__ = ("activation",)

    def __init__(self, variables: dict, names: tuple[str, ...] = VARIABLES):
        _, env = _environment(names)
        try:
            self.activation = env.Activation(data=variables)
        except RuntimeError as err:
            raise CelEvaluationError(_clean(err)) from None


_CLUSTER_REF = re.compile(r"\bcluster\b")


@functools.lru_cache(maxsize=None)
def compile_expression(source: str, variables: tuple[str, ...] = VARIABLES) -> Program:
    """Parse and type-check ``source`` once against ``variables``; raises :class:`CelCompileError`."""
    if not isinstance(source, str) or not source.strip():
        raise CelCompileError("empty expression")
    _, env = _environment(variables)
    try:
        expression = env.compile(source)
    except RuntimeError as err:
        raise _compile_error(str(err)) from None
    return Program(source, bool(_CLUSTER_REF.search(source)), expression, variables)


def result_type(program: Program) -> str:
    """The static result type name (``bool``, ``string``, ``dyn``...)."""
    return program._expression.return_type().name().lower()
