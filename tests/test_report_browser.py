"""The HTML report in a real browser: headless Chromium over the DevTools protocol.

The protocol runs over a pipe (``--remote-debugging-pipe``: JSON messages
separated by NUL bytes on file descriptors 3 and 4), so no websocket library
is needed. The test opens the report of a bundled violating model from disk,
records every network request the page makes, checks that the verdict table
and the timeline are present and visible, that nothing was fetched, and that
an injected ``<script>`` in a label did not run (no script element exists and
the label shows as text); it saves a screenshot under ``artifacts/``.

Skipped, with the reason, only when no Chromium or Chrome is installed
(``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import attrs
import pytest

from kspec.checker.explore import Explorer
from kspec.checker.model import Action, always, sometimes
from kspec.cli.output import write_report
from kspec.report.sections import explore_section
from support.browser import DevTools, browser as _browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
PAYLOAD = "<script>window.__kspec_pwned = 1; document.title = 'pwned'</script>"


# --------------------------------------------------------------------------- the report under test


@attrs.frozen
class Relabel(Action):
    """An action whose label carries user text (as a manifest label or name would)."""

    actor = "user"
    label: str


class LabelModel:
    """Two pods on one node; a user action labelled with a script tag breaks the invariant."""

    def init_states(self):
        return [0]

    def actions(self, state):
        return [Relabel(PAYLOAD)]

    def next_state(self, state, action):
        return state + 1 if state < 2 else None

    def properties(self):
        return [always("at-most-one-relabel", lambda s: s < 2), sometimes("relabelled", lambda s: s == 1)]

    def within_boundary(self, state):
        return True

    def swim_lanes(self, state):
        pods = tuple((f"{PAYLOAD}-{i}", "Running, Ready") for i in range(state))
        return ((("node-<b>1</b>", "Ready", pods),),)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    from kspec.simulation.modelfile import load_model

    folder = tmp_path_factory.mktemp("report")
    model = load_model(str(ROOT / "models/reference/rc_converge.py"), {"N": 2, "R": 2, "F": 2})
    explorer = Explorer(model, symmetry=True)
    bundled = explore_section(explorer.run(), model=model, model_path="models/reference/rc_converge.py",
                              params={"N": 2, "R": 2, "F": 2}, settings=explorer)
    injected = explore_section(Explorer(LabelModel()).run(), model=LabelModel(), model_path=f"labels {PAYLOAD}")
    path = folder / "report.html"
    write_report([bundled, injected], str(path), command_line=["kspec", "report", PAYLOAD])
    return path


def test_report_in_headless_chromium(report_file, tmp_path):
    binary = _browser()
    if binary is None:
        pytest.skip("no Chromium or Chrome installed (apt-get install chromium); the browser test cannot run")
    tools = DevTools(binary, tmp_path / "profile")
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tools.send("Network.enable", session=session)
        tools.send("Page.enable", session=session)
        tools.events.clear()
        tools.send("Page.navigate", {"url": report_file.as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # anything the page might start late

        def evaluate(expression: str):
            result = tools.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                session=session)
            return result["result"].get("value")

        visible = ("(sel) => { const e = document.querySelector(sel); if (!e) return false;"
                   " const r = e.getBoundingClientRect(); const s = getComputedStyle(e);"
                   " return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; }")
        assert evaluate(f"({visible})('#verdict-table')") is True
        assert evaluate(f"({visible})('svg.swimlanes')") is True
        assert evaluate("document.querySelectorAll('#verdict-table tbody tr').length") == 7
        assert evaluate("document.querySelectorAll('svg.swimlanes').length") >= 2
        assert evaluate("document.querySelector('#verdict-table').innerText.includes('violated')") is True
        # the injected script is text, not code
        assert evaluate("document.querySelectorAll('script').length") == 0
        assert evaluate("typeof window.__kspec_pwned") == "undefined"
        assert evaluate("document.title") != "pwned"
        assert evaluate(f"document.body.innerText.includes({json.dumps(PAYLOAD)})") is True
        assert evaluate("document.querySelectorAll('b').length") == 0  # node-<b>1</b> stays text
        shot = tools.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                          session=session)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "report-browser.png").write_bytes(base64.b64decode(shot["data"]))
        requests = [e["params"]["request"]["url"] for e in tools.events
                    if e.get("method") == "Network.requestWillBeSent"]
    finally:
        tools.close()
    assert requests == [report_file.as_uri()], f"the page fetched more than itself: {requests}"
    assert (ARTIFACTS / "report-browser.png").stat().st_size > 10_000
