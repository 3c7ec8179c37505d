"""Pool node names never collide, and one function names them for every verb.

The README's own example, ``--nodes "3:cpu=4,memory=16Gi;zones=a,b,c"`` over
``models/myapp`` (whose manifests declare node-1..node-3), listed two node-1
and two node-2 in ``kspec inspect``, made ``kspec schedule`` exit 2 and
``kspec.load`` raise. Generated names now skip every name already taken
(``kspec.loading.nodepool.name_pools``): the pool gets node-4, node-5, node-6.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.loading.manifests import load_objects
from kspec.loading.nodepool import Pool, name_pools
from support.profiles import examples

ROOT = Path(__file__).resolve().parent.parent
MYAPP = ROOT / "models" / "myapp"
README_POOL = "3:cpu=4,memory=16Gi;zones=a,b,c"
MYAPP_NODES = ["node-1", "node-2", "node-3"]
WITH_README_POOL = MYAPP_NODES + ["node-4", "node-5", "node-6"]


def nodepool(name: str, count: int) -> str:
    return textwrap.dedent(f"""\
        apiVersion: kspec.dev/v1
        kind: NodePool
        metadata: {{name: {name}}}
        spec:
          count: {count}
          allocatable: {{cpu: "4", memory: 16Gi}}
        """)


def node(name: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Node
        metadata: {{name: {name}}}
        status:
          allocatable: {{cpu: "2", memory: 4Gi, pods: "110"}}
        """)


# ----------------------------------------------------------------------------- the README's example, every verb


def test_inspect_lists_each_node_once(run_cli):
    result = run_cli("inspect", MYAPP, "--nodes", README_POOL)
    assert result.exit_code == 0, result.stderr
    rows = [line.split()[0] for line in result.stdout.split("\nNodes\n")[1].splitlines()[2:]]
    assert rows == WITH_README_POOL


def test_inspect_json_keeps_the_pool_zones_in_pool_order(run_cli):
    result = run_cli("inspect", MYAPP, "--nodes", README_POOL, "-o", "json")
    assert result.exit_code == 0, result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert [n["name"] for n in nodes] == WITH_README_POOL
    assert [n["labels"].get("topology.kubernetes.io/zone") for n in nodes[3:]] == ["a", "b", "c"]
    assert all(n["labels"]["kubernetes.io/hostname"] == n["name"] for n in nodes)


def test_schedule_places_on_the_named_pool(run_cli):
    result = run_cli("schedule", MYAPP, "--nodes", README_POOL, "-o", "json", "--no-greedy")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "feasible"
    assert [p["node"] for p in doc["placement"]] == WITH_README_POOL


def test_python_api_readme_example():
    cluster = kspec.load(["models/myapp"], nodes=["2:cpu=4,memory=8Gi"])
    assert [n.metadata.name for n in cluster.nodes] == MYAPP_NODES + ["node-4", "node-5"]


def test_check_with_a_nodepool_file_beside_node_manifests(run_cli, tmp_path):
    """``kspec check`` has no --nodes: a NodePool file is its way to add pools."""
    shutil.copytree(MYAPP, tmp_path / "myapp")
    (tmp_path / "myapp" / "pool.yaml").write_text(nodepool("node", 3))
    result = run_cli("check", tmp_path / "myapp", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["summary"]["objects"] == 10
    assert not [f for f in doc["findings"] if f["rule"] == "duplicate-object"]


def test_scenario_nodes_are_named_like_the_command_line(tmp_path):
    shutil.copytree(MYAPP, tmp_path / "myapp")
    (tmp_path / "s.yaml").write_text(textwrap.dedent(f"""\
        name: pools
        manifests: [myapp/]
        nodes: ["{README_POOL}"]
        start: one
        checks: [rc-replicas-converge, fault-then-converged]
        """))
    model = kspec.load_model(tmp_path / "s.yaml")
    assert list(model.world.node_names) == WITH_README_POOL


def test_every_way_in_gives_the_same_names(run_cli, tmp_path):
    """inspect, schedule, kspec.load and a NodePool file: one naming function."""
    pools = [README_POOL, "2:cpu=8,memory=32Gi;name=node"]
    args = [a for p in pools for a in ("--nodes", p)]
    inspected = [n["name"] for n in json.loads(run_cli("inspect", MYAPP, *args, "-o", "json").stdout)["nodes"]]
    scheduled = [p["node"] for p in json.loads(run_cli("schedule", MYAPP, *args, "-o", "json", "--no-greedy").stdout)["placement"]]
    loaded = [n.metadata.name for n in kspec.load([MYAPP], nodes=pools).nodes]
    assert inspected == scheduled == sorted(loaded, key=inspected.index)
    assert inspected == WITH_README_POOL + ["node-7", "node-8"]


# ----------------------------------------------------------------------------- the naming rule


def test_a_pool_takes_the_first_free_run_of_numbers():
    pool = Pool("node", 3, {}, {}, (), ())
    assert name_pools([pool]) == [("node-0", "node-1", "node-2")]
    assert name_pools([pool], ["node-1"]) == [("node-2", "node-3", "node-4")]
    assert name_pools([pool], ["node-7"]) == [("node-0", "node-1", "node-2")]
    assert name_pools([pool, pool], ["node-3"]) == [("node-0", "node-1", "node-2"), ("node-4", "node-5", "node-6")]
    assert name_pools([Pool("node", 0, {}, {}, (), ())], ["node-0"]) == [()]


def test_a_nodepool_file_skips_node_manifests_in_later_files(tmp_path):
    """Names wait for every file: a Node manifest read after the pool still keeps its name."""
    (tmp_path / "a-pool.yaml").write_text(nodepool("worker", 2))
    (tmp_path / "b-node.yaml").write_text(node("worker-0"))
    result = load_objects([tmp_path])
    assert result.ok, result.diagnostics
    assert [o.metadata.name for o in result.objects] == ["worker-1", "worker-2", "worker-0"]


def test_two_nodepool_files_of_one_name_share_it(tmp_path):
    (tmp_path / "a.yaml").write_text(nodepool("w", 2))
    (tmp_path / "b.yaml").write_text(nodepool("w", 2))
    cluster = kspec.load(tmp_path, nodes=["1:cpu=1;name=w"])
    assert [n.metadata.name for n in cluster.nodes] == ["w-0", "w-1", "w-2", "w-3", "w-4"]


def test_a_bad_pool_field_still_names_its_line(tmp_path):
    (tmp_path / "pool.yaml").write_text(nodepool("w", 2).replace('cpu: "4"', "cpu: lots"))
    result = load_objects([tmp_path])
    assert [(d.file.endswith("pool.yaml"), d.line, "invalid quantity" in d.message) for d in result.diagnostics] \
        == [(True, 1, True)]


def test_a_bad_nodes_string_is_reported_with_the_files_problems(tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: [")
    with pytest.raises(kspec.KspecError) as err:
        kspec.load(tmp_path, nodes=["3:cpu"])
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and lines[1].startswith("--nodes: error:")


PREFIXES = st.sampled_from(["node", "w", "node2"])
NAMES = st.builds(lambda p, i: f"{p}-{i}", PREFIXES, st.integers(0, 8))


@examples(60)
@given(manifests=st.lists(NAMES, max_size=6, unique=True),
       file_pools=st.lists(st.tuples(PREFIXES, st.integers(0, 4)), max_size=3),
       flag_pools=st.lists(st.tuples(PREFIXES, st.integers(0, 4)), max_size=3))
def test_any_mix_of_manifests_and_pools_has_unique_names(manifests, file_pools, flag_pools):
    with tempfile.TemporaryDirectory() as folder:
        for index, name in enumerate(manifests):
            Path(folder, f"n{index}.yaml").write_text(node(name))
        for index, (prefix, count) in enumerate(file_pools):
            Path(folder, f"p{index}.yaml").write_text(nodepool(prefix, count))
        flags = [f"{count}:cpu=1;name={prefix}" for prefix, count in flag_pools]
        if not manifests and not file_pools:
            Path(folder, "empty.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
        result = load_objects([folder], nodes=flags)
        again = load_objects([folder], nodes=flags)
    assert result.ok, result.diagnostics
    names = [o.metadata.name for o in result.objects if o.kind == "Node"]
    assert len(names) == len(set(names)) == len(manifests) + sum(c for _, c in file_pools + flag_pools)
    assert set(manifests) <= set(names)  # a manifest keeps its name
    assert not result.duplicates
    assert names == [o.metadata.name for o in again.objects if o.kind == "Node"]  # deterministic
    for prefix in {p for p, _ in file_pools + flag_pools}:  # each pool's nodes carry its name
        made = sum(c for p, c in file_pools + flag_pools if p == prefix)
        assert sum(1 for n in names if n.rsplit("-", 1)[0] == prefix) == made + sum(
            1 for m in manifests if m.rsplit("-", 1)[0] == prefix)


@given(taken=st.lists(NAMES, max_size=10), pools=st.lists(st.tuples(PREFIXES, st.integers(0, 5)), max_size=4))
def test_name_pools_gives_each_pool_the_first_free_run(taken, pools):
    named = name_pools([Pool(prefix, count, {}, {}, (), ()) for prefix, count in pools], taken)
    used = set(taken)
    for (prefix, count), names in zip(pools, named):
        numbers = [int(n.rsplit("-", 1)[1]) for n in names]
        assert names == tuple(f"{prefix}-{i}" for i in numbers)
        assert numbers == list(range(numbers[0], numbers[0] + count)) if count else names == ()
        assert not used & set(names)
        if count:  # no earlier run of free numbers was skipped
            assert all(any(f"{prefix}-{i}" in used for i in range(s, s + count)) for s in range(numbers[0]))
        used |= set(names)
