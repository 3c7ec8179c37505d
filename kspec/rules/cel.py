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

Each evaluation has a cost budget, as in the API server (where a
ValidatingAdmissionPolicy expression may cost 1,000,000 units per call and
one that exceeds it is an evaluation error, handled by the failurePolicy).
cel-expr-python exposes no cost tracking, so the budget is counted the way
the library can bound it: at most 10,000 comprehension iterations (the
library's own iteration budget) and at most :data:`MEMORY_BUDGET` bytes of
new address space (a soft ``RLIMIT_AS`` set around the call; cel-cpp
allocates every value of one evaluation in an arena freed at its end, so what
an expression builds is what it costs). Past either, the evaluation fails
with ``CEL cost budget exceeded``, an ordinary :class:`CelEvaluationError`:
a rule's finding is an error, a scenario check stops the run.
"""

from __future__ import annotations

import functools
import os
import re
import resource
from typing import Any

import attrs
from cel_expr_python import cel
from cel_expr_python.ext import ext_bindings, ext_math, ext_optional, ext_strings

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


MEMORY_BUDGET = 1 << 30  # bytes of address space one evaluation may add
COST_EXCEEDED = "CEL cost budget exceeded"
_ITERATIONS_EXCEEDED = "Iteration budget exceeded"  # cel-cpp's comprehension iteration limit
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_statm: list = []  # /proc/self/statm kept open: reading it costs well under a microsecond


def _address_space() -> int | None:
    """The process's virtual size now (None where /proc is not there)."""
    try:
        if not _statm or _statm[0][0] != os.getpid():  # opened by a parent before fork: reopen
            _statm[:] = [(os.getpid(), os.open("/proc/self/statm", os.O_RDONLY))]
        return int(os.pread(_statm[0][1], 128, 0).split()[0]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _within_memory_budget(call):
    """``call()`` with the address space capped at its current size plus
    :data:`MEMORY_BUDGET`; a failed allocation becomes a CelEvaluationError."""
    size = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if size is None:
        return call()
    cap = size + MEMORY_BUDGET
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            cap = min(cap, limit)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        return call()
    except MemoryError:
        raise CelEvaluationError(f"{COST_EXCEEDED}: the expression needed more than "
                                 f"{MEMORY_BUDGET >> 20} MiB") from None
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _evaluation_error(text) -> CelEvaluationError:
    message = _clean(text)
    if message == _ITERATIONS_EXCEEDED:
        message = f"{COST_EXCEEDED}: more than 10,000 comprehension iterations"
    return CelEvaluationError(message)


@functools.cache
def _environment(variables: tuple[str, ...] = VARIABLES):
    """The CEL environment declaring ``variables`` (all ``dyn``); rules use
    :data:`VARIABLES`, scenario checks :data:`kspec.simulation.scenario_cel.VARIABLES`."""
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
                value = _within_memory_budget(lambda: self._expression.eval(variables.activation))
            else:
                value = _within_memory_budget(lambda: self._expression.eval(data=variables))
        except RuntimeError as err:  # bad input types for the bindings, or the iteration budget
            raise _evaluation_error(err) from None
        if value.type() == cel.Type.ERROR:
            raise _evaluation_error(value.value())
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
