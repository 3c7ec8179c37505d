"""kspec check and checkov side by side, in one run, on the same folders.

Times ``kspec check`` (every built-in rule and the schema strictness rules, a
fresh process, JSON to a pipe) and, with ``--checkov``, ``checkov -d
--framework kubernetes`` on

* the public corpus (``../shared/corpus`` next to the repository, or
  ``$KSPEC_CORPUS``, or ``--corpus``);
* ten copies of it in one folder (``--copies``);

and prints wall and CPU seconds (the process and its children: kspec parses
and checks large inputs on every core) and checkov's time over kspec's. Each
tool runs ``--repeat`` times per folder (default 3); the run with the median
wall time is shown.

Both tools run from compiled bytecode, as an installed package does (pip
compiles modules when it installs them, so checkov's virtualenv has them):
kspec's bytecode is cached under ``--cache`` even when
``PYTHONDONTWRITEBYTECODE`` is set, as it is in some development shells
(an editable install there recompiles every kspec module on every run, about
0.1 s). ``--no-bytecode-cache`` measures kspec that way instead.

checkov is never a kspec dependency: ``--checkov`` makes it its own virtual
environment under ``--cache`` (``python -m venv`` and ``pip install checkov``,
the only step that needs the network, done once) and reuses it afterwards.
Without ``--checkov`` only kspec runs, offline.

Usage: ``python bench/bench_checkov.py [--checkov] [--copies 10] [--corpus DIR] [--repeat 3]
[--no-bytecode-cache]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "kspec-bench"


def default_corpus() -> Path:
    return Path(os.environ.get("KSPEC_CORPUS") or REPOSITORY.parent / "shared" / "corpus")


def checkov_executable(cache: Path) -> Path:
    """checkov in its own virtual environment under ``cache``, installed from PyPI on first use."""
    venv = cache / "checkov-venv"
    executable = venv / "bin" / "checkov"
    if not executable.exists():
        print(f"installing checkov into {venv} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "checkov"], check=True)
    return executable


def checkov_version(executable: Path) -> str:
    proc = subprocess.run([str(executable), "--version"], capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def kspec_environment(cache: Path | None) -> dict[str, str]:
    """The environment kspec runs in: with its bytecode cached under ``cache``
    (as an installed package has it), or as this shell says when ``cache`` is None."""
    env = dict(os.environ)
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache / "kspec-bytecode")
    return env


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, int]:
    """``(wall seconds, CPU seconds of the process and its children, exit code, bytes on stdout)``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, len(proc.stdout)


def median_run(command: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float, int, int]:
    """The run with the median wall time of ``repeat`` runs (other work on the machine makes single runs noisy)."""
    runs = sorted((run(command, env) for _ in range(max(1, repeat))), key=lambda r: r[0])
    return runs[len(runs) // 2]


def kspec_command(folder: Path) -> list[str]:
    return [sys.executable, "-m", "kspec", "check", str(folder), "-o", "json"]


def checkov_command(executable: Path, folder: Path) -> list[str]:
    return [str(executable), "-d", str(folder), "--framework", "kubernetes", "--quiet", "--compact", "-o", "json"]


def copies_of(corpus: Path, count: int, into: Path) -> Path:
    for i in range(count):
        shutil.copytree(corpus, into / f"copy-{i}")
    return into


def manifest_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="folder of manifests (default: ../shared/corpus)")
    parser.add_argument("--copies", type=int, default=10, help="copies of the corpus in the larger folder")
    parser.add_argument("--checkov", action="store_true", help="also run checkov (installed on first use)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where checkov's virtualenv and kspec's bytecode live")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and folder (the median is shown)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="run kspec as this shell says (with PYTHONDONTWRITEBYTECODE, every module recompiled)")
    args = parser.parse_args()

    corpus = (args.corpus or default_corpus()).resolve()
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus} (set KSPEC_CORPUS or give --corpus)")
    checkov = checkov_executable(args.cache) if args.checkov else None
    if checkov is not None:
        print("checkov", checkov_version(checkov))
    env = kspec_environment(None if args.no_bytecode_cache else args.cache)
    run(kspec_command(corpus), env)  # compiles kspec's bytecode into the cache (or warms the file cache)
    print("kspec bytecode:", "as this shell says" if args.no_bytecode_cache else f"cached in {env['PYTHONPYCACHEPREFIX']}",
          f"| median of {max(1, args.repeat)} runs | load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="kspec-bench-copies-") as scratch:
        folders = [("corpus", corpus), (f"corpus x{args.copies}", copies_of(corpus, args.copies, Path(scratch)))]
        print(f"{'input':14s} {'files':>6s} {'tool':8s} {'wall s':>8s} {'cpu s':>8s} {'exit':>5s} {'JSON bytes':>11s}")
        for label, folder in folders:
            files = manifest_files(folder)
            k_wall, k_cpu, k_exit, k_bytes = median_run(kspec_command(folder), args.repeat, env)
            print(f"{label:14s} {files:6d} {'kspec':8s} {k_wall:8.2f} {k_cpu:8.2f} {k_exit:5d} {k_bytes:11d}")
            if checkov is None:
                continue
            c_wall, c_cpu, c_exit, c_bytes = median_run(checkov_command(checkov, folder), args.repeat)
            print(f"{label:14s} {files:6d} {'checkov':8s} {c_wall:8.2f} {c_cpu:8.2f} {c_exit:5d} {c_bytes:11d}")
            print(f"{label:14s} {'':6s} {'ratio':8s} {c_wall / k_wall:7.1f}x {c_cpu / k_cpu:7.1f}x  (checkov / kspec)")
    print(f"load average after: {os.getloadavg()[0]:.2f} (the runs themselves add up to one)")
    if checkov is None:
        print("checkov not run: add --checkov (installs it into its own virtualenv under --cache once)")


if __name__ == "__main__":
    main()
