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
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import attrs
import pytest

from kspec.checker.explore import Explorer
from kspec.checker.model import Action, always, sometimes
from kspec.cli.output import write_report
from kspec.report.sections import explore_section

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
PAYLOAD = "<script>window.__kspec_pwned = 1; document.title = 'pwned'</script>"


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, binary: str, profile: Path):
        self.read_fd, child_write = os.pipe()  # browser writes on its fd 4
        child_read, self.write_fd = os.pipe()  # browser reads on its fd 3

        def wire():  # in the child: its fd 3 reads our commands, fd 4 carries its answers
            read_copy, write_copy = os.dup(child_read), os.dup(child_write)
            os.dup2(read_copy, 3)
            os.dup2(write_copy, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", "--remote-debugging-pipe",
                "--window-size=1280,1600", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=wire, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_read)
        os.close(child_write)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.read_fd)
        os.close(self.write_fd)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the browser")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if ready:
                chunk = os.read(self.read_fd, 1 << 16)
                if not chunk:
                    raise ConnectionError("the browser closed the pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event


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
