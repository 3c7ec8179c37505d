"""Benchmark: the Job and CronJob scenarios, exhaustively, every check.

The performance target: ``models/job-indexed-node-crash.yaml`` (an Indexed
Job of 5 completions, parallelism 2, on two nodes, one node crash) exhausted
in under 60 s with symmetry reduction on a 2-core machine. Each run happens in
its own process (its peak memory is its own); the figures are the medians of
``--repeat`` runs' CPU and wall times (on a shared machine the wall time is
the larger), and the target holds when both are under 60 s. Usage::

    python3 bench/bench_jobs.py                    # the target, three runs
    python3 bench/bench_jobs.py --all --repeat 1   # every bundled Job and CronJob scenario once
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = ROOT / "models" / "job-indexed-node-crash.yaml"
TARGET_SECONDS = 60

CHILD = r"""
import json, resource, sys, time
from kspec.simulation.scenario import load_scenario
from kspec.checker.explore import Explorer
wall, cpu = time.monotonic(), time.process_time()
model = load_scenario(sys.argv[1])
result = Explorer(model, symmetry=True, progress=False).run()
print(json.dumps({"wall": time.monotonic() - wall, "cpu": time.process_time() - cpu, "complete": result.complete,
                  "states": result.stats.distinct_states,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "verdicts": {p.name: str(p.verdict) for p in result.properties}}))
"""


def run_once(path: pathlib.Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every models/job-*.yaml and models/cronjob-*.yaml")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (the median is reported)")
    args = parser.parse_args()
    paths = sorted((ROOT / "models").glob("job-*.yaml")) + sorted((ROOT / "models").glob("cronjob-*.yaml")) \
        if args.all else [TARGET]
    slow = False
    for path in paths:
        runs = [run_once(path) for _ in range(args.repeat)]
        cpu = statistics.median(r["cpu"] for r in runs)
        wall = statistics.median(r["wall"] for r in runs)
        last = runs[-1]
        verdicts = ", ".join(f"{name} {verdict}" for name, verdict in last["verdicts"].items())
        print(f"{path.name}: {last['states']:,} states, complete={last['complete']}, "
              f"CPU {cpu:.1f} s (median of {len(runs)}), wall {wall:.1f} s, peak {last['peak_mib']} MiB; {verdicts}")
        if path == TARGET and (not last["complete"] or max(cpu, wall) >= TARGET_SECONDS):
            slow = True
    if TARGET in paths:
        print(f"target: {TARGET.name} exhausted in under {TARGET_SECONDS} s: {'no' if slow else 'yes'}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
