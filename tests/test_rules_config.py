"""``.kspec.yaml`` (rule selection, severities, exclusions, ignores) and baselines."""

from __future__ import annotations

import json
import textwrap
from collections import Counter

import pytest
from hypothesis import given, strategies as st

from kspec.rules.baseline import BaselineError, read_baseline, render_baseline, split_baselined
from kspec.rules.config import ConfigError, load_config
from kspec.rules.engine import Finding

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers: [{name: c, image: "nginx:1.25"}]
"""
RULES = "limits-missing,requests-missing,probes-missing"


def config(tmp_path, text, name=".kspec.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def findings(result):
    return [(f["rule"], f["object"]["name"], f["severity"]) for f in json.loads(result.stdout)["findings"]]


def test_every_problem_of_a_config_file_is_reported_at_its_line(tmp_path):
    path = config(tmp_path, """\
        onyl: [a]
        severity: {limits-missing: fatal}
        ignore:
          - rule: limits-missing
          - reason: nothing named
          - {rule: x, reason: y, extra: z}
        kubernetesVersion: 1.30
        """)
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    got = [(d.line, d.field) for d in err.value.diagnostics]
    assert got == [(1, "onyl"), (2, "severity.limits-missing"), (4, "ignore[0]"), (5, "ignore[1]"),
                   (6, "ignore[2].extra"), (7, "kubernetesVersion")]
    assert "YAML reads it as a number" in err.value.diagnostics[-1].message


def test_unknown_rule_ids_in_the_config_are_bad_input(tmp_path, run_cli):
    config(tmp_path, "severity: {limit-missing: info}\n")
    (tmp_path / "p.yaml").write_text(POD % "web")
    result = run_cli("check", tmp_path / "p.yaml", "--config", tmp_path / ".kspec.yaml")
    assert result.exit_code == 2
    assert ".kspec.yaml:1: error: severity: unknown rule id 'limit-missing'" in result.stderr


def test_config_in_the_current_folder_selects_rules_and_severities(tmp_path, run_cli, monkeypatch):
    config(tmp_path, f"""\
        only: [{RULES}]
        skip: [probes-missing]
        severity: {{limits-missing: error}}
        """)
    (tmp_path / "p.yaml").write_text(POD % "web")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "p.yaml", "-o", "json")
    assert findings(result) == [("limits-missing", "web", "error"), ("requests-missing", "web", "warning")]
    assert result.exit_code == 1
    result = run_cli("check", "p.yaml", "-o", "json", "--only", "probes-missing,requests-missing")
    assert findings(result) == [("requests-missing", "web", "warning")]  # the file's skip still applies


def test_config_exclude_and_ignore(tmp_path, run_cli, monkeypatch):
    config(tmp_path, f"""\
        only: [{RULES}]
        exclude: [vendor]
        ignore:
          - {{rule: "*-missing", name: "batch-*", reason: batch pods are BestEffort}}
        """)
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "x.yaml").write_text(POD % "vendored")
    (tmp_path / "p.yaml").write_text(POD % "web" + "---\n" + POD % "batch-1")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", ".", "-o", "json")
    assert {name for _, name, _ in findings(result)} == {"web"}
    assert "not reported: 3 findings (3 by config)" in result.stderr


def test_baseline_adopts_kspec_and_new_findings_still_fail(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(POD % "web")
    written = run_cli("check", ".", "--only", RULES, "--write-baseline", "base.json")
    assert written.exit_code == 0
    recorded = json.loads((tmp_path / "base.json").read_text())["findings"]
    assert {(e["rule"], e["file"]) for e in recorded} == {(r, "p.yaml") for r in RULES.split(",")}
    again = run_cli("check", ".", "--only", RULES, "--baseline", "base.json", "-o", "json")
    assert findings(again) == [] and "3 by baseline" in again.stderr
    (tmp_path / "p.yaml").write_text("# a line above moves nothing\n" + POD % "web" + "---\n" + POD % "api")
    later = run_cli("check", ".", "--only", RULES, "--baseline", "base.json", "-o", "json")
    assert {name for _, name, _ in findings(later)} == {"api"}


def test_stale_baseline_entries_are_a_warning(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text(POD % "web")
    run_cli("check", ".", "--only", RULES, "--write-baseline", "base.json")
    (tmp_path / "p.yaml").write_text(POD % "web2")
    result = run_cli("check", ".", "--only", RULES, "--baseline", "base.json")
    assert "base.json: warning: 3 recorded findings are no longer found" in result.stderr


def test_baseline_named_in_the_config_is_relative_to_it(tmp_path, run_cli, monkeypatch):
    (tmp_path / "ci").mkdir()
    config(tmp_path / "ci", f"only: [{RULES}]\nbaseline: base.json\n", name="kspec.yaml")
    (tmp_path / "p.yaml").write_text(POD % "web")
    monkeypatch.chdir(tmp_path)
    run_cli("check", "p.yaml", "--config", "ci/kspec.yaml", "--write-baseline", "ci/base.json")
    result = run_cli("check", "p.yaml", "--config", "ci/kspec.yaml", "-o", "json")
    assert findings(result) == []


def test_a_broken_baseline_is_bad_input(tmp_path, run_cli):
    (tmp_path / "b.json").write_text('{"version": 9}')
    (tmp_path / "p.yaml").write_text(POD % "web")
    result = run_cli("check", tmp_path / "p.yaml", "--baseline", tmp_path / "b.json")
    assert result.exit_code == 2 and "not a kspec baseline" in result.stderr
    with pytest.raises(BaselineError):
        read_baseline(str(tmp_path / "missing.json"))


names = st.text(alphabet="abc-", min_size=1, max_size=4)
finding_lists = st.lists(st.builds(
    Finding, rule_id=st.sampled_from(["r1", "r2"]), severity=st.just("warning"), status=st.just("fail"),
    kind=st.sampled_from(["Pod", "Service"]), namespace=st.sampled_from([None, "default", "prod"]), name=names,
    file=st.sampled_from(["<stdin>", "chart/templates/a.yaml"]), line=st.integers(1, 50), message=st.just("m")),
    max_size=8)


@given(finding_lists, finding_lists)
def test_baseline_hides_exactly_the_recorded_findings(tmp_path_factory, old, new):
    path = tmp_path_factory.mktemp("baseline") / "b.json"
    path.write_text(render_baseline(old, str(path)))
    recorded = read_baseline(str(path))
    shown, known, stale = split_baselined(old + new, recorded, str(path))
    assert known == old
    assert len(shown) == len(new) and stale == 0
    assert sum(recorded.values()) == len(old) and isinstance(recorded, Counter)
