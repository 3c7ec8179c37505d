"""The report as one self-contained HTML file.

Inline CSS, inline SVG, no scripts, no fonts, no images from anywhere: the
page carries a Content-Security-Policy of ``default-src 'none'`` (styles
inline only), so a browser fetches nothing even if some text slipped through.
Every piece of user text (names, labels, annotations, messages, file paths,
the command line) goes through :func:`esc`, so ``<script>`` in a label shows
as the text ``<script>``. Collapsible parts use ``<details>``, which needs
no script.

Sections, in reading order: the verdict and the run's status (an interrupted
or inconclusive run says so first, with the bound that was hit), the verdict
table, assumptions, inputs; then the evidence: each counterexample as a
timeline (a swim-lane SVG of pods per node over the steps, API view and
physical view side by side, the repeating cycle of a lasso marked) and a table
of steps (actor, action, what changed); the placement grid with utilisation
bars, unschedulable pods and failure tolerance; static findings grouped by rule.
"""

from __future__ import annotations

import html

from kspec.report.model import Counterexample, ExploreSection, Report, ScheduleSection, Timeline
from kspec.report.text import human_quantity, lasso_words
from kspec.util.escape import terminal

__all__ = ["render", "esc", "timeline_svg"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def esc(value) -> str:
    """HTML-escape any value's text (quotes too, so it is safe in attributes), with
    control characters spelled out (``\\x1b``): HTML forbids them raw."""
    return html.escape(terminal("" if value is None else value), quote=True)


CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--unk:#9a6700;--mut:#57606a;--line:#d0d7de;--bg2:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;margin:0;padding:0 24px 48px;max-width:1400px}
h1{font-size:22px;margin:20px 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}
code,.mono,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--bg2)}
.verdict{font-weight:600;padding:1px 8px;border-radius:10px;white-space:nowrap}
.v-holds{color:#fff;background:var(--ok)}.v-violated,.v-rejected{color:#fff;background:var(--bad)}.v-inconclusive{color:#fff;background:var(--unk)}.v-warning,.v-vacuous{color:#1f2328;background:#d0d7de}
.banner{padding:10px 14px;border-radius:6px;margin:8px 0;border:1px solid}
.b-complete{background:#dafbe1;border-color:#aceebb}.b-inconclusive,.b-interrupted{background:#fff8c5;border-color:#d4a72c}
.b-rejected{background:#ffebe9;border-color:#ff8182}
.banner strong{font-size:15px}
.overall{font-size:16px;margin:6px 0}
nav a{margin-right:12px}
.mut{color:var(--mut)}
dl.assume{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}dl.assume dt{font-weight:600}dl.assume dd{margin:0}
tr.cycle td{background:#fff8c5}tr.cycle-start td{border-bottom:2px solid var(--unk)}tr.bad td{background:#ffebe9}
td.changes ul{margin:0;padding-left:16px}
.timeline{overflow-x:auto;border:1px solid var(--line);border-radius:6px;padding:6px;margin:8px 0;background:#fff}
.lasso{font-weight:600;color:var(--unk)}
svg text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.cnt{text-align:center;font-weight:600}
.grid td.zero{color:#c0c6cc}.grid td,.grid th{white-space:nowrap}.grid td.mono{font-size:11.5px}
details>summary{cursor:pointer;font-weight:600;margin:4px 0}
.sev-error{color:var(--bad)}.sev-warning{color:var(--unk)}.sev-info{color:var(--mut)}
footer{margin-top:32px;color:var(--mut);font-size:12px}
"""

# Pod chip colours by status (fill, text), and node lane backgrounds.
_POD_FILL = {
    "Running, Ready": "#2da44e", "Running": "#2da44e", "running": "#2da44e",
    "Running, not ready": "#8ddb8c", "Pending": "#e3b341", "Pending, unschedulable": "#d4a72c",
    "Terminating": "#fb8f44", "Failed": "#cf222e", "Succeeded": "#8c959f", "Unresponsive": "#8250df",
    "hung": "#8250df", "crashed": "#cf222e", "orphaned, running": "#a40e26", "ready endpoint": "#0969da",
}
_LIGHT_TEXT = {"#2da44e", "#cf222e", "#8250df", "#8c959f", "#a40e26", "#0969da"}


def _lane_fill(status: str) -> str:
    if status in ("", "up", "Ready"):
        return "#ffffff"
    if status == "down":
        return "#d0d7de"
    if status.startswith("0 ready endpoint"):
        return "#ffebe9"
    if "ready endpoint" in status:
        return "#ffffff"
    if "partitioned" in status:
        return "#ffe7c7"
    return "#fff3b0"  # Ready=Unknown, tainted


def _verdict(word: str) -> str:
    return f'<span class="verdict v-{esc(word)}">{esc(word)}</span>'


# --------------------------------------------------------------------------- the timeline picture

ROW_H = 22
CHIP_W = 86
CHIP_H = 16
STEP_W = 34
ACTOR_W = 112
HEAD_H = 40
GAP = 26


def _short(name: str, width: int) -> str:
    chars = max(3, (width - 6) // 7)
    return name if len(name) <= chars else name[: chars - 1] + "\u2026"


def timeline_svg(cx: Counterexample) -> str:
    """Swim lanes as inline SVG: one row per state (time runs down), one
    column per node in each view; pods are chips coloured by status, with the
    full name and status in a tooltip; a node that is not healthy has a tinted lane."""
    tl: Timeline = cx.timeline
    frames = tl.frames
    views = [("api", tl.api_title)] + ([("physical", tl.physical_title)] if tl.physical_title else []) \
        + ([("services", tl.services_title)] if tl.services_title else [])
    # lane widths: the most pods a lane ever holds
    widths: dict[tuple[str, int], int] = {}
    for view, _ in views:
        for f in frames:
            for j, lane in enumerate(getattr(f, view)):
                key = (view, j)
                widths[key] = max(widths.get(key, 1), len(lane.pods))
    x = STEP_W + ACTOR_W
    columns = []  # (view, j, x, width)
    view_spans = []
    for view, title in views:
        start = x
        lanes = getattr(frames[0], view)
        for j, _lane in enumerate(lanes):
            w = max(96, widths[(view, j)] * (CHIP_W + 4) + 8)
            columns.append((view, j, x, w))
            x += w
        view_spans.append((title, start, x))
        x += GAP
    width = x - GAP + 8
    height = HEAD_H + len(frames) * ROW_H + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="swimlanes" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="timeline of {esc(cx.property)}">']
    out.append(f"<title>Timeline of the counterexample to {esc(cx.property)}</title>")
    for title, x0, x1 in view_spans:
        out.append(f'<text x="{x0 + 4}" y="13" font-size="12" font-weight="bold" fill="#1f2328">{esc(title)}</text>')
    for view, j, x0, w in columns:
        name = getattr(frames[0], view)[j].node
        out.append(f'<text x="{x0 + 4}" y="32" font-size="11" fill="#57606a">{esc(_short(name, w))}'
                   f"<title>{esc(name)}</title></text>")
    out.append('<text x="4" y="32" font-size="11" fill="#57606a">step</text>')
    out.append(f'<text x="{STEP_W}" y="32" font-size="11" fill="#57606a">actor</text>')
    for i, frame in enumerate(frames):
        y = HEAD_H + i * ROW_H
        if cx.in_cycle(i):
            out.append(f'<rect x="0" y="{y}" width="{STEP_W - 4}" height="{ROW_H}" fill="#fff8c5"/>')
        step = cx.steps[i]
        out.append(f'<text x="6" y="{y + 15}" font-size="11" fill="#1f2328">{i}</text>')
        out.append(f'<text x="{STEP_W}" y="{y + 15}" font-size="11" fill="#1f2328">'
                   f"{esc(_short(step.actor or '-', ACTOR_W))}<title>{esc(step.action)}</title></text>")
        for view, j, x0, w in columns:
            lane = getattr(frame, view)[j]
            tip = f"{lane.node}: {lane.status}" if lane.status else lane.node
            out.append(f'<rect x="{x0}" y="{y}" width="{w - 2}" height="{ROW_H}" fill="{_lane_fill(lane.status)}" '
                       f'stroke="#d0d7de" stroke-width="0.5"><title>{esc(tip)}</title></rect>')
            for k, pod in enumerate(lane.pods):
                cx0 = x0 + 4 + k * (CHIP_W + 4)
                fill = _POD_FILL.get(pod.status, "#afb8c1")
                ink = "#ffffff" if fill in _LIGHT_TEXT else "#1f2328"
                out.append(f'<g><title>{esc(pod.name)}: {esc(pod.status)}</title>'
                           f'<rect x="{cx0}" y="{y + 3}" width="{CHIP_W}" height="{CHIP_H}" rx="3" fill="{fill}"/>'
                           f'<text x="{cx0 + 4}" y="{y + 15}" font-size="10.5" fill="{ink}">'
                           f"{esc(_short(pod.name, CHIP_W))}</text></g>")
    if cx.cycle_start is not None:
        y0 = HEAD_H + (cx.cycle_start + 1) * ROW_H
        y1 = HEAD_H + len(frames) * ROW_H
        if y1 > y0:
            out.append(f'<path d="M{STEP_W - 6},{y0} h4 V{y1} h-4" stroke="#9a6700" stroke-width="2" fill="none"/>')
            out.append(f'<text x="{STEP_W - 2}" y="{y1 + 7}" font-size="9" fill="#9a6700" text-anchor="end">'
                       "repeats</text>")
    elif cx.verdict == "violated":
        y = HEAD_H + (len(frames) - 1) * ROW_H
        out.append(f'<rect x="1" y="{y + 1}" width="{width - 10}" height="{ROW_H - 2}" fill="none" '
                   'stroke="#cf222e" stroke-width="2"/>')
    out.append("</svg>")
    return "".join(out)


def _legend(cx: Counterexample) -> str:
    statuses = sorted({p.status for f in cx.timeline.frames for lane in f.api + f.physical + f.services
                       for p in lane.pods})
    items = []
    for status in statuses:
        fill = _POD_FILL.get(status, "#afb8c1")
        items.append(f'<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" '
                     f'fill="{fill}"/></svg> {esc(status)}')
    lanes = ['<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="#d0d7de"/></svg> '
             "node down",
             '<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="#fff3b0" '
             'stroke="#d0d7de"/></svg> node not Ready / tainted',
             '<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="#ffe7c7" '
             'stroke="#d0d7de"/></svg> node partitioned']
    return '<p class="mut legend">' + " &nbsp; ".join(items + lanes) + "</p>"


# --------------------------------------------------------------------------- sections


def _status(report: Report) -> str:
    s = report.status
    parts = [f'<div class="banner b-{esc(s.state)}" id="status"><strong>{esc(s.headline)}</strong>']
    if s.details:
        parts.append("<ul>" + "".join(f"<li>{esc(d)}</li>" for d in s.details) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def _verdict_table(report: Report) -> str:
    if not report.verdicts:
        return '<p class="mut">Nothing was checked.</p>'
    rows = []
    for v in report.verdicts:
        name = esc(v.name)
        if v.anchor:
            name = f'<a href="#{esc(v.anchor)}">{name}</a>'
        states = "" if v.states is None else f"{v.states:,}"
        seconds = "" if v.seconds is None else f"{v.seconds:.2f}"
        verdict = _verdict(v.verdict) + (" " + _verdict("vacuous") if v.vacuous else "")
        rows.append(f"<tr><td>{esc(v.section)}</td><td>{name}</td><td>{esc(v.kind)}</td><td>{verdict}</td>"
                    f'<td>{esc(v.detail)}</td><td class="num">{states}</td><td class="num">{seconds}</td></tr>')
    return ('<table class="verdicts" id="verdict-table"><thead><tr><th>part</th><th>rule or property</th><th>kind</th>'
            '<th>verdict</th><th>detail</th><th>states explored</th><th>time (s)</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _assumptions(report: Report) -> str:
    if not report.assumptions:
        return ""
    items = "".join(f"<dt>{esc(a.topic)}</dt><dd>{esc(a.text)}</dd>" for a in report.assumptions)
    return f'<h2 id="assumptions">Assumptions</h2><dl class="assume">{items}</dl>'


def _inputs(report: Report) -> str:
    env = report.environment
    rows = "".join(f'<tr><td class="mono">{esc(f.path)}</td><td class="mono">{esc(f.sha256)}</td>'
                   f'<td class="num">{f.bytes:,}</td></tr>' for f in report.inputs)
    files = (f"<table><thead><tr><th>file</th><th>sha256</th><th>bytes</th></tr></thead><tbody>{rows}</tbody></table>"
             if rows else '<p class="mut">No input files.</p>')
    return (f'<h2 id="inputs">Inputs</h2>{files}'
            f'<dl class="assume"><dt>command line</dt><dd class="mono">{esc(env.command_line)}</dd>'
            f"<dt>kspec</dt><dd>{esc(env.kspec)}</dd><dt>Z3</dt><dd>{esc(env.z3)}</dd>"
            f"<dt>Python</dt><dd>{esc(env.python)} ({esc(env.platform)})</dd>"
            f"<dt>created</dt><dd>{esc(env.created)}</dd></dl>")


def _trace_table(cx: Counterexample) -> str:
    rows = []
    last = len(cx.steps) - 1
    for step in cx.steps:
        cls = []
        if cx.in_cycle(step.index):
            cls.append("cycle")
        if cx.cycle_start is not None and step.index == cx.cycle_start:
            cls.append("cycle-start")
        if cx.cycle_start is None and cx.verdict == "violated" and step.index == last:
            cls.append("bad")
        items = [f"<li>{esc(c)}</li>" for c in step.changes]
        if step.explanation:
            items.append(f'<li class="why"><strong>\u21d2 {esc(step.explanation)}</strong></li>')
        changes = ("<ul>" + "".join(items) + "</ul>") if items else ""
        marker = " \u21bb" if cx.in_cycle(step.index) else ""
        rows.append(f'<tr class="{" ".join(cls)}"><td class="num">{step.index}{marker}</td><td>{esc(step.actor)}</td>'
                    f'<td class="mono">{esc(step.action)}</td><td class="changes">{changes}</td></tr>')
    return ('<table class="trace"><thead><tr><th>step</th><th>actor</th><th>action</th><th>what changed</th></tr>'
            "</thead><tbody>" + "".join(rows) + "</tbody></table>")


def _counterexample(cx: Counterexample, title: str) -> str:
    n = len(cx.steps) - 1
    parts = [f'<section class="counterexample" id="{esc(cx.anchor)}">',
             f"<h3>{esc(title)}: {esc(cx.property)} <span class=\"mut\">({esc(cx.kind)}, {n} steps)</span> "
             f"{_verdict(cx.verdict)}</h3>"]
    words = lasso_words(cx)
    if cx.explanation:
        parts.append(f'<p class="why"><strong>Why:</strong> {esc(cx.explanation)}</p>')
    if cx.is_lasso:
        parts.append(f'<p class="lasso">Lasso: the prefix is steps 1..{cx.cycle_start}; {esc(words)}</p>')
    elif words:
        parts.append(f"<p>{esc(words)}</p>")
    if cx.timeline is not None:
        parts.append(f'<div class="timeline">{timeline_svg(cx)}</div>{_legend(cx)}')
    parts.append(_trace_table(cx))
    parts.append("</section>")
    return "".join(parts)


def _explore(sec: ExploreSection, index: int) -> str:
    st = sec.stats
    params = ", ".join(f"{k}={v}" for k, v in sec.params)
    parts = [f'<h2 id="explore-{index}">Exploration: {esc(sec.model)}</h2>']
    facts = [("verdict", _verdict(sec.verdict)), ("parameters", esc(params or "none")),
             ("distinct states", f"{st.get('distinct_states', 0):,}"), ("transitions", f"{st.get('transitions', 0):,}"),
             ("max depth", esc(st.get("max_depth", 0))), ("time", f"{st.get('seconds', 0):.2f} s"),
             ("peak memory", f"{st.get('peak_memory_bytes', 0) / 2**20:,.0f} MiB"),
             ("search", esc(f"{st.get('strategy', 'bfs')}, symmetry reduction {'on' if st.get('symmetry') else 'off'}")),
             ("complete", (f"yes, {sec.stopped_note}" if sec.stopped_note else "yes") if sec.complete
              else f"no: stopped by {esc(sec.bound)}")]
    parts.append('<dl class="assume">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    for cx in sec.counterexamples:
        parts.append(_counterexample(cx, "Counterexample"))
    if sec.examples:
        parts.append("<details><summary>Examples that show each reachable <code>sometimes</code> property "
                     f"({len(sec.examples)})</summary>")
        for cx in sec.examples:
            parts.append(_counterexample(cx, "Example"))
        parts.append("</details>")
    return "".join(parts)


def _bar(fraction: float | None) -> str:
    if fraction is None:
        return ""
    shown = max(0.0, min(fraction, 1.0))
    colour = "#cf222e" if fraction > 1 else "#d4a72c" if fraction > 0.85 else "#2da44e"
    return (f'<svg width="80" height="10" aria-hidden="true"><rect width="80" height="10" fill="#eaeef2"/>'
            f'<rect width="{80 * shown:.1f}" height="10" fill="{colour}"/></svg>')


# Above this many workloads the placement grid names its columns w1, w2, ... with a key below it.
GRID_NAMED = 6


def _schedule(s: ScheduleSection) -> str:
    parts = [f'<h2 id="placement">Scheduling</h2><p>Feasibility: {_verdict(s.verdict)} '
             f'<span class="mut">(objective {esc(s.objective)}, {s.seconds:.2f} s)</span></p>']
    if s.nodes:
        resources = [u.resource for u in s.nodes[0].utilisation]
        short = len(s.workloads) > GRID_NAMED
        names = [f"w{i}" if short else w for i, w in enumerate(s.workloads, start=1)]
        head = ("<tr><th>node</th>" + "".join(f'<th title="{esc(w)}">{esc(n)}</th>' for n, w in zip(names, s.workloads))
                + "<th>bound pods</th>" + "".join(f"<th>{esc(r)}</th>" for r in resources) + "</tr>")
        rows = []
        for n in s.nodes:
            cells = "".join(f'<td class="cnt">{c}</td>' if c else '<td class="cnt zero">\u00b7</td>' for c in n.counts)
            util = ""
            for u in n.utilisation:
                pct = "" if u.fraction is None else f" {u.fraction:.0%}"
                util += (f'<td class="mono">{_bar(u.fraction)}{pct}<br>'
                         f'{esc(human_quantity(u.resource, u.requested, u.unit))} / '
                         f"{esc(human_quantity(u.resource, u.allocatable, u.unit))}</td>")
            rows.append(f"<tr><td>{esc(n.node)}</td>{cells}<td class=\"num\">{n.bound or ''}</td>{util}</tr>")
        parts.append('<table class="grid"><thead>' + head + "</thead><tbody>" + "".join(rows) + "</tbody></table>")
        if short:  # many workloads: short column names keep the grid within the page; the key is here
            parts.append('<p class="mut grid-key">' + "; ".join(f"<strong>{esc(n)}</strong> {esc(w)}"
                                                              for n, w in zip(names, s.workloads)) + "</p>")
    if s.unschedulable:
        parts.append('<h3 id="unschedulable">Pods that cannot be placed</h3><table><thead><tr><th>workload</th>'
                     "<th>pods</th><th>found by</th><th>why</th></tr></thead><tbody>")
        for u in s.unschedulable:
            causes = "<ul>" + "".join(f"<li>{esc(c)}</li>" for c in u.causes) + "</ul>" if u.causes else ""
            who = "Z3: no placement exists" if u.source == "z3" else "the kube-scheduler's greedy order"
            parts.append(f"<tr><td>{esc(u.workload)}</td><td class=\"num\">{esc(u.pods if u.pods else '')}</td>"
                         f"<td>{esc(who)}</td><td>{esc(u.reason)}{causes}</td></tr>")
        parts.append("</tbody></table>")
    if s.tolerances:
        parts.append('<h3 id="tolerance">Failure tolerance</h3><table><thead><tr><th>question</th><th>verdict</th>'
                     "<th>failing set</th><th>why</th><th>scenarios solved</th></tr></thead><tbody>")
        for t in s.tolerances:
            parts.append(f"<tr><td>{esc(t.claim_words())}</td><td>{_verdict(t.verdict)}</td>"
                         f"<td>{esc(', '.join(t.failed))}</td><td>{esc(t.explanation)}</td>"
                         f'<td class="num">{t.scenarios}</td></tr>')
        parts.append("</tbody></table>")
    if s.greedy:
        parts.append(f"<p>{esc(s.greedy)}.</p>")
    parts += [f'<p class="mut">{esc(n)}</p>' for n in s.notes]
    return "".join(parts)


def _check(report: Report) -> str:
    c = report.check
    total = sum(len(g.findings) for g in c.groups)
    parts = [f'<h2 id="findings">Static findings</h2><p>{total} finding(s) from {len(c.rules)} rule(s) over '
             f"{c.objects} object(s): {'passed' if c.passed else 'failed'} at threshold "
             f"<code>{esc(c.threshold)}</code>.</p>"]
    for g in c.groups:
        parts.append(f'<details open id="rule-{esc(_anchor_id(g.rule))}"><summary><code>{esc(g.rule)}</code> '
                     f'{esc(g.title)} <span class="sev-{esc(g.severity)}">({esc(g.severity)})</span> '
                     f"&mdash; {len(g.findings)}</summary>")
        parts.append("<table><thead><tr><th>object</th><th>file:line</th><th>message</th></tr></thead><tbody>")
        for f in g.findings:
            note = " <em>(evaluation error)</em>" if f.status == "error" else ""
            parts.append(f'<tr><td class="mono">{esc(f.object)}</td><td class="mono">{esc(f.location)}</td>'
                         f"<td>{esc(f.message)}{note}</td></tr>")
        parts.append("</tbody></table></details>")
    return "".join(parts)


def _anchor_id(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)


def render(report: Report) -> str:
    nav = ['<a href="#verdict-table">verdicts</a>', '<a href="#assumptions">assumptions</a>',
           '<a href="#inputs">inputs</a>']
    nav += [f'<a href="#explore-{i}">exploration</a>' for i, _ in enumerate(report.explore)]
    if report.schedule is not None:
        nav.append('<a href="#placement">scheduling</a>')
    if report.check is not None:
        nav.append('<a href="#findings">findings</a>')
    body = [
        f"<header><h1>{esc(report.title)}</h1>",
        f'<p class="overall">Overall verdict: {_verdict(report.verdict)}</p>',
        _status(report),
        f"<nav>{''.join(nav)}</nav></header><main>",
        '<h2 id="verdicts">Verdicts</h2>',
        _verdict_table(report),
        _assumptions(report),
    ]
    if report.diagnostics:
        body.append('<h2 id="diagnostics">Input problems</h2><ul>'
                    + "".join(f'<li class="mono">{esc(d)}</li>' for d in report.diagnostics) + "</ul>")
    for i, sec in enumerate(report.explore):
        body.append(_explore(sec, i))
    if report.schedule is not None:
        body.append(_schedule(report.schedule))
    if report.check is not None:
        body.append(_check(report))
    body.append(_inputs(report))
    body += [f'<p class="mut">{esc(n)}</p>' for n in report.notes]
    body.append(f'</main><footer>kspec report, schema kspec-report version 1. Generated by kspec '
                f"{esc(report.environment.kspec)} at {esc(report.environment.created)}.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{esc(report.title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
