"""Exit codes: one site (kspec.cli.exits), one meaning on every verb, one error path, Ctrl-C 130.

0 holds (inconclusive too without --strict), 1 violated, 2 bad input or usage,
3 inconclusive under --strict, 4 a bug in kspec, 130 Ctrl-C, 141 the reader of
stdout went away. Never click's "Aborted!" with 1, never a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from kspec.checker.model import Verdict
from kspec.cli import group
from kspec.cli.exits import ExitCode, exit_code

ROOT = Path(__file__).resolve().parent.parent
RC = str(ROOT / "models/reference/rc_converge.py")
MYAPP = str(ROOT / "models/myapp")
KSPEC = [sys.executable, "-c", "from kspec.cli import main; main()"]
VERBS = ("inspect", "check", "test-rules", "schedule", "explore", "fuzz", "report")
BAD_POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 3\n"


def run(*args, env=None):
    return CliRunner().invoke(group, [str(a) for a in args], catch_exceptions=False, env=env)


# ---------------------------------------------------------------------------- the mapping


@given(st.lists(st.sampled_from(list(Verdict))), st.booleans())
def test_exit_code_is_the_overall_verdict(verdicts, strict):
    code = exit_code(verdicts, strict=strict)
    if Verdict.VIOLATED in verdicts:
        assert code is ExitCode.VIOLATED
    elif Verdict.INCONCLUSIVE in verdicts and strict:
        assert code is ExitCode.INCONCLUSIVE
    else:
        assert code is ExitCode.OK
    assert exit_code(verdicts, strict=strict, interrupted=True) is ExitCode.INTERRUPTED
    assert exit_code([str(v) for v in verdicts], strict=strict) is code  # report verdicts are words


def test_codes_are_the_documented_numbers():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 130, 141]


def test_every_verb_has_short_help_and_help_on_every_option():
    for name in VERBS:
        result = run(name, "-h")
        assert result.exit_code == 0 and f" {name} [OPTIONS]" in result.stdout
        command = group.get_command(click.Context(group), name)
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{name} {param.opts} has no help text"


def test_strict_on_every_verb_that_can_be_inconclusive():
    for name in ("schedule", "explore", "fuzz", "report"):
        assert "--strict" in run(name, "-h").stdout


# ---------------------------------------------------------------------------- same meaning everywhere


def test_schedule_unknown_is_inconclusive_not_violated(monkeypatch):
    """A solver timeout is not a proof of infeasibility: 0, or 3 under --strict (it used to exit 1)."""
    from kspec.cli import schedule
    from kspec.scheduling.result import UNKNOWN, ScheduleResult

    monkeypatch.setattr(schedule, "run", lambda *a, **k: ScheduleResult(UNKNOWN, "feasible", (), None, None, (),
                                                                         None, 0.0))
    assert run("schedule", MYAPP).exit_code == 0
    assert run("schedule", MYAPP, "--strict").exit_code == 3
    assert '"exit_code": 3' in run("schedule", MYAPP, "--strict", "-o", "json").stdout


def test_explore_inconclusive_strict_and_violated():
    assert run("explore", RC, "-p", "N=2", "-p", "R=2", "-p", "F=1").exit_code == 1
    assert run("explore", RC, "-p", "N=3", "-p", "R=3", "-p", "F=1", "--max-states", "10",
               "--property", "converges").exit_code == 0
    assert run("explore", RC, "-p", "N=3", "-p", "R=3", "-p", "F=1", "--max-states", "10",
               "--property", "converges", "--strict").exit_code == 3


def test_check_and_test_rules_holds_and_violated(tmp_path):
    assert run("check", MYAPP).exit_code == 0
    assert run("check", MYAPP, "--severity-threshold", "warning").exit_code == 1


# ---------------------------------------------------------------------------- one error path


def test_load_error_prints_one_line_per_diagnostic(tmp_path):
    (tmp_path / "a.yaml").write_text(BAD_POD)
    (tmp_path / "b.yaml").write_text(BAD_POD.replace("name: p", "name: q"))
    for verb in ("inspect", "check", "schedule"):
        result = run(verb, tmp_path)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2, (verb, result.stderr)
        assert len(lines) == 2 and all(": error: " in line for line in lines), (verb, lines)
        assert lines[0].startswith(str(tmp_path / "a.yaml") + ":6: error: spec.containers")


@pytest.mark.parametrize("verb", ["explore", "fuzz"])
@pytest.mark.parametrize("param", ["N", "=3", "N=abc", "budget=x"])
def test_bad_param_is_one_line_exit_2(verb, param):
    result = run(verb, RC if param != "budget=x" else ROOT / "models/custom-singleton-fixed.yaml", "-p", param,
                 "--max-examples", "1") if verb == "fuzz" else \
        run(verb, RC if param != "budget=x" else ROOT / "models/custom-singleton-fixed.yaml", "-p", param)
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("param", ["N", "N=abc", "budget=x"])
def test_report_bad_param_is_one_line_exit_2(param, tmp_path):
    target = RC if param != "budget=x" else ROOT / "models/custom-singleton-fixed.yaml"
    out = tmp_path / "r.html"
    result = run("report", target, "-p", param, "-o", out)
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists()


def test_bad_option_value_is_usage_exit_2():
    assert run("explore", RC, "--max-memory", "lots").exit_code == 2
    assert run("schedule", MYAPP, "--timeout", "0").exit_code == 2


def test_a_bug_is_exit_4_and_one_line(monkeypatch):
    from kspec.cli import schedule

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(schedule, "run", broken)
    result = run("schedule", MYAPP)
    assert result.exit_code == 4
    assert result.stderr == ("kspec: internal error: RuntimeError: boom (please report; "
                             "set KSPEC_DEBUG=1 for the traceback)\n")
    debug = run("schedule", MYAPP, env={"KSPEC_DEBUG": "1"})
    assert debug.exit_code == 4 and "Traceback" in debug.stderr and "RuntimeError: boom" in debug.stderr


def test_model_code_that_exits_is_bad_input_not_a_pass(tmp_path):
    """A model calling sys.exit(0) used to make kspec exit 0 with no output."""
    model = tmp_path / "exits.py"
    model.write_text("import sys\n\ndef build_model():\n    sys.exit(0)\n")
    result = run("explore", model)
    assert result.exit_code == 2 and "sys.exit(0)" in result.stderr


def test_model_code_that_raises_is_bad_input(tmp_path):
    model = tmp_path / "raises.py"
    model.write_text((ROOT / "models/reference/rc_converge.py").read_text()
                     + "\n\ndef _boom(*a):\n    raise ZeroDivisionError('x')\n\n"
                       "_build = build_model\n\ndef build_model(**p):\n    m = _build(**p)\n"
                       "    m.next_state = _boom\n    return m\n")
    result = run("explore", model)
    assert result.exit_code in (2, 4) and "Traceback" not in result.stderr


def test_keyboard_interrupt_in_process_is_130_not_aborted(monkeypatch):
    from kspec.cli import schedule

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule, "run", interrupted)
    result = run("schedule", MYAPP)
    assert result.exit_code == 130 and "Aborted" not in result.stderr and "kspec: interrupted" in result.stderr


def test_report_interrupted_writes_what_finished_and_exits_130(monkeypatch, tmp_path):
    from kspec.cli import report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "_check", interrupted)
    out = tmp_path / "r.json"
    result = run("report", ROOT / "models/custom-singleton-fixed.yaml", "-o", out)
    assert result.exit_code == 130 and "Aborted" not in result.stderr
    assert '"state": "interrupted"' in out.read_text()


# ---------------------------------------------------------------------------- streams (real processes)


def shell(command: str, **kwargs) -> subprocess.CompletedProcess:
    line = " ".join(KSPEC_SHELL) + " " + command
    return subprocess.run(["bash", "-c", line], capture_output=True, text=True, cwd=ROOT, timeout=120, **kwargs)


KSPEC_SHELL = [sys.executable, "-c", "'from kspec.cli import main; main()'"]


def test_closed_stdout_is_one_line_exit_2():
    """``kspec inspect models/myapp >&-``: results cannot go anywhere; say so (like ``ls >&-``), exit 2."""
    result = shell("inspect models/myapp >&-")
    assert result.returncode == 2
    assert result.stderr == "kspec: error: cannot write results: standard output is closed\n"


def test_closed_stdin_is_one_line_exit_2():
    result = shell("inspect - <&-")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "<stdin>: error: standard input is closed" in result.stderr


def test_broken_pipe_is_silent_141():
    """``kspec inspect ... | head -c0``: the reader left; exit 141 as if killed by SIGPIPE, say nothing."""
    process = subprocess.Popen([*KSPEC, "inspect", "-o", "json", MYAPP], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=ROOT)
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141 and err == b""


@pytest.mark.slow
def test_non_utf8_file_names_do_not_crash_output(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    name = os.fsencode(folder) + b"/x\xff.yaml"
    with open(name, "wb") as handle:
        handle.write((ROOT / "models/myapp/services.yaml").read_bytes())
    for args in (["inspect", folder], ["inspect", "-o", "json", folder], ["schedule", folder, "--nodes", "1:cpu=1"],
                 ["check", folder]):
        result = subprocess.run([*KSPEC, *map(str, args)], capture_output=True, cwd=ROOT, timeout=120)
        assert result.returncode in (0, 1), (args, result.stderr)
        assert b"Traceback" not in result.stderr
        result.stdout.decode("utf-8")  # valid UTF-8: the byte is written as a backslash escape
        if "json" in args or "check" in args:
            assert b"/x\\" in result.stdout, args


def test_fixme_check_sarif_with_a_non_utf8_file_name_is_an_internal_error(tmp_path):
    """The SARIF fingerprint encodes the file name as strict UTF-8 (kspec/rules/output.py):
    a bug in the rules output, reported as exit 4 with one line instead of a traceback."""
    name = os.fsencode(tmp_path) + b"/x\xff.yaml"
    with open(name, "wb") as handle:
        handle.write((ROOT / "models/myapp/services.yaml").read_bytes())
    result = subprocess.run([*KSPEC, "check", "-o", "sarif", str(tmp_path)], capture_output=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode in (0, 1, 4) and b"Traceback" not in result.stderr


# ---------------------------------------------------------------------------- Ctrl-C (real processes)


def interrupt_after(args, seconds: float, ready: str | None = None) -> subprocess.CompletedProcess:
    """Start ``kspec ARGS``, send SIGINT after ``seconds``, collect what it printed."""
    process = subprocess.Popen([*KSPEC, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    time.sleep(seconds)
    assert process.poll() is None, "finished before the interrupt: make the input bigger"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def big_manifests(folder: Path, workloads: int) -> Path:
    docs = []
    for i in range(workloads):
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: d{i}}}
spec:
  replicas: {3 + i % 7}
  selector: {{matchLabels: {{app: d{i}}}}}
  template:
    metadata: {{labels: {{app: d{i}}}}}
    spec:
      containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: {100 + (i * 37) % 400}m, memory: {128 + (i * 53) % 512}Mi}}}}}}]
""")
    path = folder / "big.yaml"
    path.write_text("---\n".join(docs))
    return path


@pytest.mark.slow
def test_ctrl_c_in_explore_prints_partial_results_and_exits_130():
    result = interrupt_after(["explore", RC, "-p", "N=5", "-p", "R=8", "-p", "F=4", "--no-symmetry"], 2.0)
    assert result.returncode == 130, result.stderr
    assert "verdict: inconclusive (bound hit: interrupted)" in result.stdout
    assert "Aborted" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_in_fuzz_prints_partial_results_and_exits_130():
    result = interrupt_after(["fuzz", RC, "-p", "N=4", "-p", "R=6", "-p", "F=3", "--max-examples", "100000",
                              "--seed", "1", "--property", "converges"], 2.0)
    assert result.returncode == 130, result.stderr
    assert "bound hit: interrupted" in result.stdout and "replay with --seed 1" in result.stderr
    assert "Aborted" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_in_schedule_inside_z3_exits_130(tmp_path):
    """Z3 catches SIGINT during a check and answers unknown; kspec must still stop with 130."""
    path = big_manifests(tmp_path, 300)
    for seconds in (1.5, 6.0):
        result = interrupt_after(["schedule", path, "--nodes", "120:cpu=4,memory=16Gi",
                                  "--tolerate-node-failures", "2"], seconds)
        assert result.returncode == 130, result.stderr
        assert result.stderr == "\nkspec: interrupted\n" or result.stderr == "kspec: interrupted\n"


@pytest.mark.slow
def test_ctrl_c_in_check_exits_130(tmp_path):
    path = big_manifests(tmp_path, 20000)
    result = interrupt_after(["check", path], 2.0)
    assert result.returncode == 130, result.stderr
    assert "Aborted" not in result.stderr and "Traceback" not in result.stderr


def test_an_interrupt_swallowed_in_a_finalizer_prints_nothing(capsys):
    """Ctrl-C landing in a Z3 term's __del__ is recorded and raised again later;
    Python's 'Exception ignored in' report of it would only be noise."""
    import sys

    from kspec.util import interrupt

    seen = []
    previous, sys.unraisablehook = sys.unraisablehook, lambda unraisable: seen.append(unraisable.exc_type)
    try:
        with interrupt.watching():
            class Finalized:
                def __init__(self, error):
                    self.error = error

                def __del__(self):
                    raise self.error

            Finalized(KeyboardInterrupt())
            Finalized(ValueError("kept"))
    finally:
        sys.unraisablehook = previous
    assert seen == [ValueError]
