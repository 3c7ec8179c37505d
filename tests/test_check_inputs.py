"""What ``kspec check`` reads: files that are not manifests, --exclude, -f, -n, piped ``helm template`` output."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, strategies as st

from kspec.loading.inputs import helm_source, helm_sources
from kspec.loading.manifests import InputOptions, is_excluded, load_objects

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n"
RULE = ("--only", "service-selects-nothing")


def repository(root: Path) -> Path:
    """A repository with manifests beside a Helm chart, a Kustomize file and a CI workflow."""
    for folder in ("chart/templates", "deploy", ".github/workflows"):
        (root / folder).mkdir(parents=True)
    (root / "chart/Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (root / "chart/values.yaml").write_text("replicas: 2\n")
    (root / "chart/templates/svc.yaml").write_text(SERVICE % "{{ .Release.Name }}")
    (root / "chart/templates/broken.yaml").write_text("metadata:\n  name: {{ .Release.Name }}\n  labels:\n{{ x }}\n")
    (root / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
    (root / ".github/workflows/ci.yml").write_text("on: push\njobs: {}\n")
    (root / "deploy/web.yaml").write_text(SERVICE % "web")
    return root


def test_folder_scan_skips_what_is_not_a_manifest_with_a_warning(tmp_path, run_cli):
    root = repository(tmp_path)
    result = run_cli("check", root, *RULE, "-o", "json")
    assert result.exit_code == 0
    assert [f["file"] for f in json.loads(result.stdout)["findings"]] == [str(root / "deploy/web.yaml")]
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 5  # .github is a hidden folder: not scanned at all
    assert any("chart/templates/svc.yaml: warning: a Helm template" in w and "helm template CHART" in w
               for w in warnings)
    assert any("kustomization.yaml: warning:" in w and "kubectl kustomize" in w for w in warnings)
    assert not any("ci.yml" in w for w in warnings)


def test_scanned_yaml_that_names_no_kind_is_skipped(tmp_path, run_cli):
    (tmp_path / "app-config.yaml").write_text("server: {port: 8080}\n")
    (tmp_path / "list.json").write_text("[1, 2]\n")
    (tmp_path / "svc.yaml").write_text(SERVICE % "web")
    result = run_cli("check", tmp_path, *RULE)
    assert result.exit_code == 0
    assert "app-config.yaml: warning: not a Kubernetes object" in result.stderr
    assert "list.json: warning: not a Kubernetes object" in result.stderr


def test_a_named_file_that_is_not_a_manifest_is_an_error(tmp_path, run_cli):
    root = repository(tmp_path)
    result = run_cli("check", root / "chart/values.yaml")
    assert result.exit_code == 2 and "values.yaml: error: Helm values" in result.stderr


def test_a_scan_where_every_file_is_skipped_is_bad_input(tmp_path, run_cli):
    root = repository(tmp_path)
    result = run_cli("check", root / "chart")
    assert result.exit_code == 2 and "no Kubernetes manifests found: all 4 files were skipped" in result.stderr


def test_exclude_and_f_alias(tmp_path, run_cli):
    root = repository(tmp_path)
    (root / "deploy/other.yaml").write_text(SERVICE % "other")
    result = run_cli("check", "-f", root, "--exclude", "chart", "--exclude", ".github", "--exclude", "deploy/o*",
                     "--exclude", "kustomization.yaml", *RULE, "-o", "json")
    assert [f["object"]["name"] for f in json.loads(result.stdout)["findings"]] == ["web"]
    assert ": warning: " not in result.stderr


def test_no_path_at_all_is_a_usage_error(run_cli):
    result = run_cli("check")
    assert result.exit_code == 2 and "-f FILE" in result.stderr


def test_namespace_option_fills_objects_without_one(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SERVICE % "a" + "---\n" + (SERVICE % "b").replace("{name: b}", "{name: b, namespace: keep}")
                    + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")
    loaded = load_objects([path], options=InputOptions(namespace="team"))
    assert [(r.kind, r.metadata.name, r.metadata.namespace) for r in loaded.objects] == [
        ("Service", "a", "team"), ("Service", "b", "keep"), ("Namespace", "team", None)]


HELM_OUTPUT = """\
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: cart}
spec: {selector: {app: cart}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: unattributed}
spec: {selector: {app: none}, ports: [{port: 80}]}
---
# Source: shop/templates/more.yaml
apiVersion: v1
kind: Service
metadata: {name: search}
spec: {selector: {app: search}, ports: [{port: 80}]}
"""


def test_piped_helm_output_is_reported_at_its_templates(run_cli):
    result = run_cli("check", "-", *RULE, "-o", "json", input=HELM_OUTPUT)
    got = [(f["object"]["name"], f["file"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert sorted(got) == [("cart", "shop/templates/service.yaml", None),
                           ("search", "shop/templates/more.yaml", None),
                           ("unattributed", "<stdin>", 8)]


@given(st.lists(st.integers(1, 200), unique=True, min_size=1, max_size=10).map(sorted), st.integers(1, 250))
def test_helm_source_is_the_last_comment_between_objects(comment_lines, line):
    text = "\n".join(f"# Source: t{n}.yaml" if n in comment_lines else "x: 1" for n in range(1, 260))
    sources = helm_sources(text)
    assert sources[0] == comment_lines
    previous = 0
    got = helm_source(sources, line, previous)
    above = [n for n in comment_lines if n < line]
    assert got == (f"t{above[-1]}.yaml" if above else None)


parts = st.text(alphabet="abc.", min_size=1, max_size=4).filter(lambda p: p not in (".", ".."))


@given(st.lists(parts, min_size=1, max_size=5), st.data())
def test_exclude_globs_match_names_and_path_ends(path_parts, data):
    path = "/".join(path_parts)
    name = data.draw(st.sampled_from(path_parts))
    assert is_excluded(path, (name,))
    start = data.draw(st.integers(0, len(path_parts) - 1))
    assert is_excluded(path, ("/".join(path_parts[start:]) + "/",))
    assert not is_excluded(path, ("/".join(path_parts[start:]) + "x/y",))
    assert not is_excluded(path, ("zz",)) and not is_excluded(path, ())
