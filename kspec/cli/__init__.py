"""The ``kspec`` command line: a click group whose verbs are the other modules here.

This package is the only code that imports click, reads argv, prints usage
errors or decides an exit code. Each verb lives in its own module and exports a
click command named ``command``; the group finds them, so adding a verb touches
nothing else. Exit codes are decided in one place, :mod:`kspec.cli.exits`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

import kspec
from kspec.errors import KspecError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True}


# Modules here that serve the verbs rather than being one.
SUPPORT_MODULES = frozenset({"common", "exits", "output"})


def _command_modules() -> dict[str, str]:
    """Verb name -> module in this package (``test_rules`` serves ``test-rules``)."""
    names = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name not in SUPPORT_MODULES:
            names[info.name.replace("_", "-")] = f"{__name__}.{info.name}"
    return names


class LazyGroup(click.Group):
    """Imports a verb's module only when that verb runs (or when help lists them all),
    so ``kspec check`` does not pay for loading Z3 or Hypothesis."""

    def list_commands(self, ctx):
        return sorted(_command_modules())

    def get_command(self, ctx, name):
        module = _command_modules().get(name)
        if module is None:
            return None
        return getattr(importlib.import_module(module), "command", None)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(kspec.__version__, "--version", prog_name="kspec")
def group():
    """kspec: declarative rules and model checking for Kubernetes designs.

    Point it at the manifests you already have: `kspec inspect DIR` shows what
    was loaded, `kspec check DIR` runs the rule library, `kspec schedule DIR`
    asks Z3 whether everything fits (and still fits after failures), and
    `kspec explore models/SCENARIO.yaml` model-checks controllers under faults.
    """


def main(argv=None) -> None:
    """Entry point of the console script; never shows a traceback for KspecError."""
    try:
        group.main(args=argv, prog_name="kspec", standalone_mode=True)
    except KspecError as err:  # pragma: no cover - commands handle their own
        click.echo(f"kspec: error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
