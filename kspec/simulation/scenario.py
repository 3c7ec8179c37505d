"""Scenario files: the whole question in one declarative file.

``kspec explore models/<name>.yaml`` reads a scenario, loads the manifests it
names into a :class:`~kspec.simulation.state.World`, wires the built-in controllers (and
any user controller), the faults and the user operations it allows, and checks
the named properties. The format (every key but ``manifests`` and ``checks`` is
optional; paths are relative to the scenario file and stay under its folder)::

    name: myapp-node-crash
    description: One node crashes; does backend-service keep an endpoint?
    manifests: [myapp/]                 # files or folders of Kubernetes YAML
    nodes: ["3:cpu=2,memory=4Gi"]       # extra node pools (--nodes shorthand)
    start: settled                      # settled (default) | one | applied
    prepare: [pod-hang]                 # faults applied once before exploring
    scheduler: all                      # all (default) | least-allocated (top-scoring nodes only)
    faults:
      budget: 1                         # faults in total
      kinds: [node-crash]               # or {node-crash: 1, node-restart: 1} (caps per kind)
    operations:
      - scale: {workload: frontend, replicas: 2}
      - delete: {workload: backend}     # propagationPolicy: Background (default) | Foreground | Orphan
      - rollout: {workload: web, image: "nginx:1.27"}  # a Deployment's, StatefulSet's or DaemonSet's template edit
      - drain: {node: node-1}           # kubectl drain --ignore-daemonsets (PodDisruptionBudgets apply)
      - force-delete: {workload: db}    # kubectl delete pod --force --grace-period=0 of a terminating pod
    controllers:
      - module: custom/singleton.py     # exports `controller` or build_controller(**params)
        params: {}
    disable: [replication]              # built-in controllers left out, by actor
    consistency:                        # fresh (default) | informer caches (kspec.simulation.informer)
      staleness: 1                      # caches at most N pod events behind the API server
      controllers: [replication]        # who reads through a cache (default: replication and user controllers;
                                        # job, statefulset, endpoints, scheduler, deployment when named)
    etcd: {members: 3}                  # etcd-member-crash faults: a majority must be up for any write
    nodeLifecycle:                      # the node lifecycle controller's eviction rule
      evictions: zone-aware             # zone-aware (default, upstream) | naive (every unreachable node, always)
      unhealthyZoneThreshold: 0.55
      largeClusterSizeThreshold: 50
      secondaryEvictionRate: 0.01       # taints per second in a partially disrupted large zone (0: none)
    podGCThreshold: 12500               # --terminated-pod-gc-threshold
    load:                               # what the metrics pipeline reports to HorizontalPodAutoscalers
      web: {cpu: 40%}                   # per target workload and metric: each pod's usage (% of its request, or
      api: {cpu: [30%, 90%], qps: 10}   # a quantity); a list: the reading at each sync is any of them
    bounds: {max_pods: 12}              # states with more pod records are not explored (default: replicas
                                        # times one more than the fault budget, at least two, plus two)
    checks:                             # library properties (kspec.simulation.properties)
      - rc-replicas-converge
      - service-always-has-endpoint: {service: backend-service}
      - running-copies-reach: {workload: frontend, count: 4, as: four-copies}
      - expression:                     # your own, in CEL over the state (kspec.simulation.scenario_cel)
          name: backend-keeps-a-ready-pod
          kind: always
          cel: pods.exists(p, p.workload == "backend" && p.ready)
    expect:                             # re-checked by tests/test_scenarios.py
      states: 1234                      # distinct states with symmetry reduction
      states_no_symmetry: 5678
      verdicts: {rc-replicas-converge: holds, service-always-has-endpoint: violated}

``start: settled`` (the default) begins where a fresh ``kubectl apply`` ends up
without faults: every state in which the controllers, run from the applied
manifests, have nothing left to do (each placement the scheduler could pick is
one initial state). With many workloads every order of the rollout is too
many; ``start: one`` settles along one fixed order (the first controller's
first action each time) and begins from that one state. ``start: applied``
begins with the objects just created, so faults can strike during the rollout. No check passes vacuously
unnoticed: each says what must happen for it to mean something (a fault fires, a workload is taken off its
replicas; ``kspec.simulation.properties``), and one that holds without it is reported as vacuous, with the
reason; a ``sometimes`` companion (``fault-then-converged``, say) is another way to show that things happen.

Parameters (``-p NAME=VALUE`` on ``kspec explore``/``kspec fuzz``) override
the file: ``budget``, ``scheduler``, ``start``, ``max_pods``; ``kspec fuzz
models/x.yaml -p budget=6`` checks larger budgets than exhaustive search can.

Every problem in a scenario file is reported as ``file:line: error: message``.
"""

from __future__ import annotations

import collections
import functools
import pathlib
from typing import Any, Collection, Mapping

import attrs

from kspec.simulation.controllers.builtin import ACTORS as BUILTIN_ACTORS, builtin_controllers
from kspec.simulation.controllers.scheduler import MODES as SCHEDULER_MODES
from kspec.simulation.controllers.user import Operation, UserOperations
from kspec.simulation.controllers.deployment import track_generations
from kspec.errors import Diagnostic, Diagnostics, KspecError, LoadError
from kspec.simulation.controllers.nodelifecycle import EvictionRule
from kspec.simulation.controllers.podautoscaler import HPAStatus, autoscalers, parse_reading
from kspec.simulation.faults import FAULT_KINDS, FaultBudget, FaultInjector, apply_fault, can_fire
from kspec.simulation.footprints import Footprinting
from kspec.simulation.stepcache import StepCache
from kspec.checker.reduction import ample
from kspec.simulation.informer import Consistency, InformerRec, Informers, api_record, record_events
from kspec.checker.model import (USER_CODE_ERRORS, Description, ModelError, Property, import_user_module,
                                 user_error)
from kspec.simulation import properties as properties_lib
from kspec.simulation.slicing import slice_controllers
from kspec.simulation.symmetry import Canonicaliser
from kspec.simulation.state import (CRON_HORIZON, DELETIONS, RELEASED, NOT_RUNNING, PENDING, READY, UNKNOWN, NodeRec,
                                    PodRec, State, World, add_status_slot, has_quorum)
from kspec.loading.yamlio import YamlError, load_documents
from kspec.util.budget import Budget, BudgetExceeded
from kspec.util.progress import Progress
from kspec.loading.manifests import load, load_objects, parse_object
from kspec.simulation.views import describe_changes, describe_state, lanes
from kspec.simulation.scenario_cel import KINDS, ExpressionError, compile_check, expression_property, views_for

__all__ = ["Scenario", "ClusterModel", "SymmetricClusterModel", "load_scenario", "parse_scenario", "build_model",
           "ScenarioError", "BUILTIN_ACTORS"]

KEYS = ("name", "description", "manifests", "nodes", "start", "prepare", "scheduler", "faults", "operations",
        "load", "controllers", "disable", "consistency", "etcd", "nodeLifecycle", "podGCThreshold", "bounds",
        "checks", "expect", "fuzz")
VERDICTS = ("holds", "violated", "inconclusive")
STARTS = ("settled", "one", "applied")
SETTLE_LIMIT = 200_000
LOADING = "loading the scenario"  # phases named when the run's budget runs out
SETTLING = "settling the initial state"
PROPAGATION = ("Background", "Foreground", "Orphan")  # a DELETE's propagationPolicy
INFORMED_BUILTINS = ("replication", "job", "statefulset", "endpoints", "scheduler", "deployment", "daemonset")  # built-ins that can read through a cache
_BUILTIN_PACKAGE = "kspec.simulation.controllers."


class ScenarioError(LoadError):
    """A scenario file that cannot be used; carries ``file:line`` diagnostics."""


@attrs.frozen
class Scenario:
    """A parsed scenario file (paths resolved, values checked)."""

    path: str
    name: str
    description: str
    manifests: tuple[str, ...]
    nodes: tuple[str, ...]
    start: str
    prepare: tuple[str, ...]
    scheduler: str
    fault_kinds: Any  # list of kinds or {kind: cap}
    fault_budget: int | None
    operations: tuple[tuple[str, str, Any, int], ...]  # (verb, workload, replicas or image, line)
    controllers: tuple[tuple[str, dict, int], ...]  # (module path, params, line)
    disable: tuple[str, ...]
    pod_gc_threshold: int
    max_pods: int | None
    checks: tuple[tuple[str, dict, int], ...]  # (library name, params, line)
    staleness: int | None = None  # consistency: None is fresh
    informed: tuple[str, ...] | None = None  # consistency.controllers (None: the default set)
    etcd_members: int = 1
    lifecycle: Any = None  # nodelifecycle.EvictionRule
    load: Mapping = attrs.field(factory=dict)  # workload -> metric -> podautoscaler readings
    expect: Mapping = attrs.field(factory=dict)
    lines: Mapping = attrs.field(factory=dict, eq=False, repr=False)


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Typed access to the scenario mapping, collecting diagnostics with lines."""

    def __init__(self, path: str, document):
        self.path = path
        self.doc = document
        self.problems = Diagnostics(path, locate=lambda where: self.line(*where))

    def line(self, *where) -> int | None:
        try:
            return self.doc.line_of(tuple(where))
        except Exception:
            return None

    def error(self, where: tuple, message: str) -> None:
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in where).replace(".[", "[")
        self.problems.at(tuple(where), message, field)


def _as_list(reader: _Reader, value, where) -> list:
    if value is None:
        return []
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, list):
        reader.error(where, f"expected a list, got {type(value).__name__}")
        return []
    return value


def _int(reader: _Reader, value, where, minimum=0) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        reader.error(where, f"expected an integer, got {value!r}")
        return None
    if value < minimum:
        reader.error(where, f"must be at least {minimum}, got {value}")
        return None
    return value


def _one_key(reader: _Reader, item, where) -> tuple[str, Any] | None:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        (key, value), = item.items()
        return str(key), value
    reader.error(where, "expected a name or a one-key mapping {name: {parameters}}")
    return None


def _expression_check(r: _Reader, body, where: tuple) -> dict | None:
    """An ``expression:`` check ({name, kind, cel, description}), compiled and
    type-checked against the state view now, so that a CEL error (a misspelt
    field too) is reported at its line; every problem of the check is reported."""
    if not isinstance(body, dict):
        r.error(where, "an expression check is {name: NAME, kind: always|sometimes|eventually_always, cel: EXPR}")
        return None
    problems = len(r.problems)
    for key in body:
        if key not in ("name", "kind", "cel", "description"):
            r.error(where + (key,), f"unknown key {key!r} (name, kind, cel, description)")
    name, kind, cel = body.get("name"), body.get("kind", "always"), body.get("cel")
    if isinstance(cel, bool):  # YAML read `cel: true` as a boolean; CEL spells it the same
        cel = "true" if cel else "false"
    if not isinstance(name, str) or not name:
        r.error(where + ("name",), "missing required key: a name for the check")
    if kind not in KINDS:
        r.error(where + ("kind",), f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(cel, str):
        r.error(where + ("cel",), "missing required key: the CEL expression")
    else:
        try:
            compile_check(cel)
        except ExpressionError as err:
            for problem in err.problems:
                r.error(where + ("cel",), problem)
    if len(r.problems) > problems:
        return None
    return {"name": name, "kind": kind, "cel": cel, "description": str(body.get("description") or "")}


PARAMETERS = ("budget", "scheduler", "start", "max_pods")


def _param_int(r: _Reader, params: dict, name: str, minimum: int) -> int | None:
    """The integer parameter ``name`` (``-p name=N``), taken out of ``params``."""
    value = params.pop(name)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        r.problems.add(None, f"parameter {name}: expected an integer, got {value!r}")
        return None
    if number < minimum:
        r.problems.add(None, f"parameter {name}: must be at least {minimum}, got {number}")
        return None
    return number


def _manifest_problems(manifests: list[str], nodes: tuple[str, ...]) -> list[Diagnostic]:
    """The manifests' own problems, reported with the scenario's (a scenario
    that does not parse is not built, but its manifests can still be read)."""
    try:
        loaded = load_objects(manifests, nodes=nodes)
    except KspecError as err:  # the files could not be listed: say so once
        return list(getattr(err, "diagnostics", ())) or [Diagnostic(", ".join(manifests), None, str(err))]
    return [d for d in loaded.diagnostics if d.severity == "error"]


def outside(base: pathlib.Path, target: pathlib.Path) -> bool:
    """Whether ``target`` (symbolic links followed) lies outside the folder ``base``."""
    try:
        target.resolve().relative_to(base.resolve())
    except ValueError:
        return True
    return False


OUTSIDE = ("is outside the scenario's folder; a scenario names only files under its own folder "
           "unless allowed with --allow-paths-outside")


def parse_scenario(path: str | pathlib.Path, params: Mapping[str, Any] | None = None, *,
                   allow_outside: bool = False) -> Scenario:
    """Read and check a scenario file; raises :class:`ScenarioError` with every problem.

    ``manifests:`` and controller ``module:`` paths must stay under the
    scenario's folder (``../../etc/passwd`` and absolute paths are refused)
    unless ``allow_outside``: a scenario from elsewhere reads, and runs, only
    what sits beside it.
    """
    path = pathlib.Path(path)
    params = dict(params or {})
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError([Diagnostic(file, None, f"cannot read scenario: {err}")]) from None
    try:
        docs = list(load_documents(text))
    except YamlError as err:
        raise ScenarioError([Diagnostic(file, err.line, err.message)]) from None
    if len(docs) != 1 or not isinstance(docs[0].value, dict):
        raise ScenarioError([Diagnostic(file, 1, "a scenario file is one YAML mapping (name, manifests, checks, ...)")])
    doc = docs[0]
    data = doc.value
    r = _Reader(file, doc)
    base = path.parent
    for key in data:
        if key not in KEYS:
            r.error((key,), f"unknown key {key!r}; scenario keys are: {', '.join(KEYS)}")
    if data.get("kind") is not None or data.get("apiVersion") is not None:
        r.error(("kind",), "this looks like a Kubernetes manifest, not a scenario; list it under manifests:")

    manifests = []
    before_manifests = len(r.problems)
    for i, item in enumerate(_as_list(r, data.get("manifests"), ("manifests",))):
        p = base / str(item)
        if not allow_outside and outside(base, p):
            r.error(("manifests", i), f"{str(item)!r} {OUTSIDE}")
        elif not p.exists():
            r.error(("manifests", i), f"no such file or folder: {p}")
        manifests.append(str(p))
    if not manifests and "manifests" not in data:
        r.problems.add(1, "missing required key", "manifests")
    nodes = tuple(str(n) for n in _as_list(r, data.get("nodes"), ("nodes",)))
    manifests_readable = len(r.problems) == before_manifests and manifests

    start = str(params.pop("start", data.get("start", "settled")))
    if start not in STARTS:
        r.error(("start",), f"start must be one of {', '.join(STARTS)}, got {start!r}")
    prepare = []
    for i, kind in enumerate(_as_list(r, data.get("prepare"), ("prepare",))):
        if kind not in FAULT_KINDS:
            r.error(("prepare", i), f"unknown fault kind {kind!r}; the kinds are: {', '.join(FAULT_KINDS)}")
        prepare.append(str(kind))
    scheduler = str(params.pop("scheduler", data.get("scheduler", "all")))
    if scheduler not in SCHEDULER_MODES:
        r.error(("scheduler",), f"scheduler must be one of {', '.join(SCHEDULER_MODES)}, got {scheduler!r}")

    faults = data.get("faults") or {}
    kinds: Any = []
    budget = None
    if not isinstance(faults, dict):
        r.error(("faults",), "expected a mapping {budget: N, kinds: [...]}")
    else:
        for key in faults:
            if key not in ("budget", "kinds"):
                r.error(("faults", key), f"unknown key {key!r} (use budget and kinds)")
        raw_kinds = faults.get("kinds") or []
        if isinstance(raw_kinds, dict):
            kinds = {}
            for k, cap in raw_kinds.items():
                if k not in FAULT_KINDS:
                    r.error(("faults", "kinds", k), f"unknown fault kind {k!r}; the kinds are: {', '.join(FAULT_KINDS)}")
                value = _int(r, cap, ("faults", "kinds", k))
                kinds[str(k)] = value or 0
        else:
            kinds = []
            for i, k in enumerate(_as_list(r, raw_kinds, ("faults", "kinds"))):
                if k not in FAULT_KINDS:
                    r.error(("faults", "kinds", i), f"unknown fault kind {k!r}; the kinds are: {', '.join(FAULT_KINDS)}")
                kinds.append(str(k))
        if "budget" in faults:
            budget = _int(r, faults["budget"], ("faults", "budget"))
    if "budget" in params:
        budget = _param_int(r, params, "budget", 0)

    operations = []
    for i, item in enumerate(_as_list(r, data.get("operations"), ("operations",))):
        pair = _one_key(r, item, ("operations", i))
        if pair is None:
            continue
        verb, body = pair
        if verb == "drain" and isinstance(body, dict) and "node" in body:
            operations.append((verb, str(body["node"]), None, r.line("operations", i)))
            continue
        if verb not in ("scale", "delete", "rollout", "force-delete") or not isinstance(body, dict) or "workload" not in body:
            r.error(("operations", i), "an operation is {scale: {workload: NAME, replicas: N}}, {delete: {workload: NAME}}, "
                                       "{rollout: {workload: NAME, image: IMAGE}}, {force-delete: {workload: NAME}} "
                                       "or {drain: {node: NODE}}")
            continue
        value = None
        if verb == "scale":
            value = _int(r, body.get("replicas"), ("operations", i, verb, "replicas"))
        elif verb == "rollout" and body.get("image") is not None:
            value = str(body["image"])
        elif verb == "delete" and body.get("propagationPolicy", "Background") != "Background":
            value = str(body["propagationPolicy"])
            if value not in PROPAGATION:
                r.error(("operations", i, verb, "propagationPolicy"),
                        f"propagationPolicy is Background, Foreground or Orphan, got {value!r}")
        operations.append((verb, str(body["workload"]), value, r.line("operations", i)))

    controllers = []
    for i, item in enumerate(_as_list(r, data.get("controllers"), ("controllers",))):
        if not isinstance(item, dict) or "module" not in item:
            r.error(("controllers", i), "a controller is {module: path/to/controller.py, params: {...}}")
            continue
        module = base / str(item["module"])
        if not allow_outside and outside(base, module):
            r.error(("controllers", i, "module"), f"{str(item['module'])!r} {OUTSIDE}")
        elif not module.is_file():
            r.error(("controllers", i, "module"), f"no such file: {module}")
        extra = item.get("params") or {}
        if not isinstance(extra, dict):
            r.error(("controllers", i, "params"), "params must be a mapping")
            extra = {}
        controllers.append((str(module), dict(extra), r.line("controllers", i)))

    disable = tuple(str(x) for x in _as_list(r, data.get("disable"), ("disable",)))
    for i, actor in enumerate(disable):
        if actor not in BUILTIN_ACTORS:
            r.error(("disable", i), f"unknown controller {actor!r}; built-in controllers: {', '.join(BUILTIN_ACTORS)}")
    staleness, informed = _consistency(r, data.get("consistency"))
    etcd_members = _etcd(r, data.get("etcd"))
    lifecycle = _lifecycle(r, data.get("nodeLifecycle"))
    load = _load(r, data.get("load"))
    gc_threshold = data.get("podGCThreshold", 12500)
    gc_threshold = _int(r, gc_threshold, ("podGCThreshold",)) if gc_threshold is not None else 12500
    bounds = data.get("bounds") or {}
    max_pods = None
    if isinstance(bounds, dict):
        for key in bounds:
            if key != "max_pods":
                r.error(("bounds", key), f"unknown bound {key!r} (max_pods; search bounds are kspec explore options)")
        if "max_pods" in bounds:
            max_pods = _int(r, bounds["max_pods"], ("bounds", "max_pods"), minimum=1)
    else:
        r.error(("bounds",), "expected a mapping {max_pods: N}")
    if "max_pods" in params:
        max_pods = _param_int(r, params, "max_pods", 1)

    checks = []
    for i, item in enumerate(_as_list(r, data.get("checks"), ("checks",))):
        pair = _one_key(r, item, ("checks", i))
        if pair is None:
            continue
        name, body = pair
        if name == "expression":
            check = _expression_check(r, body, ("checks", i, name))
            if check is not None:
                checks.append((name, check, r.line("checks", i)))
            continue
        if name not in properties_lib.LIBRARY:
            r.error(("checks", i), f"no property named {name!r} in the library; known: {', '.join(properties_lib.names())}"
                                   " (or an expression: {name, kind, cel})")
            continue
        if body is None:
            body = {}
        if not isinstance(body, dict):
            r.error(("checks", i, name), "parameters must be a mapping")
            continue
        checks.append((name, dict(body), r.line("checks", i)))
    if "checks" not in data:
        r.problems.add(1, "missing required key", "checks")

    expect = data.get("expect") or {}
    if not isinstance(expect, dict):
        r.error(("expect",), "expected a mapping {states: N, verdicts: {...}}")
        expect = {}
    for key, value in expect.items():
        if key in ("states", "states_no_symmetry"):
            _int(r, value, ("expect", key))
        elif key == "verdicts":
            if not isinstance(value, dict):
                r.error(("expect", key), "expected a mapping {property: holds|violated}")
                continue
            for prop, verdict in value.items():
                if verdict not in VERDICTS:
                    r.error(("expect", key, prop), f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
        else:
            r.error(("expect", key), f"unknown key {key!r} (states, states_no_symmetry, verdicts)")
    for name in sorted(params):
        r.problems.add(None, f"unknown parameter {name!r}; scenario parameters: {', '.join(PARAMETERS)}")
    if r.problems:
        if manifests_readable:
            r.problems.extend(_manifest_problems(manifests, nodes))
        raise ScenarioError(r.problems)
    if budget is None:
        budget = sum(kinds.values()) if isinstance(kinds, dict) else (1 if kinds else 0)
    return Scenario(
        path=file, name=str(data.get("name") or path.stem), description=str(data.get("description") or "").strip(),
        manifests=tuple(manifests), nodes=nodes, start=start, prepare=tuple(prepare), scheduler=scheduler,
        fault_kinds=kinds, fault_budget=budget, operations=tuple(operations), controllers=tuple(controllers),
        disable=disable, pod_gc_threshold=gc_threshold, max_pods=max_pods, checks=tuple(checks),
        staleness=staleness, informed=informed, etcd_members=etcd_members, lifecycle=lifecycle, load=load,
        expect=dict(expect), lines={"checks": r.line("checks"), "faults": r.line("faults", "kinds"),
                                    "start": r.line("start"),
                                    "consistency": r.line("consistency", "controllers") or r.line("consistency")})


def _consistency(r: _Reader, value) -> tuple[int | None, tuple[str, ...] | None]:
    """``consistency: fresh`` or ``{staleness: N, controllers: [...]}``."""
    if value is None or value == "fresh":
        return None, None
    if not isinstance(value, dict):
        r.error(("consistency",), "consistency is fresh or {staleness: N, controllers: [ACTOR, ...]}")
        return None, None
    for key in value:
        if key not in ("staleness", "controllers"):
            r.error(("consistency", key), f"unknown key {key!r} (staleness, controllers)")
    staleness = _int(r, value.get("staleness", 0), ("consistency", "staleness"))
    controllers = None
    if "controllers" in value:
        controllers = tuple(str(c) for c in _as_list(r, value["controllers"], ("consistency", "controllers")))
        for i, actor in enumerate(controllers):
            if actor in BUILTIN_ACTORS and actor not in INFORMED_BUILTINS:
                r.error(("consistency", "controllers", i),
                        f"{actor!r} reads the API directly in kspec; controllers with an informer cache: "
                        f"{', '.join(INFORMED_BUILTINS)} and user controllers")
    return (0 if staleness is None else staleness), controllers


def _load(r: _Reader, value) -> dict:
    """``load: {WORKLOAD: {METRIC: VALUE or [VALUE, ...]}}``, each value read by
    :func:`~kspec.simulation.controllers.podautoscaler.parse_reading`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        r.error(("load",), "load is {WORKLOAD: {METRIC: VALUE}} (VALUE: 40%, 200m, or a list of them)")
        return {}
    out = {}
    for workload, metrics in value.items():
        if not isinstance(metrics, dict):
            r.error(("load", workload), "expected a mapping {METRIC: VALUE} (cpu: 40%)")
            continue
        readings = {}
        for metric, reading in metrics.items():
            try:
                readings[str(metric)] = parse_reading(reading)
            except ValueError as err:
                r.error(("load", workload, metric), str(err))
        out[str(workload)] = readings
    return out


def _etcd(r: _Reader, value) -> int:
    if value is None:
        return 1
    if not isinstance(value, dict) or set(value) - {"members"}:
        r.error(("etcd",), "etcd is {members: N} (an odd number of members)")
        return 1
    members = _int(r, value.get("members", 1), ("etcd", "members"), minimum=1)
    if members is not None and members % 2 == 0:
        r.error(("etcd", "members"), f"an etcd cluster has an odd number of members (got {members}: "
                                     f"{members} tolerate no more failures than {members - 1})")
    return members or 1


def _lifecycle(r: _Reader, value) -> EvictionRule:
    if value is None:
        return EvictionRule()
    if not isinstance(value, dict):
        r.error(("nodeLifecycle",), "nodeLifecycle is {evictions: zone-aware|naive, unhealthyZoneThreshold: F, "
                                    "largeClusterSizeThreshold: N, secondaryEvictionRate: F}")
        return EvictionRule()
    fields = {"evictions": "evictions", "unhealthyZoneThreshold": "unhealthy_zone_threshold",
              "largeClusterSizeThreshold": "large_cluster_size_threshold",
              "secondaryEvictionRate": "secondary_eviction_rate"}
    values = {}
    for key, raw in value.items():
        if key not in fields:
            r.error(("nodeLifecycle", key), f"unknown key {key!r} ({', '.join(fields)})")
        elif key == "evictions":
            if raw not in ("zone-aware", "naive"):
                r.error(("nodeLifecycle", key), f"evictions is zone-aware or naive, got {raw!r}")
            values[fields[key]] = raw
        elif key == "largeClusterSizeThreshold":
            number = _int(r, raw, ("nodeLifecycle", key), minimum=1)
            if number is not None:
                values[fields[key]] = number
        elif isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
            r.error(("nodeLifecycle", key), f"expected a number of at least 0, got {raw!r}")
        else:
            values[fields[key]] = float(raw)
    return EvictionRule(**values)


# --------------------------------------------------------------------------- building the model


def _import_controller(path: str, params: dict, scenario: Scenario, line):
    """Load a user controller module and return its controller object."""
    try:
        module = import_user_module(pathlib.Path(path), "controller")
    except ModelError as err:
        if isinstance(err.__cause__, BudgetExceeded):  # the run's bound, not a fault of the module
            raise err.__cause__ from None
        raise ScenarioError([Diagnostic(scenario.path, line, str(err))]) from None
    if hasattr(module, "build_controller"):
        try:
            controller = module.build_controller(**params)
        except USER_CODE_ERRORS as err:  # user code: one line naming the module, never a traceback
            raise ScenarioError([Diagnostic(scenario.path, line, f"{path}: build_controller {user_error(err)}")]) from None
    elif hasattr(module, "controller"):
        if params:
            raise ScenarioError([Diagnostic(scenario.path, line, f"{path}: `controller` takes no params; define build_controller")])
        controller = module.controller
    else:
        raise ScenarioError([Diagnostic(scenario.path, line, f"{path}: a controller module exports `controller` or build_controller(**params)")])
    if not isinstance(getattr(controller, "actor", None), str) or not callable(getattr(controller, "steps", None)):
        raise ScenarioError([Diagnostic(scenario.path, line, f"{path}: the controller needs an `actor` name and a steps(world, state) method")])
    if controller.actor in BUILTIN_ACTORS + ("fault", "user"):
        raise ScenarioError([Diagnostic(scenario.path, line, f"{path}: actor name {controller.actor!r} is taken by a built-in")])
    return controller


def _template_pods(controllers, scenario: Scenario) -> list:
    """The pods user controllers say they create (``templates()``), as records."""
    pods = []
    for controller, (path, _, line) in zip(controllers, scenario.controllers):
        try:
            manifests = list(getattr(controller, "templates", lambda: [])())
        except USER_CODE_ERRORS as err:  # user code: one line naming the module, never a traceback
            raise ScenarioError([Diagnostic(scenario.path, line, f"{path}: templates() {user_error(err)}")]) from None
        for manifest in manifests:
            manifest = dict(manifest) if isinstance(manifest, Mapping) else manifest
            pods.append(parse_object(manifest, file=f"<{controller.actor} template>"))
    return pods


def build_model(scenario: Scenario, budget: Budget | None = None, *, slicing: bool = True,
                checked: Collection[str] | None = None) -> "ClusterModel":
    """The model a parsed scenario describes; ``budget`` bounds its loading here
    and its settling later (see :meth:`ClusterModel.init_states`). ``slicing``:
    leave out what no check reads (:mod:`kspec.simulation.slicing`), judged on
    the checks named in ``checked`` (None: every check), the ones a run will
    check (``kspec explore --property``)."""
    budget = budget or Budget()
    budget.check(LOADING)
    try:
        cluster = load(list(scenario.manifests), nodes=scenario.nodes)
    except LoadError:
        raise
    budget.check(LOADING)
    # What the scenario names in its manifests (controllers' templates, workloads,
    # nodes, services in checks) is checked here, every problem reported at once.
    problems = Diagnostics(scenario.path)
    custom = []
    with budget.watchdog(LOADING):  # user controllers' module code and build_controller run here
        for path, params, line in scenario.controllers:
            try:
                custom.append(_import_controller(path, params, scenario, line))
            except ScenarioError as err:
                problems.extend(err.diagnostics)
    try:
        check_pod_count(cluster, scenario)
    except ScenarioError as err:  # too large to build: report it with what was found so far
        problems.extend(err.diagnostics)
        problems.raise_if_any(ScenarioError)
    rollouts = {workload: value for verb, workload, value, _ in scenario.operations if verb == "rollout"}
    try:
        templates = _template_pods(custom, scenario) if not problems else []  # lines pair up only when all loaded
        world = World(cluster, extra_templates=templates, pod_gc_threshold=scenario.pod_gc_threshold,
                      rollouts=rollouts)
    except LoadError as err:  # a manifest's own problem, already at its file and line
        problems.extend(err.diagnostics)
        problems.raise_if_any(type(err))
    except KspecError as err:
        problems.add(None, str(err))
        problems.raise_if_any(ScenarioError)
    try:
        world.autoscalers = autoscalers(world, cluster.of_kind("HorizontalPodAutoscaler"), scenario.load)
    except LoadError as err:  # an HPA's own problem, at its manifest's line
        problems.extend(err.diagnostics)
        problems.raise_if_any(ScenarioError)
    for hpa in world.autoscalers:  # each HPA's stored status
        world.status_slots[hpa.key] = len(world.status_slots)
        world.status_initial += (HPAStatus(),)
    controllers = builtin_controllers(scenario.scheduler, scenario.disable) + custom
    read = [c for c in scenario.checks if checked is None or check_name(c[0], c[1]) in checked]
    controllers, slice_note = slice_controllers(world, read, controllers, custom, slicing, scenario.informed or ())
    faults = FaultBudget()
    try:
        faults = FaultBudget.of(scenario.fault_kinds, scenario.fault_budget)
    except KspecError as err:
        problems.add(None, f"faults: {err}")
    controllers += _control_plane(world, scenario, controllers, custom, faults)
    world.controllers = tuple(controllers)
    operations = _operations(world, scenario, problems)
    if any(name in properties_lib.GENERATION_CHECKS for name, _, _ in scenario.checks):
        track_generations(world, operations)  # metadata.generation and status.observedGeneration
    environment = []
    if faults.kinds and faults.total > 0:
        environment.append(FaultInjector(faults))
    if operations:
        environment.append(UserOperations(tuple(operations)))
    symmetric = all(c.actor not in world.memory_slots or hasattr(c, "rename_memory") for c in custom)
    cls = SymmetricClusterModel if symmetric else ClusterModel
    model = cls(scenario, world, tuple(controllers), tuple(environment), faults)
    model.run_budget = budget
    model.slice_note = slice_note
    model.warnings = (ignored_kinds(cluster) + _idle_faults(world, scenario, faults) + _batch_start(world, scenario)
                      + _idle_informers(world, scenario))
    model.warnings += tuple(world.unmodelled_finalizers.values())
    try:
        model.properties()  # resolve names now, so a bad parameter is a scenario error
    except ScenarioError as err:
        problems.extend(err.diagnostics)
    problems.raise_if_any(ScenarioError)
    return model


def _control_plane(world: World, scenario: Scenario, controllers: list, custom: list, faults: FaultBudget) -> list:
    """Set the world's control plane from the scenario (etcd, eviction rule,
    informer caches, controllers' memory); returns the sources it adds (the
    watch stream's deliveries, when caches can lag)."""
    world.etcd_members = scenario.etcd_members
    world.lifecycle = scenario.lifecycle
    if any(verb == "delete" and value for verb, _, value, _ in scenario.operations):
        add_status_slot(world, DELETIONS, tuple(None for _ in world.workloads))
    if any(verb == "delete" and value == "Orphan" for verb, _, value, _ in scenario.operations):
        add_status_slot(world, RELEASED, tuple(False for _ in world.workloads))  # a Deployment's orphaned ReplicaSets
    informed_actors = scenario.informed
    if informed_actors is None:  # the replication manager only when it has something to manage
        informed_actors = (("replication",) if world.replicated else ()) + tuple(c.actor for c in custom)
    consistency = Consistency(scenario.staleness, tuple(informed_actors),
                              time_travel="controller-restart" in faults.kinds and bool(scenario.staleness))
    world.consistency = consistency
    world.informed = tuple(c for c in controllers if consistency.informed(c.actor))
    world.informer_slots = {c.actor: k for k, c in enumerate(world.informed)}
    world.memory_slots = {}
    for c in controllers:
        keeps = c in custom or (not consistency.fresh and c.actor == "replication")  # expectations, named or not
        keeps = keeps or (consistency.informed(c.actor) and c.actor in INFORMED_BUILTINS)
        keeps = keeps or (hasattr(c, "keeps_memory") and c.keeps_memory(world))  # a built-in's own say (HPAs)
        if keeps and hasattr(c, "initial_memory"):
            world.memory_slots[c.actor] = len(world.memory_slots)
    return [Informers()] if world.informed and scenario.staleness else []


def _idle_faults(world: World, scenario: Scenario, faults: FaultBudget) -> tuple[Diagnostic, ...]:
    """A warning for each fault kind the scenario allows that can never happen here."""
    out = []
    for c in world.controllers:
        if (hasattr(c, "observe") and c.actor not in world.informer_slots
                and not type(c).__module__.startswith(_BUILTIN_PACKAGE)):
            out.append(Diagnostic(scenario.path, None, f"controller {c.actor} has event handlers (observe) but reads "
                                  "the API directly, so they never run; set consistency: {staleness: N} to give it "
                                  "an informer", severity="warning", code="handlers-never-run"))
    for kind in faults.kinds:
        why = can_fire(world, kind)
        if why is not None:
            out.append(Diagnostic(scenario.path, scenario.lines.get("faults"), f"fault {kind} can never happen: {why}",
                                  severity="warning", code="fault-never-fires"))
    return tuple(out)


def _idle_informers(world: World, scenario: Scenario) -> tuple[Diagnostic, ...]:
    """A warning for each controller ``consistency.controllers`` names that
    reads nothing through its cache here: none by that name runs, or it has
    nothing to manage in these manifests."""
    if scenario.informed is None or scenario.staleness is None:
        return ()
    running = {c.actor for c in world.controllers}
    manages = {"replication": bool(world.replicated), "job": bool(world.jobs),
               "statefulset": bool(world.statefulsets), "deployment": bool(world.deployments),
               "daemonset": bool(world.daemonsets),
               "endpoints": any(info.selector is not None for info in world.services)}
    out = []
    for actor in scenario.informed:
        if actor not in running:
            why = "is disabled" if actor in BUILTIN_ACTORS else "names no controller of this scenario"
        elif not manages.get(actor, True):
            why = "has nothing to manage here (" + {"replication": "no ReplicationController or ReplicaSet",
                                                    "job": "no Job", "statefulset": "no StatefulSet",
                                                    "deployment": "no Deployment", "daemonset": "no DaemonSet",
                                                    "endpoints": "no Service with a selector"}[actor] + ")"
        else:
            continue
        out.append(Diagnostic(scenario.path, scenario.lines.get("consistency"),
                              f"consistency.controllers: {actor} {why}, so no cache of it is read",
                              severity="warning", code="cache-never-read"))
    return tuple(out)


def _batch_start(world: World, scenario: Scenario) -> tuple[Diagnostic, ...]:
    """A warning when Jobs run to their end before the exploration starts: a
    settled start is where the controllers have nothing left to do, which for
    a Job is after it finished (and for a CronJob, after its explored runs)."""
    if scenario.start == "applied" or not world.jobs:
        return ()
    return (Diagnostic(scenario.path, scenario.lines.get("start"), f"start: {scenario.start} runs every Job to its "
                       "end before any fault or operation; use start: applied to explore a Job while it runs",
                       severity="warning", code="job-settled"),)


def _operations(world: World, scenario: Scenario, problems: Diagnostics) -> list[Operation]:
    """The scenario's operations on the world's workloads and nodes; each one
    that names something missing or unfit is a problem at its line."""
    operations = []
    for verb, workload, value, line in scenario.operations:
        if verb == "drain":
            try:
                operations.append(Operation(verb, node=world.node_named(workload)))
            except KspecError as err:
                problems.add(line, str(err))
            continue
        try:
            w = world.workload_named(workload)
        except KspecError as err:
            problems.add(line, str(err))
            continue
        if verb == "rollout":
            if world.workloads[w].kind not in ("Deployment", "StatefulSet", "DaemonSet"):
                problems.add(line, f"rollout: {world.workloads[w].ref} is not a Deployment, StatefulSet "
                                   "or DaemonSet (only those roll to a new template)")
            elif w in world.rollout_bits:
                problems.add(line, f"rollout: {world.workloads[w].ref} is rolled out twice")
            else:
                world.rollout_bits[w] = len(operations)
                operations.append(Operation(verb, w, image=value))
        elif verb == "scale" and world.workloads[w].kind == "DaemonSet":
            problems.add(line, f"scale: {world.workloads[w].ref} has no replicas "
                               "(a DaemonSet runs one pod per eligible node)")
        elif verb == "scale" and world.workloads[w].kind == "Job":
            problems.add(line, f"scale: {world.workloads[w].ref} has no replicas "
                               "(a Job runs its parallelism, fixed in its manifest)")
        elif verb == "force-delete" and not world.workloads[w].owns_pods:
            problems.add(line, f"force-delete: {world.workloads[w].ref} owns no pods "
                               "(name the ReplicaSet, RC, StatefulSet or DaemonSet)")
        else:
            operations.append(Operation(verb, w, value if verb == "scale" else None,
                                        propagation=value if verb == "delete" and value else "Background"))
    return operations


# More pods than this cannot be explored state by state (every pod is a
# component of every state, and one step can have a successor per pod and
# node); placement questions at any size are for ``kspec schedule``.
MAX_SCENARIO_PODS = 1000
REPLICATED = ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet")


def check_pod_count(cluster, scenario: Scenario) -> None:
    """A scenario whose workloads ask for more than :data:`MAX_SCENARIO_PODS`
    pods is a scenario error at the workload (or the scale operation) that
    goes over, before anything is built."""
    total = 0
    for obj in cluster.of_kind(*REPLICATED):
        total += obj.spec.replicas or 0
        if total > MAX_SCENARIO_PODS:
            raise ScenarioError([Diagnostic(str(obj.source.file), obj.source.line, _too_many(total), "spec.replicas")])
    for obj in cluster.of_kind("Job"):  # every completion is a pod (an Indexed Job's, a template each)
        total += obj.spec.completions or obj.spec.parallelism
        if total > MAX_SCENARIO_PODS:
            raise ScenarioError([Diagnostic(str(obj.source.file), obj.source.line, _too_many(total),
                                            "spec.completions")])
    for obj in cluster.of_kind("CronJob"):  # a Job per explored activation
        raw = obj.raw if isinstance(obj.raw, dict) else {}
        job = ((raw.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        size = job.get("completions") or job.get("parallelism") or 1
        total += CRON_HORIZON * (size if isinstance(size, int) and not isinstance(size, bool) else 1)
        if total > MAX_SCENARIO_PODS:
            raise ScenarioError([Diagnostic(str(obj.source.file), obj.source.line, _too_many(total),
                                            "spec.jobTemplate.spec.completions")])
    for verb, workload, value, line in scenario.operations:
        if verb == "scale" and isinstance(value, int) and value > MAX_SCENARIO_PODS:
            raise ScenarioError([Diagnostic(scenario.path, line, _too_many(value), "operations.scale.replicas")])


def _too_many(count: int) -> str:
    return (f"{count:,} pods are more than a scenario can explore (at most {MAX_SCENARIO_PODS:,}); "
            "kspec schedule answers placement questions at any size")


IGNORED_KINDS = {
    "VerticalPodAutoscaler": "requests stay as the manifests set them",
    "NetworkPolicy": "every pod can reach every Service endpoint",
    "ResourceQuota": "pod creations are never refused for quota",
    "LimitRange": "no default requests or limits are added to pods",
    "PriorityClass": "no pod preempts another",
    "PersistentVolumeClaim": "volumes never hold a pod back from a node",
}


def ignored_kinds(cluster) -> tuple[Diagnostic, ...]:
    """Warnings for objects that change a real cluster's behaviour but that
    the explored model leaves out, each saying what the model assumes instead."""
    out = []
    for obj in cluster.of_kind(*IGNORED_KINDS):
        out.append(Diagnostic(str(obj.source.file), obj.source.line,
                              f"{obj.kind}/{obj.metadata.name} is ignored by kspec explore: "
                              f"{IGNORED_KINDS[obj.kind]}", severity="warning", code="not-modelled"))
    return tuple(out)


def load_scenario(path: str | pathlib.Path, params: Mapping[str, Any] | None = None,
                  budget: Budget | None = None, *, allow_outside: bool = False, slicing: bool = True,
                  checked: Collection[str] | None = None) -> "ClusterModel":
    """The model of a ``.yaml`` scenario file (what ``load_model`` calls); ``budget``
    bounds loading and settling, raising :class:`BudgetExceeded` with the phase;
    ``slicing``: leave out controllers whose output none of the ``checked``
    checks (None: every check) reads."""
    return build_model(parse_scenario(path, params, allow_outside=allow_outside), budget, slicing=slicing,
                       checked=checked)


def check_name(name: str, params: Mapping[str, Any]) -> str:
    """The property name a scenario check gets: its ``as:``, a CEL check's
    ``name``, else the library name."""
    if name == "expression":
        return params["name"]
    return params.get("as") or name


NOT_MODELLED = ("real time (delays such as the node-monitor grace period, informer latency and back-off are steps "
                "that may happen at any later point); informer caches unless the scenario sets consistency: (and "
                "then only for pod events, the replication manager, the job, StatefulSet and endpoints controllers "
                "when named, and user controllers); a resourceVersion per "
                "object (preconditions compare the record read with the current one); generation, except a "
                "Deployment's, StatefulSet's or DaemonSet's where a check reads it; finalizers on StatefulSet, "
                "DaemonSet and Job templates; the "
                "network between pods beyond reachability of the API server; admission webhooks; anything not "
                "listed as a controller or a fault above.")
"""What every scenario leaves out; reports list it under the assumptions."""


class ClusterModel:
    """A scenario as a model (the protocol of :mod:`kspec.checker.model`).

    States are :class:`~kspec.simulation.state.State` values; actions are the controllers'
    and faults' action records. ``world`` is public (reports draw the API and
    physical views from it); ``expected`` holds the scenario's ``expect:``.
    """

    def __init__(self, scenario: Scenario, world: World, controllers, environment, budget: FaultBudget):
        self.scenario = scenario
        self.name = scenario.name
        self.world = world
        self.controllers = tuple(controllers)
        self.environment = tuple(environment)
        self.budget = budget
        self.sources = self.controllers + self.environment
        self.builtin = frozenset(c for c in self.sources if type(c).__module__.startswith("kspec."))
        self.fair = frozenset(c.actor for c in self.controllers if getattr(c, "fair", True))
        self.expected = scenario.expect
        self.max_pods = scenario.max_pods if scenario.max_pods is not None else self._default_max_pods()
        self._steps_state = None
        self._steps: dict = {}
        self._actions_state = None  # the state symmetric_step_list last listed, and its actions
        self._actions: list = []
        # steps memoised on all but Endpoints (kspec.simulation.stepcache); None: each state's computed afresh,
        # as always with a modelled API server (steps then carry watch events built from the whole state)
        self.step_cache = None if self.control_plane else StepCache.for_sources(world, self.sources, self.builtin)
        self._init: tuple | None = None
        self._canon = Canonicaliser(world, rename_memory=self._rename_memory_fn(), pinned=self._named_nodes(),
                                    memory_marks=self._memory_marks_fn(), layouts=self.step_cache is not None)
        self._props: tuple[Property, ...] | None = None
        self.warnings: tuple[Diagnostic, ...] = ()  # what the model leaves out (see ignored_kinds)
        self.slice_note = ""  # what slicing left out (kspec.simulation.slicing), "" for nothing
        self.reduce_settling = True  # start: settled uses stubborn sets (Settling; the explorer's --no-por clears it)
        self.run_budget = Budget()  # the run's time and memory bounds, checked while settling

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_steps_state"], state["_steps"], state["_props"] = None, {}, None
        state["_actions_state"], state["_actions"] = None, []
        return state

    def _default_max_pods(self) -> int:
        replicas = sum(w.replicas for w in self.world.workloads)
        # a Job keeps its finished pods: each completion, and a replacement per failure the budget allows
        replicas += sum(len(self.world.job_groups[w]) if self.world.job_specs[w].indexed
                        else self.world.job_specs[w].completions or 0 for w in self.world.jobs)
        scaled = sum((op.replicas or 0) for env in self.environment for op in getattr(env, "operations", ()))
        scaled += sum(hpa.max_replicas for hpa in self.world.autoscalers)  # as far as an autoscaler may go
        # every pod and one replacement each, and another generation per fault beyond the first (each fault
        # may strand every pod on its node, as a terminating record beside its replacement)
        generations = max(2, 1 + self.budget.total)
        return (generations * (replicas + scaled) + len(self.world.bare_pods) + 2 * len(self.world.template_groups)
                + 2)

    def _named_nodes(self) -> frozenset[int]:
        """Nodes that operations or CEL checks single out by name: symmetry must not swap them."""
        named = {op.node for env in self.environment for op in getattr(env, "operations", ()) if op.node >= 0}
        for name, params, _ in self.scenario.checks:
            if name == "expression":
                named |= {i for i, n in enumerate(self.world.node_names)
                          if f'"{n}"' in params["cel"] or f"'{n}'" in params["cel"]}
        return frozenset(named)

    def _memory_marks_fn(self):
        """The pod names controllers' memory holds, for canonical renaming (None: no such memory)."""
        hooks = []
        for c in self.controllers:
            slot = self.world.memory_slots.get(c.actor)
            if slot is not None and hasattr(c, "memory_marks"):
                hooks.append((slot, c.memory_marks))
        if not hooks:
            return None

        def marks(memory):
            for slot, hook in hooks:
                for name, mark in hook(memory[slot]):
                    yield name, (slot, mark)
        return marks

    def _rename_memory_fn(self):
        hooks = []
        for c in self.controllers:
            slot = self.world.memory_slots.get(c.actor)
            if slot is not None and hasattr(c, "rename_memory"):
                hooks.append((slot, c.rename_memory))
        if not hooks:
            return None

        def rename(memory, mapping):
            memory = list(memory)
            for slot, hook in hooks:
                memory[slot] = hook(memory[slot], mapping)
            return tuple(memory)
        return rename

    # ---------------------------------------------------------------- the protocol

    def init_states(self):
        """The start states; settling them runs every controller (user code
        included) under the run's budget: :class:`BudgetExceeded` names the phase."""
        if self._init is None:
            with self.run_budget.watchdog(SETTLING):
                self._init = tuple(self._initial())
        return self._init

    def actions(self, state: State):
        if self._actions_state is state:
            return self._actions
        return list(self._step_map(state))

    def next_state(self, state: State, action):
        return self._step_map(state).get(action)

    def step_list(self, state: State) -> list:
        """(action index, next state) per step: what ``successors`` gives, at once (the explorer's path)."""
        return list(enumerate(self._step_map(state).values()))

    def properties(self):
        if self._props is None:
            props, lines = [], []
            problems = Diagnostics(self.scenario.path)
            views = views_for(self.world)
            for index, (name, params, line) in enumerate(self.scenario.checks):
                try:
                    if name == "expression":
                        props.append(expression_property(self.world, self.fair, params["name"], params["kind"],
                                                         compile_check(params["cel"]), params["description"], views))
                    else:
                        props.append(properties_lib.build(self.world, self.fair, name, params))
                    lines.append(line)
                except ExpressionError as err:  # a name the manifests do not define
                    for problem in err.problems:
                        problems.add(line, problem, f"checks[{index}].expression.cel")
                except KspecError as err:  # every check's problem, not only the first
                    problems.add(line, str(err))
            taken = [p.name for p in props]
            for index, (line, prop) in enumerate(zip(lines, props)):
                if taken.count(prop.name) > 1 and taken.index(prop.name) == index:  # once, at the first
                    problems.add(line, f"two checks are named {prop.name!r}; rename one (as: or name:)")
            problems.raise_if_any(ScenarioError)
            self._props = properties_lib.with_fault_witness(props, self.scenario.fault_budget)
        return self._props

    def within_boundary(self, state: State) -> bool:
        return len(state.pods) <= self.max_pods

    def footprints(self, state: State):
        """What ``state``'s enabled steps read and write, for partial-order reduction."""
        return self.footprinting.of(state, self.actions(state))

    def visible_keys(self, props):
        """The keys ``props`` and ``within_boundary`` read (partial-order reduction's visibility)."""
        return self.footprinting.visible(props, self.properties(), self.scenario.checks)

    def undeclared_steps(self) -> str:
        """Which steps have no declared footprint ('' when all have): the reduction is then off."""
        return self.footprinting.unknown

    @functools.cached_property
    def footprinting(self) -> Footprinting:
        return Footprinting(self)

    # ---------------------------------------------------------------- steps

    def _step_map(self, state: State) -> dict:
        if self._steps_state is state or (self._steps_state is not None and self._steps_state == state):
            return self._steps
        steps: dict = {}
        add = steps.setdefault  # the first step with an action wins
        if self.control_plane:
            for source in self.sources:
                for action, nxt in source.steps(self.world, state):
                    nxt = self._through_api(state, nxt)
                    if nxt is not None:
                        add(action, nxt)
            self._steps_state, self._steps = state, steps
            return steps
        if self.step_cache is not None:
            steps = self.step_cache.step_map(state)
            self._steps_state, self._steps = state, steps
            return steps
        for source in self.sources:
            if source in self.builtin:
                for action, nxt in source.steps(self.world, state):
                    add(action, nxt)
            else:
                for action, nxt in source.steps(self.world, state):
                    if nxt != state:
                        add(action, nxt)
        self._steps_state, self._steps = state, steps
        return steps

    @property
    def control_plane(self) -> bool:
        """Whether steps pass through the modelled API server (informer caches
        or an etcd that can lose quorum); off, a step is taken as it comes."""
        return bool(self.world.informed) or self.world.etcd_members > 1

    def _through_api(self, state: State, nxt: State) -> State | None:
        """The step ``state -> nxt`` as the API server lets it happen: without
        etcd quorum no write succeeds (a step that would change what the API
        holds does not happen); the pod changes it makes go out on the watch
        stream. None: no step."""
        if nxt == state:
            return None
        if not has_quorum(self.world, state) and _api_view(state) != _api_view(nxt):
            return None
        if self.world.informed:
            nxt = record_events(self.world, state, nxt)
        return nxt

    def controller_steps(self, state: State) -> list:
        """(action, next) for the controllers only (no faults, no user operations)."""
        out = []
        for source in self.controllers:
            for action, nxt in source.steps(self.world, state):
                if self.control_plane:
                    nxt = self._through_api(state, nxt)
                    if nxt is not None:
                        out.append((action, nxt))
                elif nxt != state:
                    out.append((action, nxt))
        return out

    # ---------------------------------------------------------------- initial states

    def applied_state(self) -> State:
        """The manifests just applied: workloads with no pods yet, bare pods Pending."""
        world = self.world
        pods = []
        for pod, group in world.bare_pods:
            node = world.node_index.get(pod.spec.node_name, -1) if pod.spec.node_name else -1
            pods.append(PodRec(name=pod.metadata.name, group=group, owner=world.owner_of_ref(pod), node=node,
                               phase=PENDING, run=NOT_RUNNING))
        nodes = []
        for node in world.nodes:
            ready = READY
            for cond in node.status.conditions:
                if cond.type == "Ready" and cond.status != "True":
                    ready = UNKNOWN
            nodes.append(NodeRec(ready=ready))
        memory = [None] * len(world.memory_slots)
        for c in self.controllers:
            if c.actor in world.memory_slots:
                memory[world.memory_slots[c.actor]] = c.initial_memory(world)
        return State(pods=tuple(sorted(pods, key=lambda p: p.name)), nodes=tuple(nodes),
                     endpoints=tuple(() for _ in world.services),
                     replicas=world.initial_replicas(), memory=tuple(memory),
                     faults=self.budget.initial_counts(), ops=0,
                     informers=tuple(InformerRec() for _ in world.informed), status=tuple(world.status_initial))

    def settle(self, starts) -> list[State]:
        """Every state the controllers alone reach from ``starts`` in which they
        have nothing left to do (up to symmetry). Runs under the run's budget
        (its time, memory and ``max_states``; a :class:`BudgetExceeded` says how
        many states were stored) and shows its progress line."""
        canon = self._reduce
        budget = self.run_budget
        limit = budget.max_states if budget.max_states is not None else SETTLE_LIMIT + 1
        seen = set()
        queue = collections.deque()
        settled = []
        progress = Progress(budget.progress)
        try:
            for s in starts:
                c = canon(s)
                if c not in seen:
                    seen.add(c)
                    queue.append(c)
            tick = 0
            while queue:
                budget.check(SETTLING)
                tick += 1
                if tick >= 64:
                    tick = 0
                    progress.update("settling the initial state:", len(seen), f"{len(settled):,} settled",
                                    f"queue {len(queue):,}")
                s = queue.popleft()
                steps = self.controller_steps(s)
                if not steps:
                    settled.append(s)
                for _, nxt in self._stubborn(s, steps):
                    c = nxt if nxt in seen else canon(nxt)  # a stored state is its own representative
                    if c not in seen:
                        if len(seen) >= limit:  # the run's --max-states, below the settle's own limit
                            raise BudgetExceeded("max_states", SETTLING)
                        if len(seen) >= SETTLE_LIMIT:
                            raise ScenarioError([Diagnostic(self.scenario.path, None,
                                                            f"the manifests do not settle within {SETTLE_LIMIT} states "
                                                            "(every order of the rollout); use start: one (one order, "
                                                            "one settled state) or start: applied")])
                        seen.add(c)
                        queue.append(c)
        except BudgetExceeded as stop:  # the run's bound, or the watchdog inside a user controller
            stop.reached = stop.reached or f"after {len(seen):,} states, {len(settled):,} of them settled"
            raise
        finally:
            progress.done()
        if not settled:
            raise ScenarioError([Diagnostic(self.scenario.path, None,
                                            "the controllers never settle on these manifests (they loop without faults); "
                                            "use start: applied to explore the rollout itself")])
        return sorted(settled, key=repr)

    def _stubborn(self, state: State, steps: list) -> list:
        """A stubborn subset of the controllers' ``steps`` from ``state``
        (:func:`kspec.checker.reduction.ample` with nothing visible), or all of
        them. Settling looks only for states where no controller acts, and a
        stubborn set keeps every such state reachable (Valmari: the steps left
        out cannot disable the chosen ones, and the chosen ones cannot change
        what the others read), so every order of independent work need not be
        tried; the order of dependent work (two pods bound to one node's
        capacity) still is."""
        if len(steps) < 2 or not self.reduce_settling:
            return steps
        footprints = self.footprinting.of(state, [action for action, _ in steps], settling=True)
        chosen = None if footprints is None else ample(footprints, frozenset())
        return steps if chosen is None else [steps[i] for i in chosen]

    def settle_one(self, start: State) -> State:
        """The settled state one fixed order reaches from ``start``: each step is
        the first controller's first action (the cluster as one particular
        ``kubectl apply`` leaves it). Runs under the run's budget as :meth:`settle`
        (``max_states`` bounds the states on the way)."""
        budget = self.run_budget
        limit = budget.max_states if budget.max_states is not None else SETTLE_LIMIT + 1
        progress = Progress(budget.progress)
        state, visited = start, 1
        try:
            for _ in range(SETTLE_LIMIT):
                budget.check(SETTLING)
                progress.update("settling the initial state (one order):", visited)
                steps = self.controller_steps(state)
                if not steps:
                    return state
                if visited >= limit:
                    raise BudgetExceeded("max_states", SETTLING)
                state = steps[0][1]
                visited += 1
        except BudgetExceeded as stop:
            stop.reached = stop.reached or f"after {visited:,} states, none of them settled"
            raise
        finally:
            progress.done()
        raise ScenarioError([Diagnostic(self.scenario.path, None,
                                        f"the controllers do not settle within {SETTLE_LIMIT} steps (they loop "
                                        "without faults); use start: applied to explore the rollout itself")])

    def _settle(self, starts) -> list[State]:
        if self.scenario.start == "one":
            return [self.settle_one(s) for s in starts]
        return self.settle(starts)

    def _initial(self) -> list[State]:
        state = self.applied_state()
        if self.scenario.start == "applied":
            starts = [self._reduce(state)]
        else:
            starts = self._settle([state])
        for kind in self.scenario.prepare:
            nexts = [nxt for s in starts for _, nxt in apply_fault(self.world, s, kind)]
            if self.control_plane:
                nexts = [n for n in (self._through_api(s, nxt) for s in starts
                                     for _, nxt in apply_fault(self.world, s, kind)) if n is not None]
            if not nexts:
                raise ScenarioError([Diagnostic(self.scenario.path, None, f"prepare: {kind} can happen nowhere in the start states")])
            starts = self._settle(nexts) if self.scenario.start != "applied" else nexts
        unique = []
        seen = set()
        for s in starts:
            c = self._reduce(s)
            if c not in seen:
                seen.add(c)
                unique.append(c)
        return unique

    def _reduce(self, state: State) -> State:
        """Representative used while computing initial states (identity when
        symmetry is unsafe for this scenario)."""
        return state

    # ---------------------------------------------------------------- traces and reports

    def describe(self) -> Description:
        """The scenario's name, for a report's header."""
        return Description(self.name)

    def assumptions(self) -> tuple[tuple[str, str], ...]:
        """The nodes, the faults and what the simulation leaves out, for reports."""
        names = self.world.node_names
        out = [("nodes", f"{len(names)} nodes: {', '.join(names)}")]
        budget = self.budget
        if budget.kinds and budget.total:
            kinds = ", ".join(f"{k} (at most {c})" for k, c in zip(budget.kinds, budget.caps))
            out.append(("faults", f"at most {budget.total} fault(s) in all, of these kinds: {kinds}; "
                                  "faults may happen, never have to, and stop once the budget is spent"))
        else:
            out.append(("faults", "no faults"))
        out.append(("control plane", self._control_plane_text()))
        if self.slice_note:
            out.append(("reduction", self.slice_note))
        out.append(("not modelled", NOT_MODELLED))
        return tuple(out)

    def _control_plane_text(self) -> str:
        world = self.world
        consistency = world.consistency
        if consistency is None or consistency.fresh:
            reads = "every controller reads the API server directly; a sync is one step"
        else:
            who = ", ".join(c.actor for c in world.informed) or "no controller"
            reads = (f"{who} read through informer caches at most {consistency.staleness} pod event(s) behind; "
                     "the replication manager keeps expectations and creates in slow-start batches")
        rule = world.lifecycle.evictions if world.lifecycle is not None else "zone-aware"
        return f"{reads}; etcd of {world.etcd_members} member(s); node evictions {rule}"

    def describe_state(self, state: State) -> tuple[str, ...]:
        """A state in words, node by node, API and physical views (for traces)."""
        return describe_state(state, self.world)

    def describe_step(self, before: State, action, after: State) -> tuple[str, ...]:
        """What a step changed, in words, API and physical views (for trace tables)."""
        return describe_changes(before, after, self.world)

    def swim_lanes(self, state: State):
        """The API view and the physical view, a lane per node, and a lane per
        Service whose endpoints are synced (for report timelines)."""
        api, physical, services = lanes(state, self.world)
        if self.slice_note:
            synced = next((c.services for c in self.controllers if c.actor == "endpoints"), frozenset())
            services = tuple(lane for s, lane in enumerate(services) if s in synced)
        return api, physical, services

    def __repr__(self) -> str:
        return f"<scenario {self.name}: {len(self.world.nodes)} nodes, {len(self.world.workloads)} workloads>"


def _api_view(state: State) -> tuple:
    """What the API server holds in ``state`` (no physical fields, no memory)."""
    return (tuple(api_record(p) for p in state.pods), tuple((n.ready, n.tainted, n.cordoned) for n in state.nodes),
            state.endpoints, state.replicas, state.status)


class SymmetricClusterModel(ClusterModel):
    """A scenario whose states can be reduced by symmetry (no custom controller
    keeps pod names in memory without a ``rename_memory`` hook)."""

    def representative(self, state: State) -> State:
        return self._canon.representative(state)

    def symmetric_step_list(self, state: State, stored) -> list:
        """``[(i, x if x in stored else representative(x)) for i, x in step_list(state)]``:
        through the transition cache's kept layouts where it serves the state
        (:meth:`kspec.simulation.stepcache.StepCache.symmetric_steps`)."""
        cache, canon = self.step_cache, self._canon
        if cache is None or not canon.memoising or state.log or state.informers:
            representative = canon.representative
            return [(i, x if x in stored else representative(x)) for i, x in self.step_list(state)]
        steps, self._actions = cache.symmetric_steps(state, canon, stored)
        self._actions_state = state
        return steps

    def _reduce(self, state: State) -> State:
        return self._canon.representative(state)
