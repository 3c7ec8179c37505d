"""What every verb shares: loading input with diagnostics, and exit codes."""

from __future__ import annotations

import sys

import click

from kspec.errors import KspecError, LoadError

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_BAD_INPUT = 2
EXIT_INCONCLUSIVE = 3

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))


def nodes_option(func):
    return click.option(
        "--nodes",
        "nodes",
        multiple=True,
        metavar="COUNT:RES=QTY,...[;zones=..][;labels=..][;taints=..][;name=..]",
        help="Add a pool of identical nodes, e.g. 3:cpu=4,memory=16Gi (repeatable).",
    )(func)


def fail_input(error: KspecError) -> None:
    """Print each diagnostic on its own line to stderr and exit 2."""
    if isinstance(error, LoadError):
        for diagnostic in error.diagnostics:
            click.echo(str(diagnostic), err=True)
    else:
        click.echo(f"kspec: error: {error}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def load_cluster(paths, nodes=()):
    """``kspec.load`` for a command: bad input exits 2 with one line per problem."""
    from kspec.loading.manifests import load

    try:
        return load(list(paths), nodes=nodes)
    except KspecError as error:
        fail_input(error)
