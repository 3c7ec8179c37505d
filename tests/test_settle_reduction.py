"""``start: settled`` under partial-order reduction reaches the same settled
states as without it: stubborn sets keep every state where no controller acts
(Valmari's deadlock-preservation theorem), here checked by comparison on every
bundled scenario that settles and on random small scenarios."""

from __future__ import annotations

import pathlib
import tempfile

import pytest
from hypothesis import HealthCheck, assume, given, settings

from kspec.checker.explore import Explorer
from kspec.errors import KspecError
from kspec.simulation.scenario import load_scenario
from support.profiles import examples
from support.random_scenarios import scenarios
from support.scenarios import MODELS


def _settled(path, reduce: bool) -> set:
    model = load_scenario(path)
    model.reduce_settling = reduce
    return set(model.init_states())


SETTLING = sorted(p.stem for p in MODELS.glob("*.yaml") if load_scenario(p).scenario.start == "settled")


@pytest.mark.parametrize("name", SETTLING)
def test_settling_reaches_the_same_states_with_and_without_reduction(name):
    path = MODELS / f"{name}.yaml"
    assert _settled(path, True) == _settled(path, False)


def test_the_explorer_turns_settling_reduction_off_with_no_por():
    model = load_scenario(MODELS / "rolling-update.yaml")
    Explorer(model, por=False, max_states=10, progress=False).run()
    assert model.reduce_settling is False
    Explorer(model, max_states=10, progress=False).run()
    assert model.reduce_settling is True


@settings(examples(10), suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios())
def test_random_scenarios_settle_alike_with_and_without_reduction(drawn):
    with tempfile.TemporaryDirectory() as tmp:
        path = drawn.write(pathlib.Path(tmp))
        try:
            reduced = _settled(path, True)
        except KspecError:
            assume(False)
        assert reduced == _settled(path, False)
