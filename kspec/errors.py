"""One exception hierarchy, rooted in :class:`KspecError`, and diagnostics.

A :class:`Diagnostic` is what a user sees: ``file:line: error: field: message``.
Errors that concern user input carry one or more diagnostics so that a command
can report every problem in every file in one run.
"""

from __future__ import annotations

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
