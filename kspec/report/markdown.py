"""The report as Markdown, for pull requests and design documents.

Readable as plain text and on code-hosting sites: verdicts, assumptions,
traces and placements are tables; each timeline is a compact text diagram in
a fenced block. User text in tables is escaped (``|``, ``<``, ``>``, ``&``,
backticks, ``*``, ``_``, ``[``, ``]``), since hosting sites render inline HTML;
fenced blocks use a fence longer than any backtick run inside them.
"""

from __future__ import annotations

import re

from kspec.report.model import Counterexample, Report, ScheduleSection
from kspec.report.text import human_quantity, lasso_words, timeline_lines
from kspec.util.escape import terminal, visible

__all__ = ["render", "cell"]

_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def cell(value) -> str:
    """Text safe inside a Markdown table cell (and as inline text): HTML
    entities for ``& < >``, backslash escapes for Markdown punctuation, no newlines,
    control characters spelled out (``\\x1b``)."""
    text = "" if value is None else visible(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())


def _table(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(rows_cell for rows_cell in row) + " |" for row in rows]
    return out


def _fenced(lines: list[str]) -> list[str]:
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *(terminal(line) for line in lines), fence]


def _verdict(word: str) -> str:
    return {"holds": "holds", "violated": "**VIOLATED**", "inconclusive": "*inconclusive*",
            "rejected": "**REJECTED**", "warning": "warning"}.get(word, cell(word))


def _trace(cx: Counterexample) -> list[str]:
    rows = []
    for step in cx.steps:
        mark = " ↻" if cx.in_cycle(step.index) else ""
        changes = "<br>".join([cell(c) for c in step.changes] + ([f"**⇒ {cell(step.explanation)}**"]
                                                                   if step.explanation else []))
        action = "*initial state*" if step.index == 0 else cell(step.action)
        rows.append((f"{step.index}{mark}", cell(step.actor), action, changes))
    out = _table(("step", "actor", "action", "what changed"), rows)
    if cx.explanation:
        out += ["", f"**Why:** {cell(cx.explanation)}"]
    words = lasso_words(cx)
    if words:
        out += ["", ("**Lasso:** " if cx.is_lasso else "") + cell(words)]
    return out


def _schedule(s: ScheduleSection) -> list[str]:
    out = ["## Scheduling", "", f"Feasibility: {_verdict(s.verdict)} (objective {cell(s.objective)}, {s.seconds:.2f} s)",
           ""]
    if s.nodes:
        resources = [u.resource for u in s.nodes[0].utilisation]
        rows = []
        for n in s.nodes:
            counts = [str(c) if c else "·" for c in n.counts]
            util = []
            for u in n.utilisation:
                pct = "" if u.fraction is None else f" ({u.fraction:.0%})"
                util.append(f"{human_quantity(u.resource, u.requested, u.unit)} / "
                            f"{human_quantity(u.resource, u.allocatable, u.unit)}{pct}")
            rows.append((cell(n.node), *counts, str(n.bound or ""), *util))
        out += _table(("node", *(cell(w) for w in s.workloads), "bound", *(cell(r) for r in resources)), rows) + [""]
    if s.unschedulable:
        out += ["### Pods that cannot be placed", ""]
        rows = []
        for u in s.unschedulable:
            why = cell(u.reason) + "".join("<br>• " + cell(c) for c in u.causes)
            rows.append((cell(u.workload), str(u.pods or ""), "Z3" if u.source == "z3" else "greedy", why))
        out += _table(("workload", "pods", "found by", "why"), rows) + [""]
    if s.tolerances:
        out += ["### Failure tolerance", ""]
        rows = [(cell(t.claim_words()), _verdict(t.verdict), cell(", ".join(t.failed)),
                 cell(t.explanation)) for t in s.tolerances]
        out += _table(("question", "verdict", "failing set", "why"), rows) + [""]
    if s.greedy:
        out += [cell(s.greedy) + ".", ""]
    out += [cell(n) + "  " for n in s.notes]
    return out


def render(report: Report) -> str:
    out = [f"# {cell(report.title)}", "", f"Overall verdict: {_verdict(report.verdict)}", "",
           f"> {cell(report.status.headline)}"]
    out += [f"> - {cell(d)}" for d in report.status.details]
    out += ["", "## Verdicts", ""]
    if report.verdicts:
        rows = []
        for v in report.verdicts:
            states = "" if v.states is None else f"{v.states:,}"
            seconds = "" if v.seconds is None else f"{v.seconds:.2f}"
            verdict = _verdict(v.verdict) + (" (*vacuous*)" if v.vacuous else "")
            rows.append((cell(v.section), cell(v.name), cell(v.kind), verdict, cell(v.detail), states, seconds))
        out += _table(("part", "rule or property", "kind", "verdict", "detail", "states", "time (s)"), rows)
    else:
        out.append("Nothing was checked.")
    if report.assumptions:
        out += ["", "## Assumptions", ""]
        out += [f"- **{cell(a.topic)}**: {cell(a.text)}" for a in report.assumptions]
    if report.diagnostics:
        out += ["", "## Input problems", ""] + [f"- {cell(d)}" for d in report.diagnostics]
    for sec in report.explore:
        st = sec.stats
        out += ["", f"## Exploration: {cell(sec.model)}", "",
                f"{st.get('distinct_states', 0):,} distinct states, {st.get('transitions', 0):,} transitions, "
                f"depth {st.get('max_depth', 0)}, {st.get('seconds', 0):.2f} s, {st.get('strategy', 'bfs')}, "
                f"symmetry reduction {'on' if st.get('symmetry') else 'off'}"
                + ("" if sec.complete else f"; **stopped by {cell(sec.bound)}**")
                + (f"; {sec.stopped_note}" if sec.stopped_note else "") + "."]
        for cx in sec.counterexamples:
            out += ["", f"### Counterexample: {cell(cx.property)} ({cell(cx.kind)}, {len(cx.steps) - 1} steps)", ""]
            lines = timeline_lines(cx)
            if lines:
                out += _fenced(lines) + [""]
            out += _trace(cx)
    if report.schedule is not None:
        out += [""] + _schedule(report.schedule)
    if report.check is not None:
        c = report.check
        total = sum(len(g.findings) for g in c.groups)
        out += ["", "## Static findings", "",
                f"{total} finding(s) from {len(c.rules)} rule(s) over {c.objects} object(s): "
                f"{'passed' if c.passed else '**failed**'} at threshold `{cell(c.threshold)}`."]
        for g in c.groups:
            out += ["", f"### {cell(g.rule)}: {cell(g.title)} ({cell(g.severity)}, {len(g.findings)})", ""]
            rows = [(cell(f.object), cell(f.location), cell(f.message) + (" *(evaluation error)*" if f.status == "error"
                                                                           else "")) for f in g.findings]
            out += _table(("object", "file:line", "message"), rows)
    env = report.environment
    out += ["", "## Inputs", ""]
    if report.inputs:
        out += _table(("file", "sha256", "bytes"), [(cell(f.path), f"`{f.sha256}`", f"{f.bytes:,}") for f in report.inputs])
    out += ["", f"Command line: {cell(env.command_line)}  ",
            f"kspec {cell(env.kspec)}, Z3 {cell(env.z3)}, Python {cell(env.python)} ({cell(env.platform)}), "
            f"created {cell(env.created)}."]
    out += ["", *(cell(n) for n in report.notes)] if report.notes else []
    return terminal("\n".join(out).rstrip()) + "\n"  # no raw control character, whatever a line holds
