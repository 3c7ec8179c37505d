"""The DaemonSet controller reading through its informer cache, checked
against ``pkg/controller/daemon/daemon_controller.go`` (the function named in
each test): ``ControllerExpectations`` set by ``syncNodes`` and lowered by the
``addPod``/``updatePod``/``deletePod`` handlers, ``SatisfiedExpectations``
gating ``manage``, ``slowStartBatch`` creations a restart can fall between,
names that never collide (``GenerateName``) with the target node read back
as ``util.GetTargetNodeName`` reads the ``matchFields`` affinity, and
``podsShouldBeOnNode`` deleting all but the oldest of several pods on a node.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import Explorer
from kspec.simulation.controllers.daemonset import (DaemonSetBatch, DaemonSetExpectations,
                                                    DaemonSetExpectationsExpired, DaemonSetSync, pod_node,
                                                    pods_should_be_on_node, target_node)
from kspec.simulation.informer import Event, InformerRec
from kspec.simulation.state import FAILED, PENDING, RUNNING, PodRec
from support.scenarios import MODELS
from support.stepping import enabled, follow, scenario, step

AGENT = [MODELS / "agent" / "agent.yaml"]
INFORMED = "scheduler: least-allocated\nconsistency: {staleness: 1, controllers: [daemonset]}\n"


def informed(tmp_path, body: str = "", nodes: int = 3, start: str = "applied"):
    return scenario(tmp_path, f"start: {start}\n{INFORMED}{body}checks: [daemonset-one-pod-per-node]\n",
                    AGENT, nodes=nodes)


def memory(model, state) -> DaemonSetExpectations | None:
    return state.memory[model.world.memory_slots["daemonset"]][0]


def with_memory(model, state, exp):
    slot = model.world.memory_slots["daemonset"]
    return attrs.evolve(state, memory=state.memory[:slot] + ((exp,),) + state.memory[slot + 1:])


def verdicts(model):
    result = Explorer(model, progress=False).run()
    assert result.complete
    return {p.name: str(p.verdict) for p in result.properties}


# --------------------------------------------------------------------------- reading the API (consistency: fresh)


def test_a_fresh_daemonset_controller_keeps_no_memory_and_names_pods_after_nodes(tmp_path):
    model = scenario(tmp_path, "scheduler: least-allocated\nchecks: [daemonset-one-pod-per-node]\n", AGENT, nodes=2)
    state, = model.init_states()
    assert "daemonset" not in model.world.memory_slots and "daemonset" not in model.world.informer_slots
    assert sorted(p.name for p in state.pods) == ["agent-node-0", "agent-node-1"]


def test_consistency_names_daemonset_and_warns_when_there_is_none(tmp_path):
    model = informed(tmp_path)
    assert "daemonset" in model.world.memory_slots and "daemonset" in model.world.informer_slots
    other = scenario(tmp_path, f"{INFORMED}checks: [rc-replicas-converge]\n",
                     [MODELS / "myapp" / "frontend-rc.yaml"], name="rc.yaml")
    assert any("daemonset has nothing to manage here (no DaemonSet)" in w.message for w in other.warnings)


# --------------------------------------------------------------------------- names and target nodes


def test_GetTargetNodeName_reads_the_node_from_a_generated_name(tmp_path):
    model = informed(tmp_path)
    group = model.world.workloads[model.world.daemonsets[0]].group
    assert target_node(model.world, group, "agent-node-1-0") == 1
    assert target_node(model.world, group, "agent-node-2-13") == 2
    assert target_node(model.world, group, "agent-node-9-0") == -1
    fresh = scenario(tmp_path, "checks: [daemonset-one-pod-per-node]\n", AGENT, nodes=3, name="fresh.yaml")
    assert target_node(fresh.world, group, "agent-node-1") == 1


@given(node=st.integers(0, 2), k=st.integers(0, 99))
@settings(max_examples=60, deadline=None)
def test_GetTargetNodeName_round_trips_every_generated_name(tmp_path_factory, node, k):
    model = informed(tmp_path_factory.mktemp("ds"))
    world = model.world
    group = world.workloads[world.daemonsets[0]].group
    name = f"agent-{world.node_names[node]}-{k}"
    assert target_node(world, group, name) == node
    assert pod_node(world, PodRec(name, group, owner=0)) == node
    assert pod_node(world, PodRec(name, group, owner=0, node=(node + 1) % 3)) == (node + 1) % 3  # bound: its node


# --------------------------------------------------------------------------- syncNodes: expectations and batches


def test_syncNodes_sets_expectations_and_creates_in_slowStartBatch(tmp_path):
    model = informed(tmp_path)
    state, = model.init_states()
    action, state = step(model, state, DaemonSetSync)
    assert action.create == ("agent-node-0-0",)
    assert memory(model, state) == DaemonSetExpectations(add=3, pending=(1, 2), batch=2, group=action_group(model))
    action, state = step(model, state, DaemonSetBatch)
    assert action.create == ("agent-node-1-0", "agent-node-2-0")
    assert memory(model, state).pending == () and memory(model, state).add >= 1


def action_group(model) -> int:
    return model.world.workloads[model.world.daemonsets[0]].group


def test_SatisfiedExpectations_gates_manage_until_the_cache_sees_the_creations(tmp_path):
    """``syncDaemonSet``: with expectations unmet only the status is written; ``manage`` waits."""
    model = informed(tmp_path, nodes=1)
    state, = model.init_states()
    _, state = step(model, state, DaemonSetSync)
    assert memory(model, state) == DaemonSetExpectations(add=1)
    assert not [a for a in model.actions(state) if a.actor == "daemonset"]
    _, state = step(model, state, type(next(a for a in model.actions(state) if a.actor == "informer")))
    assert memory(model, state) is None  # addPod -> CreationObserved


def test_addPod_updatePod_deletePod_lower_the_expectations(tmp_path):
    model = informed(tmp_path, start="settled")
    state, = model.init_states()
    controller = next(c for c in model.controllers if c.actor == "daemonset")
    group = action_group(model)
    pod = PodRec("agent-node-0-1", group, owner=0, node=0, phase=RUNNING)
    armed = with_memory(model, state, DaemonSetExpectations(add=1, delete=1))
    added = controller.observe(model.world, armed, Event(pod.name, None, pod))
    assert memory(model, added) == DaemonSetExpectations(add=0, delete=1)
    terminating = pod._replace(deleting=True)
    gone = controller.observe(model.world, added, Event(pod.name, pod, terminating))
    assert memory(model, gone) is None  # updatePod with a deletionTimestamp -> deletePod -> DeletionObserved
    unchanged = controller.observe(model.world, armed, Event(pod.name, pod, pod._replace(ready=True)))
    assert memory(model, unchanged) == memory(model, armed)
    orphan = pod._replace(owner=-1)
    assert controller.observe(model.world, armed, Event(orphan.name, None, orphan)) == armed


def test_expectations_expire_only_once_nothing_is_left_to_arrive(tmp_path):
    """``ControllerExpectations.isExpired``: the 5-minute TTL as a fair step once the cache is
    level, and as the ``expectations-expire`` fault before that."""
    model = informed(tmp_path, "faults: {kinds: {expectations-expire: 1}}\n", nodes=1)
    state, = model.init_states()
    _, state = step(model, state, DaemonSetSync)
    names = set(enabled(model, state))
    assert any(n.startswith("ExpectationsExpire(") for n in names)
    assert not any(n.startswith("DaemonSetExpectationsExpired(") for n in names)
    lost = with_memory(model, attrs.evolve(state, informers=(InformerRec(),)), DaemonSetExpectations(add=1))
    assert any(isinstance(a, DaemonSetExpectationsExpired) for a in model.actions(lost))


def test_syncNodes_deletes_a_pod_already_gone_as_observed(tmp_path):
    """A DELETE answering NotFound is ``DeletionObserved`` at once."""
    model = informed(tmp_path, start="settled", nodes=1)
    state, = model.init_states()
    armed = with_memory(model, state, DaemonSetExpectations(delete=1, doomed=("agent-node-0-7",)))
    action, nxt = step(model, armed, DaemonSetBatch)
    assert action.delete == () and memory(model, nxt) is None


# --------------------------------------------------------------------------- podsShouldBeOnNode


def test_podsShouldBeOnNode_deletes_all_but_the_oldest_scheduled_pod(tmp_path):
    model = informed(tmp_path, start="settled", nodes=1)
    state, = model.init_states()
    group = action_group(model)
    pods = (PodRec("agent-node-0-0", group, 0, 0, RUNNING, True), PodRec("agent-node-0-1", group, 0, 0, RUNNING, True),
            PodRec("agent-node-0-2", group, 0))
    choices, create = pods_should_be_on_node(model.world, attrs.evolve(state, pods=pods), 0, 0)
    assert not create
    assert sorted(choices) == [("agent-node-0-0", "agent-node-0-2"), ("agent-node-0-1", "agent-node-0-2")]


pod_specs = st.lists(st.tuples(st.booleans(), st.sampled_from([RUNNING, FAILED]), st.booleans(), st.booleans()),
                     max_size=4)


@given(specs=pod_specs)
@settings(max_examples=80, deadline=None)
def test_podsShouldBeOnNode_keeps_one_running_pod_and_prefers_a_scheduled_one(tmp_path_factory, specs):
    model = informed(tmp_path_factory.mktemp("ds"), start="settled", nodes=1)
    state, = model.init_states()
    group = action_group(model)
    pods = tuple(PodRec(f"agent-node-0-{k}", group, 0, 0 if bound else -1, phase if bound else PENDING,
                        ready and bound and phase == RUNNING, deleting)
                 for k, (bound, phase, deleting, ready) in enumerate(specs))
    choices, create = pods_should_be_on_node(model.world, attrs.evolve(state, pods=pods), 0, 0)
    assert create == (not pods)
    running = [p for p in pods if not p.deleting and p.phase != FAILED]
    for deletes in choices:
        assert all(not p.deleting for p in pods if p.name in deletes)
        assert all(p.name in deletes for p in pods if not p.deleting and p.phase == FAILED)
        kept = [p for p in running if p.name not in deletes]
        assert len(kept) == min(1, len(running))
        if any(p.node >= 0 for p in running):
            assert kept[0].node >= 0
    assert len(set(choices)) == len(choices)


def test_manage_deletes_a_duplicate_once_its_cache_shows_both(tmp_path):
    model = informed(tmp_path, start="settled", nodes=1)
    state, = model.init_states()
    twin = state.pods[0]._replace(name="agent-node-0-1")
    both = attrs.evolve(state, pods=tuple(sorted(state.pods + (twin,))))
    syncs = [a for a in model.actions(both) if isinstance(a, DaemonSetSync)]
    assert sorted(a.delete for a in syncs) == [("agent-node-0-0",), ("agent-node-0-1",)]
    assert all(memory(model, model.next_state(both, a)) == DaemonSetExpectations(delete=1) for a in syncs)


# --------------------------------------------------------------------------- restarts


def test_restart_between_slowStartBatch_batches_forgets_the_rest_and_the_next_sync_makes_it(tmp_path):
    model = informed(tmp_path, "faults: {kinds: {controller-restart: 1}}\n")
    states = follow(model, ["DaemonSetSync(daemonset='agent', create=('agent-node-0-0',), delete=(), observed=0)",
                            "ControllerRestart(controller='daemonset', relisted_behind=0)"])
    state = states[-1]
    assert memory(model, state) is None
    action, _ = step(model, state, DaemonSetSync)
    assert action.create == ("agent-node-1-0",)  # the first batch of a new sync: node-1 and node-2 are still missing


def test_restart_relisting_a_lagging_api_server_creates_a_duplicate(tmp_path):
    """The restarted process's relist (kubernetes#59848) misses the pod the old one just
    created; its expectations are gone, so a second generated name goes to the same node."""
    model = informed(tmp_path, "faults: {budget: 2, kinds: {pod-delete: 1, controller-restart: 1}}\n",
                     start="settled")
    result = Explorer(model, progress=False).run()
    trace = result["daemonset-one-pod-per-node"].trace
    assert str(result["daemonset-one-pod-per-node"].verdict) == "violated"
    restart = next(a for a in trace.actions if type(a).__name__ == "ControllerRestart")
    assert restart.relisted_behind == 1  # listed from an API server one event behind
    assert [a.create for a in trace.actions if isinstance(a, DaemonSetSync)][-2:] == [("agent-node-0-1",),
                                                                                       ("agent-node-0-0",)]


def test_without_expiry_or_restart_expectations_prevent_the_duplicate(tmp_path):
    model = informed(tmp_path, "faults: {budget: 2, kinds: {pod-delete: 1, watch-drop: 1}}\n", start="settled")
    assert verdicts(model)["daemonset-one-pod-per-node"] == "holds"


@pytest.mark.parametrize("name", ["daemonset-stale-cache-duplicate", "daemonset-stale-cache-expectations-hold"])
def test_bundled_scenarios_read_the_daemonset_cache(name):
    from kspec.simulation.scenario import load_scenario  # deferred: start-up time
    model = load_scenario(MODELS / f"{name}.yaml")
    assert model.world.informer_slots == {"daemonset": 0}
