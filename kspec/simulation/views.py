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

from kspec.simulation.informer import describe_cache
from kspec.simulation.controllers.scheduler import default_choices
from kspec.simulation.controllers.deployment import GENERATIONS, generation
from kspec.simulation.state import DELETIONS, NOT_RUNNING, RELEASED, UP, State, World, is_terminal, update_pod

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


ORPHANED = "orphaned, running"
ENDPOINT = "ready endpoint"


def lanes(state: State, world: World | None) -> tuple[tuple[Lane, ...], tuple[Lane, ...], tuple[Lane, ...]]:
    """The API view (one lane per node, then the unscheduled lane), the physical view
    (containers of force-deleted pods still running show as orphans of their workload)
    and the Services view (one lane per Service, its ready endpoints as items)."""
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
    for node, rec in enumerate(state.nodes):
        if rec.up and node < len(names):
            physical[node] += [(f"{orphan_name(world, group)} (orphan)", ORPHANED) for group in rec.orphans]
    phys_lanes = tuple(Lane(n, physical_node_status(rec), tuple(p)) for n, rec, p in zip(names, state.nodes, physical))
    return api_lanes, phys_lanes, service_lanes(state, world)


def orphan_name(world: World | None, group: int) -> str:
    """What an orphaned container is called: its pod template's name prefix (the pod object is gone)."""
    if world is None:
        return f"group-{group}"
    return world.groups[group].prefix.rstrip("-") or f"group-{group}"


def service_lanes(state: State, world: World | None) -> tuple[Lane, ...]:
    """One lane per Service: how many ready endpoints it lists, and which pods."""
    out = []
    for i, addresses in enumerate(state.endpoints):
        name = world.services[i].name if world is not None else f"service-{i}"
        count = len(addresses)
        out.append(Lane(f"Service {name}", f"{count} ready endpoint{'' if count == 1 else 's'}",
                        tuple((pod, ENDPOINT) for pod in addresses)))
    return tuple(out)


def describe_state(state: State, world: World | None) -> tuple[str, ...]:
    """A cluster state in words, one line per node (API view | physical view)."""
    api_lanes, phys_lanes, _ = lanes(state, world)
    lines = []
    for api, physical in zip(api_lanes, phys_lanes):
        pods = ", ".join(f"{name} ({status})" for name, status in api.pods) or "no pods"
        running = ", ".join(name for name, _ in physical.pods) or "nothing"
        lines.append(f"{api.node}: {api.status}; {pods} | machine {physical.status}, running {running}")
    for lane in api_lanes[len(phys_lanes):]:
        if lane.pods:
            lines.append(f"not scheduled: {', '.join(f'{name} ({status})' for name, status in lane.pods)}")
    if world is not None:
        lines += placement_notes(world, state)
    return tuple(lines)


def placement_notes(world: World, state: State) -> list[str]:
    """Pods of a state whose node the default scoring would not give them: taken off
    their node with every other pod in place, LeastAllocated ranks other nodes higher.
    A settled initial state under ``scheduler: all`` may hold such placements."""
    out = []
    for i, pod in enumerate(state.pods):
        group = world.groups[pod.group]
        if pod.node < 0 or pod.deleting or is_terminal(pod) or group.daemon or group.pinned_node != -1:
            continue
        best = default_choices(world, update_pod(state, i, node=-1), i)
        if best and pod.node not in best:
            prefers = ", ".join(world.node_names[n] for n in best)
            out.append(f"{pod.name} on {world.node_names[pod.node]} (it prefers {prefers})")
    if not out:
        return []
    return [f"placement not the default scoring's choice (NodeResourcesFit LeastAllocated): {'; '.join(out)}; "
            "a violation that needs it depends on a placement the default scheduler would not make"]


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
        if world is not None and pod.group != now.group:
            was, then = world.groups[pod.group].finalizers, world.groups[now.group].finalizers
            if was != then:
                out.append(f"{name}: metadata.finalizers [{', '.join(was)}] -> [{', '.join(then)}]")
        if pod.node < 0 <= now.node and world is not None:
            out.extend(scoring_note(world, before, name, now.node))
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
        out.extend(_memory_changes(before, after, world))
    if world is not None and (before.status != after.status or before.ops != after.ops):
        out.extend(_object_changes(before, after, world))
    if before.informers != after.informers or before.log != after.log:
        informed = getattr(world, "informed", ()) if world is not None else ()
        for k in range(len(after.informers)):
            was, now = describe_cache(before, k), describe_cache(after, k)
            if was != now:
                who = informed[k].actor if k < len(informed) else f"informer-{k}"
                out.append(f"{who} cache: {now}")
    if before.etcd_down != after.etcd_down:
        members = getattr(world, "etcd_members", 1)
        quorum = "quorum" if members - after.etcd_down > members // 2 else "NO quorum: writes fail"
        out.append(f"etcd: {members - after.etcd_down} of {members} members up ({quorum})")
    return tuple(out)


def scoring_note(world: World, before: State, pod: str, node: int) -> list[str]:
    """A bind the default scoring would not make (possible under ``scheduler: all``,
    which explores every feasible node), said at the bind step."""
    index = next(i for i, p in enumerate(before.pods) if p.name == pod)
    best = default_choices(world, before, index)
    if not best or node in best:
        return []
    names = ", ".join(world.node_names[n] for n in best)
    return [f"{pod} -> {world.node_names[node]} is not the default scoring's choice (NodeResourcesFit "
            f"LeastAllocated prefers {names}): a violation after this step depends on a placement "
            "the default scheduler would not make"]


_FINALIZER_OF = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}


def _object_changes(before: State, after: State, world: World) -> list[str]:
    """Workload metadata the state keeps beside ``spec.replicas``: a pending
    deletion's finalizer, an orphaned ReplicaSet, the generations of a workload whose spec changes."""
    slots = getattr(world, "status_slots", {})
    out = []
    for w, workload in enumerate(world.workloads):
        if DELETIONS in slots:
            was, now = before.status[slots[DELETIONS]][w], after.status[slots[DELETIONS]][w]
            if was != now:
                out.append(f"{workload.ref}: deletionTimestamp set, finalizer {_FINALIZER_OF[now]}" if now
                           else f"{workload.ref}: finalizer {_FINALIZER_OF[was]} removed")
        if RELEASED in slots and before.status[slots[RELEASED]][w] != after.status[slots[RELEASED]][w]:
            out.append(f"{workload.ref}: controller ownerReference removed (orphaned)")
        if GENERATIONS in slots and w in world.spec_bits:
            for field, count in (("metadata.generation", lambda s: generation(world, s, w)),
                                 ("status.observedGeneration",
                                  lambda s: 1 + bin(s.status[slots[GENERATIONS]][w]).count("1"))):
                if count(before) != count(after):
                    out.append(f"{workload.ref}: {field} {count(before)} -> {count(after)}")
    return out


def _memory_changes(before: State, after: State, world: World | None) -> list[str]:
    """Each controller's memory that changed, as it now reads."""
    slots = getattr(world, "memory_slots", {}) if world is not None else {}
    out = []
    for actor, slot in slots.items():
        if slot < len(after.memory) and before.memory[slot] != after.memory[slot]:
            out.append(f"{actor} memory: {_memory_text(after.memory[slot], world, actor)}")
    return out or ["controller memory changed"]


def _memory_text(memory, world, actor: str) -> str:
    """The replication manager's expectations per workload; other memory as it prints."""
    if actor == "replication" and isinstance(memory, tuple) and world is not None:
        parts = [f"{world.workloads[w].ref} {e!r}" for w, e in zip(world.replicated, memory) if e is not None]
        return "; ".join(parts) or "no expectations"
    return repr(memory)


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
