"""Benchmark: load, default and validate N generated objects (target: 10,000 in < 2 s, < 500 MB).

    python bench/bench_load.py                  # 10,000 objects, 100 files
    python bench/bench_load.py --objects 20000 --files 1

The objects are a realistic mix (Deployments, ReplicationControllers,
Services, Pods, Nodes), written as multi-document YAML. Time covers reading,
YAML parsing, defaulting, validation and building the Cluster; peak memory
is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: team-{ns}
  labels: {{app: web-{i}, tier: frontend}}
spec:
  replicas: 3
  selector:
    matchLabels: {{app: web-{i}}}
  template:
    metadata:
      labels: {{app: web-{i}, tier: frontend}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1.{i}
        ports:
        - {{name: http, containerPort: 8080}}
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: 500m, memory: 256Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
"""

RC = """apiVersion: v1
kind: ReplicationController
metadata:
  name: worker-{i}
  namespace: team-{ns}
spec:
  replicas: 2
  template:
    metadata:
      labels: {{app: worker-{i}}}
    spec:
      initContainers:
      - name: migrate
        image: registry.example.com/migrate:2.{i}
        resources:
          requests: {{cpu: "1", memory: 1Gi}}
      containers:
      - name: worker
        image: registry.example.com/worker:2.{i}
        resources:
          limits: {{cpu: 250m, memory: 512Mi}}
"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web-{i}
  namespace: team-{ns}
spec:
  selector: {{app: web-{i}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: debug-{i}
  namespace: team-{ns}
  labels: {{app: debug}}
spec:
  tolerations:
  - {{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}}
  containers:
  - name: shell
    image: busybox:1.36
    command: [sleep, "3600"]
    resources:
      requests: {{cpu: 10m, memory: 16Mi}}
"""

NODE = """apiVersion: v1
kind: Node
metadata:
  name: node-{i}
  labels: {{kubernetes.io/hostname: node-{i}, topology.kubernetes.io/zone: zone-{ns}}}
spec:
  taints:
  - {{key: dedicated, value: gpu, effect: NoSchedule}}
status:
  allocatable: {{cpu: "16", memory: 64Gi, pods: "110"}}
"""

TEMPLATES = [DEPLOYMENT, SERVICE, RC, POD, NODE]


def generate(directory: Path, objects: int, files: int) -> None:
    per_file = -(-objects // files)
    made = 0
    for f in range(files):
        docs = []
        while len(docs) < per_file and made < objects:
            docs.append(TEMPLATES[made % len(TEMPLATES)].format(i=made, ns=made % 7))
            made += 1
        (directory / f"objects-{f:04d}.yaml").write_text("---\n".join(docs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import kspec

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), args.objects, args.files)
        times, cpu = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            cluster = kspec.load(tmp)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        assert len(cluster) == args.objects, len(cluster)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"objects={args.objects} files={args.files} best={min(times):.2f}s "
          f"runs={' '.join(f'{t:.2f}' for t in times)} best_cpu={min(cpu):.2f}s peak_rss={peak_mb:.0f}MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
