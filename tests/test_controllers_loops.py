"""Scheduler, kubelet, node lifecycle, endpoints and GC as pure transition functions.

Every controller: a converged state is a fixed point; on Hypothesis-generated
states every step preserves ``well_formed`` and changes something. Upstream
cases are named after the upstream test or function they follow.
"""

from __future__ import annotations

import pathlib

from hypothesis import given, strategies as st

import kspec
from kspec.simulation.controllers.endpoints import EndpointsController
from kspec.simulation.controllers.gc import GarbageCollector, PodGC
from kspec.simulation.controllers.kubelet import Kubelet
from kspec.simulation.controllers.nodelifecycle import (
    FULL, NORMAL, PARTIAL, Clock, NodeLifecycle, TaintManager, compute_zone_state,
)
from kspec.simulation.controllers.replication import ReplicationControllerLoop
from kspec.simulation.controllers.scheduler import Scheduler
from kspec.simulation.network import can_reach_serving_pod, may_hit_dead_pod, resolve
from kspec.simulation.scenario import load_scenario
from kspec.simulation.state import (
    CRASHED, FAILED, HUNG, NOT_RUNNING, PENDING, READY, RUN_STATES, RUNNING, UNKNOWN, UP,
    NodeRec, World, well_formed,
)
from support import states as build
from support.profiles import examples
from support.states import owned_pod, running_pod

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
WORLD = World(kspec.load([MODELS / "myapp"]))
CONTROLLERS = [ReplicationControllerLoop(), Scheduler(), Kubelet(), NodeLifecycle(), TaintManager(), Clock(),
               EndpointsController(), GarbageCollector(), PodGC()]


def fresh(pods=(), nodes=None, endpoints=None, replicas=None):
    """A state of the myapp world: healthy nodes, no endpoints, manifest replicas unless given."""
    return build.state(WORLD, pods, nodes, endpoints=endpoints, replicas=replicas)


BACKEND, FRONTEND = 0, 1  # workloads sorted by name
assert [w.name for w in WORLD.workloads] == ["backend", "frontend"]


def settled():
    model = load_scenario(MODELS / "myapp-node-crash.yaml")
    return model, model.init_states()


def test_settled_states_are_fixed_points_of_every_controller():
    model, states = settled()
    assert states
    for state in states:
        assert not well_formed(state, model.world)
        for controller in model.controllers:
            assert list(controller.steps(model.world, state)) == [], controller.actor


# --------------------------------------------------------------------------- scheduler


def test_scheduler_binds_to_every_feasible_node_or_records_unschedulable():
    state = fresh([owned_pod(WORLD, BACKEND, "backend-0")])
    steps = list(Scheduler().steps(WORLD, state))
    assert sorted(str(a) for a, _ in steps) == [f"SchedulerBind(backend-0 -> node-{i})" for i in (1, 2, 3)]
    unknown = [NodeRec(ready=UNKNOWN) for _ in WORLD.nodes]
    (action, nxt), = Scheduler().steps(WORLD, fresh([owned_pod(WORLD, BACKEND, "backend-0")], nodes=unknown))
    assert "0/3 nodes are available" in action.message and "untolerated taint" in action.message
    assert nxt.pods[0].unschedulable and list(Scheduler().steps(WORLD, nxt)) == []


def test_scheduler_least_allocated_keeps_ties_like_upstream_selectHost():
    # node-1 runs a backend pod: node-2 and node-3 score higher and tie; selectHost picks either
    state = fresh([running_pod(WORLD, BACKEND, "backend-0", node=0),
                   owned_pod(WORLD, BACKEND, "backend-1")])
    steps = list(Scheduler("least-allocated").steps(WORLD, state))
    assert sorted(a.node for a, _ in steps) == ["node-2", "node-3"]


def test_scheduler_least_allocated_picks_the_single_top_score():
    busy = [running_pod(WORLD, BACKEND, f"backend-{i}", node=n) for i, n in enumerate((0, 1))]
    (action, nxt), = Scheduler("least-allocated").steps(WORLD, fresh(busy + [owned_pod(WORLD, BACKEND, "backend-9")]))
    assert action.node == "node-3" and nxt.pod("backend-9").node == 2


def test_scheduler_NodeResourcesFit_counts_terminating_pods():
    # 2 cpu per node; 4 backend pods (500m) fill node-1 even when one is terminating
    pods = [running_pod(WORLD, BACKEND, f"backend-{i}", node=0, deleting=i == 0) for i in range(4)]
    pods.append(owned_pod(WORLD, BACKEND, "backend-9"))
    binds = [a.node for a, _ in Scheduler().steps(WORLD, fresh(pods)) if hasattr(a, "node")]
    assert "node-1" not in binds and binds


# --------------------------------------------------------------------------- kubelet


def test_kubelet_starts_reports_and_restarts_per_restart_policy():
    state = fresh([owned_pod(WORLD, FRONTEND, "frontend-0", node=0)])
    (action, nxt), = Kubelet().steps(WORLD, state)
    assert type(action).__name__ == "KubeletStartPod"
    assert nxt.pods[0][4:] == (RUNNING, True, False, False, UP)
    crashed = fresh([nxt.pods[0]._replace(run=CRASHED)])
    names = sorted(type(a).__name__ for a, _ in Kubelet().steps(WORLD, crashed))
    assert names == ["KubeletRestartContainer", "KubeletSyncStatus"]


def test_kubelet_hung_pod_with_readiness_probe_is_reported_not_ready():
    state = fresh([running_pod(WORLD, FRONTEND, "frontend-0", node=0, containers=HUNG)])
    (action, nxt), = Kubelet().steps(WORLD, state)
    assert (action.phase, action.ready) == (RUNNING, False)


def test_kubelet_partitioned_learns_nothing_but_restarts_locally():
    nodes = [NodeRec(reachable=False)] + [NodeRec() for _ in WORLD.nodes[1:]]
    pods = [running_pod(WORLD, FRONTEND, "frontend-0", node=0, deleting=True),
            running_pod(WORLD, FRONTEND, "frontend-1", node=0, containers=CRASHED)]
    steps = list(Kubelet().steps(WORLD, fresh(pods, nodes=nodes)))
    assert [type(a).__name__ for a, _ in steps] == ["KubeletRestartContainer"]


def test_kubelet_kills_deleted_pod_once_reachable_and_removes_it():
    pods = [running_pod(WORLD, FRONTEND, "frontend-0", node=0, deleting=True)]
    (action, nxt), = Kubelet().steps(WORLD, fresh(pods))
    assert type(action).__name__ == "KubeletKillPod" and nxt.pods == ()


def test_kubelet_after_node_reboot_restart_never_pod_fails():
    world = World(kspec.load([MODELS / "myapp" / "nodes.yaml"]), extra_templates=[kspec.parse_object(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job"},
         "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1"}]}})])
    state = build.state(world, [build.pod("job-0", node=0, phase=RUNNING, ready=True)])
    (action, nxt), = Kubelet().steps(world, state)
    assert nxt.pods[0].phase == FAILED


# --------------------------------------------------------------------------- node lifecycle


def test_ComputeZoneState_upstream_thresholds():
    assert compute_zone_state(0, 1) == FULL
    assert compute_zone_state(2, 1) == NORMAL
    assert compute_zone_state(2, 3) == PARTIAL  # more than 2 not ready and >= 55%
    assert compute_zone_state(3, 3) == NORMAL  # 50% is below the threshold


def test_monitorNodeHealth_marks_unknown_pods_not_ready_and_taints():
    nodes = [NodeRec(up=False)] + [NodeRec() for _ in WORLD.nodes[1:]]
    pods = [owned_pod(WORLD, FRONTEND, "frontend-0", node=0, phase=RUNNING, ready=True)]
    (action, nxt), = NodeLifecycle().steps(WORLD, fresh(pods, nodes=nodes))
    assert nxt.nodes[0].ready == UNKNOWN and nxt.nodes[0].tainted and not nxt.pods[0].ready
    # not evicted before the 300 s toleration runs out
    assert list(TaintManager().steps(WORLD, nxt)) == []
    (_, later), = Clock().steps(WORLD, nxt)
    (evict, gone), = TaintManager().steps(WORLD, later)
    assert gone.pods[0].deleting and evict.pods == ("frontend-0",)


def test_handleDisruption_all_zones_fully_disrupted_stops_evictions():
    nodes = [NodeRec(up=False, ready=UNKNOWN, tainted=True, timer=1), NodeRec(up=False, ready=UNKNOWN),
             NodeRec(up=False)]
    steps = dict((type(a).__name__, s) for a, s in NodeLifecycle().steps(WORLD, fresh(nodes=nodes)))
    # the last node going Unknown makes every zone fully disrupted: no taint, and the old taint is lifted
    marked = steps["NodeLifecycleMarkUnknown"]
    assert not any(rec.tainted for rec in marked.nodes)
    assert list(NodeLifecycle().steps(WORLD, marked)) == []  # and no node gets tainted again


def test_markNodeAsReachable_after_heartbeat():
    nodes = [NodeRec(ready=UNKNOWN, tainted=True)] + [NodeRec() for _ in WORLD.nodes[1:]]
    (hb, nxt), = Kubelet().steps(WORLD, fresh(nodes=nodes))
    assert nxt.nodes[0].ready == READY and nxt.nodes[0].tainted
    (untaint, clean), = NodeLifecycle().steps(WORLD, nxt)
    assert not clean.nodes[0].tainted


# --------------------------------------------------------------------------- endpoints, network, gc


def test_endpoints_list_ready_pods_with_ip_not_terminating():
    pods = [running_pod(WORLD, BACKEND, "backend-0", node=0),
            running_pod(WORLD, BACKEND, "backend-1", node=1, ready=False),
            running_pod(WORLD, BACKEND, "backend-2", node=2, deleting=True),
            owned_pod(WORLD, BACKEND, "backend-3")]
    steps = {a.service: s for a, s in EndpointsController().steps(WORLD, fresh(pods))}
    assert steps["backend-service"].endpoints[WORLD.service_named("backend-service")] == ("backend-0",)


def test_network_dns_and_routing_use_the_physical_view():
    svc = WORLD.service_named("backend-service")
    assert resolve(WORLD, "backend-service") == svc == resolve(WORLD, "backend-service.default.svc.cluster.local")
    assert resolve(WORLD, "nope") is None
    pods = [running_pod(WORLD, BACKEND, "backend-0", node=0, containers=HUNG)]
    endpoints = [("backend-0",) if i == svc else () for i in range(len(WORLD.services))]
    state = fresh(pods, endpoints=endpoints)
    assert not can_reach_serving_pod(WORLD, state, "backend-service")
    assert may_hit_dead_pod(WORLD, state, "backend-service")


def test_gc_deletes_dependents_of_deleted_owner():
    pods = [running_pod(WORLD, FRONTEND, "frontend-0", node=0)]
    (action, nxt), = GarbageCollector().steps(WORLD, fresh(pods, replicas=[2, None]))
    assert nxt.pods[0].deleting and action.owner == "ReplicationController/frontend"


def test_podgc_threshold_default_keeps_terminated_pods():
    pods = [owned_pod(WORLD, FRONTEND, "frontend-0", node=0, phase=FAILED)]
    assert list(PodGC().steps(WORLD, fresh(pods))) == []


# --------------------------------------------------------------------------- well-formedness under every step


@st.composite
def states(draw):
    n_nodes = len(WORLD.nodes)
    nodes = []
    for _ in range(n_nodes):
        tainted = draw(st.booleans())
        nodes.append(NodeRec(up=draw(st.booleans()), reachable=draw(st.booleans()),
                             ready=draw(st.sampled_from([READY, UNKNOWN])), tainted=tainted,
                             timer=draw(st.integers(0, len(WORLD.levels))) if tainted else 0))
    pods = []
    for k in range(draw(st.integers(0, 7))):
        group = draw(st.sampled_from([BACKEND, FRONTEND]))
        node = draw(st.integers(-1, n_nodes - 1))
        phase = draw(st.sampled_from([PENDING, FAILED] + ([RUNNING] if node >= 0 else [])))
        run = draw(st.sampled_from(RUN_STATES)) if node >= 0 and nodes[node].up else NOT_RUNNING
        pods.append(build.pod(f"{WORLD.groups[group].prefix}{k}", group=group, owner=draw(st.sampled_from([-1, group])),
                              node=node, phase=phase, ready=phase == RUNNING and draw(st.booleans()),
                              deleting=draw(st.booleans()), unschedulable=node < 0 and draw(st.booleans()),
                              containers=run))
    names = [p.name for p in pods]
    endpoints = [tuple(sorted(draw(st.sets(st.sampled_from(names)))) if names else ()) for _ in WORLD.services]
    replicas = [draw(st.sampled_from([None, 0, 1, 2, 3])) for _ in WORLD.workloads]
    return fresh(pods, nodes, endpoints, replicas)


@examples(150)
@given(states())
def test_every_controller_step_preserves_well_formed(state):
    assert well_formed(state, WORLD) == []
    for controller in CONTROLLERS:
        for action, nxt in controller.steps(WORLD, state):
            assert nxt != state, f"{action} changed nothing"
            assert well_formed(nxt, WORLD) == [], (action, well_formed(nxt, WORLD))


def test_kubelet_HandlePodCleanups_kills_orphaned_containers_once_it_sees_the_api():
    orphaned = [NodeRec(reachable=False, orphans=(FRONTEND,)), NodeRec(), NodeRec()]
    assert not any(type(a).__name__ == "KubeletKillOrphans" for a, _ in Kubelet().steps(WORLD, fresh(nodes=orphaned)))
    healed = [orphaned[0]._replace(reachable=True), NodeRec(), NodeRec()]
    (action, nxt), = [(a, n) for a, n in Kubelet().steps(WORLD, fresh(nodes=healed)) if type(a).__name__ == "KubeletKillOrphans"]
    assert nxt.nodes[0].orphans == () and action.containers == 1


def test_node_crash_kills_orphaned_containers_too():
    from kspec.simulation.faults import apply_fault

    state = fresh(nodes=[NodeRec(orphans=(FRONTEND,)), NodeRec(), NodeRec()])
    crashed = [n for a, n in apply_fault(WORLD, state, "node-crash") if a.node == "node-1"]
    assert crashed[0].nodes[0].orphans == () and not well_formed(crashed[0], WORLD)
