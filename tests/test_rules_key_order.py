"""Rule messages that list a map's keys list them sorted, so output is the same in every process.

A CEL map built from a manifest iterates its keys in no fixed order (it
changes with ``PYTHONHASHSEED``), so a message that walks a selector or a
label map sorts the keys first (``m.map(k, k).sort()``), the order in which
upstream's ``labels.Set.String`` (k8s.io/apimachinery/pkg/labels) prints a
label set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.rules.cel import compile_expression
from kspec.rules.functions import FunctionError, list_sort

# Six keys: a fixed key order cannot come about by chance across two seeds.
LABELS = "{tier: front, app: web, zone: a, release: stable, team: blue, component: ui}"
SORTED = "app=web,component=ui,release=stable,team=blue,tier=front,zone=a"

MANIFESTS = textwrap.dedent(f"""\
    apiVersion: v1
    kind: Service
    metadata: {{name: web, namespace: shop}}
    spec:
      selector: {LABELS}
      ports: [{{port: 80}}]
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {{name: web, namespace: shop}}
    spec:
      podSelector:
        matchLabels: {LABELS}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: api, namespace: shop}}
    spec:
      replicas: 3
      selector: {{matchLabels: {{app: api}}}}
      template:
        metadata:
          labels: {{app: api, tier: back, zone: b, release: stable, team: red, component: rest}}
        spec:
          affinity:
            podAntiAffinity:
              requiredDuringSchedulingIgnoredDuringExecution:
              - topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels: {LABELS}
          containers: [{{name: api, image: api:1}}]
    """)

RULES = "service-selects-nothing,networkpolicy-selects-nothing,replicas-not-spread"


def _check(folder, seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    run = subprocess.run([sys.executable, "-m", "kspec", "check", "manifests.yaml", "--only", RULES],
                         cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr  # warnings only
    return run.stdout


def test_selector_messages_are_identical_across_hash_seeds(tmp_path):
    (tmp_path / "manifests.yaml").write_text(MANIFESTS)
    first, second = _check(tmp_path, "1"), _check(tmp_path, "2")
    assert first == second
    lines = first.splitlines()
    assert [line.split("[")[1].split("]")[0] for line in lines] == [
        "service-selects-nothing", "networkpolicy-selects-nothing", "replicas-not-spread"]
    assert f"selector {SORTED} matches no pod" in lines[0]
    assert f"podSelector {SORTED} matches no pod" in lines[1]
    assert "(labels app=api,component=rest,release=stable,team=red,tier=back,zone=b;" in lines[2]
    assert "the terms select {" + SORTED.replace(",", ", ") + "}" in lines[2]


@given(st.lists(st.text(max_size=6)) | st.lists(st.integers(-(2**63), 2**63 - 1)))
def test_sort_orders_comparable_elements(values):
    assert list_sort(values) == sorted(values)


def test_sort_refuses_mixed_or_uncomparable_elements():
    for values in (["a", 1], [{"a": 1}], [["a"]]):
        with pytest.raises(FunctionError):
            list_sort(values)


def test_sort_in_cel_sorts_map_keys():
    program = compile_expression("object.m.map(k, k).sort()")
    assert program.evaluate({"object": {"m": {"b": 1, "c": 2, "a": 3}}, "cluster": {}, "source": None,
                             "pod": None, "ref": None}) == ["a", "b", "c"]
