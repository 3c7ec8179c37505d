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
all of type ``dyn``; the string extension (``ext.Strings``), the math
extension, ``cel.bind``, optional values
(``object.?spec.?replicas.orValue(1)``), the Kubernetes libraries and
kspec's own functions (:mod:`kspec.rules.functions`).

ValidatingAdmissionPolicy expressions compile in a second environment, the
API server's (``k8s.io/apiserver/pkg/cel/environment/base.go``), no more and
no less: the variables of :data:`ADMISSION_VARIABLES` (``authorizer``
included, none of kspec's), ``ext.Strings`` version 2, optional types and
the Kubernetes libraries (lists, regex, URLs, IP and CIDR, quantity, semver,
format, sets, authorizer), and neither ``math.*`` nor ``cel.bind`` (the
API server has neither). What cel-expr-python cannot do that the API server
does: two-variable comprehensions (``all(i, v, ...)``, ``transformList``,
``transformMap``; a compile error), numeric comparisons across int, uint
and double *literals* (``1 < 2.0`` does not type-check; values read from
objects compare across types at run time), ``orValue()`` on a format's
``validate()`` result (``hasValue()`` and ``value()`` work), and the image
library (``image()``).

Expressions are type-checked and compiled once (:func:`compile_expression`
is cached by source text and environment).

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
import contextlib
import os
import re
import resource
import struct
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
# What a ValidatingAdmissionPolicy expression sees (k8s.io/apiserver/pkg/admission/plugin/cel).
ADMISSION_VARIABLES = ("object", "oldObject", "request", "params", "namespaceObject", "variables", "authorizer")


def admission_variables(*, params: bool, authorizer: bool) -> tuple[str, ...]:
    """Upstream ``OptionalVariableDeclarations``: ``params`` only when the policy has a
    ``paramKind``; ``authorizer`` in validations, variables and match conditions, not in
    ``messageExpression`` or audit annotations."""
    return tuple(v for v in ADMISSION_VARIABLES
                 if (params or v != "params") and (authorizer or v != "authorizer"))


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
_ERROR = cel.Type.ERROR
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


_batch = [False]  # a memory_budget() block is active: one cap covers every evaluation in it


@contextlib.contextmanager
def memory_budget():
    """Cap the address space once for many evaluations (``kspec check``'s
    loop over objects and rules, where memory grows little between them)
    instead of around each: four system calls per evaluation saved. Nested
    or repeated use is harmless."""
    if _batch[0]:
        yield
        return
    size = _address_space()
    if size is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_cap(size, soft, hard), hard))
    _batch[0] = True
    try:
        yield
    finally:
        _batch[0] = False
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _cap(size: int, soft: int, hard: int) -> int:
    cap = size + MEMORY_BUDGET
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            cap = min(cap, limit)
    return cap


def _within_memory_budget(call, *args, **kwargs):
    """``call(*args, **kwargs)`` with the address space capped at its current size plus
    :data:`MEMORY_BUDGET` (by the enclosing :func:`memory_budget` block, or
    here around this one call); a failed allocation becomes a CelEvaluationError."""
    try:
        if _batch[0]:
            return call(*args, **kwargs)
        with memory_budget():
            return call(*args, **kwargs)
    except MemoryError:
        raise CelEvaluationError(f"{COST_EXCEEDED}: the expression needed more than "
                                 f"{MEMORY_BUDGET >> 20} MiB") from None


def _evaluation_error(text) -> CelEvaluationError:
    message = _clean(text)
    if message == _ITERATIONS_EXCEEDED:
        message = f"{COST_EXCEEDED}: more than 10,000 comprehension iterations"
    return CelEvaluationError(message)


@functools.cache
def _environment(variables: tuple[str, ...] = VARIABLES):
    """The CEL environment declaring ``variables`` (all ``dyn``); rules use
    :data:`VARIABLES`, scenario checks :data:`kspec.simulation.scenario_cel.VARIABLES`,
    admission policies :data:`ADMISSION_VARIABLES` (the API server's environment)."""
    admission = set(variables) <= set(ADMISSION_VARIABLES)
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
        for name, overloads in (fn.KUBERNETES_FUNCTIONS if admission else fn.FUNCTIONS).items()
    ]
    kspec_only = [] if admission else [ext_math.ExtMath(), ext_bindings.ExtBindings()]
    env = cel.NewEnv(
        variables={name: cel.Type.DYN for name in variables},
        extensions=[
            ext_strings.ExtStrings(2) if admission else ext_strings.ExtStrings(),
            *kspec_only,
            ext_optional.ExtOptional(),
            cel.CelExtension("kubernetes" if admission else "kspec", declarations),
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
        message += " (authorizer is a ValidatingAdmissionPolicy variable; a kspec rule runs offline)"
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
        try:
            if isinstance(variables, Bindings):
                value = _within_memory_budget(self._expression.eval, variables.activation)
            else:
                value = _within_memory_budget(self._expression.eval, data=variables)
        except RuntimeError as err:  # bad input types for the bindings, or the iteration budget
            raise _evaluation_error(err) from None
        if value.type() == _ERROR:
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


def mentions_cluster(source: str) -> bool:
    """Whether an expression reads the ``cluster`` variable (:attr:`Program.uses_cluster`, before compiling)."""
    return bool(_CLUSTER_REF.search(source))


@functools.lru_cache(maxsize=None)
def compile_expression(source: str, variables: tuple[str, ...] = VARIABLES) -> Program:
    """Parse and type-check ``source`` once against ``variables``; raises :class:`CelCompileError`."""
    if not isinstance(source, str) or not source.strip():
        raise CelCompileError("empty expression")
    _, env = _environment(variables)
    try:
        expression = env.compile(source)
    except RuntimeError as err:
        error = _compile_error(str(err))
        if set(variables) <= set(ADMISSION_VARIABLES) and re.search(r"\b(math\.\w+|cel\.bind)\s*\(", source):
            error = CelCompileError(f"{error.message} (the Kubernetes API server's CEL environment has neither "
                                    "math.* nor cel.bind)", error.line, error.column)
        raise error from None
    return Program(source, mentions_cluster(source), expression, variables)


def result_type(program: Program) -> str:
    """The static result type name (``bool``, ``string``, ``dyn``...)."""
    return program._expression.return_type().name().lower()


# --------------------------------------------------------------------------- the checked syntax tree


@attrs.frozen
class Node:
    """One node of a compiled expression (``cel.expr.Expr``, macros expanded
    into comprehensions), where it starts in the source (1-based), and:

    - ``const``: ``value`` (str, int, float, bool, None or bytes);
    - ``ident``: ``name``;
    - ``select``: ``name`` (the field), ``args == (operand,)``, ``test_only`` for ``has()``;
    - ``call``: ``name`` (the function, ``_[_]`` for an index), ``args`` (the
      target first for a member call, ``member`` set);
    - ``list``: ``args`` (the elements); ``struct``: ``args`` (the map keys and values);
    - ``comprehension``: ``names == (iter_var, iter_var2, accu_var)`` and
      ``args == (iter_range, accu_init, loop_condition, loop_step, result)``.
    """

    kind: str
    name: str = ""
    args: tuple = ()
    value: Any = None
    test_only: bool = False
    member: bool = False
    names: tuple = ()
    line: int = 1
    column: int = 1


def syntax_tree(program: Program) -> Node | None:
    """The tree of a compiled expression, read from the library's serialized
    checked expression (``cel.expr.CheckedExpr`` in protobuf wire format);
    None if that form is not one kspec can read (callers then skip what they
    would have checked on the tree: it is a help, not a gate)."""
    try:
        wrapper = _wire(program._expression.serialize())
        if _first(wrapper, 1, b"") != b"type.googleapis.com/cel.expr.CheckedExpr":
            return None
        checked = _wire(_first(wrapper, 2, b""))
        info = _wire(_first(checked, 5, b""))
        starts = [0] + [o for v in _all(info, 3) for o in (_packed(v) if isinstance(v, bytes) else [v])]
        positions = {}
        for entry in _all(info, 4):
            fields = _wire(entry)
            positions[_first(fields, 1, 0)] = _first(fields, 2, 0)
        return _expr(_wire(_first(checked, 4, b"")), positions, starts)
    except (ValueError, IndexError, TypeError, UnicodeDecodeError, struct.error, RecursionError, RuntimeError):
        return None


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _wire(data: bytes) -> list[tuple[int, Any]]:
    """One protobuf message as ``(field number, value)`` pairs: varints as int,
    64-bit values as 8 bytes, length-delimited values as bytes."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, i = _varint(data, i)
        elif kind == 1:
            value, i = data[i:i + 8], i + 8
        elif kind == 2:
            length, i = _varint(data, i)
            value, i = data[i:i + length], i + length
        elif kind == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"protobuf wire type {kind}")
        out.append((number, value))
    return out


def _first(fields, number: int, default=None):
    return next((value for n, value in fields if n == number), default)


def _all(fields, number: int) -> list:
    return [value for n, value in fields if n == number]


def _packed(data: bytes) -> list[int]:
    out, i = [], 0
    while i < len(data):
        value, i = _varint(data, i)
        out.append(value)
    return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _expr(fields, positions: dict, starts: list[int]) -> Node:
    """``cel.expr.Expr``: id 2; const 3, ident 4, select 5, call 6, list 7, struct 8, comprehension 9."""
    offset = positions.get(_first(fields, 2, 0), 0)
    line = sum(1 for start in starts if start <= offset)
    where = {"line": line, "column": offset - starts[line - 1] + 1}

    def sub(data) -> Node:
        return _expr(_wire(data), positions, starts)

    for number, body in fields:
        if number == 3:
            return Node("const", value=_constant(_wire(body)), **where)
        if number == 4:
            return Node("ident", name=_first(_wire(body), 1, b"").decode(), **where)
        if number == 5:
            part = _wire(body)
            return Node("select", name=_first(part, 2, b"").decode(), args=(sub(_first(part, 1, b"")),),
                        test_only=bool(_first(part, 3, 0)), **where)
        if number == 6:
            part = _wire(body)
            target = _first(part, 1)
            args = tuple(sub(a) for a in _all(part, 3))
            return Node("call", name=_first(part, 2, b"").decode(), member=target is not None,
                        args=((sub(target),) if target is not None else ()) + args, **where)
        if number == 7:
            return Node("list", args=tuple(sub(e) for e in _all(_wire(body), 1)), **where)
        if number == 8:
            entries = [_wire(e) for e in _all(_wire(body), 2)]
            return Node("struct", args=tuple(sub(v) for e in entries for n, v in e if n in (3, 4)), **where)
        if number == 9:
            part = _wire(body)
            names = tuple(_first(part, n, b"").decode() for n in (1, 8, 3))
            return Node("comprehension", names=names, args=tuple(sub(_first(part, n, b"")) for n in (2, 4, 5, 6, 7)),
                        **where)
    return Node("unknown", **where)


def _constant(fields):
    """``cel.expr.Constant``: null 1, bool 2, int64 3, uint64 4, double 5, string 6, bytes 7."""
    for number, value in fields:
        if number == 1:
            return None
        if number == 2:
            return bool(value)
        if number == 3:
            return _signed(value)
        if number == 4:
            return value
        if number == 5:
            return struct.unpack("<d", value)[0]
        if number == 6:
            return value.decode()
        if number == 7:
            return bytes(value)
    return None
