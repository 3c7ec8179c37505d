"""The layer order of kspec's packages, kept by walking every module's imports.

The layers, each importing only those of lower rank and itself::

    errors < util < api < loading < checker < scheduling = rules < simulation < report < kspec < cli

``scheduling`` and ``rules`` share a rank and may not import each other: neither
needs the other today, and keeping them apart lets each grow without dragging the
other in. The top-level package ``kspec`` (its ``__init__``) is the public surface
over the library layers, so none of them imports it; the CLI, its first user, may.
``python -m kspec`` (``__main__``) only starts the CLI.

Besides the order, :func:`check_tree` reports import cycles between modules, private
names (``_x``) imported across modules, ``click``/``sys.exit``/``SystemExit`` outside
``cli``, ``z3`` outside the solver module, ``hypothesis`` outside the fuzz module, and
function-level imports that do not carry the marker comment ``# deferred: start-up
time`` on their own line or the line before (the only reason to defer an import).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent / "kspec"

RANKS = {
    "errors": 0,
    "util": 1,
    "api": 2,
    "loading": 3,
    "checker": 4,
    "scheduling": 5,
    "rules": 5,
    "simulation": 6,
    "report": 7,
    "__init__": 8,
    "cli": 9,
    "__main__": 10,
}

DEFERRED_MARKER = "# deferred: start-up time"

# third-party module -> the only place (a module or a package prefix, as a path
# relative to the package root) that may import it
CONFINED = {
    "click": "cli/",
    "z3": "scheduling/solver.py",
    "hypothesis": "checker/fuzz.py",
}


@attrs.frozen
class Violation:
    """One broken rule at one place, printed ``file:line: rule: message``."""

    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


@attrs.frozen
class Import:
    """One import edge: ``module`` imports ``target`` (names ``names`` from it)."""

    module: str
    target: str
    names: tuple[str, ...]
    line: int
    deferred: bool  # inside a function
    statement: bool  # an import statement (not importlib.import_module)


def module_names(root: Path) -> dict[str, Path]:
    """Every module under the package folder ``root``, by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def layer(module: str) -> str:
    """The layer a dotted module name belongs to (``kspec.x.y`` -> ``x``)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import in one module, with where it is and whether it is deferred."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, (), node.lineno, in_function, True))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            plain = []
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    found.append(Import(module, sub, (), node.lineno, in_function, True))
                else:
                    plain.append(alias.name)
            if plain or not node.names:
                found.append(Import(module, base, tuple(plain), node.lineno, in_function, True))
        elif (
            isinstance(node, ast.Call)
            and _dotted(node.func) in ("importlib.import_module", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import(module, node.args[0].value, (), node.lineno, in_function, False))
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _exits(path: Path) -> list[tuple[int, str]]:
    """Where a module calls ``sys.exit``/``os._exit`` or raises ``SystemExit``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    exit_names = {"sys.exit", "os._exit"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("sys", "os"):
            exit_names |= {a.asname or a.name for a in node.names if a.name in ("exit", "_exit")}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in exit_names:
            found.append((node.lineno, f"{_dotted(node.func)}() called"))
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _dotted(target) == "SystemExit":
                found.append((node.lineno, "SystemExit raised"))
    return found


def _owning_module(target: str, modules: dict[str, Path]) -> str | None:
    """The first-party module an import target names (``pkg.mod.attr`` -> ``pkg.mod``)."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the smallest module of a strongly connected component."""
    start = min(component)
    parents = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return list(reversed(path)) + [start]
                if w not in parents:
                    parents[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected component without a cycle")


def check_tree(root: Path) -> list[Violation]:
    """Every violation of the layer rules in the package folder ``root``."""
    package = root.name
    modules = module_names(root)
    violations = []
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        rel = path.relative_to(root).as_posix()
        file = path.relative_to(root.parent).as_posix()
        lines = path.read_text().splitlines()
        here = layer(module)
        for imp in imports_of(module, path, modules):
            top = imp.target.split(".")[0]
            if top in CONFINED and not rel.startswith(CONFINED[top]):
                violations.append(
                    Violation(file, imp.line, "confined", f"{top} may be imported only in {package}/{CONFINED[top]}")
                )
            if imp.deferred and imp.statement and not _marked(lines, imp.line):
                violations.append(
                    Violation(
                        file,
                        imp.line,
                        "deferred",
                        f"function-level import of {imp.target} without {DEFERRED_MARKER!r}",
                    )
                )
            target = _owning_module(imp.target, modules)
            if target is None or top != package:
                continue
            if target != module:
                graph[module].add(target)
            there = layer(target)
            if there != here and RANKS[there] >= RANKS[here]:
                violations.append(
                    Violation(
                        file,
                        imp.line,
                        "layer",
                        f"{here} (rank {RANKS[here]}) imports {target} in {there} (rank {RANKS[there]})",
                    )
                )
            private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
            if imp.target.split(".")[-1].startswith("_") and imp.target not in modules:
                private.append(imp.target.split(".")[-1])
            for name in private:
                if target != module:
                    violations.append(Violation(file, imp.line, "private", f"imports private {name} from {target}"))
        if not rel.startswith("cli/"):
            for line, what in _exits(path):
                violations.append(Violation(file, line, "exit", f"{what} outside {package}/cli/"))
    for cycle in find_cycles(graph):
        first = modules[cycle[0]].relative_to(root.parent).as_posix()
        violations.append(Violation(first, 1, "cycle", " -> ".join(cycle)))
    return violations


def _marked(lines: list[str], line: int) -> bool:
    here = lines[line - 1]
    before = lines[line - 2] if line >= 2 else ""
    return DEFERRED_MARKER in here or before.strip().startswith(DEFERRED_MARKER)


def test_kspec_keeps_its_layers():
    violations = check_tree(ROOT)
    assert not violations, "\n" + "\n".join(str(v) for v in violations)


def test_every_layer_folder_has_a_rank():
    for path in ROOT.iterdir():
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            assert path.stem in RANKS, f"{path.name} has no place in RANKS"


# the test of the test: small packages with one planted violation each


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "kspec"
    for name in ("__init__.py", "errors.py", "api/__init__.py", "simulation/__init__.py", "cli/__init__.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def _rules(root: Path) -> list[tuple[str, str]]:
    return [(v.file, v.rule) for v in check_tree(root)]


def test_a_clean_package_has_no_violation(tmp_path):
    root = _package(
        tmp_path,
        {
            "api/objects.py": "from kspec.errors import KspecError\n",
            "simulation/state.py": "from kspec.api import objects\nfrom .controllers import run\n",
            "simulation/controllers.py": "from kspec.api.objects import Pod\n",
            "cli/main.py": "import sys\nimport click\n\ndef main():\n    sys.exit(0)\n",
        },
    )
    assert check_tree(root) == []


def test_an_upward_import_is_reported_with_file_and_line(tmp_path):
    root = _package(tmp_path, {"api/objects.py": '"""Doc."""\n\nfrom kspec.simulation.state import State\n'})
    (root / "simulation/state.py").write_text("State = 1\n")
    [violation] = check_tree(root)
    assert str(violation).startswith("kspec/api/objects.py:3: layer: api (rank 2) imports kspec.simulation.state")


def test_an_upward_import_inside_a_function_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "simulation/state.py": "",
            "api/objects.py": f"def f():\n    {DEFERRED_MARKER}\n    from kspec.simulation import state\n",
        },
    )
    assert _rules(root) == [("kspec/api/objects.py", "layer")]


def test_a_relative_and_an_importlib_upward_import_are_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "simulation/state.py": "",
            "api/a.py": "from ..simulation import state\n",
            "api/b.py": "import importlib\nstate = importlib.import_module('kspec.simulation.state')\n",
        },
    )
    assert _rules(root) == [("kspec/api/a.py", "layer"), ("kspec/api/b.py", "layer")]


def test_an_import_of_the_top_level_package_is_upward(tmp_path):
    root = _package(tmp_path, {"simulation/scenario.py": "import kspec\n"})
    assert _rules(root) == [("kspec/simulation/scenario.py", "layer")]


def test_rules_and_scheduling_may_not_import_each_other(tmp_path):
    root = _package(tmp_path, {"scheduling/__init__.py": "", "rules/__init__.py": "from kspec import scheduling\n"})
    assert _rules(root) == [("kspec/rules/__init__.py", "layer")]


def test_a_cycle_is_reported_with_its_path(tmp_path):
    root = _package(
        tmp_path,
        {
            "simulation/a.py": "from kspec.simulation import b\n",
            "simulation/b.py": f"def f():\n    from kspec.simulation import c  {DEFERRED_MARKER}\n",
            "simulation/c.py": "from kspec.simulation.a import x\n",
        },
    )
    [violation] = check_tree(root)
    assert violation.rule == "cycle"
    assert violation.message == "kspec.simulation.a -> kspec.simulation.b -> kspec.simulation.c -> kspec.simulation.a"


def test_a_private_name_imported_across_modules_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "api/labels.py": "_parse = None\n__all__ = []\n",
            "api/objects.py": "from kspec.api.labels import _parse, __all__\n",
        },
    )
    [violation] = check_tree(root)
    assert (violation.rule, violation.message) == ("private", "imports private _parse from kspec.api.labels")


def test_an_unmarked_function_level_import_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "api/a.py": "def f():\n    import json\n",
            "api/b.py": f"def f():\n    import json  {DEFERRED_MARKER}\n",
        },
    )
    assert _rules(root) == [("kspec/api/a.py", "deferred")]


@pytest.mark.parametrize(
    "text",
    [
        "import click\n",
        "from z3 import Solver\n",
        "import hypothesis.strategies\n",
        "import sys\nsys.exit(1)\n",
        "from sys import exit as leave\nleave(1)\n",
        "raise SystemExit(2)\n",
    ],
)
def test_click_exits_z3_and_hypothesis_are_confined(tmp_path, text):
    root = _package(tmp_path, {"simulation/state.py": text})
    assert len(check_tree(root)) == 1
