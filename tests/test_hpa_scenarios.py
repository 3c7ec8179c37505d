"""HorizontalPodAutoscalers in scenarios: the controller of
``pkg/controller/podautoscaler/horizontal.go`` over the scenario's load, its
memory, and the bundled scenarios' traces (their verdicts and state counts are
pinned in tests/test_scenarios.py)."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, settings, strategies as st

from kspec.simulation.controllers.autoscaling import (
    Behavior, ScalingPolicy, ScalingRules, reconcile_desired_replicas,
)
from kspec.simulation.controllers.podautoscaler import (
    SYNC_PERIOD, Autoscaler, HPASync, MetricSpec, decide, parse_reading, steady_replicas,
)
from kspec.simulation.scenario import ScenarioError, load_scenario
from kspec.simulation.state import status_of
from support.scenarios import MODELS, explored

ACTOR = "horizontal-pod-autoscaler"


# --------------------------------------------------------------------------- the load


@pytest.mark.parametrize("value, expected", [
    ("40%", (("%", 40),)),
    ("200m", (("v", 200),)),
    (2, (("v", 2000),)),
    (["30%", "90%", "30%"], (("%", 30), ("%", 90))),
])
def test_parse_reading(value, expected):
    assert parse_reading(value) == expected


@pytest.mark.parametrize("value", ["lots", "-5%", "4.5%", [], True, {"cpu": 1}])
def test_parse_reading_refuses(value):
    with pytest.raises(ValueError):
        parse_reading(value)


# --------------------------------------------------------------------------- the decision and its memory


def _hpa(behavior=None, low=1, high=10):
    return Autoscaler("h", "default", 0, low, high, (MetricSpec("Resource", "cpu", "Utilization", 50),), behavior,
                      ((("%", 50),),))


POLICIES = st.lists(st.builds(ScalingPolicy, st.sampled_from(["Pods", "Percent"]), st.integers(1, 150),
                              st.sampled_from([15, 30, 60, 90])), min_size=1, max_size=2).map(tuple)
RULES = st.builds(ScalingRules, st.one_of(st.none(), st.sampled_from([0, 15, 45, 60, 300])),
                  st.one_of(st.none(), st.sampled_from(["Max", "Min", "Disabled"])), st.one_of(st.none(), POLICIES))
BEHAVIORS = st.one_of(st.none(), st.builds(Behavior, st.one_of(st.none(), RULES), st.one_of(st.none(), RULES)))


@settings(max_examples=150, deadline=None)
@given(BEHAVIORS, st.integers(1, 6), st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=1, max_size=30))
def test_decide_with_kept_memory_agrees_with_upstream_full_memory(behavior, start, proposals):
    """``reconcileAutoscaler`` with every recommendation and scale event kept
    (absolute times, one sync period apart) and :func:`decide` with the
    memory the model keeps (ages, entries that can no longer decide dropped)
    choose the same count at every sync."""
    hpa = _hpa(behavior)
    replicas_full = replicas_kept = start
    log, up, down, memory = (), (), (), None
    for k, proposal in enumerate(proposals):
        now = k * SYNC_PERIOD
        full, log, up, down = reconcile_desired_replicas(replicas_full, hpa.min_replicas, hpa.max_replicas,
                                                         [proposal], behavior, log, up, down, now)
        kept, memory = decide(hpa, memory, replicas_kept, [proposal])
        assert kept == full, (k, log, memory)
        replicas_full = replicas_kept = full


def test_decide_without_behavior_holds_a_scale_down_for_five_minutes():
    """``normalizeDesiredReplicas``: the default 300 s downscale stabilisation, in 15 s periods."""
    hpa = _hpa()
    desired, memory = decide(hpa, None, 4, [4])
    counts = []
    for _ in range(21):
        desired, memory = decide(hpa, memory, desired, [2])
        counts.append(desired)
    assert counts == [4] * 20 + [2]
    assert decide(hpa, memory, 2, [2]) == (2, memory)  # steady: the sync changes nothing


def test_steady_replicas_is_the_fixed_point_of_the_replica_calculator():
    """``GetResourceReplicas`` over Ready pods all reporting the load: 40% of a
    50% target holds 2 (ceil(0.8 x 2) = 2); 70% climbs 2 -> 3 -> 5, clamped to max 4."""
    model = load_scenario(MODELS / "hpa-rollout-ratchet.yaml")
    hpa = model.world.autoscalers[0]
    assert steady_replicas(model.world, hpa, (("%", 40),)) == 2
    assert steady_replicas(model.world, hpa, (("%", 70),)) == 4
    assert steady_replicas(model.world, hpa, (("%", 10),)) == 2  # minReplicas


# --------------------------------------------------------------------------- the controller in a scenario


def _ready_selected(model, state, hpa):
    return sum(1 for p in state.pods if model.world.selects[hpa.target][p.group] and p.ready and not p.deleting)


def test_horizontal_go_counts_the_surge_pod_of_a_rollout():
    """``reconcileAutoscaler`` reads every pod the Deployment's selector
    matches: once the rollout's surge pod is Ready, 3 Ready pods at 40% of a
    50% target call for ceil(0.8 x 3) = 3 replicas, though the load did not change."""
    model = load_scenario(MODELS / "hpa-rollout-ratchet.yaml")
    hpa = model.world.autoscalers[0]
    state = model.init_states()[0]
    assert state.replicas[hpa.target] == 2
    assert not [a for a in model.actions(state) if isinstance(a, HPASync)]  # settled: the HPA has nothing to do
    for _ in range(20):
        if _ready_selected(model, state, hpa) == 3:
            break
        action = next(a for a in model.actions(state) if getattr(a, "actor", "") != ACTOR)
        state = model.next_state(state, action)
    else:
        pytest.fail("the rollout never had 3 Ready pods")
    syncs = [a for a in model.actions(state) if isinstance(a, HPASync)]
    assert [(a.replicas, a.desired) for a in syncs] == [(2, 3)]
    after = model.next_state(state, syncs[0])
    assert after.replicas[hpa.target] == 3
    assert status_of(model.world, after, hpa.key)[:2] == (2, 3)


def test_controller_restart_forgets_the_recommendations():
    """Upstream keeps recommendations in the controller's memory: a restart
    starts again from none, as the ``controller-restart`` fault does."""
    model = load_scenario(MODELS / "hpa-rollout-ratchet.yaml")
    world = model.world
    controller = next(c for c in model.controllers if c.actor == ACTOR)
    state = model.init_states()[0]
    assert state.memory[world.memory_slots[ACTOR]] != controller.initial_memory(world)
    assert controller.initial_memory(world) == (None,)


def test_scenarios_without_hpas_keep_their_state_shape():
    """No HPA, no memory slot and no status slot for one: pinned counts stay."""
    model = load_scenario(MODELS / "rolling-update.yaml")
    assert ACTOR not in model.world.memory_slots
    assert not model.world.autoscalers
    assert not any(key.startswith("HorizontalPodAutoscaler/") for key in model.world.status_slots)


def test_hpa_is_no_longer_an_ignored_kind():
    model = load_scenario(MODELS / "hpa-rollout-ratchet.yaml")
    assert not [w for w in model.warnings if "HorizontalPodAutoscaler" in w.message]


def test_load_swings_flap_back_up_one_sync_after_a_scale_down():
    """The scale-up stabilisation window defaults to 0 s
    (``GenerateHPAScaleUpRules``): a scale-down is undone at the next sync."""
    _, result = explored("hpa-load-swings")
    scales = [a for a in result["hpa-no-flapping"].trace.actions if isinstance(a, HPASync) and a.desired != a.replicas]
    assert scales[-1].desired > scales[-1].replicas and scales[-2].desired < scales[-2].replicas
    assert result["hpa-no-flapping"].trace.actions[-1] == scales[-1]


# --------------------------------------------------------------------------- bad input


def _scenario(tmp_path: pathlib.Path, hpa: str, load: str) -> pathlib.Path:
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: app}\nspec:\n  replicas: 1\n"
        "  selector: {app: a}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n"
        "      containers: [{name: c, image: i, resources: {requests: {cpu: 100m}}}]\n---\n" + hpa)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nmanifests: [app.yaml]\nnodes: ['1:cpu=2,memory=4Gi']\n{load}"
                    "checks: [hpa-rescales]\n")
    return path


HPA = ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n"
       "  scaleTargetRef: {apiVersion: v1, kind: ReplicationController, name: app}\n  maxReplicas: 3\n")


def test_an_hpa_without_a_declared_load_is_an_error_at_its_line(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path, HPA, ""))
    (diag,) = err.value.diagnostics
    assert diag.file.endswith("app.yaml") and diag.line == 12 and "no load for metric cpu" in diag.message


def test_a_bad_load_value_is_an_error_at_its_line(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path, HPA, "load:\n  app: {cpu: lots}\n"))
    (diag,) = err.value.diagnostics
    assert diag.line == 5 and "load.app.cpu" in str(diag)


def test_an_hpa_of_a_missing_target_and_bad_bounds_reports_both(tmp_path):
    bad = HPA.replace("name: app}", "name: nope}").replace("maxReplicas: 3", "minReplicas: 4\n  maxReplicas: 3")
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(tmp_path, bad, "load:\n  app: {cpu: 50%}\n"))
    fields = sorted(d.field for d in err.value.diagnostics)
    assert fields == ["spec.maxReplicas", "spec.scaleTargetRef.name"]
