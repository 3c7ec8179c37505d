"""The kubelet on every node: run what the API binds here, report what really runs.

Upstream: ``pkg/kubelet`` (``syncPod``, the status manager, the pod workers and
``lifecycle.PredicateAdmitHandler``). A kubelet acts only when its machine is
up; everything that needs the API server (seeing new bindings and deletions,
posting status and heartbeats) also needs the node to reach it, so a
partitioned kubelet keeps running what it had and restarts crashed containers
locally, but learns of nothing.

Steps (one pod or node each):

``KubeletStartPod``
    a pod bound here, not being deleted, with no containers running: admit it
    and start its containers, then post phase Running and Ready (the readiness
    probe passes on a healthy start). After a node reboot a pod that was
    Running has lost its containers: ``restartPolicy: Never`` makes it Failed,
    the other policies start it again. Admission (``PredicateAdmitHandler``,
    ``pkg/kubelet/lifecycle/predicate.go``) rejects, with phase Failed, a pod
    that does not fit beside the pods this kubelet has already admitted (reason
    ``OutOfpods``, ``OutOfcpu``, ``OutOfmemory``, ...: the first shortage, in
    NodeResourcesFit's order; a scheduler whose cache missed a binding can put
    one there) or that does not tolerate one of the node's NoExecute taints
    (reason Taint).
``KubeletRestartContainer``
    a crashed container is restarted per ``restartPolicy`` (Always and
    OnFailure; crashes are non-zero exits); a hung container is killed when
    the pod has a liveness probe. Local: needs no API access.
``KubeletSyncStatus``
    post the pod's real state: crashed means not Ready (``Never``: Failed);
    hung means not Ready only if a readiness probe can notice.
``KubeletKillPod``
    a pod whose API object is being deleted: stop its containers and remove
    the object (the status manager's final delete with grace period 0). A Job's
    pod still carrying the job controller's tracking finalizer is not removed:
    the kubelet posts its terminal phase (Failed, unless it had Succeeded) and
    the object waits for the job controller. So does a pod with any other
    finalizer (``metadata.finalizers``): the kubelet's final delete leaves it
    Terminating until whoever owns the finalizer removes it.
``KubeletPodSucceeded``
    a Job's pod whose containers finished their work: they exit 0 and the
    kubelet posts phase Succeeded (``restartPolicy`` Never and OnFailure alike).
    The kubelet is fair, so a Job's running pod eventually completes unless a
    fault strikes first: the work itself is taken to terminate.
``KubeletHeartbeat``
    post node status with Ready=True after the node was marked Unknown.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.scheduling.filters import REASON_TOO_MANY_PODS, Snapshot, node_resources_fit
from kspec.simulation.state import (
    CRASHED, FAILED, HUNG, NOT_RUNNING, PENDING, READY, RUNNING, SUCCEEDED, TERMINAL_PHASES, UP,
    State, World, remove_pod, update_node, update_pod,
)

__all__ = ["KubeletStartPod", "KubeletRejectPod", "KubeletRestartContainer", "KubeletSyncStatus",
           "KubeletKillPod", "KubeletKillOrphans", "KubeletPodSucceeded", "KubeletHeartbeat", "Kubelet",
           "reported_status", "admission_shortage"]


@attrs.frozen
class KubeletStartPod(Action):
    actor: ClassVar[str] = "kubelet"
    pod: str
    node: str


@attrs.frozen
class KubeletRejectPod(Action):
    actor: ClassVar[str] = "kubelet"
    pod: str
    node: str
    reason: str


@attrs.frozen
class KubeletRestartContainer(Action):
    actor: ClassVar[str] = "kubelet"
    pod: str
    reason: str


@attrs.frozen
class KubeletSyncStatus(Action):
    actor: ClassVar[str] = "kubelet"
    pod: str
    phase: str
    ready: bool


@attrs.frozen
class KubeletKillPod(Action):
    actor: ClassVar[str] = "kubelet"
    pod: str
    node: str


@attrs.frozen
class KubeletPodSucceeded(Action):
    actor: ClassVar[str] = "kubelet"
    pod: str
    node: str


@attrs.frozen
class KubeletKillOrphans(Action):
    """The kubelet found running containers whose pod objects no longer exist
    (``HandlePodCleanups``) and killed them."""

    actor: ClassVar[str] = "kubelet"
    node: str
    containers: int


@attrs.frozen
class KubeletHeartbeat(Action):
    actor: ClassVar[str] = "kubelet"
    node: str


def reported_status(world: World, pod) -> tuple[str, bool] | None:
    """(phase, ready) the kubelet would post for the containers' real state,
    or None when there is nothing to report (no containers)."""
    if pod.run == UP:
        return RUNNING, True
    if pod.run == HUNG:
        return RUNNING, not world.groups[pod.group].readiness_probe
    if pod.run == CRASHED:
        if world.groups[pod.group].restart_policy == "Never":
            return FAILED, False
        return RUNNING, False
    return None


def untolerated_noexecute(world: World, state: State, pod, node: int):
    """The first NoExecute taint on the node (manifest or node controller) the pod does not tolerate."""
    tolerations = world.groups[pod.group].pod.spec.tolerations
    taints = world.node_object(node, state.nodes[node]).spec.taints
    for taint in taints:
        if taint.effect == "NoExecute" and not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def _admitted(pod) -> bool:
    """A pod this node's kubelet has admitted and not yet seen terminate
    (``filterOutInactivePods``): its containers run, or it was started (phase
    Running) and waits to be started again after a reboot."""
    return pod.phase not in TERMINAL_PHASES and (pod.run != NOT_RUNNING or pod.phase == RUNNING)


def admission_shortage(world: World, state: State, index: int) -> str | None:
    """The kubelet's resource admission of pod ``index`` on its node
    (``PredicateAdmitHandler.Admit``: NodeResourcesFit over the pods it has
    already admitted there): the rejection reason, ``OutOf<resource>`` for the
    first shortage, or None when the pod fits."""
    pod = state.pods[index]
    n = pod.node
    others = tuple(sorted(p.group for i, p in enumerate(state.pods) if i != index and p.node == n and _admitted(p)))
    key = (pod.group, n, others)
    cache = world.__dict__.setdefault("_admission_cache", {})
    if key not in cache:
        node = world.nodes[n]
        peers = [world.pod_object(g, f"{world.groups[g].prefix}~{k}", n) for k, g in enumerate(others)]
        result = node_resources_fit(world.pod_object(pod.group, pod.name, n), node, Snapshot([node], peers))
        reason = None
        if not result.fits:
            first = result.reasons[0]
            reason = "OutOfpods" if first == REASON_TOO_MANY_PODS else "OutOf" + first.removeprefix("Insufficient ")
        if len(cache) > 100_000:
            cache.clear()
        cache[key] = reason
    return cache[key]


class Kubelet:
    """Every node's kubelet (one actor: fairness is per controller type, which
    keeps node symmetry; see the module docstring)."""

    actor = "kubelet"
    fair = True

    def steps(self, world: World, state: State):
        nodes = state.nodes
        for i, pod in enumerate(state.pods):
            n = pod.node
            if n < 0 or not nodes[n].up:
                continue
            if pod.run == UP and pod.ready and pod.phase == RUNNING and not pod.deleting:
                if world.groups[pod.group].runs_to_completion and nodes[n].reachable:
                    yield (KubeletPodSucceeded(pod.name, world.node_names[n]),
                           update_pod(state, i, phase=SUCCEEDED, ready=False, run=NOT_RUNNING))
                continue  # running as reported: nothing to start, restart, report or kill
            node_name = world.node_names[n]
            online = nodes[n].reachable
            group = world.groups[pod.group]
            if online and pod.deleting and (group.finalizer or group.finalizers):  # the object stays for its finalizers
                if pod.run != NOT_RUNNING or pod.phase not in TERMINAL_PHASES:
                    phase = SUCCEEDED if pod.phase == SUCCEEDED else FAILED
                    yield (KubeletKillPod(pod.name, node_name),
                           update_pod(state, i, phase=phase, ready=False, run=NOT_RUNNING))
                continue
            if online and pod.deleting:
                nxt = remove_pod(state, i) if pod.run == NOT_RUNNING else remove_pod(update_pod(state, i, run=NOT_RUNNING), i)
                yield KubeletKillPod(pod.name, node_name), nxt
                continue
            if pod.deleting:
                if pod.run == CRASHED and group.restart_policy != "Never":
                    yield KubeletRestartContainer(pod.name, "CrashLoopBackOff"), update_pod(state, i, run=UP)
                continue
            if pod.run == NOT_RUNNING:
                if not online or pod.phase not in (PENDING, RUNNING):
                    continue
                shortage = admission_shortage(world, state, i)
                taint = untolerated_noexecute(world, state, pod, n) if shortage is None else None
                if shortage is not None:
                    yield KubeletRejectPod(pod.name, node_name, shortage), update_pod(state, i, phase=FAILED, ready=False)
                elif taint is not None:
                    yield (KubeletRejectPod(pod.name, node_name, f"Taint {taint}"),
                           update_pod(state, i, phase=FAILED, ready=False))
                elif pod.phase == RUNNING and group.restart_policy == "Never":
                    yield (KubeletRejectPod(pod.name, node_name, "containers lost in node restart"),
                           update_pod(state, i, phase=FAILED, ready=False))
                else:
                    yield KubeletStartPod(pod.name, node_name), update_pod(state, i, run=UP, phase=RUNNING, ready=True)
                continue
            if pod.run == CRASHED and group.restart_policy != "Never":
                yield KubeletRestartContainer(pod.name, "CrashLoopBackOff"), update_pod(state, i, run=UP)
            elif pod.run == HUNG and group.liveness_probe:
                yield KubeletRestartContainer(pod.name, "liveness probe failed"), update_pod(state, i, run=CRASHED)
            if online:
                report = reported_status(world, pod)
                if report is not None and report != (pod.phase, pod.ready):
                    phase, ready = report
                    run = NOT_RUNNING if phase == FAILED else pod.run
                    yield KubeletSyncStatus(pod.name, phase, ready), update_pod(state, i, phase=phase, ready=ready, run=run)
        for n, rec in enumerate(nodes):
            if rec.up and rec.reachable and rec.ready != READY:
                yield KubeletHeartbeat(world.node_names[n]), update_node(state, n, ready=READY)
            if rec.up and rec.reachable and rec.orphans:  # HandlePodCleanups: no pod object, so kill the containers
                yield KubeletKillOrphans(world.node_names[n], len(rec.orphans)), update_node(state, n, orphans=())
