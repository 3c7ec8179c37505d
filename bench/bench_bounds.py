"""Benchmark: do the run bounds hold? Each case runs in its own process.

    python3 bench/bench_bounds.py            # every case (about 1.5 minutes)
    python3 bench/bench_bounds.py --only time-limit memory

Cases (each prints what it measured next to the bound it was given):

- ``time-limit``: ``kspec explore models/myapp-two-faults.yaml --time-limit 5``;
  the search's own seconds and the process's wall time.
- ``memory``: the same scenario with ``-p scheduler=all --max-memory 300M``
  (a space too big to finish); the peak resident memory it reports.
- ``settle``: eight Deployments under ``start: settled`` with ``--time-limit 1``
  (the settle alone ran 45 s before it had a bound).
- ``greedy``: ``kspec schedule`` of 20,000 replicas on 200 nodes with
  ``--timeout 5`` (the greedy baseline ignored it: 78 s).
- ``cel``: a CEL expression that multiplies a 32-byte string by 8 nine times
  (4 GiB unbounded); the seconds and peak memory until the cost budget
  stops it.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIO = "models/myapp-two-faults.yaml"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}]
"""

def doubling(levels: int) -> str:
    """A 32-byte string multiplied by 8 ``levels`` times (32 * 8**levels bytes)."""
    names = [chr(ord("a") + i) for i in range(levels + 1)]
    expr = "+".join([names[-1]] * 8)
    for inner, outer in zip(reversed(names[1:]), reversed(names[:-1])):
        expr = f"cel.bind({inner}, {'+'.join([outer] * 8)}, {expr})"
    return f"cel.bind(a, '{'x' * 32}', {expr}).size() > 0"


DOUBLING = doubling(9)  # 4 GiB unbounded


CEL_CHILD = """
import resource, sys, time
from kspec.rules.cel import CelEvaluationError, compile_expression
start = time.monotonic()
try:
    compile_expression(sys.argv[1]).evaluate({"object": {}})
    outcome = "evaluated"
except CelEvaluationError as err:
    outcome = str(err)
print(f"{time.monotonic() - start:.2f}s, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10} MiB: {outcome}")
"""


def kspec(*args: str, cwd: pathlib.Path = ROOT) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "kspec", *args], cwd=cwd, capture_output=True, text=True)
    return time.monotonic() - start, run


def explore_json(*args: str) -> tuple[float, dict]:
    wall, run = kspec("explore", *args, "-o", "json", "--no-progress", "--exhaustive")
    return wall, json.loads(run.stdout)


def time_limit() -> str:
    wall, out = explore_json(SCENARIO, "--time-limit", "5")
    return f"bound 5 s: search {out['stats']['seconds']:.2f} s, process {wall:.2f} s, bound hit: {out['bound']}"


def memory() -> str:
    _, out = explore_json(SCENARIO, "-p", "scheduler=all", "--max-memory", "300M")
    peak = out["stats"]["peak_memory_bytes"] >> 20
    return f"bound 300 MiB: peak {peak} MiB after {out['stats']['distinct_states']:,} states, bound hit: {out['bound']}"


def settle(folder: pathlib.Path) -> str:
    (folder / "apps.yaml").write_text("---\n".join(DEPLOYMENT.format(name=f"app{i}", replicas=2) for i in range(8)))
    (folder / "s.yaml").write_text(textwrap.dedent("""\
        name: settle-bound
        manifests: [apps.yaml]
        nodes: ["3:cpu=8,memory=16Gi"]
        start: settled
        checks:
          - expression: {name: any-pod, kind: sometimes, cel: "size(pods) > 0"}
        """))
    wall, run = kspec("explore", str(folder / "s.yaml"), "--time-limit", "1", "--no-progress")
    return f"bound 1 s: process {wall:.2f} s, exit {run.returncode}: {run.stdout.strip().splitlines()[-1]}"


def greedy(folder: pathlib.Path) -> str:
    (folder / "d.yaml").write_text(DEPLOYMENT.format(name="web", replicas=20_000))
    wall, run = kspec("schedule", str(folder / "d.yaml"), "--nodes", "200:cpu=16,memory=64Gi", "--timeout", "5",
                      "-o", "json")
    baseline = json.loads(run.stdout)["greedy"]
    return f"timeout 5 s: process {wall:.2f} s, exit {run.returncode}, greedy: {baseline['result']}"


def cel() -> str:
    run = subprocess.run([sys.executable, "-c", CEL_CHILD, DOUBLING], cwd=ROOT, capture_output=True, text=True)
    return "budget 1 GiB: " + (run.stdout.strip() or run.stderr.strip().splitlines()[-1])


CASES = {"time-limit": time_limit, "memory": memory, "settle": settle, "greedy": greedy, "cel": cel}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="run only these cases")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in opts.only or CASES:
            case = CASES[name]
            args = (pathlib.Path(tmp),) if name in ("settle", "greedy") else ()
            print(f"{name:11} {case(*args)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
