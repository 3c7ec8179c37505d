"""Partial-order reduction on small models whose answers are known by hand:
the ample set (``kspec.checker.reduction``), the cycle proviso and the
visibility condition in the explorer, and what the output says."""

from __future__ import annotations

import json
from typing import ClassVar

import attrs
from hypothesis import given, settings, strategies as st

from kspec.checker import explore as explore_module
from kspec.checker.explore import Explorer
from kspec.checker.model import Action, Footprint, Footprints, always, eventually_always, sometimes
from kspec.checker.reduction import ample, is_visible
from support.scenarios import MODELS


@attrs.frozen
class Bump(Action):
    actor: ClassVar[str] = "counter"
    which: str


class Counters:
    """Two counters ``a`` and ``b`` stepping up to ``top`` (``b`` wraps to 0
    when ``wrap``): independent steps, one family each."""

    def __init__(self, top: int = 3, wrap: bool = False):
        self.top, self.wrap = top, wrap

    def init_states(self):
        return [(0, 0)]

    def actions(self, state):
        a, b = state
        out = []
        if a < self.top:
            out.append(Bump("a"))
        if b < self.top or self.wrap:
            out.append(Bump("b"))
        return out

    def next_state(self, state, action):
        a, b = state
        if action.which == "a":
            return (a + 1, b) if a < self.top else None
        if b < self.top:
            return (a, b + 1)
        return (a, 0) if self.wrap else None

    def properties(self):
        return [always("a-bounded", lambda s: s[0] <= self.top), sometimes("a-tops", lambda s: s[0] == self.top)]

    def within_boundary(self, state):
        return True

    def footprints(self, state):
        families = (Footprint({"a"}, {"a"}), Footprint({"b"}, {"b"}))
        return Footprints(families, [(i, 0 if act.which == "a" else 1) for i, act in enumerate(self.actions(state))])

    def visible_keys(self, props):
        return frozenset({"a"})

    def undeclared_steps(self):
        return ""


def test_independent_counters_reduce_to_one_order():
    """b (invisible) goes first, then a: 4 states for b, 3 more for a, not 16."""
    full = Explorer(Counters(), por=False).run()
    reduced = Explorer(Counters(), por=True).run()
    assert full.stats.distinct_states == 16
    assert reduced.stats.distinct_states == 7
    assert [r.verdict for r in reduced.properties] == [r.verdict for r in full.properties]
    assert reduced.stats.reduction and reduced.stats.reduced_expansions == 3


def test_cycle_proviso_keeps_a_step_postponed_around_a_cycle():
    """``b`` cycles forever and is invisible; without the proviso ``a`` would
    be postponed around the cycle and ``a-tops`` reported unreachable."""
    model = Counters(wrap=True)
    full = Explorer(model, por=False).run()
    reduced = Explorer(model, por=True).run()
    assert str(full["a-tops"].verdict) == str(reduced["a-tops"].verdict) == "holds"
    assert reduced.stats.distinct_states <= full.stats.distinct_states


def test_cycle_proviso_under_depth_first_search():
    reduced = Explorer(Counters(wrap=True), por=True, strategy="dfs").run()
    assert str(reduced["a-tops"].verdict) == "holds"


def test_visible_steps_are_not_postponed():
    """When both counters are visible no state is reduced."""
    model = Counters()
    model.visible_keys = lambda props: frozenset({"a", "b"})
    result = Explorer(model, por=True).run()
    assert result.stats.distinct_states == 16 and result.stats.reduced_expansions == 0


class LiveCounters(Counters):
    """The counters with a convergence check on ``a``, both steps weakly fair."""

    def __init__(self, goal, wrap: bool = False):
        super().__init__(wrap=wrap)
        self.goal = goal

    def properties(self):
        return [eventually_always("a-settles", lambda s: self.goal(s[0]), fair=["counter"])]


def test_liveness_verdicts_are_kept_under_the_reduction():
    """With no cycle the reduced graph keeps every state where the behaviour
    may stop (here only (3, 3)), so a convergence check that holds and one
    that is violated get their verdicts from 7 states instead of 16."""
    for goal, verdict in ((lambda a: a == 3, "holds"), (lambda a: a == 0, "violated")):
        full = Explorer(LiveCounters(goal), por=False).run()
        reduced = Explorer(LiveCounters(goal), por=True).run()
        assert str(full["a-settles"].verdict) == str(reduced["a-settles"].verdict) == verdict
        assert (full.stats.distinct_states, reduced.stats.distinct_states) == (16, 7)
        assert reduced.stats.reduction and reduced.stats.reduced_expansions == 3


def test_a_vacuous_verdict_is_only_given_after_a_full_search():
    """``a <= 3`` never fails, so the convergence check's witness (a state
    where it does not hold yet) is never reached. The reduction does not keep
    what witnesses read, so the run explores the full graph before saying
    the check holds vacuously, and says why it did."""
    result = Explorer(LiveCounters(lambda a: a <= 3), por=True).run()
    assert str(result["a-settles"].verdict) == "holds" and result["a-settles"].vacuous
    assert not result.stats.reduction and "a witness was not reached" in result.stats.reduction_text()
    assert result.stats.distinct_states == 16


@attrs.frozen
class BumpA(Action):
    actor: ClassVar[str] = "a-counter"
    which: str = "a"


@attrs.frozen
class BumpB(Action):
    actor: ClassVar[str] = "b-counter"
    which: str = "b"


class TwoActors(LiveCounters):
    """The wrapping counters stepped by two actors, both weakly fair."""

    def actions(self, state):
        return [BumpA() if act.which == "a" else BumpB() for act in super().actions(state)]

    def properties(self):
        return [eventually_always("a-settles", lambda s: self.goal(s[0]), fair=["a-counter", "b-counter"])]


def test_weak_fairness_under_the_reduction_is_judged_on_every_enabled_step():
    """Around ``b``'s cycle the reduced graph expands only ``b`` until the
    proviso; ``a`` is enabled all along and never taken, so the cycle is
    not fair and ``a`` reaching 3 holds. Judged on the expanded steps
    alone, ``a`` would look disabled there and the cycle a violation."""
    model = TwoActors(lambda a: a == 3, wrap=True)
    assert str(Explorer(model, por=False).run()["a-settles"].verdict) == "holds"
    assert str(Explorer(model, por=True).run()["a-settles"].verdict) == "holds"


def test_a_cycle_in_the_reduced_graph_means_liveness_is_explored_again_in_full():
    """``b`` wraps around, so the reduced graph has a cycle; a liveness
    verdict that is not a violation is then not proven by it, and the run
    explores the full graph (and says so)."""
    model = TwoActors(lambda a: a == 3, wrap=True)
    full = Explorer(model, por=False).run()
    result = Explorer(model, por=True).run()
    assert str(result["a-settles"].verdict) == "holds" and not result["a-settles"].vacuous
    assert not result.stats.reduction and "the reduced graph has a cycle" in result.stats.reduction_text()
    assert result.stats.distinct_states == full.stats.distinct_states == 16


@attrs.frozen
class Wake(Action):
    actor: ClassVar[str] = "operator"


@attrs.frozen
class Work(Action):
    actor: ClassVar[str] = "worker"
    what: str


class Wakeup:
    """State (woken, done, ticks): an operator, not assumed fair, may wake a
    worker, which then sets ``done``; the worker also ticks twice. A
    behaviour where the operator never acts stops at (0, 0, 2) with
    ``done`` unset: ``done-forever`` is violated."""

    def init_states(self):
        return [(0, 0, 0)]

    def actions(self, state):
        woken, done, ticks = state
        return ([Wake()] if not woken else []) + ([Work("set")] if woken and not done else []) + (
            [Work("tick")] if ticks < 2 else [])

    def next_state(self, state, action):
        woken, done, ticks = state
        if isinstance(action, Wake):
            return (1, done, ticks)
        return (woken, 1, ticks) if action.what == "set" else (woken, done, ticks + 1)

    def properties(self):
        return [eventually_always("done-forever", lambda s: s[1] == 1, fair=["worker"])]

    def within_boundary(self, state):
        return True

    def footprints(self, state):
        families = (Footprint({"woken"}, {"woken"}), Footprint({"woken", "done"}, {"done"}, guard={"woken"}),
                    Footprint({"ticks"}, {"ticks"}))
        index = {"operator": 0, "set": 1, "tick": 2}
        return Footprints(families, [(i, index[getattr(a, "what", "operator")])
                                     for i, a in enumerate(self.actions(state))])

    def visible_keys(self, props):
        return frozenset({"done"})

    def undeclared_steps(self):
        return ""


def test_a_state_where_an_actor_not_assumed_fair_may_act_is_expanded_in_full():
    """The wake-up alone is a stubborn set at the start (the worker's ``set``
    waits for it, the ticks are independent), but a behaviour may stop
    without it, at (0, 0, 2): postponing the ticks would lose that stop
    and report ``done-forever`` as holding."""
    full = Explorer(Wakeup(), por=False).run()
    reduced = Explorer(Wakeup(), por=True).run()
    assert str(full["done-forever"].verdict) == str(reduced["done-forever"].verdict) == "violated"
    assert reduced.stats.reduced_expansions > 0


def test_ample_sets_that_never_pay_are_given_up(monkeypatch):
    """When none of the first states tried has a smaller ample set, the rest
    are expanded in full without computing footprints (sound either way),
    and the output says so; a reduction that pays goes on."""
    monkeypatch.setattr(explore_module._Run, "TRIAL", 4)
    model = Counters()
    model.visible_keys = lambda props: frozenset({"a", "b"})  # nothing to reduce
    calls = []
    footprints = model.footprints
    model.footprints = lambda state: calls.append(state) or footprints(state)
    result = Explorer(model, por=True).run()
    assert result.stats.distinct_states == 16 and len(calls) == 4
    assert "fewer than 1 in 100 of the first 4 states tried" in result.stats.reduction_text()
    paying = Explorer(Counters(), por=True).run()
    assert paying.stats.reduced_expansions == 3 and "fewer than" not in paying.stats.reduction_text()


def test_ample_takes_the_smallest_invisible_component():
    families = (Footprint({"x"}, {"x"}), Footprint({"x", "y"}, {"y"}), Footprint({"z"}, {"z"}))
    # steps 0 and 1 conflict (1 reads x, which 0 writes); step 2 is alone
    assert ample(Footprints(families, [(0, 0), (1, 1), (2, 2)]), frozenset()) == (2,)
    assert ample(Footprints(families, [(0, 0), (1, 1), (2, 2)]), frozenset({"z"})) == (0, 1)
    assert ample(Footprints(families, [(0, 0), (1, 1)]), frozenset()) is None  # one component: everything


def test_a_disabled_family_brings_only_the_families_that_can_enable_it():
    """Valmari's strong stubborn sets: family 2 has no enabled step, its guard
    ``g`` is written by family 0, and it writes ``z``, which family 1 reads.
    Grown from family 1 the set needs 2 (it writes what 1 reads) and then 0
    (it can enable 2): every step. Grown from family 0 it needs 2 (it reads
    ``g``, which 0 writes), and 2, being disabled, needs only its enabler 0:
    family 1 neither conflicts with 0 nor can enable 2, so step 0 alone is a
    stubborn set, where the connected component of the conflict relation
    would have been every step."""
    families = (Footprint({"x"}, {"x", "g"}), Footprint({"z"}, {"w"}), Footprint({"g"}, {"z"}))
    assert ample(Footprints(families, [(0, 0), (1, 1)]), frozenset()) == (0,)
    waking = (Footprint({"x"}, {"x", "g"}), Footprint({"z"}, {"w", "g"}), Footprint({"g"}, {"z"}))  # 1 writes g too
    assert ample(Footprints(waking, [(0, 0), (1, 1)]), frozenset()) is None
    asleep = (Footprint({"x"}, {"x"}), Footprint({"z"}, {"w"}), Footprint({"g"}, {"z"}))  # nothing writes g
    assert ample(Footprints(asleep, [(0, 0), (1, 1)]), frozenset()) == (0,)


_KEYS = st.frozensets(st.sampled_from("abcdef"), max_size=3)


@st.composite
def _families(draw):
    """Random families over six keys (guards within the reads, or None), some
    of them enabled with one or two steps each."""
    families = []
    for _ in range(draw(st.integers(2, 6))):
        reads, writes = draw(_KEYS), draw(_KEYS)
        guard = draw(st.one_of(st.none(), st.frozensets(st.sampled_from(sorted(reads)), max_size=3)
                               if reads else st.none()))
        families.append(Footprint(reads, writes, guard))
    enabled = draw(st.lists(st.sampled_from(range(len(families))), min_size=1, unique=True))
    of_step = [(i, f) for i, f in enumerate(f for f in enabled for _ in range(draw(st.integers(1, 2))))]
    return Footprints(families, of_step)


def _conflict(x: Footprint, y: Footprint) -> bool:
    return bool(x.writes & (y.reads | y.writes) or y.writes & x.reads)


@settings(max_examples=400)
@given(_families(), _KEYS)
def test_nothing_that_can_act_before_a_stubborn_set_conflicts_with_it(footprints, visible):
    """The stubborn-set condition checked from its definition: the families
    that may act before any chosen step (the enabled ones left out, and any
    family whose guard those may write, transitively) never conflict with a
    chosen family; the chosen steps are a proper, non-empty subset of the
    enabled ones, and none is visible (Valmari; SPIN's C0-C2)."""
    chosen = ample(footprints, visible)
    if chosen is None:
        return
    families = footprints.families
    enabled = {f for _, f in footprints.of_step}
    picked = {f for i, f in footprints.of_step if i in chosen}
    assert chosen and len(chosen) < len(footprints.of_step)
    assert all(i in chosen for i, f in footprints.of_step if f in picked)  # whole families
    assert not any(is_visible(families[f].writes, visible) for f in picked)
    before = set(enabled - picked)
    grew = True
    while grew:
        woken = {g for g, fam in enumerate(families) if g not in before and g not in picked
                 and any(families[f].writes & fam.guard_keys for f in before)}
        grew = bool(woken)
        before |= woken
    assert not any(_conflict(families[b], families[p]) for b in before for p in picked)


@given(st.lists(st.sampled_from("abc"), max_size=3).map(tuple), st.sampled_from("abc"))
def test_a_key_is_visible_when_it_or_a_prefix_is(key, head):
    key = (head,) + key
    assert is_visible(frozenset({key}), frozenset({key}))
    assert is_visible(frozenset({key}), frozenset({(head,)}))
    assert not is_visible(frozenset({key}), frozenset({("d",)}))


def test_output_states_the_reduction_and_why_it_was_off(run_cli):
    path = MODELS / "unresponsive-pod-returns.yaml"
    off = run_cli("explore", path, "--no-por", "-o", "json", "--no-progress")
    doc = json.loads(off.stdout)
    assert doc["stats"]["reduction"] == {"partial_order": False, "note": "--no-por", "reduced_expansions": 0,
                                          "slice": ""}
    text = run_cli("explore", path, "--no-progress")
    assert "partial-order reduction on (0 states expanded by an ample set; ample sets from declared footprints)" in (
        text.stderr)
