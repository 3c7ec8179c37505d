"""``kspec inspect``: what was loaded, by kind, workload and Service."""

from __future__ import annotations

import json

import click

from kspec.cli.common import nodes_option, paths_argument, verb
from kspec.cli.exits import ExitCode
from kspec.cli.output import terminal_width
from kspec.loading.manifests import load_objects
from kspec.loading.summary import inspect
from kspec.util.escape import one_line
from kspec.util.textfmt import resources, table


def render_text(doc: dict, width: int | None = None) -> str:
    out = []
    summary = ", ".join(f"{count} {kind}" for kind, count in doc["summary"].items()) or "nothing"
    files = len(doc["files"])
    out.append(f"Loaded {len(doc['objects'])} objects from {files} file{'' if files == 1 else 's'}: {summary}")
    if doc["workloads"]:
        out += ["", "Workloads"]
        rows = [
            (w["ref"], w["namespace"], "-" if w["replicas"] is None else w["replicas"],
             ",".join(f"{k}={v}" for k, v in w["pod_labels"].items()) or "-",
             resources(w["requests_per_pod"]), resources(w["requests_total"]) if w["requests_total"] is not None else "per node")
            for w in doc["workloads"]
        ]
        out.append(table(("WORKLOAD", "NAMESPACE", "REPLICAS", "POD LABELS", "REQUESTS/POD", "REQUESTS TOTAL"), rows, "  ", width))
    if doc["services"]:
        out += ["", "Services"]
        rows = [
            (s["ref"], s["namespace"], s["type"],
             ",".join(f"{k}={v}" for k, v in (s["selector"] or {}).items()) or "-",
             ", ".join(s["selects"]) or ("SELECTS NOTHING" if s["selects_nothing"] else "-"))
            for s in doc["services"]
        ]
        out.append(table(("SERVICE", "NAMESPACE", "TYPE", "SELECTOR", "SELECTS"), rows, "  ", width))
    if doc["nodes"]:
        out += ["", "Nodes"]
        rows = [(n["name"], resources(n["allocatable"]), ", ".join(n["taints"]) or "-",
                 "Ready" if n["ready"] else "NotReady") for n in doc["nodes"]]
        out.append(table(("NODE", "ALLOCATABLE", "TAINTS", "STATUS"), rows, "  ", width))
    if doc["not_modelled"]:
        out += ["", "Not modelled (kept, not checked)"]
        out += [f"  {o['kind']}/{o['name']} ({o['api_version']})  {o['file']}:{o['line']}" for o in doc["not_modelled"]]
    if doc["duplicates"]:
        out += ["", "Duplicate identities"]
        out += [f"  {d['kind']} {d['namespace'] + '/' if d['namespace'] else ''}{d['name']}: "
                f"{d['first']['file']}:{d['first']['line']} and {d['second']['file']}:{d['second']['line']}"
                for d in doc["duplicates"]]
    return "\n".join(out)


@verb("inspect")
@paths_argument
@nodes_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", help="Output format.")
def command(paths, nodes, output):
    """Show what was loaded from PATHS (files, folders, - for stdin).

    Objects by kind; each workload's replicas, pod labels and requests; the
    workloads each Service selects (flagging Services that select nothing);
    duplicate identities and kinds that are not modelled. Exit 0 when loaded
    cleanly, 2 on any error (each printed as file:line: error: field: message).
    """
    result = load_objects(list(paths), nodes=nodes)
    doc = inspect(result)
    if output == "json":
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(render_text(doc, terminal_width()))
    for diagnostic in result.diagnostics:
        click.echo(one_line(diagnostic), err=True)
    return ExitCode.OK if result.ok else ExitCode.BAD_INPUT
