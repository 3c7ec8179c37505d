"""Rule files, the engine, ValidatingAdmissionPolicy translation and rules as predicates."""

from __future__ import annotations

import textwrap

import pytest

from kspec.loading.cluster import Cluster
from kspec.loading.manifests import parse_object
from kspec.rules.engine import check, check_cluster, rule_as_predicate
from kspec.rules.ruleset import RuleFileError, load_rules, read_rule_text
from kspec.rules.vap import kind_to_resource


def pod(name, labels=None, namespace="default", **spec):
    spec.setdefault("containers", [{"name": "c", "image": "nginx:1.25"}])
    return parse_object({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": namespace, "labels": labels or {}}, "spec": spec})


def rules_from(tmp_path, text, name="rules.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return load_rules([path])


# --- rule files --------------------------------------------------------------------------------

def test_cel_syntax_error_names_file_line_and_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n- id: broken\n  severity: error\n  expression: object.spec.replicas >\n")
    with pytest.raises(RuleFileError) as err:
        load_rules([path])
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.file == str(path) and diagnostic.line == 4
    assert "expression 1:23" in diagnostic.message and "rule broken" in diagnostic.message


def test_block_scalar_error_line_is_inside_the_block(tmp_path):
    _, _, problems = read_rule_text("id: r\nexpression: |\n  true &&\n  object.(x)\n", "f.yaml")
    assert problems[0].line == 4


def test_unknown_fields_and_bad_values_are_reported_together():
    _, _, problems = read_rule_text(textwrap.dedent("""
        id: r
        severity: fatal
        expresion: "true"
        temporal: sometimes
        """), "f.yaml")
    messages = " | ".join(p.message for p in problems)
    assert "unknown field 'expresion'" in messages
    assert "severity must be one of" in messages
    assert "temporal must be one of" in messages


def test_expression_must_be_boolean():
    _, _, problems = read_rule_text("id: r\nexpression: \"'text'\"\n", "f.yaml")
    assert "must evaluate to bool, not string" in problems[0].message


def test_duplicate_rule_ids_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text("id: same\nexpression: 'true'\n")
    (tmp_path / "b.yaml").write_text("id: same\nexpression: 'true'\n")
    with pytest.raises(RuleFileError, match="duplicate rule id 'same'"):
        load_rules([tmp_path])


def test_select_unknown_id_lists_known_ids(tmp_path):
    rules = rules_from(tmp_path, "rules:\n- {id: a, expression: 'true'}\n- {id: b, expression: 'true'}\n")
    with pytest.raises(RuleFileError, match="known ids: a, b"):
        rules.select(["c"])


# --- evaluation ---------------------------------------------------------------------------------

def test_evaluation_error_is_an_error_finding_and_other_rules_still_run(tmp_path):
    rules = rules_from(tmp_path, """
        rules:
        - id: needs-field
          severity: warning
          match: {kinds: [Pod]}
          expression: object.spec.nodeName == 'n1'
        - id: always-false
          severity: info
          match: {kinds: [Pod]}
          expression: "false"
          message: nope
        """)
    result = check([pod("a"), pod("b", nodeName="n1")], rules)
    by = {(f.rule_id, f.name): f for f in result.findings}
    assert by[("needs-field", "a")].status == "error" and by[("needs-field", "a")].severity == "error"
    assert "Key not found" in by[("needs-field", "a")].message
    assert ("needs-field", "b") not in by
    assert by[("always-false", "a")].status == "fail" and by[("always-false", "b")].message == "nope"


def test_match_kinds_namespaces_and_labels(tmp_path):
    rules = rules_from(tmp_path, """
        id: r
        match: {kinds: [Pod], namespaces: [prod], labelSelector: {matchLabels: {tier: web}}}
        expression: "false"
        """)
    objects = [pod("a", {"tier": "web"}, "prod"), pod("b", {"tier": "db"}, "prod"), pod("c", {"tier": "web"})]
    assert [f.name for f in check(objects, rules).findings] == ["a"]


def test_cluster_variable_groups_objects_by_kind(tmp_path):
    rules = rules_from(tmp_path, """
        id: unique-app-label
        match: {kinds: [Pod]}
        expression: cluster.Pod.filter(p, p.metadata.labels.app == object.metadata.labels.app).size() == 1
        messageExpression: "'app label shared with ' + string(cluster.Pod.size() - 1) + ' other pods'"
        """)
    result = check([pod("a", {"app": "x"}), pod("b", {"app": "x"}), pod("c", {"app": "y"})], rules)
    assert sorted(f.name for f in result.findings) == ["a", "b"]


def test_message_expression_falls_back_to_message_on_error(tmp_path):
    rules = rules_from(tmp_path, """
        id: r
        expression: "false"
        messageExpression: object.nope
        """)
    (finding,) = check([pod("a")], rules).findings
    assert finding.message == "failed expression: false"


def test_rule_as_predicate_on_clusters(tmp_path):
    rules = rules_from(tmp_path, """
        id: no-bare-pods
        temporal: eventually_always
        match: {kinds: [Pod]}
        expression: object.metadata.?ownerReferences.orValue([]).size() > 0
        """)
    holds = rule_as_predicate(rules.rules[0])
    assert holds(Cluster.from_objects([])) is True
    assert holds(Cluster.from_objects([pod("a")])) is False
    assert rules.rules[0].temporal == "eventually_always"
    assert check_cluster(Cluster.from_objects([pod("a")]), rules).findings[0].rule_id == "no-bare-pods"


# --- ValidatingAdmissionPolicy ---------------------------------------------------------------------

VAP = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit.example.com}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  variables:
  - name: replicas
    expression: object.spec.replicas
  validations:
  - expression: variables.replicas <= int(params.data.maxReplicas)
    messageExpression: "'replicas ' + string(variables.replicas) + ' exceed ' + params.data.maxReplicas"
  - expression: "'team' in object.metadata.?labels.orValue({})"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-binding}
spec:
  policyName: replica-limit.example.com
  validationActions: [Warn]
  paramRef: {name: limits, namespace: default, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}
"""


def deployment(name, replicas, namespace="default", labels=None):
    return parse_object({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}})


def test_validating_admission_policy_runs_offline(tmp_path):
    rules = rules_from(tmp_path, VAP)
    assert rules.ids == ("replica-limit.example.com/0", "replica-limit.example.com/1")
    assert {r.severity for r in rules} == {"warning"}
    limits = parse_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits"},
                           "data": {"maxReplicas": "3"}})
    objects = [deployment("ok", 2, labels={"team": "a"}), deployment("big", 5, labels={"team": "a"}),
               deployment("other-ns", 9, namespace="prod"), pod("not-matched"), limits]
    findings = check(objects, rules).findings
    assert [(f.rule_id, f.name, f.message) for f in findings] == [
        ("replica-limit.example.com/0", "big", "Validation failed for ValidatingAdmissionPolicy "
         "'replica-limit.example.com' with binding 'replica-limit-binding': replicas 5 exceed 3")]


def test_missing_params_is_an_error_finding(tmp_path):
    rules = rules_from(tmp_path, VAP)
    (finding, *_) = check([deployment("big", 5, labels={"team": "a"})], rules).findings
    assert finding.status == "error" and "no params found" in finding.message


NO_HOST_NETWORK = """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: no-host-network}
        spec:
          failurePolicy: Ignore
          matchConstraints:
            resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: ["*"], resources: [pods]}]
          validations:
          - expression: "!object.spec.hostNetwork"
            message: hostNetwork is forbidden
        """


def test_unbound_policy_judges_nothing_as_the_admission_plugin_does(tmp_path):
    """validating/plugin: a policy is evaluated only through a binding that names it."""
    rules = rules_from(tmp_path, NO_HOST_NETWORK)
    assert len(rules) == 0
    assert [w.code for w in rules.warnings] == ["policy-unbound"]


def test_bound_policy_denies_and_ignore_drops_errors(tmp_path):
    rules = rules_from(tmp_path, NO_HOST_NETWORK + """
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: no-host-network-binding}
        spec: {policyName: no-host-network, validationActions: [Deny]}
        """)
    (rule,) = rules
    assert rule.severity == "error" and rule.ignore_errors
    findings = check([pod("a", hostNetwork=True), pod("b")], rules).findings
    assert [(f.name, f.message) for f in findings] == [
        ("a", "ValidatingAdmissionPolicy 'no-host-network' with binding 'no-host-network-binding' denied request: "
              "hostNetwork is forbidden")]


def test_policy_only_for_update_never_applies_offline(tmp_path):
    rules = rules_from(tmp_path, """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: on-update}
        spec:
          matchConstraints:
            resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [UPDATE], resources: [pods]}]
          validations: [{expression: "false"}]
        """)
    assert check([pod("a")], rules).findings == ()


def test_binding_to_unknown_policy_is_an_error(tmp_path):
    with pytest.raises(RuleFileError, match="not among the rule files"):
        rules_from(tmp_path, VAP.split("---")[1])


@pytest.mark.parametrize("kind, resource", [
    # meta.UnsafeGuessKindToResource (k8s.io/apimachinery/pkg/api/meta/restmapper.go)
    ("Pod", "pods"), ("Ingress", "ingresses"), ("NetworkPolicy", "networkpolicies"),
    ("Endpoints", "endpoints"), ("Deployment", "deployments"), ("", ""),
])
def test_kind_to_resource(kind, resource):
    assert kind_to_resource(kind) == resource
