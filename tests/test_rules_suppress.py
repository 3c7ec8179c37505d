"""Suppressions on objects: ``kspec.dev/ignore`` and the annotations of kube-linter, checkov, kube-score, Polaris.

Each tool's spelling is read as its own code reads it: kube-linter
``pkg/ignore/ignore.go`` (``ObjectForCheck``), checkov
``checkov/kubernetes/kubernetes_utils.py`` (``get_skipped_checks``),
kube-score ``scorecard/enabled.go`` (``isEnabled``, ``isSkipped``), Polaris
``pkg/validator`` (``getExemptKey``, ``exemptionAnnotationKey``).
"""

from __future__ import annotations

import json
import textwrap

from hypothesis import given, strategies as st

from kspec.rules.rule import Rule
from kspec.rules.suppress import applicable_checks, object_suppressions, parse_kspec_ignore, tool_ignores

LIMITS = Rule("limits-missing", "true", equivalents=(
    ("kube-linter", ("unset-cpu-requirements", "unset-memory-requirements")),
    ("checkov", ("CKV_K8S_11", "CKV_K8S_13")),
    ("kube-score", ("container-resources",)),
    ("polaris", ("cpuLimitsMissing", "memoryLimitsMissing"))))
PDB = Rule("workload-without-service-or-pdb", "true", equivalents=(
    ("kube-score", ("deployment-has-poddisruptionbudget", "statefulset-has-poddisruptionbudget")),))
OTHER = Rule("bare-pod", "true")


def deployment(annotations=None, template_annotations=None, kind="Deployment"):
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": "web", "annotations": annotations or {}},
            "spec": {"template": {"metadata": {"annotations": template_annotations or {}}}}}


def suppressed(manifest, rules=(LIMITS, PDB, OTHER)):
    return object_suppressions(manifest, rules)


def test_kspec_annotation_with_reason_suppresses_named_rules():
    chosen, problems = suppressed(deployment({"kspec.dev/ignore": "limits-missing, bare-pod: batch job"}))
    assert problems == []
    assert {r: (s.annotation, s.reason) for r, s in chosen.items()} == {
        "limits-missing": ("kspec.dev/ignore", "batch job"), "bare-pod": ("kspec.dev/ignore", "batch job")}


def test_kspec_annotation_without_reason_is_not_applied_and_says_so():
    chosen, problems = suppressed(deployment({"kspec.dev/ignore": "limits-missing"}))
    assert chosen == {} and "no reason" in problems[0]


def test_kspec_annotation_naming_an_unknown_rule_is_reported():
    chosen, problems = suppressed(deployment({"kspec.dev/ignore": "limit-missing: typo"}))
    assert "unknown rule(s) limit-missing" in problems[0]


def test_checkov_skip_needs_every_equivalent_check():
    """get_skipped_checks: keys containing checkov.io/skip, value ID[=comment]."""
    only_cpu = deployment({"checkov.io/skip1": "CKV_K8S_11=CPU is shared on purpose"})
    assert suppressed(only_cpu)[0] == {}
    both = deployment({"checkov.io/skip1": "CKV_K8S_11=no limits", "checkov.io/skip2": "CKV_K8S_13"})
    (suppression,) = suppressed(both)[0].values()
    assert (suppression.rule_id, suppression.annotation, suppression.reason) == ("limits-missing", "checkov", "no limits")


def test_checkov_skip_value_without_a_k8s_check_is_ignored_as_checkov_ignores_it():
    assert tool_ignores(deployment({"checkov.io/skip1": "CUSTOM_1"}))["checkov"] == {}


def test_kube_linter_per_check_and_ignore_all():
    """ObjectForCheck: ignore-check.kube-linter.io/<check>, or kube-linter.io/ignore-all."""
    per_check = deployment({"ignore-check.kube-linter.io/unset-cpu-requirements": "r1",
                            "ignore-check.kube-linter.io/unset-memory-requirements": "r2"})
    assert suppressed(per_check)[0]["limits-missing"].reason == "r1; r2"
    everything = suppressed(deployment({"kube-linter.io/ignore-all": "generated"}))[0]
    assert set(everything) == {"limits-missing"}  # only rules with a kube-linter equivalent


def test_kube_score_ignore_list_on_object_or_pod_template():
    """isEnabled: comma-separated ids, spaces trimmed, '*' for all, template annotations too."""
    assert "limits-missing" in suppressed(deployment({"kube-score/ignore": "pod-probes, container-resources"}))[0]
    assert "limits-missing" in suppressed(deployment(template_annotations={"kube-score/ignore": "*"}))[0]
    assert "limits-missing" in suppressed(deployment({"kube-score/skip": "true"}))[0]
    assert suppressed(deployment({"kube-score/skip": "yes"}))[0] == {}


def test_kube_score_check_named_for_another_kind_does_not_apply():
    ignore = {"kube-score/ignore": "deployment-has-poddisruptionbudget"}
    assert "workload-without-service-or-pdb" in suppressed(deployment(ignore))[0]
    assert "workload-without-service-or-pdb" not in suppressed(deployment(ignore, kind="StatefulSet"))[0]


def test_polaris_exempt_true_in_any_case():
    """applyPodSchemaChecks: strings.ToLower(value) == "true"."""
    exempt = deployment({"polaris.fairwinds.com/cpuLimitsMissing-exempt": "TRUE",
                         "polaris.fairwinds.com/memoryLimitsMissing-exempt": "true"})
    assert suppressed(exempt)[0]["limits-missing"].annotation == "polaris"
    not_exempt = deployment({"polaris.fairwinds.com/cpuLimitsMissing-exempt": "true",
                             "polaris.fairwinds.com/memoryLimitsMissing-exempt": "false"})
    assert suppressed(not_exempt)[0] == {}
    assert "limits-missing" in suppressed(deployment({"polaris.fairwinds.com/exempt": "true"}))[0]


def test_kspec_annotation_wins_over_other_tools():
    both = deployment({"kspec.dev/ignore": "limits-missing: ours", "kube-score/ignore": "container-resources"})
    assert suppressed(both)[0]["limits-missing"].annotation == "kspec.dev/ignore"


@given(st.lists(st.sampled_from(["limits-missing", "bare-pod", "x.y/z"]), min_size=1, max_size=3),
       st.text(alphabet="abc def,", max_size=20).map(str.strip))
def test_parse_kspec_ignore_round_trips(ids, reason):
    text = ", ".join(ids) + (f": {reason}" if reason else "")
    assert parse_kspec_ignore(text) == (tuple(ids), reason)


@given(st.lists(st.sampled_from(["pod-probes", "container-resources", "deployment-x", "statefulset-y",
                                 "service-targets-pod"]), max_size=5),
       st.sampled_from(["Deployment", "StatefulSet", "Service", "Pod"]))
def test_applicable_checks_keep_generic_checks_and_those_of_the_kind(checks, kind):
    kept = applicable_checks(checks, kind)
    for check in checks:
        prefix = check.split("-")[0]
        generic = prefix not in ("deployment", "statefulset", "service")
        assert (check in kept) == (generic or prefix == kind.lower())


def test_cli_suppressed_findings_are_counted_on_stderr(tmp_path, run_cli):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          annotations:
            kspec.dev/ignore: "limits-missing, requests-missing: measured, BestEffort on purpose"
            kube-linter.io/ignore-all: "demo pod"
        spec:
          containers: [{name: c, image: nginx:1.25}]
        """))
    result = run_cli("check", manifest, "--only", "limits-missing,requests-missing,probes-missing", "-o", "json")
    assert json.loads(result.stdout)["findings"] == []
    assert "not reported: 3 findings (2 by kspec.dev/ignore, 1 by kube-linter)" in result.stderr


def test_cli_annotation_without_reason_warns_and_reports(tmp_path, run_cli):
    manifest = tmp_path / "web.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                        "    kspec.dev/ignore: limits-missing\nspec:\n  containers: [{name: c, image: nginx:1.25}]\n")
    result = run_cli("check", manifest, "--only", "limits-missing")
    assert "[limits-missing]" in result.stdout
    assert f"{manifest}:1: warning: metadata.annotations: kspec.dev/ignore has no reason" in result.stderr


def test_json_output_lists_suppressed_findings_with_their_reason(tmp_path, run_cli):
    manifest = tmp_path / "web.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
                        "    checkov.io/skip1: CKV_K8S_11=shared CPU\n    checkov.io/skip2: CKV_K8S_13=ok\n"
                        "spec:\n  containers: [{name: c, image: nginx:1.25}]\n")
    document = json.loads(run_cli("check", manifest, "--only", "limits-missing", "-o", "json").stdout)
    assert document["findings"] == []
    (entry,) = document["suppressed"]
    assert (entry["rule"], entry["suppressedBy"], entry["reason"]) == ("limits-missing", "checkov", "shared CPU; ok")
