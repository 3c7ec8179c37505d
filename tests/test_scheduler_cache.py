"""The scheduler reading its scheduler cache, and the kubelet's resource admission.

Upstream: ``pkg/scheduler/schedule_one.go`` (``schedulingCycle`` assumes a
pod on its node before ``bindingCycle`` sends the Binding; a failed binding
calls ``ForgetPod``), ``pkg/scheduler/backend/cache/cache.go`` (``AssumePod``,
``AddPod`` confirming an assumed pod, ``ForgetPod``; assumed pods no longer
expire, kubernetes#106361), kubernetes#59848 (a restarted client lists from a
lagging API server) and ``pkg/kubelet/lifecycle/predicate.go``
(``PredicateAdmitHandler.Admit``: ``OutOfcpu``, ``OutOfmemory``, ``OutOfpods``).
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from kspec.checker.explore import Explorer
from kspec.scheduling.filters import allocatable_vector, request_vector
from kspec.simulation.controllers.kubelet import KubeletRejectPod, admission_shortage
from kspec.simulation.controllers.scheduler import SchedulerBind, default_choices, scheduler_view
from kspec.simulation.faults import apply_fault
from kspec.simulation.informer import Event, cached_state, record_events
from kspec.simulation.scenario import load_scenario
from kspec.simulation.state import FAILED, PENDING, RUNNING, UP, PodRec
from support.scenarios import MODELS, explored
from support.stepping import reachable_steps

WEB = f"[{MODELS / 'scheduler-cache' / 'web-rc.yaml'}]"
CHECKS = ("checks:\n  - no-overcommit\n  - expression:\n      name: kubelet-never-rejects\n      kind: always\n"
          "      cel: pods.all(p, p.phase != \"Failed\")\n  - rc-replicas-converge\n")

PINNED = """apiVersion: v1
kind: Pod
metadata: {name: agent, labels: {app: agent}}
spec:
  nodeName: node-0
  containers:
    - {name: agent, image: busybox, resources: {requests: {cpu: 600m, memory: 256Mi}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: nginx, resources: {requests: {cpu: 600m, memory: 256Mi}}}
"""


def scenario(tmp_path, body: str, manifests: str = WEB, nodes: str = "2:cpu=1,memory=2Gi"):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nmanifests: {manifests}\nnodes: ['{nodes}']\nscheduler: least-allocated\n{body}")
    return load_scenario(path, allow_outside=True)


def informed(tmp_path, staleness: int, kinds: str, budget: int = 2, **kw):
    return scenario(tmp_path, f"consistency: {{staleness: {staleness}, controllers: [scheduler]}}\n"
                              f"faults: {{budget: {budget}, kinds: {kinds}}}\n{CHECKS}", **kw)


def verdicts(model, symmetry=True):
    result = Explorer(model, symmetry=symmetry, progress=False).run()
    assert result.complete
    return {p.name: str(p.verdict) for p in result.properties}, result


def assumed(model, state):
    return state.memory[model.world.memory_slots["scheduler"]]


def scheduler_of(model):
    return next(c for c in model.world.controllers if c.actor == "scheduler")


# --------------------------------------------------------------------------- wiring


def test_the_scheduler_reads_the_api_unless_consistency_names_it(tmp_path):
    """The default set of informed controllers is unchanged: every pinned count stays."""
    fresh = scenario(tmp_path, "consistency: {staleness: 1}\n" + CHECKS)
    assert "scheduler" not in fresh.world.memory_slots and "scheduler" not in fresh.world.informer_slots
    named = informed(tmp_path, 1, "{pod-delete: 1}", budget=1)
    assert "scheduler" in named.world.memory_slots and "scheduler" in named.world.informer_slots


def test_partial_order_reduction_stays_off_with_the_scheduler_cache():
    for name in ("scheduler-restart-double-booking", "scheduler-stale-cache-assumed-holds"):
        assert "informer" in load_scenario(MODELS / f"{name}.yaml").undeclared_steps()


# --------------------------------------------------------------------------- assume, confirm, forget


def _first_bind(model):
    """A state right after the scheduler bound a Pending pod while its cache lags, and that bind."""
    k = model.world.informer_slots["scheduler"]
    for state, action, nxt in reachable_steps(model):
        if isinstance(action, SchedulerBind) and nxt.informers[k].lag:
            return state, action, nxt
    raise AssertionError("no bind under a lagging cache")


def test_a_bind_assumes_the_pod_before_any_event_shows_it_bound(tmp_path):
    """schedulingCycle: assume, then bind; the next cycle's snapshot counts
    the pod on its node although the informer cache still has it Pending."""
    model = informed(tmp_path, 1, "{pod-delete: 1}", budget=1)
    _, action, nxt = _first_bind(model)
    assert assumed(model, nxt) == (action.pod,)
    cache = cached_state(model.world, nxt, "scheduler")
    assert cache.pod(action.pod).node < 0  # the watch has not delivered the binding
    view = scheduler_view(model.world, nxt, assumed(model, nxt))
    assert model.world.node_names[view.pod(action.pod).node] == action.node


def test_addpod_confirms_an_assumed_pod_and_a_deletion_forgets_it(tmp_path):
    """cache.go AddPod: an assumed pod seen bound is no longer assumed; a
    pod deleted before its binding was seen is dropped too."""
    model = informed(tmp_path, 1, "{pod-delete: 1}", budget=1)
    _, action, nxt = _first_bind(model)
    scheduler = scheduler_of(model)
    pod = nxt.pod(action.pod)
    unbound = pod._replace(node=-1)
    still = scheduler.observe(model.world, nxt, Event(pod.name, unbound, unbound._replace(unschedulable=False)))
    assert assumed(model, still) == (pod.name,)  # an update that does not show the binding
    assert assumed(model, scheduler.observe(model.world, nxt, Event(pod.name, unbound, pod))) == ()
    assert assumed(model, scheduler.observe(model.world, nxt, Event(pod.name, unbound, None))) == ()
    delivered = [s for a, s in model._step_map(nxt).items() if a.actor == "informer"]
    assert delivered and all(assumed(model, s) == () for s in delivered)


def test_a_binding_the_api_server_refuses_changes_nothing(tmp_path):
    """ForgetPod: a pod the cache still shows Pending but the API has deleted
    gets no bind step (the Binding fails with NotFound and the assume is undone)."""
    model = informed(tmp_path, 1, "{pod-delete: 1}", budget=1)
    state, action, _ = _first_bind(model)
    i = state.index_of(action.pod)
    gone = attrs.evolve(state, pods=state.pods[:i] + state.pods[i + 1:])
    gone = attrs.evolve(gone, informers=tuple(rec._replace(missed=((action.pod, state.pods[i]),))
                                              for rec in gone.informers))
    assert cached_state(model.world, gone, "scheduler").pod(action.pod) is not None
    binds = [a for a in model._step_map(gone) if isinstance(a, SchedulerBind) and a.pod == action.pod]
    assert binds == []


def test_a_restart_loses_the_assumed_pods(tmp_path):
    model = informed(tmp_path, 1, "{pod-delete: 1, controller-restart: 1}")
    _, action, nxt = _first_bind(model)
    restarts = [(a, s) for a, s in apply_fault(model.world, nxt, "controller-restart") if a.controller == "scheduler"]
    assert {a.relisted_behind for a, _ in restarts} == {0, 1}
    assert all(assumed(model, s) == () for _, s in restarts)
    behind = next(s for a, s in restarts if a.relisted_behind == 1)
    assert cached_state(model.world, behind, "scheduler").pod(action.pod).node < 0  # the binding is in the past


# --------------------------------------------------------------------------- the consequences


def test_assumed_pods_keep_a_lagging_cache_from_double_booking():
    """In the holding scenario some state has the informer cache alone showing
    a node free that an assumed pod fills: without the assume the scheduler
    would bind a second pod there."""
    model = load_scenario(MODELS / "scheduler-stale-cache-assumed-holds.yaml")
    scheduler = scheduler_of(model)
    load_bearing = []
    for state, _, _ in reachable_steps(model):
        memory = assumed(model, state)
        if not memory:
            continue
        cache = cached_state(model.world, state, "scheduler")
        queue = [i for i in scheduler.pending(model.world, cache) if cache.pods[i].name not in memory]
        blind = [n for _, nodes, _ in scheduler._plan(model.world, cache, queue) for n in nodes]
        view = scheduler_view(model.world, state, memory)
        seeing = [n for _, nodes, _ in scheduler._plan(model.world, view,
                                                       [i for i in scheduler.pending(model.world, view)
                                                        if view.pods[i].name not in memory]) for n in nodes]
        if blind and not seeing:
            load_bearing.append(state)
    assert load_bearing


def test_the_restart_double_booking_trace():
    """Bind, restart relisting one event behind, bind the other Pending pod to the same node."""
    _, result = explored("scheduler-restart-double-booking")
    trace = result["no-overcommit"].trace
    kinds = [type(a).__name__ for a in trace.actions]
    assert kinds[-3:] == ["SchedulerBind", "ControllerRestart", "SchedulerBind"]
    first, restart, second = trace.actions[-3:]
    assert restart.controller == "scheduler" and restart.relisted_behind == 1
    assert first.node == second.node and first.pod != second.pod
    rejected = result["kubelet-never-rejects"].trace.actions[-1]
    assert isinstance(rejected, KubeletRejectPod) and rejected.reason == "OutOfcpu"


@pytest.mark.parametrize("staleness, kinds", [(0, "{pod-delete: 1, controller-restart: 1}"),
                                              (1, "{pod-delete: 1, relist: 1}")])
def test_no_double_booking_when_a_restart_cannot_go_back_in_time(tmp_path, staleness, kinds):
    """Level caches (staleness 0) relist the present; a relist without a
    restart keeps the assumed pods: either way no node is overcommitted."""
    found, _ = verdicts(informed(tmp_path, staleness, kinds))
    assert found == {"no-overcommit": "holds", "kubelet-never-rejects": "holds", "rc-replicas-converge": "holds"}


def test_a_pinned_pod_the_lagging_cache_has_not_seen_is_double_booked(tmp_path):
    """A binding the scheduler did not make (a pod created with spec.nodeName)
    is invisible to it until the watch delivers it: its cache shows the node
    free and it binds a Pending pod there. Reading the API, it does not."""
    (tmp_path / "pinned.yaml").write_text(PINNED)
    model = scenario(tmp_path, "consistency: {staleness: 1, controllers: [scheduler]}\nchecks: [no-overcommit]\n",
                     "[pinned.yaml]")
    settled = model.init_states()[0]
    assert settled.pod("agent").node == 0 and [p.name for p in settled.pods if p.node < 0]
    k = model.world.informer_slots["scheduler"]
    before = attrs.evolve(settled, pods=tuple(p for p in settled.pods if p.name != "agent"))
    created = record_events(model.world, before, settled)  # the agent's ADDED event, not yet delivered
    assert created.informers[k].lag == 1
    binds = [a for a in model._step_map(created) if isinstance(a, SchedulerBind)]
    assert [a.node for a in binds] == ["node-0"]
    pending = next(i for i, p in enumerate(created.pods) if p.node < 0)
    assert default_choices(model.world, created, pending) == (0,)  # traces score what the scheduler saw
    fresh = scenario(tmp_path, "checks: [no-overcommit]\n", "[pinned.yaml]")
    assert not [a for a in fresh._step_map(fresh.init_states()[0]) if isinstance(a, SchedulerBind)]


# --------------------------------------------------------------------------- symmetry


MIXES = [(1, "{pod-delete: 1, controller-restart: 1}"), (2, "{pod-delete: 1, controller-restart: 1}"),
         (1, "{pod-delete: 1, watch-drop: 1}")]


@pytest.mark.parametrize("staleness, kinds", MIXES)
def test_symmetry_keeps_every_verdict_with_the_scheduler_cache(tmp_path, staleness, kinds):
    """The assumed pods are names in memory: renamed with the pods and part of
    their signature, so the representative keeps every verdict."""
    reduced, with_symmetry = verdicts(informed(tmp_path, staleness, kinds))
    plain, without = verdicts(informed(tmp_path, staleness, kinds), symmetry=False)
    assert reduced == plain
    assert with_symmetry.stats.distinct_states <= without.stats.distinct_states


def test_the_representative_renames_the_assumed_pod_with_the_pod(tmp_path):
    """Whatever the renaming, the assumed name is the bound pod's (memory_marks, rename_memory)."""
    model = informed(tmp_path, 1, "{pod-delete: 1}", budget=1)
    binds = [(action, nxt) for _, action, nxt in reachable_steps(model) if isinstance(action, SchedulerBind)]
    assert binds
    for action, nxt in binds:
        canonical = model.representative(nxt)
        (name,) = assumed(model, canonical)
        pod = canonical.pod(name)
        assert pod is not None and pod.node >= 0
        assert cached_state(model.world, canonical, "scheduler").pod(name).node < 0  # the same pod in the cache


# --------------------------------------------------------------------------- kubelet admission


def _node_state(model, groups_running, candidate_group):
    """The start state with its pods replaced: ``groups_running`` admitted on
    node 0, and a Pending pod of ``candidate_group`` bound there."""
    pods = [PodRec(f"p{k}", g, node=0, phase=RUNNING, ready=True, run=UP) for k, g in enumerate(groups_running)]
    pods.append(PodRec("zz", candidate_group, node=0, phase=PENDING))
    start = model.init_states()[0]
    return attrs.evolve(start, pods=tuple(sorted(pods)))


@settings(max_examples=40, deadline=None)
@given(running=st.integers(0, 3), cpu=st.sampled_from(["500m", "1", "2"]), memory=st.sampled_from(["512Mi", "3Gi"]),
       pods=st.integers(1, 4))
def test_kubelet_admission_is_node_resources_fit_over_admitted_pods(tmp_path_factory, running, cpu, memory, pods):
    """predicate.go Admit: the first shortage among pods, cpu, memory (reason
    ``OutOf<resource>``), over the pods this kubelet already admitted."""
    tmp = tmp_path_factory.mktemp("admit")
    model = scenario(tmp, "checks: [no-overcommit]\nstart: applied\n", nodes=f"1:cpu={cpu},memory={memory},pods={pods}")
    group = model.world.workloads[0].group
    state = _node_state(model, [group] * running, group)
    want = request_vector(model.world.groups[group].pod.spec)
    have = allocatable_vector(model.world.nodes[0])
    expected = None
    if running + 1 > have["pods"]:
        expected = "OutOfpods"
    else:
        for res in ("cpu", "memory"):
            if want[res] * (running + 1) > have[res]:
                expected = f"OutOf{res}"
                break
    assert admission_shortage(model.world, state, state.index_of("zz")) == expected
    rejects = [a for a in model._step_map(state) if isinstance(a, KubeletRejectPod) and a.pod == "zz"]
    assert [a.reason for a in rejects] == ([expected] if expected else [])


@pytest.mark.parametrize("node, running, reason", [
    ("cpu=1,memory=3Gi,pods=4", 1, "OutOfcpu"),       # 2 x 600m > 1000m
    ("cpu=2,memory=512Mi,pods=4", 1, None),           # 2 x 256Mi fit
    ("cpu=2,memory=512Mi,pods=4", 2, "OutOfmemory"),  # a third does not (cpu would: 1800m)
    ("cpu=2,memory=3Gi,pods=1", 1, "OutOfpods"),      # the pod count is checked first
    ("cpu=2,memory=3Gi,pods=4", 2, None),
])
def test_kubelet_admission_reasons_as_predicate_go_names_them(tmp_path, node, running, reason):
    model = scenario(tmp_path, "checks: [no-overcommit]\nstart: applied\n", nodes=f"1:{node}")
    group = model.world.workloads[0].group
    state = _node_state(model, [group] * running, group)
    assert admission_shortage(model.world, state, state.index_of("zz")) == reason


def test_a_failed_or_unstarted_pod_takes_no_room_at_admission(tmp_path):
    """filterOutInactivePods: terminated pods are not counted; a pod bound
    but not yet admitted is not either (whichever starts first wins)."""
    model = scenario(tmp_path, "checks: [no-overcommit]\nstart: applied\n", nodes="1:cpu=1,memory=2Gi")
    group = model.world.workloads[0].group
    state = _node_state(model, [group], group)
    assert admission_shortage(model.world, state, state.index_of("zz")) == "OutOfcpu"
    failed = attrs.evolve(state, pods=tuple(p._replace(phase=FAILED, ready=False, run="-") if p.name == "p0" else p
                                            for p in state.pods))
    assert admission_shortage(model.world, failed, failed.index_of("zz")) is None
    waiting = attrs.evolve(state, pods=tuple(p._replace(phase=PENDING, ready=False, run="-") if p.name == "p0" else p
                                             for p in state.pods))
    assert admission_shortage(model.world, waiting, waiting.index_of("zz")) is None
