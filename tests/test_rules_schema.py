"""Strictness: unknown fields and kinds of the built-in API groups, removed and deprecated API versions.

Upstream: strict field validation (``fieldValidation=Strict``, the default
of ``kubectl apply``) rejects ``unknown field "spec.replica"``
(``k8s.io/apimachinery/pkg/runtime/serializer/json`` strict decoding); an
unserved group/version/kind is ``no matches for kind``
(``k8s.io/apimachinery/pkg/api/meta`` ``NoKindMatchError``); removals follow
the Kubernetes deprecation guide.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, strategies as st

from kspec.rules import schema

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replica: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        imagePullPolcy: Always
"""


def write(tmp_path, text, name="m.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def run_json(run_cli, *args):
    result = run_cli("check", *args, "-o", "json", "--only",
                     "unknown-field,unknown-kind,api-version-removed,api-version-deprecated")
    return result, json.loads(result.stdout)["findings"]


def test_unknown_fields_are_findings_at_their_own_lines(tmp_path, run_cli):
    path = write(tmp_path, DEPLOYMENT)
    result, findings = run_json(run_cli, path)
    assert result.exit_code == 1
    assert [(f["rule"], f["line"], f["message"]) for f in findings] == [
        ("unknown-field", 6, 'unknown field "spec.replica"'),
        ("unknown-field", 14, 'unknown field "spec.template.spec.containers[0].imagePullPolcy"'),
    ]


def test_misspelt_kind_of_a_builtin_group_is_a_finding_with_a_suggestion(tmp_path, run_cli):
    path = write(tmp_path, "apiVersion: apps/v1\nkind: Deplyoment\nmetadata: {name: web}\n")
    _, (finding,) = run_json(run_cli, path)
    assert finding["rule"] == "unknown-kind"
    assert 'did you mean "Deployment"' in finding["message"]


def test_custom_resources_are_not_checked(tmp_path, run_cli):
    path = write(tmp_path, "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\n"
                           "spec: {anything: 1}\n")
    result, findings = run_json(run_cli, path)
    assert result.exit_code == 0 and findings == []


def test_removed_version_of_a_modelled_kind_is_a_finding_not_a_load_error(tmp_path, run_cli):
    path = write(tmp_path, """\
        apiVersion: extensions/v1beta1
        kind: Deployment
        metadata: {name: old}
        spec:
          template:
            metadata: {labels: {app: old}}
            spec: {containers: [{name: c, image: nginx:1.25}]}
        """)
    result, (finding,) = run_json(run_cli, path)
    assert result.exit_code == 1
    assert finding["rule"] == "api-version-removed" and finding["line"] == 1
    assert "removed in Kubernetes v1.16" in finding["message"] and "apps/v1" in finding["message"]


def test_removed_version_depends_on_the_target_release(tmp_path, run_cli):
    path = write(tmp_path, """\
        apiVersion: batch/v1beta1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          schedule: "0 0 * * *"
          jobTemplate:
            spec:
              template:
                spec: {restartPolicy: Never, containers: [{name: c, image: busybox:1.36}]}
        """)
    _, (removed,) = run_json(run_cli, path)
    assert removed["rule"] == "api-version-removed" and "v1.25" in removed["message"]
    _, (at_removal,) = run_json(run_cli, path, "--kube-version", "1.25")
    assert at_removal["rule"] == "api-version-removed"
    assert schema.lifecycle_problem("batch/v1beta1", "CronJob", "1.24")[0] == schema.DEPRECATED
    assert schema.lifecycle_problem("batch/v1beta1", "CronJob", "1.20") is None


def test_removal_after_the_oldest_shipped_release_is_read_from_the_schemas(tmp_path, run_cli):
    """ValidatingAdmissionPolicy v1beta1 is in the v1.33 schemas and not in v1.34's."""
    path = write(tmp_path, """\
        apiVersion: admissionregistration.k8s.io/v1beta1
        kind: ValidatingAdmissionPolicy
        metadata: {name: p}
        spec:
          validations: [{expression: "true"}]
        """)
    assert schema.served_history("admissionregistration.k8s.io", "v1beta1", "ValidatingAdmissionPolicy")[-1] == (1, 33)
    _, findings = run_json(run_cli, path, "--only", "api-version-removed")
    assert [f["rule"] for f in findings] == ["api-version-removed"]
    assert "removed in Kubernetes v1.34" in findings[0]["message"]
    result, findings = run_json(run_cli, path, "--kube-version", "1.33")
    assert findings == []


def test_deprecated_still_served_version_is_a_warning(tmp_path, run_cli):
    path = write(tmp_path, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\n")
    result, (finding,) = run_json(run_cli, path)
    assert (finding["rule"], finding["severity"]) == ("api-version-deprecated", "warning")
    assert result.exit_code == 0


def test_field_introduced_in_a_later_release_is_unknown_to_an_older_target(tmp_path, run_cli):
    """Pod-level resources (spec.resources) exist in the v1.32 API, not in v1.31's."""
    path = write(tmp_path, """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          resources: {limits: {cpu: "1"}}
          containers: [{name: c, image: nginx:1.25}]
        """)
    assert run_json(run_cli, path, "--kube-version", "1.32")[1] == []
    (finding,) = run_json(run_cli, path, "--kube-version", "1.31")[1]
    assert finding["message"] == 'unknown field "spec.resources"' and finding["line"] == 5


def test_list_items_are_located_inside_the_list(tmp_path, run_cli):
    path = write(tmp_path, """\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Service
          metadata: {name: a}
          spec: {ports: [{port: 80, targetPort: 8080, nodeport: 1}]}
        """)
    (finding,) = run_json(run_cli, path)[1]
    assert finding["line"] == 7 and finding["message"] == 'unknown field "spec.ports[0].nodeport"'


def test_unsupported_target_release_is_bad_input(tmp_path, run_cli):
    result = run_cli("check", write(tmp_path, DEPLOYMENT), "--kube-version", "1.10")
    assert result.exit_code == 2 and "no schemas for Kubernetes 1.10" in result.stderr


def test_schemas_and_shapes_are_built_once():
    schemas = schema.schemas_for(None)
    assert schema.schemas_for(None) is schemas
    name = schemas.index["apps"]["v1"]["Deployment"]
    assert schemas.shape(name) is schemas.shape(name)


def test_defaulted_corpus_objects_have_no_unknown_fields(corpus):
    from kspec.loading.manifests import load_objects

    loaded = load_objects([corpus])
    problems = schema.check_records(loaded.objects, [schema.UNKNOWN_FIELD, schema.UNKNOWN_KIND])
    assert problems == []


_DEPLOYMENT_SPEC_FIELDS = set(
    schema.schemas_for(None).definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"])


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12)
       .filter(lambda k: k not in _DEPLOYMENT_SPEC_FIELDS))
def test_any_added_spec_field_is_reported_exactly(key):
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                "spec": {"replicas": 1, key: 1}}
    problems = schema.object_problems(schema.schemas_for(None), manifest)
    assert problems == [(schema.UNKNOWN_FIELD, f'unknown field "spec.{key}"', ("spec", key))]


@given(st.lists(st.one_of(st.integers(0, 9), st.text("abc", min_size=1, max_size=3)), min_size=1, max_size=5)
       .filter(lambda p: isinstance(p[0], str)))
def test_field_text_round_trips_through_the_loader_path_parser(path):
    from kspec.loading.manifests import parse_path

    assert parse_path(schema.field_text(tuple(path))) == tuple(path)


@pytest.mark.parametrize("text,expected", [("1.30", (1, 30)), ("v1.25.3", (1, 25))])
def test_version_key(text, expected):
    assert schema.version_key(text) == expected


OLD_IN_LIST = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: fine}
  spec: {ports: [{port: 80}]}
- apiVersion: apps/v1beta2
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: c, image: agent:1.0}]}
"""


def test_removed_version_inside_a_list_is_a_finding_at_the_item(tmp_path, run_cli):
    path = write(tmp_path, OLD_IN_LIST)
    _, (finding,) = run_json(run_cli, path)
    assert (finding["rule"], finding["object"]["name"], finding["line"]) == ("api-version-removed", "agent", 8)


def test_without_the_removed_version_rule_the_object_is_a_load_error(tmp_path, run_cli):
    result = run_cli("check", write(tmp_path, OLD_IN_LIST), "--skip", "api-version-removed")
    assert result.exit_code == 2 and 'no matches for kind "DaemonSet"' in result.stderr
