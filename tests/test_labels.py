"""Tests for kspec.api.labels.

Case tables come from upstream k8s.io/apimachinery tests; each case id names
the upstream test (``pkg/labels/selector_test.go``,
``pkg/util/validation/validation_test.go``, ``pkg/apis/meta/v1/helpers_test.go``).
"""

from __future__ import annotations

import itertools
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.errors import LabelError, SelectorError
from kspec.api.labels import (
    Operator,
    Requirement,
    Selector,
    Token,
    could_overlap,
    label_value_errors,
    new_requirement,
    parse_selector,
    qualified_name_errors,
    selector_from_dict,
    selector_from_map,
    tokenize,
    validate_label_key,
    validate_label_value,
    validate_labels,
    validate_qualified_name,
    witness,
)
from support.profiles import examples

IN, NOT_IN, EQ, DEQ, NE = Operator.IN, Operator.NOT_IN, Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS
EXISTS, DNE, GT, LT = Operator.EXISTS, Operator.DOES_NOT_EXIST, Operator.GREATER_THAN, Operator.LESS_THAN


def req(key, op, *values):
    return new_requirement(key, op, values)


def sel(*reqs):
    return Selector(reqs)


# --- selector_test.go: TestSelectorParse ------------------------------------

GOOD = ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"]
BAD = ["x=a||y=b", "x==a==b", "!x=a", "x<a"]


@pytest.mark.parametrize("text", GOOD, ids=[f"TestSelectorParse-good-{t!r}" for t in GOOD])
def test_selector_parse_good(text):
    assert str(parse_selector(text)) == text.replace(" ", "")


@pytest.mark.parametrize("text", BAD, ids=[f"TestSelectorParse-bad-{t!r}" for t in BAD])
def test_selector_parse_bad(text):
    with pytest.raises(SelectorError):
        parse_selector(text)


def test_deterministic_parse():
    # TestDeterministicParse
    assert str(parse_selector("x=a,a=x")) == str(parse_selector("a=x,x=a")) == "a=x,x=a"
    assert parse_selector("x=a,a=x") == parse_selector("a=x,x=a")


def test_everything():
    # TestEverything, TestSetIsEmpty, TestNilMapIsValid
    assert Selector.everything().matches({"x": "y"})
    assert Selector.everything().empty
    assert parse_selector("") == Selector.everything()
    assert selector_from_map({}).empty and selector_from_map(None).empty
    assert not Selector.nothing().empty
    assert not Selector.nothing().matches({})
    assert str(Selector.nothing()) == ""


# --- selector_test.go: TestSelectorMatches / TestSetMatches -----------------

MATCH = [
    ("", {"x": "y"}),
    ("x=y", {"x": "y"}),
    ("x=y,z=w", {"x": "y", "z": "w"}),
    ("x!=y,z!=w", {"x": "z", "z": "a"}),
    ("notin=in", {"notin": "in"}),
    ("x", {"x": "z"}),
    ("!x", {"y": "z"}),
    ("x>1", {"x": "2"}),
    ("x<1", {"x": "0"}),
    ("foo=bar", {"foo": "bar", "baz": "blah"}),
    ("baz=blah", {"foo": "bar", "baz": "blah"}),
    ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}),
]
NO_MATCH = [
    ("x=z", {}),
    ("x=y", {"x": "z"}),
    ("x=y,z=w", {"x": "w", "z": "w"}),
    ("x!=y,z!=w", {"x": "z", "z": "w"}),
    ("x", {"y": "z"}),
    ("!x", {"x": "z"}),
    ("x>1", {"x": "0"}),
    ("x<1", {"x": "2"}),
    ("foo=blah", {"foo": "bar", "baz": "blah"}),
    ("baz=bar", {"foo": "bar", "baz": "blah"}),
    ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}),
]


@pytest.mark.parametrize("text,labels", MATCH, ids=[f"TestSelectorMatches-match-{t!r}" for t, _ in MATCH])
def test_selector_matches(text, labels):
    assert parse_selector(text).matches(labels)


@pytest.mark.parametrize("text,labels", NO_MATCH, ids=[f"TestSelectorMatches-nomatch-{t!r}" for t, _ in NO_MATCH])
def test_selector_no_match(text, labels):
    assert not parse_selector(text).matches(labels)


@pytest.mark.parametrize(
    "selector",
    [{}, {"foo": "bar"}, {"baz": "blah"}, {"foo": "bar", "baz": "blah"}],
    ids=lambda s: f"TestSetMatches-{s}",
)
def test_set_matches(selector):
    assert selector_from_map(selector).matches({"foo": "bar", "baz": "blah"})


def test_set_no_match():
    # TestSetMatches (the negative side) and SelectorFromSet's canonical string
    s = selector_from_map({"foo": "bar", "baz": "x"})
    assert not s.matches({"foo": "bar", "baz": "blah"})
    assert str(s) == "baz=x,foo=bar"


# --- selector_test.go: TestLexer / TestLexerSequence / TestParserLookahead ----

LEXER = [
    ("", Token.END_OF_STRING),
    (",", Token.COMMA),
    ("notin", Token.NOT_IN),
    ("in", Token.IN),
    ("=", Token.EQUALS),
    ("==", Token.DOUBLE_EQUALS),
    (">", Token.GREATER_THAN),
    ("<", Token.LESS_THAN),
    ("!", Token.DOES_NOT_EXIST),
    ("!=", Token.NOT_EQUALS),
    ("(", Token.OPEN_PAR),
    (")", Token.CLOSED_PAR),
    ("~", Token.IDENTIFIER),
    ("||", Token.IDENTIFIER),
]


@pytest.mark.parametrize("text,token", LEXER, ids=[f"TestLexer-{t!r}" for t, _ in LEXER])
def test_lexer(text, token):
    tok, lit, pos = tokenize(text)[0]
    assert (tok, lit, pos) == (token, text, 0)


I, C, OP, CP = Token.IDENTIFIER, Token.COMMA, Token.OPEN_PAR, Token.CLOSED_PAR
SEQUENCES = [
    ("key in ( value )", [I, Token.IN, OP, I, CP]),
    ("key notin ( value )", [I, Token.NOT_IN, OP, I, CP]),
    ("key in ( value1, value2 )", [I, Token.IN, OP, I, C, I, CP]),
    ("key", [I]),
    ("!key", [Token.DOES_NOT_EXIST, I]),
    ("()", [OP, CP]),
    ("", []),
    ("x in (),y", [I, Token.IN, OP, CP, C, I]),
    ("== != (), = notin", [Token.DOUBLE_EQUALS, Token.NOT_EQUALS, OP, CP, C, Token.EQUALS, Token.NOT_IN]),
    ("key>2", [I, Token.GREATER_THAN, I]),
    ("key<1", [I, Token.LESS_THAN, I]),
]


@pytest.mark.parametrize(
    "text,tokens", SEQUENCES, ids=[f"TestLexerSequence+TestParserLookahead-{t!r}" for t, _ in SEQUENCES]
)
def test_lexer_sequence(text, tokens):
    items = tokenize(text)
    assert [t for t, _, _ in items] == tokens + [Token.END_OF_STRING]
    # literals are the source text at the recorded positions
    for tok, lit, pos in items:
        assert text[pos : pos + len(lit)] == lit


def test_lexer_positions():
    assert [(lit, pos) for _, lit, pos in tokenize(" a  in\t(b,c)")] == [
        ("a", 1), ("in", 4), ("(", 7), ("b", 8), (",", 9), ("c", 10), (")", 11), ("", 12),
    ]


# --- selector_test.go: TestRequirementConstructor -----------------------------

CONSTRUCTOR = [
    ("x", IN, [], False),
    ("x", NOT_IN, [], False),
    ("x", IN, ["foo"], True),
    ("x", NOT_IN, ["foo"], True),
    ("x", EXISTS, [], True),
    ("x", DNE, [], True),
    ("1foo", IN, ["bar"], True),
    ("1234", IN, ["bar"], True),
    ("y", GT, ["1"], True),
    ("z", LT, ["6"], True),
    ("foo", GT, ["bar"], False),
    ("barz", LT, ["blah"], False),
    ("a" * 254, EXISTS, [], False),
    # the remaining NewRequirement rules
    ("x", EQ, ["a", "b"], False),
    ("x", EXISTS, ["a"], False),
    ("x", GT, ["1", "2"], False),
    ("x", GT, ["9223372036854775808"], False),
    ("x", "foo", ["a"], False),
    ("x", IN, ["bad value"], False),
]


@pytest.mark.parametrize(
    "key,op,values,ok", CONSTRUCTOR, ids=[f"TestRequirementConstructor-{k[:10]}-{o}-{v}" for k, o, v, _ in CONSTRUCTOR]
)
def test_requirement_constructor(key, op, values, ok):
    if ok:
        assert new_requirement(key, op, values).key == key
    else:
        with pytest.raises(SelectorError):
            new_requirement(key, op, values)


def test_requirement_constructor_messages():
    with pytest.raises(SelectorError, match=r"^values: Invalid value: \[\]string\{\}: for 'in', 'notin' operators"):
        new_requirement("x", IN, [])
    with pytest.raises(SelectorError, match=r"^operator: Unsupported value: \"foo\": supported values: \"in\""):
        new_requirement("x", "foo", ["a"])
    with pytest.raises(SelectorError, match=r"^\[key: Invalid value: \"-x\": .*, values\[0\]: Invalid value"):
        new_requirement("-x", IN, ["bad value"])


# --- selector_test.go: TestToString ----------------------------------------

TO_STRING = [
    (sel(req("x", IN, "abc", "def"), req("y", NOT_IN, "jkl"), req("z", EXISTS)), "x in (abc,def),y notin (jkl),z"),
    (sel(req("x", NOT_IN, "abc", "def"), req("y", NE, "jkl"), req("z", DNE)), "x notin (abc,def),y!=jkl,!z"),
    (sel(req("x", NOT_IN, "abc"), req("y", IN, "jkl", "mno"), req("z", NOT_IN, "")), "x notin (abc),y in (jkl,mno),z notin ()"),
    (sel(req("x", EQ, "abc"), req("y", DEQ, "jkl"), req("z", NE, "a"), req("z", EXISTS)), "x=abc,y==jkl,z!=a,z"),
    (sel(req("x", GT, "2"), req("y", LT, "8"), req("z", EXISTS)), "x>2,y<8,z"),
]


@pytest.mark.parametrize("selector,text", TO_STRING, ids=[f"TestToString-{t!r}" for _, t in TO_STRING])
def test_to_string(selector, text):
    assert str(selector) == text
    assert parse_selector(text) == selector


def test_safe_sort_values():
    # TestSafeSort: values print sorted, duplicates kept
    assert str(Requirement("x", IN, ["foo", "bar", "foo", "bar"])) == "x in (bar,bar,foo,foo)"


# --- selector_test.go: TestRequirementSelectorMatching ------------------------

REQ_MATCHING = [
    ({"x": "foo", "y": "baz"}, sel(req("x", IN, "foo"), req("y", NOT_IN, "alpha")), True),
    ({"x": "foo", "y": "baz"}, sel(req("x", IN, "foo"), req("y", IN, "alpha")), False),
    ({"y": ""}, sel(req("x", NOT_IN, ""), req("y", EXISTS)), True),
    ({"y": ""}, sel(req("x", DNE), req("y", EXISTS)), True),
    ({"y": ""}, sel(req("x", NOT_IN, ""), req("y", DNE)), False),
    ({"y": "baz"}, sel(req("x", IN, "")), False),
    ({"z": "2"}, sel(req("z", GT, "1")), True),
    ({"z": "v2"}, sel(req("z", GT, "1")), False),
]


@pytest.mark.parametrize(
    "labels,selector,expected", REQ_MATCHING, ids=[f"TestRequirementSelectorMatching-{i}" for i in range(len(REQ_MATCHING))]
)
def test_requirement_selector_matching(labels, selector, expected):
    assert selector.matches(labels) is expected
    assert all(r.matches(labels) for r in selector.requirements) is expected


# --- selector_test.go: TestSetSelectorParser ---------------------------------

SET_PARSER = [
    ("", Selector(), True, True),
    ("\rx", sel(req("x", EXISTS)), True, True),
    ("this-is-a-dns.domain.com/key-with-dash", sel(req("this-is-a-dns.domain.com/key-with-dash", EXISTS)), True, True),
    (
        "this-is-another-dns.domain.com/key-with-dash in (so,what)",
        sel(req("this-is-another-dns.domain.com/key-with-dash", IN, "so", "what")),
        True,
        True,
    ),
    ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", sel(req("0.1.2.domain/99", NOT_IN, "10.10.100.1", "tick.tack.clock")), True, True),
    ("foo  in\t (abc)", sel(req("foo", IN, "abc")), True, True),
    ("x notin\n (abc)", sel(req("x", NOT_IN, "abc")), True, True),
    ("x  notin\t\t\t(abc,def)", sel(req("x", NOT_IN, "abc", "def")), True, True),
    ("x in (abc,def)", sel(req("x", IN, "abc", "def")), True, True),
    ("x in (abc,)", sel(req("x", IN, "abc", "")), True, True),
    ("x in ()", sel(req("x", IN, "")), True, True),
    (
        "x notin (abc,,def),bar,z in (),w",
        sel(req("bar", EXISTS), req("w", EXISTS), req("x", NOT_IN, "abc", "", "def"), req("z", IN, "")),
        True,
        True,
    ),
    ("x,y in (a)", sel(req("y", IN, "a"), req("x", EXISTS)), True, True),
    ("x=a", sel(req("x", EQ, "a")), True, True),
    ("x>1", sel(req("x", GT, "1")), True, True),
    ("x<7", sel(req("x", LT, "7")), True, True),
    ("x=a,y!=b", sel(req("x", EQ, "a"), req("y", NE, "b")), True, True),
    ("x=a,y!=b,z in (h,i,j)", sel(req("x", EQ, "a"), req("y", NE, "b"), req("z", IN, "h", "i", "j")), True, True),
    ("x=a||y=b", None, False, False),
    ("x,,y", None, True, False),
    (",x,y", None, True, False),
    ("x nott in (y)", None, True, False),
    ("x notin ( )", sel(req("x", NOT_IN, "")), True, True),
    ("x notin (, a)", sel(req("x", NOT_IN, "", "a")), True, True),
    ("a in (xyz),", None, True, False),
    ("a in (xyz)b notin ()", None, True, False),
    ("a ", sel(req("a", EXISTS)), True, True),
    ("a in (x,y,notin, z,in)", sel(req("a", IN, "in", "notin", "x", "y", "z")), True, True),
    ("a in (xyz abc)", None, False, False),
    ("a notin(", None, True, False),
    ("a (", None, False, False),
    ("(", None, False, False),
]


@pytest.mark.parametrize(
    "text,expected,match,valid", SET_PARSER, ids=[f"TestSetSelectorParser-{t!r}" for t, *_ in SET_PARSER]
)
def test_set_selector_parser(text, expected, match, valid):
    if not valid:
        with pytest.raises(SelectorError):
            parse_selector(text)
        return
    got = parse_selector(text)
    if match:
        assert got == expected


def test_empty_values_parse_as_upstream():
    # TestSetSelectorParser: ",," and "()" stand for the empty value
    s = parse_selector("x notin (abc,,def),bar,z in (),w")
    assert str(s) == "bar,w,x notin (,abc,def),z in ()"
    assert s.matches({"bar": "1", "w": "2", "z": ""})
    assert not s.matches({"bar": "1", "w": "2", "z": "q"})


PARSE_ERRORS = [
    ("x,,y", "found ',', expected: identifier after ',' at position 2"),
    (",x", "found ',', expected: !, identifier, or 'end of string' at position 0"),
    ("x==a==b", "found '==', expected: ',' or 'end of string' at position 4"),
    ("!x=a", "found '=', expected: ',' or 'end of string' at position 2"),
    ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt at position 2"),
    ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')' at position 10"),
    ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier at position 8"),
    ("a in x", "unable to parse requirement: found 'x' expected: '(' at position 5"),
    ("a in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier at position 8"),
    ("a=!", "unable to parse requirement: found '!', expected: identifier at position 2"),
    ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer at position 0"),
    ("y,-x=1", "unable to parse requirement: Invalid value: \"-x\": name part must consist of alphanumeric"),
]


@pytest.mark.parametrize("text,message", PARSE_ERRORS, ids=[f"parse-error-{t!r}" for t, _ in PARSE_ERRORS])
def test_parse_error_messages(text, message):
    with pytest.raises(SelectorError) as info:
        parse_selector(text)
    assert str(info.value).startswith(message)
    assert info.value.text == text
    assert 0 <= info.value.position <= len(text)


def test_parse_validates_values_and_keys():
    with pytest.raises(SelectorError, match="must be no more than 63 bytes"):
        parse_selector("x=" + "a" * 64)
    with pytest.raises(SelectorError, match="a valid label must be an empty string"):
        parse_selector("x in (a,b.)")
    with pytest.raises(SelectorError, match="prefix part a lowercase RFC 1123 subdomain"):
        parse_selector("Example.com/x")
    with pytest.raises(SelectorError, match="must be a string"):
        parse_selector(None)


# --- Gt/Lt: strconv.ParseInt semantics ---------------------------------------


@pytest.mark.parametrize(
    "text,labels,expected",
    [
        ("x>1", {"x": "02"}, True),  # leading zeros parse
        ("x>1", {"x": "+2"}, True),  # ParseInt accepts a sign
        ("x<1", {"x": "-5"}, True),
        ("x>1", {"x": "1_0"}, False),  # no underscores in base 10
        ("x>1", {"x": " 2"}, False),
        ("x>1", {"x": "9223372036854775808"}, False),  # overflows int64
        ("x<0", {"x": "-9223372036854775808"}, True),
        ("x>1", {}, False),
        ("x>1", {"x": "\u0663"}, False),  # Arabic-Indic digit: not ASCII
    ],
)
def test_gt_lt_parse_int(text, labels, expected):
    assert parse_selector(text).matches(labels) is expected


# --- validation_test.go: TestIsQualifiedName / TestIsValidLabelValue ---------

QUALIFIED_OK = [
    "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple", "now-with-dashes/simple",
    "now-with-dashes/now-with-dashes", "now.with.dots/simple", "now-with.dashes-and.dots/simple",
    "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678", "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123",
    "requests.storage-foo", "a" * 63, "a" * 253 + "/" + "b" * 63,
]
QUALIFIED_BAD = [
    "nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash", "Example.com/abc",
    "example_com/abc", "example.com/", "/simple", "a" * 64, "a" * 254 + "/abc",
    "trailing-newline\n",  # Go's $ does not match before a final newline
]


@pytest.mark.parametrize("name", QUALIFIED_OK, ids=[f"TestIsQualifiedName-ok-{n[:20]}" for n in QUALIFIED_OK])
def test_is_qualified_name_ok(name):
    assert qualified_name_errors(name) == []
    validate_label_key(name)
    validate_qualified_name(name)


@pytest.mark.parametrize("name", QUALIFIED_BAD, ids=[f"TestIsQualifiedName-bad-{n[:20]!r}" for n in QUALIFIED_BAD])
def test_is_qualified_name_bad(name):
    assert qualified_name_errors(name)
    with pytest.raises(LabelError):
        validate_label_key(name)


VALUE_OK = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63, ""]
VALUE_BAD = [
    "nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad", "-starts-with-dash",
    "ends-with-dash-", ".starts.with.dot", "ends.with.dot.", "a" * 64, "x\n",
]


@pytest.mark.parametrize("value", VALUE_OK, ids=[f"TestIsValidLabelValue-ok-{v[:20]!r}" for v in VALUE_OK])
def test_is_valid_label_value_ok(value):
    assert label_value_errors(value) == []
    validate_label_value(value)


@pytest.mark.parametrize("value", VALUE_BAD, ids=[f"TestIsValidLabelValue-bad-{v[:20]!r}" for v in VALUE_BAD])
def test_is_valid_label_value_bad(value):
    assert label_value_errors(value)
    with pytest.raises(LabelError):
        validate_label_value(value)


def test_validation_messages():
    with pytest.raises(LabelError) as info:
        validate_label_key("my key")
    assert str(info.value) == (
        'invalid label key "my key": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', '
        "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
        "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    )
    assert qualified_name_errors("/x") == ["prefix part must be non-empty"]
    assert qualified_name_errors("a" * 64) == ["name part must be no more than 63 bytes"]
    assert label_value_errors("a" * 64) == ["must be no more than 63 bytes"]
    assert qualified_name_errors("x/")[:1] == ["name part must be non-empty"]
    with pytest.raises(LabelError, match='invalid label value "v!" for key "app"'):
        validate_labels({"app": "v!"})
    with pytest.raises(LabelError, match='invalid annotation key "a/b/c"'):
        validate_qualified_name("a/b/c", "annotation key")
    with pytest.raises(LabelError, match="must be a string, got float"):
        validate_labels({"version": 1.0})
    validate_labels({"app": "web", "example.com/tier": ""})


# --- helpers_test.go: TestLabelSelectorAsSelector ----------------------------

MATCH_LABELS = {"foo": "bar"}
MATCH_EXPRESSIONS = [{"key": "baz", "operator": "In", "values": ["qux", "norf"]}]

AS_SELECTOR = [
    (None, Selector.nothing(), False),
    ({}, Selector.everything(), False),
    ({"matchLabels": MATCH_LABELS}, parse_selector("foo=bar"), False),
    ({"matchExpressions": MATCH_EXPRESSIONS}, parse_selector("baz in (norf,qux)"), False),
    ({"matchLabels": MATCH_LABELS, "matchExpressions": MATCH_EXPRESSIONS}, parse_selector("baz in (norf,qux),foo=bar"), False),
    ({"matchExpressions": [{"key": "baz", "operator": "Exists", "values": ["qux", "norf"]}]}, None, True),
]


@pytest.mark.parametrize(
    "selector,expected,error", AS_SELECTOR, ids=[f"TestLabelSelectorAsSelector-{i}" for i in range(len(AS_SELECTOR))]
)
def test_label_selector_as_selector(selector, expected, error):
    if error:
        with pytest.raises(SelectorError):
            selector_from_dict(selector)
    else:
        got = selector_from_dict(selector)
        assert got == expected
        assert str(got) == str(expected)


SELECTOR_DICT_ERRORS = [
    ({"matchExpressions": [{"key": "a", "operator": "Foo"}]}, 'matchExpressions[0].operator: "Foo" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "matchExpressions[0].values: Invalid value: []string{}: for 'in', 'notin'"),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "matchExpressions[0].values: Invalid value"),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn"}]}, "matchExpressions[0].values"),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]}, "values set must be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok"]}, {"key": "b!", "operator": "Exists"}]}, 'matchExpressions[1].key: Invalid value: "b!"'),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x y"]}]}, 'matchExpressions[0].values[0]: Invalid value: "x y"'),
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}, '"Gt" is not a valid label selector operator'),
    ({"matchLabels": {"a/b/c": "x"}}, 'matchLabels: Invalid value: "a/b/c": a valid label key'),
    ({"matchLabels": {"app": "x y"}}, 'matchLabels[app]: Invalid value: "x y"'),
    ({"matchLabels": {"app": 3}}, "matchLabels[app]: must be a string, got int"),
    ({"matchLabel": {"app": "x"}}, 'unknown field "matchLabel"'),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "value": ["x"]}]}, 'matchExpressions[0]: unknown field "value"'),
    ({"matchExpressions": {"key": "a"}}, "matchExpressions: must be a list"),
    (["app"], "a label selector must be a mapping, got list"),
]


@pytest.mark.parametrize("selector,message", SELECTOR_DICT_ERRORS, ids=[f"dict-error-{i}" for i in range(len(SELECTOR_DICT_ERRORS))])
def test_selector_from_dict_errors(selector, message):
    with pytest.raises(SelectorError) as info:
        selector_from_dict(selector)
    assert message in str(info.value)


def test_selector_from_dict_empty_parts_select_everything():
    # len(MatchLabels)+len(MatchExpressions) == 0 is Everything, null parts included
    for d in ({"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": None, "matchExpressions": None}):
        assert selector_from_dict(d) == Selector.everything()


def test_selector_from_map():
    assert selector_from_map({"app": "web", "tier": "fe"}) == parse_selector("tier=fe,app=web")
    with pytest.raises(SelectorError, match='selector: Invalid value: "bad key"'):
        selector_from_map({"bad key": "x"})
    # SelectorFromValidatedSet: no validation, such a selector still matches literally
    assert selector_from_map({"bad key": "x"}, validate=False).matches({"bad key": "x"})


def test_to_dict():
    assert Selector.nothing().to_dict() is None
    assert Selector.everything().to_dict() == {}
    s = parse_selector("app=web,tier in (fe,be),!canary,x!=y,track,a==b,a=c")
    assert s.to_dict() == {
        "matchLabels": {"app": "web", "a": "b"},
        "matchExpressions": [
            {"key": "a", "operator": "In", "values": ["c"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "tier", "operator": "In", "values": ["be", "fe"]},
            {"key": "track", "operator": "Exists"},
            {"key": "x", "operator": "NotIn", "values": ["y"]},
        ],
    }
    with pytest.raises(SelectorError, match="\"gt\" isn't supported in label selectors"):
        parse_selector("x>1").to_dict()


def test_selector_record_behaviour():
    s = parse_selector("b in (y,x),a")
    assert s == Selector((req("a", EXISTS), req("b", IN, "x", "y")))
    assert hash(s) == hash(parse_selector("a,b in (x,y)"))
    assert pickle.loads(pickle.dumps(s)) == s
    assert pickle.loads(pickle.dumps(s)).matches({"a": "", "b": "x"})
    assert s.add(req("c", DNE)) == parse_selector("a,b in (x,y),!c")
    assert Selector.nothing().add(req("c", DNE)) == Selector.nothing()
    assert Selector((req("c", DNE),), selectable=False) == Selector.nothing()
    assert s.requires_exact_match("a") is None
    assert parse_selector("x=a,y in (b,c)").requires_exact_match("x") == "a"
    assert parse_selector("x in (a)").requires_exact_match("x") == "a"
    assert parse_selector("x=a").requires_exact_match("y") is None
    assert s.requirements[1].values == ("x", "y")


# --- could_overlap / witness / is_satisfiable --------------------------------

OVERLAP = [
    ("app=web", "app=web,tier=fe", True),
    ("app=web", "app=db", False),
    ("app in (a,b)", "app in (b,c)", True),
    ("app in (a,b)", "app notin (a,b)", False),
    ("app", "!app", False),
    ("app!=x", "!app", True),
    ("app notin (x)", "", True),
    ("x>5", "x<7", True),
    ("x>5", "x<6", False),
    ("x>5,x<7", "x notin (6)", True),  # "06" parses as 6 but is not "6"
    ("x>5,x<7", "x notin (6,06,006)", True),
    ("x>5", "x in (7,abc)", True),
    ("x>5", "x in (5,abc)", False),
    ("x>9223372036854775806", "", True),
    ("x>9223372036854775807", "", False),  # no int64 above the maximum
    ("x<0", "", False),  # valid label values carry no sign
    ("x<1", "x", True),
    ("x>1", "!x", False),
    ("x in ()", "x", True),  # x=""
    ("x in ()", "x notin ()", False),
]


@pytest.mark.parametrize("a,b,expected", OVERLAP, ids=[f"{a!r}&{b!r}" for a, b, _ in OVERLAP])
def test_could_overlap(a, b, expected):
    sa, sb = parse_selector(a), parse_selector(b)
    assert could_overlap(sa, sb) is expected
    assert could_overlap(sb, sa) is expected
    w = witness(sa, sb)
    assert (w is not None) is expected
    if w is not None:
        validate_labels(w)
        assert sa.matches(w) and sb.matches(w)


def test_overlap_with_special_selectors():
    web = parse_selector("app=web")
    assert could_overlap(Selector.everything(), web)
    assert not could_overlap(Selector.nothing(), web)
    assert not could_overlap(Selector.nothing(), Selector.everything())
    assert witness(Selector.everything(), Selector.everything()) == {}


def test_witness_for_reports():
    rc = selector_from_map({"app": "web"})
    rs = selector_from_dict({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]})
    assert witness(rc, rs) == {"app": "web", "tier": "be"}


def test_is_satisfiable():
    assert not parse_selector("a in (x),a notin (x)").is_satisfiable()
    assert not parse_selector("a=x,a=y").is_satisfiable()
    assert not parse_selector("a,!a").is_satisfiable()
    assert not Selector.nothing().is_satisfiable()
    assert parse_selector("a notin (x),a").is_satisfiable()
    assert Selector.everything().is_satisfiable()
    # a requirement on a key no valid label set can carry
    assert not selector_from_map({"bad key": "x"}, validate=False).is_satisfiable()
    assert selector_from_map({"bad key": "x"}, validate=False).matches({"bad key": "x"})


# --- Hypothesis properties --------------------------------------------------

KEYS = ["a", "example.com/b", "in"]
VALUES = ["", "a", "b", "in", "0", "1", "2", "02", "notin"]
BOUNDS = ["0", "1", "2", "5", "9223372036854775807"]


@st.composite
def requirements(draw, operators=tuple(Operator)):
    key = draw(st.sampled_from(KEYS))
    op = draw(st.sampled_from(operators))
    if op in (IN, NOT_IN):
        values = draw(st.sets(st.sampled_from(VALUES), min_size=1, max_size=3))
    elif op in (EQ, DEQ, NE):
        values = [draw(st.sampled_from(VALUES))]
    elif op in (GT, LT):
        values = [draw(st.sampled_from(BOUNDS))]
    else:
        values = []
    return new_requirement(key, op, values)


def selectors(operators=tuple(Operator)):
    return st.lists(requirements(operators), max_size=3).map(Selector)


label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES + ["7", "x", "005"]), max_size=3)


@examples(300)
@given(selectors(), st.lists(label_sets, min_size=1, max_size=8))
def test_property_string_round_trip(s, labelsets):
    parsed = parse_selector(str(s))
    assert str(parsed) == str(s)
    for labels in labelsets:
        assert parsed.matches(labels) == s.matches(labels)
        assert s.matches(labels) == all(r.matches(labels) for r in s.requirements)


def _candidates(key, reqs):
    """Values worth trying for ``key``: its constants, a fresh value and integers
    (plain and zero-padded) around its Gt/Lt bounds."""
    values = {"fresh"}
    for r in reqs:
        if r.key != key:
            continue
        values.update(r.values)
        if r.operator in (GT, LT):
            n = int(r.values[0])
            for m in (n - 1, n, n + 1):
                if m >= 0:
                    values.update({str(m), "0" + str(m), "00" + str(m)})
    return [None] + sorted(values)


def brute_force_common_match(a, b):
    reqs = a.requirements + b.requirements
    keys = sorted({r.key for r in reqs})
    options = [_candidates(k, reqs) for k in keys]
    for combo in itertools.product(*options):
        labels = {k: v for k, v in zip(keys, combo) if v is not None}
        if not label_value_errors_any(labels) and a.matches(labels) and b.matches(labels):
            return labels
    return None


def label_value_errors_any(labels):
    return any(label_value_errors(v) or qualified_name_errors(k) for k, v in labels.items())


special_selectors = st.sampled_from([Selector.everything(), Selector.nothing()])


@examples(400)
@given(st.one_of(selectors(), special_selectors), st.one_of(selectors(), special_selectors))
def test_property_could_overlap_is_exact(a, b):
    found = brute_force_common_match(a, b)
    assert could_overlap(a, b) == (found is not None)
    w = witness(a, b)
    assert (w is None) == (found is None)
    if w is not None:
        validate_labels(w)
        assert a.matches(w) and b.matches(w)
    assert a.is_satisfiable() == (witness(a) is not None)


def evaluate_label_selector(d, labels):
    """metav1.LabelSelector semantics, written out directly."""
    if d is None:
        return False
    for k, v in (d.get("matchLabels") or {}).items():
        if k not in labels or labels[k] != v:
            return False
    for e in d.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[op]
        if not ok:
            return False
    return True


@st.composite
def label_selector_dicts(draw):
    if draw(st.integers(0, 9)) == 0:
        return None
    d = {}
    if draw(st.booleans()):
        d["matchLabels"] = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2))
    if draw(st.booleans()):
        exprs = []
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
            e = {"key": draw(st.sampled_from(KEYS)), "operator": op}
            if op in ("In", "NotIn"):
                e["values"] = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=3))
            exprs.append(e)
        d["matchExpressions"] = exprs
    return d


@examples(300)
@given(label_selector_dicts(), st.lists(label_sets, min_size=1, max_size=8))
def test_property_selector_from_dict_semantics(d, labelsets):
    s = selector_from_dict(d)
    back = s.to_dict()
    for labels in labelsets:
        assert s.matches(labels) == evaluate_label_selector(d, labels)
        assert s.matches(labels) == evaluate_label_selector(back, labels)


@examples(200)
@given(selectors(operators=(IN, NOT_IN, EQ, DEQ, NE, EXISTS, DNE)), st.lists(label_sets, min_size=1, max_size=8))
def test_property_to_dict_round_trip(s, labelsets):
    back = selector_from_dict(s.to_dict())
    for labels in labelsets:
        assert back.matches(labels) == s.matches(labels)


INT_VALUES = ["0", "1", "2", "3", "01", "02", "003"]


@st.composite
def integer_requirements(draw):
    """Requirements piling up on one key, where Gt/Lt intervals, leading zeros
    and exclusions interact (e.g. ``n>1,n<3,n notin (2)`` needs ``n=02``)."""
    op = draw(st.sampled_from([GT, LT, NOT_IN, NE, IN, EQ, EXISTS]))
    if op in (GT, LT):
        values = [draw(st.sampled_from(["0", "1", "2", "3", "4"]))]
    elif op in (IN, NOT_IN):
        values = draw(st.sets(st.sampled_from(INT_VALUES), min_size=1, max_size=3))
    elif op == EXISTS:
        values = []
    else:
        values = [draw(st.sampled_from(INT_VALUES))]
    return new_requirement("n", op, values)


@examples(300)
@given(st.lists(integer_requirements(), min_size=1, max_size=4).map(Selector), st.lists(integer_requirements(), max_size=3).map(Selector))
def test_property_could_overlap_on_integers(a, b):
    found = brute_force_common_match(a, b)
    assert could_overlap(a, b) == (found is not None)
    w = witness(a, b)
    if w is not None:
        validate_labels(w)
        assert a.matches(w) and b.matches(w)


def test_module_doctest():
    import doctest

    import kspec.api.labels

    result = doctest.testmod(kspec.api.labels)
    assert result.attempted > 0 and result.failed == 0
