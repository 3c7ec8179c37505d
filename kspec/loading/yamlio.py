"""Reading YAML the way the API server's client side does, with line numbers.

Kubernetes reads manifests with sigs.k8s.io/yaml (go-yaml v2, YAML 1.1
scalars: ``yes``/``on`` are booleans, ``0777`` is octal) and converts them to
JSON: mapping keys become strings, timestamps stay strings, a key repeated in
one mapping is an error ("mapping key already defined"). PyYAML's safe
resolver is YAML 1.1 too, so we compose nodes with libyaml and convert them
ourselves, which lets us keep each document's node tree to answer "which line
is ``spec.template.spec.containers[0].image`` on?" when something is wrong.

Only safe loading: no Python tags. Aliases are expanded with a budget (a
"billion laughs" document is rejected quickly), and flow nesting is bounded
before libyaml sees the text (libyaml recurses without a limit).
"""

from __future__ import annotations

import base64
import re
from typing import Any, Iterator

import attrs
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kspec.errors import KspecError

try:
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = None


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.1 implicit typing (PyYAML's own table) without path resolvers.

    Kubernetes' go-yaml v2 types plain scalars the same way (``yes`` is a
    boolean, ``0777`` octal); quoted scalars are strings.
    """

    _table = {
        first: tuple(resolvers) + tuple(yaml.resolver.Resolver.yaml_implicit_resolvers.get(None, []))
        for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in self._table.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return "tag:yaml.org,2002:str"
        if kind is SequenceNode:
            return "tag:yaml.org,2002:seq"
        return "tag:yaml.org,2002:map"

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass


if _Parser is not None:
    class _Loader(_Parser, _Resolver):
        def __init__(self, stream):
            _Parser.__init__(self, stream)
            _Resolver.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                  yaml.composer.Composer, _Resolver):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)

MAX_FLOW_DEPTH = 1000
MAX_ALIAS_EXPANSION = 100_000

_TAG = "tag:yaml.org,2002:"
_BOOL_TRUE = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "y", "Y"}


class YamlError(KspecError):
    """A document that is not valid YAML, or that kspec refuses to expand."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@attrs.frozen
class Document:
    """One YAML document: its value, first line, and its node tree for line look-ups."""

    value: Any
    line: int
    node: Any = attrs.field(eq=False, repr=False)
    index: int = 0

    def line_of(self, path: tuple) -> int:
        """The line of the deepest existing node along ``path`` (keys and indexes)."""
        return node_line(self.node, path)


def node_line(node, path: tuple) -> int:
    """The line of the deepest node along ``path``; for a mapping entry, its key's line."""
    anchor, _ = _walk(node, path)
    return anchor.start_mark.line + 1


def node_at(node, path: tuple):
    """The deepest node along ``path`` (keys and indexes)."""
    return _walk(node, path)[1]


def _walk(node, path: tuple):
    anchor = node
    for part in path:
        found = _child(node, part)
        if found is None:
            break
        anchor, node = found
    return anchor, node


def _child(node, part):
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return key, value
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None


def check_flow_depth(text: str) -> None:
    """Reject flow nesting deeper than MAX_FLOW_DEPTH before libyaml recurses on it."""
    if "[" not in text and "{" not in text:
        return
    depth = 0
    for char in re.findall(r"[\[\]{}\n]", text):
        if char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                line = _line_at_depth(text)
                raise YamlError(f"nesting deeper than {MAX_FLOW_DEPTH} levels", line)
        elif char in "]}":
            depth = max(depth - 1, 0)


def _line_at_depth(text: str) -> int:
    depth = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return text.count("\n", 0, index) + 1
        elif char in "]}":
            depth = max(depth - 1, 0)
    return 1


def load_documents(text: str) -> Iterator[Document]:
    """Yield each non-empty document of ``text``; raise YamlError with a line."""
    check_flow_depth(text)
    has_anchors = "&" in text
    loader = _Loader(text)
    try:
        index = 0
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.MarkedYAMLError as err:
                mark = err.problem_mark or err.context_mark
                line = mark.line + 1 if mark is not None else None
                problem = err.problem or err.context or "invalid YAML"
                raise YamlError(f"invalid YAML: {problem}", line) from None
            except yaml.YAMLError as err:
                raise YamlError(f"invalid YAML: {err}") from None
            if node is None:
                continue
            value = (Converter() if has_anchors else FastConverter()).convert(node)
            if value is not None:
                yield Document(value, node.start_mark.line + 1, node, index)
            index += 1
    finally:
        loader.dispose()


class Converter:
    """Node tree to plain JSON-like Python values, with an alias budget."""

    def __init__(self):
        self.expanded = 0
        self.seen: set[int] = set()

    def convert(self, node):
        if id(node) in self.seen:
            self._count_alias(node)
        else:
            self.seen.add(id(node))
        if isinstance(node, ScalarNode):
            return scalar_value(node)
        if isinstance(node, SequenceNode):
            _check_tag(node)
            return [self.convert(item) for item in node.value]
        return self._mapping(node)

    def _count_alias(self, node) -> None:
        self.expanded += _size(node, MAX_ALIAS_EXPANSION)
        if self.expanded > MAX_ALIAS_EXPANSION:
            raise YamlError(
                f"aliases expand to more than {MAX_ALIAS_EXPANSION} nodes (a YAML bomb?)",
                node.start_mark.line + 1,
            )

    def _mapping(self, node: MappingNode) -> dict:
        _check_tag(node)
        result: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self._merge(merged, value_node)
                continue
            key = _key_text(key_node)
            if key in result:
                raise YamlError(f'mapping key "{key}" already defined', key_node.start_mark.line + 1)
            result[key] = self.convert(value_node)
        for key, value in merged.items():
            result.setdefault(key, value)  # explicit keys win over merged ones
        return result

    def _merge(self, merged: dict, value_node) -> None:
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            value = self.convert(source)
            if not isinstance(value, dict):
                raise YamlError("a merge key (<<) needs a mapping", source.start_mark.line + 1)
            for key, item in value.items():
                merged.setdefault(key, item)  # earlier sources win, as in YAML 1.1


class FastConverter(Converter):
    """The converter for text without anchors (no aliases, so no budget to keep)."""

    def convert(self, node):
        if node.__class__ is ScalarNode:
            if node.tag == _STR:
                return node.value
            return scalar_value(node)
        if node.__class__ is SequenceNode:
            if node.tag != _SEQ:
                _check_tag(node)
            return [self.convert(item) for item in node.value]
        return self._mapping(node)


_SEQ = _TAG + "seq"
_STR = _TAG + "str"


def _size(node, cap: int) -> int:
    """Number of nodes under ``node`` (stops counting past ``cap``)."""
    count, stack = 0, [node]
    while stack and count <= cap:
        current = stack.pop()
        count += 1
        if isinstance(current, SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.append(value)
    return count


def _key_text(node) -> str:
    if isinstance(node, ScalarNode):
        if node.tag == _TAG + "null":
            return "null"
        return node.value
    raise YamlError("a mapping key must be a scalar", node.start_mark.line + 1)


_KNOWN_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null", "binary", "timestamp",
                                         "seq", "map", "merge", "value")}


def _check_tag(node) -> None:
    if node.tag not in _KNOWN_TAGS:
        raise YamlError(f"unsupported YAML tag {node.tag!r} (only the standard YAML types are read)",
                        node.start_mark.line + 1)


def scalar_value(node: ScalarNode):
    tag, text = node.tag, node.value
    if tag == _TAG + "str":
        return text
    if tag == _TAG + "int":
        return _int(text)
    if tag == _TAG + "float":
        return _float(text)
    if tag == _TAG + "bool":
        return text in _BOOL_TRUE
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "binary":
        return base64.b64encode(base64.decodebytes(text.encode())).decode()
    _check_tag(node)
    # timestamps stay text, as in the JSON conversion
    return text


def _int(text: str) -> int:
    value = text.replace("_", "")
    sign = -1 if value.startswith("-") else 1
    value = value.lstrip("+-")
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value.startswith("0") and value.isdigit():
        return sign * int(value, 8)
    if ":" in value:
        total = 0
        for part in value.split(":"):
            total = total * 60 + int(part)
        return sign * total
    return sign * int(value)


def _float(text: str) -> float:
    value = text.replace("_", "").lower()
    if value in (".inf", "+.inf"):
        return float("inf")
    if value == "-.inf":
        return float("-inf")
    if value == ".nan":
        return float("nan")
    if ":" in value:
        sign = -1.0 if value.startswith("-") else 1.0
        total = 0.0
        for part in value.lstrip("+-").split(":"):
            total = total * 60 + float(part)
        return sign * total
    return float(value)
