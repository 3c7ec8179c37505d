"""``anyWorkloadSelectedBy``, ``anyServiceSelecting`` and ``anyPdbSelecting`` answer
exactly whether ``workloadsSelectedBy``, ``servicesSelecting`` and ``pdbsSelecting``
are not empty (they only spare converting the manifests of the answer to CEL)."""

from __future__ import annotations

from kspec.loading.manifests import load_objects
from kspec.rules.functions import Scope
from kspec.rules.ruleset import CHECKS_DIR

WORKLOADS = ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


def _agree(records) -> int:
    scope = Scope(records)
    compared = 0
    for record in records:
        if record.kind == "Service":
            assert scope.any_workload_selected_by(record.raw) == bool(scope.workloads_selected_by(record.raw))
            compared += 1
        elif record.kind in WORKLOADS:
            assert scope.any_service_selecting(record.raw) == bool(scope.services_selecting(record.raw))
            assert scope.any_pdb_selecting(record.raw) == bool(scope.pdbs_selecting(record.raw))
            compared += 1
    return compared


def test_narrow_helpers_agree_on_the_rule_examples():
    loaded = load_objects([CHECKS_DIR / "examples"])
    scope = Scope(loaded.objects)
    selected = {bool(scope.workloads_selected_by(r.raw)) for r in loaded.objects if r.kind == "Service"}
    assert selected == {True, False}  # both answers occur
    assert _agree(loaded.objects) > 20


def test_narrow_helpers_agree_on_the_corpus(corpus):
    assert _agree(load_objects([corpus]).objects) > 50
