"""Labels and label selectors, as in ``k8s.io/apimachinery/pkg/labels``.

This module follows upstream closely:

* key and value validation: ``validation.IsQualifiedName`` and
  ``validation.IsValidLabelValue`` (now ``api/validate/content.IsLabelKey`` /
  ``IsLabelValue``), with upstream's messages;
* the selector string grammar: ``labels.Parse`` (the same lexer, the same
  context-dependent treatment of ``in``/``notin``, the same quirks such as
  ``x in ()`` meaning ``x in ("")``), with the error text of upstream plus
  the position of the offending token;
* ``Requirement.Matches`` / ``internalSelector.Matches`` and ``String()``;
* ``metav1.LabelSelectorAsSelector`` (``None`` selects nothing, ``{}``
  selects everything) and ``labels.SelectorFromSet`` (an empty map selects
  everything).

On top of that, :func:`could_overlap`, :meth:`Selector.is_satisfiable` and
:func:`witness` decide exactly whether some *valid* label set matches a
conjunction of selectors, and produce one.

>>> s = parse_selector("tier in (fe,be), app=web, !canary")
>>> str(s)
'app=web,!canary,tier in (be,fe)'
>>> s.matches({"app": "web", "tier": "fe"})
True
>>> could_overlap(s, selector_from_map({"app": "web", "tier": "db"}))
False
>>> witness(s, selector_from_dict({"matchExpressions": [
...     {"key": "tier", "operator": "NotIn", "values": ["be"]}]}))
{'app': 'web', 'tier': 'fe'}
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping

import attrs

from kspec.errors import LabelError, SelectorError

__all__ = [
    "Operator",
    "Requirement",
    "Selector",
    "new_requirement",
    "parse_selector",
    "selector_from_dict",
    "selector_from_map",
    "could_overlap",
    "witness",
    "validate_label_key",
    "validate_label_value",
    "validate_labels",
    "validate_qualified_name",
    "qualified_name_errors",
    "label_value_errors",
]

# ---------------------------------------------------------------------------
# Validation (k8s.io/apimachinery/pkg/util/validation, api/validate/content)
# ---------------------------------------------------------------------------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_RE = re.compile(_NAME_FMT)
_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_NAME_MAX = 63

_VALUE_FMT = "(" + _NAME_FMT + ")?"
_VALUE_RE = re.compile(_VALUE_FMT)
_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric "
    "characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_VALUE_MAX = 63

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MAX = 253


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``content.RegexError``: the message, examples and the regex."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_error(n: int) -> str:
    return f"must be no more than {n} bytes"


def _byte_len(s: str) -> int:
    # Go measures strings in bytes.
    return len(s) if s.isascii() else len(s.encode("utf-8", "surrogatepass"))


def _dns1123_subdomain_errors(value: str) -> list[str]:
    errs = []
    if _byte_len(value) > _DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len_error(_DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


@functools.lru_cache(maxsize=8192)
def _qualified_name_errors(value: str) -> tuple[str, ...]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in _dns1123_subdomain_errors(prefix))
    else:
        return (
            "a valid label key "
            + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        )
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > _NAME_MAX:
        errs.append("name part " + _max_len_error(_NAME_MAX))
    if not _NAME_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc"))
    return tuple(errs)


@functools.lru_cache(maxsize=8192)
def _label_value_errors(value: str) -> tuple[str, ...]:
    errs = []
    if _byte_len(value) > _VALUE_MAX:
        errs.append(_max_len_error(_VALUE_MAX))
    if not _VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return tuple(errs)


def qualified_name_errors(name: str) -> list[str]:
    """Upstream ``IsQualifiedName``: the list of problems, empty when valid."""
    if not isinstance(name, str):
        return [f"must be a string, got {type(name).__name__}"]
    return list(_qualified_name_errors(name))


def label_value_errors(value: str) -> list[str]:
    """Upstream ``IsValidLabelValue``: the list of problems, empty when valid."""
    if not isinstance(value, str):
        return [f"must be a string, got {type(value).__name__}"]
    return list(_label_value_errors(value))


def _go_quote(value) -> str:
    """Roughly Go's ``%q`` (printable Unicode kept, control characters escaped)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def validate_qualified_name(name: str, what: str = "qualified name") -> None:
    """Raise :class:`LabelError` unless ``name`` is a qualified name.

    A qualified name (label keys, annotation keys, many other API fields) is an
    optional DNS-1123 subdomain prefix (at most 253 bytes) and ``/``, then a
    name of at most 63 bytes matching ``([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]``.
    ``what`` names the thing in the message (``"annotation key"``).
    """
    errs = qualified_name_errors(name)
    if errs:
        raise LabelError(f"invalid {what} {_go_quote(name)}: {'; '.join(errs)}")


def validate_label_key(key: str) -> None:
    """Raise :class:`LabelError` unless ``key`` is a valid label key."""
    validate_qualified_name(key, "label key")


def validate_label_value(value: str, key: str | None = None) -> None:
    """Raise :class:`LabelError` unless ``value`` is a valid label value.

    Valid values are empty or at most 63 bytes of ``[-A-Za-z0-9_.]`` starting
    and ending with an alphanumeric character.
    """
    errs = label_value_errors(value)
    if errs:
        where = "" if key is None else f" for key {_go_quote(key)}"
        raise LabelError(f"invalid label value {_go_quote(value)}{where}: {'; '.join(errs)}")


def validate_labels(labels: Mapping[str, str]) -> None:
    """Validate every key and value of a label map (``ValidateLabels``)."""
    if not isinstance(labels, Mapping):
        raise LabelError(f"labels must be a mapping of strings, got {type(labels).__name__}")
    for key, value in labels.items():
        validate_label_key(key)
        validate_label_value(value, key)


def _is_valid_key(key) -> bool:
    return isinstance(key, str) and not _qualified_name_errors(key)


def _is_valid_value(value) -> bool:
    return isinstance(value, str) and not _label_value_errors(value)


# ---------------------------------------------------------------------------
# Requirements
# ---------------------------------------------------------------------------


class Operator(enum.StrEnum):
    """``k8s.io/apimachinery/pkg/selection.Operator`` with upstream's strings."""

    DOES_NOT_EXIST = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    IN = "in"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    EXISTS = "exists"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


_BINARY_OPERATORS = (
    Operator.IN,
    Operator.NOT_IN,
    Operator.EQUALS,
    Operator.DOUBLE_EQUALS,
    Operator.NOT_EQUALS,
    Operator.GREATER_THAN,
    Operator.LESS_THAN,
)
_VALID_OPERATORS = _BINARY_OPERATORS + (Operator.EXISTS, Operator.DOES_NOT_EXIST)
_POSITIVE_SET_OPS = frozenset({Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS})
_NEGATIVE_SET_OPS = frozenset({Operator.NOT_IN, Operator.NOT_EQUALS})

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_DECIMAL_RE = re.compile(r"[+-]?[0-9]+")


def _parse_int64(text) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``; ``None`` where Go errors."""
    if not isinstance(text, str) or not _DECIMAL_RE.fullmatch(text):
        return None
    n = int(text)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


def _operator(op) -> Operator | str:
    try:
        return Operator(op)
    except ValueError:
        return op  # kept as is; such a requirement matches nothing, like upstream


def _values(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError("values must be an iterable of strings, not a string")
    return tuple(sorted(values))


@attrs.frozen(cache_hash=True)
class Requirement:
    """One ``key operator values`` term (upstream ``labels.Requirement``).

    ``values`` is kept sorted (duplicates kept, as upstream's ``String()``
    prints them). Build validated requirements with :func:`new_requirement`;
    the constructor itself does not validate (like a ``Requirement{}`` literal
    in ``SelectorFromValidatedSet``).
    """

    key: str
    operator: Operator = attrs.field(converter=_operator)
    values: tuple[str, ...] = attrs.field(default=(), converter=_values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Upstream ``Requirement.Matches``."""
        return _requirement_check(self)(labels)

    def __str__(self) -> str:
        op = self.operator
        if op == Operator.EXISTS:
            return self.key
        if op == Operator.DOES_NOT_EXIST:
            return "!" + self.key
        joined = ",".join(self.values)
        if op in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {op} ({joined})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{symbol}{joined}"


def _requirement_check(r: Requirement) -> Callable[[Mapping[str, str]], bool]:
    """A fast predicate equivalent to upstream ``Requirement.Matches``.

    Missing keys read as ``None``, which is never a member of a value set, so
    ``In``/``=`` fail and ``NotIn``/``!=`` hold on absence, as upstream.
    """
    key, op, values = r.key, r.operator, r.values
    if op in _POSITIVE_SET_OPS:
        if len(values) == 1:
            (only,) = values
            return lambda labels: labels.get(key) == only
        allowed = frozenset(values)
        return lambda labels: labels.get(key) in allowed
    if op in _NEGATIVE_SET_OPS:
        if len(values) == 1:
            (only,) = values
            return lambda labels: labels.get(key) != only
        excluded = frozenset(values)
        return lambda labels: labels.get(key) not in excluded
    if op == Operator.EXISTS:
        return lambda labels: key in labels
    if op == Operator.DOES_NOT_EXIST:
        return lambda labels: key not in labels
    if op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        bound = _parse_int64(values[0]) if len(values) == 1 else None
        if bound is None:
            return lambda labels: False
        if op == Operator.GREATER_THAN:

            def greater(labels):
                n = _parse_int64(labels.get(key))
                return n is not None and n > bound

            return greater

        def less(labels):
            n = _parse_int64(labels.get(key))
            return n is not None and n < bound

        return less
    return lambda labels: False


# field.Error rendering, so that messages read like upstream's.


def _go_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return "[]string{" + ", ".join(_go_quote(v) for v in value) + "}"
    return _go_quote(value)


def _field_error(path: str, value, detail: str, kind: str = "Invalid value") -> str:
    body = f"{kind}: {_go_value(value)}"
    if detail:
        body += f": {detail}"
    return f"{path}: {body}" if path else body


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _aggregate(errors: list[str]) -> str:
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _requirement_errors(key, op, values: list, path: str = "") -> list[str]:
    """Upstream ``NewRequirement`` checks, as field error strings."""
    errs = []
    key_errs = qualified_name_errors(key)
    if key_errs:
        errs.append(_field_error(_child(path, "key"), key, "; ".join(key_errs)))
    vpath = _child(path, "values")
    if op in (Operator.IN, Operator.NOT_IN):
        if not values:
            errs.append(_field_error(vpath, values, "for 'in', 'notin' operators, values set can't be empty"))
    elif op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
        if len(values) != 1:
            errs.append(_field_error(vpath, values, "exact-match compatibility requires one single value"))
    elif op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        if values:
            errs.append(_field_error(vpath, values, "values set must be empty for exists and does not exist"))
    elif op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        if len(values) != 1:
            errs.append(_field_error(vpath, values, "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append(_field_error(f"{vpath}[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(_go_quote(str(o)) for o in _VALID_OPERATORS)
        errs.append(
            _field_error(_child(path, "operator"), str(op), f"supported values: {supported}", "Unsupported value")
        )
    for i, v in enumerate(values):
        v_errs = label_value_errors(v)
        if v_errs:
            errs.append(_field_error(f"{vpath}[{i}]", v, "; ".join(v_errs)))
    return errs


def new_requirement(key: str, operator: Operator | str, values: Iterable[str] = (), path: str = "") -> Requirement:
    """Upstream ``NewRequirement``: validate, then build a :class:`Requirement`.

    Raises :class:`SelectorError` (with ``path`` as the field path prefix) when
    the key or a value is invalid, when ``in``/``notin`` get no values, ``=``,
    ``==``, ``!=``, ``gt``, ``lt`` not exactly one, ``exists``/``!`` any, or
    ``gt``/``lt`` a value that is not an int64.
    """
    vals = list(values)
    op = _operator(operator)
    errs = _requirement_errors(key, op, vals, path)
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, op, vals)


# ---------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------


def _by_key(requirements: Iterable[Requirement]) -> tuple[Requirement, ...]:
    # Stable, like upstream's sort.Sort(ByKey) on the small slices it sees.
    return tuple(sorted(requirements, key=lambda r: r.key))


def _compile(requirements: tuple[Requirement, ...], selectable: bool) -> Callable[[Mapping[str, str]], bool]:
    if not selectable:
        return lambda labels: False
    if not requirements:
        return lambda labels: True
    exact = []
    checks = []
    for r in requirements:
        if r.operator in _POSITIVE_SET_OPS and len(r.values) == 1:
            exact.append((r.key, r.values[0]))
        else:
            checks.append(_requirement_check(r))
    exact_t, checks_t = tuple(exact), tuple(checks)
    if not checks_t:
        return _exact_matcher(exact_t)

    def match(labels):
        get = labels.get
        for k, v in exact_t:
            if get(k) != v:
                return False
        for check in checks_t:
            if not check(labels):
                return False
        return True

    return match


def _exact_matcher(pairs: tuple[tuple[str, str], ...]) -> Callable[[Mapping[str, str]], bool]:
    """Equality-only selectors (every map selector): unrolled for 1 to 3 pairs."""
    if len(pairs) == 1:
        ((k1, v1),) = pairs
        return lambda labels: labels.get(k1) == v1
    if len(pairs) == 2:
        (k1, v1), (k2, v2) = pairs
        return lambda labels: labels.get(k1) == v1 and labels.get(k2) == v2
    if len(pairs) == 3:
        (k1, v1), (k2, v2), (k3, v3) = pairs
        return lambda labels: labels.get(k1) == v1 and labels.get(k2) == v2 and labels.get(k3) == v3

    def match(labels):
        get = labels.get
        for k, v in pairs:
            if get(k) != v:
                return False
        return True

    return match


@attrs.frozen(cache_hash=True)
class Selector:
    """A label selector: an AND of :class:`Requirement` terms.

    ``Selector()`` (no requirements) is upstream ``Everything()``;
    ``Selector.nothing()`` (``selectable=False``) is upstream ``Nothing()``,
    what a null ``metav1.LabelSelector`` converts to. Requirements are kept
    sorted by key (stably), as upstream ``Add`` and ``Parse`` do, so equal
    selectors print equally.
    """

    requirements: tuple[Requirement, ...] = attrs.field(default=(), converter=_by_key)
    selectable: bool = True
    _match: Callable = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self):
        if not self.selectable:  # Nothing has no requirements to show or add to
            object.__setattr__(self, "requirements", ())
        object.__setattr__(self, "_match", _compile(self.requirements, self.selectable))

    def __reduce__(self):
        return (Selector, (self.requirements, self.selectable))

    @classmethod
    def everything(cls) -> "Selector":
        """Matches every label set (upstream ``labels.Everything()``)."""
        return _EVERYTHING

    @classmethod
    def nothing(cls) -> "Selector":
        """Matches no label set (upstream ``labels.Nothing()``)."""
        return _NOTHING

    @property
    def empty(self) -> bool:
        """Upstream ``Empty()``: true when the selector restricts nothing."""
        return self.selectable and not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy every requirement (upstream ``Matches``)."""
        return self._match(labels)

    def add(self, *requirements: Requirement) -> "Selector":
        """A selector with more requirements (upstream ``Add``); Nothing stays Nothing."""
        if not self.selectable:
            return self
        return Selector(self.requirements + tuple(requirements))

    def requires_exact_match(self, key: str) -> str | None:
        """Upstream ``RequiresExactMatch``: the single value required for ``key``."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in _POSITIVE_SET_OPS and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        # Nothing prints as "" like upstream, so it does not round-trip.
        return ",".join(str(r) for r in self.requirements)

    def to_dict(self) -> dict | None:
        """The ``metav1.LabelSelector`` form (``None`` for Nothing, ``{}`` for Everything).

        ``=``/``==`` go to ``matchLabels`` (a second one on the same key to
        ``In``), ``!=`` becomes ``NotIn``. ``gt``/``lt`` cannot be expressed and
        raise :class:`SelectorError`, as in upstream ``ParseToLabelSelector``.
        """
        if not self.selectable:
            return None
        match_labels: dict[str, str] = {}
        expressions: list[dict] = []
        names = {
            Operator.IN: "In",
            Operator.NOT_IN: "NotIn",
            Operator.NOT_EQUALS: "NotIn",
            Operator.EXISTS: "Exists",
            Operator.DOES_NOT_EXIST: "DoesNotExist",
        }
        for r in self.requirements:
            op = r.operator
            if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS) and len(r.values) == 1 and r.key not in match_labels:
                match_labels[r.key] = r.values[0]
            elif op in (Operator.EQUALS, Operator.DOUBLE_EQUALS):
                expressions.append({"key": r.key, "operator": "In", "values": list(r.values)})
            elif op in names:
                expr = {"key": r.key, "operator": names[op]}
                if r.values:
                    expr["values"] = list(r.values)
                expressions.append(expr)
            else:
                raise SelectorError(f"{_go_quote(str(op))} isn't supported in label selectors")
        out: dict = {}
        if match_labels:
            out["matchLabels"] = match_labels
        if expressions:
            out["matchExpressions"] = expressions
        return out

    def is_satisfiable(self) -> bool:
        """Whether some valid label set matches (e.g. false for ``a in (x),a notin (x)``)."""
        return witness(self) is not None


_EVERYTHING = Selector()
_NOTHING = Selector((), selectable=False)


# ---------------------------------------------------------------------------
# The string grammar (labels.Parse)
# ---------------------------------------------------------------------------


class Token(enum.IntEnum):
    """Upstream lexer tokens, in upstream order."""

    ERROR = 0
    END_OF_STRING = 1
    CLOSED_PAR = 2
    COMMA = 3
    DOES_NOT_EXIST = 4
    DOUBLE_EQUALS = 5
    EQUALS = 6
    GREATER_THAN = 7
    IDENTIFIER = 8
    IN = 9
    LESS_THAN = 10
    NOT_EQUALS = 11
    NOT_IN = 12
    OPEN_PAR = 13


_STRING_TO_TOKEN = {
    ")": Token.CLOSED_PAR,
    ",": Token.COMMA,
    "!": Token.DOES_NOT_EXIST,
    "==": Token.DOUBLE_EQUALS,
    "=": Token.EQUALS,
    ">": Token.GREATER_THAN,
    "in": Token.IN,
    "<": Token.LESS_THAN,
    "!=": Token.NOT_EQUALS,
    "notin": Token.NOT_IN,
    "(": Token.OPEN_PAR,
}
_WHITESPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),><")
_NUL = "\x00"  # upstream's read() returns 0 at the end, so a NUL byte also ends a scan


class _Lexer:
    """Upstream ``Lexer``, also recording where each token starts."""

    def __init__(self, text: str):
        self.s = text
        self.pos = 0

    def read(self) -> str:
        if self.pos < len(self.s):
            ch = self.s[self.pos]
            self.pos += 1
            return ch
        return _NUL

    def unread(self) -> None:
        self.pos -= 1

    def scan_id_or_keyword(self) -> tuple[Token, str]:
        start = end = self.pos
        while self.pos < len(self.s):
            ch = self.s[self.pos]
            self.pos += 1
            if ch == _NUL:  # consumed, not part of the identifier
                break
            if ch in _SPECIAL or ch in _WHITESPACE:
                self.pos -= 1
                break
            end = self.pos
        literal = self.s[start:end]
        return _STRING_TO_TOKEN.get(literal, Token.IDENTIFIER), literal

    def scan_special_symbol(self) -> tuple[Token, str]:
        buffer = ""
        last: tuple[Token, str] | None = None
        while True:
            ch = self.read()
            if ch == _NUL:
                break
            if ch in _SPECIAL:
                buffer += ch
                token = _STRING_TO_TOKEN.get(buffer)
                if token is not None:
                    last = (token, buffer)
                elif last is not None:
                    self.unread()
                    break
            else:
                self.unread()
                break
        if last is None:
            return Token.ERROR, f"error expected: keyword found '{buffer}'"
        return last

    def lex(self) -> tuple[Token, str, int]:
        while True:
            start = self.pos
            ch = self.read()
            if ch not in _WHITESPACE:
                break
        if ch == _NUL:
            return Token.END_OF_STRING, "", start
        self.unread()
        if ch in _SPECIAL:
            return (*self.scan_special_symbol(), start)
        return (*self.scan_id_or_keyword(), start)


def tokenize(text: str) -> list[tuple[Token, str, int]]:
    """Every ``(token, literal, position)`` up to and including end of string."""
    lexer = _Lexer(text)
    items = []
    while True:
        item = lexer.lex()
        items.append(item)
        if item[0] == Token.END_OF_STRING:
            return items


class _ParseError(Exception):
    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.message = message
        self.position = position


_KEY_AND_OPERATOR, _VALUES = 0, 1


class _Parser:
    """Upstream ``Parser``: a recursive descent over the scanned tokens.

    In the ``Values`` context the keywords ``in``/``notin`` are identifiers,
    which is why ``in=notin`` and ``a in (in,notin)`` parse.
    """

    def __init__(self, text: str):
        self.items = tokenize(text)
        self.position = 0

    def lookahead(self, context: int) -> tuple[Token, str, int]:
        tok, lit, pos = self.items[self.position]
        if context == _VALUES and tok in (Token.IN, Token.NOT_IN):
            tok = Token.IDENTIFIER
        return tok, lit, pos

    def consume(self, context: int) -> tuple[Token, str, int]:
        item = self.lookahead(context)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements = []
        while True:
            tok, lit, pos = self.lookahead(_VALUES)
            if tok in (Token.IDENTIFIER, Token.DOES_NOT_EXIST):
                try:
                    requirements.append(self.parse_requirement())
                except _ParseError as e:
                    raise _ParseError(f"unable to parse requirement: {e.message}", e.position) from None
                tok, lit, pos = self.consume(_VALUES)
                if tok == Token.END_OF_STRING:
                    return requirements
                if tok == Token.COMMA:
                    tok2, lit2, pos2 = self.lookahead(_VALUES)
                    if tok2 not in (Token.IDENTIFIER, Token.DOES_NOT_EXIST):
                        raise _ParseError(f"found '{lit2}', expected: identifier after ','", pos2)
                else:
                    raise _ParseError(f"found '{lit}', expected: ',' or 'end of string'", pos)
            elif tok == Token.END_OF_STRING:
                return requirements
            else:
                raise _ParseError(f"found '{lit}', expected: !, identifier, or 'end of string'", pos)

    def parse_requirement(self) -> Requirement:
        start = self.items[self.position][2]
        key, operator = self.parse_key_and_infer_operator()
        if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
            values: list[str] = []
        else:
            operator = self.parse_operator()
            if operator in (Operator.IN, Operator.NOT_IN):
                values = sorted(self.parse_values())
            else:
                values = sorted(self.parse_exact_value())
        errs = _requirement_errors(key, operator, values)
        if errs:
            raise _ParseError(_aggregate(errs), start)
        return Requirement(key, operator, values)

    def parse_key_and_infer_operator(self) -> tuple[str, Operator | None]:
        operator = None
        tok, lit, pos = self.consume(_VALUES)
        if tok == Token.DOES_NOT_EXIST:
            operator = Operator.DOES_NOT_EXIST
            tok, lit, pos = self.consume(_VALUES)
        if tok != Token.IDENTIFIER:
            raise _ParseError(f"found '{lit}', expected: identifier", pos)
        key_errs = qualified_name_errors(lit)
        if key_errs:
            raise _ParseError(_field_error("", lit, "; ".join(key_errs)), pos)
        if self.lookahead(_VALUES)[0] in (Token.END_OF_STRING, Token.COMMA):
            if operator != Operator.DOES_NOT_EXIST:
                operator = Operator.EXISTS
        return lit, operator

    def parse_operator(self) -> Operator:
        tok, lit, pos = self.consume(_KEY_AND_OPERATOR)
        ops = {
            Token.IN: Operator.IN,
            Token.EQUALS: Operator.EQUALS,
            Token.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
            Token.GREATER_THAN: Operator.GREATER_THAN,
            Token.LESS_THAN: Operator.LESS_THAN,
            Token.NOT_IN: Operator.NOT_IN,
            Token.NOT_EQUALS: Operator.NOT_EQUALS,
        }
        if tok not in ops:
            expected = ", ".join(str(o) for o in _BINARY_OPERATORS)
            raise _ParseError(f"found '{lit}', expected: {expected}", pos)
        return ops[tok]

    def parse_values(self) -> set[str]:
        tok, lit, pos = self.consume(_VALUES)
        if tok != Token.OPEN_PAR:
            raise _ParseError(f"found '{lit}' expected: '('", pos)
        tok, lit, pos = self.lookahead(_VALUES)
        if tok in (Token.IDENTIFIER, Token.COMMA):
            values = self.parse_identifiers_list()
            tok2, _, pos2 = self.consume(_VALUES)
            if tok2 != Token.CLOSED_PAR:  # unreachable, kept from upstream
                raise _ParseError(f"found '{lit}', expected: ')'", pos2)
            return values
        if tok == Token.CLOSED_PAR:  # "()" means the one empty value
            self.consume(_VALUES)
            return {""}
        raise _ParseError(f"found '{lit}', expected: ',', ')' or identifier", pos)

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit, pos = self.consume(_VALUES)
            if tok == Token.IDENTIFIER:
                values.add(lit)
                tok2, lit2, pos2 = self.lookahead(_VALUES)
                if tok2 == Token.COMMA:
                    continue
                if tok2 == Token.CLOSED_PAR:
                    return values
                raise _ParseError(f"found '{lit2}', expected: ',' or ')'", pos2)
            if tok == Token.COMMA:
                if not values:
                    values.add("")  # "(,"
                tok2 = self.lookahead(_VALUES)[0]
                if tok2 == Token.CLOSED_PAR:
                    values.add("")  # ",)"
                    return values
                if tok2 == Token.COMMA:
                    self.consume(_VALUES)
                    values.add("")  # ",,"
                continue
            raise _ParseError(f"found '{lit}', expected: ',', or identifier", pos)

    def parse_exact_value(self) -> set[str]:
        if self.lookahead(_VALUES)[0] in (Token.END_OF_STRING, Token.COMMA):
            return {""}
        tok, lit, pos = self.consume(_VALUES)
        if tok == Token.IDENTIFIER:
            return {lit}
        raise _ParseError(f"found '{lit}', expected: identifier", pos)


@functools.lru_cache(maxsize=4096)
def parse_selector(text: str) -> Selector:
    """Parse the selector string grammar (upstream ``labels.Parse``).

    ``""`` selects everything. Requirements are comma-separated:
    ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``,
    ``!k``, ``k>5``, ``k<5``; whitespace (space, tab, CR, LF) separates tokens.
    Errors raise :class:`SelectorError` carrying upstream's text and
    ``position`` (0-based index of the offending token), e.g.
    ``found ',', expected: !, identifier, or 'end of string' at position 0``.
    Results are cached (selectors are immutable).
    """
    if not isinstance(text, str):
        raise SelectorError(f"a label selector string must be a string, got {type(text).__name__}")
    try:
        requirements = _Parser(text).parse()
    except _ParseError as e:
        err = SelectorError(f"{e.message} at position {e.position}")
        err.position = e.position
        err.text = text
        raise err from None
    return Selector(requirements) if requirements else _EVERYTHING


# ---------------------------------------------------------------------------
# The structured forms (metav1.LabelSelector and map selectors)
# ---------------------------------------------------------------------------

_LABEL_SELECTOR_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def _type_name(value) -> str:
    return "null" if value is None else type(value).__name__


def _string_map(value, path: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise SelectorError(f"{path}: must be a mapping of strings, got {_type_name(value)}")
    for k, v in value.items():
        if not isinstance(k, str):
            raise SelectorError(f"{path}: keys must be strings, got {_type_name(k)} {k!r}")
        if not isinstance(v, str):
            raise SelectorError(f"{path}[{k}]: must be a string, got {_type_name(v)} {v!r}")
    return tuple(sorted(value.items()))


def _expression(value, path: str) -> tuple[str, str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise SelectorError(f"{path}: must be a mapping, got {_type_name(value)}")
    unknown = sorted(set(value) - {"key", "operator", "values"}, key=str)
    if unknown:
        raise SelectorError(f"{path}: unknown field {_go_quote(str(unknown[0]))}")
    key = value.get("key", "")
    operator = value.get("operator", "")
    values = value.get("values")
    if not isinstance(key, str):
        raise SelectorError(f"{path}.key: must be a string, got {_type_name(key)}")
    if not isinstance(operator, str):
        raise SelectorError(f"{path}.operator: must be a string, got {_type_name(operator)}")
    if values is None:
        values = ()
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise SelectorError(f"{path}.values: must be a list of strings")
    return key, operator, tuple(values)


def selector_from_dict(label_selector: Mapping | None) -> Selector:
    """Upstream ``metav1.LabelSelectorAsSelector``.

    ``None`` (a null selector) selects nothing; a selector with no
    ``matchLabels`` and no ``matchExpressions`` (e.g. ``{}``) selects
    everything. ``matchLabels`` entries become ``key=value``; expressions take
    ``In``/``NotIn`` (non-empty ``values``) or ``Exists``/``DoesNotExist`` (no
    ``values``). Errors raise :class:`SelectorError` naming the field, e.g.
    ``matchExpressions[0].operator: "Foo" is not a valid label selector
    operator``. Unknown fields are errors too (a typo such as ``matchLabel``
    would otherwise select everything).
    """
    if label_selector is None:
        return _NOTHING
    if not isinstance(label_selector, Mapping):
        raise SelectorError(f"a label selector must be a mapping, got {_type_name(label_selector)}")
    unknown = sorted(set(label_selector) - {"matchLabels", "matchExpressions"}, key=str)
    if unknown:
        raise SelectorError(f"unknown field {_go_quote(str(unknown[0]))} in label selector")
    match_labels = _string_map(label_selector.get("matchLabels"), "matchLabels")
    raw_expressions = label_selector.get("matchExpressions")
    if raw_expressions is None:
        raw_expressions = ()
    if not isinstance(raw_expressions, (list, tuple)):
        raise SelectorError(f"matchExpressions: must be a list, got {_type_name(raw_expressions)}")
    expressions = tuple(_expression(e, f"matchExpressions[{i}]") for i, e in enumerate(raw_expressions))
    return _selector_from_spec(match_labels, expressions)


def _check_map_entry(key: str, value: str, path: str) -> None:
    """``ValidateLabels`` on one entry: ``path: Invalid value: "key": ...``."""
    errs = qualified_name_errors(key)
    if errs:
        raise SelectorError(_field_error(path, key, "; ".join(errs)))
    errs = label_value_errors(value)
    if errs:
        raise SelectorError(_field_error(f"{path}[{key}]", value, "; ".join(errs)))


@functools.lru_cache(maxsize=4096)
def _selector_from_spec(match_labels, expressions) -> Selector:
    if not match_labels and not expressions:
        return _EVERYTHING
    requirements = []
    for k, v in match_labels:
        _check_map_entry(k, v, "matchLabels")
        requirements.append(Requirement(k, Operator.EQUALS, (v,)))
    for i, (key, operator, values) in enumerate(expressions):
        path = f"matchExpressions[{i}]"
        op = _LABEL_SELECTOR_OPERATORS.get(operator)
        if op is None:
            raise SelectorError(f"{path}.operator: {_go_quote(operator)} is not a valid label selector operator")
        requirements.append(new_requirement(key, op, values, path))
    return Selector(requirements)


def selector_from_map(mapping: Mapping[str, str] | None, *, validate: bool = True) -> Selector:
    """Upstream ``SelectorFromSet`` (``ValidatedSelectorFromSet`` when ``validate``).

    The map form of ReplicationController and Service selectors: every entry
    is ``key=value``. ``None`` and ``{}`` select **everything**, as upstream.
    Note for callers: a Service with an empty or absent selector is special in
    Kubernetes (the endpoints controller manages no endpoints for it, it does
    not select every pod), and an RC's empty selector is defaulted from its
    template labels; handle those cases before calling this.
    """
    if not mapping:
        return _EVERYTHING
    items = _string_map(mapping, "selector")
    return _selector_from_items(items, validate)


@functools.lru_cache(maxsize=4096)
def _selector_from_items(items, validate: bool) -> Selector:
    if validate:
        for k, v in items:
            _check_map_entry(k, v, "selector")
    return Selector(Requirement(k, Operator.EQUALS, (v,)) for k, v in items)


# ---------------------------------------------------------------------------
# Satisfiability, overlap and witnesses
# ---------------------------------------------------------------------------

_ABSENT = object()


def _fresh_values():
    yield "v"
    i = 1
    while True:
        yield f"v{i}"
        i += 1


def _integer_value(lo: int | None, hi: int | None, excluded: set[str]) -> str | None:
    """A valid label value parsing to an int64 n with lo < n < hi, not in ``excluded``.

    Valid label values cannot carry a sign, so n >= 0; leading zeros are
    allowed ("007" parses as 7), which gives each n many spellings.
    """
    first = 0 if lo is None else max(lo + 1, 0)
    last = _INT64_MAX if hi is None else min(hi - 1, _INT64_MAX)
    if first > last:
        return None
    # Among len(excluded)+1 distinct integers one canonical spelling is free.
    window = range(first, min(last, first + len(excluded)) + 1)
    for n in window:
        if str(n) not in excluded:
            return str(n)
    for n in window:
        digits = str(n)
        for pad in range(1, _VALUE_MAX - len(digits) + 1):
            text = "0" * pad + digits
            if text not in excluded:
                return text
    return None


def _solve_key(key: str, requirements: list[Requirement]):
    """A value (or ``_ABSENT``) for ``key`` meeting every requirement, or ``None``.

    Per key the constraints are: a set the value must lie in (``=``, ``in``),
    values it must avoid (``!=``, ``notin``; absence also satisfies these),
    presence (``exists``, and ``gt``/``lt``, which also need an int64 in an
    open interval) or absence (``!``). Keys are independent, so a conjunction
    is satisfiable exactly when each key's constraints are.
    """
    must_exist = must_be_absent = needs_int = False
    allowed: set[str] | None = None
    excluded: set[str] = set()
    lo = hi = None
    for r in requirements:
        op = r.operator
        if op in _POSITIVE_SET_OPS:
            must_exist = True
            allowed = set(r.values) if allowed is None else allowed & set(r.values)
        elif op in _NEGATIVE_SET_OPS:
            excluded.update(r.values)
        elif op == Operator.EXISTS:
            must_exist = True
        elif op == Operator.DOES_NOT_EXIST:
            must_be_absent = True
        elif op in (Operator.GREATER_THAN, Operator.LESS_THAN):
            bound = _parse_int64(r.values[0]) if len(r.values) == 1 else None
            if bound is None:
                return None  # upstream never matches such a requirement
            must_exist = needs_int = True
            if op == Operator.GREATER_THAN:
                lo = bound if lo is None else max(lo, bound)
            else:
                hi = bound if hi is None else min(hi, bound)
        else:
            return None
    if not must_exist:
        return _ABSENT
    if must_be_absent or not _is_valid_key(key):
        return None
    if allowed is not None:
        for v in sorted(allowed):
            if v in excluded or not _is_valid_value(v):
                continue
            if needs_int:
                n = _parse_int64(v)
                if n is None or (lo is not None and n <= lo) or (hi is not None and n >= hi):
                    continue
            return v
        return None
    if needs_int:
        return _integer_value(lo, hi, excluded)
    for v in _fresh_values():
        if v not in excluded:
            return v


def witness(*selectors: Selector) -> dict[str, str] | None:
    """A valid label set matched by every selector, or ``None`` if there is none.

    The answer is exact: ``None`` means no label set at all (over the infinite
    universe of valid label values) matches them all. Keys are only set when
    some requirement needs them; required values are the smallest allowed
    constant, else an integer in range, else a fresh value (``v``, ``v1``...).
    """
    by_key: dict[str, list[Requirement]] = {}
    for s in selectors:
        if not s.selectable:
            return None
        for r in s.requirements:
            by_key.setdefault(r.key, []).append(r)
    labels = {}
    for key in sorted(by_key):
        value = _solve_key(key, by_key[key])
        if value is None:
            return None
        if value is not _ABSENT:
            labels[key] = value
    return labels


def could_overlap(a: Selector, b: Selector) -> bool:
    """Whether some valid label set matches both selectors (decided exactly)."""
    return witness(a, b) is not None
