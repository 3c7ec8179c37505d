"""Benchmark: the cost of CEL checks in scenarios (kspec.simulation.scenario_cel).

Collects the states of a scenario by breadth-first search (no symmetry) and
times, per state: building the CEL view, and evaluating each expression on
it. Usage::

    python3 bench/bench_scenario_cel.py                    # models/myapp-node-crash.yaml, 20,000 states
    python3 bench/bench_scenario_cel.py --states 5000 models/rolling-update.yaml
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import time

from kspec.simulation.scenario import load_scenario
from kspec.simulation.scenario_cel import compile_check, state_view, views_for

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPRESSIONS = (
    'services.all(s, services[s].endpoints.size() > 0)',
    'pods.filter(p, p.running).size() <= 6',
    'nodes.exists(n, !n.up) || pods.all(p, p.ready || p.terminating || p.phase == "Pending")',
)


def states_of(path: pathlib.Path, limit: int) -> list:
    model = load_scenario(path)
    seen, queue = set(), collections.deque(model.init_states())
    while queue and len(seen) < limit:
        state = queue.popleft()
        for nxt in model._step_map(state).values():
            if nxt not in seen and len(seen) < limit:
                seen.add(nxt)
                queue.append(nxt)
    return model, list(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=pathlib.Path, default=ROOT / "models" / "myapp-node-crash.yaml")
    parser.add_argument("--states", type=int, default=20_000)
    args = parser.parse_args()
    model, states = states_of(args.scenario, args.states)
    world = model.world
    cache = views_for(world)
    start = time.perf_counter()
    views = [state_view(world, s, cache) for s in states]
    view_us = (time.perf_counter() - start) / len(states) * 1e6
    print(f"{args.scenario.name}: {len(states):,} states; view {view_us:.1f} us per state")
    for source in EXPRESSIONS:
        program = compile_check(source)
        start = time.perf_counter()
        for view in views:
            program.evaluate(view)
        print(f"  {(time.perf_counter() - start) / len(views) * 1e6:6.1f} us per state  {source}")


if __name__ == "__main__":
    main()
