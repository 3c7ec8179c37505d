"""The rule library is compiled as a check needs it: each expression when first
evaluated, each message on the rule's first failure. Reading the library does not
compile it, so these tests compile and type-check every library rule themselves."""

from __future__ import annotations

import pytest

from kspec.loading.manifests import parse_object
from kspec.rules import engine
from kspec.rules.engine import check
from kspec.rules.ruleset import CHECKS_DIR, builtin_rules, load_rules

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}


def test_every_library_expression_compiles_and_type_checks():
    checked = load_rules([CHECKS_DIR])  # compile_now: every expression, as a user's rule file is read
    assert checked.ids == builtin_rules().ids


@pytest.fixture
def compiled(monkeypatch):
    """The sources the engine compiles during one check."""
    seen: list[str] = []
    real = engine.compile_expression

    def record(source, *args):
        seen.append(source)
        return real(source, *args)

    monkeypatch.setattr(engine, "compile_expression", record)
    return seen


def test_a_check_compiles_only_what_its_objects_need(compiled):
    rules = builtin_rules()
    result = check([parse_object(SERVICE)], rules)
    failing = {f.rule_id for f in result.findings}
    assert failing == {"service-selects-nothing"}
    service_rules = [r for r in rules if "Service" in r.match.kinds or not r.match.kinds]
    expected = {r.expression for r in service_rules} | {rules.get("service-selects-nothing").message_expression}
    assert set(compiled) == expected
    assert rules.get("bare-pod").expression not in compiled


def test_a_rule_as_predicate_still_compiles_at_once(compiled):
    engine.rule_as_predicate(builtin_rules().get("bare-pod"))
    rule = builtin_rules().get("bare-pod")
    assert rule.expression in compiled
    assert rule.message_expression is None or rule.message_expression in compiled
