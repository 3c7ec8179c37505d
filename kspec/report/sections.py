"""From the commands' result records to report sections, with their context.

:func:`explore_section` takes an :class:`~kspec.checker.explore.ExploreResult` and,
when known, the model and the explorer's settings (for the assumptions:
bounds, symmetry, fairness, faults); :func:`check_section` a
:class:`~kspec.rules.engine.CheckResult`; :func:`schedule_section` a
:class:`~kspec.scheduling.result.ScheduleResult`. Each keeps the original
record (``source``) for renderers that delegate to the command's own writers
(SARIF and JUnit of ``kspec check``). :func:`build_report` gathers sections
into one :class:`~kspec.report.model.Report`.

>>> report = build_report([], command_line=["kspec", "report", "x.yaml"])
>>> report.status.state, report.to_json()["schema"], report.to_json()["version"]
('complete', 'kspec-report', 1)
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

import attrs

from kspec.checker.explain import explain_result, sentence
from kspec.checker.explore import ExploreResult
from kspec.checker.model import Describable, HasAssumptions, describe_title
from kspec.rules.engine import CheckResult
from kspec.scheduling.result import ScheduleResult
from kspec.report import views
from kspec.rules.rule import severity_rank
from kspec.report.model import (
    HOLDS,
    INCONCLUSIVE,
    VIOLATED,
    WARNING,
    BUDGET_KEPT,
    Assumption,
    CheckSection,
    Counterexample,
    ExploreSection,
    FindingGroup,
    FindingRow,
    NodePlacement,
    PropertyRow,
    ReportError,
    RuleRow,
    ScheduleSection,
    Timeline,
    ToleranceRow,
    TraceStep,
    Unschedulable,
    Utilisation,
    VerdictRow,
    Report,
    environment,
    hash_inputs,
    report_status,
)

__all__ = ["build_report", "check_section", "explore_section", "schedule_section", "section_of", "verdict_rows", "assumptions_of"]

# States above this many steps are not drawn (the table still lists every step).
MAX_TIMELINE_STEPS = 400


def section_of(item: Any):
    """A report section from a section or a raw result record of any command."""
    if isinstance(item, (ExploreSection, CheckSection, ScheduleSection)):
        return item
    if isinstance(item, ExploreResult):
        return explore_section(item)
    if isinstance(item, CheckResult):
        return check_section(item)
    if isinstance(item, ScheduleResult):
        return schedule_section(item)
    raise ReportError(f"cannot report on a {type(item).__name__}; expected an explore, check or schedule result")


def _anchor(prefix: str, name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return f"{prefix}-{safe}"


# --------------------------------------------------------------------------- explore


def _trace_steps(trace, model) -> tuple[TraceStep, ...]:
    steps = [TraceStep(0, "", "initial state", ())]
    states = trace.states
    for i, step in enumerate(trace.steps[1:], start=1):
        words = model.describe_step(states[i - 1], step.action, step.state) if isinstance(model, Describable) else ()
        steps.append(TraceStep(i, str(step.actor or ""), str(step.action), tuple(words or step.changes),
                               step.explanation or ""))
    if trace.steps[0].explanation:
        steps[0] = attrs.evolve(steps[0], explanation=trace.steps[0].explanation)
    return tuple(steps)


def _timeline(trace, model) -> Timeline | None:
    if len(trace.steps) > MAX_TIMELINE_STEPS:
        return None
    frames = []
    for state in trace.states:
        frame = views.frame_of(state, model)
        if frame is None:
            return None
        frames.append(frame)
    physical = "Physical view (what the machines run)" if frames and frames[0].physical else None
    api = "API view (what etcd holds)" if physical else "Pods per node"
    services = "Services (ready endpoints)" if frames and frames[0].services else None
    return Timeline(api, physical, tuple(frames), services)


def counterexample(result, model=None) -> Counterexample:
    """The evidence of one property result that carries a trace."""
    trace = result.trace
    return Counterexample(
        property=result.name,
        kind=str(result.kind),
        verdict=str(result.verdict),
        steps=_trace_steps(trace, model),
        timeline=_timeline(trace, model),
        cycle_start=trace.cycle_start,
        cycle_up_to_symmetry=bool(trace.cycle_up_to_symmetry),
        anchor=_anchor("trace", result.name),
        explanation=(sentence(result) or "") if str(result.verdict) == VIOLATED else "",
    )


def _property_info(model) -> dict:
    if model is None:
        return {}
    try:
        return {p.name: p for p in model.properties()}
    except Exception:  # a model whose properties() fails was already reported by the explorer
        return {}


def explore_section(result, *, model=None, model_path: str = "", params: dict | None = None,
                    settings=None) -> ExploreSection:
    """The report section of one exploration.

    ``settings`` is the :class:`~kspec.checker.explore.Explorer` that ran (for the
    bounds); ``model`` gives node names, fairness and faults.
    """
    info = _property_info(model)
    result = explain_result(result, info.values())
    rows, traces, examples = [], [], []
    for res in result.properties:
        prop = info.get(res.name)
        rows.append(PropertyRow(
            name=res.name, kind=str(res.kind), verdict=str(res.verdict), bound=res.bound,
            fair=tuple(sorted(prop.fair)) if prop is not None else (),
            description=(prop.description if prop is not None else ""),
            explanation=sentence(res) or "",
            vacuous=res.vacuous or "",
        ))
        if res.trace is not None:
            (traces if str(res.verdict) == VIOLATED else examples).append(counterexample(res, model))
    stats = result.stats.to_json()
    section = ExploreSection(
        model=model_path or describe_title(model) if model is not None else model_path or "model",
        params=tuple((str(k), str(v)) for k, v in (params or {}).items()),
        verdict=str(result.verdict),
        complete=bool(result.complete),
        bound=result.bound,
        stats=stats,
        properties=tuple(rows),
        counterexamples=tuple(traces),
        examples=tuple(examples),
        reason=result.reason if result.bound else None,
        source=(result, model, settings),
    )
    return section


def _model_assumptions(model) -> list[tuple[str, str]]:
    """The ``(topic, text)`` pairs a model states about itself (nodes, faults, what it leaves out)."""
    if not isinstance(model, HasAssumptions):
        return []
    try:
        return [(str(topic), str(text)) for topic, text in model.assumptions()]
    except Exception:  # an optional capability; the report must not fail on it
        return []


def _explore_assumptions(section: ExploreSection) -> list[Assumption]:
    result, model, settings = section.source if section.source else (None, None, None)
    out: list[Assumption] = []
    where = section.model
    if section.params:
        out.append(Assumption("parameters", f"{where}: " + ", ".join(f"{k}={v}" for k, v in section.params)))
    stated = _model_assumptions(model)
    not_modelled = [text for topic, text in stated if topic == "not modelled"]
    out += [Assumption(topic, f"{where}: {text}") for topic, text in stated if topic != "not modelled"]
    fair = sorted({a for row in section.properties for a in row.fair})
    if fair:
        out.append(Assumption("fairness", f"{where}: weak fairness of {', '.join(fair)} for the liveness properties "
                                          "(an actor that stays enabled eventually acts); faults are not fair"))
    elif any(row.kind in ("eventually_always", "leads_to") for row in section.properties):
        out.append(Assumption("fairness", f"{where}: no fairness assumed: any actor may stop acting forever"))
    stats = section.stats
    bounds = []
    if settings is not None:
        for attr, label in (("max_states", "max states"), ("max_depth", "max depth"), ("time_limit", "time limit (s)"),
                            ("max_memory", "max memory (bytes)")):
            value = getattr(settings, attr, None)
            if value is not None:
                bounds.append(f"{label} {value:,}" if isinstance(value, int) else f"{label} {value}")
        if getattr(settings, "stop_at_first", False):
            bounds.append("stop at the first violation")
    search = f"{where}: {stats.get('strategy', 'bfs')} search"
    search += ", bounds: " + "; ".join(bounds) if bounds else ", no bounds (the whole reachable state space)"
    out.append(Assumption("bounds", search))
    out.append(Assumption("symmetry", f"{where}: symmetry reduction " + (
        "on: states that differ only by renaming interchangeable pods or identical nodes are counted once "
        "(state counts are orbits; traces show concrete names)" if stats.get("symmetry") else "off")))
    out.append(Assumption("not modelled", f"{where}: " + (" ".join(not_modelled) or NOT_MODELLED)))
    return out


NOT_MODELLED = "everything outside the model's own actions and state; only those interleavings were explored."
"""What a model that states nothing about it leaves out."""


# --------------------------------------------------------------------------- check


def check_section(result, threshold: str = "error") -> CheckSection:
    """Findings grouped by rule (rules in their order, findings by file and line)."""
    by_rule = result.by_rule()
    rules = tuple(RuleRow(rid, s["title"] or "", s["severity"], s["fail"], s["error"]) for rid, s in by_rule.items())
    grouped: dict[str, list] = {}
    for f in result.findings:
        grouped.setdefault(f.rule_id, []).append(
            FindingRow(f.object_ref, f.file, f.line, f.severity, f.status, f.message))
    titles = {r.id: (r.title, r.severity) for r in rules}
    groups = tuple(
        FindingGroup(rid, titles.get(rid, ("", "error"))[0], titles.get(rid, ("", "error"))[1], tuple(rows))
        for rid, rows in grouped.items()
    )
    return CheckSection(threshold, bool(result.passed(threshold)), result.objects, rules, groups, source=result)


# --------------------------------------------------------------------------- schedule

_UNITS = {"cpu": "m", "memory": "bytes", "ephemeral-storage": "bytes", "pods": "pods"}


def schedule_section(result) -> ScheduleSection:
    """A :class:`~kspec.scheduling.result.ScheduleResult` as a grid, reasons and tolerance rows."""
    workloads = tuple(g for g, _ in result.groups)
    nodes = []
    if result.placement is not None:
        for row in result.placement.rows:
            counts = dict(row.pods)
            alloc = dict(row.allocatable)
            requested = dict(row.requested)
            util = tuple(Utilisation(r, int(requested.get(r, 0)), int(alloc.get(r, 0)), _UNITS.get(r, ""))
                         for r in _resources(alloc, requested))
            nodes.append(NodePlacement(row.node, tuple(int(counts.get(w, 0)) for w in workloads), row.bound, util))
    unschedulable = []
    if result.explanation is not None:
        unschedulable.append(_explained("(all workloads)", None, result.explanation, "z3"))
    if result.greedy is not None:
        for group, count, message in result.greedy.pending:
            unschedulable.append(Unschedulable(group, count, message, (), "greedy"))
    tolerances = tuple(_tolerance(t) for t in result.tolerances) + tuple(_budget(b) for b in result.budgets)
    greedy = ""
    if result.greedy is not None:
        g = result.greedy
        greedy = (f"the one-pod-at-a-time kube-scheduler baseline: {g.summary()}" if not g.computed else
                  "the one-pod-at-a-time kube-scheduler baseline places every pod" if g.all_placed else
                  f"the one-pod-at-a-time kube-scheduler baseline leaves {sum(c for _, c, _ in g.pending)} pod(s) Pending"
                  + (" although a placement exists" if result.verdict == "feasible" else ""))
    return ScheduleSection(
        verdict=result.verdict,
        objective=result.objective,
        workloads=workloads,
        nodes=tuple(nodes),
        unschedulable=tuple(unschedulable),
        tolerances=tolerances,
        greedy=greedy,
        seconds=float(result.seconds),
        notes=tuple(result.notes) + tuple(f"warning: {w}" for w in result.warnings),
        source=result,
    )


def _resources(alloc: dict, requested: dict) -> list[str]:
    names = [r for r in ("cpu", "memory", "pods") if r in alloc or r in requested]
    return names + sorted((set(alloc) | set(requested)) - set(names))


def _explained(workload: str, pods, explanation, source: str) -> Unschedulable:
    causes = tuple(f"{c.location}: {c.object} {c.field}: {c.message}" for c in explanation.causes)
    reason = explanation.summary + ("" if explanation.minimal else " (core not proved minimal: time ran out)")
    return Unschedulable(workload, pods, reason, causes, source)


def _budget(b) -> ToleranceRow:
    question = "any one zone fails" if b.kind == "zone" else f"any {b.k} node(s) fail"
    verdict = {"feasible": HOLDS, "infeasible": VIOLATED}.get(b.verdict, INCONCLUSIVE)
    failed = b.breach.failed if b.breach else ()
    explanation = b.breach.summary() if b.breach else "; ".join(b.limits)
    return ToleranceRow(question, verdict, failed, explanation, 1, float(b.seconds), claim=BUDGET_KEPT)


def _tolerance(t) -> ToleranceRow:
    question = "any one zone fails" if t.kind == "zone" else f"any {t.k} node(s) fail"
    verdict = {"feasible": HOLDS, "infeasible": VIOLATED}.get(t.verdict, INCONCLUSIVE)
    failed, explanation = (), ""
    if t.counterexample is not None:
        failed = tuple(t.counterexample.failed)
        if t.counterexample.explanation is not None:
            explanation = t.counterexample.explanation.summary
    return ToleranceRow(question, verdict, failed, explanation, int(t.scenarios), float(t.seconds))


# --------------------------------------------------------------------------- the verdict table and assumptions


def verdict_rows(explore: Sequence[ExploreSection], check: CheckSection | None,
                 schedule: ScheduleSection | None) -> tuple[VerdictRow, ...]:
    rows: list[VerdictRow] = []
    for sec in explore:
        anchors = {c.property: c.anchor for c in sec.counterexamples + sec.examples}
        states = sec.stats.get("distinct_states")
        seconds = sec.stats.get("seconds")
        for p in sec.properties:
            detail = f"bound hit: {p.bound}" if p.verdict == INCONCLUSIVE and p.bound else ""
            if p.verdict == VIOLATED and p.name in anchors:
                trace = next(c for c in sec.counterexamples if c.property == p.name)
                n = len(trace.steps) - 1
                detail = (f"lasso: {trace.cycle_start} steps, then a cycle of {n - trace.cycle_start} repeating forever"
                          if trace.is_lasso else f"counterexample of {n} steps")
                if trace.is_lasso and trace.cycle_start == n:
                    detail = f"stuck after {n} steps (no fair actor can act)"
                if p.explanation:
                    detail = f"{p.explanation} ({detail})"
            elif p.verdict == VIOLATED and p.kind == "sometimes":
                detail = p.explanation or "never happens in any reachable state"
            elif p.verdict == HOLDS and p.kind == "sometimes" and p.name in anchors:
                detail = "reachable: example shown"
            elif p.vacuous:
                detail = f"vacuous: {p.vacuous}"
            rows.append(VerdictRow("explore", p.name, p.kind, p.verdict, detail, states, seconds, anchors.get(p.name),
                                   p.vacuous))
    if check is not None:
        for rule in check.rules:
            detail, verdict = "", rule.verdict
            if rule.fail or rule.error:
                detail = f"{rule.fail} finding(s)" + (f", {rule.error} evaluation error(s)" if rule.error else "")
                if not rule.error and severity_rank(rule.severity) < severity_rank(check.threshold):
                    detail += f" ({rule.severity}, below the '{check.threshold}' threshold: does not fail the check)"
                    verdict = WARNING
            rows.append(VerdictRow("check", rule.id, f"rule ({rule.severity})", verdict, detail, None, None,
                                   _anchor("rule", rule.id) if verdict != HOLDS else None))
    if schedule is not None:
        verdict = {"feasible": HOLDS, "infeasible": VIOLATED}.get(schedule.verdict, INCONCLUSIVE)
        detail = {"feasible": "a placement of every pod exists", "infeasible": "no placement exists",
                  }.get(schedule.verdict, "the solver timed out")
        rows.append(VerdictRow("schedule", "all pods fit", "feasibility", verdict, detail, None, schedule.seconds,
                               "placement"))
        for t in schedule.tolerances:
            detail = f"fails when {', '.join(t.failed)} fail" if t.failed else ""
            name = f"budgets kept when {t.question}" if t.claim == BUDGET_KEPT else f"fits when {t.question}"
            rows.append(VerdictRow("schedule", name, "tolerance", t.verdict, detail, None,
                                   t.seconds, "tolerance"))
    return tuple(rows)


def assumptions_of(explore: Sequence[ExploreSection], check: CheckSection | None,
                   schedule: ScheduleSection | None) -> tuple[Assumption, ...]:
    out: list[Assumption] = []
    for sec in explore:
        out += _explore_assumptions(sec)
    if check is not None:
        out.append(Assumption("rules", f"{len(check.rules)} rule(s) over {check.objects} object(s); a finding at or "
                                       f"above severity '{check.threshold}' fails the check; each manifest is "
                                       "checked after API defaulting, as an admission policy sees it"))
    if schedule is not None:
        out.append(Assumption("scheduling", "the kube-scheduler Filter plugins (resources, nodeName, node affinity, "
                                            "taints, host ports, pod (anti-)affinity, topology spread) decide where "
                                            "a pod may go; scoring is not modelled (Z3 looks for any placement; "
                                            f"objective: {schedule.objective})"))
        if schedule.nodes:
            out.append(Assumption("nodes", f"scheduling: {len(schedule.nodes)} node(s): "
                                           + ", ".join(n.node for n in schedule.nodes[:20])
                                           + (" ..." if len(schedule.nodes) > 20 else "")))
    return tuple(out)


def build_report(
    results: Iterable[Any],
    *,
    command_line: Sequence[str] | str,
    inputs: Iterable[str] = (),
    title: str = "",
    rejected: Sequence[str] = (),
    notes: Sequence[str] = (),
    interrupted: str | None = None,
) -> Report:
    """One :class:`Report` from result records.

    ``results`` holds :class:`ExploreSection`/:class:`CheckSection`/:class:`ScheduleSection`
    (see :mod:`kspec.report.sections` to build them with context) or raw
    ``ExploreResult``, ``CheckResult`` and ``ScheduleResult`` records, which
    are converted with default context. ``inputs`` are the paths read (hashed
    now); ``rejected`` the diagnostics of input that could not be loaded;
    ``interrupted`` says in words what a Ctrl-C cut short.
    """
    explore: list[ExploreSection] = []
    check: CheckSection | None = None
    schedule: ScheduleSection | None = None
    for item in results:
        item = section_of(item)
        if isinstance(item, ExploreSection):
            explore.append(item)
        elif isinstance(item, CheckSection):
            if check is not None:
                raise ReportError("a report holds one check result")
            check = item
        elif isinstance(item, ScheduleSection):
            if schedule is not None:
                raise ReportError("a report holds one schedule result")
            schedule = item
    verdicts = verdict_rows(explore, check, schedule)
    assumptions = assumptions_of(explore, check, schedule)
    status = report_status(explore, schedule, rejected, interrupted)
    files = hash_inputs(inputs)
    if not title:
        names = [f.path for f in files][:3] or ["(no input files)"]
        title = "kspec report: " + ", ".join(os.path.basename(n) for n in names) + (" ..." if len(files) > 3 else "")
    return Report(
        title=title,
        status=status,
        environment=environment(command_line),
        inputs=files,
        assumptions=assumptions,
        verdicts=verdicts,
        explore=tuple(explore),
        check=check,
        schedule=schedule,
        diagnostics=tuple(rejected),
        notes=tuple(notes),
    )
