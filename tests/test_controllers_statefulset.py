"""The StatefulSet controller as a pure transition function.

Cases follow ``pkg/controller/statefulset/stateful_set_control.go``
(``updateStatefulSet``) and its tests (``TestStatefulSetControl*``).
"""

from __future__ import annotations

import pathlib

from hypothesis import given, strategies as st

import kspec
from kspec.simulation.controllers.statefulset import StatefulSetController, ordinal, sync
from kspec.simulation.state import (
    FAILED, NOT_RUNNING, PENDING, RUNNING, UP, World, well_formed,
)
from support import states as build
from support.profiles import examples

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
NODES = ["3:cpu=4,memory=8Gi"]
WORLD = World(kspec.load([MODELS / "db"], nodes=NODES))
DB = 0


def parallel_world(tmp_path) -> World:
    text = (MODELS / "db" / "db.yaml").read_text().replace("  serviceName: db\n",
                                                            "  serviceName: db\n  podManagementPolicy: Parallel\n")
    (tmp_path / "db.yaml").write_text(text)
    return World(kspec.load([tmp_path / "db.yaml"], nodes=NODES))


def pod(i, phase=RUNNING, ready=True, deleting=False, node=0):
    """Replica ``db-<i>``; unbound while Pending."""
    return build.owned_pod(WORLD, DB, f"db-{i}", node=node if phase != PENDING else -1, phase=phase,
                           ready=ready and phase == RUNNING, deleting=deleting,
                           containers=UP if phase == RUNNING else NOT_RUNNING)


def state(pods=(), replicas=3):
    return build.state(WORLD, pods, replicas=(replicas,))


def step(s, world=WORLD):
    _, created, deleted = sync(world, s, DB)
    return created, deleted


def test_getOrdinal():
    assert [ordinal(WORLD, DB, n) for n in ("db-0", "db-12", "db-x", "other-1", "db-")] == [0, 12, -1, -1, -1]


def test_OrderedReady_creates_one_pod_at_a_time_lowest_ordinal_first():
    assert step(state()) == (["db-0"], [])
    assert step(state([pod(0, PENDING)])) == ([], [])  # db-0 not Running and Ready: wait
    assert step(state([pod(0, ready=False)])) == ([], [])
    assert step(state([pod(0)])) == (["db-1"], [])


def test_Parallel_creates_every_missing_pod_in_one_sync(tmp_path):
    world = parallel_world(tmp_path)
    _, created, _ = sync(world, state([pod(1, PENDING)]), DB)
    assert created == ["db-0", "db-2"]


def test_failed_pod_is_deleted_and_recreated_with_its_identity():
    created, deleted = step(state([pod(0), pod(1, FAILED)]))
    assert (created, deleted) == (["db-1"], ["db-1"])
    nxt, _, _ = sync(WORLD, state([pod(0), pod(1, FAILED)]), DB)
    assert nxt.pod("db-1").phase == PENDING and nxt.pod("db-1").node == -1


def test_terminating_replica_blocks_the_sync_until_the_object_is_gone():
    assert step(state([pod(0, deleting=True), pod(1), pod(2)])) == ([], [])
    assert step(state([pod(1), pod(2)])) == (["db-0"], [])


def test_scale_down_deletes_the_highest_ordinal_first_one_at_a_time():
    pods = [pod(i) for i in range(3)]
    assert step(state(pods, replicas=1)) == ([], ["db-2"])
    pods[2] = pod(2, deleting=True)
    assert step(state(pods, replicas=1)) == ([], [])  # waits for db-2 to go


def test_scale_down_waits_for_unhealthy_predecessors():
    # db-1 is the condemned target but db-0 is not Ready: OrderedReady returns before any deletion
    assert step(state([pod(0, ready=False), pod(1)], replicas=1)) == ([], [])


def test_converged_set_is_a_fixed_point():
    assert list(StatefulSetController().steps(WORLD, state([pod(i) for i in range(3)]))) == []
    assert list(StatefulSetController().steps(WORLD, state([pod(0)], replicas=None))) == []


@st.composite
def states(draw):
    pods = []
    for i in sorted(draw(st.sets(st.integers(0, 4), max_size=5))):
        phase = draw(st.sampled_from([PENDING, RUNNING, FAILED]))
        pods.append(pod(i, phase, ready=draw(st.booleans()), deleting=draw(st.booleans()), node=draw(st.integers(0, 2))))
    return state(pods, draw(st.sampled_from([None, 0, 1, 2, 3, 4])))


@examples(200)
@given(states())
def test_every_statefulset_step_preserves_well_formed_and_ordered_creation(s):
    assert well_formed(s, WORLD) == []
    for action, nxt in StatefulSetController().steps(WORLD, s):
        assert nxt != s and well_formed(nxt, WORLD) == [], action
        for name in action.create:  # OrderedReady: every lower ordinal is Running and Ready, not terminating
            i = ordinal(WORLD, DB, name)
            assert i < s.replicas[DB]
            for j in range(i):
                p = nxt.pod(f"db-{j}")
                assert p is not None and p.phase == RUNNING and p.ready and not p.deleting, (action, j)
        assert len(action.create) + len(action.delete) <= 2  # one create, or a failed pod's delete and create
