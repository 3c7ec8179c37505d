"""The deployment controller reading through its informer cache.

Upstream (``pkg/controller/deployment``) it reads only listers: ReplicaSets
from ``rsLister`` and pods from ``podLister`` (``getPodMapForDeployment``,
read by ``oldPodsRunning`` for Recreate), and each ReplicaSet's available
replicas from its status. The model plans each sync on its cached pods
(``spec.replicas`` are read fresh). Checked here: what a lagging lister
changes for Recreate (a second revision starts while an old pod runs) and
for a rolling update (nothing unsafe: ``cleanupUnhealthyReplicas`` refuses
while the cache shows a surplus), that symmetry reduction keeps every
verdict and never gives two gone pods one name, restarts and warnings.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import Explorer
from kspec.simulation.controllers.deployment import (DeploymentSync, available, reconcile_old_replica_sets, revisions,
                                                     rollout_step)
from kspec.simulation.controllers.replication import Expectations
from kspec.simulation.faults import ControllerRestart, apply_fault
from kspec.simulation.informer import InformerRec, cached_state
from kspec.simulation.scenario import load_scenario
from support.scenarios import MODELS, explored
from support.stepping import reachable_states

RECREATE = MODELS / "deployment-recreate-stale-pod-lister.yaml"
ROLLING = MODELS / "deployment-rolling-stale-cache-holds.yaml"


def variant(tmp_path, source, consistency: str, extra: str = ""):
    """``source`` (a bundled scenario) with its ``consistency:`` block replaced,
    manifests resolved from models/, ``extra`` lines appended."""
    lines = source.read_text().splitlines()
    start = lines.index("consistency:")
    body = lines[:start] + [f"consistency: {consistency}"] + lines[start + 3:]
    text = "\n".join(body).split("expect:")[0]
    text = text.replace("manifests: [", f"manifests: [{MODELS}/")
    path = tmp_path / "s.yaml"
    path.write_text(text + extra)
    return load_scenario(path, allow_outside=True)


def verdicts(model, symmetry=True):
    result = Explorer(model, symmetry=symmetry, progress=False).run()
    assert result.complete
    return {p.name: str(p.verdict) for p in result.properties}


# --------------------------------------------------------------------------- wiring


def test_consistency_names_the_deployment_controller_and_fresh_reads_the_api(tmp_path):
    informed = variant(tmp_path, ROLLING, "{staleness: 1, controllers: [deployment]}")
    assert list(informed.world.informer_slots) == ["deployment"]
    assert "deployment" not in informed.world.memory_slots  # upstream's deployment controller keeps no expectations
    fresh = variant(tmp_path, ROLLING, "fresh")
    assert fresh.world.informer_slots == {}
    start, = fresh.init_states()
    assert cached_state(fresh.world, start, "deployment") is start


def test_a_deployment_cache_without_a_deployment_is_a_warning_at_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nmanifests: [{MODELS}/myapp/backend-rc.yaml, {MODELS}/myapp/nodes.yaml]\n"
                    "consistency:\n  staleness: 1\n  controllers: [deployment]\nchecks: [rc-replicas-converge]\n")
    model = load_scenario(path, allow_outside=True)
    warnings = [w for w in model.warnings if w.code == "cache-never-read"]
    assert [(w.line, "deployment has nothing to manage here (no Deployment)" in w.message) for w in warnings] \
        == [(5, True)]


# --------------------------------------------------------------------------- Recreate: oldPodsRunning on the lister


def test_rolloutRecreate_oldPodsRunning_misses_a_pod_the_lister_has_not_seen():
    """The shortest violation: the old ReplicaSet's first pod exists, its
    ADDED event is the one the cache lacks, and the sync after the scale to 0
    creates the new ReplicaSet with every replica."""
    model, result = explored("deployment-recreate-stale-pod-lister")
    trace = result["one-revision-at-a-time"].trace
    syncs = [(i, a) for i, a in enumerate(trace.actions) if isinstance(a, DeploymentSync)]
    i, creating = syncs[-1]
    assert creating.changes[0].startswith("create ") and creating.changes[0].endswith(" with 2")
    before = trace.steps[i].state
    world, d = model.world, model.world.deployments[0]
    _, olds = revisions(world, before, d)
    api_old = [p for p in before.pods if p.owner in olds]
    cached_old = [p for p in cached_state(world, before, "deployment").pods if p.owner in olds]
    assert len(api_old) == 1 and not api_old[0].deleting and cached_old == []


def test_rolloutRecreate_with_a_lister_that_has_seen_every_pod_holds(tmp_path):
    """The same start with the ReplicaSet controller's cache lagging instead
    (and its slow-start batches): oldPodsRunning sees the old pod and waits."""
    for consistency in ("{staleness: 1, controllers: [replication]}", "fresh"):
        model = variant(tmp_path, RECREATE, consistency)
        assert verdicts(model) == {"deployment-converges": "holds", "deployment-max-surge": "holds",
                                   "one-revision-at-a-time": "holds"}, consistency


# --------------------------------------------------------------------------- rolling: reconcileOldReplicaSets


@pytest.mark.parametrize("manifest", ["rollouts/web-surge-and-unavailable.yaml",  # 2 replicas, maxUnavailable 1
                                      pytest.param("web/", marks=pytest.mark.slow)])  # the bundled scenario's: 3 s
def test_reconcileOldReplicaSets_on_a_lagging_cache_only_ever_waits(tmp_path, manifest):
    """Over every reachable state of the rolling scenario: where the cache and
    the API disagree on what to write, the cache scales the old ReplicaSet
    down less, for both reasons the scenario names (a new pod's Ready not
    seen yet; an old pod's deletion not seen yet, which
    cleanupUnhealthyReplicas refuses on: available above spec)."""
    text = ROLLING.read_text().split("expect:")[0].replace("manifests: [web/]", f"manifests: [{MODELS / manifest}]")
    text = text.replace("  - service-always-has-endpoint: {service: web}\n", "")  # the smaller manifest has no Service
    (tmp_path / "s.yaml").write_text(text)
    model = load_scenario(tmp_path / "s.yaml", allow_outside=True)
    world, d = model.world, model.world.deployments[0]
    reasons = set()
    for state in reachable_states(model):
        view = cached_state(world, state, "deployment")
        fresh, stale = rollout_step(world, state, d), rollout_step(world, view, d)
        if fresh == stale:
            continue
        new, olds = revisions(world, state, d)
        for rs in olds:
            assert stale.get(rs, state.replicas[rs]) >= fresh.get(rs, state.replicas[rs])
            if available(world, view, rs) > state.replicas[rs]:
                reasons.add("old pod's deletion unseen, refused")
        if available(world, view, new) < available(world, state, new):
            reasons.add("new pod's Ready unseen")
    assert reasons == {"old pod's deletion unseen, refused", "new pod's Ready unseen"}


@settings(max_examples=300, deadline=None)
@given(replicas=st.integers(1, 5), unavailable=st.integers(0, 5), new_spec=st.integers(0, 6),
       new_available=st.integers(0, 6), seen=st.integers(0, 6),
       olds=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda o: (o[0], min(o))),
                     min_size=1, max_size=3))
def test_reconcileOldReplicaSets_never_scales_down_further_on_fewer_new_replicas_seen_available(
        replicas, unavailable, new_spec, new_available, seen, olds):
    """A cache that has seen fewer of the new ReplicaSet's replicas become
    available takes no more from any old ReplicaSet, as long as no old one
    shows more available replicas than its spec (when one does, with a single
    old ReplicaSet cleanupUnhealthyReplicas refuses; with several the
    arithmetic is not monotone: see the next test)."""
    unavailable = min(unavailable, replicas)
    fresh = reconcile_old_replica_sets(replicas, unavailable, new_spec, new_available, olds)
    stale = reconcile_old_replica_sets(replicas, unavailable, new_spec, min(seen, new_available), olds)
    assert all(s >= f for s, f in zip(stale, fresh))


def test_reconcileOldReplicaSets_with_a_surplus_in_a_second_old_replica_set_takes_more_on_fewer_seen():
    """Upstream's arithmetic, not a guard: the oldest ReplicaSet (spec 1, none
    available) is cleaned up first; seeing the new replica available raises
    maxScaledDown to 2, so cleanupUnhealthyReplicas goes on to the second old
    ReplicaSet (spec 1, 2 available: its surplus pod not deleted yet) and
    refuses; not seeing it caps the cleanup at 1, and
    scaleDownOldReplicaSetsForRollingUpdate then scales the second one down."""
    assert reconcile_old_replica_sets(1, 0, 1, 1, [(1, 0), (1, 2)]) == (0, 1)
    assert reconcile_old_replica_sets(1, 0, 1, 0, [(1, 0), (1, 2)]) == (0, 0)


# --------------------------------------------------------------------------- restarts and symmetry


def test_a_restarted_deployment_controller_relists_and_keeps_no_memory(tmp_path):
    model = variant(tmp_path, RECREATE, "{staleness: 1, controllers: [deployment]}",
                    "faults:\n  kinds: {controller-restart: 1}\n")
    world = model.world
    start, = model.init_states()
    state = start
    while not state.log:  # run the controllers until a pod event is on the stream
        action = next(a for a in model.actions(state) if a.actor in ("deployment", "replication"))
        state = model.next_state(state, action)
    restarts = [(a, nxt) for a, nxt in apply_fault(world, state, "controller-restart") if a.controller == "deployment"]
    # one process lists from the API server up to date; listing one event behind is where the cache already is
    assert [(a, nxt.informers[0]) for a, nxt in restarts] == [(ControllerRestart("deployment", 0), InformerRec())]
    assert restarts[0][1].memory == state.memory


SLOW = pytest.mark.slow  # 9 to 30 s each (the bundled scenarios themselves: tests/test_scenarios.py)


@pytest.mark.parametrize("source, consistency, extra", [
    (RECREATE, "{staleness: 1, controllers: [deployment, replication]}", ""),
    pytest.param(RECREATE, "{staleness: 1, controllers: [deployment]}", "faults:\n  kinds: {controller-restart: 1}\n",
                 marks=SLOW),
    pytest.param(RECREATE, "{staleness: 2, controllers: [deployment, replication]}", "", marks=SLOW),
    pytest.param(ROLLING, "{staleness: 1, controllers: [deployment]}", "faults:\n  kinds: {watch-drop: 1}\n",
                 marks=SLOW),
])
def test_symmetry_keeps_every_verdict_with_a_deployment_cache(tmp_path, source, consistency, extra):
    model = variant(tmp_path, source, consistency, extra)
    assert verdicts(model, symmetry=True) == verdicts(model, symmetry=False)


def test_expected_deletions_of_two_gone_pods_keep_two_canonical_names():
    """A name a previous renaming gave a gone pod ("~gone-0") may keep it, but
    the next gone pod must not get it too: that would merge two pods the
    replication manager expects to see deleted into one, and observing one
    deletion would lower both."""
    model = load_scenario(RECREATE)
    start, = model.init_states()
    slot = model.world.memory_slots["replication"]
    memory = (Expectations(deletes=("~gone-0", "~gone-1")),) + start.memory[slot][1:]
    state = attrs.evolve(start, memory=start.memory[:slot] + (memory,) + start.memory[slot + 1:])
    assert model.representative(state).memory[slot][0].deletes == ("~gone-0", "~gone-1")


def test_the_representative_of_every_recreate_state_is_its_own():
    """Canonicalising twice changes nothing, stream, caches and expectations included."""
    model = load_scenario(RECREATE)
    for state in reachable_states(model):
        assert model.representative(state) == state
