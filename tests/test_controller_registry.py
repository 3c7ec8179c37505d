"""The built-in controllers' actor names come from the controllers themselves.

A scenario's ``disable:`` takes the actor names that appear in traces. The list
used to be kept by hand and missed ``taint-eviction``, so the taint-based
eviction controller (upstream ``tainteviction.Controller``, which kube-controller-manager
runs as ``taint-eviction-controller`` and lets you turn off) could not be disabled.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import pkgutil
import shutil

import pytest

from kspec.checker.explore import Explorer
from kspec.checker.model import Action
from kspec.simulation import controllers
from kspec.simulation.controllers.builtin import ACTORS, CONTROLLERS, builtin_controllers
from kspec.simulation.scenario import ScenarioError, load_scenario

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
NOT_CONTROLLERS = {"user", "fault"}  # user operations and faults are switched by the scenario, not by disable


def _action_actors() -> set[str]:
    actors = set()
    for info in pkgutil.iter_modules(controllers.__path__):
        module = importlib.import_module(f"{controllers.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls is not Action and cls.__module__ == module.__name__:
                actors.add(cls.actor)
    return actors - NOT_CONTROLLERS


def test_every_actor_in_an_action_can_be_disabled():
    assert _action_actors() <= set(ACTORS)


def test_every_builtin_actor_has_actions():
    assert set(ACTORS) <= _action_actors()


def test_actors_are_read_from_the_controller_classes():
    assert ACTORS == tuple(dict.fromkeys(c.actor for c in CONTROLLERS))
    assert "taint-eviction" in ACTORS


def test_disable_leaves_out_every_controller_of_that_actor():
    kept = builtin_controllers(disable=["gc", "taint-eviction"])
    assert {c.actor for c in kept} == set(ACTORS) - {"gc", "taint-eviction"}
    assert len(builtin_controllers()) == len(CONTROLLERS)


def _antiaffinity_scenario(tmp_path: pathlib.Path, extra: str) -> pathlib.Path:
    for folder in ("myapp", "myapp-antiaffinity"):
        shutil.copytree(MODELS / folder, tmp_path / folder)
    text = (MODELS / "myapp-antiaffinity-node-crash.yaml").read_text()
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace("checks:", extra + "checks:", 1))
    return path


def test_disabling_taint_eviction_leaves_pods_on_a_crashed_node(tmp_path):
    """Without taint-based eviction nothing deletes the pods of a crashed node
    (their node is NotReady and tainted, but the pod objects stay), so the RC
    still counts them and never creates a replacement: ``replacement-created``
    turns from holds to violated; every other verdict of the scenario stays."""
    model = load_scenario(_antiaffinity_scenario(tmp_path, "disable: [taint-eviction]\n"))
    assert "taint-eviction" not in {c.actor for c in model.world.controllers}
    result = Explorer(model, symmetry=True, progress=False).run()
    verdicts = {name: str(result[name].verdict) for name in model.expected["verdicts"]}
    assert verdicts == {**model.expected["verdicts"], "replacement-created": "violated"}


def test_an_unknown_actor_is_rejected_with_the_known_ones(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_antiaffinity_scenario(tmp_path, "disable: [taint-manager]\n"))
    [diagnostic] = err.value.diagnostics
    assert diagnostic.field == "disable[0]"
    assert "unknown controller 'taint-manager'" in diagnostic.message
    assert "taint-eviction" in diagnostic.message


def test_the_docs_list_every_actor_that_can_be_disabled():
    docs = (MODELS.parent / "docs" / "controllers.md").read_text()
    assert ", ".join(ACTORS) in " ".join(line.strip(" #") for line in docs.splitlines()).replace("  ", " ")
