"""``kspec check``: run the rule library (and your rules) over manifests."""

from __future__ import annotations

import click

from kspec.checker.model import Verdict
from kspec.cli.common import paths_argument, report_option, verb
from kspec.cli.exits import exit_code
from kspec.cli.output import check_output, write_report
from kspec.errors import KspecError, LoadError
from kspec.rules.engine import check_paths
from kspec.rules.output import render, render_summary
from kspec.rules.ruleset import SEVERITIES, RuleSet, builtin_rules, load_rules, merge


def _ids(values) -> tuple[str, ...]:
    """``--only a --only b`` and ``--only a,b`` alike."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@verb("check")
@paths_argument
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True),
              help="A rule file or folder of rule files (kspec rules or ValidatingAdmissionPolicy); repeatable.")
@click.option("--no-builtin", is_flag=True, default=False, help="Run only the rules given with --rules.")
@click.option("--only", multiple=True, metavar="ID[,ID...]", help="Run only these rule ids; repeatable.")
@click.option("--skip", multiple=True, metavar="ID[,ID...]", help="Do not run these rule ids; repeatable.")
@click.option("--severity-threshold", type=click.Choice(SEVERITIES), default="error",
              help="Exit 1 when a finding at or above this severity exists.")
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "json", "sarif", "junit"]), default="text",
              help="Output format (findings on stdout; the text summary goes to stderr).")
@report_option
def command(paths, rule_paths, no_builtin, only, skip, severity_threshold, fmt, report_path):
    """Check manifests against declarative CEL rules, across objects.

    PATH is a file, a folder (searched recursively) or - for stdin. Findings
    name the rule, severity, object, file and line. Exit 0 when nothing at or
    above --severity-threshold fails, 1 otherwise, 2 on bad input (a manifest
    or rule file that does not parse, an unknown rule id).
    """
    check_output(report_path, [*paths, *rule_paths])
    sets = [] if no_builtin else [builtin_rules()]
    if rule_paths:
        sets.append(load_rules(rule_paths))
    rules = merge(sets) if sets else RuleSet()
    rules = rules.select(_ids(only), _ids(skip))
    if not len(rules):
        raise KspecError("no rules to run (use --rules, or drop --no-builtin)")
    result, fatal = check_paths(list(paths), rules)
    if fatal:
        raise LoadError(fatal)
    click.echo(render(result, fmt, severity_threshold), nl=False)
    click.echo(render_summary(result, severity_threshold), err=True, nl=False)
    if report_path:
        write_report(result, report_path, inputs=paths, threshold=severity_threshold)
    return exit_code([Verdict.HOLDS if result.passed(severity_threshold) else Verdict.VIOLATED])
