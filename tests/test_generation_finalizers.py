"""metadata.generation / status.observedGeneration for Deployments, and pod
finalizers beyond the garbage collector's (API-server semantics in the state).

Each test names the upstream function whose rule it checks:
``deploymentStrategy.PrepareForUpdate`` (pkg/registry/apps/deployment/strategy.go),
``calculateStatus`` (pkg/controller/deployment/sync.go),
``DeploymentStatusViewer.Status`` (kubectl polymorphichelpers/rollout_status.go),
``ValidateFinalizers`` (apimachinery objectmeta validation), the generic
registry store's graceful deletion and ``ShouldDeleteDuringUpdate``
(apiserver registry/generic/registry/store.go), ``FilterActivePods``
(pkg/controller/controller_utils.go) and the scheduler's pod informer
(``newPodInformer``: terminal pods hold no resources).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from kspec.errors import LoadError
from kspec.simulation.controllers.deployment import (GENERATIONS, DeploymentSync, calculate_status, generation,
                                                     observed, observed_generation, rollout_status)
from kspec.simulation.controllers.gc import GCRemovePodFinalizer
from kspec.simulation.controllers.kubelet import KubeletKillPod
from kspec.simulation.controllers.scheduler import feasible_nodes
from kspec.simulation.controllers.user import UserRollout, UserScale
from kspec.simulation.views import describe_changes
from kspec.simulation.scenario import ScenarioError, load_scenario
from kspec.simulation.state import (FAILED, NOT_RUNNING, RUNNING, UP, StateError, create_pod, delete_pod,
                                    finished_terminating, remove_finalizer, update_pod)
from support.scenarios import MODELS, explored
from support.stepping import scenario as write_scenario, step

API = MODELS / "generations" / "api.yaml"
WORKER = MODELS / "finalizers" / "worker.yaml"
DEREGISTER = "example.com/deregister"


def scenario(tmp_path, body: str, manifests=(API,), name: str = "s.yaml"):
    return write_scenario(tmp_path, body, manifests, nodes=2, name=name)



GENERATION_BODY = ("operations:\n  - scale: {workload: api, replicas: 3}\n"
                   "  - rollout: {workload: api, image: example/api:2}\n"
                   "checks: [rollout-status-truthful]\n")


# --------------------------------------------------------------------------- generations


def test_a_spec_change_bumps_generation_PrepareForUpdate(tmp_path):
    """deploymentStrategy.PrepareForUpdate: a spec change (a scale through the
    scale subresource, a template edit) bumps metadata.generation by one; the
    status keeps its observedGeneration until the controller syncs."""
    model = scenario(tmp_path, GENERATION_BODY)
    world, start = model.world, model.init_states()[0]
    d = world.workload_named("api", "Deployment")
    assert (generation(world, start, d), observed_generation(world, start, d)) == (1, 1)
    _, scaled = step(model, start, UserScale)
    assert (generation(world, scaled, d), observed_generation(world, scaled, d)) == (2, 1)
    _, rolled = step(model, scaled, UserRollout)
    assert (generation(world, rolled, d), observed_generation(world, rolled, d)) == (3, 1)
    assert not observed(world, rolled, d)


def test_the_next_sync_writes_observed_generation_calculateStatus(tmp_path):
    """calculateStatus sets ObservedGeneration to the Deployment's generation on every sync."""
    model = scenario(tmp_path, GENERATION_BODY)
    world, start = model.world, model.init_states()[0]
    d = world.workload_named("api", "Deployment")
    _, rolled = step(model, start, UserRollout)
    action, synced = step(model, rolled, DeploymentSync)
    assert "observedGeneration 2" in action.changes
    assert observed_generation(world, synced, d) == generation(world, synced, d) == 2
    assert observed(world, synced, d)


def test_a_sync_with_nothing_to_scale_still_observes_the_spec_syncDeploymentStatus(tmp_path):
    """syncDeploymentStatus writes the status (observedGeneration) even when no
    ReplicaSet changes: a scale to the same count leaves the rollout nothing to do."""
    model = scenario(tmp_path, "operations:\n  - scale: {workload: api, replicas: 2}\n"
                               "checks: [rollout-status-truthful]\n")
    world, start = model.world, model.init_states()[0]
    d = world.workload_named("api", "Deployment")
    _, scaled = step(model, start, UserScale)
    action, synced = step(model, scaled, DeploymentSync)
    assert action.changes == ("observedGeneration 2",)
    assert observed(world, synced, d) and synced.replicas == scaled.replicas


def test_status_before_the_sync_still_describes_the_old_template_DeploymentStatusViewer(tmp_path):
    """Right after the template edit the status is the old one (every replica
    updated); kubectl rollout status waits: "Waiting for deployment spec update
    to be observed..." (generation 2 > observedGeneration 1)."""
    model = scenario(tmp_path, GENERATION_BODY)
    world, start = model.world, model.init_states()[0]
    d = world.workload_named("api", "Deployment")
    _, rolled = step(model, start, UserRollout)
    status = calculate_status(world, rolled, d)
    assert status.updated_replicas == status.replicas == status.available_replicas == 2
    assert rollout_status(world, rolled, d) == ("Waiting for deployment spec update to be observed...", False)
    _, synced = step(model, rolled, DeploymentSync)
    message, done = rollout_status(world, synced, d)
    assert not done and message.endswith("0 out of 2 new replicas have been updated...")


def test_scenarios_without_a_generation_check_keep_no_generation(tmp_path):
    """The slot exists only where a check reads it, so other scenarios keep their state counts."""
    model = scenario(tmp_path, "operations:\n  - rollout: {workload: api, image: example/api:2}\n"
                               "checks: [deployment-converges]\n")
    d = model.world.workload_named("api", "Deployment")
    assert GENERATIONS not in model.world.status_slots
    assert observed_generation(model.world, model.init_states()[0], d) is None


def test_unknown_viewer_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError) as err:
        scenario(tmp_path, "checks:\n  - rollout-status-truthful: {viewer: kubectl-wait}\n")
    assert "viewer is kubectl or without-generation-check, got 'kubectl-wait'" in str(err.value)


def test_rollout_status_guard_matters_bundled_DeploymentStatusViewer():
    """models/rollout-status-generation.yaml: the viewer without the
    observedGeneration guard is wrong one step after `kubectl set image`;
    kubectl's own holds."""
    model, result = explored("rollout-status-generation")
    assert result["rollout-status-truthful"].verdict is Verdict.HOLDS
    wrong = result["wait-without-generation-check"]
    assert wrong.verdict is Verdict.VIOLATED
    assert [type(a) for a in wrong.trace.actions] == [UserRollout]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), max_size=25))
def test_observed_generation_never_passes_generation_on_any_path(tmp_path_factory, choices):
    """Along any path: 1 <= observedGeneration <= generation, and the viewer's
    guard holds exactly when they are equal."""
    model = scenario(tmp_path_factory.mktemp("g"), GENERATION_BODY)
    world = model.world
    d = world.workload_named("api", "Deployment")
    state = model.init_states()[0]
    for choice in choices:
        actions = list(model.actions(state))
        if not actions:
            break
        state = model.next_state(state, actions[choice % len(actions)]) or state
        seen, gen = observed_generation(world, state, d), generation(world, state, d)
        assert 1 <= seen <= gen <= 3
        assert observed(world, state, d) == (seen == gen)


# --------------------------------------------------------------------------- finalizers


def test_template_finalizers_reach_the_pods_and_their_twins(tmp_path):
    """A ReplicationController's template finalizers are on every pod it makes;
    removing one gives the same template (labels, prefix) without it."""
    model = scenario(tmp_path, "checks: [no-stuck-terminating]\n", manifests=(WORKER,))
    world = model.world
    group = world.workloads[world.workload_named("worker")].group
    assert world.groups[group].finalizers == (DEREGISTER,)
    twin = world.finalizer_twins[(group, DEREGISTER)]
    assert world.groups[twin].finalizers == ()
    assert (world.groups[twin].prefix, world.groups[twin].labels) == (world.groups[group].prefix,
                                                                      world.groups[group].labels)
    assert all(p.group == group for p in model.init_states()[0].pods)


@pytest.mark.parametrize("finalizers, field, message", [
    ("[bad/name/x]", "spec.template.metadata.finalizers", 'Invalid value: "bad/name/x": a valid label key'),
    ("[orphan, foregroundDeletion]", "spec.template.metadata.finalizers",
     "finalizer orphan and foregroundDeletion cannot be both set"),
    ("example.com/x", "spec.template.metadata.finalizers", "must be a list of strings"),
])
def test_bad_finalizers_are_errors_at_the_manifest_line_ValidateFinalizers(tmp_path, finalizers, field, message):
    """ValidateFinalizers: each name a qualified name, not orphan and foregroundDeletion together."""
    manifest = tmp_path / "worker.yaml"
    manifest.write_text(WORKER.read_text().replace("[example.com/deregister]", finalizers))
    with pytest.raises(LoadError) as err:
        scenario(tmp_path, "checks: [no-stuck-terminating]\n", manifests=(manifest,))
    text = str(err.value)
    assert f"worker.yaml:4: error: {field}:" in text and message in text


def _bare(tmp_path, finalizers: str):
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\n"
                   f"  finalizers: {finalizers}\nspec:\n  containers: [{{name: c, image: i}}]\n")
    return scenario(tmp_path, "start: applied\nchecks: [no-stuck-terminating]\n", manifests=(pod,))


def test_deleting_an_unbound_pod_with_a_finalizer_keeps_it_CheckGracefulDelete(tmp_path):
    """An unbound pod's DELETE has grace period 0 (pod strategy CheckGracefulDelete): without
    finalizers it goes at once; with one the store only sets its deletionTimestamp."""
    model = _bare(tmp_path, f"[{DEREGISTER}]")
    world, state = model.world, model.init_states()[0]
    held = delete_pod(state, 0, world)
    assert held.pods[0].deleting and finished_terminating(held.pods[0])
    twin = world.finalizer_twins[(state.pods[0].group, DEREGISTER)]
    assert delete_pod(update_pod(state, 0, group=twin), 0, world).pods == ()


def test_removing_the_last_finalizer_deletes_once_grace_is_over_ShouldDeleteDuringUpdate(tmp_path):
    """ShouldDeleteDuringUpdate: no finalizer left, a deletionTimestamp, and
    deletionGracePeriodSeconds 0 (the kubelet's final delete done) deletes the
    object in the update; a pod still running keeps it until its kubelet confirms."""
    model = _bare(tmp_path, f"[{DEREGISTER}, example.com/audit]")
    world, state = model.world, model.init_states()[0]
    running = update_pod(state, 0, node=0, phase=RUNNING, ready=True, run=UP, deleting=True)
    partly = remove_finalizer(world, running, 0, DEREGISTER)
    assert world.groups[partly.pods[0].group].finalizers == ("example.com/audit",)
    still = remove_finalizer(world, partly, 0, "example.com/audit")
    assert still.pods[0].deleting and world.groups[still.pods[0].group].finalizers == ()
    stopped = update_pod(partly, 0, phase=FAILED, ready=False, run=NOT_RUNNING)
    assert remove_finalizer(world, stopped, 0, "example.com/audit").pods == ()
    with pytest.raises(StateError, match="has no finalizer 'example.com/audit'"):
        remove_finalizer(world, still, 0, "example.com/audit")


@settings(max_examples=30, deadline=None)
@given(st.permutations(["a.example.com/one", "b.example.com/two", "c.example.com/three"]))
def test_finalizers_removed_in_any_order_reach_the_same_template(tmp_path_factory, order):
    model = _bare(tmp_path_factory.mktemp("f"), "[" + ", ".join(sorted(order)) + "]")
    world, state = model.world, model.init_states()[0]
    for name in order:
        state = remove_finalizer(world, state, 0, name)
    final = world.groups[state.pods[0].group]
    assert final.finalizers == () and final.prefix == "solo"


def test_kubelet_stops_a_deleted_pod_but_its_object_stays(tmp_path):
    """The kubelet's final delete (grace period 0) leaves an object with finalizers in place:
    the kubelet posts the terminal phase (Failed) and the pod stays Terminating."""
    model = scenario(tmp_path, "checks: [no-stuck-terminating]\n", manifests=(WORKER,))
    state = model.init_states()[0]
    deleting = delete_pod(state, 0, model.world)
    _, killed = step(model, deleting, KubeletKillPod, pod=state.pods[0].name)
    pod = killed.pods[0]
    assert (pod.name, pod.phase, pod.run, pod.deleting) == (state.pods[0].name, FAILED, NOT_RUNNING, True)
    assert not any(isinstance(a, KubeletKillPod) for a in model.actions(killed))


def test_a_failed_terminating_pod_holds_no_resources_newPodInformer(tmp_path):
    """The scheduler's pod informer leaves out Succeeded and Failed pods; a
    terminating pod still Running keeps its node's resources."""
    nodes = tmp_path / "node.yaml"
    nodes.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: only}\nstatus:\n"
                     "  allocatable: {cpu: 700m, memory: 1Gi, pods: '10'}\n"
                     "  capacity: {cpu: 700m, memory: 1Gi, pods: '10'}\n"
                     "  conditions: [{type: Ready, status: 'True'}]\n")
    path = tmp_path / "one.yaml"
    path.write_text(f"name: s\nmanifests: [{WORKER}, {nodes}]\nstart: applied\nchecks: [no-stuck-terminating]\n")
    model = load_scenario(path, allow_outside=True)
    world, state = model.world, model.init_states()[0]
    group = world.workloads[world.workload_named("worker")].group
    state, _ = create_pod(world, state, group, owner=0)
    state = update_pod(state, 0, node=0, phase=RUNNING, ready=True, run=UP, deleting=True)
    assert feasible_nodes(world, state, group)[0] == ()
    failed = update_pod(state, 0, phase=FAILED, ready=False, run=NOT_RUNNING)
    assert feasible_nodes(world, failed, group)[0] == (0,)


def test_the_garbage_collectors_own_finalizers_on_a_deleted_pod_go(tmp_path):
    """An orphan finalizer on a pod (no dependents to orphan): attemptToOrphan removes it."""
    model = _bare(tmp_path, "[orphan]")
    deleting = delete_pod(model.init_states()[0], 0, model.world)
    _, after = step(model, deleting, GCRemovePodFinalizer, finalizer="orphan")
    assert after.pods == ()


def test_stuck_terminating_bundled_FilterActivePods():
    """models/finalizer-stuck-terminating.yaml: after the crash the evicted pod is
    not active (a deletionTimestamp), the RC replaces it, and once the node is
    back the object stays Terminating for ever; the fixed variant converges."""
    _, result = explored("finalizer-stuck-terminating")
    stuck = result["no-stuck-terminating"]
    assert stuck.verdict is Verdict.VIOLATED
    last = stuck.trace.states[-1]
    held = [p for p in last.pods if p.deleting]
    assert [(p.phase, p.run) for p in held] == [(FAILED, NOT_RUNNING)]
    assert sum(1 for p in last.pods if not p.deleting) == 2
    assert result["rc-replicas-converge"].verdict is Verdict.HOLDS
    _, fixed = explored("finalizer-removed-by-controller")
    assert fixed["no-stuck-terminating"].verdict is Verdict.HOLDS


# --------------------------------------------------------------------------- Deployment propagation


def _drive(model, state, first: str = "gc", limit: int = 40):
    """Run the model from ``state`` taking a ``user``, then a ``first``-actor step whenever one is
    enabled (else any), until nothing is enabled; returns the actions taken and the last state."""
    taken = []
    for _ in range(limit):
        actions = list(model.actions(state))
        if not actions:
            break
        action = next((a for a in actions if a.actor == "user"), None) or next(
            (a for a in actions if a.actor == first), actions[0])
        taken.append(action)
        state = model.next_state(state, action)
    return taken, state


def test_foreground_deletion_of_a_deployment_goes_replica_sets_then_pods_attemptToDeleteItem(tmp_path):
    """attemptToDeleteItem: a ReplicaSet with pods whose owner waits for its
    dependents is deleted with Foreground itself; processDeletingDependentsItem
    removes each foregroundDeletion finalizer once no dependent is left, so the
    pods go first, then the ReplicaSet, then the Deployment."""
    model = scenario(tmp_path, "operations:\n  - delete: {workload: api, propagationPolicy: Foreground}\n"
                               "checks: [deployment-converges]\n")
    world = model.world
    d = world.workload_named("api", "Deployment")
    (rs,) = world.workloads[d].replica_sets[:1]
    taken, end = _drive(model, model.init_states()[0])
    names = [type(a).__name__ for a in taken]
    assert names[:2] == ["UserDeleteWorkload", "GCDeleteReplicaSet"] and taken[1].propagation == "Foreground"
    assert names[-2:] == ["GCRemoveOwner", "GCRemoveOwner"]
    assert [a.owner for a in taken[-2:]] == [world.workloads[rs].ref, "Deployment/api"]
    assert end.pods == () and end.replicas[d] is None and end.replicas[rs] is None


def test_a_deployment_being_deleted_only_writes_status_syncStatusOnly(tmp_path):
    """syncDeployment: a Deployment with a deletionTimestamp goes to syncStatusOnly: a rollout
    after the DELETE creates no new ReplicaSet."""
    model = scenario(tmp_path, "operations:\n  - delete: {workload: api, propagationPolicy: Foreground}\n"
                               "  - rollout: {workload: api, image: example/api:2}\n"
                               "checks: [deployment-converges]\n")
    taken, end = _drive(model, model.init_states()[0])
    assert not any(isinstance(a, DeploymentSync) for a in taken)
    assert all(r is None for r in end.replicas)


def test_orphan_deletion_of_a_deployment_releases_its_replica_sets_orphanDependents(tmp_path):
    """orphanDependents: the ReplicaSets lose their ownerReference and live on
    with their pods; the Deployment goes, and its convergence no longer counts them."""
    model = scenario(tmp_path, "operations:\n  - delete: {workload: api, propagationPolicy: Orphan}\n"
                               "checks: [deployment-converges, rc-replicas-converge]\n")
    world = model.world
    d = world.workload_named("api", "Deployment")
    rs = world.workloads[d].replica_sets[0]
    taken, end = _drive(model, model.init_states()[0])
    assert str(taken[-1]) == f"GCOrphanDependents(Deployment/api: orphaned {world.workloads[rs].name})"
    assert end.replicas[d] is None and end.replicas[rs] == 2 and len(end.pods) == 2
    result = Explorer(model, progress=False).run()
    assert result["deployment-converges"].verdict is Verdict.HOLDS
    assert result["rc-replicas-converge"].verdict is Verdict.HOLDS


def test_background_deletion_of_a_deployment_is_unchanged(tmp_path):
    """The default: the Deployment goes at once, the collector deletes its ReplicaSets, then their pods."""
    model = scenario(tmp_path, "operations:\n  - delete: {workload: api}\nchecks: [deployment-converges]\n")
    taken, end = _drive(model, model.init_states()[0])
    assert [type(a).__name__ for a in taken[:2]] == ["UserDeleteWorkload", "GCDeleteReplicaSet"]
    assert end.pods == () and all(r is None for r in end.replicas)


def test_a_finalizer_removal_is_said_in_the_trace(tmp_path):
    """Traces name the finalizers a step removed (the pod's template twin changes)."""
    model = scenario(tmp_path, "checks: [no-stuck-terminating]\n", manifests=(WORKER,))
    world, state = model.world, model.init_states()[0]
    deleting = delete_pod(state, 0, world)
    after = remove_finalizer(world, deleting, 0, DEREGISTER)
    name = state.pods[0].name
    assert describe_changes(deleting, after, world) == (f"{name}: metadata.finalizers [{DEREGISTER}] -> []",)


def test_statefulset_template_finalizers_are_a_warning_not_a_silent_pass(tmp_path):
    """A StatefulSet's template finalizers are not modelled: the scenario says so at the manifest's line."""
    db = tmp_path / "db.yaml"
    template = "      labels: {app: db}\n    spec:"
    db.write_text((MODELS / "db" / "db.yaml").read_text().replace(
        template, template.replace("\n", "\n      finalizers: [example.com/backup]\n", 1)))
    model = scenario(tmp_path, "checks: [no-stuck-terminating]\n", manifests=(db,))
    warnings = [str(w) for w in model.warnings]
    assert any(w.startswith(f"{db}:3: warning: spec.template.metadata.finalizers: StatefulSet/db: the finalizers")
               for w in warnings), warnings
    group = model.world.workloads[model.world.workload_named("db")].group
    assert model.world.groups[group].finalizers == ()


def test_background_deletion_lets_the_deployment_go_before_its_pods(tmp_path):
    """The bundled scenario's first check holds because of Foreground: with the
    default propagation the Deployment leaves the API while its pods still run."""
    text = (MODELS / "deployment-delete-foreground.yaml").read_text()
    path = MODELS / "deployment-delete-foreground.yaml"
    background = tmp_path / "background.yaml"
    background.write_text(text.replace(", propagationPolicy: Foreground", "").replace(
        "manifests: [generations/api.yaml]", f"manifests: [{API}]").split("expect:")[0])
    result = Explorer(load_scenario(background, allow_outside=True), progress=False).run()
    assert result["pods-go-before-the-deployment"].verdict is Verdict.VIOLATED
    _, foreground = explored(path.stem)
    assert foreground["pods-go-before-the-deployment"].verdict is Verdict.HOLDS
    stuck = foreground["never-stuck-half-deleted"]
    assert stuck.verdict is Verdict.VIOLATED and any(p.deleting for p in stuck.trace.states[-1].pods)


def test_trace_says_generation_and_deletion_changes(tmp_path):
    """Traces say what the state keeps of a workload's metadata: generations, a pending deletion's finalizer."""
    model = scenario(tmp_path, "operations:\n  - rollout: {workload: api, image: example/api:2}\n"
                               "  - delete: {workload: api, propagationPolicy: Orphan}\n"
                               "checks: [rollout-status-truthful]\n")
    start = model.init_states()[0]
    _, rolled = step(model, start, UserRollout)
    assert "Deployment/api: metadata.generation 1 -> 2" in describe_changes(start, rolled, model.world)
    deleting = next(model.next_state(rolled, a) for a in model.actions(rolled) if a.actor == "user")
    assert "Deployment/api: deletionTimestamp set, finalizer orphan" in describe_changes(rolled, deleting, model.world)


def test_force_delete_leaves_a_pod_with_finalizers_alone(tmp_path):
    """``kubectl delete --force --grace-period=0`` removes no object whose finalizers remain
    (the store's graceful deletion keeps it until they are gone): no force-delete step is offered."""
    model = scenario(tmp_path, "operations:\n  - force-delete: {workload: worker}\nchecks: [no-stuck-terminating]\n",
                     manifests=(WORKER,))
    deleting = delete_pod(model.init_states()[0], 0, model.world)
    assert not any(a.actor == "user" for a in model.actions(deleting))
