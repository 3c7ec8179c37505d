"""The whole built-in rule library over N generated objects (default 10,000).

Writes a realistic mix of manifests to a folder (Deployments, Services,
ReplicationControllers, StatefulSets, bare Pods, PodDisruptionBudgets across
namespaces, one file per application), then times:

* ``load``: ``kspec.loading.manifests.load_objects`` (YAML, defaulting, validation);
* ``check``: the built-in library over the loaded objects (compiling the
  expressions it needs, CEL evaluation and cross-object helpers; large inputs
  on every core);
* ``kspec check`` end to end with every built-in rule and the schema
  strictness rules (a fresh process, as CI runs it), with JSON and with the
  default text output, wall and CPU seconds (children included);
* with ``--checkov``: checkov on the same folder, from its own virtualenv
  (made once by ``bench_checkov.checkov_executable``; never a kspec
  dependency; it takes minutes on 10,000 objects).

Fresh processes run ``--repeat`` times (the median is shown), kspec from
cached bytecode as an installed package runs (see ``bench_checkov.py``).

Usage: ``python3 bench/bench_check.py [--objects N] [--checkov] [--repeat 3]``;
the corpus side by side: ``bench/bench_checkov.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml


def app(i: int) -> list[dict]:
    """One application: a workload, its Service, sometimes a PDB; about 2.4 objects."""
    ns = f"team-{i % 20}"
    name = f"app-{i}"
    labels = {"app": name, "tier": ["web", "api", "worker"][i % 3]}
    container = {
        "name": "main",
        "image": f"registry.example/{name}:{'latest' if i % 11 == 0 else '1.' + str(i % 7)}",
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": [{"name": "NEXT", "value": f"app-{i + 20}:80"}],
    }
    if i % 4:
        container["resources"] = {"requests": {"cpu": "100m", "memory": "128Mi"},
                                  "limits": {"cpu": "500m", "memory": "256Mi"}}
    if i % 3:
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}}
        container["livenessProbe"] = {"httpGet": {"path": "/live", "port": "http"}}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
    kind = ["Deployment", "Deployment", "ReplicationController", "StatefulSet", "Pod"][i % 5]
    if kind == "Pod":
        workload = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
                    "spec": template["spec"]}
    elif kind == "ReplicationController":
        workload = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns},
                    "spec": {"replicas": 1 + i % 3, "selector": labels, "template": template}}
    else:
        spec = {"replicas": 1 + i % 3, "selector": {"matchLabels": labels}, "template": template}
        if kind == "StatefulSet":
            spec["serviceName"] = name
        workload = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
               "spec": {"selector": {"app": name if i % 13 else name + "-typo"},
                        "ports": [{"name": "http", "port": 80, "targetPort": "http" if i % 17 else "web"}]}}
    objects = [workload, service]
    if i % 5 == 0:
        objects.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": name}}}})
    return objects


def write_corpus(folder: str, count: int) -> int:
    written = 0
    i = 0
    while written < count:
        objects = app(i)[: count - written]
        with open(os.path.join(folder, f"app-{i:05d}.yaml"), "w") as handle:
            yaml.safe_dump_all(objects, handle, sort_keys=False)
        written += len(objects)
        i += 1
    return written


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:38s} {elapsed:7.2f} s")
    return value, elapsed


def fresh(label: str, command: list[str], repeat: int, env: dict[str, str] | None = None) -> None:
    """Run ``command`` ``repeat`` times; print the median run's wall and CPU seconds (children included)."""
    from bench_checkov import median_run

    wall, cpu, _, _ = median_run(command, repeat, env)
    print(f"{label:38s} {wall:7.2f} s   ({cpu:.2f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=10_000, help="objects to generate")
    parser.add_argument("--checkov", action="store_true", help="also run checkov (installed on first use)")
    parser.add_argument("--cache", default=None,
                        help="where checkov's virtualenv and kspec's bytecode live (see bench_checkov.py)")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fresh process (the median is shown)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="run kspec as this shell says (see bench_checkov.py)")
    args = parser.parse_args()
    from bench_checkov import DEFAULT_CACHE, kspec_environment

    cache = Path(args.cache) if args.cache else DEFAULT_CACHE
    env = kspec_environment(None if args.no_bytecode_cache else cache)

    from kspec.loading.manifests import load_objects
    from kspec.rules.engine import check
    from kspec.rules.ruleset import builtin_rules

    folder = tempfile.mkdtemp(prefix="kspec-bench-")
    try:
        n = write_corpus(folder, args.objects)
        print(f"{n} objects in {len(os.listdir(folder))} files under {folder}")
        rules, _ = timed("read the built-in library", builtin_rules)  # its expressions compile during the check
        loaded, t_load = timed("load (YAML, defaulting, validation)", lambda: load_objects([folder]))
        result, t_check = timed(f"check ({len(rules)} rules)", lambda: check(loaded.objects, rules, parallel=True))
        print(f"{'load + check':38s} {t_load + t_check:7.2f} s   ({result.evaluations} evaluations, "
              f"{1e6 * t_check / max(1, result.evaluations):.0f} µs each)")
        counts = Counter(f.rule_id for f in result.findings)
        print("findings:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        print(f"fresh processes: median of {max(1, args.repeat)}, kspec bytecode "
              + ("as this shell says" if args.no_bytecode_cache else f"cached in {env['PYTHONPYCACHEPREFIX']}")
              + f", load average {os.getloadavg()[0]:.2f}")
        for output in ("json", "text"):
            fresh(f"kspec check -o {output} (fresh process)",
                  [sys.executable, "-m", "kspec", "check", folder, "-o", output], args.repeat, env)
        if args.checkov:
            from bench_checkov import checkov_command, checkov_executable

            executable = checkov_executable(cache)
            fresh("checkov -d (kubernetes framework)", checkov_command(executable, Path(folder)), 1)
    finally:
        if args.keep:
            print("kept", folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
