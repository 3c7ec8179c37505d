"""``kspec explore MODEL``: exhaustive model checking of a model file or scenario.

Results go to stdout (text or JSON), the run summary to stderr. Exit codes as
every verb (:mod:`kspec.cli.exits`): 0 every property holds, 1 one is
violated, 2 bad input, 3 inconclusive under ``--strict`` (else inconclusive
exits 0), 130 on Ctrl-C after printing what was found so far. A property that
holds vacuously (what must happen for it to mean something never did) is
printed as such and exits 0, or 3 under ``--strict``, like an inconclusive one.
"""

from __future__ import annotations

import json
import re

import click

from kspec.checker.explain import result_to_json
from kspec.checker.explore import STRATEGIES, Explorer
from kspec.checker.model import Verdict, is_symmetric, warnings_of
from kspec.cli.common import (allow_outside_option, exhaustive_option, load_model, model_inputs, scenario_manifests,
                              params_option, report_option, run_model, strict_option, verb)
from kspec.cli.exits import exit_code
from kspec.cli.output import check_output, write_report, write_text
from kspec.checker.replay import NothingToEmit, emit_test
from kspec.util.budget import Budget, BudgetExceeded

# The shape of ``-o json`` (docs/explore.md): version 2 names the fields of states' records.
SCHEMA, VERSION = "kspec-explore", 2

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


def size_option(ctx, param, value):
    return parse_size(value)


def summary(stats, model_path: str) -> str:
    return (
        f"{model_path}: {stats.distinct_states:,} distinct states, {stats.transitions:,} transitions, "
        f"depth {stats.max_depth}, {stats.seconds:.2f}s ({stats.states_per_second:,.0f} states/s), "
        f"peak memory {stats.peak_memory_bytes / 2**20:,.0f} MiB"
        + (", symmetry reduction on" if stats.symmetry else "")
        + f", {stats.reduction_text()}"
        + (", stopped once every check was decided (--exhaustive explores every state)"
           if stats.stopped_decided else "")
    )


def bound_before_results(bound: str, strict: bool, phase: str = "", reached: str = ""):
    """A bound reached before any result (loading the model, settling its
    initial states): nothing explored, inconclusive."""
    click.echo(f"verdict: inconclusive (bound hit: {bound}, while {phase or 'loading the model'}"
               + (f", {reached})" if reached else ")"))
    return exit_code([Verdict.INCONCLUSIVE], strict=strict)


@verb("explore")
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False))
@params_option
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Check only this property (repeatable).")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="bfs", help="bfs: shortest counterexamples; dfs: less frontier memory; random: seeded random walks.")
@click.option("--symmetry/--no-symmetry", default=None, help="Symmetry reduction  [default: on when the model defines a representative]")
@click.option("--por/--no-por", default=True, show_default=False,
              help="Partial-order reduction where it is sound (declared footprints, only always/sometimes checks)  [default: on]")
@click.option("--slice/--no-slice", "slicing", default=True, show_default=False,
              help="Leave out the endpoints controller when no check reads Services' endpoints (cone of influence)  [default: on]")
@click.option("--max-states", type=click.IntRange(min=1), default=None, help="Stop after storing this many distinct states.")
@click.option("--max-depth", type=click.IntRange(min=0), default=None, help="Do not expand states deeper than this.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds (loading included).")
@click.option("--max-memory", default=None, metavar="SIZE", callback=size_option,
              help="Stop when resident memory exceeds SIZE (e.g. 2G).")
@click.option("--stop-at-first", is_flag=True, help="Stop at the first safety violation.")
@exhaustive_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Explore the models of a run split by Service in this many processes at once (not with "
                   "--max-states or --stop-at-first, which need them in order).")
@click.option("--seed", type=int, default=0, help="Seed of the random strategy.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@strict_option
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr  [default: on a terminal]")
@allow_outside_option
@report_option
@click.option("--emit-test", "emit_test_path", metavar="FILE", default=None,
              help="Write a pytest file that replays each counterexample step by step (a regression test).")
def command(model_path, params, properties, strategy, symmetry, por, slicing, max_states, max_depth, time_limit, max_memory,
            stop_at_first, exhaustive, jobs, seed, output, strict, progress, allow_outside, report_path, emit_test_path):
    """Model-check MODEL (a .py model file or a .yaml scenario) exhaustively.

    The search covers every reachable state, or stops once every check is
    decided (the verdicts and shortest traces are then final; --exhaustive
    goes on).

    A check that holds while what must happen for it to mean something never
    does (no fault fires, nothing disturbs the workload) is reported as
    vacuous, with the reason; it exits 0, or 3 under --strict.

    Example: kspec explore models/reference/rc_converge.py -p N=3 -p R=5 -p F=3
    """
    # --max-states and --progress apply to settling a scenario's initial state too (the budget carries them)
    budget = Budget(time_limit=time_limit, max_memory=max_memory, max_states=max_states, progress=progress)
    try:
        model, values = load_model(model_path, params, budget=budget, allow_outside=allow_outside, slicing=slicing,
                                   checked=properties or None)
    except BudgetExceeded as stop:
        return bound_before_results(stop.bound, strict, stop.phase, stop.reached)
    check_output(report_path, model_inputs(model_path, model))
    check_output(emit_test_path, model_inputs(model_path, model), what="test")
    warnings = warnings_of(model)
    for warning in warnings:
        click.echo(str(warning), err=True)
    if symmetry is None:
        symmetry = is_symmetric(model)
    explorer = Explorer(
        model,
        properties=properties,
        strategy=strategy,
        symmetry=symmetry,
        por=por,
        max_states=max_states,
        max_depth=max_depth,
        time_limit=time_limit,
        max_memory=max_memory,
        stop_at_first=stop_at_first,
        stop_when_decided=not exhaustive,
        seed=seed,
        progress=progress,
        budget=budget,
    )
    result, shown, parts = run_model(lambda: explore_model(model, explorer, slicing, jobs), model_path)
    if output == "json":
        doc = {"schema": SCHEMA, "version": VERSION, "model": model_path, "params": values, **result_to_json(result),
               "warnings": [w.to_json() for w in warnings]}
        click.echo(json.dumps(doc, indent=2))
    else:
        for res in result.properties:
            click.echo(str(res))
        vacuous = sum(1 for r in result.properties if r.vacuous)
        click.echo(f"verdict: {result.verdict}" + (f" (bound hit: {result.bound})" if result.bound else "")
                   + (f" ({vacuous} vacuous)" if vacuous else ""))
    click.echo(summary(result.stats, model_path), err=True)
    if report_path:
        write_report(result, report_path, inputs=[model_path, *scenario_manifests(model)], model=shown,
                     model_path=model_path, params=values, settings=explorer)
    if emit_test_path:
        write_emitted_test(result, emit_test_path, model_path, values, slicing, properties, parts, allow_outside)
    verdicts = [Verdict.INCONCLUSIVE if r.vacuous else r.verdict for r in result.properties]
    return exit_code(verdicts, strict=strict, interrupted=result.bound == "interrupted")


def explore_model(model, explorer: Explorer, slicing: bool, jobs: int = 1):
    """The explorer's run, in parts when a check over every Service splits
    (:func:`kspec.simulation.split.explore`; ``jobs`` processes at once):
    ``(result, model it reads against, parts)``."""
    from kspec.simulation.split import explore  # deferred: start-up time (a .py model needs no simulation layer)

    return explore(model, explorer, slicing, jobs)


def write_emitted_test(result, path: str, model_path: str, values: dict, slicing: bool = True,
                       checked: tuple[str, ...] = (), parts: dict | None = None, allow_outside: bool = False) -> None:
    """``--emit-test FILE``: a pytest file replaying every counterexample (a note, no file, when there is none);
    ``parts``: the part of a split run each check's trace comes from."""
    try:
        text = emit_test(model_path, values, result, test_path=path, slicing=slicing, checked=checked, parts=parts,
                         allow_outside=allow_outside)
    except NothingToEmit as err:
        click.echo(f"kspec: note: {err}", err=True)
        return
    write_text(text, path, what="test")
