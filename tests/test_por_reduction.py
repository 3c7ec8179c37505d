"""Partial-order reduction on small models whose answers are known by hand:
the ample set (``kspec.checker.reduction``), the cycle proviso and the
visibility condition in the explorer, and what the output says."""

from __future__ import annotations

import json
from typing import ClassVar

import attrs
from hypothesis import given, strategies as st

from kspec.checker.explore import Explorer
from kspec.checker.model import Action, Footprint, Footprints, always, sometimes
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


def test_ample_takes_the_smallest_invisible_component():
    families = (Footprint({"x"}, {"x"}), Footprint({"x", "y"}, {"y"}), Footprint({"z"}, {"z"}))
    # steps 0 and 1 conflict (1 reads x, which 0 writes); step 2 is alone
    assert ample(Footprints(families, [(0, 0), (1, 1), (2, 2)]), frozenset()) == (2,)
    assert ample(Footprints(families, [(0, 0), (1, 1), (2, 2)]), frozenset({"z"})) == (0, 1)
    assert ample(Footprints(families, [(0, 0), (1, 1)]), frozenset()) is None  # one component: everything


def test_a_disabled_family_that_an_enabled_one_can_wake_joins_its_component():
    """Family 2 has no enabled step but its guard ``g`` is written by family
    0, and it writes ``z``, which family 1 reads: all three are one set."""
    families = (Footprint({"x"}, {"x", "g"}), Footprint({"z"}, {"w"}), Footprint({"g"}, {"z"}))
    assert ample(Footprints(families, [(0, 0), (1, 1)]), frozenset()) is None
    asleep = (Footprint({"x"}, {"x"}), Footprint({"z"}, {"w"}), Footprint({"g"}, {"z"}))  # nothing writes g
    assert ample(Footprints(asleep, [(0, 0), (1, 1)]), frozenset()) == (0,)


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
    assert "partial-order reduction off (liveness checks are explored in full: rc-replicas-converge)" in text.stderr
