"""The built-in library: every rule has a rationale, a passing and a failing example, and they behave.

Also runs the library over the real corpus (``../shared/corpus`` beside the
repository, or ``KSPEC_CORPUS``; the ``corpus`` fixture skips saying where it
looked), which has duplicate objects across folders (guestbook, guestbook-go, legacy).
"""

from __future__ import annotations

import pytest

from kspec.rules.engine import check_paths
from kspec.rules.ruleset import CHECKS_DIR, builtin_rules

RULES = builtin_rules()
EXAMPLES = CHECKS_DIR / "examples"
REQUIRED = {
    "service-selects-nothing", "service-target-port-unresolved", "controllers-overlap", "duplicate-object",
    "env-references-missing-service", "workload-without-service-or-pdb", "rc-selector-matches-template",
    "requests-missing", "limits-missing", "image-tag-latest-or-missing", "probes-missing",
    "privileged-or-host-namespaces", "single-replica-behind-service", "bare-pod", "hostport-with-replicas",
}


def test_library_has_the_issue_rules():
    assert REQUIRED <= set(RULES.ids)


@pytest.mark.parametrize("rule_id", RULES.ids)
def test_rule_is_documented(rule_id):
    rule = RULES.get(rule_id)
    assert rule.title and rule.title != rule.id
    assert len(rule.rationale) > 80
    assert rule.message or rule.message_expression
    assert (EXAMPLES / rule_id / "pass.yaml").is_file()
    assert (EXAMPLES / rule_id / "fail.yaml").is_file()


@pytest.mark.parametrize("rule_id", RULES.ids)
def test_pass_example_passes(rule_id):
    result, fatal = check_paths([str(EXAMPLES / rule_id / "pass.yaml")], RULES.select([rule_id]))
    assert fatal == ()
    assert result.evaluations > 0, "the pass example must exercise the rule"
    assert [f for f in result.findings if f.rule_id == rule_id] == []


@pytest.mark.parametrize("rule_id", RULES.ids)
def test_fail_example_fails(rule_id):
    result, fatal = check_paths([str(EXAMPLES / rule_id / "fail.yaml")], RULES.select([rule_id]))
    assert fatal == ()
    findings = [f for f in result.findings if f.rule_id == rule_id]
    assert findings and all(f.status == "fail" for f in findings)
    assert all(f.file.endswith("fail.yaml") and f.line for f in findings)
    assert all(f.message and "failed expression" not in f.message for f in findings)


def test_examples_pass_the_whole_library_where_they_should():
    # the shared "good" deployment passes every per-object rule
    result, _ = check_paths([str(EXAMPLES / "requests-missing" / "pass.yaml")], RULES)
    per_object = {"requests-missing", "limits-missing", "image-tag-latest-or-missing", "probes-missing",
                  "privileged-or-host-namespaces", "hostport-with-replicas", "rc-selector-matches-template"}
    assert not [f for f in result.findings if f.rule_id in per_object]


def test_controllers_overlap_reports_a_witness_both_selectors_match():
    from kspec.api.labels import selector_from_dict

    result, _ = check_paths([str(EXAMPLES / "controllers-overlap" / "fail.yaml")], RULES.select(["controllers-overlap"]))
    message = result.findings[0].message
    witness = dict(kv.split("=") for kv in message.split("{")[1].split("}")[0].split(","))
    canary = {"matchLabels": {"app": "shop"},
              "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["stable"]}]}
    frontend = {"matchLabels": {"app": "shop", "tier": "frontend"}}
    assert selector_from_dict(canary).matches(witness) and selector_from_dict(frontend).matches(witness)


def test_controllers_do_not_overlap_when_a_key_is_pinned_differently(tmp_path):
    (tmp_path / "a.yaml").write_text("""
apiVersion: v1
kind: ReplicationController
metadata: {name: a}
spec:
  selector: {app: x, tier: web}
  template: {metadata: {labels: {app: x, tier: web}}, spec: {containers: [{name: c, image: "i:1"}]}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: b}
spec:
  selector: {matchExpressions: [{key: tier, operator: In, values: [api, db]}]}
  template: {metadata: {labels: {tier: api}}, spec: {containers: [{name: c, image: "i:1"}]}}
""")
    result, _ = check_paths([str(tmp_path)], RULES.select(["controllers-overlap"]))
    assert result.findings == ()


def test_corpus_duplicates_are_findings_not_load_errors(corpus):
    result, fatal = check_paths([str(corpus)], RULES)
    assert fatal == ()
    duplicates = [f for f in result.findings if f.rule_id == "duplicate-object"]
    files = {f.file for f in duplicates}
    assert any("guestbook/legacy" in f for f in files)
    assert any("guestbook/all-in-one" in f for f in files)
    assert all("also defined at" in f.message for f in duplicates)
    # the first definition of each identity is not reported
    assert not any(f.file.endswith("guestbook-go/redis-master-service.yaml") for f in duplicates)
    assert not [f for f in result.findings if f.status == "error"]
