"""The ``kspec`` command line: a click group whose verbs are the other modules here.

This package is the only code that imports click, reads argv, prints usage
errors or decides an exit code. Each verb lives in its own module and exports a
click command named ``command``; the group finds them, so adding a verb touches
nothing else. Exit codes are decided in one place, :mod:`kspec.cli.exits`;
output files are written in one place, :mod:`kspec.cli.output`.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

import kspec
from kspec.cli.common import CONTEXT_SETTINGS
from kspec.cli.exits import ExitCode, outcome, prepare_streams


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

    def invoke(self, ctx):
        """The verb's own :class:`~kspec.cli.exits.Verb` exits; this covers
        what happens before it runs (importing the verb's module)."""
        prepare_streams()
        ctx.exit(int(outcome(lambda: click.Group.invoke(self, ctx) or ExitCode.OK)))


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
    """Entry point of the console script."""
    group.main(args=argv, prog_name="kspec")


if __name__ == "__main__":
    main()
