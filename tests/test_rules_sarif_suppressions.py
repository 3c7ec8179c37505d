"""Suppressed findings in SARIF: left out by default, or (``--include-suppressed``) results
with a ``suppressions`` entry, as SARIF 2.1.0 defines it (section 3.35, ``suppression``:
``kind`` ``inSource`` or ``external``, an optional ``justification``) and as CodeQL writes
the alerts its suppression comments silence. Validated against the published schema."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "shared" / "schemas"
RULES = "limits-missing,requests-missing,bare-pod,image-tag-latest-or-missing"

MANIFESTS = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      annotations:
        kspec.dev/ignore: "limits-missing, requests-missing: measured, BestEffort on purpose"
        kube-linter.io/ignore-all: "demo pod"
    spec:
      containers: [{name: web, image: "nginx:latest"}]
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: api}
    spec:
      containers: [{name: api, image: "api:latest"}]
    """)

CONFIG = textwrap.dedent("""\
    ignore:
      - rule: bare-pod
        kind: Pod
        name: web
        reason: kept bare for the demo
    """)


def sarif_errors(log: dict) -> list[str]:
    import jsonschema

    path = SCHEMAS / "sarif-schema-2.1.0.json"
    if not path.is_file():
        pytest.skip(f"the published SARIF schema is not in {SCHEMAS}")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft4Validator(schema).iter_errors(log)]


@pytest.fixture
def baselined(tmp_path, run_cli):
    """Every finding suppressed: web's by its annotations and the configuration, api's by the baseline."""
    (tmp_path / "pods.yaml").write_text(MANIFESTS)
    (tmp_path / "kspec.yaml").write_text(CONFIG)
    common = (tmp_path / "pods.yaml", "--config", tmp_path / "kspec.yaml", "--only", RULES)
    recorded = run_cli("check", *common, "--write-baseline", tmp_path / "base.json", "--soft-fail")
    assert recorded.exit_code == 0, recorded.stderr
    return lambda *args: run_cli("check", *common, "--baseline", tmp_path / "base.json", *args)


def _results(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    log = json.loads(result.stdout)
    assert sarif_errors(log) == []
    return log["runs"][0]["results"]


def test_suppressed_findings_are_left_out_by_default(baselined):
    assert _results(baselined("-o", "sarif")) == []


def test_included_suppressed_findings_say_where_and_why(baselined):
    results = _results(baselined("-o", "sarif", "--include-suppressed"))
    seen = {(r["ruleId"], r["message"]["text"].split(":")[0]): r["suppressions"] for r in results}
    web = {rule: seen[(rule, "Pod/web")][0] for rule in RULES.split(",")}
    assert web["limits-missing"] == web["requests-missing"] == {
        "kind": "inSource", "justification": "measured, BestEffort on purpose",
        "properties": {"suppressedBy": "kspec.dev/ignore"}}
    assert web["image-tag-latest-or-missing"] == {
        "kind": "inSource", "justification": "demo pod", "properties": {"suppressedBy": "kube-linter"}}
    assert web["bare-pod"] == {"kind": "external", "justification": "kept bare for the demo",
                               "properties": {"suppressedBy": "config"}}
    api = [suppressions for (rule, ref), suppressions in seen.items() if ref == "Pod/api"]
    assert len(api) == 4
    for suppressions in api:
        assert suppressions[0]["kind"] == "external"
        assert suppressions[0]["properties"] == {"suppressedBy": "baseline"}
        assert suppressions[0]["justification"].startswith("recorded in the baseline ")
        assert suppressions[0]["justification"].endswith("base.json")


def test_reported_findings_carry_no_suppressions(tmp_path, run_cli):
    (tmp_path / "pods.yaml").write_text(MANIFESTS)
    result = run_cli("check", tmp_path / "pods.yaml", "--only", RULES, "-o", "sarif", "--include-suppressed",
                     "--soft-fail")
    results = _results(result)
    open_results = [r for r in results if "suppressions" not in r]
    suppressed = [r for r in results if "suppressions" in r]
    assert {r["message"]["text"].split(":")[0] for r in open_results} == {"Pod/web", "Pod/api"}
    assert {r["ruleId"] for r in suppressed} == {"limits-missing", "requests-missing", "image-tag-latest-or-missing"}


def test_json_lists_the_suppressed_with_or_without_the_flag(baselined):
    plain = json.loads(baselined("-o", "json").stdout)
    flagged = json.loads(baselined("-o", "json", "--include-suppressed").stdout)
    assert plain == flagged and len(plain["suppressed"]) == 8 and plain["findings"] == []
