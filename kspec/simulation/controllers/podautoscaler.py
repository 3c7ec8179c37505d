"""The horizontal pod autoscaler controller, and the metrics it reads.

Follows ``pkg/controller/podautoscaler/horizontal.go`` (``reconcileAutoscaler``,
``computeReplicasForMetrics``, ``setStatus``, ``storeScaleEvent``) over the pure
arithmetic of :mod:`.autoscaling` (the replica calculator, stabilisation,
policies). One sync of one HorizontalPodAutoscaler is one step:

1. read the target's scale subresource: ``spec.replicas`` of the Deployment,
   ReplicaSet, ReplicationController or StatefulSet named by
   ``scaleTargetRef``, and its selector (every pod the target's selector
   matches: during a rollout, the pods of the old *and* the new ReplicaSet);
2. read each metric from the metrics pipeline (:func:`pod_metrics`);
3. compute each metric's proposal, take the largest, normalise it with the
   recommendations and scale events the controller remembers
   (:func:`~.autoscaling.reconcile_desired_replicas`);
4. write ``spec.replicas`` of the target when it changes (the scale
   subresource) and the HPA's status.

The metrics pipeline is the scenario's ``load:``: per target workload and
metric, the value each pod reports (a percentage of the pod's request or a
quantity; for Object and External metrics, the object's value). A list of
values is a choice the environment makes at every sync, so the explorer
branches on each reading. A Running pod reports its resource usage
(metrics-server); a Pods metric (a custom metric scraped from the pod) is
reported only once the pod is Ready. A pod's usage does not depend on how many
pods share the traffic: a declared load is each pod's own (the idle baseline
of an application with no traffic), not a total spread over the pods.

CPU samples of pods that have not become Ready yet are set aside
(``groupPods``; the state keeps no start or transition times, so a Running pod
that is not Ready counts as never Ready since it started).

Time is abstract and counted in sync periods (``--horizontal-pod-autoscaler-
sync-period``, 15 s): each sync is one period after the HPA's previous one
(other controllers' steps take any time in between, HPAs' periods are not
synchronised with each other). What upstream keeps in memory, and a
``controller-restart`` takes away, is the HPA's memory here (:class:`Memory`):
the recommendations of the stabilisation windows and the scale events of the
policies, each with its age in periods. Only entries that can still decide an
outcome are kept (an older recommendation is dropped when a younger one is at
least as high for the scale-down window and at least as low for the scale-up
window, and once it is older than both windows; an event keeps its place in
upstream's list but counts for nothing once it is older than every policy
period of both directions, as a scale-up's limit subtracts recent
scale-downs), so a steady HPA's sync changes nothing and is no step. The HPA's stored status (:class:`HPAStatus`) is in
``State.status``: current and desired replicas, and which way its last sync
changed them (for the check that a sync never undoes the one before; a clock
of periods since ``lastScaleTime`` would multiply the states by the window's
length in periods).
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar, Mapping, NamedTuple

import attrs

from kspec.api.quantity import QuantityError, parse_quantity
from kspec.checker.model import Action
from kspec.errors import Diagnostic, LoadError
from kspec.simulation.controllers.autoscaling import (
    DOWNSCALE_STABILISATION_SECONDS, Behavior, Recommendation, ReplicaCalculationError, PodSample, ScaleEvent,
    ScalingPolicy, ScalingRules, default_behavior, external_metric_replicas, external_per_pod_metric_replicas,
    object_metric_replicas, object_per_pod_metric_replicas, plain_metric_replicas, reconcile_desired_replicas,
    replicas_for_metrics, resource_replicas, tolerances_for,
)
from kspec.simulation.controllers.protocol import memory_of, with_memory
from kspec.simulation.state import RUNNING, State, World, is_active, status_of, with_status

__all__ = ["SYNC_PERIOD", "SCALABLE_KINDS", "MetricSpec", "Autoscaler", "HPAStatus", "Memory", "HPASync",
           "HorizontalPodAutoscalerController", "parse_reading", "autoscalers", "pod_metrics", "proposal",
           "steady_replicas", "decide"]

SYNC_PERIOD = 15
"""``--horizontal-pod-autoscaler-sync-period``: seconds between two syncs of one HPA."""
SCALABLE_KINDS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet")
"""Kinds whose scale subresource the model writes (``spec.replicas`` in ``State.replicas``)."""
_FOREVER = -(10**9)  # the time of a recommendation outdated for every window


@attrs.frozen
class MetricSpec:
    """One entry of ``spec.metrics``: its type (Resource, Pods, Object,
    External), the resource or metric name, the target's type (Utilization,
    AverageValue, Value) and value (a percentage, or milli-units)."""

    type: str
    name: str
    target_type: str
    target: int


@attrs.frozen
class Autoscaler:
    """A HorizontalPodAutoscaler as the model runs it: its target workload
    (an index of ``World.workloads``), bounds, metrics, ``behavior`` as
    written, and the readings the scenario's load allows per metric (each a
    tuple of choices: ``("%", percent)`` or ``("v", milli-units)``)."""

    name: str
    namespace: str
    target: int
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricSpec, ...]
    behavior: Behavior | None
    readings: tuple[tuple[tuple[str, int], ...], ...]

    @property
    def key(self) -> str:
        return f"HorizontalPodAutoscaler/{self.namespace}/{self.name}"


class HPAStatus(NamedTuple):
    """The HPA's stored status: ``currentReplicas`` and ``desiredReplicas``;
    ``last`` the direction of its last sync's change (1 up, -1 down, 0 kept)
    and ``reversal`` whether that sync undid the change of the sync before."""

    current: int = 0
    desired: int = 0
    last: int = 0
    reversal: bool = False


class Memory(NamedTuple):
    """What one HPA's controller process remembers: recommendations
    ``(replicas, age)`` and scale events ``(change, age)``, ages in periods."""

    recommendations: tuple[tuple[int, int], ...] = ()
    up: tuple[tuple[int, int], ...] = ()
    down: tuple[tuple[int, int], ...] = ()


@attrs.frozen
class HPASync(Action):
    """One sync of an HPA: the metrics it read and the replicas it set."""

    actor: ClassVar[str] = "horizontal-pod-autoscaler"
    hpa: str
    reading: str
    replicas: int
    desired: int

    def __str__(self) -> str:
        change = (f"scale {self.replicas} -> {self.desired}" if self.desired != self.replicas
                  else f"keep {self.replicas}")
        return f"HPASync({self.hpa}: {self.reading}; {change})"


# --------------------------------------------------------------------------- reading manifests and the load


def parse_reading(value: Any) -> tuple[tuple[str, int], ...]:
    """A declared load: one value or a list of values the reading is chosen
    from, each ``"NN%"`` (of the pod's request) or a quantity (``200m``,
    ``1.5``, ``64Mi``). Raises ``ValueError`` with the reason."""
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError("a load is a value or a non-empty list of values")
    choices = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f"expected a percentage (40%) or a quantity (200m), got {item!r}")
        text = str(item).strip()
        if text.endswith("%"):
            try:
                percent = int(text[:-1])
            except ValueError:
                raise ValueError(f"expected a whole percentage such as 40%, got {text!r}") from None
            if percent < 0:
                raise ValueError(f"a percentage is at least 0%, got {text!r}")
            choices.append(("%", percent))
            continue
        try:
            quantity = parse_quantity(text)
        except QuantityError as err:
            raise ValueError(str(err)) from None
        choices.append(("v", quantity.milli_value()))
    return tuple(dict.fromkeys(choices))


class _Manifest:
    """Reads one HPA manifest, collecting every problem at its line."""

    def __init__(self, obj):
        self.obj = obj
        self.problems: list[Diagnostic] = []

    def fail(self, field: str, message: str) -> None:
        self.problems.append(Diagnostic(str(self.obj.source.file), self.obj.source.line,
                                        f"HorizontalPodAutoscaler/{self.obj.metadata.name}: {message}", field))

    def integer(self, value, field: str, minimum: int, default: int | None = None) -> int | None:
        if value is None:
            if default is None:
                self.fail(field, "Required value")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(field, f"must be an integer of at least {minimum}, got {value!r}")
            return default
        return value

    def milli(self, value, field: str) -> int | None:
        try:
            return parse_quantity(value).milli_value()
        except (QuantityError, TypeError, ValueError):
            self.fail(field, f"must be a quantity, got {value!r}")
            return None


def _target(m: _Manifest, spec: dict, field: str) -> tuple[str, int] | None:
    target = spec.get("target") or {}
    kind = target.get("type")
    if kind == "Utilization":
        value = m.integer(target.get("averageUtilization"), f"{field}.target.averageUtilization", 1)
    elif kind == "AverageValue":
        value = m.milli(target.get("averageValue"), f"{field}.target.averageValue")
    elif kind == "Value":
        value = m.milli(target.get("value"), f"{field}.target.value")
    else:
        m.fail(f"{field}.target.type", f"must be Utilization, AverageValue or Value, got {kind!r}")
        return None
    return None if value is None else (kind, value)


def _metrics(m: _Manifest, spec: dict, api_version: str) -> tuple[MetricSpec, ...]:
    """``spec.metrics`` (autoscaling/v2), or v1's ``targetCPUUtilizationPercentage``;
    none given: 80% CPU utilisation, the API server's default."""
    if api_version == "autoscaling/v1":
        percent = m.integer(spec.get("targetCPUUtilizationPercentage"), "spec.targetCPUUtilizationPercentage", 1, 80)
        return (MetricSpec("Resource", "cpu", "Utilization", percent or 80),)
    raw = spec.get("metrics") or []
    if not raw:
        return (MetricSpec("Resource", "cpu", "Utilization", 80),)
    out = []
    for i, metric in enumerate(raw if isinstance(raw, list) else []):
        field = f"spec.metrics[{i}]"
        kind = (metric or {}).get("type")
        if kind not in ("Resource", "Pods", "Object", "External"):
            m.fail(f"{field}.type", f"{kind!r} is not simulated (Resource, Pods, Object, External are)")
            continue
        body = metric.get(kind[0].lower() + kind[1:]) or {}
        name = body.get("name") if kind == "Resource" else (body.get("metric") or {}).get("name")
        if not name:
            m.fail(field, "the metric needs a name")
            continue
        target = _target(m, body, f"{field}.{kind[0].lower() + kind[1:]}")
        if target is None:
            continue
        allowed = {"Resource": ("Utilization", "AverageValue"), "Pods": ("AverageValue",),
                   "Object": ("Value", "AverageValue"), "External": ("Value", "AverageValue")}[kind]
        if target[0] not in allowed:
            m.fail(f"{field}.target.type", f"a {kind} metric's target is {' or '.join(allowed)}, got {target[0]}")
            continue
        out.append(MetricSpec(kind, str(name), *target))
    return tuple(out)


def _rules(m: _Manifest, raw, field: str) -> ScalingRules | None:
    if raw is None:
        return None
    policies = None
    if raw.get("policies") is not None:
        policies = []
        for i, p in enumerate(raw.get("policies") or []):
            where = f"{field}.policies[{i}]"
            if p.get("type") not in ("Pods", "Percent"):
                m.fail(f"{where}.type", f"must be Pods or Percent, got {p.get('type')!r}")
                continue
            value = m.integer(p.get("value"), f"{where}.value", 1)
            period = m.integer(p.get("periodSeconds"), f"{where}.periodSeconds", 1)
            if value is not None and period is not None:
                policies.append(ScalingPolicy(p["type"], value, period))
        policies = tuple(policies)
    select = raw.get("selectPolicy")
    if select is not None and select not in ("Max", "Min", "Disabled"):
        m.fail(f"{field}.selectPolicy", f"must be Max, Min or Disabled, got {select!r}")
        select = None
    window = raw.get("stabilizationWindowSeconds")
    if window is not None:
        window = m.integer(window, f"{field}.stabilizationWindowSeconds", 0)
    tolerance = None
    if raw.get("tolerance") is not None:
        tolerance = m.milli(raw["tolerance"], f"{field}.tolerance")
        tolerance = None if tolerance is None else tolerance / 1000
    return ScalingRules(window, select, policies, tolerance)


def _behavior(m: _Manifest, raw) -> Behavior | None:
    if raw is None:
        return None
    return Behavior(_rules(m, raw.get("scaleUp"), "spec.behavior.scaleUp"),
                    _rules(m, raw.get("scaleDown"), "spec.behavior.scaleDown"))


def _scale_target(m: _Manifest, world: World, spec: dict, namespace: str) -> int | None:
    ref = spec.get("scaleTargetRef") or {}
    kind, name = ref.get("kind"), ref.get("name")
    if kind not in SCALABLE_KINDS:
        m.fail("spec.scaleTargetRef.kind", f"kspec scales {', '.join(SCALABLE_KINDS)}, got {kind!r}")
        return None
    for i, w in enumerate(world.workloads):
        if w.kind == kind and w.name == name and w.namespace == namespace and w.deployment < 0:
            return i
    m.fail("spec.scaleTargetRef.name", f"no {kind} named {name!r} in namespace {namespace}")
    return None


def autoscalers(world: World, objects, load: Mapping[str, Mapping[str, Any]]) -> tuple[Autoscaler, ...]:
    """The HorizontalPodAutoscalers among ``objects`` (the manifests), with the
    readings ``load`` (workload name -> metric name -> declared value) gives
    their metrics; every problem is a :class:`LoadError` at the HPA's line."""
    out, problems = [], []
    for obj in objects:
        m = _Manifest(obj)
        raw = obj.raw if isinstance(obj.raw, dict) else {}
        spec = raw.get("spec") or {}
        namespace = obj.metadata.namespace or "default"
        target = _scale_target(m, world, spec, namespace)
        low = m.integer(spec.get("minReplicas"), "spec.minReplicas", 1, 1)
        high = m.integer(spec.get("maxReplicas"), "spec.maxReplicas", 1)
        if low is not None and high is not None and high < low:
            m.fail("spec.maxReplicas", f"must be greater than or equal to minReplicas ({low})")
        metrics = _metrics(m, spec, str(raw.get("apiVersion") or ""))
        behavior = _behavior(m, spec.get("behavior"))
        readings = []
        if target is not None:
            declared = load.get(world.workloads[target].name) or {}
            for metric in metrics:
                reading = declared.get(metric.name)
                if reading is None:
                    m.fail("spec.metrics", f"the scenario declares no load for metric {metric.name} of "
                                           f"{world.workloads[target].ref} (load: {{{world.workloads[target].name}: "
                                           f"{{{metric.name}: VALUE}}}})")
                elif metric.type != "Resource" and any(kind == "%" for kind, _ in reading):
                    m.fail("spec.metrics", f"the load of {metric.type} metric {metric.name} is a quantity, "
                                           "not a percentage")
                else:
                    readings.append(reading)
        problems.extend(m.problems)
        if not m.problems:
            out.append(Autoscaler(obj.metadata.name, namespace, target, low, high, metrics, behavior,
                                  tuple(readings)))
    if problems:
        raise LoadError(problems)
    return tuple(out)


# --------------------------------------------------------------------------- the metrics pipeline


def _selected(world: World, state: State, hpa: Autoscaler):
    selects = world.selects[hpa.target]
    return [p for p in state.pods if selects[p.group]]


def _request(world: World, group: int, resource: str) -> int | None:
    quantity = world.requests[group].get(resource)
    return None if quantity is None else quantity.milli_value()


def pod_metrics(world: World, pods, metric: MetricSpec, reading: tuple[str, int]) -> dict[str, int]:
    """What the metrics pipeline reports for ``pods`` (milli-units per pod
    name): a resource's usage for every Running pod, a Pods metric for every
    Running and Ready pod; a percentage reading is of the pod's request."""
    kind, value = reading
    out = {}
    for pod in pods:
        if pod.phase != RUNNING or (metric.type == "Pods" and not pod.ready):
            continue
        if kind == "%":
            request = _request(world, pod.group, metric.name)
            if request is None:
                continue
            out[pod.name] = request * value // 100
        else:
            out[pod.name] = value
    return out


def _samples(world: World, pods, metric: MetricSpec) -> list[PodSample]:
    resource = metric.name if metric.type == "Resource" else None
    return [PodSample(p.name, p.phase, p.ready, p.deleting,
                      _request(world, p.group, resource) if resource else 1000,
                      p.phase == RUNNING and not p.ready) for p in pods]


def proposal(world: World, pods, hpa: Autoscaler, metric: MetricSpec, reading: tuple[str, int],
             spec_replicas: int, status_replicas: int) -> int | None:
    """One metric's replica count (``computeReplicasForMetric``), None when it
    cannot be computed (no pods, no metrics, a missing request)."""
    tolerances = tolerances_for(hpa.behavior)
    try:
        if metric.type in ("Object", "External"):
            value = reading[1]
            if metric.target_type == "AverageValue":
                if status_replicas == 0:
                    return None
                if metric.type == "Object":
                    return object_per_pod_metric_replicas(status_replicas, metric.target, value, tolerances)[0]
                return external_per_pod_metric_replicas(status_replicas, metric.target, [value], tolerances)[0]
            samples = _samples(world, pods, metric)
            if metric.type == "Object":
                return object_metric_replicas(spec_replicas, metric.target, value, samples, tolerances)
            return external_metric_replicas(spec_replicas, metric.target, [value], samples, tolerances)
        samples = _samples(world, pods, metric)
        metrics = pod_metrics(world, pods, metric, reading)
        cpu = metric.type == "Resource" and metric.name == "cpu"
        if metric.target_type == "Utilization":
            return resource_replicas(spec_replicas, metric.target, samples, metrics, cpu, tolerances)[0]
        return plain_metric_replicas(spec_replicas, metric.target, samples, metrics, cpu, tolerances)[0]
    except (ReplicaCalculationError, ZeroDivisionError):
        return None


# --------------------------------------------------------------------------- time in periods


def _kept_recommendations(hpa: Autoscaler, log) -> tuple[tuple[int, int], ...]:
    """The recommendations (as ``(replicas, age)``, youngest first) that can
    still decide a stabilised count: within a window, and more extreme than
    every younger one there."""
    behavior = default_behavior(hpa.behavior)
    if behavior is None:
        def down(age): return age * SYNC_PERIOD <= DOWNSCALE_STABILISATION_SECONDS
        def up(age): return False
    else:
        def down(age): return age * SYNC_PERIOD < behavior.scale_down.stabilization_window_seconds
        def up(age): return age * SYNC_PERIOD < behavior.scale_up.stabilization_window_seconds
    kept, highest, lowest = [], None, None
    entries = sorted(((-rec.at // SYNC_PERIOD, -rec.replicas) for rec in log if rec.at > _FOREVER))
    for age, negated in entries:  # youngest first; of one age, the highest first
        replicas = -negated
        higher = down(age) and (highest is None or replicas > highest)
        lower = up(age) and (lowest is None or replicas < lowest)
        if higher or lower:
            kept.append((replicas, age))
        if down(age):
            highest = replicas if highest is None else max(highest, replicas)
        if up(age):
            lowest = replicas if lowest is None else min(lowest, replicas)
    return tuple(kept)


def _event_horizon(behavior: Behavior | None) -> int:
    """The age in periods from which a scale event counts for no policy of
    either direction (a scale-up's limit subtracts recent scale-downs too)."""
    if behavior is None:
        return 0
    longest = max((p.period_seconds for rules in (behavior.scale_up, behavior.scale_down)
                   for p in rules.policies or ()), default=0)
    return longest // SYNC_PERIOD + 1


def _kept_events(horizon: int, events) -> tuple[tuple[int, int], ...]:
    """Scale events as ``(change, age)`` in upstream's list order (a new event
    takes the place of the last outdated one): an event past ``horizon`` counts
    for nothing and keeps only its place, as ``(0, horizon)``."""
    out = []
    for event in events:
        age = -event.at // SYNC_PERIOD
        out.append((0, horizon) if age >= horizon else (event.change, age))
    return tuple(out)


def _aged(memory: Memory | None):
    """The memory one period later, as the arithmetic takes it (now is 0)."""
    if memory is None:
        return (), (), ()
    log = tuple(Recommendation(r, -(age + 1) * SYNC_PERIOD) for r, age in memory.recommendations)
    log = log or (Recommendation(0, _FOREVER),)  # synced before: no first-sync seeding
    up = tuple(ScaleEvent(c, -(age + 1) * SYNC_PERIOD) for c, age in memory.up)
    down = tuple(ScaleEvent(c, -(age + 1) * SYNC_PERIOD) for c, age in memory.down)  # outdated: marked by age
    return log, up, down


def _status_after(status: HPAStatus, replicas: int, desired: int) -> HPAStatus:
    """``setStatus`` after one sync, with the way it changed the count and
    whether that undid the previous sync's change (a reversal one period later)."""
    direction = (desired > replicas) - (desired < replicas)
    return HPAStatus(replicas, desired, direction, direction != 0 and direction == -status.last)


def decide(hpa: Autoscaler, memory: Memory | None, replicas: int, proposals) -> tuple[int, Memory]:
    """One sync's decision, one period after the previous sync: (desired
    replicas, the memory kept), from the target's ``spec.replicas``, each
    metric's proposal (None: not computed) and the memory (None: a process that
    has not synced this HPA yet)."""
    log, up, down = _aged(memory)
    desired, log, up, down = reconcile_desired_replicas(replicas, hpa.min_replicas, hpa.max_replicas, proposals,
                                                        hpa.behavior, log, up, down, 0)
    horizon = _event_horizon(default_behavior(hpa.behavior))
    return desired, Memory(_kept_recommendations(hpa, log), _kept_events(horizon, up), _kept_events(horizon, down))


# --------------------------------------------------------------------------- the controller


def _status_replicas(pods) -> int:
    """The scale subresource's ``status.replicas``: the target's active pods."""
    return sum(1 for p in pods if is_active(p))


def steady_replicas(world: World, hpa: Autoscaler, choice: tuple[tuple[str, int], ...]) -> int:
    """The count an HPA holds under a constant reading once every pod is Ready
    and reports it: from the target's manifest replicas (within min and max),
    the fixed point of the metrics' proposal."""
    target = world.workloads[hpa.target]
    group = target.group if target.owns_pods else world.workloads[target.replica_sets[0]].group
    replicas = min(max(target.replicas, hpa.min_replicas), hpa.max_replicas)
    seen = set()
    while replicas not in seen:
        seen.add(replicas)
        pods = [_Ready(f"pod-{i}", group) for i in range(replicas)]
        proposals = [proposal(world, pods, hpa, m, r, replicas, replicas) for m, r in zip(hpa.metrics, choice)]
        nxt = replicas_for_metrics(replicas, proposals)
        if nxt is None:
            return replicas
        nxt = min(max(nxt, hpa.min_replicas), hpa.max_replicas)
        if nxt == replicas:
            return replicas
        replicas = nxt
    return replicas


class _Ready(NamedTuple):
    """A Running and Ready pod of ``group`` (for :func:`steady_replicas`)."""

    name: str
    group: int
    phase: str = RUNNING
    ready: bool = True
    deleting: bool = False


def _describe(hpa: Autoscaler, choice) -> str:
    parts = []
    for metric, (kind, value) in zip(hpa.metrics, choice):
        parts.append(f"{metric.name} {value}%" if kind == "%" else f"{metric.name} {value}m")
    return ", ".join(parts)


class HorizontalPodAutoscalerController:
    """The HPA controller: one :class:`HPASync` step per HPA and reading that
    changes something (see the module docstring)."""

    actor = "horizontal-pod-autoscaler"
    fair = True

    def keeps_memory(self, world: World) -> bool:
        """Memory only when the scenario has HPAs (other scenarios' states stay as they were)."""
        return bool(world.autoscalers)

    def initial_memory(self, world: World):
        """Nothing remembered: no recommendation, no scale event (also after a restart)."""
        return tuple(None for _ in world.autoscalers)

    def steps(self, world: World, state: State):
        for h, hpa in enumerate(world.autoscalers):
            for choice in itertools.product(*hpa.readings):
                step = self.sync(world, state, h, hpa, choice)
                if step is not None:
                    yield step

    def sync(self, world: World, state: State, h: int, hpa: Autoscaler, choice):
        """``reconcileAutoscaler`` with the metrics reading ``choice``; None when nothing changes."""
        replicas = state.replicas[hpa.target]
        if replicas is None:  # the target is gone: getting its scale fails, nothing is written
            return None
        pods = _selected(world, state, hpa)
        status_replicas = _status_replicas(pods)
        proposals = [proposal(world, pods, hpa, m, r, replicas, status_replicas) for m, r in zip(hpa.metrics, choice)]
        memory = memory_of(world, state, self)
        desired, kept = decide(hpa, memory[h], replicas, proposals)
        nxt = with_memory(world, state, self, memory[:h] + (kept,) + memory[h + 1:])
        status = status_of(world, state, hpa.key)
        new_status = _status_after(status, replicas, desired)
        if new_status != status:
            nxt = with_status(world, nxt, hpa.key, new_status)
        if desired != replicas:
            nxt = attrs.evolve(nxt, replicas=nxt.replicas[:hpa.target] + (desired,) + nxt.replicas[hpa.target + 1:],
                               rv=nxt.rv + 1)
        if nxt == state:
            return None
        return HPASync(hpa.name, _describe(hpa, choice), replicas, desired), nxt
