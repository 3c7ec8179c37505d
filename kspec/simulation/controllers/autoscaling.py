"""The HorizontalPodAutoscaler's arithmetic, as pure functions over plain values.

Follows ``pkg/controller/podautoscaler``: the replica calculator
(``replica_calculator.go``, ``metrics/utilization.go``), the choice among
several metrics (``computeReplicasForMetrics``), the normalisation of a
recommendation without a ``behavior`` (``normalizeDesiredReplicas``: the
five-minute downscale stabilisation and ``convertDesiredReplicasWithRules``)
and with one (``normalizeDesiredReplicasWithBehaviors``: stabilisation
windows up and down, scale-up and scale-down policies, ``selectPolicy``),
with the defaults the API server writes into an autoscaling/v2
``behavior`` (``pkg/apis/autoscaling/v2/defaults.go``).

Time is an integer number of seconds on the scenario's clock; every
function that looks at the past takes ``now``. Metric values are
milli-units (a CPU usage of ``500`` is 500m), requests too; a utilization is
a percentage of the request. What upstream keeps in the controller's memory
(recommendations, scale events) is passed in and returned, never held.

The readiness test for CPU samples (``groupPods``) needs a pod's start time,
its Ready condition's last transition and the metric's timestamp and window:
:func:`cpu_sample_unready` computes it, and :class:`PodSample` carries the
verdict, so a caller without a wall clock can state it directly (a pod that
has never been Ready since it started is unready for CPU).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs

from kspec.errors import KspecError

__all__ = [
    "Behavior", "DEFAULT_SCALE_DOWN", "DEFAULT_SCALE_UP", "DEFAULT_TOLERANCE", "DOWNSCALE_STABILISATION_SECONDS",
    "PodSample", "Recommendation", "ReplicaCalculationError", "ScaleEvent", "ScalingPolicy", "ScalingRules",
    "Tolerances",
    "convert_desired_replicas_with_behavior_rate", "convert_desired_replicas_with_rules", "cpu_sample_unready",
    "default_behavior", "external_metric_replicas", "external_per_pod_metric_replicas", "group_pods",
    "metric_usage_ratio", "normalize_desired_replicas", "normalize_desired_replicas_with_behaviors",
    "object_metric_replicas", "object_per_pod_metric_replicas", "plain_metric_replicas", "reconcile_desired_replicas",
    "replicas_change_per_period", "replicas_for_metrics", "resource_replicas", "resource_utilization_ratio",
    "scale_down_limit", "scale_up_limit", "scale_up_limit_without_behavior", "stabilize_recommendation",
    "stabilize_recommendation_with_behaviors", "store_scale_event", "tolerances_for",
]

DEFAULT_TOLERANCE = 0.1
"""``--horizontal-pod-autoscaler-tolerance``: no change while the usage ratio is within 10% of 1."""
DOWNSCALE_STABILISATION_SECONDS = 300
"""``--horizontal-pod-autoscaler-downscale-stabilization``: five minutes."""
CPU_INITIALIZATION_PERIOD = 120
"""``--horizontal-pod-autoscaler-cpu-initialization-period``: two minutes."""
INITIAL_READINESS_DELAY = 30
"""``--horizontal-pod-autoscaler-initial-readiness-delay``: thirty seconds."""

PENDING, RUNNING, FAILED = "Pending", "Running", "Failed"


class ReplicaCalculationError(KspecError):
    """The replica calculator could not compute a count (upstream's error text): the HPA keeps the
    current count and sets ``ScalingActive=False``."""


# --------------------------------------------------------------------------- the replica calculator


@attrs.frozen
class Tolerances:
    """How far the usage ratio may stray below and above 1 before the count changes (``Tolerances``)."""

    scale_down: float = DEFAULT_TOLERANCE
    scale_up: float = DEFAULT_TOLERANCE

    def within(self, ratio: float) -> bool:
        """``isWithin``: ``1 - scaleDown <= ratio <= 1 + scaleUp``."""
        return 1.0 - self.scale_down <= ratio <= 1.0 + self.scale_up


@attrs.frozen
class PodSample:
    """A pod as the replica calculator sees it: its name (metrics are keyed by it), phase, deletion,
    Ready condition, its request of the scaled resource (milli-units; ``None`` when a container
    requests none) and whether its CPU sample is set aside as not yet ready
    (:func:`cpu_sample_unready`)."""

    name: str
    phase: str = RUNNING
    ready: bool = True
    deleting: bool = False
    request: int | None = 1000
    cpu_unready: bool = False


def cpu_sample_unready(ready: bool | None, started: int | None, transitioned: int, sampled: int, window: int, now: int,
                       initialization_period: int = CPU_INITIALIZATION_PERIOD,
                       readiness_delay: int = INITIAL_READINESS_DELAY) -> bool:
    """``groupPods``' test for a CPU sample, in seconds: a pod with no Ready condition or no start time
    is unready; within the initialisation period after it started, it is unready unless Ready and its
    sample covers a full window after the condition's last transition; after that period, it is
    unready only if not Ready and it has never been Ready (the transition came within the initial
    readiness delay of the start)."""
    if ready is None or started is None:
        return True
    if started + initialization_period > now:
        return not ready or sampled < transitioned + window
    return not ready and started + readiness_delay > transitioned


def group_pods(pods: Sequence[PodSample], metrics: Mapping[str, int], cpu: bool
               ) -> tuple[int, frozenset[str], frozenset[str], frozenset[str]]:
    """``groupPods``: (ready count, unready, missing, ignored). Deleted and Failed pods are ignored;
    Pending ones are unready; a pod with no metric is missing; for CPU a pod whose sample is set
    aside is unready; every other pod counts as ready."""
    ready = 0
    unready: set[str] = set()
    missing: set[str] = set()
    ignored: set[str] = set()
    for pod in pods:
        if pod.deleting or pod.phase == FAILED:
            ignored.add(pod.name)
        elif pod.phase == PENDING:
            unready.add(pod.name)
        elif pod.name not in metrics:
            missing.add(pod.name)
        elif cpu and pod.cpu_unready:
            unready.add(pod.name)
        else:
            ready += 1
    return ready, frozenset(unready), frozenset(missing), frozenset(ignored)


def resource_utilization_ratio(metrics: Mapping[str, int], requests: Mapping[str, int], target_utilization: int
                               ) -> tuple[float, int, int]:
    """``GetResourceUtilizationRatio``: (usage ratio, utilization %, raw average) over the metrics of
    pods whose request is known (other metrics are extraneous); the utilization is truncated to a
    whole percent before the ratio is taken."""
    known = [(value, requests[name]) for name, value in metrics.items() if name in requests]
    requests_total = sum(request for _, request in known)
    if requests_total == 0:
        raise ReplicaCalculationError("no metrics returned matched known pods")
    metrics_total = sum(value for value, _ in known)
    utilization = metrics_total * 100 // requests_total
    return utilization / target_utilization, utilization, metrics_total // len(known)


def metric_usage_ratio(metrics: Mapping[str, int], target_usage: int) -> tuple[float, int]:
    """``GetMetricUsageRatio``: (usage ratio, average usage truncated to a whole milli-unit)."""
    usage = sum(metrics.values()) // len(metrics)
    return usage / target_usage, usage


def _pods_or_error(pods: Sequence[PodSample]) -> None:
    if not pods:
        raise ReplicaCalculationError("no pods returned by selector while calculating replica count")


def _grouped_metrics(pods, metrics, cpu):
    ready, unready, missing, ignored = group_pods(pods, metrics, cpu)
    kept = {name: value for name, value in metrics.items() if name not in ignored and name not in unready}
    if not kept:
        raise ReplicaCalculationError("did not receive metrics for targeted pods (pods might be unready)")
    return ready, unready, missing, kept


def _rebalanced(current: int, ratio: float, new_ratio: float, considered: int, tolerances: Tolerances) -> int:
    """The shared tail of the calculators once missing and unready pods are filled in: no change if
    the new ratio is within tolerance or points the other way, or if the count would move against it."""
    if tolerances.within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    replicas = math.ceil(new_ratio * considered)
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


def _requests(pods: Sequence[PodSample]) -> dict[str, int]:
    """``calculateRequests``: every pod's request; one without is an error."""
    for pod in pods:
        if pod.request is None:
            raise ReplicaCalculationError(f"missing request for the resource in Pod {pod.name}")
    return {pod.name: pod.request for pod in pods}


def resource_replicas(current: int, target_utilization: int, pods: Sequence[PodSample], metrics: Mapping[str, int],
                      cpu: bool = True, tolerances: Tolerances = Tolerances()) -> tuple[int, int, int]:
    """``GetResourceReplicas``: (replicas, utilization %, raw average) for a Resource metric with an
    ``averageUtilization`` target.

    Without unready or missing pods: the current count when the ratio is within tolerance, else
    ``ceil(ratio * ready)``. Otherwise, on a scale-down a missing pod counts as using
    ``max(100, target)`` percent of its request and on a scale-up as using nothing, unready pods count
    as using nothing on a scale-up, and the ratio is taken again over every pod so counted
    (``_rebalanced``)."""
    _pods_or_error(pods)
    ready, unready, missing, kept = _grouped_metrics(pods, metrics, cpu)
    requests = _requests(pods)
    ratio, utilization, raw = resource_utilization_ratio(kept, requests, target_utilization)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if tolerances.within(ratio):
            return current, utilization, raw
        return math.ceil(ratio * ready), utilization, raw
    filled = dict(kept)
    if missing and ratio < 1.0:
        fallback = max(100, target_utilization)
        filled.update({name: requests[name] * fallback // 100 for name in missing})
    elif missing and ratio > 1.0:
        filled.update({name: 0 for name in missing})
    if scale_up_with_unready:
        filled.update({name: 0 for name in unready})
    new_ratio = resource_utilization_ratio(filled, requests, target_utilization)[0]
    return _rebalanced(current, ratio, new_ratio, len(filled), tolerances), utilization, raw


def plain_metric_replicas(current: int, target_usage: int, pods: Sequence[PodSample], metrics: Mapping[str, int],
                          cpu: bool = False, tolerances: Tolerances = Tolerances()) -> tuple[int, int]:
    """``calcPlainMetricReplicas`` (a Pods metric, or a Resource metric with an ``averageValue``
    target, ``cpu`` for the CPU resource): (replicas, average usage). As :func:`resource_replicas`,
    with usage in place of utilization and a missing pod counting as using exactly the target on a
    scale-down."""
    _pods_or_error(pods)
    ready, unready, missing, kept = _grouped_metrics(pods, metrics, cpu)
    ratio, usage = metric_usage_ratio(kept, target_usage)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if tolerances.within(ratio):
            return current, usage
        return math.ceil(ratio * ready), usage
    filled = dict(kept)
    if missing and ratio < 1.0:
        filled.update({name: target_usage for name in missing})
    elif missing and ratio > 1.0:
        filled.update({name: 0 for name in missing})
    if scale_up_with_unready:
        filled.update({name: 0 for name in unready})
    new_ratio = metric_usage_ratio(filled, target_usage)[0]
    return _rebalanced(current, ratio, new_ratio, len(filled), tolerances), usage


def _ready_running(pods: Sequence[PodSample]) -> int:
    """``getReadyPodsCount``: Running and Ready pods (an error when the selector finds none)."""
    _pods_or_error(pods)
    return sum(1 for pod in pods if pod.phase == RUNNING and pod.ready)


def _usage_ratio_replicas(current: int, ratio: float, pods: Sequence[PodSample], tolerances: Tolerances) -> int:
    """``getUsageRatioReplicaCount``: from zero replicas the ratio alone (scale to zero and back);
    otherwise the current count within tolerance, else ``ceil(ratio * ready pods)``."""
    if current == 0:
        return math.ceil(ratio)
    if tolerances.within(ratio):
        return current
    return math.ceil(ratio * _ready_running(pods))


def object_metric_replicas(current: int, target_value: int, value: int, pods: Sequence[PodSample],
                           tolerances: Tolerances = Tolerances()) -> int:
    """``GetObjectMetricReplicas``: an Object metric with a ``value`` target, scaled by the count of
    Running and Ready pods (unready ones are left out of the multiplication)."""
    return _usage_ratio_replicas(current, value / target_value, pods, tolerances)


def external_metric_replicas(current: int, target_value: int, values: Sequence[int], pods: Sequence[PodSample],
                             tolerances: Tolerances = Tolerances()) -> int:
    """``GetExternalMetricReplicas``: an External metric with a ``value`` target over the sum of the
    series the selector matches."""
    return _usage_ratio_replicas(current, sum(values) / target_value, pods, tolerances)


def object_per_pod_metric_replicas(status_replicas: int, target_average: int, value: int,
                                   tolerances: Tolerances = Tolerances()) -> tuple[int, int]:
    """``GetObjectPerPodMetricReplicas``: an Object metric with an ``averageValue`` target: (replicas,
    average per pod). The ratio is the value over target times the status replicas; outside
    tolerance the count is ``ceil(value / target)``."""
    replicas = status_replicas
    if not tolerances.within(value / (target_average * status_replicas)):
        replicas = math.ceil(value / target_average)
    return replicas, math.ceil(value / status_replicas)


def external_per_pod_metric_replicas(status_replicas: int, target_average: int, values: Sequence[int],
                                     tolerances: Tolerances = Tolerances()) -> tuple[int, int]:
    """``GetExternalPerPodMetricReplicas``: an External metric with an ``averageValue`` target."""
    return object_per_pod_metric_replicas(status_replicas, target_average, sum(values), tolerances)


def replicas_for_metrics(spec_replicas: int, proposals: Sequence[int | None]) -> int | None:
    """``computeReplicasForMetrics``: the largest proposal of the metrics that could be computed
    (``None`` marks one that could not); ``None`` when none could, or when some could not and the
    others would scale down (upstream then does not scale at all)."""
    valid = [p for p in proposals if p is not None]
    replicas = 0
    for proposal in valid:
        if replicas == 0 or proposal > replicas:
            replicas = proposal
    invalid = len(proposals) - len(valid)
    if invalid >= len(proposals) or (invalid > 0 and replicas < spec_replicas):
        return None
    return replicas


# --------------------------------------------------------------------------- behavior: API defaults


@attrs.frozen
class ScalingPolicy:
    """``HPAScalingPolicy``: change by at most ``value`` pods (``Pods``) or percent (``Percent``) per
    ``period_seconds``."""

    type: str
    value: int
    period_seconds: int


@attrs.frozen
class ScalingRules:
    """``HPAScalingRules`` as written (``None`` for a field left out) or as defaulted."""

    stabilization_window_seconds: int | None = None
    select_policy: str | None = None
    policies: tuple[ScalingPolicy, ...] | None = None
    tolerance: float | None = None


@attrs.frozen
class Behavior:
    """``HorizontalPodAutoscalerBehavior``: the rules for each direction."""

    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


DEFAULT_SCALE_UP = ScalingRules(0, "Max", (ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15)))
"""The scale-up rules the API server fills in: no stabilisation, the larger of 4 pods and 100% per 15 s."""
DEFAULT_SCALE_DOWN = ScalingRules(None, "Max", (ScalingPolicy("Percent", 100, 15),))
"""The scale-down rules the API server fills in: 100% per 15 s; the window is left unset so that the
controller's ``--horizontal-pod-autoscaler-downscale-stabilization`` applies."""


def _filled(given: ScalingRules | None, defaults: ScalingRules) -> ScalingRules:
    """``copyHPAScalingRules``: every field given replaces the default."""
    if given is None:
        return defaults
    return ScalingRules(
        defaults.stabilization_window_seconds if given.stabilization_window_seconds is None
        else given.stabilization_window_seconds,
        defaults.select_policy if given.select_policy is None else given.select_policy,
        defaults.policies if given.policies is None else given.policies,
        defaults.tolerance if given.tolerance is None else given.tolerance,
    )


def default_behavior(behavior: Behavior | None,
                     downscale_stabilisation: int = DOWNSCALE_STABILISATION_SECONDS) -> Behavior | None:
    """A ``behavior`` as the controller uses it: ``None`` stays ``None`` (the API server defaults only a
    behavior that is present, ``SetDefaults_HorizontalPodAutoscalerBehavior``); otherwise each
    direction's unset fields come from ``GenerateHPAScaleUpRules``/``GenerateHPAScaleDownRules``, and
    an unset scale-down window from the controller's flag (``maybeInitScaleDownStabilizationWindow``)."""
    if behavior is None:
        return None
    down = _filled(behavior.scale_down, DEFAULT_SCALE_DOWN)
    if down.stabilization_window_seconds is None:
        down = attrs.evolve(down, stabilization_window_seconds=downscale_stabilisation)
    return Behavior(_filled(behavior.scale_up, DEFAULT_SCALE_UP), down)


def tolerances_for(behavior: Behavior | None, default: float = DEFAULT_TOLERANCE) -> Tolerances:
    """The tolerances of an HPA: each direction's ``tolerance`` when set, the controller's otherwise."""
    up = behavior.scale_up.tolerance if behavior is not None and behavior.scale_up is not None else None
    down = behavior.scale_down.tolerance if behavior is not None and behavior.scale_down is not None else None
    return Tolerances(default if down is None else down, default if up is None else up)


# --------------------------------------------------------------------------- normalisation


@attrs.frozen
class Recommendation:
    """``timestampedRecommendation``: a count the metrics recommended at ``at``."""

    replicas: int
    at: int


@attrs.frozen
class ScaleEvent:
    """``timestampedScaleEvent``: a change of ``change`` replicas (always positive) at ``at``; an
    outdated event is kept for reuse."""

    change: int
    at: int
    outdated: bool = False


def scale_up_limit_without_behavior(current: int) -> int:
    """``calculateScaleUpLimit``: at most double, and at least 4."""
    return max(2 * current, 4)


def convert_desired_replicas_with_rules(current: int, desired: int, min_replicas: int, max_replicas: int
                                        ) -> tuple[int, str]:
    """``convertDesiredReplicasWithRules`` (no ``behavior``): (replicas, ``ScalingLimited`` reason)."""
    limit = scale_up_limit_without_behavior(current)
    if max_replicas > limit:
        maximum, reason = limit, "ScaleUpLimit"
    else:
        maximum, reason = max_replicas, "TooManyReplicas"
    if desired < min_replicas:
        return min_replicas, "TooFewReplicas"
    if desired > maximum:
        return maximum, reason
    return desired, "DesiredWithinRange"


def stabilize_recommendation(recommendations: Sequence[Recommendation], desired: int, now: int,
                             window: int = DOWNSCALE_STABILISATION_SECONDS
                             ) -> tuple[int, tuple[Recommendation, ...]]:
    """``stabilizeRecommendation`` (no ``behavior``): the largest recommendation not older than the
    window (and ``desired``), and the log with ``desired`` recorded in place of the last outdated
    entry, or appended."""
    cutoff = now - window
    stabilized = desired
    old = None
    for i, rec in enumerate(recommendations):
        if rec.at < cutoff:
            old = i
        elif rec.replicas > stabilized:
            stabilized = rec.replicas
    return stabilized, _recorded(recommendations, old, Recommendation(desired, now))


def _recorded(log, old, entry):
    if old is None:
        return (*log, entry)
    return (*log[:old], entry, *log[old + 1:])


def normalize_desired_replicas(recommendations: Sequence[Recommendation], current: int, desired: int,
                               min_replicas: int, max_replicas: int, now: int,
                               window: int = DOWNSCALE_STABILISATION_SECONDS
                               ) -> tuple[int, tuple[Recommendation, ...]]:
    """``normalizeDesiredReplicas``: stabilise, then bound by min, max and the scale-up limit."""
    stabilized, log = stabilize_recommendation(recommendations, desired, now, window)
    return convert_desired_replicas_with_rules(current, stabilized, min_replicas, max_replicas)[0], log


def stabilize_recommendation_with_behaviors(recommendations: Sequence[Recommendation], desired: int, current: int,
                                            up_window: int, down_window: int, now: int
                                            ) -> tuple[int, str, tuple[Recommendation, ...]]:
    """``stabilizeRecommendationWithBehaviors``: the current count brought up to the smallest
    recommendation within the scale-up window and down to the largest within the scale-down window
    (``desired`` counted in both); the ``AbleToScale`` reason it would report; the log with
    ``desired`` recorded in place of the last entry outdated for both windows, or appended."""
    up_cutoff, down_cutoff = now - up_window, now - down_window
    up, down = desired, desired
    old = None
    for i, rec in enumerate(recommendations):
        if rec.at > up_cutoff:
            up = min(rec.replicas, up)
        if rec.at > down_cutoff:
            down = max(rec.replicas, down)
        if rec.at < up_cutoff and rec.at < down_cutoff:
            old = i
    recommendation = min(max(current, up), down)
    reason = "ScaleUpStabilized" if desired >= current else "ScaleDownStabilized"
    return recommendation, reason, _recorded(recommendations, old, Recommendation(desired, now))


def replicas_change_per_period(period_seconds: int, events: Sequence[ScaleEvent], now: int) -> int:
    """``getReplicasChangePerPeriod``: the replicas changed by events within the period."""
    cutoff = now - period_seconds
    return sum(event.change for event in events if event.at > cutoff)


def _period_start(current, policy, up_events, down_events, now):
    return (current - replicas_change_per_period(policy.period_seconds, up_events, now)
            + replicas_change_per_period(policy.period_seconds, down_events, now))


def scale_up_limit(current: int, up_events: Sequence[ScaleEvent], down_events: Sequence[ScaleEvent],
                   rules: ScalingRules, now: int) -> int:
    """``calculateScaleUpLimitWithScalingRules``: the most replicas the scale-up policies allow. Each
    policy starts from the count at the start of its period (the current count less what was added
    and plus what was removed within it): ``Pods`` adds its value, ``Percent`` multiplies by
    ``1 + value/100`` rounded up; ``Max`` (the default) takes the largest, ``Min`` the smallest, and
    ``Disabled`` allows nothing beyond the current count."""
    if rules.select_policy == "Disabled":
        return current
    proposals = []
    for policy in rules.policies or ():
        start = _period_start(current, policy, up_events, down_events, now)
        if policy.type == "Pods":
            proposals.append(start + policy.value)
        else:
            proposals.append(math.ceil(start * (1 + policy.value / 100)))
    if rules.select_policy == "Min":
        return min(proposals, default=2**31 - 1)
    return max(proposals, default=-(2**31))


def scale_down_limit(current: int, up_events: Sequence[ScaleEvent], down_events: Sequence[ScaleEvent],
                     rules: ScalingRules, now: int) -> int:
    """``calculateScaleDownLimitWithBehaviors``: the fewest replicas the scale-down policies allow:
    ``Pods`` removes its value, ``Percent`` multiplies by ``1 - value/100`` truncated toward zero;
    ``Max`` (the largest change, the default) takes the smallest count, ``Min`` the largest, and
    ``Disabled`` allows nothing below the current count."""
    if rules.select_policy == "Disabled":
        return current
    proposals = []
    for policy in rules.policies or ():
        start = _period_start(current, policy, up_events, down_events, now)
        if policy.type == "Pods":
            proposals.append(start - policy.value)
        else:
            proposals.append(int(start * (1 - policy.value / 100)))
    if rules.select_policy == "Min":
        return max(proposals, default=-(2**31))
    return min(proposals, default=2**31 - 1)


def convert_desired_replicas_with_behavior_rate(current: int, desired: int, min_replicas: int, max_replicas: int,
                                                behavior: Behavior, up_events: Sequence[ScaleEvent],
                                                down_events: Sequence[ScaleEvent], now: int) -> tuple[int, str]:
    """``convertDesiredReplicasWithBehaviorRate`` (a defaulted ``behavior``): (replicas, reason).
    A scale-up is bounded by the policies' limit (never below the current count) and max; a
    scale-down by the policies' limit (never above the current count) and min."""
    if desired > current:
        limit = max(scale_up_limit(current, up_events, down_events, behavior.scale_up, now), current)
        maximum, reason = (limit, "ScaleUpLimit") if max_replicas > limit else (max_replicas, "TooManyReplicas")
        if desired > maximum:
            return maximum, reason
    elif desired < current:
        limit = min(scale_down_limit(current, up_events, down_events, behavior.scale_down, now), current)
        minimum, reason = (limit, "ScaleDownLimit") if min_replicas < limit else (min_replicas, "TooFewReplicas")
        if desired < minimum:
            return minimum, reason
    return desired, "DesiredWithinRange"


def normalize_desired_replicas_with_behaviors(recommendations: Sequence[Recommendation], current: int, desired: int,
                                              min_replicas: int, max_replicas: int, behavior: Behavior,
                                              up_events: Sequence[ScaleEvent], down_events: Sequence[ScaleEvent],
                                              now: int) -> tuple[int, tuple[Recommendation, ...]]:
    """``normalizeDesiredReplicasWithBehaviors``: stabilise with both windows, then apply the rate
    limits and min and max. ``behavior`` is defaulted (:func:`default_behavior`)."""
    stabilized, _, log = stabilize_recommendation_with_behaviors(
        recommendations, desired, current, behavior.scale_up.stabilization_window_seconds,
        behavior.scale_down.stabilization_window_seconds, now)
    replicas = convert_desired_replicas_with_behavior_rate(current, stabilized, min_replicas, max_replicas, behavior,
                                                           up_events, down_events, now)[0]
    return replicas, log


def _longest_period(rules: ScalingRules) -> int:
    return max((policy.period_seconds for policy in rules.policies or ()), default=0)


def _stored(events: Sequence[ScaleEvent], rules: ScalingRules, change: int, now: int) -> tuple[ScaleEvent, ...]:
    cutoff = now - _longest_period(rules)
    marked = [attrs.evolve(e, outdated=True) if e.at < cutoff else e for e in events]
    old = max((i for i, e in enumerate(marked) if e.outdated), default=None)
    return _recorded(tuple(marked), old, ScaleEvent(change, now))


def store_scale_event(behavior: Behavior | None, up_events: Sequence[ScaleEvent], down_events: Sequence[ScaleEvent],
                      previous: int, new: int, now: int) -> tuple[tuple[ScaleEvent, ...], tuple[ScaleEvent, ...]]:
    """``storeScaleEvent``: after a rescale, record the change in the direction's log (nothing without
    a ``behavior``): events older than that direction's longest policy period are marked outdated and
    the last outdated one is replaced, else the event is appended."""
    up, down = tuple(up_events), tuple(down_events)
    if behavior is None:
        return up, down
    if new > previous:
        return _stored(up, behavior.scale_up, new - previous, now), down
    return up, _stored(down, behavior.scale_down, previous - new, now)


def reconcile_desired_replicas(spec_replicas: int, min_replicas: int, max_replicas: int,
                               proposals: Sequence[int | None], behavior: Behavior | None,
                               recommendations: Sequence[Recommendation], up_events: Sequence[ScaleEvent],
                               down_events: Sequence[ScaleEvent], now: int,
                               downscale_stabilisation: int = DOWNSCALE_STABILISATION_SECONDS
                               ) -> tuple[int, tuple[Recommendation, ...], tuple[ScaleEvent, ...],
                                          tuple[ScaleEvent, ...]]:
    """``reconcileAutoscaler``'s decision for one sync: (desired replicas, recommendations, scale-up
    events, scale-down events), from the target's ``spec.replicas``, the HPA's bounds, each metric's
    proposal (``None`` when it could not be computed) and the controller's memory.

    A target scaled to zero with ``minReplicas`` above zero is left alone (autoscaling disabled); a
    count above max or below min is brought to the bound; otherwise the metrics' proposal
    (:func:`replicas_for_metrics`) is normalised with or without the ``behavior`` (given as written;
    it is defaulted here). The first sync records the current count as a recommendation.
    """
    defaulted = default_behavior(behavior, downscale_stabilisation)
    log = tuple(recommendations) or (Recommendation(spec_replicas, now),)
    up, down = tuple(up_events), tuple(down_events)
    if spec_replicas == 0 and min_replicas != 0:
        return 0, log, up, down
    if spec_replicas > max_replicas:
        desired = max_replicas
    elif spec_replicas < min_replicas:
        desired = min_replicas
    else:
        proposal = replicas_for_metrics(spec_replicas, proposals)
        if proposal is None:
            return spec_replicas, log, up, down
        if defaulted is None:
            desired, log = normalize_desired_replicas(log, spec_replicas, proposal, min_replicas, max_replicas, now,
                                                      downscale_stabilisation)
        else:
            desired, log = normalize_desired_replicas_with_behaviors(log, spec_replicas, proposal, min_replicas,
                                                                     max_replicas, defaulted, up, down, now)
    if desired != spec_replicas:
        up, down = store_scale_event(defaulted, up, down, spec_replicas, desired, now)
    return desired, log, up, down
