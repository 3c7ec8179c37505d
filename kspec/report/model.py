"""The one result model of a report: a versioned document record.

``check``, ``schedule`` and ``explore`` produce their own result records
(:class:`~kspec.rules.engine.CheckResult`, :class:`~kspec.scheduling.result.ScheduleResult`,
:class:`~kspec.checker.explore.ExploreResult`); :func:`kspec.report.sections.build_report` turns them, with
the inputs (files and their sha256), the versions of kspec and Z3, the command
line and the assumptions of the run, into one :class:`Report`. Renderers
(:mod:`kspec.report.text`, ``markdown``, ``html``, ``json``, ``sarif``,
``junit``) only render a :class:`Report`; they never compute a verdict.

Only what a reviewer reads is kept: the summary, the counterexample traces and
the placement, never the state space, so the size of a report does not grow
with the number of states explored.

The JSON form (:meth:`Report.to_json`) is versioned: ``{"schema":
"kspec-report", "version": 1, ...}``; docs/report.md documents every field.
Adding a field keeps the version; removing or changing one bumps it.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import os
import platform
import shlex
from typing import Any, Iterable, Sequence

import attrs

from kspec.errors import KspecError
from kspec.loading.manifests import expand_paths
from kspec.util.version import VERSION as KSPEC_VERSION

__all__ = [
    "SCHEMA",
    "VERSION",
    "Assumption",
    "CheckSection",
    "Counterexample",
    "Environment",
    "ExploreSection",
    "FindingGroup",
    "FindingRow",
    "Frame",
    "InputFile",
    "Lane",
    "PodMark",
    "PropertyRow",
    "Report",
    "ReportError",
    "RuleRow",
    "ScheduleSection",
    "Status",
    "Timeline",
    "TraceStep",
    "VerdictRow",
    "WARNING",
    "BUDGET_KEPT",
    "build_report",
    "hash_inputs",
]

SCHEMA = "kspec-report"
VERSION = 1

HOLDS, VIOLATED, INCONCLUSIVE = "holds", "violated", "inconclusive"
# A tolerance row's claim: no placement the filters allow loses more pods than a
# PodDisruptionBudget (or a replicated workload's quorum) allows when the failure happens.
BUDGET_KEPT = "budget kept"
# A rule row whose findings are below the check's threshold: shown, never a failure.
WARNING = "warning"

# What an explorer bound means, in words, for the banner at the top of a report.
BOUND_WORDS = {
    "max_states": "the limit on distinct states (--max-states) was reached",
    "max_depth": "the depth limit (--max-depth) cut off deeper states",
    "time_limit": "the time limit (--time-limit) ran out",
    "max_memory": "the memory limit (--max-memory) was reached",
    "interrupted": "the run was interrupted (Ctrl-C) before it finished",
    "stopped_at_first_violation": "the run stopped at the first violation (--stop-at-first)",
    "random": "random walks were used (--strategy random), which can find violations but never prove a property",
    "boundary": "the model's boundary cut transitions off, so liveness could not be decided",
}


class ReportError(KspecError):
    """A report that cannot be built or written (one clear line for the user)."""


def _json(value: Any) -> Any:
    """attrs records (and tuples of them) as JSON values, field by field."""
    if attrs.has(type(value)):
        out = {}
        for field in attrs.fields(type(value)):
            if field.metadata.get("json", True):
                out[field.name] = _json(getattr(value, field.name))
        return out
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


def _private(default=None):
    """A field kept for renderers that delegate (SARIF, JUnit) but left out of JSON and equality."""
    return attrs.field(default=default, eq=False, repr=False, metadata={"json": False})


# --------------------------------------------------------------------------- inputs and environment


@attrs.frozen
class InputFile:
    """A file the run read, with the sha256 of its bytes at report time."""

    path: str
    sha256: str
    bytes: int


@attrs.frozen
class Environment:
    """What produced the report: versions, the command line, when."""

    kspec: str
    z3: str
    python: str
    platform: str
    command_line: str
    created: str  # UTC, ISO 8601


@attrs.frozen
class Assumption:
    """One stated assumption: a topic (``nodes``, ``faults``, ``fairness``,
    ``bounds``, ``symmetry``, ``not modelled``...) and plain words."""

    topic: str
    text: str


@attrs.frozen
class Status:
    """The run as a whole: ``complete``, ``inconclusive`` (a bound was hit or a
    solver gave up: ``bound`` names it), ``interrupted`` (Ctrl-C) or
    ``rejected`` (bad input: nothing was checked). ``headline`` says so in
    words; ``details`` adds one line per cause."""

    state: str
    headline: str
    bound: str | None = None
    details: tuple[str, ...] = ()


@attrs.frozen
class VerdictRow:
    """One line of the verdict table: a rule, a property or a scheduling question."""

    section: str  # explore, check, schedule
    name: str
    kind: str  # always, sometimes, eventually_always, leads_to, rule, feasibility, tolerance
    verdict: str  # holds, violated, inconclusive; warning: a rule's findings below the threshold
    detail: str = ""
    states: int | None = None
    seconds: float | None = None
    anchor: str | None = None  # id of the section showing the evidence
    vacuous: str = ""  # holds, but what must happen for it to mean something never did: why

    @property
    def shown(self) -> str:
        """The verdict as a table shows it: ``holds (vacuous)`` for a vacuous one."""
        return f"{self.verdict} (vacuous)" if self.vacuous else self.verdict


# --------------------------------------------------------------------------- explore


@attrs.frozen
class PodMark:
    """One pod in one swim lane at one step: its name and status there."""

    name: str
    status: str


@attrs.frozen
class Lane:
    """One node (or the unscheduled lane) at one step, in one view."""

    node: str
    status: str  # e.g. Ready, Unknown (tainted); up, down, partitioned
    pods: tuple[PodMark, ...]


@attrs.frozen
class Frame:
    """The cluster at one step: the API view and, when the model separates
    them, the physical view (``()``: the model has only one view)."""

    api: tuple[Lane, ...]
    physical: tuple[Lane, ...] = ()
    services: tuple[Lane, ...] = ()  # a lane per Service, its ready endpoints as items


@attrs.frozen
class Timeline:
    """Swim lanes of pods per node over the steps of one trace."""

    api_title: str
    physical_title: str | None
    frames: tuple[Frame, ...]  # one per state of the trace (step 0 is the initial state)
    services_title: str | None = None


@attrs.frozen
class TraceStep:
    """One row of a counterexample: who did what, and what changed."""

    index: int
    actor: str
    action: str
    changes: tuple[str, ...]
    explanation: str = ""  # on the step that breaks the property: why, in one sentence


@attrs.frozen
class Counterexample:
    """The trace behind a verdict: for a violated ``always`` the shortest path
    to a bad state; for a liveness violation a lasso (``cycle_start`` is the
    state where the repeating part begins; steps after it repeat forever, and
    when it is the last state the system stays there); for a ``sometimes``
    that holds, the example that shows it."""

    property: str
    kind: str
    verdict: str
    steps: tuple[TraceStep, ...]
    timeline: Timeline | None = None
    cycle_start: int | None = None
    cycle_up_to_symmetry: bool = False
    anchor: str = ""
    explanation: str = ""  # a violation: why, in one sentence (also on the step that breaks it)

    @property
    def is_lasso(self) -> bool:
        return self.cycle_start is not None

    def in_cycle(self, index: int) -> bool:
        """Whether step ``index`` belongs to the repeating part of a lasso."""
        return self.cycle_start is not None and index > self.cycle_start


@attrs.frozen
class PropertyRow:
    name: str
    kind: str
    verdict: str
    bound: str | None = None
    fair: tuple[str, ...] = ()
    description: str = ""
    explanation: str = ""  # violated: why, in one sentence
    vacuous: str = ""  # holds vacuously: what never happened


@attrs.frozen
class ExploreSection:
    """An exploration: what was checked, its statistics and its evidence."""

    model: str
    params: tuple[tuple[str, str], ...]
    verdict: str
    complete: bool
    bound: str | None
    stats: dict
    properties: tuple[PropertyRow, ...]
    counterexamples: tuple[Counterexample, ...]
    examples: tuple[Counterexample, ...] = ()
    reason: str | None = None  # why the run is inconclusive, in words (a bound hit while settling, say)
    source: Any = _private()

    @property
    def stopped_note(self) -> str:
        """Said of a complete run that stopped once every check was decided, else ''."""
        return "stopped once every check was decided" if self.stats.get("stopped_when_decided") else ""


# --------------------------------------------------------------------------- check


@attrs.frozen
class FindingRow:
    object: str
    file: str
    line: int | None
    severity: str
    status: str  # fail, error (the rule could not be evaluated)
    message: str

    @property
    def location(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@attrs.frozen
class FindingGroup:
    rule: str
    title: str
    severity: str
    findings: tuple[FindingRow, ...]


@attrs.frozen
class RuleRow:
    id: str
    title: str
    severity: str
    fail: int
    error: int

    @property
    def verdict(self) -> str:
        return HOLDS if not (self.fail or self.error) else VIOLATED


@attrs.frozen
class CheckSection:
    """Static findings grouped by rule."""

    threshold: str
    passed: bool
    objects: int
    rules: tuple[RuleRow, ...]
    groups: tuple[FindingGroup, ...]
    source: Any = _private()


# --------------------------------------------------------------------------- schedule


@attrs.frozen
class Utilisation:
    resource: str
    requested: int
    allocatable: int
    unit: str  # m (millicores), bytes, pods, ""

    @property
    def fraction(self) -> float | None:
        return None if not self.allocatable else self.requested / self.allocatable


@attrs.frozen
class NodePlacement:
    node: str
    counts: tuple[int, ...]  # per ScheduleSection.workloads
    bound: int
    utilisation: tuple[Utilisation, ...]


@attrs.frozen
class Unschedulable:
    """Pods that cannot be placed, with the reason in the user's terms."""

    workload: str
    pods: int | None
    reason: str
    causes: tuple[str, ...] = ()  # "file:line: object field: message"
    source: str = ""  # z3 (no placement exists) or greedy (the kube-scheduler would leave them Pending)


@attrs.frozen
class ToleranceRow:
    question: str  # "any 1 node fails", "any one zone fails"
    verdict: str  # holds, violated, inconclusive
    failed: tuple[str, ...] = ()
    explanation: str = ""
    scenarios: int = 0
    seconds: float = 0.0
    claim: str = "re-placeable"  # re-placeable: the lost pods fit on the nodes left; budget kept: see BUDGET_KEPT

    def claim_words(self) -> str:
        """The claim in words, for tables: what holds (or not) when the question's failure happens."""
        if self.claim == BUDGET_KEPT:
            return f"every disruption budget holds through the failure when {self.question}"
        return f"everything fits again when {self.question}"


@attrs.frozen
class ScheduleSection:
    """A placement as a node x workload grid, what cannot be placed, and failure tolerance."""

    verdict: str  # feasible, infeasible, unknown
    objective: str
    workloads: tuple[str, ...]
    nodes: tuple[NodePlacement, ...]
    unschedulable: tuple[Unschedulable, ...]
    tolerances: tuple[ToleranceRow, ...]
    greedy: str
    seconds: float
    notes: tuple[str, ...] = ()
    source: Any = _private()


# --------------------------------------------------------------------------- the document


@attrs.frozen
class Report:
    """Everything one report shows; renderers only read it."""

    title: str
    status: Status
    environment: Environment
    inputs: tuple[InputFile, ...]
    assumptions: tuple[Assumption, ...]
    verdicts: tuple[VerdictRow, ...]
    explore: tuple[ExploreSection, ...] = ()
    check: CheckSection | None = None
    schedule: ScheduleSection | None = None
    diagnostics: tuple[str, ...] = ()  # input problems when the run was rejected
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """violated when anything is, else inconclusive when anything is, else holds."""
        if self.status.state == "rejected":
            return "rejected"
        verdicts = {v.verdict for v in self.verdicts if v.section != "check"}
        if self.check is not None:
            verdicts.add(HOLDS if self.check.passed else VIOLATED)
        for word in (VIOLATED, INCONCLUSIVE):
            if word in verdicts:
                return word
        return HOLDS

    def to_json(self) -> dict:
        body = _json(self)
        return {"schema": SCHEMA, "version": VERSION, "verdict": self.verdict, **body}


# --------------------------------------------------------------------------- building


def hash_inputs(paths: Iterable[str]) -> tuple[InputFile, ...]:
    """Every file under ``paths`` (folders recursively, as the loader reads
    them), with its sha256; missing paths are left out (the loader reports them)."""
    files, _ = expand_paths([p for p in paths if p != "-"])
    out, seen = [], set()
    for file in files:
        if file in seen or not os.path.isfile(file):
            continue
        seen.add(file)
        digest = hashlib.sha256()
        size = 0
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
                size += len(chunk)
        out.append(InputFile(file, digest.hexdigest(), size))
    return tuple(out)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment(command_line: Sequence[str] | str) -> Environment:
    if not isinstance(command_line, str):
        command_line = shlex.join(str(a) for a in command_line)
    created = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return Environment(
        kspec=KSPEC_VERSION,
        z3=_version("z3-solver"),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        command_line=command_line,
        created=created,
    )


def report_status(sections: Sequence, schedule, rejected: Sequence[str], interrupted: str | None = None) -> Status:
    if rejected:
        return Status("rejected", f"INPUT REJECTED: {len(rejected)} problem(s) in the input; "
                                  "the parts that needed it were not checked.", details=tuple(rejected))
    details, bounds = [], []
    if interrupted:
        details.append(interrupted)
        bounds.append("interrupted")
    for sec in sections:
        if sec.bound:
            words = BOUND_WORDS.get(sec.bound, f"the bound {sec.bound} was hit")
            states = sec.stats.get("distinct_states")
            where = sec.reason if sec.reason and "while" in sec.reason else f"{words} after {states:,} distinct states"
            details.append(f"{sec.model}: {where}"
                           f" (bound: {sec.bound}); properties not violated by then are inconclusive, not proved.")
            bounds.append(sec.bound)
    if schedule is not None:
        if schedule.verdict == "unknown":
            details.append("scheduling: the solver timed out before deciding feasibility (bound: solver timeout).")
            bounds.append("solver_timeout")
        for row in schedule.tolerances:
            if row.verdict == INCONCLUSIVE:
                details.append(f"scheduling: '{row.question}' timed out before it was decided (bound: solver timeout).")
                bounds.append("solver_timeout")
    if not details:
        return Status("complete", "Complete: every check ran to the end.")
    state = "interrupted" if "interrupted" in bounds else "inconclusive"
    word = "INTERRUPTED" if state == "interrupted" else "INCONCLUSIVE"
    head = f"{word}: the run stopped early ({', '.join(dict.fromkeys(bounds))}); some results are not proved."
    return Status(state, head, bound=bounds[0], details=tuple(details))
