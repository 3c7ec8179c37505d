"""Agreement with the API server on published ValidatingAdmissionPolicy examples.

The policies are ``../shared/realworld/vap-examples/`` as published (the
Kubernetes documentation's ``content/en/examples/{access,validatingadmissionpolicy}``
and kyverno's ``test/cli/test-validating-admission-policy``); the objects and
the bindings the documentation describes in prose are written here. Each
expectation is what a kube-apiserver (1.33) decides on a CREATE, read from
``staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/validating``
(validator.go, dispatcher.go), ``.../policy/generic/policy_dispatcher.go``
(``CollectParams``) and ``pkg/apis/admissionregistration/validation``:
``deny``, ``warn``, ``admit`` for an object, ``rejected`` when the API
server refuses the policy or binding itself.

Run as a script (``python tests/test_vap_examples.py``) to print the
agreement figure; the test asserts every case agrees.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "realworld" / "vap-examples"
WEBSITE = "kubernetes/website/content/en/examples"
VAP_DIR = f"{WEBSITE}/validatingadmissionpolicy"
ACCESS = f"{WEBSITE}/access"
KYVERNO = "kyverno/kyverno/test/cli/test-validating-admission-policy"

NAMESPACES = """
apiVersion: v1
kind: Namespace
metadata: {name: test, labels: {environment: test}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {environment: prod}}
"""


def deployment(name: str, namespace: str, replicas: int, image: str = "nginx", labels: str = "{}") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: "{image}"}}]}}
"""


def pod(name: str, namespace: str, labels: str = "{}", privileged: bool = False) -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
spec: {{containers: [{{name: c, image: nginx, securityContext: {{privileged: {str(privileged).lower()}}}}}]}}
"""


def binding(name: str, policy: str, actions: str = "[Deny]", extra: str = "") -> str:
    return f"""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {policy}
  validationActions: {actions}
{textwrap.indent(textwrap.dedent(extra), '  ')}"""


def docs(*parts: str) -> str:
    return "\n---\n".join(textwrap.dedent(p).strip() for p in parts) + "\n"


def policy(name: str, resource: str, expression: str, *, group: str = "", versions: str = "[v1]",
           failure: str = "Fail", conditions: str = "", variables: str = "", audit: str = "",
           match_extra: str = "") -> str:
    """One ValidatingAdmissionPolicy on CREATE of ``resource``, with optional sections."""
    sections = ""
    for key, body in (("matchConditions", conditions), ("variables", variables), ("auditAnnotations", audit)):
        if body:
            sections += f"  {key}:\n" + textwrap.indent(textwrap.dedent(body).strip(), "  ") + "\n"
    extra = textwrap.indent(textwrap.dedent(match_extra).strip(), "    ") + "\n" if match_extra else ""
    return f"""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  failurePolicy: {failure}
  matchConstraints:
    resourceRules:
    - {{apiGroups: ["{group}"], apiVersions: {versions}, operations: [CREATE], resources: [{resource}]}}
{extra}{sections}  validations:
  - expression: "{expression}"
---
"""


def pod_with_cpu(name: str, cpu: str) -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec: {{containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: {cpu}}}}}}}]}}
"""


# (name, published rule files, extra rule text, manifests, expected decisions or "rejected")
CASES = [
    ("basic example: replicas <= 5 where environment=test",
     [f"{VAP_DIR}/basic-example-policy.yaml", f"{VAP_DIR}/basic-example-binding.yaml"], "",
     docs(NAMESPACES, deployment("big", "test", 6), deployment("small", "test", 3), deployment("big", "prod", 6)),
     {"Deployment/test/big": "deny", "Deployment/test/small": "admit", "Deployment/prod/big": "admit"}),
    ("params: the prod binding omits parameterNotFoundAction, which v1 requires",
     [f"{VAP_DIR}/policy-with-param.yaml", f"{VAP_DIR}/binding-with-param.yaml",
      f"{VAP_DIR}/binding-with-param-prod.yaml"], "",
     docs(NAMESPACES, deployment("big", "test", 6)), "rejected"),
    ("params: the test binding with its ReplicaLimit in default",
     [f"{VAP_DIR}/policy-with-param.yaml", f"{VAP_DIR}/binding-with-param.yaml"], "",
     docs(NAMESPACES, """
        apiVersion: rules.example.com/v1
        kind: ReplicaLimit
        metadata: {name: replica-limit-test.example.com, namespace: default}
        maxReplicas: 3
        """, deployment("big", "test", 6), deployment("small", "test", 2), deployment("big", "prod", 60)),
     {"Deployment/test/big": "deny", "Deployment/test/small": "admit", "Deployment/prod/big": "admit"}),
    ("params: parameterNotFoundAction Deny with no ReplicaLimit loaded",
     [f"{VAP_DIR}/policy-with-param.yaml", f"{VAP_DIR}/binding-with-param.yaml"], "",
     docs(NAMESPACES, deployment("small", "test", 1)), {"Deployment/test/small": "deny"}),
    ("unbound policy applies to nothing",
     [f"{VAP_DIR}/basic-example-policy.yaml"], "", docs(NAMESPACES, deployment("big", "test", 60)),
     {"Deployment/test/big": "admit"}),
    ("type checking: object.replicas is no field of a Deployment (failurePolicy Fail)",
     [f"{VAP_DIR}/typechecking.yaml"], binding("tc", "deploy-replica-policy.example.com"),
     docs(NAMESPACES, deployment("one", "test", 1), deployment("three", "test", 3)),
     {"Deployment/test/one": "deny", "Deployment/test/three": "deny"}),
    ("image matches namespace environment (v1beta1, variables, messageExpression)",
     [f"{ACCESS}/image-matches-namespace-environment.policy.yaml"],
     binding("img", "image-matches-namespace-environment.policy.example.com"),
     docs(NAMESPACES, deployment("wrong", "prod", 1, "test.example.com/nginx"),
          deployment("right", "prod", 1, "prod.example.com/nginx"),
          deployment("exempt", "prod", 1, "test.example.com/nginx", "{exempt: 'true'}"),
          deployment("elsewhere", "test", 1, "docker.io/nginx")),
     {"Deployment/prod/wrong": "deny", "Deployment/prod/right": "admit", "Deployment/prod/exempt": "admit",
      "Deployment/test/elsewhere": "admit"}),
    ("a v1 List of a policy and its binding; Pod policy judges a Deployment's pods",
     [f"{ACCESS}/manifest-admission-control/list-format-policy.yaml"], "",
     docs(NAMESPACES, pod("bare", "test"), pod("named", "test", "{app.kubernetes.io/name: x}"),
          pod("system", "kube-system"), deployment("unlabelled", "test", 1)),
     {"Pod/test/bare": "deny", "Pod/test/named": "admit", "Pod/kube-system/system": "admit",
      "Deployment/test/unlabelled": "deny"}),
    ("deny privileged except in kube-system",
     [f"{ACCESS}/manifest-admission-control/deny-privileged-policy.yaml"], "",
     docs(NAMESPACES, pod("root", "test", privileged=True), pod("plain", "test"),
          pod("root", "kube-system", privileged=True)),
     {"Pod/test/root": "deny", "Pod/test/plain": "admit", "Pod/kube-system/root": "admit"}),
    ("match conditions example does not compile (startWith)",
     [f"{ACCESS}/validating-admission-policy-match-conditions.yaml"], binding("mc", "demo-policy.example.com"),
     docs(NAMESPACES, pod("demo-a", "test")), "rejected"),
    ("audit annotation example, bound with Warn",
     [f"{ACCESS}/validating-admission-policy-audit-annotation.yaml"],
     binding("aa", "demo-policy.example.com", "[Warn, Audit]"),
     docs(NAMESPACES, deployment("few", "test", 3), deployment("many", "test", 60)),
     {"Deployment/test/few": "warn", "Deployment/test/many": "admit"}),
    ("kyverno with-params: the binding has no validationActions",
     [f"{KYVERNO}/with-params/policy.yaml"], "",
     docs(NAMESPACES, *(Path(EXAMPLES, KYVERNO, "with-params", f).read_text() if EXAMPLES.is_dir() else ""
                       for f in ("cm.yaml", "deployment1.yaml", "deployment2.yaml"))), "rejected"),
    ("kyverno with-match-conditions, bound with Deny",
     [f"{KYVERNO}/with-match-conditions/disallow-host-path.yaml"], binding("hp", "disallow-host-path"),
     (Path(EXAMPLES, KYVERNO, "with-match-conditions", "resources.yaml").read_text() if EXAMPLES.is_dir() else "")
     + "---\n" + textwrap.dedent(pod("unlabelled", "default")),
     {"Pod/skipped-pod": "admit", "Pod/bad-pod": "deny", "Pod/good-pod": "admit", "Pod/unlabelled": "deny"}),
] + [
    # Single behaviours, each one policy written here (ids: the upstream rule it follows).
    ("quantities reach CEL in canonical form (resource.Quantity.String: cpu 0.5 is '500m')", [],
     policy("canonical", "pods", "object.spec.containers.all(c, c.resources.requests.cpu == '500m')")
     + binding("b", "canonical"),
     docs(pod_with_cpu("half", "0.5"), pod_with_cpu("millis", "500m"), pod_with_cpu("one", "1")),
     {"Pod/half": "admit", "Pod/millis": "admit", "Pod/one": "deny"}),
    ("validationActions: Deny with Warn is invalid (ValidateValidatingAdmissionPolicyBinding)", [],
     policy("p", "pods", "false") + binding("b", "p", "[Deny, Warn]"), docs(pod("a", "default")), "rejected"),
    ("validationActions are required", [], policy("p", "pods", "false") + binding("b", "p", "[]"),
     docs(pod("a", "default")), "rejected"),
    ("matchConditions: a false condition wins over an erroring one (matchconditions.Matcher)", [],
     policy("p", "pods", "false", conditions="""
       - {name: errors, expression: "object.metadata.labels['missing'] == 'x'"}
       - {name: is-red, expression: "object.metadata.?labels[?'color'].orValue('') == 'red'"}
       """) + binding("b", "p"),
     docs(pod("blue", "default", "{color: blue}"), pod("red", "default", "{color: red}")),
     {"Pod/blue": "admit", "Pod/red": "deny"}),
    ("variables are lazy: an erroring variable no expression reads is harmless", [],
     policy("p", "pods", "true || variables.broken", variables="""
       - {name: broken, expression: "object.spec.nosuch.field"}
       """) + binding("b", "p"), docs(pod("a", "default")), {"Pod/a": "admit"}),
    ("math.* is not in the API server's CEL environment (environment/base.go)", [],
     policy("p", "pods", "math.greatest(1, 2) == 2") + binding("b", "p"), docs(pod("a", "default")), "rejected"),
    ("cel.bind is not in the API server's CEL environment", [],
     policy("p", "pods", "cel.bind(n, object.metadata.name, n != '')") + binding("b", "p"),
     docs(pod("a", "default")), "rejected"),
    ("Kubernetes list and regex libraries (lists.go indexOf, regex.go find)", [],
     policy("p", "pods", "object.spec.containers.map(c, c.name).indexOf('c') == 0 && "
                         "object.spec.containers[0].image.find('[a-z]+') == 'nginx'") + binding("b", "p"),
     docs(pod("a", "default")), {"Pod/a": "admit"}),
    ("failurePolicy Ignore admits on an evaluation error (validator.go policyDecisionActionForError)", [],
     policy("p", "pods", "object.spec.nosuch > 1", failure="Ignore") + binding("b", "p"),
     docs(pod("a", "default")), {"Pod/a": "admit"}),
    ("an erroring auditAnnotation denies under failurePolicy Fail, even bound with Audit only (dispatcher.go)", [],
     policy("p", "pods", "true", audit="""
       - {key: owner, valueExpression: "object.metadata.annotations['owner']"}
       """) + binding("b", "p", "[Audit]"),
     docs(pod("a", "default")), {"Pod/a": "deny"}),
    ("objectSelector and excludeResourceRules (matching.Matcher)", [],
     policy("p", "pods", "false", match_extra="""
       objectSelector: {matchLabels: {checked: "yes"}}
       """) + binding("b", "p"),
     docs(pod("checked", "default", "{checked: 'yes'}"), pod("unchecked", "default")),
     {"Pod/checked": "deny", "Pod/unchecked": "admit"}),
    ("matchPolicy Exact with apiVersions v1beta1 does not match apps/v1 (RuleMatcher)", [],
     policy("p", "deployments", "false", group="apps", versions="[v1beta1]", match_extra="matchPolicy: Exact")
     + binding("b", "p"),
     docs(deployment("d", "default", 1)), {"Deployment/d": "admit"}),
    ("matchPolicy Equivalent with apiVersions v1beta1 matches apps/v1", [],
     policy("p", "deployments", "false", group="apps", versions="[v1beta1]") + binding("b", "p"),
     docs(deployment("d", "default", 1)), {"Deployment/d": "deny"}),
    ("namespaceSelector on the automatic kubernetes.io/metadata.name label", [],
     policy("p", "pods", "false") + binding("b", "p", extra="""
       matchResources:
         namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-a}}
       """),
     docs(pod("a", "team-a"), pod("b", "team-b")), {"Pod/team-a/a": "deny", "Pod/team-b/b": "admit"}),
    ("request.userInfo: the requester's groups", [],
     policy("p", "pods", "!('system:masters' in request.userInfo.groups)") + binding("b", "p"),
     docs(pod("a", "default")), {"Pod/a": "admit"}),
    ("a Warn binding warns", [], policy("p", "pods", "false") + binding("b", "p", "[Warn]"),
     docs(pod("a", "default")), {"Pod/a": "warn"}),
]


def _ref(finding) -> str:
    return finding.object_ref


def decisions(rule_files: list[str], extra_rules: str, manifests: str, workdir: Path):
    """What kspec decides: ``"rejected"`` or ``{Kind/ns/name: deny|warn|admit}``."""
    from kspec.errors import KspecError
    from kspec.rules.engine import check_paths
    from kspec.rules.ruleset import load_rules

    paths = [str(EXAMPLES / f) for f in rule_files]
    if extra_rules:
        extra = workdir / "binding.yaml"
        extra.write_text(textwrap.dedent(extra_rules))
        paths.append(str(extra))
    objects = workdir / "objects.yaml"
    objects.write_text(manifests)
    try:
        rules = load_rules(paths)
        result, fatal = check_paths([str(objects)], rules)
    except KspecError:
        return "rejected"
    if fatal:
        raise AssertionError(f"manifests do not load: {[str(d) for d in fatal]}")
    found: dict[str, str] = {}
    rank = {"admit": 0, "warn": 1, "deny": 2}
    for finding in result.findings:
        decision = {"error": "deny", "warning": "warn"}.get(finding.severity, "admit")
        if rank[decision] > rank[found.get(_ref(finding), "admit")]:
            found[_ref(finding)] = decision
    return found


def agreement() -> tuple[int, int, list[str]]:
    """(agreeing decisions, all decisions, what disagreed)."""
    agreed = total = 0
    wrong = []
    for name, files, extra, manifests, expected in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            got = decisions(files, extra, manifests, Path(tmp))
        if expected == "rejected":
            total += 1
            agreed += got == expected
            if got != expected:
                wrong.append(f"{name}: expected rejected, kspec accepted")
            continue
        if got == "rejected":
            total += len(expected)
            wrong.append(f"{name}: kspec rejected the policy")
            continue
        for ref, decision in expected.items():
            total += 1
            mine = got.get(ref, "admit")
            agreed += mine == decision
            if mine != decision:
                wrong.append(f"{name}: {ref} expected {decision}, kspec {mine}")
    return agreed, total, wrong


def test_kspec_agrees_with_the_api_server_on_the_published_examples():
    import pytest

    if not EXAMPLES.is_dir():
        pytest.skip(f"the published policy examples are not at {EXAMPLES.name} beside the repository")
    agreed, total, wrong = agreement()
    assert wrong == [], f"{agreed}/{total} agree"


if __name__ == "__main__":
    agreed_, total_, wrong_ = agreement()
    print(f"{agreed_}/{total_} decisions agree with the API server ({100 * agreed_ / total_:.0f}%)")
    for line in wrong_:
        print("  " + line)
    sys.exit(0 if not wrong_ else 1)
