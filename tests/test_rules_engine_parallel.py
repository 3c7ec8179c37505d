"""``kspec check`` on every core: the forked slices find exactly what one process finds."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from kspec.loading.manifests import load_objects, parse_object
from kspec.rules import engine
from kspec.rules.engine import check
from kspec.rules.ruleset import builtin_rules, load_rules, merge
from kspec.rules.schema import schema_rules

RULES = """\
id: replicas-behind-service
title: a Service selects the pod
severity: warning
match:
  kinds: [Pod]
expression: servicesSelecting(ref).size() > 0
messageExpression: "'no Service selects ' + object.metadata.name"
---
id: port-number
title: reads a field some pods lack
severity: error
match:
  kinds: [Pod]
expression: object.spec.containers[0].ports[0].containerPort > 0
"""


def pod(name: str, app: str, ports: bool):
    container = {"name": "c", "image": "nginx:1.25"}
    if ports:
        container["ports"] = [{"containerPort": 80}]
    return parse_object({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
                         "spec": {"containers": [container]}})


def service(name: str, app: str):
    return parse_object({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
                         "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}})


def both_ways(monkeypatch, records, rules, workers: int = 3):
    """``check`` in one process, then split across ``workers`` forked slices."""
    monkeypatch.setattr(engine, "PARALLEL_MIN_RECORDS", 10 ** 9)
    serial = check(records, rules, parallel=True)
    monkeypatch.setattr(engine, "PARALLEL_MIN_RECORDS", 2)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: workers)
    parallel = check(records, rules, parallel=True)
    return serial, parallel


def test_slices_find_the_same_fails_errors_and_messages(tmp_path, monkeypatch):
    (tmp_path / "rules.yaml").write_text(RULES)
    rules = load_rules([tmp_path / "rules.yaml"])
    records = [pod(f"p{i}", f"a{i % 4}", ports=i % 3 != 0) for i in range(12)]
    records += [service("s0", "a0"), service("s1", "a1")]
    records.append(pod("p5", "a0", ports=True))  # replaces p5: the earlier p5 is not in the cluster
    serial, parallel = both_ways(monkeypatch, records, rules)
    assert {f.status for f in serial.findings} == {"fail", "error"}
    assert parallel.findings == serial.findings
    assert parallel.evaluations == serial.evaluations
    assert set(parallel.seconds) == set(serial.seconds)


def test_slices_on_the_corpus_with_every_built_in_rule(corpus, monkeypatch):
    records = load_objects([corpus]).objects
    rules = merge([builtin_rules(), schema_rules()])
    serial, parallel = both_ways(monkeypatch, records, rules, workers=2)
    assert serial.findings
    assert parallel.findings == serial.findings
    assert parallel.evaluations == serial.evaluations


def test_check_forks_only_when_asked(tmp_path, monkeypatch):
    """The explorer's rule predicates call ``check`` per state: it must never fork there."""
    import multiprocessing

    def refuse(*_):
        raise AssertionError("forked")

    (tmp_path / "rules.yaml").write_text(RULES)
    rules = load_rules([tmp_path / "rules.yaml"])
    records = [pod(f"p{i}", "a", ports=True) for i in range(6)]
    monkeypatch.setattr(engine, "PARALLEL_MIN_RECORDS", 2)
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(multiprocessing, "get_context", refuse)
    assert len(check(records, rules).findings) == 6
    with pytest.raises(AssertionError, match="forked"):
        check(records, rules, parallel=True)


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=1, max_value=64))
def test_workers_one_below_the_threshold_never_more_than_cores(count, cores):
    original = engine.os.cpu_count
    engine.os.cpu_count = lambda: cores
    try:
        workers = engine.check_workers(count)
    finally:
        engine.os.cpu_count = original
    assert 1 <= workers <= cores
    if count < engine.PARALLEL_MIN_RECORDS:
        assert workers == 1
    assert count // workers >= engine.PARALLEL_MIN_RECORDS // 2 or workers == 1


@pytest.mark.parametrize("cores", [1, 2])
def test_small_inputs_stay_in_one_process(cores, monkeypatch):
    monkeypatch.setattr(engine.os, "cpu_count", lambda: cores)
    assert engine.check_workers(engine.PARALLEL_MIN_RECORDS - 1) == 1
