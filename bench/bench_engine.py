"""Benchmark: the scenario engine itself, one model, every state, side by side.

Explores a scenario in one model (no split by Service, no stopping once
decided) with symmetry reduction, in a fresh process per run, and prints CPU
seconds, states per second, the peak resident size after the search and the bytes of the
stored states' own objects (each distinct object counted once, as the
explorer keeps them). ``--against DIR`` runs the same in another checkout
(a ``git worktree add`` of an older commit), alternating runs, so the two
share the machine's load. Usage::

    python3 bench/bench_engine.py                                   # myapp-two-faults, this checkout
    git worktree add /tmp/before <commit> && python3 bench/bench_engine.py --against /tmp/before --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
import kspec.checker.explore as explore
from kspec.simulation.scenario import load_scenario

model = load_scenario(sys.argv[1], {}, allow_outside=True)
model.init_states()
kept = {}
search = explore._Run._search

def keep(run, *args):
    try:
        return search(run, *args)
    finally:
        kept["run"] = run

explore._Run._search = keep
start = time.process_time()
result = explore.Explorer(model, symmetry=True, progress=False).run()
cpu = time.process_time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # before the walk below adds its own
run = kept["run"]
states = run.keys if run.graph else list(run.store.parent)
seen, size = set(), 0

def walk(value):
    global size
    if id(value) in seen:
        return
    seen.add(id(value))
    size += sys.getsizeof(value)
    if isinstance(value, tuple):
        for item in value:
            if isinstance(item, (tuple, str)):
                walk(item)

for state in states:
    walk(state)
    for field in ("pods", "nodes", "endpoints", "replicas", "memory", "faults", "log", "informers", "status"):
        walk(getattr(state, field, ()))  # an older checkout's State may lack a field
print(json.dumps({"states": result.stats.distinct_states, "cpu": round(cpu, 2),
                  "per_second": round(result.stats.distinct_states / cpu),
                  "peak_mib": peak,
                  "bytes_per_state": round(size / len(states))}))
"""


def run(checkout: pathlib.Path, scenario: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", CHILD, scenario], capture_output=True, text=True, env=env,
                         cwd=checkout)
    if out.returncode != 0:
        raise SystemExit(f"{checkout}: {out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="models/myapp-two-faults.yaml",
                        help="relative to each checkout")
    parser.add_argument("--against", type=pathlib.Path, help="another checkout to run side by side")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    checkouts = [ROOT] + ([args.against.resolve()] if args.against else [])
    print(f"{'checkout':40} {'states':>9} {'CPU s':>7} {'states/s':>9} {'peak MiB':>9} {'bytes/state':>12}")
    for _ in range(args.runs):
        for checkout in checkouts:
            r = run(checkout, args.scenario)
            print(f"{str(checkout):40} {r['states']:>9,} {r['cpu']:>7.2f} {r['per_second']:>9,} {r['peak_mib']:>9} "
                  f"{r['bytes_per_state']:>12,}", flush=True)


if __name__ == "__main__":
    main()
