"""Text from the user's files made safe for each output format.

Object fields, file names and messages reach terminals, XML, HTML, Markdown and
JSON. Raw control characters there are a hazard: ``ESC ] ... BEL`` (OSC) and
``ESC [ ... m`` (CSI) drive a terminal, XML 1.0 forbids most C0 characters, and
a file name that is not UTF-8 (read with ``surrogateescape``) cannot even be
encoded. :func:`visible` spells such characters out (``\\x1b``), so the reader
sees them and nothing acts on them::

    >>> visible("web\\x1b]0;pwned\\x07")
    'web\\\\x1b]0;pwned\\\\x07'
    >>> visible("a\\nb\\tc", keep="\\n\\t")
    'a\\nb\\tc'

Each format has one helper built on it: :func:`terminal` (text output, keeps
newlines and tabs), :func:`one_line` (diagnostics), :func:`xml_text` and :func:`xml_safe` (JUnit),
:func:`json_dumps` (JSON and SARIF).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

__all__ = ["json_dumps", "json_safe", "one_line", "terminal", "visible", "xml_safe", "xml_text"]

# C0 controls, DEL, C1 controls, lone surrogates, and the XML non-characters.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _spell(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(text, keep: str = "") -> str:
    """``text`` with every control character (but those in ``keep``) spelled out."""
    text = str(text)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _spell(m.group()), text)


def terminal(text) -> str:
    """For text output: only newlines and tabs stay raw."""
    return visible(text, keep="\n\t")


def one_line(text) -> str:
    """For a one-line diagnostic: a newline in a message would start a fake one."""
    return visible(text, keep="\t")


def xml_text(text) -> str:
    """For XML 1.0 text and attributes: the characters it allows stay (tab, newline, CR)."""
    return visible(text, keep="\t\n\r")


def xml_safe(root: ET.Element) -> ET.Element:
    """Every text and attribute under ``root`` made legal XML 1.0 (in place; returns ``root``)."""
    for element in root.iter():
        for key, value in element.attrib.items():
            element.set(key, xml_text(value))
        if element.text:
            element.text = xml_text(element.text)
        if element.tail:
            element.tail = xml_text(element.tail)
    return root


_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def json_dumps(value, **options) -> str:
    """``json.dumps`` whose output holds no raw C1 control (``\\u0085``) and no lone
    surrogate: a non-UTF-8 file name becomes its visible spelling (``\\xff``)."""
    return json_safe(json.dumps(value, ensure_ascii=False, **options))


def json_safe(text: str) -> str:
    """JSON text written with ``ensure_ascii=False`` made as safe as :func:`json_dumps` makes it."""
    if not _JSON_UNSAFE.search(text):
        return text

    def spell(match):
        char = match.group()
        if 0xD800 <= ord(char) <= 0xDFFF:
            return json.dumps(visible(char))[1:-1]
        return f"\\u{ord(char):04x}"

    return _JSON_UNSAFE.sub(spell, text)
