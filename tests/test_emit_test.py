"""Replayable counterexamples: ``kspec explore --emit-test FILE`` writes a pytest
file that rebuilds the model and replays each counterexample step by step; the
emitted file passes on the model it came from and fails when the model changes."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from kspec.checker.explore import explore
from kspec.checker.replay import NothingToEmit, emit_test
from kspec.simulation.modelfile import load_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
RC = ROOT / "models" / "reference" / "rc_converge.py"


def pytest_run(path: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                          capture_output=True, text=True, cwd=path.parent)


def explore_emit(tmp_path, name: str, *args) -> pathlib.Path:
    out = tmp_path / name
    run = subprocess.run([sys.executable, "-m", "kspec", "explore", *args, "--no-progress", "--emit-test", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1, run.stderr  # violated
    return out


@pytest.mark.slow
def test_reference_model_safety_and_lasso_replay(tmp_path):
    emitted = explore_emit(tmp_path, "test_rc.py", str(RC), "-p", "N=2", "-p", "R=2", "-p", "F=2")
    source = emitted.read_text()
    assert "def test_running_at_most_r_plus_1():" in source and "def test_converges():" in source
    assert "PARAMS = {'N': 2, 'R': 2, 'F': 2}" in source
    run = pytest_run(emitted)
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout
    # with one fault the overshoot cannot happen: the recorded trace no longer replays
    emitted.write_text(source.replace("'F': 2}", "'F': 1}"))
    run = pytest_run(emitted)
    assert run.returncode == 1 and "failed" in run.stdout, run.stdout


@pytest.mark.slow
def test_scenario_safety_trace_replays(tmp_path):
    emitted = explore_emit(tmp_path, "test_returns.py", "models/unresponsive-pod-returns.yaml")
    assert "def test_at_most_replicas_running():" in emitted.read_text()
    run = pytest_run(emitted)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout


@pytest.mark.slow
def test_scenario_lasso_replays(tmp_path):
    emitted = explore_emit(tmp_path, "test_drain.py", "models/drain-blocked-by-pdb.yaml")
    assert "assert_lasso(model, prop, states, cycle_start=" in emitted.read_text()
    run = pytest_run(emitted)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout


@pytest.mark.slow
def test_the_model_path_is_relative_to_the_emitted_file(tmp_path):
    model = load_model(RC, {"N": 2, "R": 2, "F": 2})
    result = explore(model, symmetry=True, properties=["running-at-most-r-plus-1"])
    folder = tmp_path / "moved" / "tests"
    folder.mkdir(parents=True)
    (folder.parent / "rc_converge.py").write_text(RC.read_text())
    path = folder / "test_rc.py"
    path.write_text(emit_test(folder.parent / "rc_converge.py", {"N": 2, "R": 2, "F": 2}, result, test_path=path))
    assert "pathlib.Path(__file__).resolve().parent / '../rc_converge.py'" in path.read_text()
    run = pytest_run(path)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr


@pytest.mark.slow
def test_a_step_that_no_longer_replays_fails(tmp_path):
    model = load_model(RC, {"N": 2, "R": 2, "F": 2})
    result = explore(model, symmetry=True, properties=["running-at-most-r-plus-1"])
    source = emit_test(RC, {"N": 2, "R": 2, "F": 2}, result, test_path=tmp_path / "t.py")
    broken = tmp_path / "test_broken.py"
    broken.write_text(source.replace("'action': 'RCCreatePod(slot=0)'", "'action': 'RCCreatePod(slot=9)'", 1))
    run = pytest_run(broken)
    assert run.returncode == 1 and "is not enabled" in run.stdout, run.stdout


def test_nothing_to_emit_without_a_counterexample():
    model = load_model(RC, {"N": 2, "R": 2, "F": 1})
    result = explore(model, symmetry=True, properties=["running-at-most-r-plus-1"])
    with pytest.raises(NothingToEmit):
        emit_test(RC, {}, result)


@pytest.mark.slow
def test_a_scenario_naming_files_outside_its_folder_replays_with_the_same_permission(tmp_path):
    """``--allow-paths-outside``: the emitted test loads the scenario the same way."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    source = (ROOT / "models" / "unresponsive-pod-returns.yaml").read_text()
    manifests = ROOT / "models" / "myapp"
    scenario = scenarios / "returns.yaml"
    scenario.write_text(source.replace("  - myapp/", f"  - {manifests.as_posix()}/"))
    emitted = explore_emit(tmp_path, "test_outside.py", str(scenario), "--allow-paths-outside",
                           "--property", "at-most-replicas-running")
    assert "ALLOW_OUTSIDE = True" in emitted.read_text()
    run = pytest_run(emitted)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout
