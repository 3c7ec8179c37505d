"""A check over every Service, explored one Service at a time.

Slicing (:mod:`kspec.simulation.slicing`) leaves out the Endpoints syncs of
the Services no check reads; a check over every Service reads them all, so
on its own it keeps the whole model, and an application with a dozen
Services is out of reach. But the library checks listed in
:data:`~kspec.simulation.properties.SPLIT_OVER_SERVICES` are, over every
Service, a conjunction or a disjunction of the same check on each Service
alone, and for the right temporal operator the quantifier moves outside:

- ``always (forall s. P_s)`` = ``forall s. always P_s`` (a state breaks the
  conjunction exactly when it breaks one ``P_s``);
- ``eventually_always (forall s. P_s)`` = ``forall s. eventually_always P_s``
  (from right to left: each behaviour satisfies each ``P_s`` from some point
  on, and there are finitely many Services, so from the latest of those
  points on it satisfies all of them);
- ``sometimes (exists s. Q_s)`` = ``exists s. sometimes Q_s``.

Not so ``sometimes (forall s. Q_s)`` (each Service may lose its endpoints in
a different state) nor ``leads_to`` in general, so :func:`commutes` allows
only those three pairs, and a check that is not known to split is explored
as before. Each ``P_s`` reads only Service ``s``'s endpoints, so it keeps its
verdict in the model sliced to that Service (slicing's own argument): the
split verdict is the unsliced one. The same holds of what a verdict carries:
a violating trace of a part is a trace of the unsliced model with the other
Services' Endpoints syncs left out, the shortest of the parts' is as short
as one breadth-first run's (without partial-order reduction), a split check's witnesses are reached when one Service's are (so it is
vacuous only when every part is), and a ``sometimes`` that no part reaches
has the closest part's nearest state.

The run (:meth:`Split.run`): the checks that are not split are explored
together in one model, sliced as before (without the endpoints controller
when none of them reads endpoints), then the split checks once per Service,
each in a model that syncs only that Service's Endpoints; the results are
combined so they read like one run (:class:`SplitView` is the model traces
and reports see). The run's bounds hold for the whole: every part runs
against the same deadline and memory cap, ``max_states`` counts the states
of every part, and once a bound stops a part the parts after it are not
explored (their checks are inconclusive). Once every split check is decided
(an ``always`` violated, a ``sometimes`` reached), the Services left are
searched only for shorter traces, to one step less than the longest kept.
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any, Collection, Mapping, Sequence

import attrs

from kspec.checker.explain import explain_result
from kspec.checker.explore import ExploreResult, Explorer, PropertyResult, Stats, explain
from kspec.checker.model import Kind, Verdict, select_properties
from kspec.simulation import properties as properties_lib
from kspec.simulation.controllers.endpoints import EndpointsController
from kspec.simulation.scenario import ClusterModel, Scenario, build_model, check_name, parse_scenario
from kspec.simulation.slicing import read_services
from kspec.simulation.views import lanes
from kspec.simulation import parallel
from kspec.util.budget import Budget, BudgetExceeded, peak_memory_bytes

__all__ = ["Split", "SplitView", "commutes", "explore", "load_part", "part_scenario", "plan_split", "splits"]

COMMUTING = frozenset({("all", "always"), ("all", "eventually_always"), ("any", "sometimes")})
"""(quantifier over Services, kind of check) pairs where the temporal operator
and the quantifier commute (see the module docstring)."""

WHOLE_RUN_BOUNDS = ("time_limit", "max_memory", "max_states", "interrupted", "stopped_at_first_violation")
"""Bounds that stop the whole run, not only the part that hit them."""


def commutes(quantifier: str, kind: str) -> bool:
    """Whether a check of ``kind`` over ``quantifier`` (``all``/``any``) of
    per-Service conditions equals that quantifier of the per-Service checks."""
    return (quantifier, kind) in COMMUTING


def splits(name: str, params: Mapping[str, Any]) -> bool:
    """Whether the scenario check ``name`` with ``params`` is one to explore
    one Service at a time: a library check known to split, over every Service."""
    quantifier = properties_lib.SPLIT_OVER_SERVICES.get(name)
    return (quantifier is not None and params.get("service") is None
            and commutes(quantifier, properties_lib.LIBRARY[name].kind))


def part_scenario(scenario: Scenario, checked: Collection[str] | None, service: str | None) -> Scenario:
    """The scenario of one part: of its checks named in ``checked`` (None:
    all), for ``service`` None those that do not split, else those that do,
    each narrowed to ``service`` under its own name."""
    checks = []
    for name, params, line in scenario.checks:
        label = check_name(name, params)
        if checked is not None and label not in checked:
            continue
        if service is None and not splits(name, params):
            checks.append((name, params, line))
        elif service is not None and splits(name, params):
            checks.append((name, {**params, "service": service, "as": label}, line))
    return attrs.evolve(scenario, checks=tuple(checks))


def load_part(path, params: Mapping[str, Any] | None, checked: Collection[str] | None, service: str | None,
              budget: Budget | None = None, *, allow_outside: bool = False) -> ClusterModel:
    """The model of one part of a split run of the scenario at ``path`` (what
    a test emitted by ``kspec explore --emit-test`` replays a trace on)."""
    scenario = parse_scenario(path, dict(params or {}), allow_outside=allow_outside)
    return build_model(part_scenario(scenario, None if checked is None else frozenset(checked), service), budget)


@attrs.frozen
class Split:
    """How one scenario is explored in parts: ``model`` is the scenario as
    loaded (a check over every Service keeps it whole), ``services`` the
    Services the split checks are explored over, ``others`` whether other
    checks make a part of their own (explored first)."""

    model: ClusterModel
    checked: frozenset[str] | None
    services: tuple[str, ...]
    split_checks: tuple[str, ...]
    others: bool

    @property
    def parts(self) -> tuple[str | None, ...]:
        """The parts in the order they run: None for the checks that do not split, then each Service."""
        return ((None,) if self.others else ()) + self.services

    def note(self, others: str, shorter: int = 0) -> str:
        """The split in words (``others``: the slice note of the other checks'
        part; ``shorter``: how many Service models were searched only for shorter traces)."""
        text = (f"split by Service: {', '.join(self.split_checks)} explored in {len(self.services)} models, one per "
                f"Service, each syncing only that Service's endpoints ({', '.join(self.services)})")
        if shorter:
            text += (f"; every split check was decided in the first {len(self.services) - shorter}, so the last "
                     f"{shorter} were searched only for shorter traces")
        text += "; --no-slice explores them in one model"
        return text + (f"; the other checks: {others}" if others else "")

    def run(self, explorer: Explorer, jobs: int = 1) -> tuple[ExploreResult, "SplitView"]:
        """Explore every part with ``explorer``'s settings and combine the
        results; returns them, explained, and the model they read against.
        ``jobs``: explore the parts in that many processes at once where
        :func:`kspec.simulation.parallel.applies`.

        Once every split check is decided (an ``always`` violated, a
        ``sometimes`` reached) and none is a liveness check, the Services
        left can change no verdict, only offer a shorter trace: they are
        searched breadth first only to one step less than the longest trace
        kept, and not at all when that is less than nothing."""
        props = select_properties(list(self.model.properties()), explorer.properties)  # an unknown name fails first
        kinds = {p.name: p.kind for p in props}
        budget = explorer.run_budget()
        settings = attrs.evolve(explorer, budget=budget)
        if parallel.applies(settings, self.parts, jobs):
            return self._run_parallel(props, settings, jobs)
        runs: list[_Part] = []
        stop: tuple[str, str | None] | None = None
        used = 0
        best: dict[str, int] = {}  # split check -> length of the shortest trace deciding it so far
        for service in self.parts:
            if stop is None and settings.max_states is not None and used >= settings.max_states:
                stop = ("max_states", explain("max_states"))
            if stop is not None:
                break
            shorter = service is not None and _decided(best, self.split_checks, kinds)
            depth = _depth(settings.max_depth, best, shorter)
            if depth is not None and depth < 0:
                continue
            try:
                model = build_model(part_scenario(self.model.scenario, self.checked, service), budget)
            except BudgetExceeded as err:
                stop = _loading_stop(err)
                break
            except KeyboardInterrupt:
                stop = ("interrupted", explain("interrupted"))
                break
            left = None if settings.max_states is None else settings.max_states - used
            result = attrs.evolve(settings, model=model, properties=(), max_states=left, max_depth=depth).run()
            runs.append(_Part(service, model, explain_result(result, model.properties()), shorter))
            used += result.stats.distinct_states
            if result.bound in WHOLE_RUN_BOUNDS:
                stop = (result.bound, result.reason)
            if service is not None:
                _shortest(best, result, self.split_checks)
        return self._combine(props, settings, runs, stop)

    def _run_parallel(self, props, settings: Explorer, jobs: int) -> tuple[ExploreResult, "SplitView"]:
        """The parts in worker processes (:mod:`kspec.simulation.parallel`),
        combined as :meth:`run` does. The checks that do not split are
        explored beside the Services; the Services run one after another,
        as in :meth:`run` (a later one, once every split check is decided, is
        searched only for a shorter trace), unless ``jobs`` leaves room for
        more than one at a time. Verdicts and traces are those of :meth:`run`."""
        kinds = {p.name: p.kind for p in props}
        start = time.monotonic()
        size = min(jobs, len(self.parts))
        at_once = max(1, size - (1 if self.others else 0))  # Services explored at the same time
        pending, running, finished = list(self.parts), {}, {}
        best: dict[str, int] = {}
        with parallel.Workers(settings, size) as workers:
            try:
                while pending or running:
                    while pending and len(running) < size and (
                            pending[0] is None or sum(1 for s, _ in running.values() if s is not None) < at_once):
                        service = pending.pop(0)
                        shorter = service is not None and _decided(best, self.split_checks, kinds)
                        depth = _depth(settings.max_depth, best, shorter)
                        if depth is None or depth >= 0:
                            scenario = part_scenario(self.model.scenario, self.checked, service)
                            running[workers.submit(scenario, depth)] = (service, shorter)
                    done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                    for future in done:
                        service, shorter = running.pop(future)
                        finished[service] = (parallel.outcome(future), shorter)
                        if service is not None and isinstance(finished[service][0], ExploreResult):
                            _shortest(best, finished[service][0], self.split_checks)
            except KeyboardInterrupt:
                for future, (service, shorter) in running.items():
                    finished[service] = (parallel.outcome(future), shorter)
        runs: list[_Part] = []
        stop: tuple[str, str | None] | None = None
        for service in self.parts:
            if service not in finished:
                continue
            result, shorter = finished[service]
            if isinstance(result, BudgetExceeded):
                stop = stop or _loading_stop(result)
                continue
            model = build_model(part_scenario(self.model.scenario, self.checked, service))  # not settled: cheap
            runs.append(_Part(service, model, explain_result(result, model.properties()), shorter))
            if result.bound in WHOLE_RUN_BOUNDS:
                stop = stop or (result.bound, result.reason)
        combined, view = self._combine(props, settings, runs, stop)
        peak = max(peak_memory_bytes(), parallel.peak_bytes([part.result for part in runs], size))
        note = combined.stats.slice_note + f"; the models explored in {size} processes (--jobs)"
        stats = attrs.evolve(combined.stats, seconds=time.monotonic() - start, peak_memory_bytes=peak, slice_note=note)
        return attrs.evolve(combined, stats=stats), view

    def _combine(self, props, settings: Explorer, runs: list["_Part"], stop) -> tuple[ExploreResult, "SplitView"]:
        explored = {part.service for part in runs}
        shown: dict[str, tuple[str | None, Any]] = {}
        results = []
        traced: set[str] = set()  # the Services whose parts gave a trace
        for prop in props:
            if prop.name in self.split_checks:
                found = [(part.service, part.model, part.result[prop.name]) for part in runs if part.service]
                result, source = _combined(prop, "any" if prop.kind is Kind.SOMETIMES else "all", found,
                                           stop if set(self.services) - explored else None)
            else:
                result, source = _alone(prop, runs, stop)
            results.append(result)
            shown[prop.name] = source
            if result.trace is not None and source[0] is not None:
                traced.add(source[0])
        others = next((part.model.slice_note for part in runs if part.service is None), "")
        note = self.note(others, sum(1 for service in self.services if service not in explored)
                         + sum(1 for part in runs if part.shorter))
        stopped = [part for part in runs if part.result.stats.stopped_decided]
        if stopped and len(stopped) < len(runs):  # the whole run reads as stopped only when every part did
            names = ", ".join(part.service or "the other checks" for part in stopped)
            note += f"; the parts of {names} stopped once their checks were decided"
        stats = _stats([part.result for part in runs], note, settings, _reduction_note(runs))
        full = [part.result for part in runs if not part.shorter]  # a shorter-traces search's depth is no bound
        bounds = ([stop] if stop else []) + [(r.bound, r.reason) for r in full if r.bound is not None]
        bound, reason = bounds[0] if bounds else (None, None)
        complete = stop is None and all(r.complete for r in full)
        combined = ExploreResult(tuple(results), stats, complete, bound, reason)
        return combined, SplitView(self.model, props, shown, note, frozenset(traced))


@attrs.frozen
class _Part:
    """One part's run: its Service (None: the other checks), model and
    result, and whether it was searched only for shorter traces."""

    service: str | None
    model: ClusterModel
    result: ExploreResult
    shorter: bool


def _decisive(result: PropertyResult) -> bool:
    """A split check's part result that decides it for every Service: an
    ``always`` violated, a ``sometimes`` reached (each with its trace)."""
    wanted = Verdict.HOLDS if result.kind is Kind.SOMETIMES else Verdict.VIOLATED
    return result.verdict is wanted and result.trace is not None


def _loading_stop(err: BudgetExceeded) -> tuple[str, str | None]:
    """The whole run's stop when a bound is hit while a part's model is loaded."""
    return err.bound, explain(err.bound, f"while {err.phase}" if err.phase else "")


def _depth(max_depth: int | None, best: Mapping[str, int], shorter: bool) -> int | None:
    """How deep a part is searched: ``max_depth``, or when it is searched only
    for shorter traces, one step less than the longest trace kept (negative:
    not at all)."""
    if not shorter:
        return max_depth
    return max(best.values()) - 1 if max_depth is None else min(max_depth, max(best.values()) - 1)


def _decided(best: Mapping[str, int], checks: Sequence[str], kinds: Mapping[str, Kind]) -> bool:
    """Whether every split check is decided and none is a liveness check (a
    lasso is no path a depth bound can look for)."""
    return all(name in best and kinds[name] in (Kind.ALWAYS, Kind.SOMETIMES) for name in checks)


def _shortest(best: dict[str, int], result: ExploreResult, checks: Sequence[str]) -> None:
    """Record in ``best`` the traces of ``result`` that decide a split check, when shorter."""
    for name in checks:
        res = result[name]
        if _decisive(res):
            best[name] = min(best.get(name, len(res.trace)), len(res.trace))


def _alone(prop, runs: Sequence[_Part], stop) -> tuple[PropertyResult, tuple[str | None, Any]]:
    """The result of a check that does not split: its part's, inconclusive when that part did not run."""
    part = next((part for part in runs if part.service is None), None)
    if part is None:
        bound, reason = stop
        return PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound, reason=reason), (None, None)
    return part.result[prop.name], (None, part.model)


def _length(result: PropertyResult) -> float:
    return len(result.trace) if result.trace is not None else float("inf")


def _combined(prop, quantifier: str, found, stop) -> tuple[PropertyResult, tuple[str | None, Any]]:
    """One check's result from its parts' (``found``: ``(service, model,
    result)``; ``stop``: the bound and reason that kept some parts from
    running, None when every part ran), and the part it comes from (``(service,
    model)``, the model None when no part decides it)."""
    decisive = Verdict.VIOLATED if quantifier == "all" else Verdict.HOLDS
    hits = [entry for entry in found if entry[2].verdict is decisive]
    if hits:
        service, model, result = min(hits, key=lambda entry: _length(entry[2]))
        return result, (service, model)
    undecided = [entry for entry in found if entry[2].verdict is Verdict.INCONCLUSIVE]
    if undecided:
        service, model, result = undecided[0]
        return result, (service, model)
    if stop is not None:
        bound, reason = stop
        return PropertyResult(prop.name, prop.kind, Verdict.INCONCLUSIVE, bound=bound, reason=reason), (None, None)
    if quantifier == "all":  # holds in every part: vacuous when every part is
        reasons = [entry[2].vacuous for entry in found]
        vacuous = "; ".join(dict.fromkeys(reasons)) if all(reasons) else None
        service, model, result = found[0]
        return attrs.evolve(result, vacuous=vacuous), (service, model)
    service, model, result = max(found, key=_closeness)  # no part reaches it: the closest part's nearest state
    return result, (service, model)


def _closeness(entry) -> Any:
    """How close a part's nearest state came to a ``sometimes`` (by that part's own measure)."""
    _, model, result = entry
    prop = next(p for p in model.properties() if p.name == result.name)
    if prop.closeness is None or result.nearest_trace is None:
        return (0, 0)
    return (1, prop.closeness(result.nearest_trace.states[-1]))


def _reduction_note(runs: Sequence[_Part]) -> str:
    """The parts' partial-order reduction notes: one when they agree, else each with the names of its parts."""
    named: dict[str, list[str]] = {}
    for part in runs:
        if part.result.stats.reduction_note:
            named.setdefault(part.result.stats.reduction_note, []).append(part.service or "the other checks")
    if len(named) <= 1:
        return next(iter(named), "")
    return " | ".join(f"{', '.join(names)}: {text}" for text, names in named.items())


def _stats(parts: Sequence[ExploreResult], note: str, settings: Explorer, reduction_note: str) -> Stats:
    """The parts' statistics as one run's: counts and times summed, the deepest depth, the process's peak memory."""
    stats = [r.stats for r in parts]
    return Stats(
        sum(s.distinct_states for s in stats), sum(s.transitions for s in stats),
        max((s.max_depth for s in stats), default=0), sum(s.seconds for s in stats), peak_memory_bytes(),
        settings.strategy, settings.symmetry,
        any(s.reduction for s in stats), reduction_note,
        sum(s.reduced_expansions for s in stats), note, bool(stats) and all(s.stopped_decided for s in stats),
    )


def plan_split(model: Any, checked: Collection[str] | None = None, enabled: bool = True) -> Split | None:
    """How to explore ``model`` in parts, or None when it is explored whole:
    slicing is off or already narrows it, or no checked check splits, or
    another check reads every Service's endpoints (a CEL check naming
    ``services``), or slicing does not apply (a user controller, the
    endpoints controller reading through a cache), or the Services checked
    are fewer than two or share a name (a check names a Service by name)."""
    if not enabled or not isinstance(model, ClusterModel) or model.slice_note:
        return None
    scenario, world = model.scenario, model.world
    if scenario.controllers or EndpointsController.actor in (scenario.informed or ()):
        return None
    if not any(type(c) is EndpointsController for c in model.controllers):
        return None
    services = tuple(world.services[i].name for i in properties_lib.checked_services(world))
    if len(services) < 2 or len(set(services)) < len(services):
        return None
    checked = None if checked is None else frozenset(checked)
    checks = [c for c in scenario.checks if checked is None or check_name(c[0], c[1]) in checked]
    split = tuple(check_name(name, params) for name, params, _ in checks if splits(name, params))
    others = [c for c in checks if not splits(c[0], c[1])]
    if not split or len(read_services(world, others)) == len(world.services):
        return None
    return Split(model, checked, services, split, bool(others))


class SplitView:
    """A split run seen as one model by traces and reports: the scenario's
    words for states and steps and its assumptions (the split among them),
    and for each check the property of the part its result comes from, so an
    explanation names that part's Service. Its swim lanes show the Services
    whose parts gave a trace (the only Endpoints synced in them)."""

    def __init__(self, model: ClusterModel, props, shown: Mapping[str, tuple[str | None, Any]], note: str,
                 traced: frozenset[str] = frozenset()):
        self.model = model
        self.slice_note = note
        self.warnings = model.warnings
        self.parts = {name: service for name, (service, part) in shown.items() if part is not None}
        self._props = tuple(_part_property(prop, shown[prop.name][1]) for prop in props)
        self._lanes = frozenset(i for i, s in enumerate(model.world.services) if s.name in traced)

    def properties(self):
        return self._props

    def describe(self):
        return self.model.describe()

    def describe_state(self, state):
        return self.model.describe_state(state)

    def describe_step(self, before, action, after):
        return self.model.describe_step(before, action, after)

    def assumptions(self) -> tuple[tuple[str, str], ...]:
        stated = [entry for entry in self.model.assumptions() if entry[0] != "reduction"]
        at = next((i for i, (topic, _) in enumerate(stated) if topic == "not modelled"), len(stated))
        return tuple(stated[:at] + [("reduction", self.slice_note)] + stated[at:])

    def swim_lanes(self, state):
        api, physical, services = lanes(state, self.model.world)
        return api, physical, tuple(lane for s, lane in enumerate(services) if s in self._lanes)


def _part_property(prop, part):
    """The property ``prop`` as the part ``part`` (a model, or None) built it."""
    if part is None:
        return prop
    return next((p for p in part.properties() if p.name == prop.name), prop)


def explore(model: Any, explorer: Explorer, slicing: bool = True,
            jobs: int = 1) -> tuple[ExploreResult, Any, dict | None]:
    """``explorer`` run on ``model`` (which it was made with), in parts when
    :func:`plan_split` says so (``slicing``: ``--slice``; the checks are those
    ``explorer`` checks). Returns the result, explained; the model it reads
    against (``model``, or the :class:`SplitView` of a split run); and for a
    split run the part each check's result comes from (a Service, or None for
    the part of the checks that do not split), else None."""
    split = plan_split(model, explorer.properties or None, slicing)
    if split is None:
        return explain_result(explorer.run(), model.properties()), model, None
    result, view = split.run(explorer, jobs)
    return result, view, view.parts
