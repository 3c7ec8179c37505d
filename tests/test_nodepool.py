"""Pools of identical nodes from --nodes strings and NodePool manifests."""

from __future__ import annotations

import json

import pytest

import kspec
from kspec.errors import LoadError
from kspec.api.quantity import parse_quantity as q


def test_cli_string_makes_named_labelled_nodes():
    from kspec.loading.manifests import pool_nodes

    nodes = pool_nodes(["3:cpu=4,memory=16Gi;zones=a,b;labels=disk=ssd;taints=dedicated=gpu:NoSchedule"])
    assert [n.metadata.name for n in nodes] == ["node-0", "node-1", "node-2"]
    assert [n.metadata.labels["topology.kubernetes.io/zone"] for n in nodes] == ["a", "b", "a"]
    assert all(n.metadata.labels["kubernetes.io/hostname"] == n.metadata.name for n in nodes)
    assert all(n.metadata.labels["disk"] == "ssd" for n in nodes)
    assert nodes[0].status.allocatable["cpu"] == q(4)
    assert nodes[0].status.allocatable["pods"] == q(110)
    assert str(nodes[0].spec.taints[0]) == "dedicated=gpu:NoSchedule"
    assert nodes[0].ready


def test_nodes_join_loaded_manifests(tmp_path):
    cluster = kspec.load("models/myapp", nodes=["2:cpu=8,memory=32Gi;name=big"])
    assert {n.metadata.name for n in cluster.nodes} == {"node-1", "node-2", "node-3", "big-0", "big-1"}


def test_nodepool_manifest_in_a_file(tmp_path):
    (tmp_path / "pool.yaml").write_text(
        "apiVersion: kspec.dev/v1\nkind: NodePool\nmetadata:\n  name: worker\nspec:\n  count: 4\n"
        "  allocatable: {cpu: '2', memory: 4Gi}\n  zones: [x, y]\n")
    cluster = kspec.load(tmp_path)
    assert sorted(n.metadata.name for n in cluster.nodes) == ["worker-0", "worker-1", "worker-2", "worker-3"]


@pytest.mark.parametrize("spec, message", [
    ("three:cpu=4", 'expected COUNT:RESOURCE=QTY'),
    ("3:cpu", "expected KEY=VALUE"),
    ("3:cpu=4;color=blue", 'unknown option "color"'),
    ("3:cpu=lots", 'invalid quantity "lots"'),
    ("3:cpu=4;taints=x=y:Sometimes", 'Unsupported value: "Sometimes"'),
])
def test_bad_pool_strings_are_one_line_errors(spec, message):
    with pytest.raises(LoadError) as err:
        kspec.load("models/myapp", nodes=[spec])
    assert message in str(err.value)
    assert str(err.value).startswith("--nodes")


def test_inspect_with_nodes_option(run_cli):
    result = run_cli("inspect", "models/myapp", "--nodes", "2:cpu=4,memory=8Gi;name=extra", "-o", "json")
    assert result.exit_code == 0, result.stderr
    names = [n["name"] for n in json.loads(result.stdout)["nodes"]]
    assert names[-2:] == ["extra-0", "extra-1"]


def test_pool_nodes_carry_the_kubelet_well_known_labels(corpus):
    """Sock Shop pins its pods with nodeSelector beta.kubernetes.io/os: linux, which real kubelets set."""
    from kspec.loading.manifests import pool_nodes

    (node,) = pool_nodes(["1:cpu=4,memory=8Gi"])
    assert node.metadata.labels["kubernetes.io/os"] == "linux"
    assert node.metadata.labels["beta.kubernetes.io/os"] == "linux"
    (windows,) = pool_nodes(["1:cpu=4,memory=8Gi;labels=kubernetes.io/os=windows"])
    assert windows.metadata.labels["kubernetes.io/os"] == "windows"
    from kspec.cli.schedule import run

    result = run(kspec.load(corpus / "sock-shop", nodes=["3:cpu=4,memory=16Gi"]), with_greedy=False)
    assert result.verdict == "feasible"
