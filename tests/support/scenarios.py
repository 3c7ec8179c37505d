"""The bundled scenarios (``models/*.yaml``), each explored at most once per test run.

Several tests read the same exploration (its pinned counts, a verdict, the
shape of one trace); :func:`explored` runs it the first time and hands the
same result to the next test. Results are only read, never changed.
"""

from __future__ import annotations

import functools
import pathlib

from kspec.checker.explore import Explorer
from kspec.simulation.scenario import load_scenario

MODELS = pathlib.Path(__file__).resolve().parent.parent.parent / "models"


def explored(name: str, symmetry: bool = True):
    """``(model, result)`` of ``models/<name>.yaml``, explored breadth-first;
    ``symmetry`` applies only where the model has a representative function."""
    return _explored(name, bool(symmetry))


@functools.cache  # keyed on positional arguments only: explored() normalises them
def _explored(name: str, symmetry: bool):
    model = load_scenario(MODELS / f"{name}.yaml")
    symmetry = symmetry and hasattr(model, "representative")
    return model, Explorer(model, symmetry=symmetry, progress=False).run()
