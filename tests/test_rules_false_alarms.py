"""No false alarms on real manifests: each case on the public manifest that showed it
(``../shared/realworld`` or ``../shared/corpus`` beside the repository, skipped with
the reason when absent) and on a small manifest of our own in ``tests/data/false_alarms``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.api.labels import selector_from_dict, selector_from_map
from kspec.loading.manifests import load_objects
from kspec.api.objects import object_key
from kspec.loading.manifests import parse_object
from kspec.rules.engine import check_paths, effective_objects
from kspec.rules.functions import pod_label_sets
from kspec.rules.ruleset import builtin_rules

RULES = builtin_rules()
ROOT = Path(__file__).resolve().parent.parent
REALWORLD = ROOT.parent / "shared" / "realworld"
DATA = ROOT / "tests" / "data" / "false_alarms"


def shared(*parts) -> Path:
    path = REALWORLD.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the public manifest {Path(*parts)} is not in {REALWORLD}")
    return path


def findings(paths, rule_id):
    result, fatal = check_paths([str(p) for p in paths], RULES.select([rule_id]))
    assert fatal == ()
    return [f for f in result.findings if f.rule_id == rule_id]


def names(found) -> set[str]:
    return {f.name for f in found}


# --------------------------------------------------------------------------- controllers-overlap


def _selector(raw):
    selector = raw["spec"].get("selector")
    if raw["kind"] == "ReplicationController":
        return selector_from_map(selector or raw["spec"]["template"]["metadata"]["labels"], validate=False)
    return selector_from_dict(selector)


def test_overlap_only_where_a_template_carries_labels_both_select():
    found = findings([DATA / "overlap-could-only.yaml"], "controllers-overlap")
    assert names(found) == {"redis", "redis-master"}
    assert all("mongo" not in f.message and "Deployment/db" not in f.message for f in found)


def test_corpus_overlaps_are_pairs_whose_templates_both_selectors_match(corpus):
    """The voting app's db/mongo-controller pair meets only on {app=db,name=mongo}; every
    pair still reported has a template (of one of the two) that both selectors match."""
    found = findings([corpus], "controllers-overlap")
    assert not [f for f in found if f.name == "db" and "example-voting-app" in f.file]
    objects = {(r.kind, r.metadata.namespace, r.metadata.name): r.raw
               for r in effective_objects(load_objects([str(corpus)]).objects)}
    for f in found:
        mine = objects[(f.kind, f.namespace, f.name)]
        for other_ref in f.message.removeprefix("selects the same pods as ").split("), "):
            kind, name = other_ref.split(" ")[0].split("/")
            other = objects[(kind, f.namespace, name)]
            templates = [r["spec"]["template"]["metadata"]["labels"] for r in (mine, other)]
            assert any(_selector(mine).matches(t) and _selector(other).matches(t) for t in templates)


def test_kubernetes_website_examples_are_not_reported_as_overlapping():
    """web (app=nginx), zk and myapp select disjoint template labels; before, their
    selectors were reported because a pod labelled with both keys could exist."""
    assert findings([shared("k8s-website")], "controllers-overlap") == []


# --------------------------------------------------------------------------- service-selects-nothing


def test_service_selecting_a_statefulset_pod_by_name_selects_it():
    found = findings([DATA / "statefulset-pod-name.yaml"], "service-selects-nothing")
    assert names(found) == {"redis-ha-announce-2"}  # replicas: 2 makes pods redis-ha-0 and redis-ha-1


def test_argocd_redis_ha_announce_services_select_their_pod():
    found = findings([shared("argocd", "ha-install.yaml")], "service-selects-nothing")
    assert not [f for f in found if f.name.startswith("argocd-redis-ha-announce-")]


def test_the_later_definition_of_a_duplicate_is_what_services_see():
    found = findings([DATA / "duplicate"], "service-selects-nothing")
    assert found == []
    ports = findings([DATA / "duplicate"], "service-target-port-unresolved")
    assert ports == []  # the replaced frontend Service is not judged against the new Deployment


def test_microservices_frontend_external_selects_the_frontend_defined_last(corpus):
    found = findings([corpus], "service-selects-nothing")
    assert not [f for f in found if f.name == "frontend-external"]


def test_duplicate_definitions_are_still_reported():
    found = findings([DATA / "duplicate"], "duplicate-object")
    assert {(f.kind, f.name) for f in found} == {("Deployment", "frontend"), ("Service", "frontend")}
    assert all(f.file.endswith("2-new.yaml") for f in found)


# --------------------------------------------------------------------------- single-replica-behind-service


def test_versions_with_one_replica_each_behind_one_service_are_not_single():
    found = findings([DATA / "versions-behind-one-service.yaml"], "single-replica-behind-service")
    assert names(found) == {"details"}
    assert "Service details" in found[0].message


def test_bookinfo_reviews_versions_are_not_single_replicas():
    found = findings([shared("istio", "bookinfo.yaml")], "single-replica-behind-service")
    assert not [f for f in found if f.name.startswith("reviews-")]
    assert {"details-v1", "productpage-v1"} <= names(found)  # alone behind their Services


# --------------------------------------------------------------------------- requests and limits


@pytest.mark.parametrize("rule_id, word", [("limits-missing", "limit"), ("requests-missing", "request")])
def test_every_container_in_the_message_says_no(rule_id, word):
    (found,) = [f for f in findings([DATA / "resources.yaml"], rule_id) if f.name == "two-containers"]
    assert found.message == f"no cpu/memory {word} in container a; no cpu/memory {word} in container b"


def test_argocd_messages_say_no_for_every_container():
    result, _ = check_paths([str(shared("argocd", "install.yaml"))], RULES.select(["limits-missing", "requests-missing"]))
    several = [f for f in result.findings if "; " in f.message]
    assert {f.rule_id for f in several} == {"limits-missing", "requests-missing"}
    assert all(part.startswith("no ") for f in several for part in f.message.split("; "))


def test_pod_level_resources_cover_the_containers():
    found = {f.rule_id: f for f in findings([DATA / "resources.yaml"], "requests-missing")
             + findings([DATA / "resources.yaml"], "limits-missing") if f.name != "two-containers"}
    # pod-level requests and limits cover both; limits alone cover requests too (the
    # pod-level request defaults to the pod-level limit); a cpu-only pod limit leaves memory
    assert set(found) == {"requests-missing", "limits-missing"}
    assert {f.name for f in found.values()} == {"pod-level-cpu-only"}
    assert found["limits-missing"].message == "no memory limit in container a"
    assert found["requests-missing"].message == "no memory request in container a"


def test_kubernetes_website_pod_level_resources_example():
    path = shared("k8s-website", "misc", "pod-level-resources.yaml")
    assert findings([path], "requests-missing") == []
    assert findings([path], "limits-missing") == []


# --------------------------------------------------------------------------- env references


def test_service_in_a_namespace_with_nothing_loaded_is_unknown_not_missing():
    (found,) = findings([DATA / "env-unknown-namespace.yaml"], "env-references-missing-service")
    assert "redis" in found.message and "monitoring" not in found.message and "postgres" not in found.message


# --------------------------------------------------------------------------- properties


def _config_map(name: str, index: int):
    return parse_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                         "data": {"index": str(index)}})


@given(st.lists(st.sampled_from(["a", "b", "c"]), max_size=8))
def test_effective_objects_keep_the_last_definition_of_each_identity(names):
    records = [_config_map(name, i) for i, name in enumerate(names)]
    last = {name: i for i, name in enumerate(names)}
    effective = effective_objects(records)
    assert [r.raw["data"]["index"] for r in effective] == [str(i) for i in sorted(last.values())]


@given(st.integers(0, 6), st.integers(0, 4))
def test_statefulset_pods_are_labelled_with_their_name_and_ordinal(replicas, start):
    raw = {"kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"replicas": replicas, "ordinals": {"start": start},
                    "template": {"metadata": {"labels": {"app": "web"}}}}}
    sets = pod_label_sets(raw)
    if replicas == 0:
        assert sets == [{"app": "web"}]
    else:
        assert [s["statefulset.kubernetes.io/pod-name"] for s in sets] == [
            f"web-{i}" for i in range(start, start + replicas)]
        assert all(s["app"] == "web" and s["apps.kubernetes.io/pod-index"] == s[
            "statefulset.kubernetes.io/pod-name"].removeprefix("web-") for s in sets)
