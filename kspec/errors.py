"""One exception hierarchy, rooted in :class:`KspecError`, and diagnostics.

A :class:`Diagnostic` is what a user sees: ``file:line: error: field: message``.
Errors that concern user input carry one or more diagnostics so that a command
can report every problem in every file in one run.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator

import attrs


class KspecError(Exception):
    """Base class of every error kspec raises on purpose."""


class QuantityError(KspecError, ValueError):
    """A string that is not a Kubernetes resource quantity."""


class LabelError(KspecError, ValueError):
    """An invalid label key or value."""


class SelectorError(KspecError, ValueError):
    """A label selector that does not parse or is invalid."""


class ValidationError(KspecError, ValueError):
    """An object that the API server would reject.

    ``path`` is the field path inside the object (``spec.replicas``) so that the
    loader can map it back to a file and line.
    """

    def __init__(self, path: str, message: str, code: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.code = code


@attrs.frozen
class Diagnostic:
    """One problem in the input, printed as ``file:line: severity: message``."""

    file: str
    line: int | None
    message: str
    field: str = ""
    severity: str = "error"
    code: str = ""  # a stable name for the kind of problem, e.g. "duplicate-object"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {self.severity}: {what}"

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "code": self.code,
        }


class LoadError(KspecError):
    """Input that could not be loaded; carries every diagnostic found."""

    def __init__(self, diagnostics):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class Diagnostics:
    """A collector of the diagnostics found while reading input, so that one run
    reports every problem; iterable, so ``LoadError(collector)`` carries them all.

    ``file`` is where added problems are, unless one names another file;
    ``locate`` maps a path inside that file (mapping keys and list indexes) to
    its line, for :meth:`at`.
    """

    def __init__(self, file: str = "", locate: Callable[[tuple], int | None] | None = None):
        self.file = file
        self.locate = locate
        self.items: list[Diagnostic] = []

    def add(self, line: int | None, message: str, field: str = "", *, file: str | None = None) -> None:
        """A problem at ``line`` (None: the file as a whole)."""
        self.items.append(Diagnostic(self.file if file is None else file, line, message, field))

    def at(self, path: tuple, message: str, field: str = "") -> None:
        """A problem at ``path`` inside the file, on the line ``locate`` finds for it."""
        self.add(self.locate(path) if self.locate is not None else None, message, field)

    def at_source(self, source, message: str, field: str = "") -> None:
        """A problem where ``source`` (anything with ``file`` and ``line``) points."""
        self.add(source.line, message, field, file=source.file)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def located(self, locate: Callable[[tuple], int | None]) -> "Diagnostics":
        """A collector adding to the same list, finding lines with ``locate``
        (one YAML document of a file with several)."""
        view = Diagnostics(self.file, locate)
        view.items = self.items
        return view

    def raise_if_any(self, error: type[LoadError] = LoadError) -> None:
        """Raise ``error`` with every problem collected, if there is any."""
        if self.items:
            raise error(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)
