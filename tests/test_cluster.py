"""The Cluster: one frozen, hashable state; input order never matters."""

from __future__ import annotations

import random

import attrs
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import kspec
from kspec.loading.cluster import Cluster
from kspec.errors import LoadError
from kspec.loading.manifests import load_objects, parse_object
from support.profiles import examples

MANIFESTS = [
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}},
     "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "web"},
     "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}},
                                           "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "prod"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
              "template": {"metadata": {"labels": {"app": "api", "v": "2"}},
                           "spec": {"containers": [{"name": "api", "image": "api:2", "ports": [{"containerPort": 9000}]}]}}}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"zone": "a"}},
     "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": 110}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1", "b": "2"}},
]


def _shuffle_keys(value, rng):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffle_keys(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffle_keys(v, rng) for v in value]
    return value


def _write(tmp_path, docs, files):
    for f in range(files):
        part = docs[f::files]
        (tmp_path / f"part-{f}.yaml").write_text(yaml.safe_dump_all(part, sort_keys=False))


@examples(30)
@given(seed=st.integers(0, 2**32 - 1), files=st.integers(1, 4))
def test_hash_and_equality_ignore_document_file_and_key_order(tmp_path_factory, seed, files):
    rng = random.Random(seed)
    reference = Cluster.from_objects(parse_object(m) for m in MANIFESTS)
    docs = [_shuffle_keys(m, rng) for m in MANIFESTS]
    rng.shuffle(docs)
    tmp = tmp_path_factory.mktemp("c")
    _write(tmp, docs, files)
    cluster = kspec.load(tmp)
    assert cluster == reference
    assert hash(cluster) == hash(reference)


def test_a_changed_field_changes_equality():
    a = Cluster.from_objects(parse_object(m) for m in MANIFESTS)
    changed = [dict(m) for m in MANIFESTS]
    changed[1] = {**MANIFESTS[1], "spec": {**MANIFESTS[1]["spec"], "replicas": 4}}
    b = Cluster.from_objects(parse_object(m) for m in changed)
    assert a != b


def test_source_does_not_take_part_in_equality():
    a = parse_object(MANIFESTS[0], file="a.yaml", line=1)
    b = parse_object(MANIFESTS[0], file="b.yaml", line=7)
    assert a == b and hash(a) == hash(b)
    assert a.source.file == "a.yaml" and b.source.line == 7


def test_cluster_is_frozen_and_canonically_ordered():
    cluster = Cluster.from_objects(parse_object(m) for m in reversed(MANIFESTS))
    kinds = [o.kind for o in cluster.objects]
    assert kinds == sorted(kinds)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cluster.objects = ()


def test_lookups_and_transitions():
    cluster = Cluster.from_objects(parse_object(m) for m in MANIFESTS)
    assert cluster.get("Deployment", "prod", "api").spec.replicas == 2
    assert cluster.get("Node", None, "n1").status.allocatable["cpu"] == kspec.api.quantity.parse_quantity(4)
    assert [o.kind for o in cluster.not_modelled] == ["ConfigMap"]
    assert {w.kind for w in cluster.workloads} == {"ReplicationController", "Deployment"}
    smaller = cluster.without("Service", "default", "web")
    assert len(smaller) == len(cluster) - 1 and cluster.get("Service", "default", "web") is not None
    assert smaller.with_object(cluster.get("Service", "default", "web")) == cluster


def test_from_objects_rejects_duplicates():
    records = [parse_object(MANIFESTS[0], file="a.yaml", line=1), parse_object(MANIFESTS[0], file="b.yaml", line=3)]
    with pytest.raises(LoadError) as err:
        Cluster.from_objects(records)
    assert "b.yaml:3: error: metadata.name: duplicate object Service default/web: also defined at a.yaml:1" in str(err.value)


def test_kind_list_items_are_loaded_with_their_own_lines(tmp_path):
    doc = {"apiVersion": "v1", "kind": "List", "items": MANIFESTS[:2]}
    (tmp_path / "list.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = load_objects([tmp_path])
    assert result.ok
    assert [o.kind for o in result.objects] == ["Service", "ReplicationController"]
    assert result.objects[0].source.line < result.objects[1].source.line


def test_stdin_and_json(tmp_path):
    import io
    import json

    (tmp_path / "svc.json").write_text(json.dumps(MANIFESTS[0]))
    from_json = kspec.load(tmp_path)
    from_stdin = kspec.load(["-"], stdin=io.StringIO(yaml.safe_dump(MANIFESTS[0])))
    assert from_json == from_stdin
    assert from_stdin.objects[0].source.file == "<stdin>"


def test_parse_object_does_not_modify_its_input():
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    before = repr(manifest)
    pod = parse_object(manifest)
    assert repr(manifest) == before
    assert pod.raw["spec"]["restartPolicy"] == "Always"


def test_parallel_parsing_gives_the_same_records_and_diagnostics(tmp_path, monkeypatch):
    import kspec.loading.manifests as manifests

    docs = [dict(m) for m in MANIFESTS]
    _write(tmp_path, docs, 4)
    (tmp_path / "part-9.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n"
        "    image: nginx:1\n    resources:\n      requests:\n        cpu: 1.5.3\n")
    sequential = load_objects([tmp_path])
    monkeypatch.setattr(manifests, "PARALLEL_MIN_BYTES", 0)
    parallel = load_objects([tmp_path])
    assert parallel.objects == sequential.objects
    assert [o.source for o in parallel.objects] == [o.source for o in sequential.objects]
    assert parallel.diagnostics == sequential.diagnostics
    assert [str(d) for d in parallel.diagnostics] == [
        f"{tmp_path / 'part-9.yaml'}:11: error: spec.containers[0].resources.requests.cpu: invalid quantity \"1.5.3\": "
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"]


def test_one_large_file_cut_into_parts_loads_exactly_as_a_whole(tmp_path, monkeypatch):
    import kspec.loading.manifests as manifests

    docs = []
    for i in range(40):
        body = yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}"},
                               "spec": {"ports": [{"port": 80 + i}]}}, sort_keys=False)
        docs.append(body)
    docs[25] = docs[25].replace("port: 105", "port: 700000")  # a bad field deep in the file
    text = "# services\n" + "---\n".join(docs)
    (tmp_path / "all.yaml").write_text(text)
    whole = load_objects([tmp_path])
    monkeypatch.setattr(manifests, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(manifests, "PART_BYTES", 300)
    assert len(manifests.split_parts("x", text, 8)) > 4
    cut = load_objects([tmp_path])
    assert cut.objects == whole.objects and len(cut.objects) == 39
    assert [o.source.line for o in cut.objects] == [o.source.line for o in whole.objects]
    assert cut.diagnostics == whole.diagnostics
    (diagnostic,) = cut.diagnostics
    assert diagnostic.field == "spec.ports[0].port"
    assert text.splitlines()[diagnostic.line - 1].strip() == "- port: 700000"


def test_files_with_directives_are_not_cut():
    from kspec.loading.manifests import split_parts

    text = "%YAML 1.1\n---\na: 1\n---\nb: 2\n"
    assert len(split_parts("x", text, 4)) == 1
