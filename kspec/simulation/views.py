"""A cluster state in words: pods per node, in the API view and the physical view.

The **API view** is what etcd holds (each pod on its ``spec.nodeName`` with its
phase, ``Ready``, ``Terminating``; each node's ``Ready`` condition and
unreachable taint); the **physical view** is what machines run (the containers'
state, whether a machine is up and reachable). Many real bugs live in the gap
between the two, so traces show them side by side.

:func:`lanes` computes both views once; :func:`describe_state` puts them in one
line per node (the scenario model's trace text), and the report draws them as
swim lanes. :func:`describe_changes` says what changed between two states
(``pod web-1 created``, ``web-1: status.phase Pending -> Running``).
"""

from __future__ import annotations

from typing import NamedTuple

from kspec.simulation.state import NOT_RUNNING, UP, State, World

UNSCHEDULED = "unscheduled"


class Lane(NamedTuple):
    """One node (or the unscheduled lane) in one view: ``pods`` are ``(name, status)`` pairs."""

    node: str
    status: str
    pods: tuple[tuple[str, str], ...]


def node_names(state: State, world: World | None) -> list[str]:
    if world is not None:
        return list(world.node_names)
    return [f"node-{i}" for i in range(len(state.nodes))]


def api_pod_status(pod) -> str:
    if pod.deleting:
        return "Terminating"
    if pod.phase == "Running":
        return "Running, Ready" if pod.ready else "Running, not ready"
    if pod.phase == "Pending" and pod.unschedulable:
        return "Pending, unschedulable"
    return pod.phase


def api_node_status(rec) -> str:
    status = "Ready" if rec.ready == "True" else f"Ready={rec.ready}"
    if rec.tainted:
        status += ", unreachable:NoExecute"
    return status


def physical_node_status(rec) -> str:
    if not rec.up:
        return "down"
    if not rec.reachable:
        return "up, partitioned"
    return "up"


def lanes(state: State, world: World | None) -> tuple[tuple[Lane, ...], tuple[Lane, ...]]:
    """The API view (one lane per node, then the unscheduled lane) and the physical view."""
    names = node_names(state, world)
    api: list[list[tuple[str, str]]] = [[] for _ in names]
    physical: list[list[tuple[str, str]]] = [[] for _ in names]
    unscheduled: list[tuple[str, str]] = []
    for pod in state.pods:
        mark = (pod.name, api_pod_status(pod))
        if 0 <= pod.node < len(names):
            api[pod.node].append(mark)
            if pod.run != NOT_RUNNING:
                physical[pod.node].append((pod.name, "running" if pod.run == UP else pod.run))
        else:
            unscheduled.append(mark)
    api_lanes = tuple(Lane(n, api_node_status(rec), tuple(p)) for n, rec, p in zip(names, state.nodes, api))
    api_lanes += (Lane(UNSCHEDULED, "", tuple(unscheduled)),)
    phys_lanes = tuple(Lane(n, physical_node_status(rec), tuple(p)) for n, rec, p in zip(names, state.nodes, physical))
    return api_lanes, phys_lanes


def describe_state(state: State, world: World | None) -> tuple[str, ...]:
    """A cluster state in words, one line per node (API view | physical view)."""
    api_lanes, phys_lanes = lanes(state, world)
    lines = []
    for api, physical in zip(api_lanes, phys_lanes):
        pods = ", ".join(f"{name} ({status})" for name, status in api.pods) or "no pods"
        running = ", ".join(name for name, _ in physical.pods) or "nothing"
        lines.append(f"{api.node}: {api.status}; {pods} | machine {physical.status}, running {running}")
    for lane in api_lanes[len(phys_lanes):]:
        if lane.pods:
            lines.append(f"not scheduled: {', '.join(f'{name} ({status})' for name, status in lane.pods)}")
    return tuple(lines)


_FIELD_LABELS = {"node": "spec.nodeName", "run": "containers (physical)", "deleting": "terminating",
                 "phase": "status.phase", "owner": "controller ownerReference"}


def describe_changes(before: State, after: State, world: World | None) -> tuple[str, ...]:
    """What changed between two cluster states, in words."""
    names = node_names(after, world)
    out: list[str] = []
    old = {p.name: p for p in before.pods}
    new = {p.name: p for p in after.pods}
    for name, pod in new.items():
        if name not in old:
            out.append(f"pod {name} created ({api_pod_status(pod)})")
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
                out.append(f"{name}: {_FIELD_LABELS.get(field, field)} {a} -> {b}")
    out.extend(_node_changes(before, after, names))
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


def _node_changes(before: State, after: State, names: list[str]) -> list[str]:
    out = []
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
    return out
