"""Snapshot `kspec explore -o json` on every bundled scenario, timing fields removed.

A redesign that must not change behaviour is checked with it: record before,
compare after; any difference in verdicts, counts or traces is printed.

    python bench/explore_json_snapshot.py record /tmp/before
    python bench/explore_json_snapshot.py compare /tmp/before     # exit 1 on a difference
    python bench/explore_json_snapshot.py record DIR --quick       # leave out the two slow scenarios
"""

from __future__ import annotations

import argparse
import difflib
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMING = {"seconds", "states_per_second", "peak_memory_bytes"}
SLOW = {"myapp-two-faults.yaml", "rolling-update-node-crash.yaml"}
EXTRA = [("reference-rc_converge", ["models/reference/rc_converge.py", "-p", "N=3", "-p", "R=4", "-p", "F=2"])]


def targets(quick: bool) -> list[tuple[str, list[str]]]:
    found = [(p.stem, [str(p.relative_to(ROOT))]) for p in sorted((ROOT / "models").glob("*.yaml"))
             if not (quick and p.name in SLOW)]
    return found + EXTRA


def strip_timing(value):
    if isinstance(value, dict):
        return {k: strip_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [strip_timing(v) for v in value]
    return value


def snapshot(args: list[str]) -> str:
    run = subprocess.run([sys.executable, "-m", "kspec", "explore", *args, "-o", "json", "--no-progress"],
                         cwd=ROOT, capture_output=True, text=True)
    body = strip_timing(json.loads(run.stdout)) if run.stdout.strip().startswith("{") else run.stdout
    return json.dumps({"exit": run.returncode, "output": body}, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["record", "compare"])
    parser.add_argument("dir", type=pathlib.Path)
    parser.add_argument("--quick", action="store_true", help="leave out " + ", ".join(sorted(SLOW)))
    opts = parser.parse_args()
    opts.dir.mkdir(parents=True, exist_ok=True)
    differ = 0
    for name, args in targets(opts.quick):
        text = snapshot(args)
        path = opts.dir / f"{name}.json"
        if opts.mode == "record":
            path.write_text(text)
            print(f"recorded {name}")
            continue
        before = path.read_text() if path.exists() else ""
        same = before == text
        differ += not same
        print(f"{'same     ' if same else 'DIFFERENT'} {name}")
        if not same:
            sys.stdout.writelines(list(difflib.unified_diff(before.splitlines(True), text.splitlines(True),
                                                            "before", "after", n=2))[:60])
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
