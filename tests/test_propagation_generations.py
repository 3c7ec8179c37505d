"""Foreground and Orphan deletion of StatefulSets, DaemonSets and Jobs, and
metadata.generation / status.observedGeneration of StatefulSets and DaemonSets.

Each test names the upstream function whose rule it checks:
``updateStatefulSet`` (pkg/controller/statefulset/stateful_set_control.go:
a StatefulSet with a deletionTimestamp only gets its status written),
``syncDaemonSet`` (pkg/controller/daemon/daemon_controller.go: one with a
deletionTimestamp is not synced), ``syncJob`` and ``syncOrphanPod``
(pkg/controller/job/job_controller.go: no ``manageJob`` once a deletionTimestamp
is set; an orphaned pod loses the tracking finalizer),
``processDeletingDependentsItem`` and ``orphanDependents``
(pkg/controller/garbagecollector/garbagecollector.go), the registry strategies'
``PrepareForUpdate`` (pkg/registry/apps/statefulset/strategy.go and
daemonset/strategy.go: a spec change bumps metadata.generation),
``updateStatefulSetStatus`` and ``updateDaemonSetStatus`` (observedGeneration),
and kubectl's ``StatefulSetStatusViewer`` and ``DaemonSetStatusViewer``
(staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go, with the
cases of rollout_status_test.go).
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from kspec.api.objects import UpdateStrategy
from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from kspec.simulation.controllers.daemonset import (DaemonSetStatus, DaemonSetSync, daemonset_status_viewer,
                                                    rollout_status as ds_rollout_status)
from kspec.simulation.controllers.deployment import GENERATIONS, generation, observed_generation
from kspec.simulation.controllers.gc import GCDeleteDependent, GCOrphanDependents, GCRemoveOwner
from kspec.simulation.controllers.job import JobReleaseOrphan, JobSync, decide
from kspec.simulation.controllers.kubelet import KubeletKillPod, KubeletStartPod
from kspec.simulation.controllers.scheduler import SchedulerBind
from kspec.simulation.controllers.statefulset import (StatefulSetStatus, StatefulSetSync, statefulset_status_viewer,
                                                      rollout_status as sts_rollout_status, sync as sts_sync)
from kspec.simulation.controllers.user import UserDeleteWorkload, UserRollout, UserScale
from kspec.simulation.scenario import load_scenario
from kspec.simulation.state import deletion_pending, with_status
from kspec.simulation.views import describe_changes
from support.scenarios import MODELS, explored
from support.stepping import scenario as write_scenario, step

DB = MODELS / "db"
AGENT = MODELS / "rollouts" / "agent-surge.yaml"
WORK = MODELS / "batch" / "work-job.yaml"


def scenario(tmp_path, body: str, manifests, nodes: int = 3):
    return write_scenario(tmp_path, body, manifests, nodes=nodes)



def enabled(model, state, kind):
    return [a for a in model.actions(state) if isinstance(a, kind)]


def run_out(model, state, *kinds):
    """Take steps of ``kinds`` (the first enabled each time) until none is left."""
    while enabled(model, state, kinds):
        state = model.next_state(state, enabled(model, state, kinds)[0])
    return state


def running_job(model):
    """The scenario's Job with its two pods created, bound and started."""
    return run_out(model, model.init_states()[0], JobSync, SchedulerBind, KubeletStartPod)


def deleting(tmp_path, manifests, name: str, policy: str, nodes: int = 3, start: str = ""):
    model = scenario(tmp_path, f"{start}operations:\n  - delete: {{workload: {name}, propagationPolicy: {policy}}}\n"
                               "checks: [no-stuck-terminating]\n", manifests, nodes)
    state = model.init_states()[0]
    _, state = step(model, state, UserDeleteWorkload)
    return model, model.world.workload_named(name), state


# --------------------------------------------------------------------------- StatefulSet deletion


def test_statefulset_being_deleted_makes_no_pod_again_updateStatefulSet(tmp_path):
    """updateStatefulSet: "If the StatefulSet is being deleted, don't do anything
    other than updating status". The collector deletes db-2 (Foreground); once
    it is gone the controller, which would make db-2 again, does nothing."""
    model, w, state = deleting(tmp_path, (DB,), "db", "Foreground")
    assert deletion_pending(model.world, state, w) == "Foreground"
    _, state = step(model, state, GCDeleteDependent, pod="db-2")
    _, state = step(model, state, KubeletKillPod, pod="db-2")
    assert state.pod("db-2") is None and not enabled(model, state, StatefulSetSync)
    without_deletion = with_status(model.world, state, "deletions", (None,) * len(model.world.workloads))
    assert sts_sync(model.world, without_deletion, w)[1] == ["db-2"]  # the guard is what holds it back


def test_foreground_removes_the_statefulset_after_its_last_pod_processDeletingDependentsItem(tmp_path):
    """The foregroundDeletion finalizer goes once no dependent is left in the API, not before."""
    model, w, state = deleting(tmp_path, (DB,), "db", "Foreground")
    for name in ("db-0", "db-1", "db-2"):
        assert not enabled(model, state, GCRemoveOwner)
        _, state = step(model, state, GCDeleteDependent, pod=name)
        _, state = step(model, state, KubeletKillPod, pod=name)
    _, state = step(model, state, GCRemoveOwner)
    assert state.replicas[w] is None and not state.pods


def test_background_deletion_lets_the_statefulset_go_before_its_pods(tmp_path):
    """The bundled scenario's first check holds because of Foreground: with the
    default propagation the StatefulSet leaves the API while its pods run."""
    text = (MODELS / "statefulset-delete-foreground.yaml").read_text()
    background = tmp_path / "background.yaml"
    background.write_text(text.replace(", propagationPolicy: Foreground", "").replace(
        "manifests: [db/]", f"manifests: [{DB}]").split("expect:")[0])
    result = Explorer(load_scenario(background, allow_outside=True), progress=False).run()
    assert result["pods-go-before-the-statefulset"].verdict is Verdict.VIOLATED
    _, foreground = explored("statefulset-delete-foreground")
    assert foreground["pods-go-before-the-statefulset"].verdict is Verdict.HOLDS
    stuck = foreground["never-stuck-half-deleted"]
    assert stuck.verdict is Verdict.VIOLATED
    assert any(isinstance(a, UserDeleteWorkload) for a in stuck.trace.actions)
    assert any(p.deleting and not stuck.trace.states[-1].nodes[p.node].up for p in stuck.trace.states[-1].pods)


def test_orphan_releases_the_statefulset_pods_orphanDependents(tmp_path):
    """With Orphan the collector removes each pod's ownerReference, then the
    StatefulSet goes; the pods keep running, owned by nobody."""
    model, w, state = deleting(tmp_path, (DB,), "db", "Orphan")
    action, state = step(model, state, GCOrphanDependents)
    assert sorted(action.pods) == ["db-0", "db-1", "db-2"]
    assert state.replicas[w] is None
    assert [p.owner for p in state.pods] == [-1, -1, -1] and all(p.ready for p in state.pods)
    assert not enabled(model, state, StatefulSetSync)


# --------------------------------------------------------------------------- DaemonSet and Job deletion


def test_daemonset_being_deleted_is_not_synced_syncDaemonSet(tmp_path):
    """syncDaemonSet returns at once for a DaemonSet with a deletionTimestamp:
    the node whose agent the collector deleted gets no new one."""
    model, w, state = deleting(tmp_path, (AGENT,), "agent", "Foreground")
    _, state = step(model, state, GCDeleteDependent, pod="agent-node-0")
    _, state = step(model, state, KubeletKillPod, pod="agent-node-0")
    assert state.pod("agent-node-0") is None and not enabled(model, state, DaemonSetSync)
    _, state = step(model, state, GCDeleteDependent, pod="agent-node-1")
    _, state = step(model, state, KubeletKillPod, pod="agent-node-1")
    _, state = step(model, state, GCDeleteDependent, pod="agent-node-2")
    _, state = step(model, state, KubeletKillPod, pod="agent-node-2")
    _, state = step(model, state, GCRemoveOwner)
    assert state.replicas[w] is None and not state.pods


def test_job_being_deleted_counts_but_does_not_manage_syncJob(tmp_path):
    """syncJob calls manageJob only when ``job.DeletionTimestamp == nil``: a
    running Job deleted in the foreground replaces none of the pods the
    collector deletes, and still removes their tracking finalizers (so the
    foreground deletion ends)."""
    model = scenario(tmp_path, "start: applied\noperations:\n"
                               "  - delete: {workload: work, propagationPolicy: Foreground}\n"
                               "checks: [no-stuck-terminating]\n", (WORK,), nodes=2)
    world, w = model.world, model.world.workload_named("work")
    state = running_job(model)
    assert len(state.pods) == 2 and all(p.phase == "Running" for p in state.pods)
    _, state = step(model, state, UserDeleteWorkload)
    for pod in list(state.pods):
        _, state = step(model, state, GCDeleteDependent, pod=pod.name)
    assert len(state.pods) == 2 and all(p.deleting for p in state.pods)
    plan = decide(world, state, w)
    assert plan.create == () and sorted(plan.counted) == sorted(p.name for p in state.pods)
    running = with_status(world, state, "deletions", (None,) * len(world.workloads))
    assert decide(world, running, w).create  # not being deleted: both pods replaced at once
    _, state = step(model, state, JobSync)
    assert all(not world.groups[p.group].finalizer for p in state.pods)


def test_orphaned_job_pods_lose_the_tracking_finalizer_syncOrphanPod(tmp_path):
    """Orphan: the collector removes the ownerReferences, the Job goes, and the
    job controller's orphan-pod queue removes each pod's tracking finalizer."""
    model = scenario(tmp_path, "start: applied\noperations:\n"
                               "  - delete: {workload: work, propagationPolicy: Orphan}\n"
                               "checks: [no-stuck-terminating]\n", (WORK,), nodes=2)
    world = model.world
    state = running_job(model)
    _, state = step(model, state, UserDeleteWorkload)
    _, state = step(model, state, GCOrphanDependents)
    assert all(p.owner == -1 and world.groups[p.group].finalizer for p in state.pods)
    state = run_out(model, state, JobReleaseOrphan)
    assert len(state.pods) == 2 and all(not world.groups[p.group].finalizer for p in state.pods)


# --------------------------------------------------------------------------- generations


def test_statefulset_scale_and_rollout_bump_generation_PrepareForUpdate(tmp_path):
    """statefulSetStrategy.PrepareForUpdate: a spec change bumps metadata.generation;
    updateStatefulSetStatus then writes observedGeneration, on a sync with no pod to
    touch as well (a scale to the same count)."""
    model = scenario(tmp_path, "operations:\n  - scale: {workload: db, replicas: 3}\n"
                               "  - rollout: {workload: db, image: postgres:17}\n"
                               "checks: [rollout-status-truthful]\n", (DB,))
    world, start = model.world, model.init_states()[0]
    w = world.workload_named("db", "StatefulSet")
    assert (generation(world, start, w), observed_generation(world, start, w)) == (1, 1)
    _, scaled = step(model, start, UserScale)
    assert (generation(world, scaled, w), observed_generation(world, scaled, w)) == (2, 1)
    action, synced = step(model, scaled, StatefulSetSync)
    assert (action.create, action.delete, action.observed) == ((), (), 2)
    assert str(action) == "StatefulSetSync(db: observedGeneration 2)"
    assert observed_generation(world, synced, w) == 2 and synced.pods == scaled.pods
    _, rolled = step(model, synced, UserRollout)
    assert "StatefulSet/db: metadata.generation 2 -> 3" in describe_changes(synced, rolled, world)
    assert sts_rollout_status(world, rolled, w) == ("Waiting for statefulset spec update to be observed...", False)
    assert sts_rollout_status(world, rolled, w, guard=False)[1]  # the old status: every pod "updated"
    action, after = step(model, rolled, StatefulSetSync)
    assert action.delete == ("db-2",) and action.observed == 3
    # db-2 is Terminating but still Running and Ready: counted ready, not updated
    assert sts_rollout_status(world, after, w) == (
        "Waiting for partitioned roll out to finish: 0 out of 3 new pods have been updated...", False)


def test_daemonset_rollout_bumps_generation_and_a_deleted_one_writes_no_status(tmp_path):
    """daemonSetStrategy.PrepareForUpdate bumps generation on the template edit;
    the next syncDaemonSet writes observedGeneration (updateDaemonSetStatus),
    unless the DaemonSet is being deleted: then it returns before any write."""
    model = scenario(tmp_path, "operations:\n  - rollout: {workload: agent, image: prom/node-exporter:v2}\n"
                               "  - delete: {workload: agent, propagationPolicy: Orphan}\n"
                               "checks: [rollout-status-truthful]\n", (AGENT,))
    world, start = model.world, model.init_states()[0]
    w = world.workload_named("agent", "DaemonSet")
    _, rolled = step(model, start, UserRollout)
    assert (generation(world, rolled, w), observed_generation(world, rolled, w)) == (2, 1)
    assert ds_rollout_status(world, rolled, w) == ("Waiting for daemon set spec update to be observed...", False)
    assert ds_rollout_status(world, rolled, w, guard=False) == ('daemon set "agent" successfully rolled out', True)
    assert all(a.observed == 2 for a in enabled(model, rolled, DaemonSetSync))
    _, doomed = step(model, rolled, UserDeleteWorkload)
    assert not enabled(model, doomed, DaemonSetSync)
    assert observed_generation(world, doomed, w) == 1


def test_scenarios_without_a_generation_check_keep_no_generation(tmp_path):
    """The slot exists only where a check reads it, so other scenarios keep their state counts."""
    model = scenario(tmp_path, "operations:\n  - rollout: {workload: db, image: postgres:17}\n"
                               "checks: [statefulset-rollout-converges]\n", (DB,))
    assert GENERATIONS not in model.world.status_slots
    assert all(a.observed == 0 for a in model.actions(model.init_states()[0]) if isinstance(a, StatefulSetSync))


@pytest.mark.parametrize("name", ["statefulset-rollout-status-generation", "daemonset-rollout-status-generation"])
def test_rollout_status_guard_matters_bundled_StatusViewers(name):
    """The bundled scenarios: kubectl's viewer holds, the one without the
    observedGeneration guard is violated by the rollout alone."""
    _, result = explored(name)
    assert result["rollout-status-truthful"].verdict is Verdict.HOLDS
    wrong = result["wait-without-generation-check"]
    assert wrong.verdict is Verdict.VIOLATED
    assert [type(a).__name__ for a in wrong.trace.actions] == ["UserRollout"]


# --------------------------------------------------------------------------- the viewers (rollout_status_test.go)

ROLLING = UpdateStrategy()
PARTITION_2 = UpdateStrategy(partition=2)


@pytest.mark.parametrize("replicas, strategy, ready, updated, observed, expected", [
    (3, UpdateStrategy(type="OnDelete"), 3, 3, True,
     ("error: rollout status is only available for RollingUpdate strategy type", False)),
    (3, ROLLING, 3, 3, False, ("Waiting for statefulset spec update to be observed...", False)),
    (3, ROLLING, 1, 3, True, ("Waiting for 2 pods to be ready...", False)),
    (3, PARTITION_2, 3, 1, True, ("partitioned roll out complete: 1 new pods have been updated...", True)),
    (3, PARTITION_2, 3, 0, True, ("Waiting for partitioned roll out to finish: 0 out of 1 new pods have been "
                                  "updated...", False)),
    (3, ROLLING, 3, 3, True, ("partitioned roll out complete: 3 new pods have been updated...", True)),
])
def test_statefulset_status_viewer_table_StatefulSetStatusViewer(replicas, strategy, ready, updated, observed,
                                                                 expected):
    assert statefulset_status_viewer(replicas, strategy, StatefulSetStatus(ready, updated), observed) == expected


@pytest.mark.parametrize("desired, updated, available, observed, expected", [
    (1, 0, 1, True, ('Waiting for daemon set "foo" rollout to finish: 0 out of 1 new pods have been updated...',
                     False)),
    (2, 2, 1, True, ('Waiting for daemon set "foo" rollout to finish: 1 of 2 updated pods are available...', False)),
    (2, 2, 2, True, ('daemon set "foo" successfully rolled out', True)),
    (2, 2, 2, False, ("Waiting for daemon set spec update to be observed...", False)),
])
def test_daemonset_status_viewer_table_DaemonSetStatusViewer(desired, updated, available, observed, expected):
    status = DaemonSetStatus(desired, updated, available)
    assert daemonset_status_viewer("foo", "RollingUpdate", status, observed) == expected


counts = st.integers(min_value=0, max_value=6)


@given(counts, counts, counts, counts, st.booleans())
def test_statefulset_viewer_done_exactly_when_every_rule_passes(replicas, partition, ready, updated, observed):
    """Done needs the spec observed, ``readyReplicas >= replicas`` and
    ``updatedReplicas >= replicas - partition``; more ready or updated pods never undo it."""
    strategy = UpdateStrategy(partition=partition)
    done = statefulset_status_viewer(replicas, strategy, StatefulSetStatus(ready, updated), observed)[1]
    assert done == (observed and ready >= replicas and updated >= replicas - partition)
    if done:
        assert statefulset_status_viewer(replicas, strategy, StatefulSetStatus(ready + 1, updated + 1), observed)[1]


@given(counts, counts, counts, st.booleans())
def test_daemonset_viewer_done_exactly_when_every_rule_passes(desired, updated, available, observed):
    done = daemonset_status_viewer("foo", "RollingUpdate", DaemonSetStatus(desired, updated, available), observed)[1]
    assert done == (observed and updated >= desired and available >= desired)
    assert not daemonset_status_viewer("foo", "OnDelete", DaemonSetStatus(desired, updated, available), observed)[1]
