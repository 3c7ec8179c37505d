"""Scenario checks written in CEL: your own invariants over the explored states.

A scenario may check, beside the library's properties, any CEL expression
over a plain view of each state (the same CEL as ``kspec check`` rules)::

    checks:
      - expression:
          name: backend-keeps-a-ready-pod
          kind: always                 # always | sometimes | eventually_always
          cel: >
            pods.exists(p, p.workload == "backend" && p.ready && !p.terminating)
          description: the backend never loses its last Ready pod

The variables (the API view and the physical view side by side):

``pods``
    a list, one map per pod object: ``name``, ``workload`` (the name of the
    controller that owns it, ``""`` for none), ``kind`` (that controller's
    kind), ``labels``, ``node`` (``""`` while unbound), ``phase``, ``ready``,
    ``terminating`` (deletionTimestamp set), ``unschedulable``; physical:
    ``containers`` (``"none"``, ``"up"``, ``"hung"`` or ``"crashed"``) and
    ``running`` (containers up or hung on a machine that is up).
``nodes``
    a list of maps: ``name``, ``labels``, ``ready`` (the API's Ready
    condition is True), ``tainted`` (the unreachable NoExecute taint),
    ``cordoned``; physical: ``up`` (the machine runs), ``reachable`` (it
    reaches the API server), ``orphans`` (for each container still running
    whose pod object was force-deleted, the workload it belonged to).
``services``
    a map from Service name to ``{"endpoints": [pod names]}``.
``workloads``
    a map from workload name to ``{"kind": ..., "replicas": N}`` (``replicas``
    is null once the workload is deleted, or for a Deployment's ReplicaSet not
    created yet).
``faults_used``
    how many faults have happened.
``etcd``
    ``{"members": N, "up": M, "quorum": bool}``: without quorum no write succeeds.

When the scenario is read, each expression is compiled and then checked
against the view's schema (:data:`SCHEMA`, the keys above): a key that no pod,
node, service or workload has (``p.phse``), a key selected from a string or a
number, and a result that cannot be a bool are errors at the check's line, not
in the middle of a run. cel-expr-python declares variables by CEL type only
(``dyn``, lists and maps of one value type, or protobuf messages, which would
need a protobuf schema and protobuf values at run time), so the schema check
walks the checked expression's tree (:func:`kspec.rules.cel.syntax_tree`),
following each variable through comprehensions (``all``, ``exists``,
``filter``, ``map``, ``cel.bind``), indexes and conditionals. What it cannot
follow (``dyn(...)``, values built by functions, optional selection ``p.?x``)
is left to run time: an expression that still fails on a state (an index out
of range, a wrong type) stops the run with an error naming the check and the
state, since a check that cannot be evaluated proves nothing. A Service or
workload named by a literal key (``services["web"]``) must exist in the
manifests, unless the expression tests for it (``"web" in services``). The
view is built once per state and shared by every expression.
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping

import attrs

from kspec.errors import KspecError
from kspec.checker.model import Property, Witness, always, eventually_always, nearest_by_parts, sometimes
from kspec.rules.cel import (CelCompileError, CelEvaluationError, Program, compile_expression, result_type,
                             syntax_tree)
from kspec.simulation.state import HUNG, NOT_RUNNING, READY, UP, State, World, has_quorum

__all__ = ["VARIABLES", "KINDS", "SCHEMA", "ExpressionError", "compile_check", "schema_problems", "state_view",
           "expression_property", "split_top_level"]

VARIABLES = ("pods", "nodes", "services", "workloads", "faults_used", "etcd")
KINDS = ("always", "sometimes", "eventually_always")
_CONTAINERS = {NOT_RUNNING: "none"}


class ExpressionError(KspecError):
    """A scenario expression that does not compile, does not fit the view's
    schema or does not give a bool; ``problems`` holds each problem's message."""

    def __init__(self, *problems: str):
        self.problems = problems
        super().__init__("; ".join(problems))


def compile_check(cel: str) -> Program:
    """Compile ``cel`` against the state view's variables and check it against
    the view's schema; raises :class:`ExpressionError` with every problem found."""
    try:
        program = compile_expression(cel, VARIABLES)
    except CelCompileError as err:
        raise ExpressionError(f"CEL {err}") from None
    kind = result_type(program)
    if kind not in ("bool", "dyn"):
        raise ExpressionError(f"the expression gives {kind}, not bool")
    problems = schema_problems(program)
    if problems:
        raise ExpressionError(*problems)
    return program


# --------------------------------------------------------------------------- the view's schema


@attrs.frozen(eq=False)
class Shape:
    """A map of the view with known keys (one pod, node, service or workload)."""

    what: str
    fields: Mapping[str, Any]


DYN, NOTHING = "dyn", "nothing"  # any value; the element of an empty list
STRING, INT, BOOL, DOUBLE, NULL, INT_OR_NULL = "string", "int", "bool", "double", "null", "int or null"
_LABELS = ("map", STRING, STRING)
POD = Shape("a pod", {"name": STRING, "workload": STRING, "kind": STRING, "labels": _LABELS, "node": STRING,
                      "phase": STRING, "ready": BOOL, "terminating": BOOL, "unschedulable": BOOL,
                      "containers": STRING, "running": BOOL})
NODE = Shape("a node", {"name": STRING, "labels": _LABELS, "ready": BOOL, "tainted": BOOL, "up": BOOL,
                        "reachable": BOOL, "cordoned": BOOL, "orphans": ("list", STRING)})
SERVICE = Shape("a service", {"endpoints": ("list", STRING)})
WORKLOAD = Shape("a workload", {"kind": STRING, "replicas": INT_OR_NULL})
ETCD = Shape("etcd", {"members": INT, "up": INT, "quorum": BOOL})
SCHEMA = {"pods": ("list", POD), "nodes": ("list", NODE), "services": ("map", STRING, SERVICE),
          "workloads": ("map", STRING, WORKLOAD), "faults_used": INT, "etcd": ETCD}
"""The type of each variable of :func:`state_view` (a test keeps the two in step)."""

_BOOL_FUNCTIONS = frozenset({"_&&_", "_||_", "!_", "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "@in",
                             "@not_strictly_false", "startsWith", "endsWith", "contains", "matches"})
_NAMED_MAPS = ("services", "workloads")  # keys are names from the manifests


def _type_name(t) -> str:
    if isinstance(t, Shape) or isinstance(t, tuple) and t[0] == "map":
        return "map"
    if isinstance(t, tuple):
        return "list"
    return "int" if t == INT_OR_NULL else t


def _join(a, b):
    if a is NOTHING or a == b:
        return b
    if b is NOTHING:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "list":
        return ("list", _join(a[1], b[1]))
    return DYN


class _SchemaWalk:
    """Infers the view type of each node of a checked expression and keeps the
    problems: keys no element of the view has, keys selected from scalars."""

    def __init__(self):
        self.problems: dict[tuple, str] = {}  # by position: a loop step is walked twice
        self.names: list[tuple[str, str, int, int]] = []  # (services|workloads, literal key, line, column)
        self.tested: set[str] = set()  # named maps the expression tests membership of
        self.result: Any = DYN  # the expression's type

    def problem(self, node, message: str) -> None:
        self.problems.setdefault((node.line, node.column, message), f"CEL {node.line}:{node.column}: {message}")

    def key(self, node, t, key: str, test_only: bool = False):
        """The type of ``key`` selected from a value of type ``t``."""
        if isinstance(t, Shape):
            if key in t.fields:
                return BOOL if test_only else t.fields[key]
            close = difflib.get_close_matches(key, list(t.fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.problem(node, f"no such key {key!r} in {t.what}{hint} ({t.what} has: {', '.join(t.fields)})")
            return DYN
        if isinstance(t, tuple) and t[0] == "map":
            return BOOL if test_only else t[2]
        if t in (STRING, INT, BOOL, DOUBLE, NULL, INT_OR_NULL) or isinstance(t, tuple):
            name = _type_name(t)
            self.problem(node, f"cannot select {key!r} from {'an' if name[0] in 'aeiou' else 'a'} {name} "
                               "(only maps have keys)")
        return DYN

    def walk(self, node, scope: dict):
        kind, args = node.kind, node.args
        if kind == "const":
            value = node.value
            return {str: STRING, bool: BOOL, int: INT, float: DOUBLE, type(None): NULL}.get(type(value), DYN)
        if kind == "ident":
            return scope[node.name] if node.name in scope else SCHEMA.get(node.name, DYN)
        if kind == "select":
            operand = args[0]
            if operand.kind == "ident" and operand.name in _NAMED_MAPS and operand.name not in scope:
                if node.test_only:  # has(services.web) tests for the name
                    self.tested.add(operand.name)
                else:
                    self.names.append((operand.name, node.name, node.line, node.column))
            return self.key(node, self.walk(operand, scope), node.name, node.test_only)
        if kind == "list":
            element = NOTHING
            for item in args:
                element = _join(element, self.walk(item, scope))
            return ("list", element)
        if kind == "comprehension":
            return self.comprehension(node, scope)
        types = [self.walk(a, scope) for a in args]
        if kind != "call":
            return DYN
        name = node.name
        if name == "_[_]" and len(types) == 2:
            container, index = types
            if args[0].kind == "ident" and args[0].name in _NAMED_MAPS and args[0].name not in scope \
                    and args[1].kind == "const" and isinstance(args[1].value, str):
                self.names.append((args[0].name, args[1].value, node.line, node.column))
            if isinstance(container, tuple) and container[0] == "list":
                return container[1]
            if isinstance(container, Shape) and args[1].kind == "const" and isinstance(args[1].value, str):
                return self.key(node, container, args[1].value)
            if isinstance(container, tuple) and container[0] == "map":
                return container[2]
            return DYN
        if name == "@in" and len(args) == 2 and args[1].kind == "ident" and args[1].name in _NAMED_MAPS:
            self.tested.add(args[1].name)
        if name == "_?_:_" and len(types) == 3:
            return _join(types[1], types[2])
        if name == "_+_" and len(types) == 2:
            a, b = types
            if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "list":
                return _join(a, b)
            return a if a == b and a in (STRING, INT, DOUBLE) else DYN
        if name in _BOOL_FUNCTIONS:
            return BOOL
        if name == "size":
            return INT
        return DYN

    def comprehension(self, node, scope: dict):
        iter_var, iter_var2, accu_var = node.names
        iter_range, accu_init, condition, step, result = node.args
        over = self.walk(iter_range, scope)
        first = second = DYN
        if isinstance(over, tuple) and over[0] == "list":
            first, second = (INT, over[1]) if iter_var2 else (over[1], DYN)
        elif isinstance(over, tuple) and over[0] == "map":
            first, second = over[1], over[2]
        accu = self.walk(accu_init, scope)
        inner = {**scope, iter_var: first, accu_var: accu}
        if iter_var2:
            inner[iter_var2] = second
        stepped = _join(accu, self.walk(step, inner))
        if stepped != accu:  # the accumulator grows (filter, map): walk again with its type
            inner[accu_var] = stepped
            stepped = _join(stepped, self.walk(step, inner))
        self.walk(condition, inner)
        return self.walk(result, {**scope, accu_var: stepped})


def _walk(program: Program) -> _SchemaWalk | None:
    tree = syntax_tree(program)
    if tree is None:
        return None
    walk = _SchemaWalk()
    try:
        walk.result = walk.walk(tree, {})
    except RecursionError:  # deeper than Python recurses: left to run time
        return None
    return walk


def schema_problems(program: Program) -> list[str]:
    """What in ``program`` does not fit the view's schema (:data:`SCHEMA`), each
    as ``CEL line:column: message``; empty if nothing is wrong, or if the
    expression's tree cannot be read (the check is then left to run time)."""
    walk = _walk(program)
    if walk is None:
        return []
    problems = list(walk.problems.values())
    if walk.result not in (BOOL, DYN):
        problems.append(f"the expression gives {_type_name(walk.result)}, not bool")
    return problems


def name_problems(program: Program, world: World) -> list[str]:
    """Services and workloads that ``program`` names by a literal key
    (``services["web"]``) but the manifests do not define, unless the
    expression tests for the name (``"web" in services``)."""
    walk = _walk(program)
    if walk is None:
        return []
    known = {"services": {s.name for s in world.services}, "workloads": {w.name for w in world.workloads}}
    problems = []
    for variable, key, line, column in walk.names:
        if variable in walk.tested or key in known[variable]:
            continue
        names = sorted(known[variable])
        close = difflib.get_close_matches(key, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "") if names else "none"
        problems.append(f"CEL {line}:{column}: no {variable[:-1]} named {key!r} in the manifests "
                        f"({variable}: {listed}){hint}")
    return problems


class _Views:
    """One state's view at a time (the expressions of a scenario share it)."""

    def __init__(self, world: World):
        self.world = world
        self.last: tuple[Any, dict | None] = (None, None)
        self.owners = tuple(w.name for w in world.workloads)
        self.kinds = tuple(w.kind for w in world.workloads)
        self.labels = tuple(dict(g.labels) for g in world.groups)
        self.node_labels = tuple(dict(n.metadata.labels) for n in world.nodes)
        owner_of = {w.group: w.name for w in world.workloads if w.group >= 0}
        owner_of.update({g: w.name for w in world.workloads for g in w.revisions})  # a rolled-out template's too
        self.templates = tuple(owner_of.get(g, grp.prefix) for g, grp in enumerate(world.groups))

    def __call__(self, state: State) -> dict:
        if self.last[0] is state:
            return self.last[1]
        view = state_view(self.world, state, self)
        self.last = (state, view)
        return view


def state_view(world: World, state: State, cache: _Views | None = None) -> dict:
    """The CEL variables for ``state`` (see the module docstring)."""
    cache = cache or _Views(world)
    names = world.node_names
    pods = []
    for p in state.pods:
        machine_up = p.node >= 0 and state.nodes[p.node].up
        pods.append({
            "name": p.name, "workload": cache.owners[p.owner] if p.owner >= 0 else "",
            "kind": cache.kinds[p.owner] if p.owner >= 0 else "", "labels": cache.labels[p.group],
            "node": names[p.node] if p.node >= 0 else "", "phase": p.phase, "ready": p.ready,
            "terminating": p.deleting, "unschedulable": p.unschedulable,
            "containers": _CONTAINERS.get(p.run, p.run), "running": machine_up and p.run in (UP, HUNG),
        })
    nodes = [{"name": names[i], "labels": cache.node_labels[i], "ready": n.ready == READY, "tainted": n.tainted,
              "up": n.up, "reachable": n.reachable, "cordoned": n.cordoned,
              "orphans": [cache.templates[g] for g in n.orphans]} for i, n in enumerate(state.nodes)]
    services = {svc.name: {"endpoints": list(addresses)} for svc, addresses in zip(world.services, state.endpoints)}
    workloads = {w.name: {"kind": w.kind, "replicas": r} for w, r in zip(world.workloads, state.replicas)}
    members = world.etcd_members
    etcd = {"members": members, "up": members - state.etcd_down, "quorum": has_quorum(world, state)}
    return {"pods": pods, "nodes": nodes, "services": services, "workloads": workloads,
            "faults_used": state.faults_used, "etcd": etcd}


def expression_property(world: World, fair: frozenset[str], name: str, kind: str, program: Program,
                        description: str = "", views: _Views | None = None) -> Property:
    """The expression as a property of the explorer; raises :class:`ExpressionError`
    if it names a Service or workload the manifests do not define."""
    problems = name_problems(program, world)
    if problems:
        raise ExpressionError(*problems)
    views = views or _Views(world)
    condition = _predicate(name, program, views)
    description = description or f"CEL: {program.source.strip()}"
    if kind == "always":
        return attrs.evolve(always(name, condition, description), witnesses=_antecedent(name, program.source, views))
    if kind == "sometimes":
        parts = [(text, _predicate(name, part, views)) for text, part in _parts(program.source, "&&")]
        if len(parts) < 2:
            return sometimes(name, condition, description)
        closeness, nearest = nearest_by_parts(parts)
        return sometimes(name, condition, description, closeness=closeness, nearest=nearest)
    return eventually_always(name, condition, fair, description)


def _predicate(name: str, program: Program, views: _Views):
    """The compiled expression as a predicate on states; an evaluation error
    or a value that is not a bool stops the run, naming the check."""

    def condition(state: State) -> bool:
        try:
            value = program.evaluate(views(state))
        except CelEvaluationError as err:
            raise ExpressionError(f"check {name!r}: {err} (on state {state!r})") from None
        if not isinstance(value, bool):
            raise ExpressionError(f"check {name!r}: the expression gave {value!r}, not a bool")
        return value

    condition.__name__ = name
    return condition


def _antecedent(name: str, source: str, views: _Views) -> tuple[Witness, ...]:
    """An ``always`` of the form ``A || B`` (``!P || Q``: P implies Q) tests
    ``B`` only in states where ``A`` is false: it is vacuous unless some
    reachable state makes ``A`` false."""
    parts = _parts(source, "||")
    if len(parts) < 2:
        return ()
    (first, program), rest = parts[0], " || ".join(text for text, _ in parts[1:])
    holds = _predicate(name, program, views)
    return (Witness(f"`{first}` holds in every reachable state, so `{rest}` is never tested",
                    lambda state: not holds(state)),)


def _parts(source: str, operator: str) -> list[tuple[str, Program]]:
    """``source`` split at ``operator`` (``&&`` or ``||``) where it joins the
    whole expression, each part with its compiled program; one part when the
    operator is not there, when an operator binding less tightly is (``? :``,
    or ``||`` when splitting at ``&&``), or when a part does not compile alone."""
    texts = split_top_level(source, operator)
    if len(texts) < 2:
        return [(source.strip(), None)]
    try:
        return [(text, compile_check(text)) for text in texts]
    except ExpressionError:
        return [(source.strip(), None)]


def split_top_level(source: str, operator: str) -> list[str]:
    """The operands of ``operator`` at the top level of a CEL expression
    (outside brackets and string literals), whitespace collapsed; ``[source]``
    when a lower-precedence operator is at the top level too.

    >>> split_top_level('a && (b || c) && d["&&"]', "&&")
    ['a', '(b || c)', 'd["&&"]']
    >>> split_top_level('a && b || c', "&&")
    ['a && b || c']
    """
    lower = {"&&": ("||", "?"), "||": ("?",)}[operator]
    cuts, depth, quote, i = [], 0, "", 0
    while i < len(source):
        c = source[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and source.startswith(operator, i):
            cuts.append(i)
            i += len(operator)
            continue
        elif depth == 0 and any(source.startswith(op, i) for op in lower):
            return [" ".join(source.split())]
        i += 1
    bounds = [0] + [x for cut in cuts for x in (cut, cut + len(operator))] + [len(source)]
    return [" ".join(source[a:b].split()) for a, b in zip(bounds[::2], bounds[1::2])]


def views_for(world: World) -> _Views:
    """A shared view cache for every expression of one model."""
    return _Views(world)
