"""Benchmark: explore scenarios with and without symmetry reduction.

Each run happens in its own process, so the peak resident memory reported is
that run's. Usage::

    python3 bench/bench_scenarios.py                       # the performance scenario
    python3 bench/bench_scenarios.py models/myapp-node-crash.yaml models/unresponsive-pod-returns.yaml
    python3 bench/bench_scenarios.py --time-limit 600 --no-symmetry-too
    python3 bench/bench_scenarios.py --max-depth 10 --no-symmetry-too  # a complete search to depth 10
    python3 bench/bench_scenarios.py --depth-profile --time-limit 300  # states per depth, per fault mix, per actor
    python3 bench/bench_scenarios.py -p scheduler=all --time-limit 600  # every feasible node, not the top scores

The performance target: ``models/myapp-two-faults.yaml`` (myapp, 3
nodes, 3 + 2 replicas, any 2 faults, every check) exhaustively in under 60 s
with symmetry reduction on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "models" / "myapp-two-faults.yaml"]

CHILD = r"""
import json, sys, time
from kspec.simulation.scenario import load_scenario
from kspec.checker.explore import Explorer
from kspec.simulation.split import explore
path, symmetry, limit = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3])
depth = None if sys.argv[4] == "-" else int(sys.argv[4])
params, split = json.loads(sys.argv[5]), sys.argv[6] == "1"
t0 = time.monotonic()
model = load_scenario(path, params, allow_outside=True)
inits = len(model.init_states())
setup = time.monotonic() - t0
explorer = Explorer(model, symmetry=symmetry and hasattr(model, "representative"), time_limit=limit,
                    max_depth=depth, progress=False)
result = explore(model, explorer, slicing=split)[0]  # split by Service as kspec explore does, unless --no-split
print(json.dumps({"init_states": inits, "setup_seconds": round(setup, 2), "bound": result.bound,
                  "stats": result.stats.to_json(),
                  "verdicts": {p.name: str(p.verdict) for p in result.properties}}))
"""


PROFILE = r"""
import collections, json, sys, time
from kspec.checker.model import actor_of
from kspec.simulation.scenario import load_scenario
path, symmetry, limit = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3])
model = load_scenario(path, json.loads(sys.argv[4]), allow_outside=True)
canon = model.representative if symmetry and hasattr(model, "representative") else (lambda s: s)
seen, queue = {}, collections.deque()
for s in model.init_states():
    c = canon(s)
    if c not in seen:
        seen[c] = 0
        queue.append(c)
depths, steps, new = collections.Counter(), collections.Counter(), collections.Counter()
start, status = time.monotonic(), "complete"
while queue:
    s = queue.popleft()
    depths[seen[s]] += 1
    for action, nxt in model._step_map(s).items():
        c = canon(nxt)
        steps[actor_of(action)] += 1
        if c not in seen:
            seen[c] = seen[s] + 1
            new[actor_of(action)] += 1
            queue.append(c)
    if time.monotonic() - start > limit:
        status = f"time limit after {limit:.0f} s (the last depth is partial)"
        break
print(f"{len(seen):,} states seen, {sum(depths.values()):,} expanded, {status}")
print("expanded per depth:", ", ".join(f"{d}: {n:,}" for d, n in sorted(depths.items())))
print("transitions per actor:", ", ".join(f"{a} {n:,}" for a, n in steps.most_common()))
print("new states first reached by:", ", ".join(f"{a} {n:,}" for a, n in new.most_common()))
mixes = collections.Counter(s.faults for s in seen)
print("states per fault counts:", ", ".join(f"{k}: {n:,}" for k, n in mixes.most_common(12)))
"""


def run(path: pathlib.Path, symmetry: bool, limit: float, depth: int | None = None, params=None,
        split: bool = True) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if symmetry else "0", str(limit),
                          "-" if depth is None else str(depth), json.dumps(params or {}), "1" if split else "0"],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=pathlib.Path, default=DEFAULT)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per run (then inconclusive)")
    parser.add_argument("--no-symmetry-too", action="store_true", help="also run without symmetry reduction")
    parser.add_argument("--max-depth", type=int, default=None, help="explore completely up to this depth only")
    parser.add_argument("--depth-profile", action="store_true",
                        help="plain BFS over representatives: states per depth, per fault counts, per actor")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.add_argument("--no-split", action="store_true",
                        help="explore a check over every Service in one model (no split by Service; "
                             "what runs before it did, for engine comparisons)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="scenario parameter, as kspec explore -p (budget, scheduler, start, max_pods)")
    args = parser.parse_args()
    params = {}
    for item in args.param:
        name, _, value = item.partition("=")
        params[name] = int(value) if value.isdigit() else value
    if args.depth_profile:
        for path in args.scenarios:
            print(f"{path.stem}:", flush=True)
            subprocess.run([sys.executable, "-c", PROFILE, str(path), "1", str(args.time_limit), json.dumps(params)],
                           cwd=ROOT)
        return
    modes = [True, False] if args.no_symmetry_too else [True]
    print(f"{'scenario':36} {'symmetry':8} {'init':>5} {'states':>10} {'transitions':>12} {'depth':>5} "
          f"{'seconds':>8} {'states/s':>9} {'peak MiB':>9}  bound")
    for path in args.scenarios:
        for symmetry in modes:
            res = run(path, symmetry, args.time_limit, args.max_depth, params, not args.no_split)
            if args.json:
                print(json.dumps({"scenario": str(path), "symmetry": symmetry, **res}))
                continue
            if "error" in res:
                print(f"{path.stem:36} {'on' if symmetry else 'off':8} error: {res['error']}")
                continue
            s = res["stats"]
            print(f"{path.stem:36} {'on' if s['symmetry'] else 'off':8} {res['init_states']:>5} "
                  f"{s['distinct_states']:>10,} {s['transitions']:>12,} {s['max_depth']:>5} {s['seconds']:>8.1f} "
                  f"{s['states_per_second']:>9,.0f} {s['peak_memory_bytes'] / 2**20:>9,.0f}  {res['bound'] or '-'}")
            for name, verdict in res["verdicts"].items():
                print(f"    {name}: {verdict}")


if __name__ == "__main__":
    main()
