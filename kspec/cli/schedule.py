"""``kspec schedule PATH... [--nodes POOL]``: does everything fit, and after failures?

Places every pending pod and every workload replica at once with Z3, prints the
placement per node, explains infeasibility with a minimal set of conflicting
constraints (objects, fields, file:line), checks failure tolerance, and shows
what the kube-scheduler's greedy one-at-a-time placement would do beside it.

Exit codes (:mod:`kspec.cli.exits`): 0 feasible and tolerant of the failures
asked about, 1 infeasible or not tolerant, 2 bad input; a solver call that
timed out ("unknown") is inconclusive: 0, or 3 under ``--strict``.
"""

from __future__ import annotations

import json
import textwrap
import time
from decimal import Decimal

import click

from kspec.checker.model import Verdict
from kspec.cli.common import load_cluster, report_option, strict_option, verb
from kspec.cli.exits import exit_code
from kspec.cli.output import check_output, terminal_width, write_report
from kspec.scheduling import greedy as greedy_mod
from kspec.scheduling import solver
from kspec.scheduling.budgets import disruption_limits
from kspec.scheduling.explain import explain
from kspec.scheduling.problem import Problem
from kspec.scheduling.result import FEASIBLE, INFEASIBLE, UNKNOWN, ScheduleResult
from kspec.util.budget import Budget

VERDICTS = {FEASIBLE: Verdict.HOLDS, INFEASIBLE: Verdict.VIOLATED, UNKNOWN: Verdict.INCONCLUSIVE}

MAX_ROWS = 40
PLACED_MIN = 20  # the PLACED column never wraps narrower than this


def run(cluster, *, objective="feasible", node_failures=0, zone_failure=False, timeout=60.0,
        with_greedy=True, with_explain=True) -> ScheduleResult:
    """Everything ``kspec schedule`` computes, as one :class:`ScheduleResult`."""
    start = time.monotonic()
    problem = Problem(cluster)
    verdict, placement, encoding = solver.solve(problem, objective=objective, timeout=timeout)
    explanation = explain(problem, timeout=timeout) if verdict == INFEASIBLE and with_explain else None
    tolerances, budgets = [], []
    notes = []
    if verdict == FEASIBLE:
        explainer = (lambda failed: explain(problem, failed, timeout=timeout)) if with_explain else None
        limits = disruption_limits(problem)
        if node_failures:
            tolerances.append(solver.check_failures(
                problem, solver.node_failure_scenarios(problem, node_failures), kind="nodes", k=node_failures,
                timeout=timeout, explain=explainer))
            if limits:
                budgets.append(solver.check_budgets(problem, limits, kind="nodes", k=node_failures, timeout=timeout))
        if zone_failure:
            zones = list(solver.zone_scenarios(problem))
            if not zones:
                notes.append(f"no node carries {solver.ZONE_LABEL}: zone loss not checked")
            tolerances.append(solver.check_failures(problem, zones, kind="zone", k=1, timeout=timeout,
                                                    explain=explainer))
            if limits and zones:
                budgets.append(solver.check_budgets(problem, limits, kind="zone", k=1, timeout=timeout))
    elif node_failures or zone_failure:
        notes.append("failure tolerance not checked: the cluster does not fit even with every node up")
    greedy = greedy_mod.schedule(problem, Budget(time_limit=timeout)) if with_greedy else None
    stats = (("nodes", len(problem.nodes)), ("groups", len(problem.groups)),
             ("pods", problem.total_pods()), ("variables", len(encoding.x)),
             ("node_classes", len(problem.node_classes())))
    warnings = tuple(f"{key} requests no cpu or memory: only its pod slots are counted, so feasibility and "
                     "tolerance say nothing about whether it really fits" for key in problem.without_requests())
    return ScheduleResult(verdict, objective, tuple((g.key, g.count) for g in problem.groups), placement,
                          explanation, tuple(tolerances), greedy, time.monotonic() - start, stats, tuple(notes),
                          tuple(budgets), warnings)


def verdicts(result: ScheduleResult) -> list[Verdict]:
    """Feasibility and each failure-tolerance question as verdicts: feasible
    (tolerant) holds, infeasible (not tolerant) is violated, unknown (the
    solver timed out) is inconclusive, never read as either."""
    return [VERDICTS[result.verdict], *(VERDICTS[t.verdict] for t in result.tolerances),
            *(VERDICTS[b.verdict] for b in result.budgets)]


# ---------------------------------------------------------------------------- text


def _amount(resource: str, value: int) -> str:
    """Millicores as cores, bytes as Gi; in decimal arithmetic, since quantities may pass 1e308."""
    if resource == "cpu":
        return f"{Decimal(value).scaleb(-3).normalize():g}"
    if resource in ("memory", "ephemeral-storage"):
        gibibytes = Decimal(value) / (1 << 30)
        return f"{gibibytes:.1f}Gi" if gibibytes < 10**15 else f"{gibibytes:.3e}Gi"
    return str(value)


def _cell(row, resource: str) -> str:
    req, alloc = dict(row.requested).get(resource, 0), dict(row.allocatable).get(resource, 0)
    util = f" {100 * row.utilisation(resource):3.0f}%" if alloc else ""
    return f"{_amount(resource, req)}/{_amount(resource, alloc)}{util}"


def render_text(result: ScheduleResult, width: int | None = None) -> str:
    """The placement and the answers as text; the PLACED column wraps to fit ``width`` when given."""
    out = []
    pods = sum(c for _, c in result.groups)
    out.append(f"{pods} pod(s) in {len(result.groups)} group(s): {result.verdict.upper()}"
               + ("" if result.objective == "feasible" else f" (objective: {result.objective})"))
    if result.placement is not None:
        rows = [r for r in result.placement.rows if r.pods or r.bound]
        header = ("NODE", "CPU", "MEMORY", "PODS", "PLACED")
        table = [header]
        for row in rows[:MAX_ROWS]:
            placed = ", ".join(f"{g} x{c}" for g, c in row.pods) or "-"
            table.append((row.node, _cell(row, "cpu"), _cell(row, "memory"),
                          f"{dict(row.requested).get('pods', 0)}/{dict(row.allocatable).get('pods', 0)}", placed))
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        lead = 2 + sum(widths) + 2 * 4
        room = max(PLACED_MIN, width - lead) if width else None
        for r in table:
            placed = textwrap.wrap(r[4], room, break_on_hyphens=False) if room else [r[4]]
            out.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + placed[0])
            out += [" " * lead + more for more in placed[1:]]
        hidden = len(rows) - MAX_ROWS
        if hidden > 0:
            out.append(f"  ... {hidden} more node(s) in use (use -o json for all)")
        out.append(f"  {result.placement.nodes_used()} of {len(result.placement.rows)} node(s) in use")
    if result.explanation is not None:
        out.append("why not: " + result.explanation.summary)
        for cause in result.explanation.causes:
            out.append(f"  {cause.location}: {cause.object}: {cause.field}: {cause.message}")
        if not result.explanation.minimal:
            out.append("  (core not proved minimal: the solver ran out of time while shrinking it)")
    for tol in result.tolerances:
        what = f"any {tol.k} node failure(s)" if tol.kind == "nodes" else "the loss of any one zone"
        status = {"feasible": "TOLERANT", "infeasible": "NOT TOLERANT", "unknown": "UNKNOWN (timeout)"}[tol.verdict]
        out.append(f"{what}: {status} (re-placeable: the lost pods fit on the nodes left; {tol.scenarios} scenario(s) solved for {tol.equivalent_sets} failure set(s), "
                   f"{tol.seconds:.1f}s)")
        if tol.counterexample is not None:
            failed = ", ".join(tol.counterexample.failed)
            out.append(f"  fails when {failed} {'is' if len(tol.counterexample.failed) == 1 else 'are'} lost")
            if tol.counterexample.explanation:
                out.append("  why: " + tol.counterexample.explanation.summary)
    for budget in result.budgets:
        what = f"any {budget.k} node failure(s)" if budget.kind == "nodes" else "the loss of any one zone"
        status = {"feasible": "KEPT", "infeasible": "NOT KEPT", "unknown": "UNKNOWN (timeout)"}[budget.verdict]
        out.append(f"{what}, disruption budgets: {status} (checked in every placement the filters "
                   f"allow; {budget.seconds:.1f}s)")
        out += [f"  {limit}" for limit in budget.limits]
        if budget.breach is not None:
            out.append("  why not: " + budget.breach.summary())
    if result.greedy is not None:
        g = result.greedy
        if not g.computed:
            out.append(f"greedy (kube-scheduler order, least-allocated): {g.summary()}")
        elif g.all_placed:
            out.append(f"greedy (kube-scheduler order, least-allocated): all pods placed on "
                       f"{g.placement.nodes_used()} node(s)")
        else:
            left = sum(c for _, c, _ in g.pending)
            gap = " although a placement exists" if result.verdict == FEASIBLE else ""
            out.append(f"greedy (kube-scheduler order, least-allocated): {left} pod(s) left Pending{gap}")
            for group, count, message in g.pending:
                out.append(f"  {group}: {count} Pending: {message}")
    for note in result.notes:
        out.append(f"note: {note}")
    return "\n".join(out)


# ---------------------------------------------------------------------------- the command


@verb("schedule")
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--nodes", "nodes", multiple=True, metavar="POOL",
              help='Add a pool of identical nodes, e.g. "3:cpu=4,memory=16Gi;zones=a,b,c" (repeatable).')
@click.option("--tolerate-node-failures", "node_failures", type=click.IntRange(0, 16), default=0, metavar="K",
              help="Also check that everything still fits after any K nodes fail.")
@click.option("--tolerate-zone-failure", "zone_failure", is_flag=True, default=False,
              help="Also check that everything still fits after any one zone (topology.kubernetes.io/zone) is lost.")
@click.option("--objective", type=click.Choice(solver.OBJECTIVES), default="feasible",
              help="feasible: any placement; min-nodes: fewest nodes used; balanced: lowest peak cpu/memory use.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", help="Output format.")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=60.0,
              help="Seconds per solver call; a call that times out is reported as unknown, never as infeasible.")
@click.option("--greedy/--no-greedy", "with_greedy", default=True,
              help="Also run the kube-scheduler-like greedy baseline.")
@strict_option
@report_option
def command(paths, nodes, node_failures, zone_failure, objective, output, timeout, with_greedy, strict, report_path):
    """Check that every pending pod and workload replica in PATHS fits on the nodes, at once.

    PATHS are manifest files or folders ('-' for stdin). Nodes come from Node
    manifests and --nodes pools.
    """
    check_output(report_path, [*paths, *nodes])
    cluster = load_cluster(paths, nodes)
    if not cluster.nodes:
        raise click.UsageError("no nodes to schedule on: the input holds no Node manifest; add Node manifests "
                               'or a pool, e.g. --nodes "3:cpu=4,memory=16Gi"')
    result = run(cluster, objective=objective, node_failures=node_failures, zone_failure=zone_failure,
                 timeout=timeout, with_greedy=with_greedy)
    code = exit_code(verdicts(result), strict=strict)
    if output == "json":
        click.echo(json.dumps({**result.to_json(), "exit_code": int(code)}, indent=2, sort_keys=False))
    else:
        for warning in result.warnings:
            click.echo(f"kspec: warning: {warning}", err=True)
        click.echo(render_text(result, terminal_width()))
        click.echo(f"({result.seconds:.2f}s)", err=True)
    if report_path:
        write_report(result, report_path, inputs=paths)
    return code
