"""``kspec check`` and ``kspec test-rules`` end to end: exit codes and the four output formats."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from click.testing import CliRunner

from kspec.cli import group
from kspec.rules.ruleset import CHECKS_DIR

EXAMPLES = CHECKS_DIR / "examples"


def run(*args):
    return CliRunner().invoke(group, list(map(str, args)))


def test_exit_codes_follow_the_threshold():
    fail = EXAMPLES / "requests-missing" / "fail.yaml"        # a warning
    assert run("check", fail, "--only", "requests-missing").exit_code == 0   # default threshold: error
    assert run("check", fail, "--only", "requests-missing", "--severity-threshold", "warning").exit_code == 1
    assert run("check", EXAMPLES / "bare-pod" / "pass.yaml", "--only", "bare-pod",
               "--severity-threshold", "info").exit_code == 0
    assert run("check", EXAMPLES / "duplicate-object" / "fail.yaml").exit_code == 1   # an error


def test_text_output_has_rule_severity_object_file_line():
    result = run("check", EXAMPLES / "privileged-or-host-namespaces" / "fail.yaml", "--only",
                 "privileged-or-host-namespaces")
    assert result.exit_code == 1
    line = result.stdout.splitlines()[0]
    assert "fail.yaml:1: error: [privileged-or-host-namespaces] DaemonSet/node-agent:" in line
    assert "FAILED" in result.stderr and "privileged-or-host-namespaces" in result.stderr


def test_unknown_only_id_exits_2_listing_known_ids():
    result = run("check", EXAMPLES / "bare-pod" / "fail.yaml", "--only", "no-such-rule")
    assert result.exit_code == 2
    assert "unknown rule id 'no-such-rule'" in result.stderr and "bare-pod" in result.stderr


def test_cel_syntax_error_in_rule_file_exits_2(tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text("id: broken\nexpression: \"object.metadata.name ==\"\n")
    result = run("check", EXAMPLES / "bare-pod" / "fail.yaml", "--rules", rules)
    assert result.exit_code == 2
    assert f"{rules}:2: error: expression: rule broken: CEL error at expression 1:" in result.stderr


def test_bad_manifest_exits_2_but_duplicates_do_not(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n: :\n")
    assert run("check", bad).exit_code == 2
    assert run("check", EXAMPLES / "duplicate-object" / "fail.yaml", "--only", "duplicate-object").exit_code == 1


def test_user_rules_evaluation_error_is_reported_not_crashed(tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text("id: strict\nseverity: info\nexpression: object.spec.nodeName != ''\nmatch: {kinds: [Pod]}\n")
    result = run("check", EXAMPLES / "bare-pod" / "fail.yaml", "--rules", rules, "--no-builtin", "-o", "json")
    assert result.exit_code == 1  # evaluation errors are error-severity findings
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["status"] == "error" and finding["rule"] == "strict"


def test_json_shape():
    result = run("check", EXAMPLES / "service-target-port-unresolved" / "fail.yaml", "-o", "json")
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["passed"] is False and data["threshold"] == "error"
    assert set(data["summary"]) == {"objects", "rules", "evaluations", "findings", "bySeverity", "byRule"}
    finding = next(f for f in data["findings"] if f["rule"] == "service-target-port-unresolved")
    assert finding["object"] == {"apiVersion": "v1", "kind": "Service", "namespace": "default", "name": "web"}
    assert finding["line"] == 20 and finding["severity"] == "error" and finding["status"] == "fail"
    assert data["summary"]["byRule"]["service-target-port-unresolved"]["fail"] == 1


def test_sarif_has_the_required_structure():
    result = run("check", EXAMPLES / "image-tag-latest-or-missing" / "fail.yaml", "-o", "sarif")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "kspec"
    ids = [r["id"] for r in driver["rules"]]
    assert "image-tag-latest-or-missing" in ids
    assert all(r["shortDescription"]["text"] and r["defaultConfiguration"]["level"] in ("error", "warning", "note")
               for r in driver["rules"])
    assert run_["results"]
    for res in run_["results"]:
        assert res["ruleId"] in ids and ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note") and res["message"]["text"]
        (loc,) = res["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"].endswith("fail.yaml")
        assert loc["physicalLocation"]["region"]["startLine"] >= 1


def test_junit_is_parseable_with_failures():
    result = run("check", EXAMPLES / "controllers-overlap" / "fail.yaml", "-o", "junit")
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    overlap = suites["controllers-overlap"]
    assert overlap.get("failures") == "2"
    failures = [c.find("failure") for c in overlap.iter("testcase")]
    assert all(f is not None and f.get("type") == "error" for f in failures)
    assert all(int(s.get("tests")) == len(list(s.iter("testcase"))) for s in suites.values())


def test_stdin(tmp_path):
    text = (EXAMPLES / "bare-pod" / "fail.yaml").read_text()
    result = CliRunner().invoke(group, ["check", "-", "--only", "bare-pod", "--severity-threshold", "warning"],
                                input=text)
    assert result.exit_code == 1 and "<stdin>:1: warning: [bare-pod] Pod/mysql" in result.stdout


# --- test-rules -------------------------------------------------------------------------------------

SUITE = """
apiVersion: kspec.dev/v1
kind: RuleTest
name: team rules
rules: [rules.yaml]
cases:
- name: too many replicas
  objects:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 9
      selector: {matchLabels: {app: web}}
      template: {metadata: {labels: {app: web}}, spec: {containers: [{name: a, image: "nginx:1.25"}]}}
  expect: {max-replicas: fail, svc-has-backend: skip}
- name: service with an inventory backend
  objects: [service.yaml]
  inventory:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p, labels: {app: web}}
    spec: {containers: [{name: a, image: "nginx:1.25"}]}
  expect: {svc-has-backend: pass, max-replicas: skip}
"""

RULES = """
rules:
- id: max-replicas
  match: {kinds: [Deployment]}
  expression: object.spec.replicas <= 5
- id: svc-has-backend
  match: {kinds: [Service]}
  expression: workloadsSelectedBy(ref).size() > 0
"""


def write_suite(tmp_path, suite=SUITE):
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n")
    (tmp_path / "team-test.yaml").write_text(suite)


def test_test_rules_passes(tmp_path):
    write_suite(tmp_path)
    result = run("test-rules", tmp_path, "-v")
    assert result.exit_code == 0, result.output
    assert "4 of 4 expectations hold" in result.stderr


def test_test_rules_reports_a_wrong_expectation(tmp_path):
    write_suite(tmp_path, SUITE.replace("svc-has-backend: pass", "svc-has-backend: fail"))
    result = run("test-rules", tmp_path)
    assert result.exit_code == 1
    assert "FAIL team rules / service with an inventory backend / svc-has-backend: expected fail, got pass" \
        in result.stdout
    junit = ET.fromstring(run("test-rules", tmp_path, "-o", "junit").stdout)
    assert junit.get("failures") == "1"


def test_test_rules_bad_file_exits_2(tmp_path):
    write_suite(tmp_path, SUITE.replace("max-replicas: fail", "max-replica: fail"))
    result = run("test-rules", tmp_path)
    assert result.exit_code == 2 and "unknown rule id 'max-replica'" in result.stderr


def test_test_rules_default_library(tmp_path):
    (tmp_path / "lib-test.yaml").write_text("""
kind: RuleTest
cases:
- name: latest
  objects: [{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, image: "nginx"}]}}]
  expect: {image-tag-latest-or-missing: fail, bare-pod: fail, service-selects-nothing: skip}
""")
    assert run("test-rules", tmp_path).exit_code == 0
