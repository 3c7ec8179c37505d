"""Benchmark: states and time with and without the reductions.

For every bundled scenario (``models/*.yaml``) and the bench scenarios on the
corpus applications (``bench/scenarios/*.yaml``), explore twice with symmetry
reduction on: with no other reduction (``--no-por --no-slice``) and with the
default ones (partial-order reduction where it applies, slicing where no
check reads what it leaves out), each run in its own process (so the peak resident
memory is that run's) under a time limit: with every check ("all"), with the
safety checks only ("safety": ``always`` and ``sometimes``), and with the
checks, liveness ones included, that name a workload or a Service ("named": a
check about everything makes every step visible). Prints a Markdown table, the one
in docs/controllers.md. Usage::

    python3 bench/bench_por.py                          # everything, 120 s per run
    python3 bench/bench_por.py --time-limit 60 models/myapp-node-crash.yaml
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys
from kspec.simulation.scenario import load_scenario
from kspec.checker.explore import Explorer
path, por, limit, which = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3]), sys.argv[4]
model = load_scenario(path, allow_outside=True, slicing=por)
checks = dict(zip((p.name for p in model.properties()), model.scenario.checks))
names = [p.name for p in model.properties()
         if which == "all" or (which == "safety" and not p.kind.is_liveness)
         or (which == "named" and checks[p.name][1])]
if not names:
    print(json.dumps(None))
    sys.exit(0)
result = Explorer(model, properties=names, symmetry=hasattr(model, "representative"), por=por,
                  time_limit=limit, progress=False).run()
print(json.dumps({"complete": result.complete, "bound": result.bound, "stats": result.stats.to_json(),
                  "verdicts": {p.name: str(p.verdict) for p in result.properties}}))
"""


def run(path: pathlib.Path, por: bool, limit: float, which: str) -> dict | None:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if por else "0", str(limit), which],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:  # e.g. start: settled that does not settle without the reductions
        return {"error": out.stderr.strip().splitlines()[-1].split("error: ")[-1]}
    return json.loads(out.stdout)


def cell(doc: dict) -> str:
    if "error" in doc:
        return f"error: {doc['error']} | | "
    stats = doc["stats"]
    states = f"{stats['distinct_states']:,}" + ("" if doc["complete"] else f" ({doc['bound']})")
    return f"{states} | {stats['seconds']:.1f} | {stats['peak_memory_bytes'] / 2**20:,.0f}"


def short(note: str) -> str:
    """The reason the reduction was off, in a table cell's words."""
    for words, text in (("has a cycle", "cycle: in full"), ("every step may change", "every step visible"),
                        ("without declared footprints", "no footprints")):
        if words in note:
            return text
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=pathlib.Path)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per run (default 120)")
    args = parser.parse_args()
    paths = args.scenarios or sorted((ROOT / "models").glob("*.yaml")) + sorted((ROOT / "bench" / "scenarios").glob("*.yaml"))
    print("| scenario | checks | states, no reduction | s | MiB | states, reductions | s | MiB | ample expansions | sliced | same verdicts |")  # noqa: E501
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for path in paths:
        for which in ("all", "safety", "named"):
            off = run(path, False, args.time_limit, which)
            if off is None:
                continue
            on = run(path, True, args.time_limit, which)
            if "error" in on:
                print(f"| {path.name} | {which} | {cell(off)} | {cell(on)} | | | |", flush=True)
                continue
            reduction = on["stats"]["reduction"]
            ample = f"{reduction['reduced_expansions']:,}" if reduction["partial_order"] else f"off: {short(reduction['note'])}"
            if "error" in off:
                same = "n/a (error without)"
            else:
                same = on["verdicts"] == off["verdicts"] if on["complete"] and off["complete"] else "n/a (bound)"
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            sliced = "yes" if reduction.get("slice") else "no"
            print(f"| {name} | {which} | {cell(off)} | {cell(on)} | {ample} | {sliced} | {same} |", flush=True)


if __name__ == "__main__":
    main()
