"""One entry point for a model named by a file: a ``.py`` model or a ``.yaml`` scenario.

The generic part (importing a user's Python file and calling its
``build_model(**params)`` or taking its ``MODEL``) belongs to the checker
(:func:`kspec.checker.model.load_model_file`); scenario files are this layer's
(:func:`kspec.simulation.scenario.load_scenario`). Every command, report and
benchmark that takes a model path calls :func:`load_model`; a test emitted by
``kspec explore --emit-test`` calls it too, to rebuild the model it replays.
"""

from __future__ import annotations

import pathlib
from typing import Any, Collection, Mapping

from kspec.checker.model import Model, ModelError, load_model_file
from kspec.simulation.scenario import load_scenario
from kspec.util.budget import Budget

__all__ = ["load_model"]

SCENARIO_SUFFIXES = (".yaml", ".yml")


def load_model(path: str | pathlib.Path, params: Mapping[str, Any] | None = None,
               budget: Budget | None = None, *, allow_outside: bool = False, slicing: bool = True,
               checked: Collection[str] | None = None) -> Model:
    """The model that ``path`` describes, built with ``params``.

    ``allow_outside``: a scenario may name manifests and controllers outside
    its own folder (``--allow-paths-outside``). ``slicing``: a scenario leaves
    out controllers whose output no check reads (``--no-slice`` turns it off),
    judged on the checks named in ``checked`` (None: all; ``--property``).

    ``budget`` bounds the loading (a scenario's settling of its initial
    states runs user controllers); it is checked before and after loading,
    and a scenario's own loops check it when they accept one.
    """
    path = pathlib.Path(path)
    if budget is not None:
        budget.check()
    suffix = path.suffix.lower()
    if suffix in SCENARIO_SUFFIXES:
        if not path.is_file():
            raise ModelError(f"{path}: no such model file")
        model = load_scenario(path, dict(params or {}), budget=budget, allow_outside=allow_outside, slicing=slicing,
                              checked=checked)
    elif suffix == ".py":
        model = load_model_file(path, dict(params or {}))
    else:
        raise ModelError(f"{path}: a model is a .py model file or a .yaml scenario file")
    if budget is not None:
        budget.check()
    return model
