"""kspec: declarative rules and formal model checking for Kubernetes designs.

The public surface, all importable from ``kspec``:

- loading: :func:`load` (a frozen, hashable :class:`~kspec.loading.cluster.Cluster`,
  or :class:`LoadError` with every diagnostic), :func:`load_objects` (never
  raises), :func:`parse_object` (one manifest, defaulted and validated);
- model checking: :func:`load_model` (a scenario ``.yaml`` or a ``.py`` model
  file), :func:`explore` (exhaustive search), :func:`fuzz` (Hypothesis random
  exploration), the property constructors :func:`always`, :func:`sometimes`,
  :func:`eventually_always`, :func:`leads_to`, and :class:`Action` for models
  written in Python;
- results: :class:`Verdict` (holds, violated, inconclusive); every error kspec
  raises on purpose is a :class:`KspecError`.

Load the manifests you already have into one cluster model:

>>> import kspec
>>> cluster = kspec.load("models/myapp")
>>> [rc.metadata.name for rc in cluster.of_kind("ReplicationController")]
['backend', 'frontend']
>>> cluster == kspec.load(["models/myapp"])
True

Explore the article's scenario and read one verdict:

>>> result = kspec.explore(kspec.load_model("models/scale-down-not-ready.yaml"), symmetry=True)
>>> result["scale-down-deletes-not-ready"].verdict
<Verdict.HOLDS: 'holds'>
>>> result.stats.distinct_states
14

A model of your own, checked the same way:

>>> import attrs
>>> @attrs.frozen
... class Tick(kspec.Action):
...     actor = "clock"
>>> class Counter:
...     def init_states(self): return [0]
...     def actions(self, state): return [Tick()]
...     def next_state(self, state, action): return (state + 1) % 3
...     def properties(self): return [kspec.always("below-3", lambda s: s < 3)]
...     def within_boundary(self, state): return True
>>> kspec.explore(Counter()).verdict
<Verdict.HOLDS: 'holds'>
"""

from kspec.checker.model import Action, Verdict, always, eventually_always, leads_to, sometimes
from kspec.errors import KspecError, LoadError
from kspec.loading.manifests import load, load_objects, parse_object
from kspec.util.version import VERSION

__version__ = VERSION

__all__ = [
    "Action",
    "KspecError",
    "LoadError",
    "Verdict",
    "__version__",
    "always",
    "eventually_always",
    "explore",
    "fuzz",
    "leads_to",
    "load",
    "load_model",
    "load_objects",
    "parse_object",
    "sometimes",
]


# Imported on first use, so that ``import kspec`` (and every CLI verb) does not
# pay for the simulation layer or Hypothesis unless it needs them.
_LAZY = {
    "explore": "kspec.checker.explore",
    "fuzz": "kspec.checker.fuzz",
    "load_model": "kspec.simulation.modelfile",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kspec' has no attribute {name!r}")
    import importlib  # deferred: start-up time

    return getattr(importlib.import_module(module), name)
