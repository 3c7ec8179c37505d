"""Benchmark: the HPA x rollout ratchet scenario, explored exhaustively with every check.

Usage::

    python3 bench/bench_hpa.py                  # models/hpa-rollout-ratchet.yaml, medians of 3 runs
    python3 bench/bench_hpa.py --runs 1 models/hpa-load-swings.yaml

The performance target: ``models/hpa-rollout-ratchet.yaml`` (a Deployment of
2 with a HorizontalPodAutoscaler, one rollout, constant load) exhausted in
under 30 s with every check, symmetry reduction on, on a 2-core machine.
Each run happens in its own process (its own start-up, its own caches); the
figure is the exploration's wall time, loading and settling included.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "models" / "hpa-rollout-ratchet.yaml"

CHILD = r"""
import json, sys, time
from kspec.simulation.scenario import load_scenario
from kspec.checker.explore import Explorer
t0 = time.monotonic()
cpu0 = time.process_time()
model = load_scenario(sys.argv[1])
result = Explorer(model, symmetry=hasattr(model, "representative"), time_limit=float(sys.argv[2]),
                  progress=False).run()
print(json.dumps({"seconds": round(time.monotonic() - t0, 2), "cpu": round(time.process_time() - cpu0, 2),
                  "complete": result.complete, "states": result.stats.distinct_states,
                  "verdicts": {p.name: str(p.verdict) for p in result.properties}}))
"""


def run_once(path: pathlib.Path, limit: float) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(limit)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT))
    parser.add_argument("--runs", type=int, default=3, help="runs to take the median of (default 3)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per run (default 300)")
    args = parser.parse_args()
    runs = [run_once(pathlib.Path(args.scenario), args.time_limit) for _ in range(args.runs)]
    first = runs[0]
    print(f"{pathlib.Path(args.scenario).name}: {first['states']:,} states, complete={first['complete']}")
    for name, verdict in first["verdicts"].items():
        print(f"  {name}: {verdict}")
    wall = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    print(f"median of {len(runs)}: {wall:.1f} s wall, {cpu:.1f} s CPU (target: under 30 s)")


if __name__ == "__main__":
    main()
