"""Benchmark: symmetry reduction with informer caches, against no symmetry.

With ``consistency: {staleness: N}`` the state carries the watch stream's past
pod records; symmetry renames them with the pods. This explores the frontend
RC on three nodes under twelve fault mixes (staleness 1 and 2), with and
without symmetry, and prints the state counts, the times and whether the
verdicts agree. Usage::

    python3 bench/bench_symmetry_caches.py                  # every mix, 240 s per run at most
    python3 bench/bench_symmetry_caches.py --time-limit 60
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import tempfile
import time

from kspec.checker.explore import Explorer
from kspec.simulation.scenario import load_scenario

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
MIXES = ("{pod-delete: 1, watch-drop: 1, relist: 1}", "{pod-delete: 1, controller-restart: 1}",
         "{node-crash: 1, watch-drop: 1}", "{node-partition: 1, node-heal: 1, expectations-expire: 1}",
         "{pod-delete: 2, expectations-expire: 1}", "{container-crash: 1, controller-restart: 1, watch-drop: 1}")
CHECKS = "[rc-replicas-converge, rc-never-exceeds-replicas, at-most-replicas-running, replacement-created, " \
         "fault-then-converged]"


def scenario(folder: pathlib.Path, staleness: int, kinds: str) -> pathlib.Path:
    path = folder / "s.yaml"
    path.write_text(f"name: s\nmanifests: [{MODELS / 'myapp' / 'frontend-rc.yaml'}, {MODELS / 'myapp' / 'nodes.yaml'}]\n"
                    f"scheduler: least-allocated\nconsistency: {{staleness: {staleness}}}\n"
                    f"faults: {{kinds: {kinds}, budget: 3}}\nchecks: {CHECKS}\n")
    return path


def run(path: pathlib.Path, symmetry: bool, limit: float):
    start = time.monotonic()
    result = Explorer(load_scenario(path, allow_outside=True), symmetry=symmetry, progress=False,
                      time_limit=limit).run()
    verdicts = {p.name: str(p.verdict) for p in result.properties}
    return verdicts, result.stats.distinct_states, result.complete, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=240)
    args = parser.parse_args()
    print(f"{'staleness':>9}  {'faults':58} {'symmetry':>18} {'none':>20}  verdicts")
    with tempfile.TemporaryDirectory() as tmp:
        for staleness, kinds in itertools.product((1, 2), MIXES):
            path = scenario(pathlib.Path(tmp), staleness, kinds)
            reduced, plain = run(path, True, args.time_limit), run(path, False, args.time_limit)
            agree = "same" if reduced[0] == plain[0] else ("differ" if reduced[2] and plain[2] else "n/a (cut)")
            cells = [f"{r[1]:>9,} {r[3]:6.1f}s{'' if r[2] else '*'}" for r in (reduced, plain)]
            print(f"{staleness:>9}  {kinds:58} {cells[0]:>18} {cells[1]:>20}  {agree}", flush=True)
    print("* not complete within the time limit")


if __name__ == "__main__":
    main()
