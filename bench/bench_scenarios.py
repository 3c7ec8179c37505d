"""Benchmark: explore scenarios with and without symmetry reduction.

Each run happens in its own process, so the peak resident memory reported is
that run's. Usage::

    python3 bench/bench_scenarios.py                       # the performance scenario (issue 4)
    python3 bench/bench_scenarios.py models/myapp-node-crash.yaml models/unresponsive-pod-returns.yaml
    python3 bench/bench_scenarios.py --time-limit 600 --no-symmetry-too

The performance target of issue 4: ``models/myapp-two-faults.yaml`` (myapp, 3
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
from kspec.scenario import load_scenario
from kspec.explore import Explorer
path, symmetry, limit = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3])
t0 = time.monotonic()
model = load_scenario(path)
inits = len(model.init_states())
setup = time.monotonic() - t0
result = Explorer(model, symmetry=symmetry and hasattr(model, "representative"), time_limit=limit,
                  progress=False).run()
print(json.dumps({"init_states": inits, "setup_seconds": round(setup, 2), "bound": result.bound,
                  "stats": result.stats.to_json(),
                  "verdicts": {p.name: str(p.verdict) for p in result.properties}}))
"""


def run(path: pathlib.Path, symmetry: bool, limit: float) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if symmetry else "0", str(limit)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=pathlib.Path, default=DEFAULT)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per run (then inconclusive)")
    parser.add_argument("--no-symmetry-too", action="store_true", help="also run without symmetry reduction")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args()
    modes = [True, False] if args.no_symmetry_too else [True]
    print(f"{'scenario':36} {'symmetry':8} {'init':>5} {'states':>10} {'transitions':>12} {'depth':>5} "
          f"{'seconds':>8} {'states/s':>9} {'peak MiB':>9}  bound")
    for path in args.scenarios:
        for symmetry in modes:
            res = run(path, symmetry, args.time_limit)
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
