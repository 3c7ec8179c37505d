"""``kspec report SCENARIO_OR_PATHS -o report.html``: the evidence for a design review.

A scenario file (``models/<name>.yaml``) or a model file (``.py``) is
explored; a scenario's manifests are also checked against the rule library
and scheduled with Z3. Plain manifest paths are checked and scheduled. Every
result goes into one report (:mod:`kspec.report`), written atomically to
``-o FILE`` in the format its suffix names (``.html``, ``.md``, ``.json``,
``.sarif``, ``.xml``, ``.txt``) or ``--format``; without ``-o`` the report is
printed (text by default).

Input that cannot be loaded still gets a report, marked *rejected* at the top
with every problem, and the command exits 2. Exit code otherwise, decided in
:func:`exit_code`: 0 everything holds, 1 something is violated (a property, a
rule at or above ``--severity-threshold``, feasibility or failure tolerance),
3 inconclusive under ``--strict``. A report path that cannot be written is one
error line and exit 2, and leaves no file behind.
"""

from __future__ import annotations

import os
import sys

import click

from kspec.cli.common import EXIT_BAD_INPUT, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_VIOLATED
from kspec.errors import KspecError, LoadError
from kspec.report import FORMATS, ReportError, build_report, check_writable, format_for, render, write_text
from kspec.report import sections as S


def exit_code(report, strict: bool) -> int:
    """The one place that turns a report into an exit code."""
    if report.status.state == "rejected":
        return EXIT_BAD_INPUT
    verdict = report.verdict
    if verdict == "violated":
        return EXIT_VIOLATED
    if verdict == "inconclusive" and strict:
        return EXIT_INCONCLUSIVE
    return EXIT_OK


def is_scenario(path: str) -> bool:
    """A ``.yaml`` whose first document is a mapping with ``manifests`` and no ``apiVersion``."""
    if not path.lower().endswith((".yaml", ".yml")) or not os.path.isfile(path):
        return False
    import yaml

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


def _explore(target, params, properties, symmetry, max_states, max_depth, time_limit):
    """Load and explore a model or scenario: ``(section, model)``; raises KspecError on bad input."""
    from kspec.checker.explore import Explorer
    from kspec.checker.model import load_model, parse_params

    values = parse_params(params)
    model = load_model(target, values)
    if symmetry is None:
        symmetry = hasattr(model, "representative") or hasattr(model, "encoded_representative")
    explorer = Explorer(model, properties=properties, symmetry=symmetry, max_states=max_states,
                        max_depth=max_depth, time_limit=time_limit)
    try:
        result = explorer.run()
    except KspecError:
        raise
    except Exception as err:  # the model's own code failed: report it, no traceback
        raise KspecError(f"{target}: the model raised {type(err).__name__}: {err}") from None
    section = S.explore_section(result, model=model, model_path=target, params=values, settings=explorer)
    return section, model


def _check(paths, rule_paths, threshold):
    """``(section, problems)``: the rule library (plus ``--rules``) over ``paths``."""
    from kspec.rules.engine import check_paths
    from kspec.rules.ruleset import builtin_rules, load_rules, merge

    sets = [builtin_rules()]
    if rule_paths:
        sets.append(load_rules(rule_paths))
    result, fatal = check_paths(list(paths), merge(sets))
    if fatal:
        return None, [str(d) for d in fatal]
    return S.check_section(result, threshold), []


def _schedule(paths, nodes, node_failures, zone_failure, timeout, objective="feasible"):
    from kspec.cli.schedule import run
    from kspec.loading.manifests import load

    cluster = load(list(paths), nodes=list(nodes))
    if not cluster.nodes:
        return None, "scheduling not checked: the input has no nodes (add Node manifests or --nodes)"
    result = run(cluster, objective=objective, node_failures=node_failures, zone_failure=zone_failure,
                 timeout=timeout)
    return S.schedule_section(result), None


@click.command("report", context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.argument("targets", nargs=-1, required=True, metavar="SCENARIO_OR_PATHS...",
                type=click.Path())
@click.option("-o", "--output", "output", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the report to FILE (format from the suffix: .html, .md, .json, .sarif, .xml, .txt).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Report format  [default: from the -o suffix, else text]")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="Model or scenario parameter.")
@click.option("--property", "properties", multiple=True, metavar="NAME", help="Explore only this property (repeatable).")
@click.option("--symmetry/--no-symmetry", default=None, help="Symmetry reduction  [default: on when the model has it]")
@click.option("--max-states", type=click.IntRange(min=1), default=None, help="Stop exploring after this many states.")
@click.option("--max-depth", type=click.IntRange(min=0), default=None, help="Do not explore deeper than this.")
@click.option("--time-limit", type=click.FloatRange(min=0), default=None, help="Stop exploring after this many seconds.")
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
@click.option("--title", default="", help="Title of the report  [default: from the input names]")
@click.option("--strict", is_flag=True, help="Exit 3 when a result is inconclusive.")
def command(targets, output, fmt, params, properties, symmetry, max_states, max_depth, time_limit, rule_paths,
            severity_threshold, nodes, node_failures, zone_failure, objective, timeout, with_check, with_schedule, title,
            strict):
    """Write one report a reviewer can open: what was checked, under which
    assumptions, what held, and how anything broke.

    SCENARIO_OR_PATHS is a scenario file (models/NAME.yaml) or a model file
    (.py), which is explored (and a scenario's manifests checked and
    scheduled), or manifest files and folders, which are checked and scheduled.

    Example: kspec report models/myapp-node-crash.yaml -o review.html
    """
    try:
        fmt = format_for(output, fmt) if output else (fmt or "text")
        check_writable(output)
    except ReportError as err:
        _fail(str(err))
    targets = list(targets)
    explore_target = None
    if len(targets) == 1 and (targets[0].endswith(".py") or is_scenario(targets[0])):
        explore_target = targets[0]
    elif any(t.endswith(".py") or is_scenario(t) for t in targets):
        _fail("give one scenario or model file on its own, or manifest paths (not both)")
    elif params or properties:
        _fail("-p and --property apply to a scenario or model file")

    results, problems, notes, inputs = [], [], [], list(targets)
    manifests, pools = targets, list(nodes)
    interrupted = None
    try:
        if explore_target is not None:
            manifests = []
            try:
                section, model = _explore(explore_target, params, properties, symmetry, max_states, max_depth,
                                          time_limit)
                results.append(section)
                scenario = getattr(model, "scenario", None)
                manifests = list(getattr(scenario, "manifests", ()) or ())
                pools = list(getattr(scenario, "nodes", ()) or ()) + pools
                inputs += manifests
            except KspecError as err:
                problems += _problems(err)
        if rule_paths:
            inputs += list(rule_paths)
        if manifests and not problems and with_check:
            try:
                section, fatal = _check(manifests, rule_paths, severity_threshold)
            except KspecError as err:
                section, fatal = None, _problems(err)
            problems += fatal
            if section is not None:
                results.append(section)
        if manifests and not problems and with_schedule:
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
        interrupted = "the run was interrupted (Ctrl-C) before every part finished; parts not shown did not run"
    report = build_report(results, command_line=["kspec", *sys.argv[1:]] if _real_argv() else
                          ["kspec", "report", *targets], inputs=inputs, title=title, rejected=problems,
                          notes=notes, interrupted=interrupted)
    text = render(report, fmt)
    if output:
        try:
            write_text(text, output)
        except ReportError as err:
            _fail(str(err))
        click.echo(f"{output}: {fmt} report, verdict {report.verdict} ({report.status.state})", err=True)
    else:
        click.echo(text, nl=False)
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(exit_code(report, strict))


def _real_argv() -> bool:
    """Whether ``sys.argv`` is this command's (not a test runner's)."""
    return len(sys.argv) > 1 and sys.argv[1] == "report"


def _fail(message: str):
    click.echo(f"kspec: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)
