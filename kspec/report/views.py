"""Seeing a model's state as swim lanes: pods per node, in the API view and the physical view.

A counterexample's timeline needs, for each state of the trace, which pods sit
on which node. Models say it in one of three ways, tried in order:

1. the model defines ``report_frame(state) -> kspec.report.model.Frame``
   (any model can opt in; lanes are nodes, plus an ``unscheduled`` lane);
2. the state is a :class:`kspec.simulation.state.State` (the controllers' cluster state)
   and the model exposes its :class:`~kspec.simulation.state.World` as ``model.world``:
   the **API view** is what etcd holds (each pod on its ``spec.nodeName`` with
   its phase, ``Ready``, ``Terminating``; each node's ``Ready`` condition and
   unreachable taint) and the **physical view** is what machines run (the
   containers' state, whether a machine is up and reachable). Many real bugs
   live in the gap between the two, so they are drawn side by side;
3. the state has ``status``, ``node`` and ``up`` tuples, as the reference
   model ``models/reference/rc_converge.py`` (pod slots on nodes 1..N): one
   view only.

Otherwise there is no picture, and the trace table alone tells the story.

:func:`describe_changes` says what changed between two states in words
(``pod web-1 created``, ``web-1: phase Pending -> Running``) for
:class:`~kspec.simulation.state.State`; other states use the trace's field-by-field changes.
"""

from __future__ import annotations

from typing import Any

from kspec.report.model import Frame, Lane, PodMark

UNSCHEDULED = "unscheduled"


def _kspec_state():
    try:
        from kspec.simulation import state as module
    except Exception:  # the controllers' state module is optional for reports
        return None
    return module


def _world(model):
    world = getattr(model, "world", None)
    if world is not None and hasattr(world, "node_names"):
        return world
    return None


def frame_of(state: Any, model: Any = None) -> Frame | None:
    """The swim-lane frame of ``state``, or None when the model gives no lanes."""
    hook = getattr(model, "report_frame", None)
    if callable(hook):
        return hook(state)
    module = _kspec_state()
    if module is not None and isinstance(state, module.State):
        return _cluster_frame(state, _world(model), module)
    if all(hasattr(state, f) for f in ("status", "node", "up")):
        return _slots_frame(state)
    return None


# --------------------------------------------------------------------------- kspec.simulation.state.State


def _node_names(state, world) -> list[str]:
    if world is not None:
        return list(world.node_names)
    return [f"node-{i}" for i in range(len(state.nodes))]


def _api_pod_status(pod) -> str:
    if pod.deleting:
        return "Terminating"
    if pod.phase == "Running":
        return "Running, Ready" if pod.ready else "Running, not ready"
    if pod.phase == "Pending" and pod.unschedulable:
        return "Pending, unschedulable"
    return pod.phase


def _api_node_status(rec) -> str:
    status = "Ready" if rec.ready == "True" else f"Ready={rec.ready}"
    if rec.tainted:
        status += ", unreachable:NoExecute"
    return status


def _physical_node_status(rec) -> str:
    if not rec.up:
        return "down"
    if not rec.reachable:
        return "up, partitioned"
    return "up"


def _cluster_frame(state, world, module) -> Frame:
    names = _node_names(state, world)
    api: list[list[PodMark]] = [[] for _ in names]
    physical: list[list[PodMark]] = [[] for _ in names]
    unscheduled: list[PodMark] = []
    for pod in state.pods:
        mark = PodMark(pod.name, _api_pod_status(pod))
        if 0 <= pod.node < len(names):
            api[pod.node].append(mark)
            if pod.run != module.NOT_RUNNING:
                physical[pod.node].append(PodMark(pod.name, "running" if pod.run == module.UP else pod.run))
        else:
            unscheduled.append(mark)
    api_lanes = tuple(Lane(n, _api_node_status(rec), tuple(p)) for n, rec, p in zip(names, state.nodes, api))
    api_lanes += (Lane(UNSCHEDULED, "", tuple(unscheduled)),)
    phys_lanes = tuple(Lane(n, _physical_node_status(rec), tuple(p))
                       for n, rec, p in zip(names, state.nodes, physical))
    return Frame(api_lanes, phys_lanes)


def describe_state(state: Any, model: Any = None) -> tuple[str, ...] | None:
    """A cluster state in words, one line per node (API view | physical view); None for other states."""
    frame = frame_of(state, model)
    if frame is None:
        return None
    lines = []
    for api, physical in zip(frame.api, frame.physical):
        pods = ", ".join(f"{p.name} ({p.status})" for p in api.pods) or "no pods"
        running = ", ".join(p.name for p in physical.pods) or "nothing"
        lines.append(f"{api.node}: {api.status}; {pods} | machine {physical.status}, running {running}")
    for lane in frame.api[len(frame.physical):]:
        if lane.pods:
            lines.append(f"not scheduled: {', '.join(f'{p.name} ({p.status})' for p in lane.pods)}")
    return tuple(lines)


def describe_changes(before: Any, after: Any, model: Any = None) -> tuple[str, ...] | None:
    """What changed, in words, for cluster states; None for other states."""
    module = _kspec_state()
    if module is None or not isinstance(before, module.State) or not isinstance(after, module.State):
        return None
    world = _world(model)
    names = _node_names(after, world)
    out: list[str] = []
    old = {p.name: p for p in before.pods}
    new = {p.name: p for p in after.pods}
    for name, pod in new.items():
        if name not in old:
            out.append(f"pod {name} created ({_api_pod_status(pod)})")
    for name, pod in old.items():
        if name not in new:
            out.append(f"pod {name} removed from the API")
            continue
        now = new[name]
        if pod == now:
            continue
        for field in ("node", "phase", "ready", "deleting", "unschedulable", "owner", "run"):
            a, b = getattr(pod, field), getattr(now, field)
            if a != b:
                if field == "node":
                    a = names[a] if 0 <= a < len(names) else "(none)"
                    b = names[b] if 0 <= b < len(names) else "(none)"
                if field == "owner" and world is not None:
                    a = world.workloads[a].ref if a >= 0 else "(none)"
                    b = world.workloads[b].ref if b >= 0 else "(none)"
                label = {"node": "spec.nodeName", "run": "containers (physical)", "deleting": "terminating",
                         "phase": "status.phase", "owner": "controller ownerReference"}.get(field, field)
                out.append(f"{name}: {label} {a} -> {b}")
    for i, (a, b) in enumerate(zip(before.nodes, after.nodes)):
        node = names[i] if i < len(names) else f"node-{i}"
        if a.up != b.up:
            out.append(f"node {node}: machine {'up' if b.up else 'down'}")
        if a.reachable != b.reachable:
            out.append(f"node {node}: {'reaches the API again' if b.reachable else 'cut off from the API'}")
        if a.ready != b.ready:
            out.append(f"node {node}: Ready {a.ready} -> {b.ready}")
        if a.tainted != b.tainted:
            out.append(f"node {node}: unreachable:NoExecute taint {'added' if b.tainted else 'removed'}")
        if a.timer != b.timer:
            out.append(f"node {node}: eviction timer {a.timer} -> {b.timer}")
        if a.orphans != b.orphans:
            out.append(f"node {node}: orphaned containers (pod objects gone) {len(a.orphans)} -> {len(b.orphans)}")
        if a.cordoned != b.cordoned:
            out.append(f"node {node}: {'cordoned (spec.unschedulable)' if b.cordoned else 'uncordoned'}")
    services = getattr(world, "services", None) if world is not None else None
    for i, (a, b) in enumerate(zip(before.endpoints, after.endpoints)):
        if a != b:
            svc = services[i].name if services and i < len(services) else f"service-{i}"
            out.append(f"endpoints {svc}: [{', '.join(a)}] -> [{', '.join(b)}]")
    workloads = getattr(world, "workloads", None) if world is not None else None
    for i, (a, b) in enumerate(zip(before.replicas, after.replicas)):
        if a != b:
            ref = workloads[i].ref if workloads and i < len(workloads) else f"workload-{i}"
            if a is None:
                out.append(f"{ref} created with spec.replicas {b}")
            elif b is None:
                out.append(f"{ref} deleted")
            else:
                out.append(f"{ref}: spec.replicas {a} -> {b}")
    if before.faults != after.faults:
        out.append(f"faults used: {before.faults_used} -> {after.faults_used}")
    if before.ops != after.ops:
        out.append(f"user operations done: {bin(before.ops).count('1')} -> {bin(after.ops).count('1')}")
    if before.memory != after.memory:
        out.append("controller memory changed")
    return tuple(out)


# --------------------------------------------------------------------------- slot models (rc_converge)


def _slots_frame(state) -> Frame:
    nodes = [f"node-{i + 1}" for i in range(len(state.up))]
    lanes: list[list[PodMark]] = [[] for _ in nodes]
    unscheduled: list[PodMark] = []
    for slot, (status, node) in enumerate(zip(state.status, state.node)):
        if status == "Absent":
            continue
        mark = PodMark(f"pod-{slot}", str(status))
        if isinstance(node, int) and 1 <= node <= len(nodes):
            lanes[node - 1].append(mark)
        else:
            unscheduled.append(mark)
    api = tuple(Lane(n, "up" if up else "down", tuple(p)) for n, up, p in zip(nodes, state.up, lanes))
    return Frame(api + (Lane(UNSCHEDULED, "", tuple(unscheduled)),))
