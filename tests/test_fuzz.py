"""The Hypothesis runner: finds seeded bugs, shrinks them to the shortest
(breadth-first) length, and replays from a seed."""

from __future__ import annotations

import pathlib
import sys

import pytest

from kspec.explore import explore
from kspec.fuzz import fuzz
from kspec.model import Verdict, load_model
from kspec.trace import replay

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from test_explore_small import Mutex  # noqa: E402

MODEL = pathlib.Path(__file__).resolve().parent.parent / "models" / "reference" / "rc_converge.py"


def test_fuzz_finds_the_broken_mutex_and_shrinks_to_the_bfs_length():
    m = Mutex(broken=True)
    shortest = len(explore(m)["mutual-exclusion"].trace)
    result = fuzz(m, properties=["mutual-exclusion", "someone-enters"], seed=1, max_examples=200)
    res = result["mutual-exclusion"]
    assert res.verdict is Verdict.VIOLATED
    assert len(res.trace) == shortest == 6
    assert replay(m, res.trace.actions).last.pc == ("critical", "critical")


def test_fuzz_never_proves_and_reports_sometimes_evidence():
    result = fuzz(Mutex(), seed=5, max_examples=30)
    assert result["mutual-exclusion"].verdict is Verdict.INCONCLUSIVE
    assert result["mutual-exclusion"].bound == "random"
    assert result["someone-enters"].verdict is Verdict.HOLDS
    assert result["p0-waiting-enters"].verdict is Verdict.INCONCLUSIVE


def test_seed_replays_the_same_run():
    a = fuzz(Mutex(), seed=11, max_examples=30)
    b = fuzz(Mutex(), seed=11, max_examples=30)
    assert a.seed == b.seed == 11
    assert a["someone-enters"].trace == b["someone-enters"].trace
    assert (a.examples, a.steps) == (b.examples, b.steps)


def test_fuzz_drives_rc_converge_through_the_packed_path():
    m = load_model(MODEL, {"N": 2, "R": 2, "F": 1})
    result = fuzz(m, seed=3, max_examples=40)
    # F = 1: the invariants hold everywhere, so random testing can only stay inconclusive
    assert result["running-at-most-r-plus-1"].verdict is Verdict.INCONCLUSIVE
    assert result.steps > 0


@pytest.mark.slow
def test_fixme_fuzz_misses_rc_overshoot_with_a_small_budget():
    """Known gap: the 12-step overshoot (N=2, R=2, F=2) needs both pods on one
    node, that node to crash and recover, and no other fault in between; a
    uniform random walk hits it about once in 20,000 behaviours. With rules
    per action class (swarm) and ``target`` on the Running count, seed 0 with
    max_examples=1000, steps=20 finds it and shrinks it to 12 steps, the
    breadth-first length, but that takes about 2.5 minutes (``python3
    bench/bench_explore.py fuzz 0``); seeds 1 and 2 did not find it with that budget.
    Exhaustive search finds it in milliseconds. Today's answer with a test-sized
    budget is asserted, so that an improvement shows up as this test failing."""
    m = load_model(MODEL, {"N": 2, "R": 2, "F": 2})
    result = fuzz(m, properties=["running-at-most-r-plus-1"], seed=0, max_examples=100, steps=30)
    assert result["running-at-most-r-plus-1"].verdict is Verdict.INCONCLUSIVE
