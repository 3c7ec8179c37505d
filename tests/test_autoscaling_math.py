"""The HorizontalPodAutoscaler's arithmetic against upstream's own tables.

Upstream: ``pkg/controller/podautoscaler/replica_calculator.go`` with the cases
of ``replica_calculator_test.go`` (``TestReplicaCalc*``, ``TestGroupPods``),
and ``horizontal.go`` with the tables of ``horizontal_test.go``
(``TestConvertDesiredReplicasWithRules``, ``TestNormalizeDesiredReplicas``,
``TestNormalizeDesiredReplicasWithBehavior``, ``TestScalingWithRules``,
``TestStoreScaleEvents``, ``TestCalculateScale{Up,Down}Limit*``) and
``pkg/apis/autoscaling/v2/defaults.go``.

Reading the upstream fixtures here: upstream gives each pod two containers
with the listed request and usage each; one container per pod gives the same
ratios, so the raw averages below are the listed levels. A pod listed with
readiness ``False`` and the default (long past) start time has never been
Ready, so its CPU sample is set aside; a "hot" pod (started within the CPU
initialisation period) has a sample that does not cover a window after its
readiness changed, so it is set aside too. Times are seconds before ``NOW``.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from kspec.simulation.controllers.autoscaling import (
    Behavior, PodSample, Recommendation, ReplicaCalculationError, ScaleEvent, ScalingPolicy, ScalingRules, Tolerances,
    convert_desired_replicas_with_behavior_rate, convert_desired_replicas_with_rules, cpu_sample_unready,
    default_behavior, external_metric_replicas, external_per_pod_metric_replicas, group_pods,
    object_metric_replicas, object_per_pod_metric_replicas,
    plain_metric_replicas, reconcile_desired_replicas, replicas_change_per_period, replicas_for_metrics,
    resource_replicas, scale_down_limit, scale_up_limit, stabilize_recommendation,
    stabilize_recommendation_with_behaviors, store_scale_event, tolerances_for,
)

NOW = 1_000_000

# R ready, U never Ready (CPU sample set aside), H hot and Ready (set aside for CPU), h hot and not Ready,
# P Pending, F Failed, D being deleted (and not Ready).
_KINDS = {
    "R": dict(phase="Running", ready=True, cpu_unready=False),
    "U": dict(phase="Running", ready=False, cpu_unready=True),
    "H": dict(phase="Running", ready=True, cpu_unready=True),
    "h": dict(phase="Running", ready=False, cpu_unready=True),
    "P": dict(phase="Pending", ready=False, cpu_unready=False),
    "F": dict(phase="Failed", ready=False, cpu_unready=False),
    "D": dict(phase="Running", ready=False, cpu_unready=True, deleting=True),
}


def pods(kinds: str, requests=None):
    """``test-pod-<i>`` for each letter of ``kinds``, with 1000m requested unless ``requests`` says."""
    requests = requests or [1000] * len(kinds)
    return [PodSample(f"test-pod-{i}", request=requests[i], **_KINDS[k]) for i, k in enumerate(kinds)]


def levels(*values):
    """The metrics fixture: the i-th level is the i-th pod's."""
    return {f"test-pod-{i}": v for i, v in enumerate(values)}


# ----------------------------------------------------------------- GetResourceReplicas (Resource, averageUtilization)

RESOURCE_CASES = [
    # name, current, pods, levels, target %, expected replicas, expected utilization %, raw average
    ("TestReplicaCalcScaleUp", 3, "RRR", (300, 500, 700), 30, 5, 50, 500),
    ("TestReplicaCalcScaleUpUnreadyLessScale", 3, "URR", (300, 500, 700), 30, 4, 60, 600),
    ("TestReplicaCalcScaleUpHotCpuLessScale", 3, "HRR", (300, 500, 700), 30, 4, 60, 600),
    ("TestReplicaCalcScaleUpUnreadyNoScale", 3, "RUU", (400, 500, 700), 30, 3, 40, 400),
    ("TestReplicaCalcScaleHotCpuNoScale", 3, "Rhh", (400, 500, 700), 30, 3, 40, 400),
    ("TestReplicaCalcScaleUpIgnoresFailedPods", 2, "RRFF", (500, 700), 30, 4, 60, 600),
    ("TestReplicaCalcScaleUpIgnoresDeletionPods", 2, "RRDD", (500, 700), 30, 4, 60, 600),
    ("TestReplicaCalcScaleDown", 5, "RRRRR", (100, 300, 500, 250, 250), 50, 3, 28, 280),
    ("TestReplicaCalcScaleDownIncludeUnreadyPods", 5, "RRRUU", (100, 300, 500, 250, 250), 50, 2, 30, 300),
    ("TestReplicaCalcScaleDownExcludeUnscheduledPods", 5, "RPPPP", (100,), 50, 1, 10, 100),
    ("TestReplicaCalcScaleDownIgnoreHotCpuPods", 5, "RRRHH", (100, 300, 500, 250, 250), 50, 2, 30, 300),
    ("TestReplicaCalcScaleDownIgnoresFailedPods", 5, "RRRRRFF", (100, 300, 500, 250, 250), 50, 3, 28, 280),
    ("TestReplicaCalcScaleDownIgnoresDeletionPods", 5, "RRRRRDD", (100, 300, 500, 250, 250), 50, 3, 28, 280),
    ("TestReplicaCalcSuperfluousMetrics", 4, "RRRR", (4000, 9500, 3000, 7000, 3200, 2000), 100, 24, 587, 5875),
    ("TestReplicaCalcMissingMetrics", 4, "RRRR", (400, 95), 100, 3, 24, 247),
    ("TestReplicaCalcMissingMetricsNoChangeEq", 2, "RR", (1000,), 100, 2, 100, 1000),
    ("TestReplicaCalcMissingMetricsNoChangeGt", 2, "RR", (1900,), 100, 2, 190, 1900),
    ("TestReplicaCalcMissingMetricsNoChangeLt", 2, "RR", (600,), 100, 2, 60, 600),
    ("TestReplicaCalcMissingMetricsUnreadyChange", 3, "URR", (100, 450), 50, 3, 45, 450),
    ("TestReplicaCalcMissingMetricsHotCpuNoChange", 3, "HRR", (100, 450), 50, 3, 45, 450),
    ("TestReplicaCalcMissingMetricsUnreadyScaleUp", 3, "URR", (100, 2000), 50, 4, 200, 2000),
    ("TestReplicaCalcMissingMetricsHotCpuScaleUp", 3, "hRR", (100, 2000), 50, 4, 200, 2000),
    ("TestReplicaCalcMissingMetricsUnreadyScaleDown", 4, "URRR", (100, 100, 100), 50, 3, 10, 100),
    ("TestReplicaCalcDuringRollingUpdateWithMaxSurge", 2, "RRR", (100, 100), 50, 2, 10, 100),
]


@pytest.mark.parametrize("name,current,kinds,values,target,replicas,utilization,raw", RESOURCE_CASES,
                         ids=[c[0] for c in RESOURCE_CASES])
def test_GetResourceReplicas(name, current, kinds, values, target, replicas, utilization, raw):
    assert resource_replicas(current, target, pods(kinds), levels(*values)) == (replicas, utilization, raw)


def test_TestReplicaCalcTolerance_GetResourceReplicas():
    """Requests 0.9, 1.0, 1.1 CPU using 1.01, 1.03, 1.02: 102% of a 100% target stays put."""
    assert resource_replicas(3, 100, pods("RRR", [900, 1000, 1100]), levels(1010, 1030, 1020)) == (3, 102, 1020)


def test_TestReplicaCalcComputedToleranceAlgImplementation_GetResourceReplicas():
    """Ten pods using 150m of about 300m requested: a target just past the tolerance scales down to
    ``ceil(used / (requested * target) * 10)`` pods, one just inside it does not scale."""
    per_pod = 300
    requests = [per_pod + d for d in (100, -100, 10, -10, 2, -2, 1, -1, 0, 0)]
    usage = levels(*[150] * 10)
    target = 1 / (2 * (1 - 0.1)) + .01
    expected = math.ceil(1500 / (3000 * target) * 10)
    assert resource_replicas(10, int(target * 100), pods("R" * 10, requests), usage)[0] == expected
    close = int((1 / (2 * (1 - 0.1)) + .004) * 100)
    assert resource_replicas(10, close, pods("R" * 10, requests), usage)[0] == 10


def test_TestReplicaCalcDisjointResourcesMetrics_GetResourceReplicas():
    """Metrics only for a pod the selector does not find: no metric matches a known pod."""
    with pytest.raises(ReplicaCalculationError, match="no metrics returned matched known pods"):
        resource_replicas(1, 100, pods("R"), {"an-older-pod-name": 100})


def test_TestReplicaCalcEmptyCPURequest_GetResourceReplicas():
    with pytest.raises(ReplicaCalculationError, match="missing request for"):
        resource_replicas(1, 100, [PodSample("test-pod-0", request=None)], levels(200))


def test_GetResourceReplicas_no_pods_and_only_unready_metrics_are_errors():
    with pytest.raises(ReplicaCalculationError, match="no pods returned by selector"):
        resource_replicas(1, 100, [], {})
    with pytest.raises(ReplicaCalculationError, match="did not receive metrics for targeted pods"):
        resource_replicas(2, 100, pods("UU"), levels(100, 100))


# ----------------------------------------------------------------- the other metric sources

def test_TestReplicaCalcScaleUpCM_calcPlainMetricReplicas():
    assert plain_metric_replicas(3, 15000, pods("RRR"), levels(20000, 10000, 30000)) == (4, 20000)


def test_TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale_calcPlainMetricReplicas():
    """A pods metric does not set unready pods aside (only CPU samples are)."""
    assert plain_metric_replicas(3, 15000, pods("RRh"), levels(50000, 10000, 30000)) == (6, 30000)


def test_TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown_calcPlainMetricReplicas():
    assert plain_metric_replicas(3, 15000, pods("hRh"), levels(50000, 15000, 30000)) == (7, 31666)


def test_TestReplicaCalcScaleDownCM_calcPlainMetricReplicas():
    assert plain_metric_replicas(5, 20000, pods("RRRRR"), levels(*[12000] * 5)) == (3, 12000)


def test_TestReplicaCalcToleranceCM_calcPlainMetricReplicas():
    assert plain_metric_replicas(3, 20000, pods("RRR"), levels(20000, 21000, 21000)) == (3, 20666)


def test_calcPlainMetricReplicas_missing_pod_counts_as_the_target_on_a_scale_down():
    """Two pods at half the target and one missing: counted at the target, 2/3 of it, so 2 pods."""
    assert plain_metric_replicas(3, 1000, pods("RRR"), levels(500, 500)) == (2, 500)


@pytest.mark.parametrize("name,current,kinds,value,target,expected", [
    ("TestReplicaCalcScaleUpCMObject", 3, "RRR", 20000, 15000, 4),
    ("TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods", 3, "URU", 50000, 10000, 5),
    ("TestReplicaCalcScaleDownCMObject", 5, "RRRRR", 12000, 20000, 3),
    ("TestReplicaCalcToleranceCMObject", 3, "RRR", 20666, 20000, 3),
])
def test_GetObjectMetricReplicas(name, current, kinds, value, target, expected):
    assert object_metric_replicas(current, target, value, pods(kinds)) == expected


@pytest.mark.parametrize("name,status,value,target,expected", [
    ("TestReplicaCalcScaleUpCMPerPodObject", 3, 20000, 5000, (4, 6667)),
    ("TestReplicaCalcScaleDownPerPodCMObject", 5, 6000, 2000, (3, 1200)),
    ("TestReplicaCalcTolerancePerPodCMObject", 4, 20166, 5000, (4, 5042)),
])
def test_GetObjectPerPodMetricReplicas(name, status, value, target, expected):
    assert object_per_pod_metric_replicas(status, target, value) == expected


@pytest.mark.parametrize("name,current,kinds,values,target,expected", [
    ("TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods", 3, "URU", (8600,), 4400, 2),
    ("TestReplicaCalcScaleDownCMExternal", 5, "RRRRR", (8600,), 14334, 3),
    ("TestReplicaCalcToleranceCMExternal", 3, "RRR", (8600,), 8888, 3),
])
def test_GetExternalMetricReplicas(name, current, kinds, values, target, expected):
    assert external_metric_replicas(current, target, values, pods(kinds)) == expected


@pytest.mark.parametrize("name,status,values,target,expected", [
    ("TestReplicaCalcScaleUpPerPodCMExternal", 3, (8600,), 2150, (4, 2867)),
    ("TestReplicaCalcScaleDownPerPodCMExternal", 5, (8600,), 2867, (3, 1720)),
    ("TestReplicaCalcTolerancePerPodCMExternal", 3, (8600,), 2900, (3, 2867)),
])
def test_GetExternalPerPodMetricReplicas(name, status, values, target, expected):
    assert external_per_pod_metric_replicas(status, target, values) == expected


def test_getUsageRatioReplicaCount_scales_from_zero_on_the_ratio_alone():
    assert external_metric_replicas(0, 4400, (8600,), pods("")) == 2
    assert object_metric_replicas(0, 10000, 0, pods("")) == 0


# ----------------------------------------------------------------- groupPods' readiness test for CPU

@pytest.mark.parametrize("name,ready,started,transitioned,sampled,window,unready", [
    ("ignore a pod without ready condition - CPU", None, 0, 0, 0, 60, True),
    ("count in a ready pod with fresh metrics during initialization period - CPU", True, -60, -30, 0, 30, False),
    ("ignore a ready pod without fresh metrics during initialization period - CPU", True, -60, -30, 0, 60, True),
    ("ignore an unready pod during initialization period - CPU", False, -600, -594, 0, 60, True),
    ("count in a ready pod without fresh metrics after initialization period - CPU", True, -180, -180, -120, 60, False),
    ("count in an unready pod that was ready after initialization period - CPU", False, -600, -540, 0, 60, False),
    ("ignore pod that has never been ready after initialization period - CPU", False, -600, -590, 0, 60, False),
])
def test_TestGroupPods_cpu_sample_unready(name, ready, started, transitioned, sampled, window, unready):
    """Upstream's test runs with a 10 s initial readiness delay (``defaultTestingDelayOfInitialReadinessStatus``);
    a condition changed exactly that long after the start is not "never ready" (the last case)."""
    assert cpu_sample_unready(ready, NOW + started, NOW + transitioned, NOW + sampled, window, NOW,
                              readiness_delay=10) is unready


def test_TestGroupPods_several_pods():
    sample = [PodSample("lucretius", cpu_unready=True), PodSample("niccolo"), PodSample("epicurus")]
    assert group_pods(sample, {"lucretius": 1, "niccolo": 1}, cpu=True) == (
        1, frozenset({"lucretius"}), frozenset({"epicurus"}), frozenset())


def test_TestGroupPods_pending_pods_are_unready_and_memory_ignores_cpu_readiness():
    assert group_pods([PodSample("unscheduled", phase="Pending")], {}, cpu=True)[1] == {"unscheduled"}
    assert group_pods([PodSample("bentham", cpu_unready=True)], {"bentham": 1}, cpu=False)[0] == 1


# ----------------------------------------------------------------- properties of the calculator

sample_pods = st.lists(st.sampled_from("RRRRUHPFD"), min_size=1, max_size=6).map(lambda ks: pods("".join(ks)))


@given(sample_pods, st.integers(1, 200), st.integers(0, 10))
def test_GetResourceReplicas_property_on_target_returns_current(sample, target, current):
    """Every pod Running with a metric, the average exactly on target: no change, whatever the count."""
    ready = [p for p in sample if p.phase == "Running" and not p.deleting and not p.cpu_unready]
    if not ready:
        return
    metrics = {p.name: p.request * target // 100 for p in ready}
    others = {p.name for p in sample} - set(metrics)
    sample = [p for p in sample if p.name not in others]
    assert resource_replicas(current, target, sample, metrics)[0] == current


@given(st.lists(st.integers(0, 5000), min_size=1, max_size=6), st.integers(1, 5000), st.integers(1, 10))
def test_calcPlainMetricReplicas_property_direction_follows_the_ratio(values, target, current):
    """With every pod reporting, the count moves the way the average moves and never to a negative."""
    replicas, usage = plain_metric_replicas(current, target, pods("R" * len(values)), levels(*values))
    ratio = usage / target
    assert replicas >= 0
    if Tolerances().within(ratio):
        assert replicas == current
    elif ratio > 1:
        assert replicas >= len(values)
    else:
        assert replicas <= len(values)


@pytest.mark.parametrize("spec,proposals,expected", [
    (3, [4, 5], 5),
    (3, [None, 5], 5),      # some invalid, scaling up: use the valid ones
    (3, [None, 2], None),   # some invalid, would scale down: do not scale
    (3, [None, None], None),
    (3, [2, 1], 2),
])
def test_computeReplicasForMetrics_replicas_for_metrics(spec, proposals, expected):
    assert replicas_for_metrics(spec, proposals) == expected


# ----------------------------------------------------------------- defaults (pkg/apis/autoscaling/v2/defaults.go)

def test_SetDefaults_HorizontalPodAutoscalerBehavior_fills_each_direction():
    given = Behavior(scale_up=ScalingRules(select_policy="Min"), scale_down=None)
    filled = default_behavior(given)
    assert filled.scale_up == ScalingRules(0, "Min", (ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15)))
    assert filled.scale_down == ScalingRules(300, "Max", (ScalingPolicy("Percent", 100, 15),))
    assert default_behavior(None) is None
    custom = default_behavior(Behavior(scale_down=ScalingRules(stabilization_window_seconds=60)), 120)
    assert custom.scale_down.stabilization_window_seconds == 60
    assert default_behavior(Behavior(), 120).scale_down.stabilization_window_seconds == 120


def test_HPAScalingRules_tolerance_overrides_the_controllers():
    assert tolerances_for(Behavior(scale_up=ScalingRules(tolerance=0.05))) == Tolerances(0.1, 0.05)
    assert tolerances_for(None) == Tolerances(0.1, 0.1)


# ----------------------------------------------------------------- convertDesiredReplicasWithRules

@pytest.mark.parametrize("current,desired,lo,hi,expected", [
    (5, 7, 3, 8, (7, "DesiredWithinRange")),
    (3, 1, 2, 8, (2, "TooFewReplicas")),
    (1, 0, 0, 10, (0, "DesiredWithinRange")),
    (20, 1000, 1, 10, (10, "TooManyReplicas")),
    (3, 1000, 1, 2000, (6, "ScaleUpLimit")),  # calculateScaleUpLimit(3) = max(2*3, 4)
])
def test_TestConvertDesiredReplicasWithRules(current, desired, lo, hi, expected):
    assert convert_desired_replicas_with_rules(current, desired, lo, hi) == expected


# ----------------------------------------------------------------- stabilizeRecommendation (no behavior)

@pytest.mark.parametrize("name,recs,desired,stabilized,log_length", [
    ("empty log", [], 5, 5, 1),
    ("stabilize", [(4, -120), (5, -60)], 3, 5, 3),
    ("no stabilize", [(1, -120), (2, -60)], 3, 3, 3),
    ("no stabilize - old recommendations", [(10, -600), (9, -540)], 3, 3, 2),
    ("stabilize - old recommendations", [(10, -600), (4, -60), (5, -120), (9, -540)], 3, 5, 4),
])
def test_TestNormalizeDesiredReplicas(name, recs, desired, stabilized, log_length):
    log = [Recommendation(r, NOW + at) for r, at in recs]
    got, new_log = stabilize_recommendation(log, desired, NOW)
    assert (got, len(new_log)) == (stabilized, log_length)


# ----------------------------------------------------------------- stabilizeRecommendationWithBehaviors

@pytest.mark.parametrize("name,recs,current,desired,up,down,stabilized,stored", [
    ("empty recommendations for scaling down", [], 100, 5, 0, 0, 5, [5]),
    ("simple scale down stabilization", [(4, -120), (5, -60)], 100, 3, 0, 180, 5, [4, 5, 3]),
    ("simple scale up stabilization", [(4, -120), (5, -60)], 1, 7, 300, 0, 4, [4, 5, 7]),
    ("no scale down stabilization", [(1, -120), (2, -60)], 100, 3, 300, 0, 3, [1, 2, 3]),
    ("no scale up stabilization", [(4, -120), (5, -60)], 1, 3, 0, 300, 3, [4, 5, 3]),
    ("no scale down stabilization, reuse recommendation element", [(10, -600), (9, -540)], 100, 3, 0, 0, 3, [10, 3]),
    ("no scale up stabilization, reuse recommendation element", [(10, -600), (9, -540)], 1, 100, 0, 0, 100,
     [10, 100]),
    ("scale down stabilization, reuse one of obsolete recommendation element",
     [(10, -600), (4, -60), (5, -120), (9, -540)], 100, 3, 0, 180, 5, [10, 4, 5, 3]),
    ("scale up stabilization, reuse one of obsolete recommendation element",
     [(10, -6000), (6, -60), (5, -120), (9, -180)], 1, 100, 300, 0, 5, [100, 6, 5, 9]),
])
def test_TestNormalizeDesiredReplicasWithBehavior(name, recs, current, desired, up, down, stabilized, stored):
    log = [Recommendation(r, NOW + at) for r, at in recs]
    got, _, new_log = stabilize_recommendation_with_behaviors(log, desired, current, up, down, NOW)
    assert got == stabilized
    assert [r.replicas for r in new_log] == stored


# ----------------------------------------------------------------- convertDesiredReplicasWithBehaviorRate

def rules(pods_value, pods_period, percent, percent_period, window):
    """``generateScalingRules``: a Pods and/or a Percent policy, ``Max``."""
    policies = []
    if pods_value:
        policies.append(ScalingPolicy("Pods", pods_value, pods_period))
    if percent:
        policies.append(ScalingPolicy("Percent", percent, percent_period))
    return ScalingRules(window, "Max", tuple(policies))


def uniform(changes, period):
    """``generateEventsUniformDistribution``: each event in the middle of its share of the last ``period`` s."""
    segment = period / len(changes)
    return [ScaleEvent(c, NOW - int(period - segment * (i + 1) + segment / 2)) for i, c in enumerate(changes)]


SCALING_WITH_RULES = [
    # name, up events, down events, min, max, up rules, down rules, current, desired, expected, reason
    ("prenormalized desired replicas within range", [], [], 3, 8, None, None, 5, 7, 7, "DesiredWithinRange"),
    ("prenormalized desired replicas < minReplicas", [], [], 2, 8, None, None, 3, 1, 2, "TooFewReplicas"),
    ("prenormalized desired replicas within range when minReplicas is 0", [], [], 0, 10, None, None, 1, 0, 0,
     "DesiredWithinRange"),
    ("maxReplicas is the limit because maxReplicas < scaleUpLimit", [], [], 1, 10, None, None, 20, 1000, 10,
     "TooManyReplicas"),
    ("desired replica count is more than the maximum replica count", [], [], 100, 150, None, None, 100, 1000, 150,
     "TooManyReplicas"),
    ("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", [], [], 1, 2000,
     rules(0, 0, 1, 60, 0), None, 3, 1000, 4, "ScaleUpLimit"),
    ("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", [], [], 3, 2000,
     None, rules(20, 60, 0, 0, 0), 1000, 3, 980, "ScaleDownLimit"),
    ("scaleUp with default behavior", [], [], 1, 1000, None, None, 10, 50, 20, "ScaleUpLimit"),
    ("scaleUp with pods policy larger than percent policy", [], [], 1, 1000, rules(100, 60, 100, 60, 0), None,
     10, 500, 110, "ScaleUpLimit"),
    ("scaleUp with percent policy larger than pods policy", [], [], 1, 1000, rules(2, 60, 100, 60, 0), None,
     10, 500, 20, "ScaleUpLimit"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy", [], [], 1, 1000, rules(100, 60, 0, 0, 0),
     None, 10, 50, 50, "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large percent policy", [], [], 1, 1000,
     rules(10000, 60, 0, 0, 0), None, 10, 50, 50, "DesiredWithinRange"),
    ("scaleUp with pod policy limitation", [], [], 1, 1000, rules(30, 60, 0, 0, 0), None, 10, 50, 40,
     "ScaleUpLimit"),
    ("scaleUp with percent policy limitation", [], [], 1, 1000, rules(0, 0, 200, 60, 0), None, 10, 50, 30,
     "ScaleUpLimit"),
    ("scaleDown with percent policy larger than pod policy", [], [], 1, 1000, None, rules(20, 60, 1, 60, 300),
     100, 2, 80, "ScaleDownLimit"),
    ("scaleDown with pod policy larger than percent policy", [], [], 1, 1000, None, rules(2, 60, 1, 60, 300),
     100, 2, 98, "ScaleDownLimit"),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy", [], [], 1, 1000, None,
     rules(100, 60, 0, 0, 300), 10, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy", [], [], 5, 1000, None,
     rules(0, 0, 100, 60, 300), 10, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation", [], [], 1, 1000, None, rules(5, 60, 0, 0, 300), 10, 2, 5,
     "ScaleDownLimit"),
    ("scaleDown with percent policy limitation", [], [], 1, 1000, None, rules(0, 0, 50, 60, 300), 10, 5, 5,
     "DesiredWithinRange"),
    ("scaleUp with spec MaxReplicas limitation with large pod policy and events", uniform([1, 5, 9], 120), [], 1, 200,
     rules(300, 60, 0, 0, 0), None, 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with spec MaxReplicas limitation with large percent policy and events", uniform([1, 5, 9], 120), [],
     1, 200, rules(0, 0, 10000, 60, 0), None, 100, 500, 200, "TooManyReplicas"),
    ("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
     uniform([1, 5, 9], 120), [], 1, 1000, rules(5, 120, 0, 0, 0), None, 100, 500, 100, "ScaleUpLimit"),
    ("scaleUp with pod policy and previous scale up events", uniform([1, 5, 9], 120), [], 1, 1000,
     rules(150, 120, 0, 0, 0), None, 100, 500, 235, "ScaleUpLimit"),
    ("scaleUp with percent policy and previous scale up events", uniform([1, 5, 9], 120), [], 1, 1000,
     rules(0, 0, 200, 120, 0), None, 100, 500, 255, "ScaleUpLimit"),
    ("scaleDown with default policy and previous events", [], uniform([1, 5, 9], 120), 1, 1000, None, None,
     10, 5, 5, "DesiredWithinRange"),
    ("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", [],
     uniform([1, 5, 9], 120), 1, 1000, None, rules(115, 120, 0, 0, 300), 100, 0, 1, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large pod policy and previous events", [],
     uniform([1, 5, 9], 120), 5, 1000, None, rules(130, 120, 0, 0, 300), 100, 0, 5, "TooFewReplicas"),
    ("scaleDown with spec MinReplicas limitation with large percent policy and previous events", [],
     uniform([1, 5, 9], 120), 5, 1000, None, rules(0, 0, 100, 120, 300), 100, 2, 5, "TooFewReplicas"),
    ("scaleDown with pod policy limitation and previous events", [], uniform([1, 5, 9], 120), 1, 1000, None,
     rules(5, 120, 0, 0, 300), 100, 2, 100, "ScaleDownLimit"),
    ("scaleDown with percent policy limitation and previous events", [], uniform([2, 4, 6], 120), 1, 1000, None,
     rules(0, 0, 50, 120, 300), 100, 0, 56, "ScaleDownLimit"),
    ("scaleDown with previous events preventing further scale down", [], uniform([10, 10, 10], 120), 1, 1000, None,
     rules(0, 0, 10, 120, 300), 100, 0, 100, "ScaleDownLimit"),
    ("scaleDown with with previous events still allowing more scale down", [], uniform([10, 10, 10], 120), 1, 1000,
     None, rules(0, 0, 1000, 120, 300), 10, 5, 5, "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for up", uniform([8, 12, 9, 11], 120), [], 1, 1000,
     rules(1000, 60, 0, 0, 0), None, 100, 200, 200, "DesiredWithinRange"),
    ("check that events were not marked 'outdated' for two different policies in the behavior for up",
     uniform([8, 12, 9, 11], 120), [], 1, 1000, rules(1000, 120, 100, 60, 0), None, 100, 200, 200,
     "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for up",
     uniform([8, 12, 9, 11], 120), [], 1, 1000, rules(1000, 30, 100, 60, 0), None, 100, 200, 200,
     "DesiredWithinRange"),
    ("check 'outdated' flag for events for one behavior for down", [], uniform([8, 12, 9, 11], 120), 1, 1000, None,
     rules(1000, 60, 0, 0, 300), 100, 5, 5, "DesiredWithinRange"),
    ("check that events were not marked 'outdated' for two different policies in the behavior for down", [],
     uniform([8, 12, 9, 11], 120), 1, 1000, None, rules(1000, 120, 100, 60, 300), 100, 5, 5, "DesiredWithinRange"),
    ("check that events were marked 'outdated' for two different policies in the behavior for down", [],
     uniform([8, 12, 9, 11], 120), 1, 1000, None, rules(1000, 30, 100, 60, 300), 100, 5, 5, "DesiredWithinRange"),
]


@pytest.mark.parametrize("name,up_events,down_events,lo,hi,up,down,current,desired,expected,reason",
                         SCALING_WITH_RULES, ids=[c[0] for c in SCALING_WITH_RULES])
def test_TestScalingWithRules(name, up_events, down_events, lo, hi, up, down, current, desired, expected, reason):
    """``convertDesiredReplicasWithBehaviorRate`` with the rules defaulted as ``GenerateHPAScale{Up,Down}Rules``
    does (upstream skips the "scaleDownLimit is the limit" case with ``testThis``; it holds here)."""
    behavior = default_behavior(Behavior(up, down))
    got = convert_desired_replicas_with_behavior_rate(current, desired, lo, hi, behavior, up_events, down_events, NOW)
    assert got == (expected, reason)


def test_TestCalculateScaleUpLimitWithScalingRules():
    min_rules = ScalingRules(300, "Min", (ScalingPolicy("Pods", 2, 60), ScalingPolicy("Percent", 50, 60)))
    assert scale_up_limit(1, [], [], min_rules, NOW) == 2


def test_TestCalculateScaleDownLimitWithBehaviors():
    min_rules = ScalingRules(300, "Min", (ScalingPolicy("Pods", 2, 60), ScalingPolicy("Percent", 50, 60)))
    assert scale_down_limit(5, [], [], min_rules, NOW) == 3


def test_selectPolicy_Disabled_allows_no_change_either_way():
    disabled = ScalingRules(0, "Disabled", (ScalingPolicy("Pods", 4, 15),))
    behavior = default_behavior(Behavior(disabled, disabled))
    assert convert_desired_replicas_with_behavior_rate(5, 50, 1, 100, behavior, [], [], NOW) == (5, "ScaleUpLimit")
    assert convert_desired_replicas_with_behavior_rate(5, 1, 1, 100, behavior, [], [], NOW) == (5, "ScaleDownLimit")


def test_calculateScaleUpLimitWithScalingRules_counts_scale_downs_within_the_period():
    """The period starts from the count before both kinds of change: 10 now, 3 added and 2 removed in
    the last minute, so the period started at 9 and a 4-pod policy allows 13."""
    rules4 = ScalingRules(0, "Max", (ScalingPolicy("Pods", 4, 60),))
    assert scale_up_limit(10, [ScaleEvent(3, NOW - 30)], [ScaleEvent(2, NOW - 10)], rules4, NOW) == 13


# ----------------------------------------------------------------- storeScaleEvent

STORE_CASES = [
    ("empty entries with default behavior", [], None, [], 0),
    ("empty entries with two-policy-behavior", [], rules(10, 60, 100, 60, 0), [(5, False)], 0),
    ("one outdated entry to be kept untouched without behavior", [(7, -61)], None, [(7, False)], 0),
    ("one outdated entry to be replaced with behavior", [(7, -61)], rules(10, 60, 100, 60, 0), [(5, False)], 0),
    ("one actual entry to be not touched with behavior", [(7, -58)], rules(10, 60, 100, 60, 0),
     [(7, False), (5, False)], 7),
    ("two entries, one of them to be replaced", [(7, -61), (6, -59)], rules(10, 60, 0, 0, 0),
     [(5, False), (6, False)], 6),
    ("replace one entry, use policies with different periods", [(8, -29), (6, -59), (7, -61), (9, -61)],
     rules(10, 60, 100, 30, 0), [(8, False), (6, False), (7, True), (5, False)], 14),
    ("two entries, both actual", [(7, -58), (6, -59)], rules(10, 120, 100, 30, 0),
     [(7, False), (6, False), (5, False)], 13),
]


@pytest.mark.parametrize("name,previous,scaling,expected,change_in_minute", STORE_CASES,
                         ids=[c[0] for c in STORE_CASES])
def test_TestStoreScaleEvents(name, previous, scaling, expected, change_in_minute):
    events = [ScaleEvent(c, NOW + at) for c, at in previous]
    assert replicas_change_per_period(60, events, NOW) == change_in_minute
    up_behavior = None if scaling is None else Behavior(scale_up=scaling)
    up, down = store_scale_event(up_behavior, events, [], 10, 15, NOW)
    assert [(e.change, e.outdated) for e in up] == expected and down == ()
    down_behavior = None if scaling is None else Behavior(scale_down=scaling)
    up, down = store_scale_event(down_behavior, [], events, 10, 5, NOW)
    assert [(e.change, e.outdated) for e in down] == expected and up == ()


# ----------------------------------------------------------------- one sync, and its properties

def test_reconcileAutoscaler_scale_down_waits_for_the_stabilisation_window():
    """No behavior: a lower recommendation within five minutes of a higher one changes nothing, and
    the count follows once the higher one has aged out."""
    desired, log, _, _ = reconcile_desired_replicas(4, 1, 10, [4], None, [], [], [], NOW)
    desired, log, _, _ = reconcile_desired_replicas(desired, 1, 10, [2], None, log, [], [], NOW + 60)
    assert desired == 4
    desired, log, _, _ = reconcile_desired_replicas(desired, 1, 10, [2], None, log, [], [], NOW + 301)
    assert desired == 2


def test_reconcileAutoscaler_bounds_and_disabled_target():
    assert reconcile_desired_replicas(12, 1, 10, [12], None, [], [], [], NOW)[0] == 10
    assert reconcile_desired_replicas(0, 1, 10, [5], None, [], [], [], NOW)[0] == 0
    assert reconcile_desired_replicas(0, 0, 10, [3], None, [], [], [], NOW)[0] == 3
    assert reconcile_desired_replicas(4, 1, 10, [None], None, [], [], [], NOW)[0] == 4


def test_reconcileAutoscaler_with_behavior_records_scale_events():
    behavior = Behavior(scale_up=ScalingRules(policies=(ScalingPolicy("Pods", 1, 60),)))
    desired, log, up, down = reconcile_desired_replicas(2, 1, 10, [6], behavior, [], [], [], NOW)
    assert (desired, [(e.change, e.at) for e in up], down) == (3, [(1, NOW)], ())
    desired, log, up, down = reconcile_desired_replicas(desired, 1, 10, [6], behavior, log, up, down, NOW + 30)
    assert desired == 3  # one pod per minute


bounds = st.tuples(st.integers(0, 8), st.integers(1, 12)).filter(lambda b: b[0] <= b[1])
behaviors = st.one_of(st.none(), st.builds(
    Behavior,
    st.builds(ScalingRules, st.sampled_from([None, 0, 60]), st.sampled_from([None, "Max", "Min", "Disabled"]),
              st.sampled_from([None, (ScalingPolicy("Pods", 1, 60),), (ScalingPolicy("Percent", 50, 30),)])),
    st.builds(ScalingRules, st.sampled_from([None, 0, 120]), st.sampled_from([None, "Max", "Min", "Disabled"]),
              st.sampled_from([None, (ScalingPolicy("Pods", 2, 60),), (ScalingPolicy("Percent", 10, 30),)]))))


@given(bounds, behaviors, st.integers(1, 12), st.lists(st.integers(0, 30), min_size=1, max_size=8))
def test_reconcileAutoscaler_property_desired_within_min_max(bound, behavior, start, proposals):
    """Starting inside [min, max], every sync keeps the count inside it, whatever the metrics say."""
    lo, hi = bound
    current = min(max(start, max(lo, 1)), hi)
    log, up, down = (), (), ()
    for step, proposal in enumerate(proposals):
        current, log, up, down = reconcile_desired_replicas(current, lo, hi, [proposal], behavior, log, up, down,
                                                            NOW + 15 * step)
        assert max(lo, 1) <= current <= hi or (current == 0 and lo == 0)


@given(bounds, behaviors, st.integers(1, 12), st.integers(0, 30), st.integers(1, 12))
def test_reconcileAutoscaler_property_constant_load_settles_and_stays(bound, behavior, start, proposal, syncs):
    """Under a constant recommendation the count moves monotonically toward it and, once it stops
    moving for a whole stabilisation window, stays: no flapping."""
    lo, hi = bound
    current = min(max(start, max(lo, 1)), hi)
    log, up, down = (), (), ()
    seen = [current]
    for step in range(syncs + 40):
        current, log, up, down = reconcile_desired_replicas(current, lo, hi, [proposal], behavior, log, up, down,
                                                            NOW + 15 * step)
        seen.append(current)
    deltas = [b - a for a, b in zip(seen, seen[1:]) if b != a]
    assert all(d > 0 for d in deltas) or all(d < 0 for d in deltas)
