"""``kspec report`` end to end: the real CLI, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RC = str(ROOT / "models/reference/rc_converge.py")
MYAPP = str(ROOT / "models/myapp")

SCRIPT_LABEL = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: "<script>alert(1)</script>"
spec:
  containers:
  - name: c
    image: nginx:1.25
"""


def test_model_file_report_html(run_cli, tmp_path):
    out = tmp_path / "review.html"
    result = run_cli("report", RC, "-p", "N=2", "-p", "R=2", "-p", "F=2", "-o", out)
    assert result.exit_code == 1  # running-at-most-r-plus-1 is violated for F=2
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="verdict-table"' in page and "<svg" in page
    assert "verdict violated" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["review.html"]


def test_manifest_paths_report_json(run_cli, tmp_path):
    out = tmp_path / "r.json"
    result = run_cli("report", MYAPP, "-o", out)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["verdict"] == "holds" and doc["status"]["state"] == "complete"
    assert doc["check"]["passed"] is True and doc["schedule"]["verdict"] == "feasible"
    assert {Path(f["path"]).name for f in doc["inputs"]} == {"backend-rc.yaml", "frontend-rc.yaml", "nodes.yaml",
                                                             "services.yaml"}
    assert [t["question"] for t in doc["schedule"]["tolerances"]] == ["any 1 node(s) fail"]


def test_markdown_to_stdout(run_cli):
    result = run_cli("report", RC, "-p", "N=3", "-p", "R=2", "-p", "F=1", "--format", "markdown")
    assert result.exit_code in (0, 1), result.stderr
    assert result.stdout.startswith("# kspec report") and "| part | rule or property |" in result.stdout


def test_inconclusive_strict_exits_3(run_cli, tmp_path):
    out = tmp_path / "r.md"
    result = run_cli("report", RC, "-p", "N=3", "-p", "R=3", "-p", "F=1", "--max-states", "100", "--strict", "-o", out)
    assert result.exit_code == 3
    head = out.read_text().split("## Verdicts")[0]
    assert "INCONCLUSIVE" in head and "max\\_states" in head


def test_unwritable_report_path_exit_2_no_file(run_cli, tmp_path):
    out = tmp_path / "no-such-folder" / "r.html"
    result = run_cli("report", RC, "-o", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write report" in lines[0] and "does not exist" in lines[0]
    assert not out.parent.exists()
    result = run_cli("report", RC, "-o", tmp_path)
    assert result.exit_code == 2 and "directory" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_rejected_input_writes_no_report_and_exits_2(run_cli, tmp_path):
    """A rejected run leaves no file a CI system could read; the problems go to stderr."""
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(SCRIPT_LABEL)
    out = tmp_path / "r.html"
    result = run_cli("report", manifest, "-o", out)
    assert result.exit_code == 2
    assert "metadata.labels.app" in result.stderr
    assert not out.exists() and result.stdout == ""


def test_scenario_and_manifests_together_is_a_usage_error(run_cli):
    result = run_cli("report", RC, MYAPP)
    assert result.exit_code == 2 and "one scenario or model file" in result.stderr


@pytest.mark.slow
def test_bundled_scenario_report(run_cli, tmp_path):
    """The article's myapp with one node crash: explored, checked and scheduled in one report."""
    scenario = ROOT / "models/myapp-node-crash.yaml"
    if not scenario.exists():
        pytest.skip("models/myapp-node-crash.yaml is not in this tree")
    out = tmp_path / "r.json"
    result = run_cli("report", scenario, "-o", out)
    assert result.exit_code == 1
    doc = json.loads(out.read_text())
    assert [s["model"] for s in doc["explore"]] == [str(scenario)]
    rows = {v["name"]: v["verdict"] for v in doc["verdicts"] if v["section"] == "explore"}
    assert rows["service-always-has-endpoint"] == "violated"
    cx = doc["explore"][0]["counterexamples"][0]
    frame = cx["timeline"]["frames"][0]
    assert frame["api"] and frame["physical"]  # the two views side by side
    assert doc["check"] is not None and doc["schedule"]["verdict"] == "feasible"
    assert any(Path(f["path"]).name == "backend-rc.yaml" for f in doc["inputs"])


def test_report_option_for_other_commands(tmp_path):
    """The decorator and helper that check, schedule and explore use for --report."""
    from click.testing import CliRunner

    from kspec.checker.explore import Explorer
    from kspec.cli.common import report_option, verb
    from kspec.cli.exits import ExitCode
    from kspec.cli.output import check_output, write_report
    from kspec.simulation.modelfile import load_model

    @verb("toy")
    @report_option
    def toy(report_path):
        check_output(report_path, [RC])
        model = load_model(RC, {"F": 2})
        explorer = Explorer(model)
        if report_path:
            write_report(explorer.run(), report_path, model=model, model_path=RC, settings=explorer)
        return ExitCode.OK

    out = tmp_path / "r.json"
    result = CliRunner().invoke(toy, ["--report", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["verdict"] == "violated" and [Path(i["path"]).name for i in doc["inputs"]] == ["rc_converge.py"]
    bad = CliRunner().invoke(toy, ["--report", str(tmp_path / "missing" / "r.html")])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    assert CliRunner().invoke(toy, []).exit_code == 0  # no --report: nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
