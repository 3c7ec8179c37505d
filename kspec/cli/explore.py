"""``kspec explore MODEL``: exhaustive model checking of a model file or scenario.

Results go to stdout (text or JSON), the run summary to stderr. Exit code,
decided in :func:`exit_code`: 0 every property holds, 1 one is violated, 2 bad
input, 3 inconclusive under ``--strict`` (else inconclusive exits 0).
"""

from __future__ import annotations

import json
import re
import sys

import click

from kspec.report import report_option, report_to

from kspec.cli.common import fail_input
from kspec.errors import KspecError, LoadError
from kspec.checker.explore import STRATEGIES, Explorer
from kspec.checker.model import Verdict, load_model, parse_params


def exit_code(verdict: Verdict, strict: bool) -> int:
    """The one place that turns an overall verdict into an exit code."""
    if verdict is Verdict.VIOLATED:
        return 1
    if verdict is Verdict.INCONCLUSIVE and strict:
        return 3
    return 0


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str | None) -> int | None:
    """``"2G"`` -> 2147483648; plain numbers are bytes."""
    if text is None:
        return None
    match = _SIZE.match(text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a size like 512M or 2G")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def load(model_path: str, params: tuple[str, ...]):
    """Parse ``-p`` values and build the model, or exit 2 with a one-line error."""
    try:
        return load_model(model_path, parse_params(params)), parse_params(params)
    except LoadError as err:  # a scenario file's diagnostics, each already file:line: error: ...
        fail_input(err)
    except KspecError as err:
        fail(str(err))
    except (TypeError, ValueError) as err:
        fail(f"{model_path}: invalid parameters: {err}")


def fail(message: str):
    click.echo(f"kspec: error: {message}", err=True)
    sys.exit(2)


def summary(stats, model_path: str) -> str:
    return (
        f"{model_path}: {stats.distinct_states:,} distinct states, {stats.transitions:,} transitions, "
        f"depth {stats.max_depth}, {stats.seconds:.2f}s ({stats.states_per_second:,.0f} states/s), "
        f"peak memory {stats.peak_memory_bytes / 2**20:,.0f} MiB"
        + (", symmetry reduction on" if stats.symmetry else "")
    )


@click.command("explore", context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="Model parameter (repeatable); integers are converted.")
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Check only this property (repeatable).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="bfs", help="bfs: shortest counterexamples; dfs: less frontier memory; random: seeded random walks.")
@click.option("--symmetry/--no-symmetry", default=None, help="Symmetry reduction  [default: on when the model defines a representative]")
@click.option("--max-states", type=click.IntRange(min=1), default=None, help="Stop after storing this many distinct states.")
@click.option("--max-depth", type=click.IntRange(min=0), default=None, help="Do not expand states deeper than this.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option("--max-memory", default=None, metavar="SIZE", help="Stop when resident memory exceeds SIZE (e.g. 2G).")
@click.option("--stop-at-first", is_flag=True, help="Stop at the first safety violation.")
@click.option("--seed", type=int, default=0, help="Seed of the random strategy.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--strict", is_flag=True, help="Exit 3 when a verdict is inconclusive.")
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr  [default: on a terminal]")
@report_option
def command(model_path, params, properties, strategy, symmetry, max_states, max_depth, time_limit, max_memory,
            stop_at_first, seed, output, strict, progress, report_path):
    """Model-check MODEL (a .py model file or a .yaml scenario) exhaustively.

    Example: kspec explore models/reference/rc_converge.py -p N=3 -p R=5 -p F=3
    """
    model, values = load(model_path, params)
    warnings = tuple(getattr(model, "warnings", ()))
    for warning in warnings:
        click.echo(str(warning), err=True)
    if symmetry is None:
        symmetry = hasattr(model, "representative") or hasattr(model, "encoded_representative")
    explorer = Explorer(
        model,
        properties=properties,
        strategy=strategy,
        symmetry=symmetry,
        max_states=max_states,
        max_depth=max_depth,
        time_limit=time_limit,
        max_memory=parse_size(max_memory),
        stop_at_first=stop_at_first,
        seed=seed,
        progress=progress,
    )
    try:
        result = explorer.run()
    except KspecError as err:
        fail(str(err))
    except Exception as err:  # the model's own code failed: report it, no traceback
        fail(f"{model_path}: the model raised {type(err).__name__}: {err}")
    if output == "json":
        doc = {"model": model_path, "params": values, **result.to_json(),
               "warnings": [w.to_json() for w in warnings]}
        click.echo(json.dumps(doc, indent=2))
    else:
        for res in result.properties:
            click.echo(str(res))
        click.echo(f"verdict: {result.verdict}" + (f" (bound hit: {result.bound})" if result.bound else ""))
    click.echo(summary(result.stats, model_path), err=True)
    report_to(report_path, result, model=model, model_path=model_path, params=values, settings=explorer)
    sys.exit(exit_code(result.verdict, strict))
