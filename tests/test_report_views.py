"""The report shows what happened: orphans, Services, neutral warnings, a grid that fits, honest suffixes.

- the physical view draws containers of force-deleted pods that still run
  (the split brain of ``models/statefulset-force-delete.yaml``);
- Services have lanes with their ready endpoints, so the step that empties one shows;
- rule findings below the threshold get the neutral verdict ``warning``: no
  violated row under an overall *holds*, in any format;
- the scheduling grid stays within the page for 8+ workloads and 50+ nodes;
- an output suffix no format has (``--report r.pdf``) is bad input, exit 2, nothing written.

The HTML checks run in headless Chromium (DOM queries and the rendered size),
skipped with the reason when no browser is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kspec.checker.explore import Explorer
from kspec.cli.output import write_report
from kspec.report.model import WARNING, NodePlacement, ScheduleSection, Utilisation
from kspec.report.sections import explore_section
from kspec.simulation.modelfile import load_model
from support.browser import browser, open_page

ROOT = Path(__file__).resolve().parent.parent


def counterexample(scenario: str, prop: str):
    model = load_model(str(ROOT / "models" / scenario), {})
    result = Explorer(model, properties=(prop,), stop_at_first=True, symmetry=True).run()
    section = explore_section(result, model=model, model_path=f"models/{scenario}")
    return section, section.counterexamples[0]


# --------------------------------------------------------------------------- lanes


def test_the_physical_view_draws_the_orphaned_container_of_a_force_deleted_pod():
    _, cx = counterexample("statefulset-force-delete.yaml", "at-most-replicas-running")
    last = cx.timeline.frames[-1]
    orphans = [(lane.node, pod.name) for lane in last.physical for pod in lane.pods if pod.status == "orphaned, running"]
    assert orphans == [("node-0", "db (orphan)")]
    assert not any(pod.name == "db (orphan)" for lane in last.api for pod in lane.pods)  # the API has no such pod


def test_services_have_lanes_and_the_step_that_empties_one_shows():
    _, cx = counterexample("myapp-node-crash.yaml", "service-always-has-endpoint")
    assert cx.timeline.services_title == "Services (ready endpoints)"
    backend = [next(lane for lane in f.services if lane.node == "Service backend-service") for f in cx.timeline.frames]
    assert backend[0].status == "2 ready endpoints"
    assert [p.name for p in backend[0].pods] == ["backend-0", "backend-1"]
    assert backend[-1].status == "0 ready endpoints" and backend[-1].pods == ()
    assert all(b.status != "0 ready endpoints" for b in backend[:-1])


# --------------------------------------------------------------------------- warnings and the overall verdict


def warnings_only_report(run_cli, out: Path) -> Path:
    """``kspec report`` of a manifest whose only findings are warnings, at threshold error."""
    result = run_cli("report", "models/myapp/backend-rc.yaml", "--no-schedule", "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_findings_below_the_threshold_are_a_warning_not_a_violation(run_cli, tmp_path):
    doc = json.loads(warnings_only_report(run_cli, tmp_path / "r.json").read_text())
    rows = [v for v in doc["verdicts"] if v["section"] == "check" and v["detail"]]
    assert rows and {v["verdict"] for v in rows} == {WARNING}
    assert doc["verdict"] == "holds"
    text = warnings_only_report(run_cli, tmp_path / "r.md").read_text()
    assert "Overall verdict: holds" in text and "**VIOLATED**" not in text
    assert '<span class="verdict v-warning">warning</span>' in warnings_only_report(run_cli, tmp_path / "r.html").read_text()


# --------------------------------------------------------------------------- output suffixes


@pytest.mark.parametrize("args", [
    ("explore", "models/myapp-node-crash.yaml", "--report"),
    ("schedule", "models/myapp", "--report"),
    ("check", "models/myapp", "--report"),
    ("report", "models/myapp", "-o"),
])
def test_an_unknown_report_suffix_is_bad_input_and_writes_nothing(run_cli, tmp_path, args):
    out = tmp_path / "r.pdf"
    result = run_cli(*args, out)
    assert result.exit_code == 2
    assert f"cannot tell the report format of {out}: no format has the suffix .pdf" in result.stderr
    assert not out.exists()


def test_an_explicit_format_accepts_any_suffix(run_cli, tmp_path):
    out = tmp_path / "r.pdf"
    result = run_cli("report", "models/myapp", "--no-schedule", "-o", out, "--format", "markdown")
    assert result.exit_code == 0 and out.read_text().startswith("# ")


# --------------------------------------------------------------------------- in a browser


def wide_schedule(workloads: int = 9, nodes: int = 60) -> ScheduleSection:
    names = tuple(f"Deployment/a-rather-long-workload-name-{i}" for i in range(workloads))
    rows = tuple(NodePlacement(f"ip-10-0-{n // 256}-{n % 256}.eu-west-1.compute.internal",
                               tuple((n + w) % 3 for w in range(workloads)), 0,
                               (Utilisation("cpu", 1500, 4000, "m"), Utilisation("memory", 6 << 30, 16 << 30, "bytes"),
                                Utilisation("pods", 9, 110, "pods")))
                 for n in range(nodes))
    return ScheduleSection("feasible", "feasible", names, rows, (), (), "", 0.5)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("views")
    split, _ = counterexample("statefulset-force-delete.yaml", "at-most-replicas-running")
    empty, _ = counterexample("myapp-node-crash.yaml", "service-always-has-endpoint")
    write_report([split, empty], str(folder / "explore.html"), command_line=["kspec", "report"])
    write_report([wide_schedule()], str(folder / "grid.html"), command_line=["kspec", "schedule"])
    return folder


def test_the_views_in_headless_chromium(pages, tmp_path):
    binary = browser()
    if binary is None:
        pytest.skip("no Chromium or Chrome installed (apt-get install chromium); the browser test cannot run")
    with open_page(binary, pages / "explore.html", tmp_path / "profile") as (_, _, evaluate):
        chips = "Array.from(document.querySelectorAll('svg.swimlanes g title')).map(t => t.textContent)"
        assert "db (orphan): orphaned, running" in evaluate(chips)
        lanes = "Array.from(document.querySelectorAll('svg.swimlanes rect title')).map(t => t.textContent)"
        assert "Service backend-service: 0 ready endpoints" in evaluate(lanes)
        heads = "Array.from(document.querySelectorAll('svg.swimlanes text')).map(t => t.textContent)"
        assert "Services (ready endpoints)" in evaluate(heads)
        why = "Array.from(document.querySelectorAll('p.why')).map(p => p.innerText).join(' | ')"
        assert "Service backend-service has 0 ready endpoints" in evaluate(why)


def test_a_warning_badge_is_neutral_in_headless_chromium(run_cli, tmp_path):
    binary = browser()
    if binary is None:
        pytest.skip("no Chromium or Chrome installed (apt-get install chromium); the browser test cannot run")
    page = warnings_only_report(run_cli, tmp_path / "check.html")
    with open_page(binary, page, tmp_path / "profile") as (_, _, evaluate):
        assert evaluate("document.querySelectorAll('#verdict-table .v-warning').length") > 0
        assert evaluate("document.querySelectorAll('#verdict-table .v-violated').length") == 0
        assert evaluate("getComputedStyle(document.querySelector('.v-warning')).backgroundColor") == "rgb(208, 215, 222)"
        assert evaluate("document.querySelector('p.overall').innerText") == "Overall verdict: holds"


def test_the_scheduling_grid_fits_the_page_in_headless_chromium(pages, tmp_path):
    binary = browser()
    if binary is None:
        pytest.skip("no Chromium or Chrome installed (apt-get install chromium); the browser test cannot run")
    with open_page(binary, pages / "grid.html", tmp_path / "profile") as (_, _, evaluate):
        assert evaluate("document.querySelectorAll('table.grid tbody tr').length") == 60
        assert evaluate("document.querySelectorAll('table.grid thead th').length") == 1 + 9 + 1 + 3
        right = evaluate("document.querySelector('table.grid').getBoundingClientRect().right")
        assert right <= evaluate("window.innerWidth"), "the grid runs off the page"
        assert evaluate("document.documentElement.scrollWidth <= window.innerWidth") is True
        assert "w9 Deployment/a-rather-long-workload-name-8" in evaluate("document.querySelector('.grid-key').innerText")
