"""Benchmark: ``start: settled`` with and without partial-order reduction.

Settling explores every order of the initial rollout (up to symmetry) for the
states where no controller acts; stubborn sets keep all of those and skip
orders of independent work. Each run in its own process; CPU seconds.

    python3 bench/bench_settle.py                          # the bench scenarios below
    python3 bench/bench_settle.py models/rolling-update.yaml
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "bench" / "scenarios" / "voting-app-settled.yaml", ROOT / "bench" / "scenarios" / "bookinfo-settled.yaml"]

CHILD = r"""
import json, sys, time
from kspec.simulation.scenario import load_scenario
model = load_scenario(sys.argv[1], allow_outside=True)
model.reduce_settling = sys.argv[2] == "1"
start = time.process_time()
states = model.init_states()
print(json.dumps({"settled": len(states), "cpu_seconds": round(time.process_time() - start, 2),
                  "initial": sorted(repr(s) for s in states)}))
"""


def run(path: pathlib.Path, reduce: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if reduce else "0"], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(paths: list[str]) -> None:
    print("| scenario | settled states | CPU s, reduced | CPU s, full | same settled states |")
    print("|---|---|---|---|---|")
    for path in [pathlib.Path(p) for p in paths] or DEFAULT:
        reduced, full = run(path, True), run(path, False)
        print(f"| {path.stem} | {reduced['settled']} | {reduced['cpu_seconds']} | {full['cpu_seconds']} | "
              f"{reduced['initial'] == full['initial']} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
