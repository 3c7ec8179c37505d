"""Explorer benchmarks on the reference model rc_converge.

Each measurement runs in a fresh process so that peak memory is per run.

    python3 bench/bench_explore.py throughput      # (3,4,3) no symmetry, safety properties
    python3 bench/bench_explore.py symmetric       # (3,5,3) and (5,8,5) with symmetry, all properties
    python3 bench/bench_explore.py table           # counts with/without symmetry, N in 2..3, R in 2..5, F in 1..3
    python3 bench/bench_explore.py table --max-plain 3000000   # skip the long no-symmetry runs
    python3 bench/bench_explore.py fuzz            # Hypothesis on (2,2,2), seeds 0..9: finds and shrinks the overshoot
    python3 bench/bench_explore.py fuzz 0 1 --hypothesis-shrink   # the same, Hypothesis's shrinker first
    python3 bench/bench_explore.py fuzz --no-fairness             # ablation: profiles without fair-actors-first
    python3 bench/bench_explore.py one N R F [--symmetry] [--safety] [--plain]
    python3 bench/bench_explore.py one 3 3 3 --safety --plain   # the generic path: plain attrs states, no packed encoding

Output: one JSON line per run (stats as in ``kspec explore -o json``), then a
Markdown table for ``table``.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "reference" / "rc_converge.py"
SAFETY = ["running-at-most-r-plus-1", "no-overshoot-before-two-faults", "surplus-reachable"]


def one(n: int, r: int, f: int, symmetry: bool, safety: bool, plain: bool = False) -> dict:
    """Run in this process and print one JSON line (called in a child)."""
    sys.path.insert(0, str(ROOT))
    from kspec.checker.explore import Explorer
    from kspec.simulation.modelfile import load_model

    start = time.monotonic()
    model = load_model(MODEL, {"N": n, "R": r, "F": f})
    result = Explorer(model, symmetry=symmetry, properties=SAFETY if safety else (), packed=not plain).run()
    doc = {
        "N": n, "R": r, "F": f, "symmetry": symmetry, "safety_only": safety, "packed": not plain,
        "wall_seconds_incl_startup": round(time.monotonic() - start, 3),
        "verdicts": {p.name: p.verdict.value for p in result.properties},
        **result.stats.to_json(),
    }
    print(json.dumps(doc), flush=True)
    return doc


def child(n, r, f, symmetry=False, safety=False) -> dict:
    cmd = [sys.executable, __file__, "one", str(n), str(r), str(f)]
    cmd += ["--symmetry"] if symmetry else []
    cmd += ["--safety"] if safety else []
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = out.strip().splitlines()[-1]
    print(line, flush=True)
    return json.loads(line)


def table(max_plain: int | None) -> None:
    rows = []
    known_big = {(3, 5, 2), (3, 5, 3), (3, 4, 3)}  # millions of states without symmetry: skipped under --max-plain
    for n in (2, 3):
        for r in (2, 3, 4, 5):
            for f in (1, 2, 3):
                reduced = child(n, r, f, symmetry=True, safety=True)
                plain = None
                if max_plain is None or (n, r, f) not in known_big:
                    plain = child(n, r, f, symmetry=False, safety=True)
                rows.append((n, r, f, plain, reduced))
    print("\n| N | R | F | states | orbits (symmetry) | seconds (no sym / sym) |")
    print("|---|---|---|---:|---:|---:|")
    for n, r, f, plain, reduced in rows:
        states = f"{plain['distinct_states']:,}" if plain else "(skipped)"
        secs = f"{plain['seconds']:.1f}" if plain else "-"
        print(f"| {n} | {r} | {f} | {states} | {reduced['distinct_states']:,} | {secs} / {reduced['seconds']:.2f} |")


class _NoFairness:
    """A model with every property's fairness removed: the fuzzer's profiles
    then have actor and class tiers only (an ablation)."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def properties(self):
        import attrs

        return [attrs.evolve(p, fair=frozenset()) for p in self.model.properties()]


def fuzz_bench(seeds: list[int], hypothesis_shrink: bool = False, no_fairness: bool = False) -> None:
    """The Hypothesis runner on (2,2,2), one run per seed, budget 1000
    behaviours of at most 30 steps: found or not, time to the first
    violation, total time (with shrinking), shrunk length vs breadth-first."""
    sys.path.insert(0, str(ROOT))
    from kspec.checker.explore import explore
    from kspec.checker.fuzz import fuzz
    from kspec.simulation.modelfile import load_model

    name = "running-at-most-r-plus-1"
    model = load_model(MODEL, {"N": 2, "R": 2, "F": 2})
    if no_fairness:
        model = _NoFairness(model)
    shortest = len(explore(model, properties=[name])[name].trace)
    rows = []
    for seed in seeds:
        start = time.monotonic()
        result = fuzz(model, properties=[name], seed=seed, max_examples=1000, steps=30,
                      hypothesis_shrink=hypothesis_shrink)
        res = result[name]
        row = {
            "seed": seed, "verdict": res.verdict.value, "trace_length": res.trace and len(res.trace),
            "bfs_length": shortest, "behaviours": result.examples,
            "seconds_to_violation": result.seconds_to_violation and round(result.seconds_to_violation, 2),
            "seconds": round(time.monotonic() - start, 2),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| seed | found | behaviours run | s to find | s total | shrunk length (BFS) |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        found = r["verdict"] == "violated"
        print(f"| {r['seed']} | {'yes' if found else 'no'} | {r['behaviours']} | {r['seconds_to_violation'] or '-'} "
              f"| {r['seconds']} | {r['trace_length'] or '-'} ({r['bfs_length']}) |")
    times = sorted(r["seconds_to_violation"] for r in rows if r["verdict"] == "violated")
    if times:
        print(f"\nfound {len(times)}/{len(rows)}; median seconds to find {times[len(times) // 2]}")


def main(argv: list[str]) -> None:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    what = argv[0]
    if what == "one":
        n, r, f = (int(x) for x in argv[1:4])
        one(n, r, f, "--symmetry" in argv, "--safety" in argv, "--plain" in argv)
    elif what == "throughput":
        child(3, 4, 3, symmetry=False, safety=True)
    elif what == "symmetric":
        child(3, 5, 3, symmetry=True)
        child(5, 8, 5, symmetry=True)
    elif what == "table":
        max_plain = int(argv[argv.index("--max-plain") + 1]) if "--max-plain" in argv else None
        table(max_plain)
    elif what == "fuzz":
        seeds = [int(x) for x in argv[1:] if not x.startswith("--")] or list(range(10))
        fuzz_bench(seeds, "--hypothesis-shrink" in argv, "--no-fairness" in argv)
    else:
        raise SystemExit(f"unknown benchmark {what!r}; see --help")


if __name__ == "__main__":
    main(sys.argv[1:])
