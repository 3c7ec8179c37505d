"""Update strategies of StatefulSets and DaemonSets, as steps after a ``rollout`` operation.

Cases follow ``pkg/controller/statefulset/stateful_set_control.go``
(``updateStatefulSetAfterInvariantEstablished``, ``newVersionedStatefulSetPod``),
``pkg/controller/daemon/update.go`` (``rollingUpdate``) with ``daemon_controller.go``
(``podsShouldBeOnNode``), and the API validation of ``spec.updateStrategy``
(``pkg/apis/apps/validation``).
"""

from __future__ import annotations

import collections
import json
import pathlib
import re

import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.errors import KspecError
from kspec.simulation.controllers.daemonset import DaemonSetController, current_group
from kspec.simulation.controllers.statefulset import max_unavailable, pod_group, revision_of, sync
from kspec.simulation.properties import build
from kspec.simulation.state import PENDING, RUNNING, World, well_formed
from kspec.api.objects import UpdateStrategy
from support import states as build_state
from support.profiles import examples

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
ROLLOUTS = MODELS / "rollouts"
NODES = ["3:cpu=4,memory=8Gi"]
ROLLED = 1  # State.ops with the rollout operation (bit 0) done


def world_of(tmp_path, manifest: str, replace: tuple[str, str] = ("", ""), name: str = "db") -> World:
    text = (ROLLOUTS / manifest).read_text().replace(*replace)
    (tmp_path / manifest).write_text(text)
    world = World(kspec.load([tmp_path / manifest], nodes=NODES), rollouts={name: "next:1"})
    world.rollout_bits[0] = 0
    return world


def db_pods(world: World, revisions: dict[int, int], ready: bool = True, deleting: tuple[int, ...] = ()):
    """``db-<i>`` Running on node ``i`` from template revision ``revisions[i]`` (0 old, 1 new)."""
    groups = world.workloads[0].revisions
    return [build_state.pod(f"db-{i}", group=groups[r], owner=0, node=i, phase=RUNNING, ready=ready,
                            deleting=i in deleting, containers="up") for i, r in revisions.items()]


def sts_step(world, pods, ops=ROLLED):
    _, created, deleted = sync(world, build_state.state(world, pods, ops=ops), 0)
    return created, deleted


def test_updateStatefulSetAfterInvariantEstablished_deletes_the_highest_ordinal_old_pod_first(tmp_path):
    world = world_of(tmp_path, "db-partitioned.yaml", ("partition: 1", "partition: 0"))
    assert sts_step(world, db_pods(world, {0: 0, 1: 0, 2: 0})) == ([], ["db-2"])
    assert sts_step(world, db_pods(world, {0: 0, 1: 0, 2: 1})) == ([], ["db-1"])
    assert sts_step(world, db_pods(world, {0: 0, 1: 0, 2: 0}), ops=0) == ([], [])  # no rollout yet: nothing to do


def test_updateStatefulSetAfterInvariantEstablished_waits_for_the_updated_pod_to_be_healthy(tmp_path):
    world = world_of(tmp_path, "db-partitioned.yaml", ("partition: 1", "partition: 0"))
    pods = db_pods(world, {0: 0, 1: 0}) + db_pods(world, {2: 1}, ready=False)
    assert sts_step(world, pods) == ([], [])  # OrderedReady stops at db-2 before the update phase


def test_partition_keeps_lower_ordinals_on_the_old_template(tmp_path):
    world = world_of(tmp_path, "db-partitioned.yaml")
    assert sts_step(world, db_pods(world, {0: 0, 1: 1, 2: 1})) == ([], [])  # db-0 is below partition 1
    s = build_state.state(world, db_pods(world, {1: 1, 2: 1}), ops=ROLLED)
    nxt, created, _ = sync(world, s, 0)  # db-0 made again: newVersionedStatefulSetPod gives the old revision
    assert created == ["db-0"] and revision_of(world, 0, nxt.pod("db-0")) == 0


def test_maxUnavailable_deletes_up_to_the_limit_less_those_unavailable(tmp_path):
    world = world_of(tmp_path, "db-partitioned.yaml", ("partition: 1", "partition: 0\n      maxUnavailable: 2"))
    assert sts_step(world, db_pods(world, {0: 0, 1: 0, 2: 0})) == ([], ["db-2", "db-1"])
    pods = db_pods(world, {0: 0, 1: 0, 2: 0}, deleting=(2,))
    assert sts_step(world, pods) == ([], [])  # OrderedReady waits on the terminating db-2
    pods = db_pods(world, {0: 0, 1: 0}) + db_pods(world, {2: 1}, ready=False)
    assert sts_step(world, pods) == ([], [])  # and on db-2 coming back: db-2 unavailable leaves room for 1, but
    # OrderedReady never reaches the update phase while a replica is not Running and Ready


def test_OnDelete_replaces_nothing_but_recreates_on_the_new_template(tmp_path):
    world = world_of(tmp_path, "db-ondelete.yaml")
    assert sts_step(world, db_pods(world, {0: 0, 1: 0, 2: 0})) == ([], [])
    nxt, created, _ = sync(world, build_state.state(world, db_pods(world, {0: 0, 2: 0}), ops=ROLLED), 0)
    assert created == ["db-1"] and revision_of(world, 0, nxt.pod("db-1")) == 1


@pytest.mark.parametrize("partition", [0, 1, 2, 3])
def test_newVersionedStatefulSetPod_gives_the_old_template_below_partition_only(tmp_path, partition):
    world = world_of(tmp_path, "db-partitioned.yaml", ("partition: 1", f"partition: {partition}"))
    old, new = world.workloads[0].revisions
    rolled = build_state.state(world, ops=ROLLED)
    assert [pod_group(world, rolled, 0, i) for i in range(4)] == [old if i < partition else new for i in range(4)]
    assert {pod_group(world, build_state.state(world), 0, i) for i in range(4)} == {old}  # before the rollout


@given(st.one_of(st.integers(1, 10), st.integers(1, 100).map(lambda n: f"{n}%")), st.integers(1, 20))
def test_getStatefulSetMaxUnavailable_is_at_least_one_and_at_most_replicas_rounded_up(value, replicas):
    got = max_unavailable(UpdateStrategy(max_unavailable=value), replicas)
    assert 1 <= got
    if isinstance(value, str):
        assert got == max(1, -(-int(value[:-1]) * replicas // 100))
    else:
        assert got == value
    assert max_unavailable(UpdateStrategy(), replicas) is None


def agent_world(tmp_path, manifest: str) -> World:
    return world_of(tmp_path, manifest, name="agent")


def agent_pods(world: World, revisions: dict[int, int], ready: bool = True):
    groups = world.workloads[0].revisions
    return [build_state.pod(world.groups[groups[r]].prefix + world.node_names[n], group=groups[r], owner=0, node=n,
                            phase=RUNNING, ready=ready, containers="up") for n, r in revisions.items()]


def ds_steps(world, pods):
    s = build_state.state(world, pods, ops=ROLLED)
    return sorted((a.create, a.delete) for a, _ in DaemonSetController().steps(world, s))


def test_rollingUpdate_without_surge_deletes_one_old_pod_on_any_node(tmp_path):
    world = agent_world(tmp_path, "agent-unavailable.yaml")
    steps = ds_steps(world, agent_pods(world, {0: 0, 1: 0, 2: 0}))
    assert steps == [((), ("agent-node-0",)), ((), ("agent-node-1",)), ((), ("agent-node-2",))]


def test_rollingUpdate_with_surge_starts_a_new_pod_beside_an_old_one(tmp_path):
    world = agent_world(tmp_path, "agent-surge.yaml")
    steps = ds_steps(world, agent_pods(world, {0: 0, 1: 0, 2: 0}))
    assert steps == [(("agent-v2-node-0",), ()), (("agent-v2-node-1",), ()), (("agent-v2-node-2",), ())]
    # maxSurge 1 taken by an unavailable new pod: nothing more until it is available
    pending = agent_pods(world, {0: 0, 1: 0, 2: 0}) + [build_state.pod(
        "agent-v2-node-0", group=current_group(world, build_state.state(world, ops=ROLLED), 0), owner=0, node=0,
        phase=PENDING)]
    assert ds_steps(world, pending) == []


def test_podsShouldBeOnNode_with_surge_deletes_the_old_pod_once_the_new_one_is_available(tmp_path):
    world = agent_world(tmp_path, "agent-surge.yaml")
    pods = agent_pods(world, {0: 0, 1: 0, 2: 0}) + agent_pods(world, {0: 1})
    assert ds_steps(world, pods) == [((), ("agent-node-0",))]


def test_OnDelete_daemonset_replaces_only_missing_pods(tmp_path):
    world = world_of(tmp_path, "agent-unavailable.yaml",
                     ("  template:\n", "  updateStrategy: {type: OnDelete}\n  template:\n"), name="agent")
    assert ds_steps(world, agent_pods(world, {0: 0, 1: 0, 2: 0})) == []
    assert ds_steps(world, agent_pods(world, {0: 0, 2: 0})) == [(("agent-v2-node-1",), ())]


@pytest.mark.parametrize("strategy, message", [
    ("{rollingUpdate: {partition: -1}}", "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1"),
    ("{rollingUpdate: {maxUnavailable: 0}}",
     "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0"),
    ("{type: OnDelete, rollingUpdate: {partition: 1}}", "spec.updateStrategy.rollingUpdate: Forbidden"),
    ("{type: Sometimes}", "spec.updateStrategy.type: Unsupported value"),
])
def test_ValidateStatefulSetUpdateStrategy(tmp_path, strategy, message):
    text = (ROLLOUTS / "db-partitioned.yaml").read_text()
    text = text.replace("  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      partition: 1\n",
                        f"  updateStrategy: {strategy}\n")
    (tmp_path / "db.yaml").write_text(text)
    with pytest.raises(KspecError, match=message.replace("(", r"\(")):
        kspec.load([tmp_path / "db.yaml"], nodes=NODES)


@pytest.mark.parametrize("surge, unavailable, message", [
    ("0", "0", "rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"),
    ("1", "1", "rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero"),
    ("'0%'", "'101%'", "rollingUpdate.maxUnavailable: Invalid value: \"101%\": must not be greater than 100%"),
])
def test_ValidateRollingUpdateDaemonSet_wants_exactly_one_of_surge_and_unavailable(tmp_path, surge, unavailable,
                                                                                   message):
    text = (ROLLOUTS / "agent-surge.yaml").read_text().replace("maxSurge: 1", f"maxSurge: {surge}")
    (tmp_path / "agent.yaml").write_text(text.replace("maxUnavailable: 0", f"maxUnavailable: {unavailable}"))
    with pytest.raises(KspecError, match=re.escape(message)):
        kspec.load([tmp_path / "agent.yaml"], nodes=NODES)


def test_a_daemonset_surge_needs_maxUnavailable_0_since_it_defaults_to_1(tmp_path):
    text = (ROLLOUTS / "agent-surge.yaml").read_text().replace("      maxUnavailable: 0\n", "")
    (tmp_path / "agent.yaml").write_text(text)
    with pytest.raises(KspecError, match="may not be set when maxUnavailable is non-zero"):
        kspec.load([tmp_path / "agent.yaml"], nodes=NODES)


def test_partition_property_catches_an_updated_pod_below_the_partition(tmp_path):
    world = world_of(tmp_path, "db-partitioned.yaml")
    prop = build(world, frozenset(), "statefulset-respects-partition")
    good = build_state.state(world, db_pods(world, {0: 0, 1: 1, 2: 1}), ops=ROLLED)
    bad = build_state.state(world, db_pods(world, {0: 1, 1: 1, 2: 1}), ops=ROLLED)
    assert prop.condition(good) and not prop.condition(bad)
    assert prop.explain(bad) == "db-0 of StatefulSet/db runs the new template below partition 1"


def test_rollout_of_a_replicaset_is_refused(tmp_path):
    (tmp_path / "rs.yaml").write_text((ROLLOUTS / "web-surge-and-unavailable.yaml").read_text()
                                      .replace("kind: Deployment", "kind: ReplicaSet")
                                      .replace("  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n"
                                               "      maxSurge: 1\n      maxUnavailable: 1\n", ""))
    (tmp_path / "s.yaml").write_text("name: s\nmanifests: [rs.yaml]\nnodes: ['1:cpu=2,memory=4Gi']\n"
                                     "operations:\n  - rollout: {workload: web}\nchecks: [rc-replicas-converge]\n")
    with pytest.raises(KspecError, match="rollout: ReplicaSet/web is not a Deployment, StatefulSet or DaemonSet"):
        kspec.load_model(tmp_path / "s.yaml")


# --------------------------------------------------------------------------- properties over generated states

POD_STATES = st.sampled_from(["missing", "old", "old-unready", "old-terminating", "new", "new-unready",
                              "new-terminating"])


def _pod_from(world: World, name: str, node: int, kind: str, groups: tuple[int, int]):
    if kind == "missing":
        return None
    revision = 0 if kind.startswith("old") else 1
    return build_state.pod(name, group=groups[revision], owner=0, node=node, phase=RUNNING,
                           ready="unready" not in kind, deleting="terminating" in kind, containers="up")


@pytest.fixture(scope="module")
def partitioned_worlds(tmp_path_factory):
    """A StatefulSet of 3 with each partition 0..3, with and without maxUnavailable 2."""
    worlds = []
    for partition in range(4):
        for extra in ("", "\n      maxUnavailable: 2"):
            folder = tmp_path_factory.mktemp("sts")
            worlds.append(world_of(folder, "db-partitioned.yaml", ("partition: 1", f"partition: {partition}{extra}")))
    return worlds


@examples(200)
@given(st.data(), st.lists(POD_STATES, min_size=3, max_size=3))
def test_updateStatefulSetAfterInvariantEstablished_never_deletes_below_partition_or_a_new_pod(
        partitioned_worlds, data, kinds):
    world = data.draw(st.sampled_from(partitioned_worlds))
    groups = world.workloads[0].revisions
    pods = [p for i, kind in enumerate(kinds) if (p := _pod_from(world, f"db-{i}", i, kind, groups)) is not None]
    s = build_state.state(world, pods, ops=ROLLED)
    nxt, created, deleted = sync(world, s, 0)
    partition = world.workloads[0].record.spec.update_strategy.partition
    for name in deleted:
        pod = s.pod(name)
        assert revision_of(world, 0, pod) == 0 and int(name[3:]) >= partition
    for name in created:
        assert (revision_of(world, 0, nxt.pod(name)) == 0) == (int(name[3:]) < partition)
    assert well_formed(nxt, world) == []


@pytest.fixture(scope="module")
def agent_worlds(tmp_path_factory):
    return [agent_world(tmp_path_factory.mktemp("ds"), manifest)
            for manifest in ("agent-surge.yaml", "agent-unavailable.yaml")]


@examples(200)
@given(st.data(), st.lists(st.tuples(POD_STATES, POD_STATES), min_size=3, max_size=3))
def test_daemonset_rollout_keeps_one_pod_per_template_per_node_and_respects_maxSurge(agent_worlds, data, nodes):
    world = data.draw(st.sampled_from(agent_worlds))
    old, new = world.workloads[0].revisions
    pods = []
    for n, (old_kind, new_kind) in enumerate(nodes):
        for kind, group in ((old_kind, old), (new_kind, new)):
            if kind != "missing" and kind.startswith("old" if group == old else "new"):
                pods.append(_pod_from(world, world.groups[group].prefix + world.node_names[n], n, kind, (old, new)))
    s = build_state.state(world, pods, ops=ROLLED)
    surge = world.workloads[0].record.spec.update_strategy.max_surge
    for action, nxt in DaemonSetController().steps(world, s):
        assert well_formed(nxt, world) == []
        assert all(nxt.pod(name).group == new for name in action.create)
        if surge == 0:  # without surge a new pod only goes where no pod of the DaemonSet is left
            for name in action.create:
                node = world.node_index[name[len("agent-v2-"):]]
                assert not [p for p in s.pods if p.node == node]


# --------------------------------------------------------------------------- the bundled rollout scenarios

SCENARIOS = ["statefulset-rollout-partition", "statefulset-rollout-ondelete", "daemonset-rollout-surge",
             "daemonset-rollout-unavailable", "rollout-overshoot"]


def _reached(model, limit: int):
    """The first ``limit`` states breadth first, each with its successors (no reduction)."""
    seen, queue = {}, collections.deque(model.init_states())
    while queue and len(seen) < limit:
        state = queue.popleft()
        if state in seen:
            continue
        succ = [n for n in (model.next_state(state, a) for a in model.actions(state)) if n is not None]
        seen[state] = succ
        queue.extend(succ)
    return seen


@pytest.mark.parametrize("name", SCENARIOS)
def test_rollout_scenarios_explain_exactly_where_a_check_is_false_and_commute_with_symmetry(name):
    model = kspec.load_model(MODELS / f"{name}.yaml")
    props = [p for p in model.properties() if p.explain is not None]
    assert props
    canon = model.representative
    for state, succ in _reached(model, 400).items():
        for prop in props:
            assert prop.condition(state) == (prop.explain(state) is None), (prop.name, state)
        mirror = [n for n in (model.next_state(canon(state), a) for a in model.actions(canon(state))) if n is not None]
        assert {canon(n) for n in succ} == {canon(n) for n in mirror}, state


def test_overshoot_explanation_counts_running_and_terminating_containers(run_cli):
    result = run_cli("explore", "models/rollout-overshoot.yaml", "--property", "deployment-running-within-surge",
                     "--stop-at-first", "-o", "json", "--no-progress")
    prop = json.loads(result.stdout)["properties"][0]
    assert prop["verdict"] == "violated"
    assert prop["explanation"] == "4 containers of Deployment/web run (0 of them terminating) > 2 replicas + maxSurge 1"


def test_a_bad_partition_is_one_line_at_the_manifest_and_exit_2(run_cli, tmp_path):
    text = (ROLLOUTS / "db-partitioned.yaml").read_text().replace("partition: 1", "partition: -1")
    (tmp_path / "db.yaml").write_text(text)
    (tmp_path / "s.yaml").write_text("name: s\nmanifests: [db.yaml]\nnodes: ['3:cpu=2,memory=4Gi']\n"
                                     "operations:\n  - rollout: {workload: db}\n"
                                     "checks: [statefulset-rollout-converges]\n")
    result = run_cli("explore", tmp_path / "s.yaml", "--no-progress")
    assert result.exit_code == 2
    assert "db.yaml:16: error: spec.updateStrategy.rollingUpdate.partition: Invalid value: -1" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_fixme_daemonset_minReadySeconds_counts_as_elapsed(tmp_path):
    """Upstream (``podsShouldBeOnNode`` with ``IsPodAvailable``) keeps the old pod until the new one
    has been Ready for ``minReadySeconds``; the model has no clock, so Ready is available at once."""
    world = world_of(tmp_path, "agent-surge.yaml", ("spec:\n  selector:", "spec:\n  minReadySeconds: 30\n  selector:"),
                     name="agent")
    pods = agent_pods(world, {0: 0, 1: 0, 2: 0}) + agent_pods(world, {0: 1})
    assert ds_steps(world, pods) == [((), ("agent-node-0",))]  # upstream: nothing yet
