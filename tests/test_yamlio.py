"""YAML as Kubernetes reads it (sigs.k8s.io/yaml over go-yaml v2), with lines."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kspec.loading.yamlio import YamlError, load_documents
from support.profiles import examples


def values(text):
    return [d.value for d in load_documents(text)]


def test_yaml11_scalars_as_go_yaml_v2_types_them():
    (doc,) = values("a: yes\nb: 'yes'\nc: on\nd: 0777\ne: 0x1F\nf: 1e3\ng: 1.5\nh: ~\ni: 2001-12-14\nj: 1_000\n")
    assert doc == {"a": True, "b": "yes", "c": True, "d": 511, "e": 31, "f": "1e3", "g": 1.5, "h": None,
                   "i": "2001-12-14", "j": 1000}


def test_keys_become_strings_as_in_the_json_conversion():
    (doc,) = values("80: http\ntrue: x\n")
    assert doc == {"80": "http", "true": "x"}


def test_merge_keys():
    (doc,) = values("base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n")
    assert doc["derived"] == {"a": 1, "b": 3}


def test_duplicate_key_is_an_error_with_its_line():
    with pytest.raises(YamlError) as err:
        values("a: 1\nb: 2\na: 3\n")
    assert err.value.line == 3 and 'mapping key "a" already defined' in err.value.message


def test_documents_lines_and_field_lines():
    docs = list(load_documents("# comment\n---\na: 1\n---\n\nkind: Pod\nspec:\n  containers:\n  - name: c\n    image: x\n"))
    assert [d.line for d in docs] == [3, 6]
    assert docs[1].line_of(("spec", "containers", 0, "image")) == 10
    assert docs[1].line_of(("spec", "containers", 0, "missing", "deeper")) == 9


def test_empty_documents_are_skipped():
    assert values("---\n---\na: 1\n---\n") == [{"a": 1}]


def test_python_tags_are_refused():
    with pytest.raises(YamlError):
        values("a: !!python/object/apply:os.system ['true']\n")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4),
    max_leaves=20,
)


@examples(150)
@given(st.dictionaries(st.text(min_size=1, max_size=8), json_values, min_size=1, max_size=5))
def test_agrees_with_pyyaml_safe_load_on_what_safe_dump_writes(data):
    text = yaml.safe_dump(data)
    assert values(text) == [yaml.safe_load(text)]
