"""Outputs that never destroy inputs (kspec.cli.output), on every verb that writes a file.

(a) an output resolving to an input is a usage error before any work; (b) a
symlink is followed and stays a link; (c) devices, FIFOs and ``-`` are written
in place, never replaced; (d) regular files are replaced atomically and keep
their mode; (e) a run rejected for bad input writes nothing.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from kspec.cli import group
from kspec.cli.output import write_text

ROOT = Path(__file__).resolve().parent.parent
BAD_POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 3\n"


def run(*args):
    return CliRunner().invoke(group, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def work(tmp_path):
    """Copies of models/myapp and of a scenario with manifests and a controller module."""
    shutil.copytree(ROOT / "models/myapp", tmp_path / "myapp")
    shutil.copytree(ROOT / "models/custom", tmp_path / "custom")
    shutil.copy(ROOT / "models/custom-singleton-fixed.yaml", tmp_path / "scenario.yaml")
    shutil.copy(ROOT / "models/reference/rc_converge.py", tmp_path / "rc.py")
    return tmp_path


# verb -> (arguments before the output path, the output option); each reads the files in INPUTS[verb]
WRITERS = {
    "check": (lambda w: ["check", w / "myapp"], "--report"),
    "schedule": (lambda w: ["schedule", w / "myapp"], "--report"),
    "explore": (lambda w: ["explore", w / "scenario.yaml"], "--report"),
    "report": (lambda w: ["report", w / "scenario.yaml", "--no-schedule"], "-o"),
}
INPUTS = {
    "check": ["myapp/frontend-rc.yaml", "myapp/nodes.yaml"],
    "schedule": ["myapp/services.yaml"],
    "explore": ["scenario.yaml", "custom/leader.yaml", "custom/singleton_fixed.py"],
    "report": ["scenario.yaml", "custom/leader.yaml", "custom/singleton_fixed.py"],
}


def write(verb, work, out, *extra):
    args, option = WRITERS[verb]
    return run(*args(work), *extra, option, out)


# ---------------------------------------------------------------------------- (a)


@pytest.mark.parametrize("verb", WRITERS)
def test_output_that_is_an_input_is_refused_before_any_work(verb, work):
    for name in INPUTS[verb]:
        target = work / name
        before = target.read_bytes()
        result = write(verb, work, target)
        assert result.exit_code == 2, (name, result.stderr)
        assert result.stderr.strip().splitlines() == [
            f"kspec: error: cannot write report to {target}: it is one of the inputs of this run"]
        assert result.stdout == ""  # refused before any work
        assert target.read_bytes() == before


@pytest.mark.parametrize("verb", WRITERS)
def test_output_through_a_symlink_to_an_input_is_refused(verb, work):
    link = work / "innocent.json"
    link.symlink_to(work / INPUTS[verb][0])
    before = link.read_bytes()
    assert write(verb, work, link).exit_code == 2
    assert link.is_symlink() and link.read_bytes() == before


def test_check_output_that_is_a_rule_file_is_refused(work):
    rules = work / "rules.yaml"
    rules.write_text("id: has-name\nexpression: object.metadata.name != ''\n")
    result = run("check", work / "myapp", "--rules", rules, "--report", rules)
    assert result.exit_code == 2 and "one of the inputs" in result.stderr
    assert rules.read_text().startswith("id: has-name")


def test_model_file_is_an_input_of_explore_and_report(work):
    before = (work / "rc.py").read_bytes()
    assert run("explore", work / "rc.py", "--report", work / "rc.py").exit_code == 2
    assert run("report", work / "rc.py", "-o", work / "rc.py").exit_code == 2
    assert (work / "rc.py").read_bytes() == before


def test_a_new_file_beside_the_inputs_is_fine(work):
    result = run("check", work / "myapp", "--report", work / "myapp" / "review.html")
    assert result.exit_code == 0 and (work / "myapp" / "review.html").read_text().startswith("<!DOCTYPE html>")


# ---------------------------------------------------------------------------- (b)


@pytest.mark.parametrize("verb", WRITERS)
def test_symlink_is_followed_and_stays_a_link(verb, work):
    real = work / "out" / "real.json"
    real.parent.mkdir()
    real.write_text("old")
    link = work / "link.json"
    link.symlink_to(real)
    result = write(verb, work, link)
    assert result.exit_code in (0, 1), result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["schema"] == "kspec-report"


# ---------------------------------------------------------------------------- (c)


@pytest.mark.parametrize("verb", WRITERS)
def test_dev_null_stays_a_device(verb, work):
    result = write(verb, work, "/dev/null")
    assert result.exit_code in (0, 1), result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("verb", WRITERS)
def test_dev_full_is_one_line_error_and_stays_a_device(verb, work):
    if os.geteuid() != 0 and not os.access("/dev/full", os.W_OK):
        pytest.skip("/dev/full is not writable here")
    result = write(verb, work, "/dev/full")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "kspec: error: cannot write report to /dev/full: No space left on device"
    assert "Traceback" not in result.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("verb", ["check", "explore", "report"])
def test_dash_writes_the_report_to_stdout(verb, work):
    args, option = WRITERS[verb]
    extra = ["--format", "json"] if verb == "report" else ["-o", "json"]
    result = run(*args(work), *extra, option, "-")
    assert result.exit_code in (0, 1), result.stderr
    assert '"schema": "kspec-report"' in result.stdout or "<!DOCTYPE html>" in result.stdout
    assert not (work / "-").exists()


@pytest.mark.parametrize("verb", WRITERS)
def test_fifo_is_written_in_place(verb, work):
    fifo = work / "pipe.json"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = write(verb, work, fifo)
    if reader.is_alive() and not received:  # nothing opened the FIFO: release the reader once it waits
        _release(fifo, done=lambda: bool(received) or not reader.is_alive())
    reader.join(timeout=60)
    assert result.exit_code in (0, 1), result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received[0])["schema"] == "kspec-report"


def _release(fifo, done, seconds: float = 10.0) -> None:
    """Open ``fifo`` for writing and close it, so a reader blocked in open()
    sees end of file; until that reader has opened it, non-blocking open
    answers ENXIO, so try again for a while. A reader that has already read
    what kspec wrote (it closed the FIFO, so open answers ENXIO too, but it
    has not yet handed the text over) needs no release: stop once ``done()``."""
    deadline = time.monotonic() + seconds
    while not done():
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return
        except OSError as err:
            if err.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# ---------------------------------------------------------------------------- (d)


@pytest.mark.parametrize("verb", WRITERS)
def test_existing_file_keeps_its_mode_and_no_temporary_file_is_left(verb, work):
    out = work / "out" / "r.json"
    out.parent.mkdir()
    out.write_text("old")
    out.chmod(0o600)
    result = write(verb, work, out)
    assert result.exit_code in (0, 1), result.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert json.loads(out.read_text())["schema"] == "kspec-report"
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]


def test_new_file_gets_the_umask_mode(work):
    old = os.umask(0o027)
    try:
        out = work / "new.json"
        assert run("check", work / "myapp", "--report", out).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640


# ---------------------------------------------------------------------------- (e)


@pytest.mark.parametrize("suffix", ["sarif", "xml", "json", "html"])
def test_bad_input_writes_no_artifact(work, suffix):
    (work / "bad").mkdir()
    (work / "bad" / "pod.yaml").write_text(BAD_POD)
    bad_model = work / "bad.py"
    bad_model.write_text("x = 1\n")
    kept = work / f"kept.{suffix}"
    kept.write_text("previous")
    cases = [
        ["check", work / "bad", "--report"],
        ["schedule", work / "bad", "--report"],
        ["explore", bad_model, "--report"],
        ["report", work / "bad", "-o"],
        ["report", bad_model, "-o"],
    ]
    for case in cases:
        out = work / f"r.{suffix}"
        result = run(*case, out)
        assert result.exit_code == 2, (case, result.stderr)
        assert not out.exists(), case
        result = run(*case, kept)
        assert result.exit_code == 2 and kept.read_text() == "previous", case
    assert sorted(p.name for p in work.iterdir() if p.is_file()) == ["bad.py", "kept." + suffix, "rc.py",
                                                                     "scenario.yaml"]


# ---------------------------------------------------------------------------- --emit-test goes through the same writer


def test_emit_test_never_destroys_inputs_and_keeps_links_and_modes(work):
    model = work / "rc.py"
    before = model.read_bytes()
    params = ["-p", "N=2", "-p", "R=2", "-p", "F=2"]
    refused = run("explore", model, *params, "--emit-test", model)
    assert refused.exit_code == 2 and "cannot write test to" in refused.stderr and model.read_bytes() == before
    real = work / "tests" / "test_replay.py"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    link = work / "link.py"
    link.symlink_to(real)
    assert run("explore", model, *params, "--emit-test", link).exit_code == 1
    assert link.is_symlink() and stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert "def test_" in real.read_text()
    full = run("explore", model, *params, "--emit-test", "/dev/full")
    assert full.exit_code == 2 and full.stderr.strip().splitlines()[-1].startswith(
        "kspec: error: cannot write test to /dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@settings(max_examples=50, deadline=None)
@given(st.text())
def test_write_text_round_trips_any_text_and_leaves_nothing_else(tmp_path_factory, text):
    """Any str (lone surrogates from non-UTF-8 file names included) is written whole, as valid UTF-8."""
    folder = tmp_path_factory.mktemp("w")
    out = folder / "r.txt"
    write_text(text, str(out))
    assert out.read_bytes() == text.encode("utf-8", "backslashreplace")
    assert [p.name for p in folder.iterdir()] == ["r.txt"]
