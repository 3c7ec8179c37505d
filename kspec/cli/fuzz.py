"""``kspec fuzz MODEL``: randomized checking with Hypothesis stateful testing.

Prints the seed (to stderr) so that ``--seed`` replays the run: the same
seed gives the same behaviours and the same trace. Exit codes as
for ``kspec explore``: random testing never proves a property, so without a
violation the verdict is inconclusive (exit 0, or 3 under ``--strict``).
"""

from __future__ import annotations

import json
import sys

import click

from kspec.cli.explore import exit_code, fail, load
from kspec.errors import KspecError
from kspec.checker.fuzz import fuzz


@click.command("fuzz", context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="Model parameter (repeatable); integers are converted.")
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Check only this property (repeatable).")
@click.option("--seed", type=int, default=None, help="Seed to replay  [default: a fresh one, printed]")
@click.option("--max-examples", type=click.IntRange(min=1), default=500, help="Random behaviours to run.")
@click.option("--steps", type=click.IntRange(min=1), default=50, help="Maximum steps per behaviour.")
@click.option(
    "--hypothesis-shrink",
    is_flag=True,
    help="Also run Hypothesis's shrinker on a failure before shortening the trace (much slower).",
)
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--strict", is_flag=True, help="Exit 3 when a verdict is inconclusive.")
def command(model_path, params, properties, seed, max_examples, steps, hypothesis_shrink, output, strict):
    """Drive MODEL with random behaviours; shrink any failure to a minimal trace.

    Example: kspec fuzz models/reference/rc_converge.py -p N=2 -p R=2 -p F=2 --seed 1
    """
    model, values = load(model_path, params)
    warnings = tuple(getattr(model, "warnings", ()))
    for warning in warnings:
        click.echo(str(warning), err=True)
    try:
        result = fuzz(
            model, properties=properties, seed=seed, max_examples=max_examples, steps=steps,
            hypothesis_shrink=hypothesis_shrink,
        )
    except KspecError as err:
        fail(str(err))
    except Exception as err:  # the model's own code failed
        fail(f"{model_path}: the model raised {type(err).__name__}: {err}")
    if output == "json":
        click.echo(json.dumps({"model": model_path, "params": values, **result.to_json(),
                               "warnings": [w.to_json() for w in warnings]}, indent=2))
    else:
        for res in result.properties:
            click.echo(str(res))
        click.echo(f"verdict: {result.verdict}")
    click.echo(
        f"{model_path}: {result.examples} behaviours, {result.steps} steps, {result.seconds:.2f}s; "
        f"replay with --seed {result.seed}",
        err=True,
    )
    sys.exit(exit_code(result.verdict, strict))
