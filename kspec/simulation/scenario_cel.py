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

An expression must give a bool (checked when the scenario is read, as far as
types allow); one that fails on a state (a missing key, a wrong type) stops
the run with an error naming the check and the state, since a check that
cannot be evaluated proves nothing. The view is built once per state and shared by
every expression.
"""

from __future__ import annotations

from typing import Any

from kspec.errors import KspecError
from kspec.checker.model import Property, always, eventually_always, sometimes
from kspec.rules.cel import CelCompileError, CelEvaluationError, Program, compile_expression, result_type
from kspec.simulation.state import HUNG, NOT_RUNNING, READY, UP, State, World

__all__ = ["VARIABLES", "KINDS", "ExpressionError", "compile_check", "state_view", "expression_property"]

VARIABLES = ("pods", "nodes", "services", "workloads", "faults_used")
KINDS = ("always", "sometimes", "eventually_always")
_CONTAINERS = {NOT_RUNNING: "none"}


class ExpressionError(KspecError):
    """A scenario expression that does not compile or does not give a bool."""


def compile_check(cel: str) -> Program:
    """Compile ``cel`` against the state view's variables; raises :class:`ExpressionError`."""
    try:
        program = compile_expression(cel, VARIABLES)
    except CelCompileError as err:
        raise ExpressionError(f"CEL {err}") from None
    kind = result_type(program)
    if kind not in ("bool", "dyn"):
        raise ExpressionError(f"the expression gives {kind}, not bool")
    return program


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
    return {"pods": pods, "nodes": nodes, "services": services, "workloads": workloads,
            "faults_used": state.faults_used}


def expression_property(world: World, fair: frozenset[str], name: str, kind: str, program: Program,
                        description: str = "", views: _Views | None = None) -> Property:
    """The expression as a property of the explorer."""
    views = views or _Views(world)

    def condition(state: State) -> bool:
        try:
            value = program.evaluate(views(state))
        except CelEvaluationError as err:
            raise ExpressionError(f"check {name!r}: {err} (on state {state!r})") from None
        if not isinstance(value, bool):
            raise ExpressionError(f"check {name!r}: the expression gave {value!r}, not a bool")
        return value

    condition.__name__ = name
    description = description or f"CEL: {program.source.strip()}"
    if kind == "always":
        return always(name, condition, description)
    if kind == "sometimes":
        return sometimes(name, condition, description)
    return eventually_always(name, condition, fair, description)


def views_for(world: World) -> _Views:
    """A shared view cache for every expression of one model."""
    return _Views(world)
