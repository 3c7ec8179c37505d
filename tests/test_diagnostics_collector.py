"""One diagnostics collector (kspec.errors.Diagnostics) for rule files, admission
policies, rule tests and scenario files, and one YAML position lookup (yamlio)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.api.objects import Source
from kspec.errors import Diagnostic, Diagnostics, LoadError
from kspec.loading.yamlio import load_documents, node_at, node_line
from kspec.rules.ruleset import read_rule_text
from kspec.rules.rule import RuleFileError

TEXT = """\
rules:
  - id: a
    expression: "true"
    match:
      kinds: [Pod]
"""


def test_add_at_and_at_source_record_file_line_and_field():
    [document] = load_documents(TEXT)
    found = Diagnostics("r.yaml", document.line_of)
    found.add(None, "whole file")
    found.at(("rules", 0, "match", "kinds"), "bad kinds", "match.kinds")
    found.at_source(Source("other.yaml", 7), "elsewhere", "spec")
    assert [str(d) for d in found] == [
        "r.yaml: error: whole file",
        "r.yaml:5: error: match.kinds: bad kinds",
        "other.yaml:7: error: spec: elsewhere",
    ]


def test_located_adds_to_the_same_list():
    found = Diagnostics("f.yaml")
    found.located(lambda path: 3).at(("x",), "m")
    assert len(found) == 1 and found.items[0].line == 3


def test_raise_if_any_raises_the_given_error_with_every_diagnostic():
    found = Diagnostics("f.yaml")
    found.raise_if_any(RuleFileError)
    found.add(1, "one")
    found.add(2, "two")
    with pytest.raises(RuleFileError) as err:
        found.raise_if_any(RuleFileError)
    assert [d.line for d in err.value.diagnostics] == [1, 2]


@given(st.lists(st.tuples(st.integers(1, 1000) | st.none(), st.text(min_size=1, max_size=20)), max_size=10))
def test_a_collector_keeps_every_problem_in_order(problems):
    found = Diagnostics("f.yaml")
    for line, message in problems:
        found.add(line, message)
    assert list(LoadError(found).diagnostics) == [Diagnostic("f.yaml", line, message) for line, message in problems]


def test_one_position_lookup_key_line_and_value_node():
    [document] = load_documents(TEXT)
    assert node_line(document.node, ("rules", 0, "match")) == 4  # the key's line
    assert node_at(document.node, ("rules", 0, "match")).start_mark.line + 1 == 5  # the value starts below
    assert node_line(document.node, ("rules", 0, "missing", "deeper")) == 2  # the deepest node that exists


def test_rule_file_problems_name_the_key_line():
    _, _, problems = read_rule_text(TEXT.replace("kinds: [Pod]", "- Pod"), "r.yaml")
    assert [str(p) for p in problems] == ["r.yaml:4: error: match: match must be a mapping"]
