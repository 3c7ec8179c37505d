"""The model contract: required methods, optional capabilities as named protocols,
no empty "holds", and the checker importing nothing above it."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

from kspec.checker.explore import explore
from kspec.checker.fuzz import fuzz
from kspec.checker.model import (
    Describable,
    Description,
    HasAssumptions,
    Model,
    ModelError,
    PackedBoundary,
    PackedEncoding,
    PackedSymmetric,
    Stepped,
    Symmetric,
    Verdict,
    always,
    eventually_always,
    successors,
    is_symmetric,
    load_model_file,
    warnings_of,
)
from kspec.simulation.modelfile import load_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
RC = ROOT / "models" / "reference" / "rc_converge.py"
CHECKER = ROOT / "kspec" / "checker"


class Plain:
    """The five required methods and nothing else."""

    def __init__(self, inits=(0,), inside=lambda s: True):
        self.inits, self.inside = list(inits), inside

    def init_states(self):
        return self.inits

    def actions(self, state):
        return ["up"]

    def next_state(self, state, action):
        return state + 1 if state < 3 else None

    def properties(self):
        return [always("small", lambda s: s < 10), eventually_always("reaches-3", lambda s: s == 3)]

    def within_boundary(self, state):
        return self.inside(state)


def test_capabilities_are_named_protocols():
    plain = Plain()
    assert isinstance(plain, Model)
    assert not any(isinstance(plain, p) for p in (Symmetric, PackedEncoding, Describable, HasAssumptions))
    assert not is_symmetric(plain) and warnings_of(plain) == ()
    rc = load_model(RC, {"N": 2, "R": 2, "F": 1})
    for capability in (Model, Symmetric, PackedEncoding, PackedSymmetric, PackedBoundary, Describable, HasAssumptions):
        assert isinstance(rc, capability), capability.__name__
    assert rc.describe() == Description("rc_converge", (("N", 2), ("R", 2), ("F", 1)))
    assert dict(rc.assumptions())["nodes"] == "2 identical nodes (node-1..node-2)"


def test_a_bundled_scenario_keeps_the_contract():
    model = load_model(ROOT / "models" / "unresponsive-pod-returns.yaml")
    assert isinstance(model, Describable) and isinstance(model, HasAssumptions) and is_symmetric(model)
    assert model.describe().title and {"nodes", "faults", "not modelled"} <= dict(model.assumptions()).keys()


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "models").glob("*.yaml")))
def test_a_scenario_lists_its_steps_as_successors_does(name):
    """``step_list`` (the explorer's path) gives, state by state, the indexes
    and next states ``actions``/``next_state`` give (the first 300 states)."""
    model = load_model(ROOT / "models" / f"{name}.yaml")
    assert isinstance(model, Stepped)
    seen, queue = set(), list(model.init_states())
    while queue and len(seen) < 300:
        state = queue.pop(0)
        listed = model.step_list(state)
        assert listed == [(i, nxt) for i, _, nxt in successors(model, state)]
        for _, nxt in listed:
            if nxt not in seen and model.within_boundary(nxt):
                seen.add(nxt)
                queue.append(nxt)


def test_zero_initial_states_is_a_model_error():
    with pytest.raises(ModelError, match="has no initial states"):
        explore(Plain(inits=()))
    with pytest.raises(ModelError, match="has no initial states"):
        fuzz(Plain(inits=()), max_examples=5)


def test_zero_initial_states_exits_2_through_the_cli(tmp_path):
    model = tmp_path / "empty_model.py"
    model.write_text("from kspec.checker.model import always\n"
                     "class Empty:\n"
                     "    def init_states(self): return []\n"
                     "    def actions(self, s): return []\n"
                     "    def next_state(self, s, a): return None\n"
                     "    def properties(self): return [always('p', bool)]\n"
                     "    def within_boundary(self, s): return True\n"
                     "MODEL = Empty()\n")
    run = subprocess.run([sys.executable, "-m", "kspec", "explore", str(model)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "has no initial states" in run.stderr and "Traceback" not in run.stderr


def test_a_boundary_that_cuts_every_initial_state_is_inconclusive_never_holds():
    result = explore(Plain(inside=lambda s: s > 100))
    assert result.stats.distinct_states == 0 and not result.complete
    assert result.verdict is Verdict.INCONCLUSIVE and result.bound == "boundary"
    assert "excludes every initial state" in result.reason
    for res in result.properties:
        assert res.verdict is Verdict.INCONCLUSIVE and res.bound == "boundary"
        assert "excludes every initial state" in res.reason
    doc = result.to_json()
    assert doc["reason"] == result.reason and doc["properties"][0]["reason"] == result.reason


def test_scenario_bound_that_cuts_every_initial_state():
    """A scenario whose max_pods is below the pods its manifests start with explores nothing."""
    run = subprocess.run([sys.executable, "-m", "kspec", "explore", "models/unresponsive-pod-returns.yaml",
                          "-p", "max_pods=1", "-o", "json", "--no-progress"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr  # inconclusive: 0, or 3 under --strict
    assert '"verdict": "inconclusive"' in run.stdout and "excludes every initial state" in run.stdout
    assert '"distinct_states": 0' in run.stdout


def test_reasons_appear_only_on_inconclusive_verdicts():
    result = explore(Plain(), properties=["small"])
    assert result.verdict is Verdict.HOLDS and result.reason is None
    assert "reason" not in result.to_json() and all("reason" not in r.to_json() for r in result.properties)
    bounded = explore(Plain(), max_states=2)
    assert bounded["small"].verdict is Verdict.INCONCLUSIVE and "max_states" in bounded["small"].reason


def test_load_model_file_only_loads_python_models(tmp_path):
    assert isinstance(load_model_file(RC, {"N": 2}), Model)
    half = tmp_path / "half_model.py"
    half.write_text("class Half:\n    def init_states(self): return [0]\nMODEL = Half()\n")
    with pytest.raises(ModelError, match="lacks actions, next_state, properties, within_boundary"):
        load_model_file(half)


def _imports(path: pathlib.Path):
    """(module imported, at function level?) for every import in a file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) not in top
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, id(node) not in top


@pytest.mark.parametrize("path", sorted(CHECKER.glob("*.py")), ids=lambda p: p.name)
def test_the_checker_imports_nothing_above_it_and_nothing_lazily(path):
    allowed = ("kspec.errors", "kspec.util", "kspec.checker")
    for module, lazy in _imports(path):
        if module.startswith("kspec"):
            assert module.startswith(allowed), f"{path.name} imports {module}"
        assert not lazy, f"{path.name} imports {module} inside a function"
