"""ValidatingAdmissionPolicy semantics, one behaviour per test, each citing the upstream code it follows.

Upstream paths are under ``staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/``
(``validating/validator.go``, ``validating/dispatcher.go``,
``generic/policy_dispatcher.go``, ``matching/matching.go``) and
``pkg/apis/admissionregistration/validation/validation.go``.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.errors import KspecError
from kspec.rules.engine import check_paths
from kspec.rules.rule import RuleFileError
from kspec.rules.ruleset import load_rules
from kspec.rules.vap import canonical, requester


def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip(), " " * spaces) if text.strip() else ""


def policy(expression: str = "false", *, resources: str = "[pods]", group: str = "", spec: str = "",
           validation: str = "", match: str = "", name: str = "p") -> str:
    """One ValidatingAdmissionPolicy on CREATE of ``resources``; ``spec``, ``match`` and
    ``validation`` are YAML added to the spec, the matchConstraints and the validation."""
    lines = [
        "apiVersion: admissionregistration.k8s.io/v1",
        "kind: ValidatingAdmissionPolicy",
        f"metadata: {{name: {name}}}",
        "spec:",
        "  matchConstraints:",
        "    resourceRules:",
        f'    - {{apiGroups: ["{group}"], apiVersions: ["*"], operations: [CREATE], resources: {resources}}}',
        _indent(match, 4),
        _indent(spec, 2),
        "  validations:",
        f"  - expression: {json.dumps(expression)}",
        _indent(validation, 4),
    ]
    return "\n".join(line for line in lines if line) + "\n"


def binding(actions: str = "[Deny]", extra: str = "", name: str = "b", policy_name: str = "p") -> str:
    return textwrap.dedent(f"""
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {{name: {name}}}
        spec:
          policyName: {policy_name}
          validationActions: {actions}
        """) + textwrap.indent(textwrap.dedent(extra).strip(), "  ") + "\n"


POD = """
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: %s}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: %s}}}]
"""


def pod(name: str = "a", namespace: str = "default", labels: str = "{}", cpu: str = "100m") -> str:
    return POD % (name, namespace, labels, cpu)


WORKLOADS = {
    "Deployment": ("apps/v1", "template"),
    "ReplicaSet": ("apps/v1", "template"),
    "StatefulSet": ("apps/v1", "template"),
    "DaemonSet": ("apps/v1", "template"),
    "Job": ("batch/v1", "template"),
    "ReplicationController": ("v1", "template"),
}


def workload(kind: str, name: str = "w", labels: str = "{app: w}") -> str:
    if kind == "CronJob":
        return textwrap.dedent(f"""
            apiVersion: batch/v1
            kind: CronJob
            metadata: {{name: {name}}}
            spec:
              schedule: "* * * * *"
              jobTemplate:
                spec:
                  template:
                    metadata: {{labels: {labels}}}
                    spec: {{restartPolicy: Never, containers: [{{name: c, image: nginx}}]}}
            """)
    api_version, _ = WORKLOADS[kind]
    selector = "" if kind in ("Job",) else "selector: {matchLabels: {app: w}}" if kind != "ReplicationController" \
        else "selector: {app: w}"
    extra = "serviceName: w" if kind == "StatefulSet" else ""
    restart = "restartPolicy: Never, " if kind == "Job" else ""
    return textwrap.dedent(f"""
        apiVersion: {api_version}
        kind: {kind}
        metadata: {{name: {name}}}
        spec:
          {selector}
          {extra}
          template:
            metadata: {{labels: {labels}}}
            spec: {{{restart}containers: [{{name: c, image: nginx}}]}}
        """)


def run(tmp_path, rules: str, objects: str, *, user: str | None = None, groups=()):
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(rules)
    manifests = tmp_path / "objects.yaml"
    manifests.write_text(objects)
    with requester(user, groups):
        result, fatal = check_paths([str(manifests)], load_rules([str(rule_file)]))
    assert not fatal, [str(d) for d in fatal]
    return result.findings


def rejected(tmp_path, rules: str) -> list[str]:
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(rules)
    with pytest.raises(RuleFileError) as err:
        load_rules([str(rule_file)])
    return [str(d) for d in err.value.diagnostics]


# --- bindings (generic/policy_source.go: a policy is dispatched only with its bindings) ---------------


def test_policy_without_binding_judges_nothing(tmp_path):
    assert run(tmp_path, policy(), pod()) == ()
    assert len(run(tmp_path, policy() + binding(), pod())) == 1


def test_each_binding_judges_on_its_own(tmp_path):
    rules = policy() + binding(name="one") + binding("[Warn]", name="two")
    assert sorted((f.rule_id, f.severity) for f in run(tmp_path, rules, pod())) == [
        ("one/p", "error"), ("two/p", "warning")]


@pytest.mark.parametrize("actions, message", [
    ("[]", "spec.validationActions: Required value"),
    ("[Deny, Warn]", "must not contain both Deny and Warn"),
    ("[Deny, Deny]", 'Duplicate value: "Deny"'),
    ("[Block]", 'Unsupported value: "Block"'),
])
def test_validation_actions_validated(tmp_path, actions, message):
    """validation.go ``validateValidationActions``."""
    (problem,) = rejected(tmp_path, policy() + binding(actions))
    assert message in problem and "rules.yaml:" in problem


def test_binding_naming_no_policy_is_an_error(tmp_path):
    (problem,) = rejected(tmp_path, policy() + binding(policy_name="missing"))
    assert "not among the rule files" in problem


# --- validationActions in the output (validating/dispatcher.go) ---------------------------------------


def test_deny_warn_audit_worded_as_the_api_server(tmp_path):
    rules = policy(validation="message: none") + binding("[Deny, Audit]", name="d") + binding("[Warn]", name="w") \
        + binding("[Audit]", name="a")
    by_rule = {f.rule_id: f for f in run(tmp_path, rules, pod())}
    assert by_rule["d/p"].severity == "error"
    assert by_rule["d/p"].message == "ValidatingAdmissionPolicy 'p' with binding 'd' denied request: none"
    assert by_rule["w/p"].severity == "warning"
    assert by_rule["w/p"].message == "Validation failed for ValidatingAdmissionPolicy 'p' with binding 'w': none"
    assert by_rule["a/p"].severity == "info" and by_rule["a/p"].message.startswith("(Audit) ")


# --- params (generic/policy_dispatcher.go CollectParams) ------------------------------------------------

PARAM_POLICY = policy("object.metadata.name != params.data.forbidden", spec="""
    paramKind: {apiVersion: v1, kind: ConfigMap}
    """)


def config_map(name: str, namespace: str, forbidden: str, labels: str = "{}") -> str:
    return f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
data: {{forbidden: {forbidden}}}
"""


def test_param_ref_by_name_in_the_objects_namespace(tmp_path):
    rules = PARAM_POLICY + binding(extra="paramRef: {name: limits, parameterNotFoundAction: Deny}")
    objects = "---".join([config_map("limits", "team-a", "x"), config_map("limits", "team-b", "y"),
                          pod("x", "team-a"), pod("y", "team-a"), pod("x", "team-c")])
    found = {(f.namespace, f.name): f.message for f in run(tmp_path, rules, objects)}
    assert set(found) == {("team-a", "x"), ("team-c", "x")}
    assert found[("team-c", "x")].endswith(
        "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction")


def test_param_ref_namespace_and_allow(tmp_path):
    rules = PARAM_POLICY + binding(extra="paramRef: {name: limits, namespace: shared, parameterNotFoundAction: Allow}")
    objects = "---".join([config_map("limits", "shared", "x"), pod("x", "team-a"), pod("y", "team-a")])
    assert [(f.namespace, f.name) for f in run(tmp_path, rules, objects)] == [("team-a", "x")]
    assert run(tmp_path, rules, pod("x", "team-a")) == ()  # Allow: no params, no denial


def test_param_ref_selector_judges_with_every_param(tmp_path):
    rules = PARAM_POLICY + binding(extra="""
        paramRef:
          selector: {matchLabels: {kind: names}}
          parameterNotFoundAction: Deny
        """)
    objects = "---".join([config_map("one", "default", "x", "{kind: names}"),
                          config_map("two", "default", "y", "{kind: names}"),
                          config_map("other", "default", "z"), pod("x"), pod("y"), pod("z")])
    assert sorted(f.name for f in run(tmp_path, rules, objects) if f.kind == "Pod") == ["x", "y"]


def test_configuration_errors_follow_the_failure_policy(tmp_path):
    """policy_dispatcher.go: a binding that cannot collect params is a configuration error, then failurePolicy."""
    ref = "paramRef: {name: limits, parameterNotFoundAction: Deny}"
    (finding,) = run(tmp_path, PARAM_POLICY + binding(extra=ref), pod())
    assert finding.status == "error" and "failed to configure binding" in finding.message
    ignoring = PARAM_POLICY.replace("paramKind:", "failurePolicy: Ignore\n  paramKind:")
    assert run(tmp_path, ignoring + binding(extra=ref), pod()) == ()


def test_namespaced_param_ref_on_a_cluster_scoped_object(tmp_path):
    rules = PARAM_POLICY.replace("resources: [pods]", "resources: [namespaces]") + binding(
        extra="paramRef: {name: limits, parameterNotFoundAction: Deny}")
    (finding,) = run(tmp_path, rules, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    assert "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources" in finding.message


@pytest.mark.parametrize("ref, message", [
    ("{name: a, selector: {}, parameterNotFoundAction: Deny}", "name and selector are mutually exclusive"),
    ("{parameterNotFoundAction: Deny}", "one of name or selector must be specified"),
    ("{name: a}", "spec.paramRef.parameterNotFoundAction: Required value"),
    ("{name: a, parameterNotFoundAction: Maybe}", 'Unsupported value: "Maybe"'),
])
def test_param_ref_validated(tmp_path, ref, message):
    """validation.go ``validateParamRef``."""
    problems = rejected(tmp_path, PARAM_POLICY + binding(extra=f"paramRef: {ref}"))
    assert any(message in p for p in problems), problems


def test_policy_needing_params_without_them_is_one_configuration_error(tmp_path):
    objects = "---".join(pod(f"p{i}") for i in range(5))
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(PARAM_POLICY + binding())
    with pytest.raises(RuleFileError) as err:
        load_rules([str(rule_file)])
    (problem,) = err.value.diagnostics
    assert "no paramRef" in str(problem) and problem.field == "spec.paramRef"
    ignoring = PARAM_POLICY.replace("paramKind:", "failurePolicy: Ignore\n  paramKind:")
    assert run(tmp_path, ignoring + binding(), objects) == ()  # Ignore: each null-params error is dropped


def test_params_is_declared_only_with_a_param_kind(tmp_path):
    """plugin.go ``compilePolicy``: HasParams is ``paramKind != nil``."""
    (problem,) = rejected(tmp_path, policy("params == null") + binding())
    assert "undeclared reference to 'params'" in problem


# --- matching (matching/matching.go) ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*WORKLOADS, "CronJob"])
def test_pod_policy_judges_every_workloads_pod_template(tmp_path, kind):
    """matchPolicy Equivalent, read by kspec as the pods a workload's controller creates."""
    rules = policy("has(object.metadata.labels) && 'team' in object.metadata.labels",
                   validation="message: pods need a team") + binding()
    text = workload(kind)
    (finding,) = run(tmp_path, rules, text)
    assert finding.kind == kind and "pods need a team" in finding.message and "(the pods of spec." in finding.message
    template = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "template:"]
    assert finding.line == template[-1]  # reported at the workload's pod template
    assert run(tmp_path, rules, workload(kind, labels="{app: w, team: a}")) == ()


def test_exact_match_policy_does_not_judge_templates(tmp_path):
    rules = policy(match="matchPolicy: Exact") + binding()
    assert run(tmp_path, rules, workload("Deployment")) == ()


def test_api_versions_and_scope(tmp_path):
    """RuleMatcher: apiVersions (Exact), scope Namespaced/Cluster."""
    exact_v2 = policy(resources="[pods]", match="matchPolicy: Exact").replace('apiVersions: ["*"]',
                                                                              "apiVersions: [v2]")
    assert run(tmp_path, exact_v2 + binding(), pod()) == ()
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n"
    cluster_only = policy(resources='["*"]').replace("resources: [\"*\"]}", "resources: [\"*\"], scope: Cluster}")
    found = run(tmp_path, cluster_only + binding(), namespace + "---" + pod())
    assert [f.kind for f in found] == ["Namespace"]


def test_exclude_resource_rules_and_object_selector(tmp_path):
    rules = policy(resources='["*"]', match="""
        excludeResourceRules:
        - {apiGroups: [""], apiVersions: ["*"], operations: ["*"], resources: [configmaps]}
        objectSelector: {matchExpressions: [{key: skip, operator: DoesNotExist}]}
        """) + binding()
    objects = "---".join([pod("judged"), pod("skipped", labels="{skip: 'yes'}"), config_map("c", "default", "x")])
    assert [f.name for f in run(tmp_path, rules, objects)] == ["judged"]


def test_namespace_selector_sees_a_namespaces_own_labels(tmp_path):
    rules = policy(resources='["*"]') + binding(extra="""
        matchResources:
          namespaceSelector: {matchLabels: {env: prod}}
        """)
    objects = "---".join(["apiVersion: v1\nkind: Namespace\nmetadata: {name: live, labels: {env: prod}}\n",
                          pod("in-prod", "live"), pod("elsewhere", "dev")])
    assert sorted(f.name for f in run(tmp_path, rules, objects)) == ["in-prod", "live"]


# --- matchConditions, variables, failurePolicy (validator.go, matchconditions/matcher.go) --------------


def test_erroring_match_condition_without_a_false_one_follows_failure_policy(tmp_path):
    spec = 'matchConditions: [{name: boom, expression: "object.metadata.labels.nosuch == 1"}]'
    (finding,) = run(tmp_path, policy("true", spec=spec) + binding(), pod())
    assert finding.status == "error" and "failed to evaluate match condition 'boom'" in finding.message
    assert run(tmp_path, policy("true", spec="failurePolicy: Ignore\n" + spec) + binding(), pod()) == ()


def test_a_variable_that_is_read_and_fails_names_the_variable(tmp_path):
    spec = 'variables: [{name: team, expression: "object.metadata.labels.team"}]'
    (finding,) = run(tmp_path, policy("variables.team == 'a'", spec=spec) + binding(), pod())
    assert finding.status == "error" and "variables.team:" in finding.message


# --- messages (validator.go, validation.go validateValidation) ----------------------------------------


@pytest.mark.parametrize("message_expression, shown", [
    ("'replicas: ' + string(1)", "replicas: 1"),
    ("'two\\nlines'", "fallback"),  # multi-line: denied, the message is used
    ("'   '", "fallback"),  # blank
    ("object.nosuch", "fallback"),  # an error
    ("'" + "x" * 6000 + "'", "fallback"),  # over 5 KiB
])
def test_message_expression_rules(tmp_path, message_expression, shown):
    validation = f"message: fallback\nmessageExpression: {message_expression!r}"
    (finding,) = run(tmp_path, policy(validation=validation) + binding(), pod())
    assert finding.message.endswith(f"denied request: {shown}")


def test_default_message_is_the_expression(tmp_path):
    (finding,) = run(tmp_path, policy("1 == 2") + binding(), pod())
    assert finding.message.endswith("denied request: failed expression: 1 == 2")


@pytest.mark.parametrize("validation, message", [
    ("message: 'two\\nlines'", "message must be a single line"),
    ("messageExpression: '1 + 1'", "must evaluate to string"),
    ("messageExpression: \"string(authorizer.path('/').check('get').allowed())\"", "undeclared reference"),
    ("reason: Teapot", 'Unsupported value: "Teapot"'),
])
def test_validation_fields_validated(tmp_path, validation, message):
    problems = rejected(tmp_path, policy(validation=validation.replace("'two\\nlines'", '"two\\nlines"'))
                        + binding())
    assert any(message in p for p in problems), problems


# --- audit annotations (validator.go, dispatcher.go AuditAnnotationActionError) -------------------------


def test_audit_annotation_errors_deny_whatever_the_actions(tmp_path):
    spec = """
        auditAnnotations:
        - {key: count, valueExpression: "1"}
        """
    (finding,) = run(tmp_path, policy("true", spec=spec) + binding("[Warn]"), pod())
    assert finding.severity == "error" and "Return type must be either string or null" in finding.message
    fine = spec.replace('"1"', "\"'a'\"")
    assert run(tmp_path, policy("true", spec=fine) + binding("[Warn]"), pod()) == ()


# --- the object and request as CEL sees them ------------------------------------------------------------


@given(st.decimals(min_value=0, max_value=64, places=3, allow_nan=False, allow_infinity=False))
def test_canonical_quantities_are_what_the_api_server_serialises(value):
    """resource.Quantity.String via kspec.api.quantity; canonical form is a fixed point."""
    from kspec.api.quantity import parse_quantity

    raw = {"kind": "Pod", "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": float(value)}}}]}}
    once = canonical(raw)
    assert once["spec"]["containers"][0]["resources"]["requests"]["cpu"] == str(parse_quantity(float(value)))
    assert canonical(once) == once


def test_half_a_cpu_is_500m(tmp_path):
    rules = policy("object.spec.containers[0].resources.requests.cpu == '500m'") + binding()
    assert run(tmp_path, rules, pod(cpu="0.5")) == ()


def test_request_user_and_groups(tmp_path):
    rules = policy("request.userInfo.username == 'alice' && 'dev' in request.userInfo.groups && "
                   "request.operation == 'CREATE' && request.resource.resource == 'pods'") + binding()
    assert len(run(tmp_path, rules, pod())) == 1
    assert run(tmp_path, rules, pod(), user="alice", groups=("dev",)) == ()


def test_cli_as_and_as_group(tmp_path, run_cli):
    (tmp_path / "rules.yaml").write_text(policy("request.userInfo.username == 'alice'") + binding())
    (tmp_path / "pod.yaml").write_text(pod())
    common = ("check", tmp_path / "pod.yaml", "--no-builtin", "--rules", tmp_path / "rules.yaml")
    assert run_cli(*common).exit_code == 1
    assert run_cli(*common, "--as", "alice", "--as-group", "dev").exit_code == 0


RBAC = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: default}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: default}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
"""


def test_authorizer_request_resource_is_the_requests_own(tmp_path):
    """library/authz.go ``authorizer.requestResource``: the resource of the request being admitted."""
    rules = policy("authorizer.requestResource.check('list').allowed()") + binding()
    assert run(tmp_path, rules, RBAC + pod(), user="alice") == ()


def test_authorizer_answers_from_loaded_rbac(tmp_path):
    """library/authz.go: ``authorizer.group(g).resource(r).namespace(n).check(verb).allowed()``."""
    rules = policy("authorizer.group('').resource('pods').namespace('default').check('list').allowed()") + binding()
    assert run(tmp_path, rules, RBAC + pod(), user="alice") == ()
    assert run(tmp_path, rules, RBAC + pod(), user="bob", groups=("system:masters",)) == ()
    (finding,) = run(tmp_path, rules, RBAC + pod(), user="bob")
    assert finding.status == "error" and "inconclusive" in finding.message


# --- the CEL environment (cel/environment/base.go, cel/library) ---------------------------------------


@pytest.mark.parametrize("expression", [
    "[1, 2, 3].indexOf(2) == 1 && [1, 2, 1].lastIndexOf(1) == 2",  # lists.go
    "[3, 1].max() == 3 && [1, 2].sum() == 3 && [1, 2].isSorted()",  # lists.go
    "'a1b22'.find('[0-9]+') == '1' && 'a1b22'.findAll('[0-9]+') == ['1', '22']",  # regex.go
    "url('https://k8s.io:443/a?x=1').getHostname() == 'k8s.io' && isURL('/p')",  # urls.go
    "ip('10.0.0.1').family() == 4 && ip('::1').isLoopback() && isIP('1.2.3.4')",  # ip.go
    "cidr('10.0.0.0/8').containsIP('10.2.3.4') && cidr('10.1.0.0/16').prefixLength() == 16",  # cidr.go
    "string(ip('2001:db8::0:1')) == '2001:db8::1' && string(cidr('10.1.2.3/8').masked()) == '10.0.0.0/8'",
    "quantity('1Gi').isGreaterThan(quantity('1000Mi')) && quantity('500m').asApproximateFloat() == 0.5",
    "semver('1.2.3').isLessThan(semver('1.10.0')) && semver('2.0.0-rc.1').major() == 2",  # semverlib.go
    "!isSemver('v1.2') && semver('v01.2', true).compareTo(semver('1.2.0')) == 0",  # semverlib.go normalize
    "sets.contains([1, 2], [2]) && sets.intersects([1], [1, 3]) && sets.equivalent([1, 2], [2, 1])",  # ext.Sets
    "'%s=%d'.format(['a', 1]) == 'a=1' && 'Ab'.lowerAscii() == 'ab'",  # ext.Strings v2
    "object.?metadata.?labels.?team.orValue('none') == 'none'",  # optional types
    "format.dns1123Label().validate('Not_A_Label').hasValue() && "
    "!format.named('labelValue').value().validate('ok').hasValue()",  # format.go
])
def test_kubernetes_libraries_are_there(tmp_path, expression):
    assert run(tmp_path, policy(expression) + binding(), pod()) == ()


@pytest.mark.parametrize("expression, why", [
    ("math.greatest(1, 2) == 2", "neither math.* nor cel.bind"),
    ("cel.bind(x, 1, x == 1)", "neither math.* nor cel.bind"),
    ("podsOf(object).size() > 0", "undeclared reference to 'podsOf'"),
    ("cluster.size() > 0", "undeclared reference to 'cluster'"),
])
def test_what_the_api_server_lacks_is_a_compile_error(tmp_path, expression, why):
    (problem,) = rejected(tmp_path, policy(expression) + binding())
    assert why in problem


def test_fixme_two_variable_comprehensions_do_not_compile(tmp_path):
    """The API server has ext.TwoVarComprehensions (1.32+); cel-expr-python does not: a known gap."""
    (problem,) = rejected(tmp_path, policy("object.metadata.labels.all(k, v, v != '')") + binding())
    assert "compilation failed" in problem


def test_compile_error_points_at_the_expressions_own_line(tmp_path):
    rules = textwrap.dedent("""
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: p}
        spec:
          matchConstraints:
            resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
          validations:
          - expression: >-
              object.metadata.name != '' &&
              object.metadata.name.startWith('x')
        """) + binding()
    (problem,) = rejected(tmp_path, rules)
    assert problem.startswith(f"{tmp_path / 'rules.yaml'}:11: error: spec.validations[0].expression:")
    assert "undeclared reference to 'startWith'" in problem


def test_policies_inside_a_v1_list_load(tmp_path):
    items = [policy(), binding().replace("---", "")]
    text = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "- " + textwrap.dedent(doc).strip().replace("\n", "\n  ") + "\n" for doc in items)
    assert len(run(tmp_path, text, pod())) == 1


def test_other_admission_kinds_are_refused(tmp_path):
    webhook = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n" \
              "metadata: {name: w}\n"
    (problem,) = rejected(tmp_path, webhook)
    assert "is not a rule" in problem


def test_unknown_admission_version_is_refused(tmp_path):
    (problem,) = rejected(tmp_path, policy().replace("admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v2"))
    assert "unknown apiVersion" in problem


def test_yaml_boolean_where_a_string_belongs_is_refused(tmp_path):
    """``message: no`` is a YAML 1.1 boolean: the API server cannot decode it into a string field."""
    (problem,) = rejected(tmp_path, policy(validation="message: no") + binding())
    assert "spec.validations[0].message: expected a string, got a boolean" in problem


def test_no_traceback_on_bad_shapes(tmp_path):
    text = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\n" \
           "spec: {matchConstraints: 3, validations: [7]}\n"
    with pytest.raises(KspecError):
        rule_file = tmp_path / "rules.yaml"
        rule_file.write_text(text)
        load_rules([str(rule_file)])


# --- properties of the library functions --------------------------------------------------------------


@given(st.lists(st.integers(-3, 3), max_size=6), st.lists(st.integers(-3, 3), max_size=6))
def test_sets_are_sets(a, b):
    """cel-go ext.Sets: contains is the subset relation, equivalent set equality, intersects a shared element."""
    from kspec.rules import functions as fn

    assert fn.sets_contains(a, b) == (set(b) <= set(a))
    assert fn.sets_equivalent(a, b) == (set(a) == set(b))
    assert fn.sets_intersects(a, b) == bool(set(a) & set(b))


versions = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20),
                     st.sampled_from(["", "-alpha", "-alpha.1", "-beta.2", "-rc.1", "-1"]))


@given(versions, versions)
def test_semver_order_is_semantic_versioning(a, b):
    """semverlib.go compareTo: numeric major.minor.patch, a pre-release sorts before its release."""
    from kspec.rules import functions as fn

    def text(v):
        return f"{v[0]}.{v[1]}.{v[2]}{v[3]}"

    def key(v):
        pre = v[3][1:].split(".") if v[3] else []
        return (v[0], v[1], v[2], not pre, [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre])

    got = fn.compare(fn.semver(text(a)), fn.semver(text(b)))
    assert got == (key(a) > key(b)) - (key(a) < key(b))
    assert fn.compare(fn.semver(text(b)), fn.semver(text(a))) == -got


@given(st.ip_addresses(v=4), st.integers(0, 32), st.ip_addresses(v=4))
def test_cidr_contains_ip_is_network_membership(base, length, probe):
    """cidr.go containsIP: the masked prefix contains the address."""
    import ipaddress

    from kspec.rules import functions as fn

    prefix = fn.cidr(f"{base}/{length}")
    network = ipaddress.ip_network(f"{base}/{length}", strict=False)
    assert fn.cidr_contains_ip(prefix, str(probe)) == (probe in network)
    assert fn.cidr_masked(prefix) == {fn.CIDR_KEY: str(network)}


def test_template_pods_carry_the_names_their_controllers_give(tmp_path):
    """ReplicaSet pods are ``<deployment>-<hash>-<suffix>`` (generateName: request.name is empty);
    StatefulSet pods are ``<name>-<ordinal>``."""
    rules = policy("object.metadata.name.startsWith('w-') && request.name == ''") + binding()
    assert run(tmp_path, rules, workload("Deployment")) == ()
    (finding,) = run(tmp_path, rules, workload("StatefulSet"))
    assert finding.kind == "StatefulSet"


@pytest.mark.parametrize("kind, owner, label", [
    ("Deployment", "ReplicaSet", "pod-template-hash"),
    ("StatefulSet", "StatefulSet", "statefulset.kubernetes.io/pod-name"),
    ("DaemonSet", "DaemonSet", "controller-revision-hash"),
    ("Job", "Job", "batch.kubernetes.io/job-name"),
    ("CronJob", "Job", "job-name"),
    ("ReplicationController", "ReplicationController", "app"),
])
def test_template_pods_carry_their_controllers_labels_and_owner(tmp_path, kind, owner, label):
    """A "no bare pods" policy passes the pods of a workload: they have a controller owner reference."""
    expression = (f"object.metadata.ownerReferences.exists(o, o.kind == '{owner}' && o.controller) && "
                  f"'{label}' in object.metadata.labels")
    assert run(tmp_path, policy(expression) + binding(), workload(kind)) == ()


def test_a_policy_on_every_resource_judges_the_workload_and_its_pods(tmp_path):
    rules = policy("has(object.metadata.labels) && 'team' in object.metadata.labels", resources='["*"]',
                   group="*") + binding()
    labelled_workload = workload("Deployment").replace("metadata: {name: w}", "metadata: {name: w, labels: {team: a}}")
    (finding,) = run(tmp_path, rules, labelled_workload)
    assert "(the pods of spec.template)" in finding.message


def test_a_list_in_a_rule_file_holds_only_admission_objects(tmp_path):
    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
    (problem,) = rejected(tmp_path, text)
    assert problem.endswith("items[0]: a List in a rule file holds ValidatingAdmissionPolicies and their bindings")
    assert ":4: error:" in problem


CLUSTER_RBAC = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer}
rules: [{apiGroups: [apps], resources: ["*"], verbs: ["*"]}, {nonResourceURLs: ["/healthz"], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-deploys}
subjects: [{kind: ServiceAccount, name: ci, namespace: tools}]
roleRef: {kind: ClusterRole, name: deployer, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-deploys, namespace: team}
subjects: [{kind: Group, name: team-a, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: deployer, apiGroup: rbac.authorization.k8s.io}
---
"""


@pytest.mark.parametrize("expression, user, groups, allowed", [
    ("authorizer.serviceAccount('tools', 'ci').group('apps').resource('deployments').check('patch').allowed()",
     "bob", (), True),  # a ClusterRoleBinding to a service account, asked through serviceAccount()
    ("authorizer.path('/healthz').check('get').allowed()", "system:serviceaccount:tools:ci", (), True),
    ("authorizer.group('apps').resource('deployments').namespace('team').check('create').allowed()",
     "carol", ("team-a",), True),  # a RoleBinding to a ClusterRole grants in its own namespace
    ("authorizer.group('apps').resource('deployments').namespace('other').check('create').allowed()",
     "carol", ("team-a",), False),  # ... and nowhere else
])
def test_authorizer_reads_cluster_roles_and_bindings(tmp_path, expression, user, groups, allowed):
    found = run(tmp_path, policy(expression) + binding(), CLUSTER_RBAC + pod(), user=user, groups=groups)
    assert (found == ()) == allowed
    assert allowed or "inconclusive" in found[0].message


@pytest.mark.parametrize("expression, line", [
    ("  - expression: \"object.metadata.name.startWith('x')\"", 9),  # quoted: the key's line
    ("  - expression: |\n      object.metadata.name != '' &&\n      object.metadata.name.startWith('x')", 11),
    ("  - expression: >\n      object.metadata.name != '' &&\n\n      object.metadata.name.startWith('x')", 12),
])
def test_compile_errors_point_into_every_scalar_style(tmp_path, expression, line):
    head = policy("true").rsplit("  validations:", 1)[0]
    rules = head + "  validations:\n" + expression + "\n" + binding()
    assert rules.splitlines()[line - 1].strip().startswith(("object.metadata.name.startWith", "- expression: \""))
    (problem,) = rejected(tmp_path, rules)
    assert f"rules.yaml:{line}: error: spec.validations[0].expression: compilation failed" in problem
