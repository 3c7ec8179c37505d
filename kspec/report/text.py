"""The report as plain text for a terminal (no colour codes, safe to pipe).

Also the pieces the Markdown renderer shares: the compact timeline diagram
(one line per step, one column per node and view, pods abbreviated with their
status) and human units for quantities.
"""

from __future__ import annotations

from decimal import Decimal

from kspec.report.model import Counterexample, Report, ScheduleSection, Timeline
from kspec.util.escape import terminal
from kspec.util.textfmt import table

__all__ = ["render", "timeline_lines", "human_quantity", "STATUS_CODES", "status_code"]

# One or two letters per pod status in the compact diagram; the legend prints them.
STATUS_CODES = {
    "Running, Ready": "R",
    "Running, not ready": "r",
    "Running": "R",
    "Pending": "P",
    "Pending, unschedulable": "U",
    "Terminating": "T",
    "Failed": "F",
    "Succeeded": "S",
    "Unresponsive": "?",
    "running": "up",
    "hung": "H",
    "crashed": "X",
    "orphaned, running": "O",
    "ready endpoint": "E",
}


def status_code(status: str) -> str:
    return STATUS_CODES.get(status, status[:2] or "?")


def human_quantity(resource: str, value: int, unit: str = "") -> str:
    """``cpu`` millicores as cores, bytes as Ki/Mi/Gi, other counts plainly."""
    if unit == "m" or resource == "cpu":  # integer and decimal arithmetic: quantities may pass 1e308
        return f"{value // 1000}" if value % 1000 == 0 else f"{value}m"
    if unit == "bytes":
        for suffix, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if value >= size:
                return f"{value // size}{suffix}" if value % size == 0 else f"{Decimal(value) / size:.1f}{suffix}"
        return str(value)
    return f"{value:,}"


def _lane_text(lane) -> str:
    if not lane.pods:
        return "."
    return " ".join(f"{p.name}({status_code(p.status)})" for p in lane.pods)


def _short_status(status: str) -> str:
    return status.replace("Ready=", "").replace("unreachable:NoExecute", "NoExecute")


def _node_note(lane) -> str:
    """A node whose status is not the healthy one gets a marker in the header and cells."""
    return "" if lane.status in ("", "up", "Ready") else "!"


def timeline_lines(cx: Counterexample) -> list[str]:
    """The swim lanes as a fixed-width text diagram (one line per step)."""
    tl: Timeline | None = cx.timeline
    if tl is None:
        return []
    first = tl.frames[0]
    api_names = [lane.node for lane in first.api]
    phys_names = [lane.node for lane in first.physical]
    rows = []
    for i, frame in enumerate(tl.frames):
        step = cx.steps[i]
        cells = [_lane_text(l) + (f" [{_short_status(l.status)}]" if _node_note(l) else "") for l in frame.api]
        pcells = [_lane_text(l) + (f" [{_short_status(l.status)}]" if _node_note(l) else "") for l in frame.physical]
        mark = "~" if cx.in_cycle(i) else " "
        rows.append((f"{i:>3}{mark}", step.actor, cells, pcells))
    widths = [max(len(n), *(len(r[2][j]) for r in rows)) for j, n in enumerate(api_names)]
    pwidths = [max(len(n), *(len(r[3][j]) for r in rows)) for j, n in enumerate(phys_names)]
    actor_w = max(5, *(len(r[1]) for r in rows))

    def line(head, actor, cells, pcells):
        text = f"{head:<4} {actor:<{actor_w}} | " + "  ".join(c.ljust(w) for c, w in zip(cells, widths))
        if pwidths:
            text += " || " + "  ".join(c.ljust(w) for c, w in zip(pcells, pwidths))
        return text.rstrip()

    title = "API view" if pwidths else "pods per node"
    out = [line("", "", [title] + [""] * (len(widths) - 1), ["physical view"] + [""] * (len(pwidths) - 1))]
    out.append(line("step", "actor", api_names, phys_names))
    for head, actor, cells, pcells in rows:
        out.append(line(head, actor, cells, pcells))
    codes = sorted({(status_code(p.status), p.status) for f in tl.frames for lane in f.api + f.physical
                    for p in lane.pods})
    if codes:
        out.append("pods: " + ", ".join(f"{c}={s}" for c, s in codes) + "; [..] a node that is not healthy"
                   + ("; ~ repeats forever" if cx.is_lasso else ""))
    return out


def _trace_lines(cx: Counterexample) -> list[str]:
    out = []
    for step in cx.steps:
        if step.index == 0:
            out.append("    0. initial state")
            continue
        mark = " ~" if cx.in_cycle(step.index) else "  "
        out.append(f"  {mark}{step.index}. [{step.actor}] {step.action}")
        for change in step.changes:
            out.append(f"         {change}")
        if step.explanation:
            out.append(f"       => {step.explanation}")
    out.append("    " + lasso_words(cx))
    return [line for line in out if line.strip()]


def lasso_words(cx: Counterexample) -> str:
    """How the trace ends, in words (empty for a plain path)."""
    n = len(cx.steps) - 1
    if cx.cycle_start is None:
        if cx.verdict == "violated":
            return f"state {n} breaks the property."
        return ""
    if cx.cycle_start == n:
        return f"then the system stays in state {n} forever: no fair actor can act, and the property never holds again."
    back = "a state symmetric to" if cx.cycle_up_to_symmetry else "state"
    return (f"steps {cx.cycle_start + 1}..{n} then repeat forever (back to {back} {cx.cycle_start}): "
            "the property never holds for good.")


def _schedule_lines(s: ScheduleSection, width: int | None = None) -> list[str]:
    out = [f"scheduling: {s.verdict} (objective {s.objective}, {s.seconds:.2f}s)"]
    if s.nodes:
        rows = []
        for n in s.nodes:
            placed = ", ".join(f"{w}={c}" for w, c in zip(s.workloads, n.counts) if c)
            util = "  ".join(f"{u.resource} {human_quantity(u.resource, u.requested, u.unit)}/"
                             f"{human_quantity(u.resource, u.allocatable, u.unit)}"
                             + (f" ({u.fraction:.0%})" if u.fraction is not None else "") for u in n.utilisation)
            rows.append((n.node, placed or "-", n.bound or "", util))
        out.append(table(("node", "placed", "bound", "requested/allocatable"), rows, indent="  ", width=width))
    for u in s.unschedulable:
        who = u.workload + (f" ({u.pods} pods)" if u.pods else "")
        out.append(f"  cannot place [{u.source}] {who}: {u.reason}")
        out += [f"      {c}" for c in u.causes]
    for t in s.tolerances:
        out.append(f"  {t.claim_words()}: {t.verdict}" + (f" (fails with {', '.join(t.failed)} down)" if t.failed else "")
                   + (f": {t.explanation}" if t.explanation else ""))
    if s.greedy:
        out.append(f"  {s.greedy}")
    out += [f"  note: {n}" for n in s.notes]
    return out


def render(report: Report, width: int | None = None) -> str:
    """The report as terminal text; tables wrap to fit ``width`` columns when given."""
    out = [report.title, "=" * len(report.title), f"verdict: {report.verdict}", report.status.headline]
    out += [f"  {d}" for d in report.status.details]
    out.append("")
    if report.verdicts:
        rows = [(v.section, v.name, v.kind, v.verdict.upper() if v.verdict != "holds" else v.shown, v.detail)
                for v in report.verdicts]
        out.append(table(("", "check", "kind", "verdict", "detail"), rows, width=width))
        out.append("")
    if report.assumptions:
        out.append("assumptions:")
        out += [f"  {a.topic}: {a.text}" for a in report.assumptions]
        out.append("")
    for sec in report.explore:
        st = sec.stats
        out.append(f"explored {sec.model}: {st.get('distinct_states', 0):,} distinct states, "
                   f"{st.get('transitions', 0):,} transitions, depth {st.get('max_depth', 0)}, "
                   f"{st.get('seconds', 0):.2f}s" + (f", stopped by {sec.bound}" if sec.bound else "")
                   + (f", {sec.stopped_note}" if sec.stopped_note else ""))
        for cx in sec.counterexamples:
            out.append(f"\n{cx.property} ({cx.kind}) violated:")
            out += _trace_lines(cx)
            lines = timeline_lines(cx)
            if lines:
                out.append("")
                out += ["    " + line for line in lines]
        out.append("")
    if report.schedule is not None:
        out += _schedule_lines(report.schedule, width) + [""]
    if report.check is not None:
        c = report.check
        total = sum(len(g.findings) for g in c.groups)
        out.append(f"static check: {total} finding(s) over {c.objects} object(s); "
                   f"{'passed' if c.passed else 'FAILED'} at threshold '{c.threshold}'")
        for g in c.groups:
            out.append(f"  [{g.rule}] {g.title} ({g.severity}, {len(g.findings)})")
            out += [f"    {f.location}: {f.object}: {f.message}" + (" (evaluation error)" if f.status == "error" else "")
                    for f in g.findings]
        out.append("")
    if report.diagnostics:
        out.append("input problems:")
        out += [f"  {d}" for d in report.diagnostics]
        out.append("")
    env = report.environment
    out.append(f"kspec {env.kspec}, z3 {env.z3}, python {env.python}; command: {env.command_line}")
    for f in report.inputs:
        out.append(f"  {f.sha256[:16]}  {f.path}")
    return terminal("\n".join(out).rstrip()) + "\n"  # no escape sequence reaches the terminal raw
