"""What the verbs share: options, loading input, a model's input files, ``--report``.

Loading raises :class:`~kspec.errors.KspecError` on bad input; the verb lets
it escape and :class:`kspec.cli.exits.Verb` prints it (one line per problem)
and exits 2.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import click

from kspec.checker.model import USER_CODE_ERRORS, Model, ModelError, parse_params, user_error
from kspec.cli.exits import Verb
from kspec.errors import KspecError
from kspec.loading.manifests import load
from kspec.util.budget import Budget

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True}


def verb(name: str):
    """``@click.command(name)`` as a kspec :class:`~kspec.cli.exits.Verb` (``-h``, defaults shown)."""
    return click.command(name, cls=Verb, context_settings=CONTEXT_SETTINGS)


paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))

strict_option = click.option("--strict", is_flag=True,
                             help="Exit 3 when a verdict is inconclusive (a bound was hit, the solver gave up).")


exhaustive_option = click.option(
    "--exhaustive", is_flag=True,
    help="Explore every reachable state even once every check is decided (each always violated, each sometimes "
         "reached): the verdicts and traces are the same, the state count is the whole space's.")


def nodes_option(func):
    return click.option(
        "--nodes",
        "nodes",
        multiple=True,
        metavar="COUNT:RES=QTY,...[;zones=..][;labels=..][;taints=..][;name=..]",
        help="Add a pool of identical nodes, e.g. 3:cpu=4,memory=16Gi (repeatable).",
    )(func)


def params_option(func):
    return click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
                        help="Model or scenario parameter (repeatable); integers are converted.")(func)


def allow_outside_option(func):
    return click.option(
        "--allow-paths-outside", "allow_outside", is_flag=True,
        help="Let a scenario name manifests and controller files outside its own folder "
             "(controllers run as Python code with your rights).")(func)


def report_option(func):
    """``--report FILE``: also write a report (format from the suffix: .html,
    .md, .json, .sarif, .xml, .txt; ``-`` for stdout); the verb receives
    ``report_path`` and checks it with :func:`kspec.cli.output.check_output`
    before any work."""
    return click.option(
        "--report", "report_path", default=None, metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True),
        help="Also write a self-contained report to FILE (format from the suffix: .html, .md, .json, .sarif, .xml).",
    )(func)


def load_cluster(paths, nodes=()):
    """The cluster in ``paths`` plus node pools; raises LoadError on bad input."""
    return load(list(paths), nodes=nodes)


def load_model(model_path: str, params: Iterable[str], budget: Budget | None = None,
               allow_outside: bool = False, slicing: bool = True,
               checked: Iterable[str] | None = None) -> tuple[Model, dict]:
    """``(model, parameter values)`` from ``-p`` values; a parameter the model
    cannot take is bad input (KspecError), like a file that does not load.
    ``slicing``: see :func:`kspec.simulation.modelfile.load_model`."""
    from kspec.simulation.modelfile import load_model as build  # deferred: start-up time (check, inspect)

    values = parse_params(params)
    try:
        return build(model_path, values, budget=budget, allow_outside=allow_outside, slicing=slicing,
                     checked=None if checked is None else frozenset(checked)), values
    except KspecError:
        raise
    except (TypeError, ValueError, OverflowError) as err:
        raise ModelError(f"{model_path}: invalid parameters: {err}") from None


def run_model(run: Callable[[], Any], model_path: str) -> Any:
    """``run()`` (an exploration, a fuzz run), with an exception from the
    model's own code turned into one line of bad input: the search calls the
    user's ``actions``/``next_state``/properties, and their bugs are not kspec's."""
    try:
        return run()
    except ModelError as err:  # a broken contract (no initial states, ...): name the model file
        if str(model_path) in str(err):
            raise
        raise ModelError(f"{model_path}: {err}") from None
    except KspecError:
        raise
    except USER_CODE_ERRORS as err:  # sys.exit(0) in a step too: never a silent success
        raise ModelError(f"{model_path}: the model {user_error(err)}") from None


def scenario_of(model: Any):
    """The scenario a cluster model was built from; None for a ``.py`` model."""
    # deferred: start-up time (a model exists, so the simulation layer is loaded already)
    from kspec.simulation.scenario import ClusterModel

    return model.scenario if isinstance(model, ClusterModel) else None


def scenario_manifests(model: Any) -> list[str]:
    """The manifest paths a scenario names (none for a ``.py`` model)."""
    scenario = scenario_of(model)
    return [str(p) for p in scenario.manifests] if scenario is not None else []


def scenario_pools(model: Any) -> list[str]:
    """The node pools a scenario declares (none for a ``.py`` model)."""
    scenario = scenario_of(model)
    return list(scenario.nodes) if scenario is not None else []


def model_inputs(model_path: str, model: Any) -> list[str]:
    """The files a model reads: the model or scenario file, and a scenario's
    manifests and controller modules (what an output must never overwrite)."""
    scenario = scenario_of(model)
    controllers = [str(module) for module, _, _ in scenario.controllers] if scenario is not None else []
    return [str(model_path), *scenario_manifests(model), *controllers]
