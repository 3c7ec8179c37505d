"""Bad input: one clear line naming file, line and field; exit 2; never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

CASES = {
    # name: (file content, expected line, expected text in the message)
    "not-yaml": ("a: [1, 2\nb: }\n", 2, "invalid YAML: did not find expected ',' or ']'"),
    "empty-file": ("", None, "no Kubernetes objects in this file (it is empty)"),
    "scalar-document": ("just a string\n", 1, "expected a Kubernetes object (a mapping), got a string"),
    "unknown-apiversion-for-known-kind": (
        "apiVersion: apps/v1\nkind: ReplicationController\nmetadata:\n  name: x\n",
        1,
        'apiVersion: no matches for kind "ReplicationController" in version "apps/v1"',
    ),
    "removed-deployment-version": (
        "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: x\n",
        1,
        'apiVersion: no matches for kind "Deployment" in version "extensions/v1beta1"',
    ),
    "missing-name": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    a: b\nspec:\n  ports:\n  - port: 80\n",
        3,
        "metadata.name: Required value: name or generateName is required",
    ),
    "invalid-label-key": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    \"-bad\": x\nspec:\n"
        "  containers:\n  - name: c\n    image: nginx:1\n",
        5,
        'metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters',
    ),
    "invalid-label-value": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: has space\nspec:\n"
        "  containers:\n  - name: c\n    image: nginx:1\n",
        6,
        'metadata.labels.app: Invalid value: "has space": a valid label must be an empty string',
    ),
    "invalid-quantity": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"
        "    image: nginx:1\n    resources:\n      requests:\n        cpu: 1.5.3\n",
        11,
        'spec.containers[0].resources.requests.cpu: invalid quantity "1.5.3"',
    ),
    "selector-not-matching-template": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n"
        "    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: website\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx:1\n",
        11,
        "spec.template.metadata.labels: Invalid value: {\"app\":\"website\"}: `selector` does not match template `labels`",
    ),
    "deployment-without-selector": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n"
        "      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1\n",
        5,
        "spec.selector: Required value",
    ),
    "string-where-mapping-belongs": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: oops\n",
        5,
        'spec: expected a mapping, got a string "oops"',
    ),
    "replicas-not-an-integer": (
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: rc\nspec:\n  replicas: three\n"
        "  template:\n    metadata:\n      labels:\n        app: a\n    spec:\n      containers:\n"
        "      - name: c\n        image: nginx:1\n",
        6,
        'spec.replicas: expected an integer, got a string "three"',
    ),
    "duplicate-key-in-mapping": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  name: q\n", 5, 'mapping key "name" already defined'
    ),
    "toleration-exists-with-value": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  tolerations:\n  - key: k\n    operator: Exists\n"
        "    value: v\n  containers:\n  - name: c\n    image: nginx:1\n",
        8,
        "spec.tolerations[0].operator: Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_names_file_line_and_field(tmp_path, run_cli, name):
    text, line, message = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    result = run_cli("inspect", path)
    assert result.exit_code == 2
    where = f"{path}:{line}: error: " if line else f"{path}: error: "
    assert where + message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_binary_junk_is_rejected_as_not_text(tmp_path, run_cli):
    path = tmp_path / "junk.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    result = run_cli("inspect", path)
    assert result.exit_code == 2
    assert f"{path}: error: not a text file (it contains NUL bytes)" in result.stderr


def test_invalid_utf8_is_rejected(tmp_path, run_cli):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n")
    result = run_cli("inspect", path)
    assert result.exit_code == 2
    assert "not UTF-8 text (invalid byte at offset" in result.stderr


def test_duplicate_object_names_both_places(tmp_path, run_cli):
    body = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text("# second copy\n" + body)
    result = run_cli("inspect", tmp_path)
    assert result.exit_code == 2
    assert (f"{tmp_path / 'b.yaml'}:2: error: metadata.name: duplicate object Service default/web: "
            f"also defined at {tmp_path / 'a.yaml'}:1") in result.stderr


def test_yaml_bomb_is_rejected_quickly(tmp_path, run_cli):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    result = run_cli("inspect", path)
    assert time.perf_counter() - start < 5  # a guard against hanging, not a benchmark
    assert result.exit_code == 2
    assert "aliases expand to more than 100000 nodes (a YAML bomb?)" in result.stderr


def test_deep_flow_nesting_is_rejected_not_a_crash(tmp_path, run_cli):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 200_000 + "]" * 200_000 + "\n")
    result = run_cli("inspect", path)
    assert result.exit_code == 2
    assert f"{path}:1: error: nesting deeper than 1000 levels" in result.stderr


def test_every_problem_in_every_file_is_reported_in_one_run(tmp_path, run_cli):
    (tmp_path / "one.yaml").write_text(CASES["invalid-quantity"][0] + "---\n" + CASES["missing-name"][0])
    (tmp_path / "two.yaml").write_text(CASES["not-yaml"][0])
    result = run_cli("inspect", tmp_path)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 3, result.stderr


def test_missing_path_is_an_error(tmp_path, run_cli):
    result = run_cli("inspect", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_no_traceback_from_the_installed_command(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CASES["invalid-quantity"][0])
    proc = subprocess.run([sys.executable, "-m", "kspec", "inspect", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
