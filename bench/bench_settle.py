"""Benchmark: ``start: settled`` with and without partial-order reduction.

Settling explores every order of the initial rollout (up to symmetry) for the
states where no controller acts; stubborn sets keep all of those and skip
orders of independent work. Each run in its own process; CPU seconds.

    python3 bench/bench_settle.py                          # the bench scenarios below
    python3 bench/bench_settle.py models/rolling-update.yaml
    python3 bench/bench_settle.py --placements bench/scenarios/online-boutique-settled.yaml

``--placements`` measures what any settling must reach, whatever its
reduction: from the state one order settles in (``start: one``), every pod
the scheduler placed is made pending again and the scheduler alone binds
them, in every order and to every node its mode allows (each tie of
``least-allocated``), up to symmetry. It prints the partial placements met
(a lower bound on the states a settle stores) and the complete ones (each a
different settled state): the binds depend on one another through the
capacity they score, so no partial-order reduction may merge two of them.
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

PLACEMENTS = r"""
import collections, json, sys, time
from kspec.simulation.controllers.scheduler import Scheduler
from kspec.simulation.state import NOT_RUNNING, PENDING, State
from kspec.simulation.scenario import load_scenario
model = load_scenario(sys.argv[1], {"start": "one"}, allow_outside=True)
limit = int(sys.argv[2])
world = model.world
scheduler = next(c for c in model.controllers if isinstance(c, Scheduler))
start = time.process_time()
settled = model.init_states()[0]
pods = tuple(p._replace(node=-1, phase=PENDING, ready=False, run=NOT_RUNNING)
             if world.groups[p.group].pinned_node == -1 else p for p in settled.pods)
first = model.representative(State(pods, settled.nodes, tuple(() for _ in settled.endpoints), settled.replicas,
                                   settled.memory, settled.faults, settled.ops))
seen, queue, complete = {first}, collections.deque([first]), 0
while queue and len(seen) < limit:
    state = queue.popleft()
    steps = list(scheduler.steps(world, state))
    complete += not steps
    for _, nxt in steps:
        rep = model.representative(nxt)
        if rep not in seen:
            seen.add(rep)
            queue.append(rep)
print(json.dumps({"placements": len(seen), "complete": complete, "exhausted": not queue,
                  "cpu_seconds": round(time.process_time() - start, 1)}))
"""


def placements(path: pathlib.Path, limit: int) -> None:
    out = subprocess.run([sys.executable, "-c", PLACEMENTS, str(path), str(limit)], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(f"{path.stem}: {r['placements']:,} placements, {r['complete']:,} of them complete"
          f"{'' if r['exhausted'] else f' (stopped at {limit:,})'}, {r['cpu_seconds']} s of CPU")


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
    if sys.argv[1:2] == ["--placements"]:
        for arg in sys.argv[2:] or [str(ROOT / "bench" / "scenarios" / "online-boutique-settled.yaml")]:
            placements(pathlib.Path(arg), 5_000_000)
    else:
        main(sys.argv[1:])
