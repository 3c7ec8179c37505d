"""The report model and its renderers: what a reviewer reads must be what the checks found."""

from __future__ import annotations

import hashlib
import html.parser
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kspec.checker.explore import Explorer
from kspec.checker.model import Action, always, eventually_always, sometimes
from kspec.simulation.modelfile import load_model
from kspec.cli.output import OutputError, write_report, write_text
from kspec.report import ReportError, build_report, format_for, render
from kspec.report.markdown import cell
from kspec.report.model import SCHEMA, VERSION
from kspec.report.sections import check_section, explore_section, schedule_section

ROOT = Path(__file__).resolve().parent.parent
RC = str(ROOT / "models/reference/rc_converge.py")


@pytest.fixture(scope="module")
def rc_section():
    """rc_converge N=2 R=2 F=2: a shortest safety counterexample and a stuck lasso."""
    model = load_model(RC, {"N": 2, "R": 2, "F": 2})
    explorer = Explorer(model, symmetry=True)
    result = explorer.run()
    return result, explore_section(result, model=model, model_path="rc_converge.py", params={"N": 2, "R": 2, "F": 2},
                                   settings=explorer)


@pytest.fixture(scope="module")
def rc_report(rc_section):
    return build_report([rc_section[1]], command_line=["kspec", "report", RC], inputs=[RC])


def test_verdict_rows_match_the_explorer(rc_section, rc_report):
    result, _ = rc_section
    rows = {v.name: v for v in rc_report.verdicts}
    assert {n: v.verdict for n, v in rows.items()} == {r.name: str(r.verdict) for r in result.properties}
    assert rows["running-at-most-r-plus-1"].verdict == "violated"
    assert rows["running-at-most-r-plus-1"].states == result.stats.distinct_states
    assert rc_report.verdict == "violated"
    assert rc_report.status.state == "complete"


def test_counterexample_is_the_explorers_trace(rc_section):
    result, section = rc_section
    for cx in section.counterexamples:
        trace = result[cx.property].trace
        assert [s.action for s in cx.steps[1:]] == [str(a) for a in trace.actions]
        assert cx.cycle_start == trace.cycle_start
        assert len(cx.timeline.frames) == len(trace.steps)
    safety = next(c for c in section.counterexamples if c.property == "running-at-most-r-plus-1")
    assert safety.cycle_start is None
    # the last frame shows R + 2 = 4 pods Running: the property's violation, visible in the picture
    last = safety.timeline.frames[-1]
    assert sum(1 for lane in last.api for p in lane.pods if p.status == "Running") == 4
    lasso = next(c for c in section.counterexamples if c.property == "converges")
    assert lasso.is_lasso and lasso.cycle_start == len(lasso.steps) - 1  # both nodes down: stuck forever


def test_inputs_are_hashed(rc_report):
    (entry,) = rc_report.inputs
    data = Path(RC).read_bytes()
    assert entry.sha256 == hashlib.sha256(data).hexdigest() and entry.bytes == len(data)


def test_assumptions_state_bounds_symmetry_fairness_and_faults(rc_report):
    topics = {a.topic: a.text for a in rc_report.assumptions}
    assert {"nodes", "faults", "fairness", "bounds", "symmetry", "not modelled"} <= set(topics)
    assert "at most 2 fault(s)" in topics["faults"] and "NodeCrash" in topics["faults"]
    assert "no bounds" in topics["bounds"] and "reduction on" in topics["symmetry"]
    assert "rc" in topics["fairness"] and "faults are not fair" in topics["fairness"]


def test_json_is_versioned_and_complete(rc_report):
    doc = json.loads(render(rc_report, "json"))
    assert doc["schema"] == SCHEMA and doc["version"] == VERSION == 1
    assert doc["verdict"] == "violated"
    assert set(doc) >= {"title", "status", "environment", "inputs", "assumptions", "verdicts", "explore", "check",
                        "schedule", "diagnostics", "notes"}
    env = doc["environment"]
    assert env["kspec"] and env["z3"] and env["command_line"].startswith("kspec report")
    (explore,) = doc["explore"]
    assert explore["stats"]["distinct_states"] > 0
    assert "source" not in explore  # the raw record stays out of the document
    cx = explore["counterexamples"][0]
    assert cx["steps"][0]["action"] == "initial state" and cx["timeline"]["frames"]


def test_inconclusive_run_says_so_first_with_the_bound(tmp_path):
    model = load_model(RC, {"N": 3, "R": 3, "F": 2})
    explorer = Explorer(model, max_states=500)
    section = explore_section(explorer.run(), model=model, model_path="rc", settings=explorer)
    report = build_report([section], command_line="kspec report rc")
    assert report.status.state == "inconclusive" and report.status.bound == "max_states"
    assert "INCONCLUSIVE" in report.status.headline
    assert "--max-states" in report.status.details[0] and "500" in report.status.details[0]
    page = render(report, "html")
    assert page.index("INCONCLUSIVE") < page.index('id="verdict-table"')
    assert render(report, "text").splitlines()[3].startswith("INCONCLUSIVE")
    assert "INCONCLUSIVE" in render(report, "markdown").split("## Verdicts")[0]
    assert "max states 500" in {a.topic: a.text for a in report.assumptions}["bounds"]


def test_interrupted_run_says_so():
    report = build_report([], command_line="kspec report x", interrupted="Ctrl-C during scheduling")
    assert report.status.state == "interrupted" and report.status.headline.startswith("INTERRUPTED")


# --------------------------------------------------------------------------- escaping

SCRIPT = "<script>alert('x')</script>"


@attrs.frozen
class Label(Action):
    actor = "user"
    text: str


class TextModel:
    """One action labelled with arbitrary text, which breaks an invariant."""

    def __init__(self, text: str):
        self.text = text

    def init_states(self):
        return [0]

    def actions(self, state):
        return [Label(self.text)]

    def next_state(self, state, action):
        return 1 if state == 0 else None

    def properties(self):
        return [always(f"never-{self.text}", lambda s: s == 0), sometimes("moves", lambda s: s == 1),
                eventually_always("settles", lambda s: s == 1, fair={"user"})]

    def within_boundary(self, state):
        return True

    def swim_lanes(self, state):
        return (((f"node {self.text}", "Ready", ((self.text, self.text),) * state),),)


def _report_for(text: str):
    model = TextModel(text)
    section = explore_section(Explorer(model).run(), model=model, model_path=f"model {text}")
    return build_report([section], command_line=["kspec", "report", text], title=f"title {text}")


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def _tags(page: str) -> list[str]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_script_in_a_label_renders_as_text():
    page = render(_report_for(SCRIPT), "html")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "script" not in _tags(page)
    md = render(_report_for(SCRIPT), "markdown")
    assert "<script" not in md.split("```")[0] and "&lt;script&gt;" in md


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_user_text_never_changes_the_page_structure(text):
    """Whatever the text, the page has exactly the tags of a page with plain text."""
    assert _tags(render(_report_for(text), "html")) == _tags(render(_report_for("plain"), "html"))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_markdown_cells_cannot_break_tables_or_open_html(text):
    out = cell(text)
    assert "\n" not in out and "<" not in out and ">" not in out
    assert all(out[i - 1] == "\\" for i, ch in enumerate(out) if ch == "|")


def test_html_is_self_contained(rc_report):
    page = render(rc_report, "html")
    lower = page.lower()
    assert "default-src 'none'" in page
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", 'href="http', "href='http"):
        assert needle not in lower, needle
    assert "<svg" in page and 'id="verdict-table"' in page


# --------------------------------------------------------------------------- other formats and sections


def test_markdown_has_tables_and_a_fenced_timeline(rc_report):
    md = render(rc_report, "markdown")
    assert "| part | rule or property | kind | verdict |" in md
    assert "```text" in md and "node-1" in md
    assert "| step | actor | action | what changed |" in md
    assert "**Lasso:**" in md


def test_junit_counts_every_property(rc_report):
    root = ET.fromstring(render(rc_report, "junit"))
    assert root.get("tests") == "5" and root.get("failures") == "2"
    failure = root.find(".//testcase[@name='running-at-most-r-plus-1']/failure")
    assert "RCCreatePod(slot=0)" in failure.text


def test_check_section_and_sarif_delegate_to_the_rule_writers():
    from kspec.rules.engine import check_paths
    from kspec.rules.output import render_sarif
    from kspec.rules.ruleset import builtin_rules

    result, fatal = check_paths([str(ROOT / "models/myapp")], builtin_rules())
    assert not fatal
    section = check_section(result, "error")
    report = build_report([section], command_line="kspec check models/myapp")
    assert render(report, "sarif") == render_sarif(result, "error")
    counted = {g.rule: len(g.findings) for g in section.groups}
    assert counted == {rid: s["fail"] + s["error"] for rid, s in result.by_rule().items() if s["fail"] + s["error"]}
    for group in section.groups:
        assert all(f.file and f.line for f in group.findings)


def test_schedule_section_grid_and_tolerance():
    import kspec
    from kspec.cli.schedule import run

    result = run(kspec.load(str(ROOT / "models/myapp")), node_failures=1)
    section = schedule_section(result)
    assert section.verdict == "feasible"
    assert sum(sum(n.counts) for n in section.nodes) == sum(c for _, c in result.groups)
    assert [n.node for n in section.nodes] == ["node-1", "node-2", "node-3"]
    assert section.tolerances[0].question == "any 1 node(s) fail"
    cpu = section.nodes[0].utilisation[0]
    assert cpu.resource == "cpu" and cpu.allocatable > 0
    report = build_report([section], command_line="kspec schedule models/myapp")
    assert [v.name for v in report.verdicts] == ["all pods fit", "fits when any 1 node(s) fail"]
    page = render(report, "html")
    assert 'id="placement"' in page and 'id="tolerance"' in page


# --------------------------------------------------------------------------- writing


def test_format_from_suffix():
    assert [format_for(p) for p in ("a.html", "a.md", "a.json", "a.sarif", "a.xml", "a.txt", "a")] == [
        "html", "markdown", "json", "sarif", "junit", "text", "html"]
    with pytest.raises(ReportError):
        format_for("a.html", "pdf")


def test_write_report_from_raw_results(tmp_path, rc_section):
    result, _ = rc_section
    path = tmp_path / "r.json"
    report = write_report(result, str(path), command_line="kspec explore x --report r.json")
    assert json.loads(path.read_text())["verdict"] == report.verdict == "violated"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unwritable_path_is_one_error_and_no_file(tmp_path, monkeypatch):
    with pytest.raises(OutputError, match="does not exist"):
        write_text("x", str(tmp_path / "missing" / "r.html"))
    with pytest.raises(OutputError, match="is a directory"):
        write_text("x", str(tmp_path))
    target = tmp_path / "r.html"
    target.write_text("old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OutputError, match="No space left on device"):
        write_text("new", str(target))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # the temporary file is gone
