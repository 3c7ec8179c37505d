"""``kspec report SCENARIO_OR_PATHS -o report.html``: the evidence for a design review.

A scenario file (``models/<name>.yaml``) or a model file (``.py``) is
explored; a scenario's manifests are also checked against the rule library
and scheduled with Z3. Plain manifest paths are checked and scheduled. Every
result goes into one report (:mod:`kspec.report`), written atomically to
``-o FILE`` in the format its suffix names (``.html``, ``.md``, ``.json``,
``.sarif``, ``.xml``, ``.txt``) or ``--format``; without ``-o`` the report is
printed (text by default).

Input that cannot be loaded writes no report at all (a rejected run must not
leave a file a CI system could read as passing): every problem goes to stderr,
one line each, and the command exits 2. An output path that is one of the
inputs (the scenario, its manifests or controllers, a rule file) is refused
before any work. Exit codes as every verb (:mod:`kspec.cli.exits`): 0
everything holds, 1 something is violated (a property, a rule at or above
``--severity-threshold``, feasibility or failure tolerance), 3 inconclusive
under ``--strict`` (a property that holds vacuously too), 130 on Ctrl-C (the
report of what finished is written).
"""

from __future__ import annotations

import os
import sys

import click
import yaml

from kspec.checker.explore import Explorer
from kspec.checker.model import is_symmetric
from kspec.cli.common import (allow_outside_option, exhaustive_option, load_model, model_inputs, scenario_manifests,
                              scenario_pools, params_option, run_model, strict_option, verb)
from kspec.cli.exits import exit_code
from kspec.cli.output import OutputError, check_output, terminal_width, write_text
from kspec.cli.schedule import run
from kspec.errors import KspecError, LoadError
from kspec.loading.manifests import load
from kspec.report import FORMATS, ReportError, build_report, format_for, render
from kspec.report import sections as S
from kspec.rules.engine import check_paths
from kspec.rules.ruleset import builtin_rules, load_rules, merge
from kspec.util.budget import Budget


INTERRUPTED = "the run was interrupted (Ctrl-C) before every part finished; parts not shown did not run"


def is_scenario(path: str) -> bool:
    """A ``.yaml`` whose first document is a mapping with ``manifests`` and no ``apiVersion``."""
    if not path.lower().endswith((".yaml", ".yml")) or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            first = next(yaml.safe_load_all(handle), None)
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return False
    return isinstance(first, dict) and "manifests" in first and "apiVersion" not in first


def _problems(err: Exception) -> list[str]:
    if isinstance(err, LoadError):
        return [str(d) for d in err.diagnostics]
    return [str(err)]


def _explore(target, model, values, properties, symmetry, max_states, max_depth, time_limit, budget, exhaustive):
    """Explore a loaded model or scenario: ``(section, interrupted)``."""
    if symmetry is None:
        symmetry = is_symmetric(model)
    explorer = Explorer(model, properties=properties, symmetry=symmetry, max_states=max_states,
                        max_depth=max_depth, time_limit=time_limit, budget=budget, stop_when_decided=not exhaustive)
    from kspec.simulation.split import explore  # deferred: start-up time (a .py model needs no simulation layer)

    result, shown, _ = run_model(lambda: explore(model, explorer), target)  # in parts as kspec explore splits
    section = S.explore_section(result, model=shown, model_path=target, params=values, settings=explorer)
    return section, result.bound == "interrupted"


def _check(paths, rule_paths, threshold):
    """``(section, problems)``: the rule library (plus ``--rules``) over ``paths``."""
    sets = [builtin_rules()]
    if rule_paths:
        sets.append(load_rules(rule_paths))
    result, fatal = check_paths(list(paths), merge(sets))
    if fatal:
        return None, [str(d) for d in fatal]
    return S.check_section(result, threshold), []


def _schedule(paths, nodes, node_failures, zone_failure, timeout, objective="feasible"):
    cluster = load(list(paths), nodes=list(nodes))
    if not cluster.nodes:
        return None, "scheduling not checked: the input has no nodes (add Node manifests or --nodes)"
    result = run(cluster, objective=objective, node_failures=node_failures, zone_failure=zone_failure,
                 timeout=timeout)
    return S.schedule_section(result), None


@verb("report")
@click.argument("targets", nargs=-1, required=True, metavar="SCENARIO_OR_PATHS...",
                type=click.Path(allow_dash=True))
@click.option("-o", "--output", "output", default=None, metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report to FILE (format from the suffix: .html, .md, .json, .sarif, .xml, .txt).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Report format  [default: from the -o suffix, else text]")
@params_option
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Explore only this property (repeatable).")
@click.option("--symmetry/--no-symmetry", default=None, help="Symmetry reduction  [default: on when the model has it]")
@click.option("--max-states", type=click.IntRange(min=1), default=None, help="Stop exploring after this many states.")
@click.option("--max-depth", type=click.IntRange(min=0), default=None, help="Do not explore deeper than this.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, help="Stop exploring after this many seconds.")
@exhaustive_option
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True),
              help="Extra rule file or folder for the static check (repeatable).")
@click.option("--severity-threshold", type=click.Choice(["error", "warning", "info"]), default="error",
              help="Findings at or above this severity make the check fail.")
@click.option("--nodes", "nodes", multiple=True, metavar="POOL", help="Add a node pool for scheduling (repeatable).")
@click.option("--tolerate-node-failures", "node_failures", type=click.IntRange(0, 16), default=1, metavar="K",
              help="Check that everything still fits after any K nodes fail (0: do not check).")
@click.option("--tolerate-zone-failure", "zone_failure", is_flag=True, help="Also check the loss of any one zone.")
@click.option("--objective", type=click.Choice(["feasible", "min-nodes", "balanced"]), default="feasible",
              help="Placement shown: any (feasible), fewest nodes, or lowest peak utilisation (balanced).")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=60.0, help="Seconds per solver call.")
@click.option("--check/--no-check", "with_check", default=True, help="Run the static rule check on the manifests.")
@click.option("--schedule/--no-schedule", "with_schedule", default=True, help="Schedule the manifests with Z3.")
@click.option("--title", default=None, help="Title of the report  [default: from the input names]")
@strict_option
@allow_outside_option
def command(targets, output, fmt, params, properties, symmetry, max_states, max_depth, time_limit, exhaustive,
            rule_paths, severity_threshold, nodes, node_failures, zone_failure, objective, timeout, with_check,
            with_schedule, title, strict, allow_outside):
    """Write one report a reviewer can open: what was checked, under which
    assumptions, what held, and how anything broke.

    SCENARIO_OR_PATHS is a scenario file (models/NAME.yaml) or a model file
    (.py), which is explored (and a scenario's manifests checked and
    scheduled), or manifest files and folders, which are checked and scheduled.

    Example: kspec report models/myapp-node-crash.yaml -o review.html
    """
    explicit = fmt
    targets = list(targets)
    explore_target = None
    if len(targets) == 1 and (targets[0].endswith(".py") or is_scenario(targets[0])):
        explore_target = targets[0]
    elif any(t.endswith(".py") or is_scenario(t) for t in targets):
        raise KspecError("give one scenario or model file on its own, or manifest paths (not both)")
    elif params or properties:
        raise KspecError("-p and --property apply to a scenario or model file")
    inputs = [*targets, *rule_paths]
    # an output that is an input is named as such before its suffix (a model's inputs are known once it loads)
    check_output(output, inputs, fmt=explicit, check_format=explore_target is None)

    results, problems, notes = [], [], []
    manifests, pools = targets, list(nodes)
    interrupted = None
    try:
        if explore_target is not None:
            manifests = []
            budget = Budget(time_limit=time_limit)
            try:
                model, values = load_model(explore_target, params, budget=budget, allow_outside=allow_outside)
                manifests = scenario_manifests(model)
                pools = scenario_pools(model) + pools
                inputs = model_inputs(explore_target, model) + list(rule_paths)
                check_output(output, inputs, fmt=explicit)
                section, stopped = _explore(explore_target, model, values, properties, symmetry, max_states,
                                            max_depth, time_limit, budget, exhaustive)
                results.append(section)
                if stopped:
                    interrupted = INTERRUPTED
            except (OutputError, ReportError):  # the output cannot be written: no report at all
                raise
            except KspecError as err:
                problems += _problems(err)
        if manifests and not problems and not interrupted and with_check:
            try:
                section, fatal = _check(manifests, rule_paths, severity_threshold)
            except KspecError as err:
                section, fatal = None, _problems(err)
            problems += fatal
            if section is not None:
                results.append(section)
        if manifests and not problems and not interrupted and with_schedule:
            try:
                section, note = _schedule(manifests, pools, node_failures, zone_failure, timeout, objective)
            except LoadError as err:
                section, note = None, None
                problems += _problems(err)
            except KspecError as err:
                section, note = None, f"scheduling not checked: {err}"
            if section is not None:
                results.append(section)
            if note:
                notes.append(note)
    except KeyboardInterrupt:
        interrupted = INTERRUPTED
    if problems:
        raise LoadError(problems)
    report = build_report(results, command_line=["kspec", *sys.argv[1:]] if _real_argv() else
                          ["kspec", "report", *targets], inputs=inputs, title=title, notes=notes,
                          interrupted=interrupted)
    fmt = format_for(output, explicit) if output and output != "-" else (explicit or "text")
    to_screen = fmt == "text" and (not output or output == "-")
    text = render(report, fmt, terminal_width() if to_screen else None)
    if output:
        write_text(text, output)
        click.echo(f"{output}: {fmt} report, verdict {report.verdict} ({report.status.state})", err=True)
    else:
        click.echo(text, nl=False)
    vacuous = ["inconclusive"] if any(v.vacuous for v in report.verdicts) else []  # exits 3 under --strict only
    return exit_code([report.verdict, *vacuous], strict=strict, interrupted=interrupted is not None)


def _real_argv() -> bool:
    """Whether ``sys.argv`` is this command's (not a test runner's)."""
    return len(sys.argv) > 1 and sys.argv[1] == "report"
