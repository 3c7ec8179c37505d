"""Kubernetes resource quantities, as ``k8s.io/apimachinery/pkg/api/resource``.

A :class:`Quantity` is an exact fixed-point number (``cpu: 100m``,
``memory: 1536Mi``) that remembers the kind of suffix it was written with, so
that it prints back the way upstream ``Quantity.String()`` canonicalises it::

    >>> q = parse_quantity("1.5Gi")
    >>> str(q), q.value(), q.format.value
    ('1536Mi', 1610612736, 'BinarySI')
    >>> Quantity("1Gi") == Quantity("1073741824")
    True
    >>> str(Quantity("0.5") + Quantity("100m"))
    '600m'
    >>> str(sum([Quantity("1Gi"), Quantity("512Mi")]))
    '1536Mi'

Upstream behaviour matched (quantity.go, suffix.go, amount.go, math.go):

* Grammar: ``<sign>?<digits>(.<digits>)?<suffix>`` with binary suffixes
  ``Ki Mi Gi Ti Pi Ei``, decimal suffixes ``n u m "" k M G T P E`` and
  exponents ``e<int>``/``E<int>``, scanned like ``parseQuantityString`` (so the
  quirks hold too: ``"."``, ``"-"`` and ``"Ki"`` are zero; ``"1."`` is one).
* Errors keep upstream's three causes: ``ErrFormatWrong`` (text outside the
  grammar), ``ErrSuffix`` (an unknown suffix such as ``mi``, ``i`` or ``e-``),
  ``ErrNumeric`` (a number part without digits on the slow path, ``".e-10"``).
* Precision is kept down to nano; a finer non-zero value rounds away from
  zero (``"0.0000000001"`` is ``1n``, ``"3.001n"`` is ``4n``).
* A BinarySI value is silently capped at 2^63-1 (``"9Ei"``), and a BinarySI
  value strictly between -1 and 1 becomes DecimalSI.
* Canonical form is ``CanonicalizeBytes``: no fractional digits, the largest
  exponent (a multiple of 3, or a power of 1024) that loses nothing; BinarySI
  below 1024 in magnitude or not whole prints as DecimalSI; DecimalSI beyond
  ``E`` falls back to exponent notation (``1e21``, not a corrupted ``"1"``).
* ``Add``/``Sub``: the result keeps the receiver's format, unless the receiver
  is zero, in which case it adopts the other operand's format.
* ``Value``/``MilliValue``/``ScaledValue`` round away from zero.

Deliberate differences (documented, tested):

* ``str(q)`` is always the canonical form. Upstream ``String()`` returns the
  input text verbatim when its fast path thinks it is canonical, which is not
  always so (``"1.200"`` stays ``"1.200"``, ``"+1"`` stays ``"+1"``, ``"1E3"``
  stays ``"1E3"``; kubernetes/kubernetes#138165). Equal quantities of equal
  format therefore always print the same here.
* Integer accessors return exact Python ints; upstream wraps or saturates
  outside int64.
* A BinarySI multiple of 1024^7 prints with ``Ei`` (``"1024Ei"``); upstream has
  no suffix for it and prints a corrupted number.
* Input whose magnitude needs more than 1000 significant decimal digits (or
  exceeds 10^1000) is rejected with a :class:`QuantityError` instead of being
  expanded; upstream accepts ``1e2000000000`` as an unbounded decimal.

Values are held as an exact integer count of nano units (every parsed value
is a multiple of 10^-9), so equality, hashing and ordering are integer
operations; :meth:`Quantity.as_fraction` gives the exact rational value.
"""

from __future__ import annotations

import enum
import functools
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from attrs.exceptions import FrozenInstanceError

from kspec.errors import QuantityError, ValidationError
from kspec.util.frozendict import FrozenDict

__all__ = [
    "ERR_FORMAT_WRONG",
    "ERR_NUMERIC",
    "ERR_SUFFIX",
    "Format",
    "Quantity",
    "format_quantity",
    "parse_quantity",
    "parse_resource_list",
]


class Format(str, enum.Enum):
    """How a quantity prints; the value is upstream's ``Format`` string."""

    BINARY_SI = "BinarySI"  # 12Mi (12 * 2^20)
    DECIMAL_SI = "DecimalSI"  # 12M  (12 * 10^6)
    DECIMAL_EXPONENT = "DecimalExponent"  # 12e6


_BIN = Format.BINARY_SI
_DEC = Format.DECIMAL_SI
_EXP = Format.DECIMAL_EXPONENT

# Upstream's error texts (quantity.go), used as the reason in QuantityError.
_SPLIT_RE_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{_SPLIT_RE_TEXT}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

# What parseQuantityString accepts: sign, leading zeros, integer digits, an
# optional "." with digits, then suffix letters, an optional sign and digits.
_SCAN = re.compile(r"([+-]?)(0*)([0-9]*)(?:(\.)([0-9]*))?([eEinumkKMGTP]*[+-]?[0-9]*)")
_GO_INT = re.compile(r"[+-]?[0-9]+")

# suffix -> (base, exponent, format), as quantitySuffixer.interpret.
_SUFFIXES = {
    "n": (10, -9, _DEC),
    "u": (10, -6, _DEC),
    "m": (10, -3, _DEC),
    "": (10, 0, _DEC),
    "k": (10, 3, _DEC),
    "M": (10, 6, _DEC),
    "G": (10, 9, _DEC),
    "T": (10, 12, _DEC),
    "P": (10, 15, _DEC),
    "E": (10, 18, _DEC),
    "Ki": (2, 10, _BIN),
    "Mi": (2, 20, _BIN),
    "Gi": (2, 30, _BIN),
    "Ti": (2, 40, _BIN),
    "Pi": (2, 50, _BIN),
    "Ei": (2, 60, _BIN),
}
_DEC_SUFFIX = {exp: s for s, (base, exp, _) in _SUFFIXES.items() if base == 10}
_BIN_SUFFIX = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")

_NANO = 10**9
_MAX_INT64 = 2**63 - 1
_BIN_CAP = _MAX_INT64 * _NANO  # maxAllowed, in nano units
_MAX_DIGITS = 1000  # kspec's guard against expanding absurd exponents


def _error(raw, reason: str) -> QuantityError:
    err = QuantityError(f'invalid quantity "{raw}": {reason}')
    err.value = raw
    err.reason = reason
    return err


class Quantity:
    """An exact, immutable resource quantity with its print format.

    ``Quantity(x)`` accepts whatever :func:`parse_quantity` accepts. Equality,
    hashing and ordering go by numeric value only (``1Gi == 1073741824``); the
    format only decides how :func:`str` prints it.
    """

    __slots__ = ("_nano", "_format", "_text")

    def __new__(cls, value):
        return parse_quantity(value)

    @classmethod
    def _make(cls, nano: int, fmt: Format) -> "Quantity":
        q = object.__new__(cls)
        object.__setattr__(q, "_nano", nano)
        object.__setattr__(q, "_format", fmt)
        object.__setattr__(q, "_text", None)
        return q

    @classmethod
    def zero(cls) -> "Quantity":
        """Zero, DecimalSI (what upstream ``MustParse("0")`` gives)."""
        return _ZERO

    @classmethod
    def from_fraction(cls, value, fmt: Format = Format.DECIMAL_SI) -> "Quantity":
        """A quantity of exact value ``value`` (int or Fraction) in ``fmt``.

        Like ``NewQuantity``/``NewMilliQuantity``/``NewDecimalQuantity``, the
        format is taken as given; precision finer than nano rounds away from
        zero, as ParseQuantity does.
        """
        if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
            raise TypeError(f"from_fraction needs an int or a Fraction, not {type(value).__name__}")
        fmt = Format(fmt)
        scaled = Fraction(value) * _NANO
        magnitude = -((-abs(scaled.numerator)) // scaled.denominator)  # ceil(|v|)
        return cls._make(magnitude if scaled >= 0 else -magnitude, fmt)

    @property
    def format(self) -> Format:
        return self._format

    def as_fraction(self) -> Fraction:
        """The exact value."""
        return Fraction(self._nano, _NANO)

    def scaled_value(self, scale: int) -> int:
        """``ceil(q / 10^scale)`` away from zero, as upstream ``ScaledValue``."""
        shift = 9 + scale
        if shift <= 0:
            return self._nano * 10**-shift
        q, r = divmod(abs(self._nano), 10**shift)
        q += bool(r)
        return q if self._nano >= 0 else -q

    def value(self) -> int:
        """The value rounded away from zero to an integer (upstream ``Value``)."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """``ceil(q * 1000)`` away from zero (upstream ``MilliValue``)."""
        return self.scaled_value(-3)

    # -- printing -----------------------------------------------------------

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = _canonical(self._nano, self._format)
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    # -- value semantics ----------------------------------------------------

    def __eq__(self, other):
        if isinstance(other, Quantity):
            return self._nano == other._nano
        return NotImplemented

    def __ne__(self, other):
        if isinstance(other, Quantity):
            return self._nano != other._nano
        return NotImplemented

    def __lt__(self, other):
        if isinstance(other, Quantity):
            return self._nano < other._nano
        return NotImplemented

    def __le__(self, other):
        if isinstance(other, Quantity):
            return self._nano <= other._nano
        return NotImplemented

    def __gt__(self, other):
        if isinstance(other, Quantity):
            return self._nano > other._nano
        return NotImplemented

    def __ge__(self, other):
        if isinstance(other, Quantity):
            return self._nano >= other._nano
        return NotImplemented

    def __hash__(self):
        return hash(self._nano)

    def __bool__(self):
        return self._nano != 0

    # -- arithmetic (upstream Add, Sub, Mul, Neg) ---------------------------

    def __add__(self, other):
        if isinstance(other, Quantity):
            fmt = other._format if self._nano == 0 else self._format
            return Quantity._make(self._nano + other._nano, fmt)
        if _is_int_zero(other):
            return self
        return NotImplemented

    def __radd__(self, other):
        # Only ``0 + q``, so that sum() works; a zero adopts q's format.
        if _is_int_zero(other):
            return self
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Quantity):
            fmt = other._format if self._nano == 0 else self._format
            return Quantity._make(self._nano - other._nano, fmt)
        if _is_int_zero(other):
            return self
        return NotImplemented

    def __mul__(self, other):
        if isinstance(other, int) and not isinstance(other, bool):
            return Quantity._make(self._nano * other, self._format)
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self):
        return Quantity._make(-self._nano, self._format)

    def __pos__(self):
        return self

    # -- immutability and pickling ------------------------------------------

    def __setattr__(self, name, value):
        raise FrozenInstanceError()

    def __delattr__(self, name):
        raise FrozenInstanceError()

    def __reduce__(self):
        return (_restore, (self._nano, self._format.value))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _restore(nano: int, fmt: str) -> Quantity:
    return Quantity._make(nano, Format(fmt))


def _is_int_zero(x) -> bool:
    return type(x) is int and x == 0


_ZERO = Quantity._make(0, _DEC)


# -- parsing ----------------------------------------------------------------


def parse_quantity(value) -> Quantity:
    """Parse a manifest value (a string, or a YAML int or float) exactly.

    Strings follow upstream ``ParseQuantity``. An int is read as its decimal
    text. A float is read as the text Go's JSON encoder would hand to
    ``Quantity.UnmarshalJSON`` (what the API server sees for ``cpu: 0.5``),
    built from the float's shortest repr, never from binary float arithmetic:
    positional for 1e-6 <= |x| < 1e21 (``1e16`` -> ``"10000000000000000"``),
    exponent form otherwise (``1e+21``). Raises :class:`QuantityError`.
    """
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool) or value is None:
        raise _error(value, f"expected a string or a number, got {type(value).__name__}")
    if isinstance(value, int):
        try:
            text = str(value)
        except ValueError:  # beyond Python's int-to-str digit limit
            raise _error("<int>", f"more than {_MAX_DIGITS} significant digits") from None
        return _parse_text(text)
    if isinstance(value, float):
        return _parse_text(_float_text(value))
    raise _error(value, f"expected a string or a number, got {type(value).__name__}")


def _float_text(x: float) -> str:
    if not math.isfinite(x):
        raise _error(repr(x), "not a finite number")
    text = repr(x)
    if "e" in text and 1e-6 <= abs(x) < 1e21:
        text = format(Decimal(text), "f")
    return text


@functools.lru_cache(maxsize=8192)
def _parse_text(text: str) -> Quantity:
    if not text:
        raise _error(text, ERR_FORMAT_WRONG)
    if text == "0":
        return _ZERO
    m = _SCAN.fullmatch(text)
    if m is None:
        raise _error(text, ERR_FORMAT_WRONG)
    sign, zeros, num, dot, denom, suffix = m.groups()
    denom = denom or ""
    interpreted = _interpret(suffix)
    if interpreted is None:
        raise _error(text, ERR_SUFFIX)
    base, exponent, fmt = interpreted

    digits = (num + denom).lstrip("0")
    if not digits:
        if not (zeros or num or denom) and _takes_slow_path(base, exponent):
            # The slow path hands the digit-less number text to inf.Dec.
            raise _error(text, ERR_NUMERIC)
        return Quantity._make(0, fmt)

    significant = digits.rstrip("0")
    dec_exp = (exponent if base == 10 else 0) - len(denom) + (len(digits) - len(significant))
    bin_exp = exponent if base == 2 else 0
    if len(significant) > _MAX_DIGITS or dec_exp + len(significant) > _MAX_DIGITS:
        raise _error(text, f"more than {_MAX_DIGITS} significant digits or a magnitude "
                           f"beyond 10^{_MAX_DIGITS}, which kspec does not support")

    nano = _to_nano(int(significant) << bin_exp, dec_exp + 9, len(significant))
    if fmt is _BIN:
        if nano > _BIN_CAP:
            nano = _BIN_CAP
        if nano < _NANO:
            fmt = _DEC
    return Quantity._make(-nano if sign == "-" else nano, fmt)


def _interpret(suffix: str):
    hit = _SUFFIXES.get(suffix)
    if hit is not None:
        return hit
    if len(suffix) > 1 and suffix[0] in "eE" and _GO_INT.fullmatch(suffix[1:]):
        exponent = int(suffix[1:])
        if -(2**63) <= exponent <= _MAX_INT64:  # strconv.ParseInt(s, 10, 64)
            # Upstream narrows the exponent with int32(...), which wraps.
            return 10, (exponent + 2**31) % 2**32 - 2**31, _EXP
    return None


def _takes_slow_path(base: int, exponent: int) -> bool:
    """Whether ParseQuantity leaves its int64 fast path for a digit-less number.

    Such a number has ``num == "0"`` and no fraction digits, so the fast path
    is left only when the scale is below nano (decimal) or the precision
    estimate ``15 - len(num) - exponent*3/10 - 1`` is negative (binary).
    """
    if base == 10:
        return exponent < -9
    return 13 - (exponent * 3) // 10 < 0


def _to_nano(magnitude: int, shift: int, ndigits: int) -> int:
    """``magnitude * 10^shift`` rounded away from zero to an integer."""
    if shift >= 0:
        return magnitude * 10**shift
    down = -shift
    if down > ndigits + 19:  # magnitude < 10^(ndigits + 19), as 2^60 < 10^19
        return 1
    q, r = divmod(magnitude, 10**down)
    return q + 1 if r else q


# -- printing ---------------------------------------------------------------


def _canonical(nano: int, fmt: Format) -> str:
    """Upstream ``CanonicalizeBytes`` followed by the suffix."""
    if nano == 0:
        return "0"
    if fmt is _BIN:
        if -1024 * _NANO < nano < 1024 * _NANO or nano % _NANO:
            fmt = _DEC  # avoids rounding, as upstream
        else:
            amount, times = nano // _NANO, 0
            while amount % 1024 == 0:
                amount //= 1024
                times += 1
            if times >= len(_BIN_SUFFIX):
                amount *= 1024 ** (times - len(_BIN_SUFFIX) + 1)
                times = len(_BIN_SUFFIX) - 1
            return f"{amount}{_BIN_SUFFIX[times]}"
    digits = str(abs(nano))
    mantissa = digits.rstrip("0")
    exponent = -9 + len(digits) - len(mantissa)
    down = exponent % 3
    if down:
        mantissa += "0" * down
        exponent -= down
    if nano < 0:
        mantissa = "-" + mantissa
    if fmt is _DEC:
        suffix = _DEC_SUFFIX.get(exponent)
        if suffix is not None:
            return mantissa + suffix
    return mantissa if exponent == 0 else f"{mantissa}e{exponent}"


def format_quantity(q: Quantity) -> str:
    """The canonical text of ``q``; the same as ``str(q)``."""
    return str(q)


# -- resource lists ---------------------------------------------------------


def parse_resource_list(mapping, path: str = "") -> FrozenDict:
    """Parse a ``ResourceList`` (``requests:``, ``limits:``, ``capacity:``).

    ``None`` (``limits:`` left empty in YAML) is the empty list. A bad entry
    raises :class:`ValidationError` at ``<path>.<name>`` so that a loader can
    point at the field.
    """
    if mapping is None:
        return FrozenDict()
    if not isinstance(mapping, Mapping):
        raise ValidationError(path, f"expected a map of resource name to quantity, "
                                    f"got {type(mapping).__name__}")
    parsed = {}
    for name, raw in mapping.items():
        field = f"{path}.{name}" if path else str(name)
        if not isinstance(name, str):
            raise ValidationError(field, f"resource name must be a string, got {type(name).__name__}")
        try:
            parsed[name] = parse_quantity(raw)
        except QuantityError as err:
            raise ValidationError(field, str(err)) from err
    return FrozenDict(parsed)
