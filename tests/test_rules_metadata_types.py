"""A ``metadata.name`` or ``metadata.namespace`` that is not a string is a field error at its line.

The API server decodes both into the Go strings of ``ObjectMeta``
(k8s.io/apimachinery/pkg/apis/meta/v1/types.go), so ``namespace: []`` fails
decoding ("cannot unmarshal array into Go struct field
ObjectMeta.metadata.namespace of type string") whatever the kind's scope.
Before this check, API defaulting put ``default`` in place of an empty list
or map, and the object loaded. Null and the empty string stay what they are
upstream: no namespace (the request's, ``default`` here).
"""

from __future__ import annotations

import pytest

VALUES = {"[]": "a list []", "{}": "a mapping {}", "3": "an integer 3", "true": "a boolean true"}


def _manifest(kind: str, key: str, value: str) -> str:
    api = "v1"
    name = "" if key == "name" else "  name: a\n"
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n{name}  {key}: {value}\ndata: {{}}\n"


@pytest.mark.parametrize("value", sorted(VALUES))
@pytest.mark.parametrize("key", ["namespace", "name"])
@pytest.mark.parametrize("kind", ["ConfigMap", "Namespace"])  # namespaced and cluster-scoped
@pytest.mark.parametrize("verb", ["check", "inspect"])
def test_identity_that_is_not_a_string_is_a_field_error(run_cli, tmp_path, verb, kind, key, value):
    path = tmp_path / "a.yaml"
    path.write_text(_manifest(kind, key, value))
    line = 5 if key == "namespace" else 4
    result = run_cli(verb, path)
    assert result.exit_code == 2
    assert f"a.yaml:{line}: error: metadata.{key}: expected a string, got {VALUES[value]}" in result.stderr
    assert "Traceback" not in result.stderr


def test_namespace_flag_does_not_replace_a_namespace_that_is_not_a_string(run_cli, tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(_manifest("ConfigMap", "namespace", "[]"))
    result = run_cli("check", path, "-n", "shop")
    assert result.exit_code == 2
    assert "a.yaml:5: error: metadata.namespace: expected a string, got a list []" in result.stderr


@pytest.mark.parametrize("value", ["null", "''"])
def test_null_or_empty_namespace_is_the_default_one(run_cli, tmp_path, value):
    path = tmp_path / "a.yaml"
    path.write_text(_manifest("ConfigMap", "namespace", value))
    result = run_cli("inspect", path, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert '"default"' in result.stdout
