"""``kspec rules``: the rules ``kspec check`` runs, with why and what other linters call them."""

from __future__ import annotations

import click

from kspec.cli.common import verb
from kspec.cli.exits import ExitCode
from kspec.errors import KspecError
from kspec.rules.output import RULE_LIST_FORMATS, render_rule_list
from kspec.rules.ruleset import RuleSet, builtin_rules, load_rules, merge
from kspec.rules.schema import schema_rules


@verb("rules")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True),
              help="Also list the rules of this file or folder (kspec rules or ValidatingAdmissionPolicy); "
                   "repeatable.")
@click.option("--no-builtin", is_flag=True, default=False,
              help="List only the rules given with --rules (neither the library nor the schema rules).")
@click.option("--brief", is_flag=True, default=False, help="One line per rule: id, severity and title.")
@click.option("-o", "--output", "fmt", type=click.Choice(RULE_LIST_FORMATS), default="text",
              help="Output format.")
def command(ids, rule_paths, no_builtin, brief, fmt):
    """List the rules: id, severity, title, rationale and the equivalent checks
    of kube-linter, checkov, kube-score and Polaris.

    These are the rules ``kspec check`` runs, under the ids its findings carry:
    the library's CEL rules and the four schema rules (unknown-field,
    unknown-kind, api-version-removed, api-version-deprecated), which
    check manifests against the Kubernetes OpenAPI schemas.

    With IDs, only those rules (an unknown id exits 2 and lists the known ones).
    """
    sets = [] if no_builtin else [builtin_rules(), schema_rules()]  # as kspec check merges them
    if rule_paths:
        sets.append(load_rules(rule_paths))
    rules = merge(sets) if sets else RuleSet()
    if not len(rules):
        raise KspecError("no rules to list (use --rules, or drop --no-builtin)")
    wanted = tuple(part for value in ids for part in value.split(",") if part)
    unknown = [rule_id for rule_id in wanted if rules.get(rule_id) is None]
    if unknown:
        raise KspecError(f"unknown rule id {', '.join(map(repr, unknown))}; known ids: {', '.join(sorted(rules.ids))}")
    chosen = rules.select(wanted)
    click.echo(render_rule_list(chosen, fmt, brief=brief), nl=False)
    return ExitCode.OK
