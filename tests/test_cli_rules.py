"""``kspec rules`` (the rule list with other linters' equivalents), ``kspec check
--soft-fail``, and several outputs of one ``kspec check`` run (``-o FORMAT=FILE``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from kspec.rules.rule import TOOLS
from kspec.rules.ruleset import CHECKS_DIR, builtin_rules, merge, read_rule_text
from kspec.rules.schema import schema_rules

EXAMPLES = CHECKS_DIR / "examples"
FAILING = EXAMPLES / "controllers-overlap" / "fail.yaml"  # an error-severity finding


# --------------------------------------------------------------------------- kspec rules


def test_rules_lists_every_rule_with_severity_and_title(run_cli):
    out = run_cli("rules", "--brief")
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    every = merge([builtin_rules(), schema_rules()])  # the library, then the schema rules, as kspec check runs them
    assert [line.split()[0] for line in lines] == list(every.ids)
    for line, rule in zip(lines, every):
        assert line.split()[1] == rule.severity and line.endswith(rule.title)


def test_rules_shows_rationale_and_equivalents(run_cli):
    out = run_cli("rules", "image-tag-latest-or-missing")
    assert out.exit_code == 0
    text = " ".join(out.stdout.split())
    assert "An image reference with no tag means ':latest'" in text
    assert ("equivalents: kube-linter latest-tag; checkov CKV_K8S_14; kube-score container-image-tag; "
            "polaris tagNotSpecified") in text


def test_rules_json_has_the_equivalents_by_tool(run_cli):
    out = run_cli("rules", "-o", "json", "requests-missing,controllers-overlap")
    doc = json.loads(out.stdout)
    assert [r["id"] for r in doc["rules"]] == ["controllers-overlap", "requests-missing"]
    requests = doc["rules"][1]
    assert requests["equivalents"]["checkov"] == ["CKV_K8S_10", "CKV_K8S_12"]
    assert set(requests["equivalents"]) <= set(TOOLS) and requests["rationale"]
    assert doc["rules"][0]["equivalents"] == {}


def test_rules_unknown_id_exits_2_naming_the_known_ones(run_cli):
    out = run_cli("rules", "no-such-rule")
    assert out.exit_code == 2 and "unknown rule id 'no-such-rule'" in out.stderr and "bare-pod" in out.stderr


def test_rules_lists_a_users_rule_file(run_cli, tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("id: team/max-replicas\ntitle: At most ten replicas\nseverity: info\n"
                    "rationale: Our clusters are small.\nmatch: {kinds: [Deployment]}\n"
                    "expression: object.spec.?replicas.orValue(1) <= 10\nmessage: too many\n"
                    "equivalents: {polaris: deploymentMissingReplicas}\n")
    out = run_cli("rules", "--no-builtin", "--rules", path)
    assert out.exit_code == 0
    assert out.stdout.splitlines()[0].split() == ["team/max-replicas", "info", "At", "most", "ten", "replicas"]
    assert "equivalents: polaris deploymentMissingReplicas" in out.stdout


def test_equivalents_name_known_tools_only():
    text = "id: r\nexpression: 'true'\nmessage: m\nequivalents:\n  kubelinter: [x]\n  checkov: []\n"
    rules, _, problems = read_rule_text(text, "r.yaml")
    assert rules == []
    messages = [(p.line, p.message) for p in problems]
    assert (5, "unknown tool 'kubelinter' in equivalents; tools: kube-linter, checkov, kube-score, polaris") \
        in messages
    assert (6, "equivalents.checkov must be a check id or a list of them") in messages


# --------------------------------------------------------------------------- --soft-fail


def test_soft_fail_exits_0_and_says_so(run_cli):
    plain = run_cli("check", FAILING, "--only", "controllers-overlap")
    soft = run_cli("check", FAILING, "--only", "controllers-overlap", "--soft-fail")
    assert plain.exit_code == 1 and soft.exit_code == 0
    assert soft.stdout == plain.stdout
    assert soft.stderr.rstrip().endswith("exit 0 (--soft-fail)")


def test_soft_fail_still_exits_2_on_bad_input(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [\n")
    out = run_cli("check", bad, "--soft-fail")
    assert out.exit_code == 2 and "bad.yaml:" in out.stderr


# --------------------------------------------------------------------------- several outputs


def test_several_outputs_in_one_run(run_cli, tmp_path):
    sarif, junit, text = tmp_path / "out.sarif", tmp_path / "out.xml", tmp_path / "out.txt"
    out = run_cli("check", FAILING, "-o", f"sarif={sarif}", "-o", f"junit={junit}", "-o", "text",
                  "-o", f"json={tmp_path / 'out.json'}")
    assert out.exit_code == 1
    single = run_cli("check", FAILING)
    assert out.stdout == single.stdout  # text on stdout, as without -o
    log = json.loads(sarif.read_text())
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"controllers-overlap"}
    assert ET.fromstring(junit.read_text()).tag == "testsuites"
    doc = json.loads((tmp_path / "out.json").read_text())
    assert len(doc["findings"]) == len(log["runs"][0]["results"]) == len(single.stdout.splitlines())
    assert not text.exists()


def test_only_one_output_goes_to_stdout(run_cli, tmp_path):
    out = run_cli("check", FAILING, "-o", "json", "-o", "text")
    assert out.exit_code == 2 and "only one output can go to stdout" in out.stderr


def test_unknown_format_and_missing_file_are_usage_errors(run_cli):
    assert "unknown format 'yaml'" in run_cli("check", FAILING, "-o", "yaml").stderr
    assert "names no file" in run_cli("check", FAILING, "-o", "sarif=").stderr


def test_an_output_that_is_an_input_is_refused_before_any_work(run_cli, tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_text(FAILING.read_text())
    sarif = tmp_path / "out.sarif"
    out = run_cli("check", manifest, "-o", f"sarif={sarif}", "-o", f"junit={manifest}")
    assert out.exit_code == 2 and "one of the inputs" in out.stderr
    assert manifest.read_text() == FAILING.read_text() and not sarif.exists()


def test_stdout_dash_is_stdout(run_cli, tmp_path):
    out = run_cli("check", FAILING, "-o", "json=-", "-o", f"text={tmp_path / 'out.txt'}")
    assert json.loads(out.stdout)["findings"]
    assert Path(tmp_path / "out.txt").read_text() == run_cli("check", FAILING).stdout
