"""Schema strictness (unknown fields and kinds, removed and deprecated versions) over N objects.

Writes the same mix of manifests as ``bench_check.py`` (default 10,000
objects), then times:

* ``load``: ``kspec.loading.manifests.load_objects``;
* ``schema, cold``: :func:`kspec.rules.schema.check_records` in a process that
  has not read the schemas yet (reading the release's definitions included);
* ``schema, warm``: the same again (shapes cached);
* ``kspec check --only <the four schema rules>`` end to end (a fresh process);
* ``kspec check`` with every rule, end to end, and the same with the four
  schema rules skipped, so that their share of a full run shows.

Usage: ``python3 bench/bench_schema.py [--objects N] [--keep]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_check import timed, write_corpus  # noqa: E402  (the generator of bench_check.py)

SCHEMA_RULES = "unknown-field,unknown-kind,api-version-removed,api-version-deprecated"


def cli(folder: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kspec", "check", folder, "-o", "json", *args],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=10_000, help="objects to generate")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    args = parser.parse_args()

    from kspec.loading.manifests import load_objects
    from kspec.rules import schema

    rules = SCHEMA_RULES.split(",")
    folder = tempfile.mkdtemp(prefix="kspec-bench-schema-")
    try:
        n = write_corpus(folder, args.objects)
        print(f"{n} objects in {len(os.listdir(folder))} files under {folder}")
        loaded, _ = timed("load (YAML, defaulting, validation)", lambda: load_objects([folder]))
        problems, _ = timed("schema, cold (definitions read)", lambda: schema.check_records(loaded.objects, rules))
        timed("schema, warm", lambda: schema.check_records(loaded.objects, rules))
        print(f"{len(problems)} problems (the generated objects are valid: expected 0)")
        print(f"{'kspec check --only <schema rules>':38s} {cli(folder, '--only', SCHEMA_RULES):7.2f} s")
        full = cli(folder)
        without = cli(folder, "--skip", SCHEMA_RULES)
        print(f"{'kspec check (every rule)':38s} {full:7.2f} s")
        print(f"{'kspec check --skip <schema rules>':38s} {without:7.2f} s")
    finally:
        if args.keep:
            print("kept", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
