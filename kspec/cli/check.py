"""``kspec check``: run the rule library (and your rules) over manifests."""

from __future__ import annotations

import atexit
import gc

import click

from kspec.checker.model import Verdict
from kspec.cli.common import report_option, verb
from kspec.cli.exits import exit_code
from kspec.cli.output import check_output, write_report, write_text
from kspec.errors import KspecError, LoadError
from kspec.loading.manifests import InputOptions
from kspec.rules.baseline import render_baseline
from kspec.rules.config import find_config, load_config
from kspec.rules.engine import check_paths
from kspec.rules.postcheck import extras_for, own_files, suppressed_summary
from kspec.rules.schema import schema_rules
from kspec.rules.vap import requester
from kspec.rules.output import FORMATS, render, render_summary
from kspec.rules.ruleset import SEVERITIES, RuleSet, builtin_rules, load_rules, merge


def _ids(values) -> tuple[str, ...]:
    """``--only a --only b`` and ``--only a,b`` alike."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@verb("check")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("-f", "--filename", "filenames", multiple=True, type=click.Path(allow_dash=True),
              help="A file or folder to check, as kubectl -f (the same as a PATH argument); repeatable.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Do not read files matching GLOB (a name without / matches any file or folder name on the "
                   "path: --exclude charts; with /, the end of the path: --exclude 'vendor/*'); repeatable.")
@click.option("-n", "--namespace", default=None, help="The namespace of namespaced objects that name none "
                                                      "(as kubectl -n; default: default).")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help="Settings file (rule selection, severities, exclusions, baseline); default: .kspec.yaml in the "
                   "current folder when there is one.")
@click.option("--baseline", default=None, type=click.Path(dir_okay=False),
              help="Do not report findings recorded in this file (written by --write-baseline).")
@click.option("--write-baseline", default=None, type=click.Path(dir_okay=False),
              help="Record the findings of this run in FILE, to adopt kspec on a repository with findings.")
@click.option("--kube-version", default=None, metavar="MAJOR.MINOR",
              help="The Kubernetes release whose APIs unknown fields, kinds and removed versions are checked "
                   "against (default: the newest the schemas ship).")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True),
              help="A rule file or folder of rule files (kspec rules or ValidatingAdmissionPolicy); repeatable.")
@click.option("--no-builtin", is_flag=True, default=False, help="Run only the rules given with --rules.")
@click.option("--only", multiple=True, metavar="ID[,ID...]", help="Run only these rule ids; repeatable.")
@click.option("--skip", multiple=True, metavar="ID[,ID...]", help="Do not run these rule ids; repeatable.")
@click.option("--severity-threshold", type=click.Choice(SEVERITIES), default="error",
              help="Exit 1 when a finding at or above this severity exists.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FORMAT[=FILE]",
              help=f"Output format ({'|'.join(FORMATS)}; default text), to FILE when given, else to stdout; "
                   "repeatable: -o sarif=out.sarif -o text. The text summary goes to stderr.")
@click.option("--include-suppressed", is_flag=True, default=False,
              help="SARIF: also write the suppressed findings (annotations, .kspec.yaml exclusions, the baseline), "
                   "each as a result with a suppressions entry (SARIF viewers show it as suppressed, not open); "
                   "without it they are left out. JSON always lists them under 'suppressed'.")
@click.option("--soft-fail", is_flag=True, default=False,
              help="Exit 0 even when findings reach --severity-threshold (bad input still exits 2).")
@click.option("--as", "as_user", metavar="USER", default=None,
              help="The user admission policies see in request.userInfo and ask the authorizer about "
                   "(as kubectl --as; default: kspec).")
@click.option("--as-group", "as_groups", multiple=True, metavar="GROUP",
              help="A group of that user (as kubectl --as-group); repeatable. system:authenticated is always added.")
@report_option
def command(paths, filenames, exclude, namespace, config_path, baseline, write_baseline, kube_version, rule_paths,
            no_builtin, only, skip, severity_threshold, outputs, include_suppressed, soft_fail, as_user, as_groups,
            report_path):
    """Check manifests against declarative CEL rules, across objects.

    PATH is a file, a folder (searched recursively) or - for stdin. Findings
    name the rule, severity, object, file and line. Exit 0 when nothing at or
    above --severity-threshold fails, 1 otherwise, 2 on bad input (a manifest
    or rule file that does not parse, an unknown rule id).
    """
    collecting = gc.isenabled()
    gc.disable()  # see _check
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)  # see _check
    try:
        return _check(paths, filenames, exclude, namespace, config_path, baseline, write_baseline, kube_version,
                      rule_paths, no_builtin, only, skip, severity_threshold, outputs, include_suppressed, soft_fail,
                      as_user, as_groups, report_path)
    finally:
        if collecting:
            gc.enable()


def _check(paths, filenames, exclude, namespace, config_path, baseline, write_baseline, kube_version, rule_paths,
           no_builtin, only, skip, severity_threshold, outputs, include_suppressed, soft_fail, as_user, as_groups,
           report_path):
    """The run, with the cyclic garbage collector off: what a check allocates
    (records, manifests, findings) is acyclic and lives until the run ends, so
    collections would only traverse it again and again (on 10,000 objects,
    about a second of a six-second run, most of it right after loading and
    checking, which turn the collector off themselves). For the same reason
    the process freezes what is left (``gc.freeze``) when it exits, before the
    interpreter's last collection, which would traverse the caches of a large
    run (selectors, schema shapes) for a fifth of a second to free nothing."""
    paths = (*paths, *filenames)
    if not paths:
        raise click.UsageError("give a PATH or -f FILE to check (- for stdin)")
    config = load_config(find_config(config_path))
    check_output(report_path, [*paths, *rule_paths])
    check_output(write_baseline, [*paths, *rule_paths], what="baseline")
    targets = output_targets(outputs)
    for _, path in targets:
        check_output(path, [*paths, *rule_paths], what="output")
    sets = [] if no_builtin else [builtin_rules(), schema_rules()]
    if rule_paths:
        sets.append(load_rules(rule_paths))
    rules = merge(sets) if sets else RuleSet()
    rules = config.apply(rules, _ids(only), _ids(skip))
    for warning in rules.warnings:
        click.echo(str(warning), err=True)
    if not len(rules):
        raise KspecError("no rules to run (use --rules, or drop --no-builtin)")
    with requester(as_user, as_groups):
        extras = extras_for(rules, config, baseline=baseline, writing=write_baseline is not None,
                            kube_version=kube_version)
        options = InputOptions(exclude=config.exclude + tuple(exclude), namespace=namespace,
                               skip=own_files(config, baseline, write_baseline, extras.baseline_file))
        result, fatal = check_paths(list(paths), rules, options=options, extras=extras)
    if fatal:
        raise LoadError(fatal)
    for fmt, path in targets:
        text = render(result, fmt, severity_threshold, include_suppressed=include_suppressed)
        if path is None:
            click.echo(text, nl=False)
        else:
            write_text(text, path, what="output")
    for warning in result.warnings:
        click.echo(str(warning), err=True)
    click.echo(render_summary(result, severity_threshold, soft_fail=soft_fail), err=True, nl=False)
    click.echo(suppressed_summary(result.suppressed), err=True, nl=False)
    if write_baseline:
        write_text(render_baseline(result.findings, write_baseline), write_baseline, what="baseline")
    if report_path:
        write_report(result, report_path, inputs=paths, threshold=severity_threshold)
    return exit_code([Verdict.HOLDS if soft_fail or result.passed(severity_threshold) else Verdict.VIOLATED])


def output_targets(values) -> list[tuple[str, str | None]]:
    """``-o FORMAT[=FILE]`` values as ``(format, file or None for stdout)``; text
    on stdout when none is given. At most one output may go to stdout."""
    targets = []
    for value in values or ("text",):
        fmt, sep, path = value.partition("=")
        if fmt not in FORMATS:
            raise click.BadParameter(f"unknown format {fmt!r} in {value!r}; formats: {', '.join(FORMATS)}",
                                     param_hint="'-o' / '--output'")
        if sep and not path:
            raise click.BadParameter(f"{value!r} names no file after '='", param_hint="'-o' / '--output'")
        targets.append((fmt, path if sep and path != "-" else None))
    if sum(1 for _, path in targets if path is None) > 1:
        raise click.BadParameter("only one output can go to stdout; give the others a file (FORMAT=FILE)",
                                 param_hint="'-o' / '--output'")
    files = [path for _, path in targets if path is not None]
    if len(set(files)) < len(files):
        raise click.BadParameter("two outputs name the same file", param_hint="'-o' / '--output'")
    return targets
