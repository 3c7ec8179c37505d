"""What each step of a cluster scenario reads and writes, for partial-order reduction.

The explorer's reduction (:mod:`kspec.checker.reduction`) needs, for a state,
every *family* of steps that is enabled now or may become enabled later, with
the keys the family reads and writes. Here a family is one controller's work
on one object (the kubelet's on one pod group, the endpoints controller's on
one Service, the replication manager's on one workload), so that the
recovery chains of different workloads touch different keys and commute.

Keys (tuples; a property may read a whole class by its first element):

``("A", g)``
    the API core of pod group ``g``'s pods: which exist, their owner, node,
    deletion mark and whether they are terminated (what controllers count and
    the scheduler's view of placements);
``("S", g)``
    the rest of those pods: phase, Ready, containers, PodScheduled=False;
``("C", g)``
    how many pods group ``g`` has (written by creation and final removal);
``("L", n)``
    which groups' pods are bound to node ``n`` and whether each is terminated:
    all the scheduler's view of placements holds (its snapshot of bound pods
    is built from group and node alone), and how the taint manager finds a
    node's pods;
``("N", n)``, ``("E", s)``, ``("R", w)``
    node ``n``'s record, Service ``s``'s ready addresses, workload ``w``'s
    ``spec.replicas``;
``("F",)``, ``("O",)``, ``("M",)``
    faults used, user operations done, controller memory.

Anything not understood makes a family that reads and writes every key (and
whose guard is every key): the kubelet's families are exact, but a user's
controller, a controller or step kind added later, or a ``State`` field this
module does not know turns the reduction off for the scenario or the state
(:meth:`Footprinting.of` returns None). Faults and user operations are such
universal families until their budget is spent; after that they can never act
again, which is what lets the recovery that follows a fault be reduced.

Guards (the keys a family with no enabled step needs written before it can
act) are narrower than the reads where the controller's own test says so:
the scheduler acts only on a Pending unbound pod (``A`` of its group: an
unbound pod is always Pending, only the scheduler writes its
PodScheduled=False), the replication manager only when its count or claims
differ (``A`` of its groups and its replicas), the node lifecycle controller
only on node records, the garbage collector only once an owner is deleted.
"""

from __future__ import annotations

from typing import Any, Sequence

import attrs

from kspec.errors import KspecError
from kspec.checker.model import Footprint, Footprints, Property
from kspec.checker.reduction import is_visible
from kspec.simulation.controllers.daemonset import DaemonSetController, DaemonSetSync
from kspec.simulation.controllers.deployment import DeploymentController, DeploymentSync
from kspec.simulation.controllers.drain import DrainEvict, Drainer
from kspec.simulation.controllers.endpoints import EndpointsController, EndpointsSync
from kspec.simulation.controllers.gc import (GCDeleteDependent, GCDeleteReplicaSet, GarbageCollector, PodGC,
                                             PodGCDeleteTerminated)
from kspec.simulation.controllers.kubelet import (Kubelet, KubeletHeartbeat, KubeletKillOrphans, KubeletKillPod,
                                                  KubeletRejectPod, KubeletRestartContainer, KubeletStartPod,
                                                  KubeletSyncStatus)
from kspec.simulation.controllers.nodelifecycle import (Clock, ClockTick, NodeLifecycle, NodeLifecycleMarkUnknown,
                                                        NodeLifecycleStopEvictions, NodeLifecycleTaint,
                                                        NodeLifecycleUntaint, TaintManager, TaintManagerEvict)
from kspec.simulation.controllers.replication import RCSync, ReplicationControllerLoop
from kspec.simulation.controllers.scheduler import Scheduler, SchedulerBind, SchedulerMarkUnschedulable
from kspec.simulation.controllers.statefulset import StatefulSetController, StatefulSetSync
from kspec.simulation.controllers.user import (UserDeleteWorkload, UserDrain, UserForceDelete, UserOperations,
                                               UserRollout, UserScale)
from kspec.simulation.faults import (ContainerCrash, ControllerRestart, FaultInjector, NodeCrash, NodeHeal,
                                     NodePartition, NodeRestart, PodDelete, PodHang, PodRecover)
from kspec.simulation.state import PENDING, State, World, is_terminal

__all__ = ["Footprinting", "KNOWN_SOURCES", "KNOWN_STATE_FIELDS"]

KNOWN_SOURCES = (DeploymentController, ReplicationControllerLoop, StatefulSetController, DaemonSetController,
                 Drainer, Scheduler, Kubelet, NodeLifecycle, TaintManager, Clock, EndpointsController,
                 GarbageCollector, PodGC, FaultInjector, UserOperations)
"""The step sources whose families this module declares; any other turns the reduction off."""

KNOWN_STATE_FIELDS = ("pods", "nodes", "endpoints", "replicas", "memory", "faults", "ops", "rv", "log", "informers",
                      "etcd_down", "status")
"""The :class:`State` fields the keys cover; a state with others is not reduced. The last four
are covered only while they cannot change (no informer caches, one etcd member, no object
status): :meth:`Footprinting._unknown_reason` turns the reduction off otherwise."""

_FAULT_ACTIONS = (NodeCrash, NodeRestart, NodePartition, NodeHeal, ContainerCrash, PodHang, PodRecover, PodDelete,
                  ControllerRestart)
_USER_ACTIONS = (UserScale, UserDeleteWorkload, UserForceDelete, UserDrain, UserRollout)
_KUBELET_RUN = (KubeletStartPod, KubeletRejectPod, KubeletRestartContainer, KubeletSyncStatus)
_KINDS = {"deployment": ("Deployment",), "daemonset": ("DaemonSet",)}
_LIFECYCLE = (NodeLifecycleMarkUnknown, NodeLifecycleTaint, NodeLifecycleUntaint, NodeLifecycleStopEvictions)


def _a(g: int) -> tuple:
    return ("A", g)


def _s(g: int) -> tuple:
    return ("S", g)


def _c(g: int) -> tuple:
    return ("C", g)


def _n(n: int) -> tuple:
    return ("N", n)


def _l(n: int) -> tuple:
    return ("L", n)


def _pods(groups) -> set:
    """Every key of the pods of ``groups``."""
    return {k for g in groups for k in (_a(g), _s(g), _c(g))}


class Footprinting:
    """The families of one scenario's steps (see the module docstring).

    ``model`` is the scenario's ClusterModel: its ``world``, ``sources``
    (controllers, faults, operations) and ``max_pods`` are read once here.
    """

    def __init__(self, model):
        world: World = model.world
        self.world = world
        self.sources = tuple(model.sources)
        self.unknown = self._unknown_reason(model)
        ngroups, nnodes = len(world.groups), len(world.nodes)
        self.all_groups = range(ngroups)
        self.all_nodes = frozenset(_n(n) for n in range(nnodes))
        self.all_a = frozenset(_a(g) for g in self.all_groups)
        self.all_l = frozenset(_l(n) for n in range(nnodes))
        self.everything = frozenset(
            _pods(self.all_groups) | self.all_nodes | self.all_l | {("E", s) for s in range(len(world.services))}
            | {("R", w) for w in range(len(world.workloads))} | {("F",), ("O",), ("M",)})
        self.universal = Footprint(self.everything, self.everything)
        self.pod_groups = tuple(self._pod_groups(w) for w in range(len(world.workloads)))
        self.colliding = tuple(self._colliding(g) for g in self.all_groups)
        self.scheduled = tuple(g for g in self.all_groups
                               if world.groups[g].pinned_node == -1
                               and world.groups[g].pod.spec.scheduler_name == "default-scheduler")
        self.priority = tuple(world.groups[g].pod.spec.priority or 0 for g in self.all_groups)
        self.present = {type(s) for s in self.sources}
        self.faults = next((s for s in self.sources if isinstance(s, FaultInjector)), None)
        self.operations = next((s for s in self.sources if isinstance(s, UserOperations)), None)
        self.podgc_possible = world.pod_gc_threshold < model.max_pods
        self.static: dict[Any, Footprint] = self._static_families()
        self.memo: dict[tuple, Any] = {}
        self.quiet = {key: Footprint({key}, {key}) for key in (("F",), ("O",))}  # a spent budget: never again
        self.drain_idle = Footprint(self.everything, self.everything, self.all_nodes)  # no node cordoned

    # ------------------------------------------------------------------ set-up

    def _unknown_reason(self, model) -> str:
        unknown = [getattr(s, "actor", type(s).__name__) for s in self.sources
                   if type(s) not in KNOWN_SOURCES and not self._idle(s)]
        if unknown:
            return f"controller {', '.join(unknown)} (dependent on everything)"
        if tuple(a.name for a in attrs.fields(State)) != KNOWN_STATE_FIELDS:
            return "the state has fields the footprints do not cover"
        if self.world.memory_slots:
            return "a controller keeps memory the footprints do not cover"
        if self.world.informed:
            return "informer caches (consistency:) are not covered by the footprints"
        if self.world.etcd_members > 1:
            return "etcd quorum (etcd:) is not covered by the footprints"
        if self.world.status_slots:
            return "object status (HPAs, Jobs, pending deletions) is not covered by the footprints"
        return ""

    def _idle(self, source) -> bool:
        """A built-in controller with nothing in this world to act on (no
        Job, CronJob or HorizontalPodAutoscaler): it never takes a step."""
        world = self.world
        if source.actor in ("job", "ttl-after-finished"):
            return not world.jobs
        if source.actor == "cronjob":
            return not world.cronjobs
        if source.actor == "horizontal-pod-autoscaler":
            return not world.autoscalers
        return False

    def _pod_groups(self, w: int) -> frozenset[int]:
        """The groups whose pods workload ``w`` may own (its selector's, and its template's)."""
        world = self.world
        own = world.workloads[w].group
        groups = {g for g in self.all_groups if world.selects[w][g]}
        if own >= 0:
            groups.add(own)
        return frozenset(groups)

    def _colliding(self, g: int) -> frozenset[int]:
        """Groups whose pod names could equal a name group ``g`` generates (one prefix begins the other)."""
        prefix = self.world.groups[g].prefix
        return frozenset(h for h in self.all_groups
                         if self.world.groups[h].prefix.startswith(prefix) or prefix.startswith(self.world.groups[h].prefix))

    def _pinned(self, groups) -> set:
        """The placements written by creating pods of ``groups`` whose template names a node."""
        return {_l(self.world.groups[g].pinned_node) for g in groups if self.world.groups[g].pinned_node >= 0}

    def _creation_reads(self, g: int) -> set:
        """What choosing a new pod name in group ``g`` reads: pods of groups whose
        names could collide, and the addresses of Services selecting them
        (a stale address keeps its name, :func:`kspec.simulation.state.free_name`)."""
        world = self.world
        reads = {_a(h) for h in self.colliding[g]}
        for s in range(len(world.services)):
            if any(world.service_selects[s][h] for h in self.colliding[g]):
                reads.add(("E", s))
        return reads

    def _static_families(self) -> dict:
        """Families whose footprint does not depend on the state."""
        world, out = self.world, {}
        if EndpointsController in self.present:
            synced = next(c.services for c in self.sources if type(c) is EndpointsController)
            for s, info in enumerate(world.services):
                if info.selector is None or (synced is not None and s not in synced):
                    continue
                groups = [g for g in self.all_groups if world.service_selects[s][g]]
                reads = {k for g in groups for k in (_a(g), _s(g))} | {("E", s)}
                out[("endpoints", s)] = Footprint(reads, {("E", s)})
        if ReplicationControllerLoop in self.present:
            for w in world.replicated:
                groups = self.pod_groups[w]
                reads = _pods(groups) | {("R", w)} | self._creation_reads(world.workloads[w].group)
                guard = {_a(g) for g in groups} | {("R", w)}
                out[("rc", w)] = Footprint(reads, _pods(groups) | self._pinned(groups), guard)
        if StatefulSetController in self.present:
            for w in world.statefulsets:
                g = world.workloads[w].group
                reads = _pods({g}) | {("R", w)} | {_a(h) for h in self.colliding[g]}
                out[("sts", w)] = Footprint(reads, _pods({g}) | self.all_l)  # removes failed pods
        if DaemonSetController in self.present:
            for w in world.daemonsets:
                g = world.workloads[w].group
                reads = _pods({g}) | {("R", w)} | {_a(h) for h in self.colliding[g]} | self.all_nodes
                out[("ds", w)] = Footprint(reads, _pods({g}) | self.all_l)  # removes failed pods
        if NodeLifecycle in self.present:
            pods = {k for g in self.all_groups for k in (_a(g), _s(g))}
            out[("lifecycle",)] = Footprint(self.all_nodes | pods, self.all_nodes | {_s(g) for g in self.all_groups},
                                            self.all_nodes)
        for n in range(len(world.nodes)):
            if Kubelet in self.present:
                out[("kubelet-node", n)] = Footprint({_n(n)}, {_n(n)})
            if Clock in self.present:
                out[("clock", n)] = Footprint({_n(n)}, {_n(n)})
        if PodGC in self.present and self.podgc_possible:
            out[("podgc",)] = Footprint(self.everything, self.everything, self.all_a)
        return out

    # ------------------------------------------------------------------ per state

    def of(self, state: State, actions: Sequence, settling: bool = False) -> Footprints | None:
        """The families of ``state`` and the family of each of its enabled
        steps ``actions`` (the model's action table, in order), or None when a
        step is not understood. ``settling``: the steps are the controllers'
        alone (faults and user operations never act)."""
        if self.unknown:
            return None
        names = []
        for action in actions:
            name = self._family_of(state, action)
            if name is None:
                return None
            names.append(name)
        if len(set(names)) < 2:  # one family: nothing smaller to choose, so the others are not needed
            return Footprints((self.universal,), tuple((i, 0) for i in range(len(names))))
        families = dict(self.static)
        self._state_families(state, families)
        if settling:
            families.pop(("faults",), None)
            families.pop(("user",), None)
        index = {name: i for i, name in enumerate(families)}
        if any(name not in index for name in names):
            return None
        return Footprints(tuple(families.values()), tuple((i, index[name]) for i, name in enumerate(names)))

    def _state_families(self, state: State, out: dict) -> None:
        """The families whose footprints depend on the state, each built once
        per distinct input (``memo``)."""
        world, memo = self.world, self.memo
        nodes_of: dict[int, set[int]] = {}
        for pod in state.pods:
            if pod.node >= 0:
                nodes_of.setdefault(pod.group, set()).add(pod.node)
        if Kubelet in self.present:
            may_fail = self._may_fail(state)
            for g in self.all_groups:
                key = ("kubelet", g, frozenset(nodes_of.get(g, ())), g in may_fail)
                pair = memo.get(key)
                if pair is None:
                    on = {_n(n) for n in key[2]}
                    placed = {_l(n) for n in key[2]}
                    run_writes = {_s(g)} | ({_a(g)} | placed if key[3] else set())
                    pair = memo[key] = (Footprint({_a(g), _s(g)} | on, run_writes),
                                        Footprint({_a(g), _s(g)} | on, _pods({g}) | placed, {_a(g)} | on))
                out[("kubelet-run", g)], out[("kubelet-kill", g)] = pair
        if Scheduler in self.present:
            pending = {p.group for p in state.pods if p.node < 0 and not p.deleting and p.phase == PENDING}
            for g in self.scheduled:
                key = ("scheduler", g, g in pending)
                fp = memo.get(key)
                if fp is None:
                    higher = {_a(h) for h in self.scheduled if self.priority[h] > self.priority[g]}
                    reads = self.all_l | self.all_nodes | {_a(g), _s(g)} | higher
                    fp = memo[key] = Footprint(reads, {_a(g), _s(g)} | self.all_l, None if key[2] else {_a(g)} | higher)
                out[("scheduler", g)] = fp
        if TaintManager in self.present:
            on_node: dict[int, set[int]] = {}
            live_on: dict[int, set[int]] = {}
            for pod in state.pods:
                if pod.node >= 0:
                    on_node.setdefault(pod.node, set()).add(pod.group)
                    if not pod.deleting:
                        live_on.setdefault(pod.node, set()).add(pod.group)
            for n in range(len(world.nodes)):
                quiet = not state.nodes[n].tainted and not world.static_noexecute[n]
                key = ("taint", n, frozenset(on_node.get(n, ())), frozenset(live_on.get(n, ())), quiet)
                fp = memo.get(key)
                if fp is None:
                    reads = {_n(n), _l(n)} | {_a(g) for g in key[2]}
                    fp = memo[key] = Footprint(reads, _pods(key[3]) | {_l(n)}, {_n(n)} if quiet else {_n(n), _l(n)})
                out[("taint", n)] = fp
        if GarbageCollector in self.present:
            for w, workload in enumerate(world.workloads):
                if workload.owns_pods:
                    key = ("gc-pods", w, state.replicas[w] is None)
                    fp = memo.get(key)
                    if fp is None:
                        groups = self.pod_groups[w]
                        fp = memo[key] = Footprint({("R", w)} | {_a(g) for g in groups}, _pods(groups) | self.all_l,
                                                   None if key[2] else {("R", w)})
                    out[("gc-pods", w)] = fp
                if workload.deployment >= 0:
                    d = workload.deployment
                    key = ("gc-rs", w, state.replicas[d] is None)
                    fp = memo.get(key)
                    if fp is None:
                        fp = memo[key] = Footprint({("R", d), ("R", w)}, {("R", w)}, None if key[2] else {("R", d)})
                    out[("gc-rs", w)] = fp
        if DeploymentController in self.present:
            for d in world.deployments:
                out[("deploy", d)] = self._deployment(state, d)
        if self.faults is not None:
            spent = sum(state.faults) >= self.faults.budget.total
            out[("faults",)] = self.quiet[("F",)] if spent else self.universal
        if self.operations is not None:
            done = all(state.ops >> bit & 1 for bit in range(len(self.operations.operations)))
            out[("user",)] = self.quiet[("O",)] if done else self.universal
        if Drainer in self.present:
            cordoned = any(rec.cordoned for rec in state.nodes)
            out[("drain",)] = self.universal if cordoned else self.drain_idle

    def _deployment(self, state: State, d: int) -> Footprint:
        """Deployment ``d``'s sync reads its replicas, its ReplicaSets' and
        their pods (availability); with the current ReplicaSet alone in
        existence the rollout is a matter of replica counts only
        (``rollout_step``: no old ReplicaSet to scale down, no old pod to wait
        for), so pods becoming ready cannot enable it."""
        world = self.world
        sets = world.workloads[d].replica_sets
        new = sets[world.current_revision(state, d)] if sets else -1
        alone = new >= 0 and state.replicas[new] is not None and all(
            state.replicas[rs] is None for rs in sets if rs != new)
        key = ("deploy", d, alone)
        fp = self.memo.get(key)
        if fp is None:
            groups = set().union(*(self.pod_groups[rs] for rs in sets)) if sets else set()
            counts = {("R", d), ("O",)} | {("R", rs) for rs in sets}
            reads = counts | {k for g in groups for k in (_a(g), _s(g))}
            fp = self.memo[key] = Footprint(reads, {("R", rs) for rs in sets}, counts if alone else None)
        return fp

    def _may_fail(self, state: State) -> set[int]:
        """Groups whose kubelet steps may make a pod Failed (an API-core write):
        ``restartPolicy: Never``, or a live pod on a node with a NoExecute
        taint (admission rejects it). Read from the group's pods and their nodes."""
        world = self.world
        out = {g for g in self.all_groups if world.groups[g].restart_policy == "Never"}
        for pod in state.pods:
            n = pod.node
            if n >= 0 and not pod.deleting and (state.nodes[n].tainted or world.static_noexecute[n]):
                out.add(pod.group)
        return out

    def _family_of(self, state: State, action) -> Any:
        """The family an enabled step belongs to, or None when it is not known."""
        world = self.world
        kind = type(action)
        if kind in _KUBELET_RUN or kind is KubeletKillPod:
            pod = state.pod(action.pod)
            return None if pod is None else ("kubelet-kill" if kind is KubeletKillPod else "kubelet-run", pod.group)
        if kind in (KubeletHeartbeat, KubeletKillOrphans):
            return ("kubelet-node", world.node_index[action.node])
        if kind in (SchedulerBind, SchedulerMarkUnschedulable):
            pod = state.pod(action.pod)
            return None if pod is None else ("scheduler", pod.group)
        if kind in _LIFECYCLE:
            return ("lifecycle",)
        if kind is TaintManagerEvict:
            return ("taint", world.node_index[action.node])
        if kind is ClockTick:
            return ("clock", world.node_index[action.node])
        if kind is EndpointsSync:
            return _one("endpoints", [s for s, info in enumerate(world.services) if info.name == action.service])
        if kind is RCSync:
            return _one("rc", [w for w in world.replicated if world.workloads[w].name == action.workload])
        if kind is StatefulSetSync:
            return _one("sts", [w for w in world.statefulsets if world.workloads[w].name == action.statefulset])
        if kind is DaemonSetSync:
            return _one("ds", [w for w in world.daemonsets if world.workloads[w].name == action.daemonset])
        if kind is DeploymentSync:
            return _one("deploy", [d for d in world.deployments if world.workloads[d].name == action.deployment])
        if kind is GCDeleteDependent:
            pod = state.pod(action.pod)
            return None if pod is None or pod.owner < 0 else ("gc-pods", pod.owner)
        if kind is GCDeleteReplicaSet:
            return _one("gc-rs", [w for w, wl in enumerate(world.workloads) if wl.ref == action.replica_set])
        if kind is PodGCDeleteTerminated:
            return ("podgc",)
        if kind in _FAULT_ACTIONS:
            return ("faults",)
        if kind in _USER_ACTIONS:
            return ("user",)
        if kind is DrainEvict:
            return ("drain",)
        return None

    # ------------------------------------------------------------------ visibility

    def visible(self, props: Sequence[Property], defined: Sequence[Property],
                checks: Sequence[tuple[str, dict, int]]) -> frozenset | None:
        """The keys the properties ``props`` and ``within_boundary`` read, or
        None when one of them may read anything (or together they read every key). ``defined`` is every property
        of the scenario, in the order of its ``checks`` (library name,
        parameters, line)."""
        keys: set = {("C",)}  # within_boundary counts pods
        for prop in props:
            position = next((i for i, p in enumerate(defined) if p is prop), None)
            if position is None:
                return None
            name, params, _ = checks[position]
            reads = self._check_reads(name, params)
            if reads is None:
                return None
            keys |= reads
        visible = frozenset(keys)
        if all(is_visible(frozenset({key}), visible) for key in self.everything):
            return None  # every step may change what a check reads: nothing to reduce
        return visible

    def _check_reads(self, name: str, params: dict) -> set | None:
        """What a library check reads: the pods of the workloads or Services it
        names (every group when it names none), their Services' addresses,
        replicas, nodes, faults and operations. A CEL expression may read
        anything (None)."""
        world = self.world
        if name == "expression":
            return None
        targets = {k: v for k, v in params.items() if k not in ("as", "count")}
        groups: set[int] = set()
        services: set[int] = set()
        try:
            for key, value in targets.items():
                if key in ("workload", "deployment", "daemonset"):
                    w = world.workload_named(value, *_KINDS.get(key, ()))
                    for v in (world.workloads[w].replica_sets or (w,)):
                        groups |= self.pod_groups[v]
                elif key == "workloads":
                    for item in value:
                        w = world.workload_named(item)
                        for v in (world.workloads[w].replica_sets or (w,)):
                            groups |= self.pod_groups[v]
                elif key == "service":
                    s = world.service_named(value)
                    services.add(s)
                    groups |= {g for g in self.all_groups if world.service_selects[s][g]}
                else:
                    return None
        except KspecError:  # a name the world resolves differently: read everything
            return None
        if not targets:
            groups = set(self.all_groups)
            services = set(range(len(world.services)))
        return (_pods(groups) | {("E", s) for s in services}
                | {("N",), ("R",), ("F",), ("O",), ("M",)})


def _one(kind: str, matches: list[int]) -> tuple | None:
    """``(kind, index)`` for the one object named, None when the name is ambiguous."""
    return (kind, matches[0]) if len(matches) == 1 else None
