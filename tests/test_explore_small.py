"""Explorer on small hand-made models with known graphs: state counts, verdicts,
exact shortest traces; quality tests with seeded bugs (stateright's
``assert_discovery`` style)."""

from __future__ import annotations

from typing import ClassVar

import attrs
import pytest

from kspec.checker.explore import Explorer, explore, _tarjan
from kspec.checker.model import Action, Verdict, always, eventually_always, leads_to, sometimes
from kspec.checker.trace import assert_trace, replay
from support.models import Deep, Mutex, Step


# -- a counter ------------------------------------------------------------------


@attrs.frozen
class Inc(Action):
    actor: ClassVar[str] = "counter"


@attrs.frozen
class Reset(Action):
    actor: ClassVar[str] = "reset"


@attrs.frozen
class Counter:
    """0 -> 1 -> ... -> top, and Reset from top back to 0."""

    top: int = 5
    wrap: bool = True

    def init_states(self):
        return [0]

    def actions(self, s):
        return [Inc(), Reset()]

    def next_state(self, s, a):
        if isinstance(a, Inc):
            return s + 1 if s < self.top else None
        return 0 if self.wrap and s == self.top else None

    def properties(self):
        return [
            always("below-4", lambda s: s < 4),
            sometimes("reaches-top", lambda s: s == self.top),
            sometimes("reaches-99", lambda s: s == 99),
            eventually_always("settles-at-top", lambda s: s == self.top, fair={"counter"}),
            leads_to("zero-leads-to-top", lambda s: s == 0, lambda s: s == self.top, fair={"counter"}),
        ]

    def within_boundary(self, s):
        return True


def test_counter_counts_verdicts_and_shortest_trace():
    result = explore(Counter())
    assert result.stats.distinct_states == 6
    assert result.stats.transitions == 6
    assert result.stats.max_depth == 5
    assert result["below-4"].verdict is Verdict.VIOLATED
    assert_trace(result["below-4"], [Inc()] * 4)
    assert result["reaches-top"].verdict is Verdict.HOLDS
    assert len(result["reaches-top"].trace) == 5
    assert result["reaches-99"].verdict is Verdict.VIOLATED  # unreachable sometimes fails
    # with the wrap-around, the counter cycles through 0 forever under fairness
    assert result["settles-at-top"].verdict is Verdict.VIOLATED
    assert result["zero-leads-to-top"].verdict is Verdict.HOLDS


def test_counter_without_wrap_settles():
    result = explore(Counter(wrap=False), properties=["settles-at-top"])
    assert result["settles-at-top"].verdict is Verdict.HOLDS


def test_counter_liveness_without_fairness_fails_by_stuttering():
    class Lazy(Counter):
        def properties(self):
            return [eventually_always("settles", lambda s: s == self.top)]

    result = explore(Lazy(wrap=False))
    res = result["settles"]
    assert res.verdict is Verdict.VIOLATED
    assert len(res.trace) == 0 and res.cycle_start == 0  # may stay at 0 forever


def test_bounds_make_results_inconclusive():
    result = explore(Counter(), max_states=3)
    assert result.bound == "max_states" and not result.complete
    assert result.stats.distinct_states == 3
    assert result["below-4"].verdict is Verdict.INCONCLUSIVE
    assert result["below-4"].bound == "max_states"
    deep = explore(Counter(), max_depth=2)
    assert deep.bound == "max_depth"
    assert deep["reaches-top"].verdict is Verdict.INCONCLUSIVE
    assert deep["settles-at-top"].verdict is Verdict.INCONCLUSIVE


def test_interrupt_returns_partial_inconclusive_result():
    class Interrupting(Counter):
        def next_state(self, s, a):
            if s == 3:
                raise KeyboardInterrupt
            return super().next_state(s, a)

    result = explore(Interrupting(), properties=["reaches-top", "settles-at-top"])
    assert result.bound == "interrupted"
    assert result["reaches-top"].verdict is Verdict.INCONCLUSIVE
    assert result["settles-at-top"].verdict is Verdict.INCONCLUSIVE


# -- two-process mutex (Peterson, and a broken variant) ---------------------------


def test_peterson_holds_with_pinned_count():
    result = explore(Mutex())
    assert result.stats.distinct_states == 20
    assert result["mutual-exclusion"].verdict is Verdict.HOLDS
    assert result["someone-enters"].verdict is Verdict.HOLDS
    assert result["p0-waiting-enters"].verdict is Verdict.HOLDS


def test_broken_mutex_shortest_counterexample():
    result = explore(Mutex(broken=True))
    assert result.stats.distinct_states == 16
    res = result["mutual-exclusion"]
    assert res.verdict is Verdict.VIOLATED
    assert_trace(res, [Step(0), Step(0), Step(1), Step(1), Step(0), Step(1)])
    # the trace replays in the model, state by state
    assert replay(Mutex(broken=True), res.trace.actions).states == res.trace.states


def test_dfs_finds_the_same_states_and_a_real_violation():
    result = explore(Mutex(broken=True), strategy="dfs")
    assert result.stats.distinct_states == 16
    trace = result["mutual-exclusion"].trace
    assert trace.last.pc == ("critical", "critical")
    assert replay(Mutex(broken=True), trace.actions).last == trace.last


def test_stop_at_first_marks_others_inconclusive():
    result = explore(Mutex(broken=True), stop_at_first=True, properties=["mutual-exclusion", "p0-waiting-enters"])
    assert result.bound == "stopped_at_first_violation"
    assert result["mutual-exclusion"].verdict is Verdict.VIOLATED
    assert result["p0-waiting-enters"].verdict is Verdict.INCONCLUSIVE


def test_random_strategy_finds_the_bug_but_proves_nothing():
    result = explore(Mutex(broken=True), strategy="random", seed=3, time_limit=5)
    assert result["mutual-exclusion"].verdict is Verdict.VIOLATED
    assert result["p0-waiting-enters"].verdict is Verdict.INCONCLUSIVE


# -- fair and unfair cycles -------------------------------------------------------------


@attrs.frozen
class Spin(Action):
    actor: ClassVar[str] = "spinner"


@attrs.frozen
class Finish(Action):
    actor: ClassVar[str] = "worker"


@attrs.frozen
class Fault(Action):
    actor: ClassVar[str] = "fault"


@attrs.frozen
class Cycles:
    """State 0 spins (0 <-> 1) or finishes (-> 2, done). From 2 a fault can
    lead to 3, which loops on itself by a fault forever."""

    def init_states(self):
        return [0]

    def actions(self, s):
        return [Spin(), Finish(), Fault()]

    def next_state(self, s, a):
        if isinstance(a, Spin):
            return {0: 1, 1: 0}.get(s)
        if isinstance(a, Finish):
            return 2 if s in (0, 1) else None
        return {2: 3, 3: 3}.get(s)

    def properties(self):
        done = lambda s: s >= 2  # noqa: E731
        return [
            eventually_always("done-if-worker-fair", done, fair={"worker"}),
            eventually_always("done-if-only-spinner-fair", done, fair={"spinner"}),
            eventually_always("not-3-if-worker-fair", lambda s: s != 3, fair={"worker"}),
            eventually_always("not-3-if-fault-fair", lambda s: s != 3, fair={"worker", "fault"}),
        ]

    def within_boundary(self, s):
        return True


def test_fair_and_unfair_cycles():
    result = explore(Cycles())
    assert result.stats.distinct_states == 4
    # the spin cycle is unfair to the worker, which is always enabled there
    assert result["done-if-worker-fair"].verdict is Verdict.HOLDS
    # only the spinner is fair: spinning forever is a fair behaviour
    res = result["done-if-only-spinner-fair"]
    assert res.verdict is Verdict.VIOLATED
    assert_trace(res, [Spin(), Spin()], cycle_start=0)
    # faults need not happen, but may: 3 is reachable and loops by a fault
    res = result["not-3-if-worker-fair"]
    assert res.verdict is Verdict.VIOLATED
    assert_trace(res, [Finish(), Fault()], cycle_start=2)
    assert result["not-3-if-fault-fair"].verdict is Verdict.VIOLATED  # the self-loop is fault-fair


# -- quality tests: seeded bugs the explorer must find -------------------------------------


def test_quality_safety_bug_at_depth_8():
    result = explore(Deep())
    assert result.stats.distinct_states == 36
    trace = result["not-both-4"].trace
    assert len(trace) == 8 and trace.last == (4, 4)


def test_quality_liveness_bug_told_apart_by_fairness():
    # same graph, different fairness: only one verdict is a violation
    result = explore(Cycles(), properties=["done-if-worker-fair", "done-if-only-spinner-fair"])
    assert [r.verdict for r in result.properties] == [Verdict.HOLDS, Verdict.VIOLATED]


def test_quality_unreachable_sometimes_is_violated():
    assert explore(Deep(), properties=[]).verdict is Verdict.VIOLATED  # properties=() means all
    result = Explorer(Counter(), properties=["reaches-99"]).run()
    assert result["reaches-99"].verdict is Verdict.VIOLATED


def test_tarjan_is_iterative_on_a_long_chain():
    n = 50_000  # far beyond the recursion limit
    adj = [[i + 1] for i in range(n - 1)] + [[0]]
    comps = _tarjan(adj.__getitem__, n)
    assert len(comps) == 1 and len(comps[0]) == n


def brute_force_count(model) -> int:
    """Reachable states by a plain breadth-first closure, independent of the explorer."""
    seen = set(model.init_states())
    todo = list(seen)
    while todo:
        s = todo.pop()
        for a in model.actions(s):
            t = model.next_state(s, a)
            if t is not None and t not in seen:
                seen.add(t)
                todo.append(t)
    return len(seen)


@pytest.mark.parametrize(
    "model, count",
    [(Counter(), 6), (Mutex(), 20), (Mutex(broken=True), 16), (Cycles(), 4), (Deep(), 36)],
)
def test_pinned_counts_match_brute_force(model, count):
    assert explore(model).stats.distinct_states == brute_force_count(model) == count
