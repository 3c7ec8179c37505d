"""The JSON and SARIF texts of ``kspec check``: one finding (one SARIF result) a line,
the same document that ``json.dumps`` writes, made safe as ``json_dumps`` makes it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kspec.rules.output import json_layout
from kspec.util.escape import json_dumps

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


@given(VALUES, st.integers(0, 4))
def test_layout_is_the_same_document(value, depth):
    text = json_layout(value, depth)
    assert json.loads(text) == json.loads(json_dumps(value))


@given(st.lists(st.dictionaries(st.text(max_size=5), SCALARS, max_size=3), min_size=1, max_size=6))
def test_each_item_of_a_top_level_list_is_one_line(items):
    lines = json_layout({"findings": items}).splitlines()
    assert lines[0] == "{" and lines[1] == '  "findings": [' and lines[-2:] == ["  ]", "}"]
    assert [json.loads(line.strip().rstrip(",")) for line in lines[2:-2]] == json.loads(json_dumps(items))


def test_layout_spells_out_what_json_dumps_spells_out():
    value = {"file": "bad\udcffname", "message": "next\x85line", "findings": [{"line": 1}]}
    assert json_layout(value, 3) == json_dumps(value, indent=2)  # laid out to the bottom: the same text
    assert "\x85" not in json_layout(value) and "\udcff" not in json_layout(value)
    assert json.loads(json_layout(value)) == json.loads(json_dumps(value))


def test_check_json_has_one_finding_a_line(run_cli, tmp_path):
    manifest = tmp_path / "pods.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: a, image: a}]\n"
                        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n"
                        "  containers: [{name: b, image: b}]\n")
    text = run_cli("check", manifest, "-o", "json", "--soft-fail").stdout
    document = json.loads(text)
    lines = [line for line in text.splitlines() if line.startswith('    {"rule": ')]
    assert len(lines) == len(document["findings"]) > 2
    sarif = run_cli("check", manifest, "-o", "sarif", "--soft-fail").stdout
    results = [line for line in sarif.splitlines() if line.startswith('        {"ruleId": ')]
    assert len(results) == len(json.loads(sarif)["runs"][0]["results"]) == len(lines)
