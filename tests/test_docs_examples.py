"""Every example in README.md and docs/*.md runs, and prints what the docs show.

A console example is a fenced block marked ``console``, or any fenced block
with a ``$ kspec ...`` line: each ``$ kspec ...`` command runs in-process
(click's CliRunner, from the repository root) and its output must equal the
lines under it, up to the next ``$`` line, once timings, rates and memory are
normalised (``0.33s`` -> ``<T>``, ``4,037 states/s`` -> ``<N> states/s``,
``57 MiB`` -> ``<M> MiB``). The lines are compared with stdout alone or, when
the docs show what goes to stderr too, with both as a terminal interleaves
them. Output files an example names (``-o review.html``, ``--report FILE``,
``--emit-test FILE``) are written to a temporary folder instead, and that
folder is not part of the printed paths.

The README's Python example runs too, line by line, except a line with a
literal ``...`` (a placeholder).

Every other ``kspec ...`` line of a ``sh`` or plain block that is a command
rather than a synopsis (no ``PATH...``, ``[--option]`` or ``a|b``) must run
with exit code 0 or 1: bad input (2) or a bug (4) in an example is a failure.

An example naming ``../shared/`` (the public manifests beside the repository)
skips, saying so, when that folder is absent. Examples that take over about
3 s run in the slow tier (:data:`SLOW`).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest
from click.testing import CliRunner

from kspec.cli import group

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTPUT_OPTIONS = {"-o", "--output", "--report", "--emit-test"}
# Examples slower than about 3 s (command prefix: why), run only in the slow tier.
SLOW = {
    "kspec report models/myapp-node-crash.yaml": "about 5 s: an exploration, the rule library and Z3 failure tolerance",
}


class Example(NamedTuple):
    file: str  # relative to the repository
    line: int
    command: str
    expected: tuple[str, ...] | None  # None: only the exit code is checked

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def fenced_blocks(path: Path):
    """``(language, line of the first content line, lines)`` for each fenced block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^(\s*)(```+)\s*(\S*)", lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, language = opening.groups()
        body = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index][len(indent):] if lines[index].startswith(indent) else lines[index].lstrip())
            index += 1
        yield language, index - len(body) + 1, body
        index += 1


def examples() -> list[Example]:
    found = []
    for path in DOCS:
        name = path.relative_to(ROOT).as_posix()
        for language, first, body in fenced_blocks(path):
            if language == "console" or any(line.startswith("$ kspec") for line in body):
                command = None
                for offset, line in enumerate(body):
                    if line.startswith("$ "):
                        if command is not None:
                            found.append(Example(name, start, command, tuple(output)))
                        command, start, output = line[2:], first + offset, []
                    elif command is not None:
                        output.append(line)
                if command is not None:
                    found.append(Example(name, start, command, tuple(output)))
            elif language in ("", "sh", "bash", "shell"):
                for offset, line in enumerate(body):
                    if line.startswith("kspec ") and not re.search(r"\.\.\.|\[|\|", line):
                        found.append(Example(name, first + offset, line, None))
    return found


EXAMPLES = examples()


def params(kind):
    chosen = []
    for example in EXAMPLES:
        if (example.expected is not None) != (kind == "console"):
            continue
        slow = next((why for prefix, why in SLOW.items() if example.command.startswith(prefix)), None)
        marks = [pytest.mark.slow] if slow else []
        chosen.append(pytest.param(example, id=example.id, marks=marks))
    return chosen


def run(example: Example, tmp_path: Path, monkeypatch):
    """Run the example's command from the repository root, outputs redirected to ``tmp_path``."""
    words = shlex.split(example.command, comments=True)
    assert words[0] == "kspec", example
    args = words[1:]
    for arg in args:
        if arg.startswith("../shared") and not (ROOT / arg).exists():
            pytest.skip(f"{example.id} needs {arg}, absent here (the public manifests beside the repository)")
    for index in range(1, len(args)):
        if args[index - 1] in OUTPUT_OPTIONS and Path(args[index]).suffix:
            args[index] = str(tmp_path / Path(args[index]).name)
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(group, args, catch_exceptions=False)


def normalise(text: str, tmp_path: Path) -> str:
    text = text.replace(f"{tmp_path}/", "")
    text = "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")
    text = re.sub(r"\b\d[\d,]*(?:\.\d+)? states/s\b", "<N> states/s", text)
    text = re.sub(r"\b\d[\d,]*(?:\.\d+)? ?(KiB|MiB|GiB|KB|kB|MB|GB)\b", r"<M> \1", text)
    text = re.sub(r"\b\d+(?:\.\d+)?m?s\b", "<T>", text)
    return text


def test_the_docs_have_console_examples():
    files = {e.file for e in EXAMPLES if e.expected is not None}
    assert {"README.md", "docs/controllers.md", "docs/report.md", "docs/schedule.md"} <= files


@pytest.mark.parametrize("example", params("console"))
def test_console_example_prints_what_the_docs_show(example, tmp_path, monkeypatch):
    result = run(example, tmp_path, monkeypatch)
    assert result.exit_code in (0, 1), (example.id, result.output)
    expected = normalise("\n".join(example.expected), tmp_path)
    stdout, both = normalise(result.stdout, tmp_path), normalise(result.output, tmp_path)
    shown = stdout if stdout == expected else both
    assert shown == expected, f"{example.id}: `{example.command}` prints something else: update the docs"


@pytest.mark.parametrize("example", params("command"))
def test_command_line_example_runs(example, tmp_path, monkeypatch):
    result = run(example, tmp_path, monkeypatch)
    assert result.exit_code in (0, 1), (example.id, result.output)


def test_normalise_hides_only_what_changes_between_runs(tmp_path):
    line = "m.yaml: 1,344 distinct states, depth 17, 0.33s (4,037 states/s), peak memory 57 MiB; 7 steps (0.04s)"
    assert normalise(line, tmp_path) == \
        "m.yaml: 1,344 distinct states, depth 17, <T> (<N> states/s), peak memory <M> MiB; 7 steps (<T>)"


def test_readme_python_example_runs(monkeypatch):
    (body,) = [body for language, _, body in fenced_blocks(ROOT / "README.md") if language == "python"]
    code = "\n".join(line for line in body if "..." not in line)
    monkeypatch.chdir(ROOT)
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)
    assert [n.metadata.name for n in names["cluster"].nodes] == ["node-1", "node-2", "node-3", "node-4", "node-5"]
    assert names["result"].ok and names["verdicts"].verdict.value == "violated"


def test_an_example_needing_shared_files_skips_saying_why(tmp_path, monkeypatch):
    example = Example("docs/x.md", 1, "kspec inspect ../shared/no-such-folder-here", ())
    with pytest.raises(pytest.skip.Exception, match=r"docs/x.md:1 needs ../shared/no-such-folder-here, absent here"):
        run(example, tmp_path, monkeypatch)
