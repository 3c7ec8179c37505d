"""Benchmark: the scenario engine itself, one model, every state, side by side.

Explores a scenario in one model (no split by Service, no stopping once
decided) with symmetry reduction, in a fresh process per run, and prints CPU
seconds, states per second, the peak resident size after the search and the bytes of the
stored states' own objects (each distinct object counted once, as the
explorer keeps them). ``--against DIR`` runs the same in another checkout
(a ``git worktree add`` of an older commit), alternating runs, so the two
share the machine's load, and prints each pair's ratio of states per second
and their median; with ``--together`` each pair runs at once, each process
pinned to its own CPU (swapped every pair), so both meet the machine's other
load at the same moments (on a shared machine a run's seconds move by a fifth
from one minute to the next). Usage::

    python3 bench/bench_engine.py                                   # myapp-two-faults, this checkout
    git worktree add /tmp/before <commit> && python3 bench/bench_engine.py --against /tmp/before --runs 2
    python3 bench/bench_engine.py --against /tmp/before --runs 6 --together   # each pair at once, one CPU each
    python3 bench/bench_engine.py --where                           # where the time and the states go
    python3 bench/bench_engine.py --where -p scheduler=all --max-states 400000

``--where`` runs this checkout once, instrumented (its seconds are not the
engine's): the distinct non-Endpoints parts of the stored states, the
transition cache's hits and misses, the canonicaliser's calls, distinct
inputs, inputs returned unchanged and how many were served by a memoised
layout, and cProfile's share of the run per part of the engine.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Shared by both child scripts (an older checkout runs it too): the model,
# and a hook that keeps the explorer's run for what it stored.
PRELUDE = r"""
import json, sys
import kspec.checker.explore as explore
from kspec.simulation.scenario import load_scenario

params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
max_states = int(sys.argv[3]) if len(sys.argv) > 3 else None
model = load_scenario(sys.argv[1], params, allow_outside=True)
model.init_states()
kept = {}
search = explore._Run._search

def keep(run, *args):
    try:
        return search(run, *args)
    finally:
        kept["run"] = run

explore._Run._search = keep
"""

CHILD = PRELUDE + r"""
import resource, time
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


WHERE = PRELUDE + r"""
import collections, cProfile, pstats
import kspec.simulation.symmetry as symmetry
canon = model._canon
representative, compute = canon.representative, canon._compute
calls, inputs, unchanged, full, applied = [0], set(), [0], [0], [0]

def counted(state):
    calls[0] += 1
    inputs.add(state)
    out = representative(state)
    unchanged[0] += out == state
    return out

def computed(state):
    full[0] += 1
    return compute(state)

apply_to = getattr(symmetry._Layout, "apply_to", None)  # an older checkout has none

def applying(*args):
    applied[0] += 1
    return apply_to(*args)

canon.representative, canon._compute = counted, computed
if apply_to is not None:
    symmetry._Layout.apply_to = applying
profile = cProfile.Profile()
profile.enable()
explore.Explorer(model, symmetry=True, progress=False, max_states=max_states).run()
profile.disable()
run = kept["run"]
states = run.keys if run.graph else list(run.store.parent)
parts = {(s.pods, s.nodes, s.replicas, s.memory, s.faults, s.ops, s.status) for s in states}
print(f"stored states {len(states):,}; distinct non-Endpoints parts {len(parts):,}")
cache = model.step_cache
if cache is not None:
    print(f"transition cache: {cache.hits:,} expansions replayed, {cache.misses:,} computed")
kept_layouts = applied[0] - (calls[0] - full[0])  # applied without a call of representative
print(f"canonicaliser: {calls[0]:,} calls, {len(inputs):,} distinct inputs, {unchanged[0]:,} returned unchanged; "
      f"{calls[0] - full[0]:,} from a memoised layout, {full[0]:,} computed in full"
      + (f"; {kept_layouts:,} cached steps' successors through the layout kept with the step" if apply_to else ""))
if canon.built:
    print(f"layouts: {canon.built:,} built, served {canon.served:,} times from the memo"
          + ("; memoising stopped (not served often enough)" if canon.layouts is None else ""))
stats = pstats.Stats(profile).stats
total = sum(tt for _, _, tt, _, _ in stats.values())

def seconds(path, name, caller=None):
    # cumulative seconds of a function; with caller (path, name): only in calls from that one
    for (where, _, called), (_, _, _, cumulative, callers) in stats.items():
        if where.endswith(path) and called == name:
            if caller is None:
                return cumulative
            return sum(c[3] for (cp, _, cn), c in callers.items() if cp.endswith(caller[0]) and cn == caller[1])
    return 0.0

fused = ("stepcache.py", "symmetric_steps")
in_fused = seconds("<string>", "counted", fused) + seconds("<string>", "applying", fused)
share = {
    "canonicalisation": seconds("<string>", "counted") + seconds("<string>", "applying", fused),
    "successors": seconds("scenario.py", "step_list") + seconds(*fused) - in_fused,
    "search loop, graph and checks": seconds("explore.py", "_expand_graph"),
}
for label, spent in share.items():
    print(f"{label}: {100 * spent / total:.0f}% of the profiled run")
"""


def start(checkout: pathlib.Path, scenario: str, cpu: int | None = None) -> subprocess.Popen:
    """The child in ``checkout``, pinned to ``cpu`` when one is given."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    return subprocess.Popen([sys.executable, "-c", CHILD, scenario], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=checkout, preexec_fn=pin)


def result(checkout: pathlib.Path, child: subprocess.Popen) -> dict:
    out, err = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"{checkout}: {err.strip().splitlines()[-1]}")
    return json.loads(out)


def pair(checkouts: list, scenario: str, together: bool, turn: int) -> list[dict]:
    """One run per checkout: one after the other, or ``together``, each
    pinned to its own CPU (swapped every turn), so both meet the machine's
    other load at the same moments."""
    if not together:
        return [result(c, start(c, scenario)) for c in checkouts]
    cpus = sorted(os.sched_getaffinity(0))[:2]
    if turn % 2:
        cpus.reverse()
    children = [start(c, scenario, cpu) for c, cpu in zip(checkouts, cpus)]
    try:
        return [result(c, child) for c, child in zip(checkouts, children)]
    finally:  # one failed: the other is not left running
        for child in children:
            if child.poll() is None:
                child.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="models/myapp-two-faults.yaml",
                        help="relative to each checkout")
    parser.add_argument("--against", type=pathlib.Path, help="another checkout to run side by side")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--together", action="store_true",
                        help="with --against: run each pair at once, each pinned to its own CPU")
    parser.add_argument("--where", action="store_true", help="counts and profile shares (this checkout, once)")
    parser.add_argument("-p", dest="params", action="append", default=[], metavar="NAME=VALUE",
                        help="scenario parameter, with --where (e.g. -p scheduler=all)")
    parser.add_argument("--max-states", type=int, help="with --where: stop after this many states")
    args = parser.parse_args()
    if args.where:
        params = dict(p.split("=", 1) for p in args.params)
        extra = [json.dumps(params)] + ([str(args.max_states)] if args.max_states else [])
        subprocess.run([sys.executable, "-c", WHERE, args.scenario, *extra], cwd=ROOT, check=True)
        return
    if args.against is not None and not (args.against / "kspec").is_dir():
        parser.error(f"--against {args.against}: not a kspec checkout")
    if args.together and (args.against is None or len(os.sched_getaffinity(0)) < 2):
        parser.error("--together needs --against and two CPUs")
    checkouts = [ROOT] + ([args.against.resolve()] if args.against else [])
    print(f"{'checkout':40} {'states':>9} {'CPU s':>7} {'states/s':>9} {'peak MiB':>9} {'bytes/state':>12}")
    ratios = []
    for turn in range(args.runs):
        results = pair(checkouts, args.scenario, args.together, turn)
        for checkout, r in zip(checkouts, results):
            print(f"{str(checkout):40} {r['states']:>9,} {r['cpu']:>7.2f} {r['per_second']:>9,} {r['peak_mib']:>9} "
                  f"{r['bytes_per_state']:>12,}", flush=True)
        if len(results) == 2:
            ours, theirs = results
            ratios.append((ours["states"] / ours["cpu"]) / (theirs["states"] / theirs["cpu"]))
    if ratios:
        listed = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"states per second, this checkout over the other: {listed}; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
