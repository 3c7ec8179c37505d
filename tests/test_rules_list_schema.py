"""``kspec rules`` lists every rule ``kspec check`` runs, the four schema rules included,
under the ids, severities and titles that ``kspec check`` reports them with."""

from __future__ import annotations

import json

from kspec.rules.schema import DEPRECATED, REMOVED, UNKNOWN_FIELD, UNKNOWN_KIND, schema_rules

SCHEMA_IDS = (UNKNOWN_FIELD, UNKNOWN_KIND, REMOVED, DEPRECATED)

UNKNOWN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replica: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
"""


def test_rule_list_names_the_schema_rules_with_severity(run_cli):
    result = run_cli("rules", "--brief")
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert {rule_id: lines.get(rule_id) for rule_id in SCHEMA_IDS} == {
        rule.id: rule.severity for rule in schema_rules()}
    assert lines[UNKNOWN_FIELD] == "error" and lines[DEPRECATED] == "warning"


def test_schema_rule_by_id_shows_rationale_and_equivalents(run_cli):
    result = run_cli("rules", REMOVED)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{REMOVED}  error")
    assert "equivalents: kube-score stable-version" in result.stdout


def test_rule_list_json_matches_the_rules_of_a_check(run_cli, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(UNKNOWN)
    listed = json.loads(run_cli("rules", "-o", "json").stdout)["rules"]
    checked = json.loads(run_cli("check", manifest, "-o", "json").stdout)
    assert listed == checked["rules"]
    found = [f for f in checked["findings"] if f["rule"] == UNKNOWN_FIELD]
    assert [f["severity"] for f in found] == [next(r["severity"] for r in listed if r["id"] == UNKNOWN_FIELD)]


def test_no_builtin_lists_no_schema_rule(run_cli, tmp_path):
    rule = tmp_path / "mine.yaml"
    rule.write_text("id: mine\nexpression: 'true'\nseverity: info\n")
    result = run_cli("rules", "--no-builtin", "--rules", rule, "--brief")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["mine"]
