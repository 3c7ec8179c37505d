"""``kspec fuzz MODEL``: randomized checking with Hypothesis stateful testing.

Prints the seed (to stderr) so that ``--seed`` replays the run: the same
seed gives the same behaviours and the same trace. Exit codes as every verb
(:mod:`kspec.cli.exits`): random testing never proves a property, so without
a violation the verdict is inconclusive (exit 0, or 3 under ``--strict``);
Ctrl-C prints what was found so far and exits 130.
"""

from __future__ import annotations

import json

import click

from kspec.checker.explain import explain_result, result_to_json
from kspec.checker.fuzz import fuzz
from kspec.checker.model import warnings_of
from kspec.cli.common import allow_outside_option, load_model, params_option, run_model, strict_option, verb
from kspec.cli.exits import exit_code
from kspec.cli.explore import bound_before_results, size_option
from kspec.util.budget import Budget, BudgetExceeded


@verb("fuzz")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@params_option
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Check only this property (repeatable).")
@click.option("--seed", type=int, default=None, help="Seed to replay  [default: a fresh one, printed]")
@click.option("--max-examples", type=click.IntRange(min=1), default=500, help="Random behaviours to run.")
@click.option("--steps", type=click.IntRange(min=1), default=50, help="Maximum steps per behaviour.")
@click.option(
    "--hypothesis-shrink",
    is_flag=True,
    help="Also run Hypothesis's shrinker on a failure before shortening the trace (much slower).",
)
@click.option("--time-limit", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds (loading included); the verdict says so.")
@click.option("--max-memory", default=None, metavar="SIZE", callback=size_option,
              help="Stop when resident memory exceeds SIZE (e.g. 2G).")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@strict_option
@allow_outside_option
def command(model_path, params, properties, seed, max_examples, steps, hypothesis_shrink, time_limit, max_memory,
            output, strict, allow_outside):
    """Drive MODEL with random behaviours; shrink any failure to a minimal trace.

    Example: kspec fuzz models/reference/rc_converge.py -p N=2 -p R=2 -p F=2 --seed 1
    """
    budget = Budget(time_limit=time_limit, max_memory=max_memory)
    try:
        model, values = load_model(model_path, params, budget=budget, allow_outside=allow_outside)
    except BudgetExceeded as stop:
        return bound_before_results(stop.bound, strict, stop.phase, stop.reached)
    warnings = warnings_of(model)
    for warning in warnings:
        click.echo(str(warning), err=True)
    try:
        result = run_model(lambda: fuzz(model, properties=properties, seed=seed, max_examples=max_examples, steps=steps,
                                        hypothesis_shrink=hypothesis_shrink, budget=budget), model_path)
    except BudgetExceeded as stop:  # settling the initial states, before any behaviour ran
        return bound_before_results(stop.bound, strict, stop.phase, stop.reached)
    result = explain_result(result, model.properties())
    if output == "json":
        click.echo(json.dumps({"model": model_path, "params": values, **result_to_json(result),
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
    interrupted = any(r.bound == "interrupted" for r in result.properties)
    return exit_code([r.verdict for r in result.properties], strict=strict, interrupted=interrupted)
