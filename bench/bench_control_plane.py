"""Benchmark: what informer caches, expectations and etcd cost in states and time.

Each run is ``kspec explore -o json`` in its own process (so its peak memory
is its own). Usage::

    python3 bench/bench_control_plane.py                    # the figures for docs/controllers.md
    python3 bench/bench_control_plane.py --time-limit 600   # let the large variants finish

Rows:

- ``rc-stale-cache-surplus`` with every library check that applies to an RC
  scenario (the target: exhausted in under 60 s);
- ``myapp-two-faults`` with ``consistency: fresh`` (its pinned count: the new
  machinery must cost nothing when off), then with ``staleness: 0`` (caches up
  to date, syncs in slow-start batches) and ``staleness: 1``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
ALL_RC_CHECKS = ["rc-replicas-converge", "rc-never-exceeds-replicas", "at-most-replicas-running",
                 "replacement-created", "fault-then-converged", "no-overcommit", "scheduler-binds-only-feasible",
                 "service-always-has-endpoint", "endpoints-only-ready-pods", "service-reachable", "endpoint-lost"]


def variant(source: pathlib.Path, folder: pathlib.Path, name: str, extra: dict,
            checks: list[str] | None = None) -> pathlib.Path:
    """``source`` with the keys of ``extra`` set (and its checks replaced),
    its manifests made absolute, its ``expect:`` dropped."""
    data = yaml.safe_load(source.read_text())
    data.pop("expect", None)
    data["manifests"] = [str(source.parent / m) for m in data["manifests"]]
    data.update(extra)
    if checks is not None:
        data["checks"] = checks
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def explore(path: pathlib.Path, limit: float) -> dict:
    run = subprocess.run([sys.executable, "-c", "from kspec.cli import main; main()", "explore", str(path), "-o", "json",
                          "--exhaustive", "--time-limit", str(limit), "--allow-paths-outside", "--no-progress"],
                         capture_output=True, text=True, cwd=ROOT)
    if run.returncode not in (0, 1, 3):
        raise SystemExit(f"{path.name}: exit {run.returncode}: {run.stderr.strip()}")
    data = json.loads(run.stdout)
    stats = data["stats"]
    return {"states": stats["distinct_states"], "seconds": stats.get("seconds"), "complete": data["complete"],
            "memory": (stats.get("peak_memory_bytes") or 0) // 2**20, "verdict": data["verdict"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        rows = [("rc-stale-cache-surplus, every RC check",
                 variant(MODELS / "rc-stale-cache-surplus.yaml", folder, "surplus", {}, ALL_RC_CHECKS))]
        two = MODELS / "myapp-two-faults.yaml"
        rows.append(("myapp-two-faults, consistency: fresh", two))
        rows.append(("myapp-two-faults, staleness 0", variant(two, folder, "s0", {"consistency": {"staleness": 0}})))
        rows.append(("myapp-two-faults, staleness 1", variant(two, folder, "s1", {"consistency": {"staleness": 1}})))
        print(f"{'scenario':45} {'states':>10} {'time':>9} {'memory':>8}  complete  verdict")
        for label, path in rows:
            got = explore(path, args.time_limit)
            print(f"{label:45} {got['states']:>10,} {got['seconds'] or 0:>8.1f}s {got['memory'] or 0:>6} MiB  "
                  f"{str(got['complete']):8}  {got['verdict']}", flush=True)


if __name__ == "__main__":
    main()
