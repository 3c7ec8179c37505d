"""Worker processes for the parts of a split run.

A split run (:mod:`kspec.simulation.split`) explores independent models, one
for the checks that do not split and one per Service; nothing passes between
them but the state count under ``--max-states`` and, once every split check
is decided, the depth the later Services are searched to for a shorter
trace. :class:`Workers` runs such parts in worker processes: each builds its
part's model from the scenario (deterministic, and cheaper than sending a
model with its caches) and sends back the result. The deadline is the run's;
the memory cap holds for each worker. Parts that need the sequential order
(``--max-states`` counts every part's states, ``--stop-at-first`` stops the
whole run) are not explored this way: :func:`applies` says so.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from typing import Sequence

from kspec.checker.explore import ExploreResult, Explorer
from kspec.simulation.scenario import Scenario, build_model
from kspec.util.budget import Budget, BudgetExceeded

__all__ = ["Workers", "applies", "outcome", "peak_bytes"]


def applies(explorer: Explorer, parts: Sequence, jobs: int) -> bool:
    """Whether ``parts`` may be explored ``jobs`` at a time with ``explorer``'s settings."""
    return jobs > 1 and len(parts) > 1 and explorer.max_states is None and not explorer.stop_at_first


class Workers:
    """``size`` worker processes exploring parts with ``explorer``'s settings
    (a context manager; leaving it by Ctrl-C cancels what has not started)."""

    def __init__(self, explorer: Explorer, size: int):
        self.size = size
        budget = explorer.run_budget()
        self.deadline = None if budget is None else budget.deadline
        self.settings = {"strategy": explorer.strategy, "symmetry": explorer.symmetry,
                         "max_memory": explorer.max_memory, "seed": explorer.seed, "packed": explorer.packed,
                         "por": explorer.por, "stop_when_decided": explorer.stop_when_decided}
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=size, mp_context=context)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.pool.shutdown(wait=True, cancel_futures=kind is not None)

    def submit(self, scenario: Scenario, max_depth: int | None) -> concurrent.futures.Future:
        """Explore ``scenario``'s model to ``max_depth``; the future gives an
        :class:`ExploreResult`, or the :class:`BudgetExceeded` that stopped its loading."""
        left = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        return self.pool.submit(_explore_part, scenario, {**self.settings, "max_depth": max_depth, "time_limit": left})


def outcome(future: concurrent.futures.Future) -> ExploreResult | BudgetExceeded:
    """A finished part's result; a part Ctrl-C or a dead worker kept from finishing is ``interrupted``."""
    try:
        return future.result()
    except (KeyboardInterrupt, concurrent.futures.CancelledError, concurrent.futures.process.BrokenProcessPool):
        return BudgetExceeded("interrupted")


def _explore_part(scenario: Scenario, settings: dict) -> ExploreResult | BudgetExceeded:
    """In a worker: build one part's model and explore it."""
    budget = Budget(time_limit=settings["time_limit"], max_memory=settings["max_memory"])
    try:
        model = build_model(scenario, budget)
        return Explorer(model, budget=budget, progress=False, **settings).run()
    except BudgetExceeded as err:
        return err


def peak_bytes(results: Sequence[ExploreResult], jobs: int) -> int:
    """At most this much memory was resident at once: the ``jobs`` largest parts' peaks together."""
    peaks = sorted((r.stats.peak_memory_bytes for r in results), reverse=True)
    return sum(peaks[:jobs])
