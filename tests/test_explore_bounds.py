"""Bounds that hold: a time or memory limit stops the search within one step of
it, in every phase; Ctrl-C gives the partial results as ``interrupted``."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kspec.checker.explore import Explorer, explore
from kspec.checker.fuzz import fuzz
from kspec.checker.model import Verdict, always, eventually_always
from kspec.util.budget import Budget, resident_memory_bytes

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Slow:
    """A counter whose every step takes 50 ms: expensive steps, like a scenario with user controllers."""

    def init_states(self):
        return [0]

    def actions(self, state):
        return ["inc", "dec"]

    def next_state(self, state, action):
        time.sleep(0.05)
        return state + 1 if action == "inc" else state - 1

    def properties(self):
        return [always("finite", lambda s: abs(s) < 10**6), eventually_always("stays", lambda s: s == 0)]

    def within_boundary(self, state):
        return True


class Hungry:
    """Each new state holds 1 MiB: memory grows with the states stored."""

    def init_states(self):
        return [(0, b"")]

    def actions(self, state):
        return ["grow"]

    def next_state(self, state, action):
        return (state[0] + 1, b"x" * 2**20)  # written, so resident (bytes(n) may stay untouched pages)

    def properties(self):
        return [always("finite", lambda s: s[0] >= 0)]

    def within_boundary(self, state):
        return True


def test_time_limit_holds_on_slow_steps():
    start = time.monotonic()
    result = explore(Slow(), time_limit=0.5)
    assert time.monotonic() - start < 0.55
    assert result.bound == "time_limit" and result.verdict is Verdict.INCONCLUSIVE
    assert all(r.verdict is Verdict.INCONCLUSIVE and r.reason for r in result.properties)


def test_a_shared_budget_counts_the_time_spent_before_the_search():
    budget = Budget(time_limit=0.5)
    time.sleep(0.3)  # loading the model, say
    start = time.monotonic()
    result = Explorer(Slow(), budget=budget).run()
    assert time.monotonic() - start < 0.3 and result.bound == "time_limit"


def test_fuzz_time_limit_holds_on_slow_steps():
    start = time.monotonic()
    result = fuzz(Slow(), seed=1, max_examples=1000, steps=50, budget=Budget(time_limit=0.5))
    assert time.monotonic() - start < 0.55 + 0.2  # plus Hypothesis's own start-up
    assert {r.bound for r in result.properties} == {"time_limit"}


HUNGRY_RUN = """
from kspec.checker.explore import explore
from kspec.util.budget import resident_memory_bytes
from tests_hungry import Hungry
cap = resident_memory_bytes() + 60 * 2**20
result = explore(Hungry(), max_memory=cap)
print(result.bound, result.stats.distinct_states)
"""


def test_max_memory_stops_near_the_cap(tmp_path):
    """In a fresh process (memory an earlier test freed would be reused
    without growing the resident size): 1 MiB a state, 60 MiB of headroom,
    plus at most the 16 states between two memory readings."""
    source = pathlib.Path(__file__).read_text()
    hungry = source[source.index("class Hungry:"):source.index("def test_time_limit_holds_on_slow_steps")]
    (tmp_path / "tests_hungry.py").write_text("from kspec.checker.model import always\n\n\n" + hungry)
    run = subprocess.run([sys.executable, "-c", HUNGRY_RUN], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}, timeout=60)
    bound, states = run.stdout.split()
    assert bound == "max_memory", run.stderr
    assert 50 <= int(states) <= 60 + 16 + 4


def test_the_liveness_phase_checks_the_budget():
    class Wide(Slow):
        def next_state(self, state, action):
            return (state + 1) % 30000 if action == "inc" else None

    budget = Budget(time_limit=3600)
    explorer = Explorer(Wide(), budget=budget)
    budget.deadline = time.monotonic() + 0.05  # spent during the liveness analysis, not before
    result = explorer.run()
    assert result["stays"].verdict is Verdict.INCONCLUSIVE and result["stays"].bound == "time_limit"


SLOW_MODEL = textwrap.dedent('''
    import time
    from kspec.checker.model import always, sometimes

    class Slow:
        def init_states(self): return [0]
        def actions(self, s): return ["inc", "dec"]
        def next_state(self, s, a):
            time.sleep(0.01)
            return s + 1 if a == "inc" else s - 1
        def properties(self):
            return [always("finite", lambda s: abs(s) < 10**9), sometimes("three", lambda s: s == 3)]
        def within_boundary(self, s): return True

    MODEL = Slow()
''')


def _interrupted_run(tmp_path, *args) -> subprocess.CompletedProcess:
    model = tmp_path / "slow_model.py"
    model.write_text(SLOW_MODEL)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "kspec", *args, str(model)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    time.sleep(2.5)  # past start-up, inside the search
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_in_explore_prints_partial_results(tmp_path):
    run = _interrupted_run(tmp_path, "explore", "--no-progress")
    assert "Traceback" not in run.stderr, run.stderr
    assert "three (sometimes): holds" in run.stdout  # found before the interrupt, kept
    assert "finite (always): inconclusive (bound hit: interrupted)" in run.stdout
    assert run.returncode == 130


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))  # the signal used to be lost some of the time
def test_ctrl_c_in_fuzz_prints_partial_results(tmp_path, attempt):
    run = _interrupted_run(tmp_path, "fuzz", "--seed", str(attempt), "--max-examples", "100000")
    assert "Traceback" not in run.stderr, run.stderr
    assert "finite (always): inconclusive (bound hit: interrupted)" in run.stdout
    assert run.returncode == 130
