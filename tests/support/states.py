"""Simulation states for tests, built with named fields.

A pod record has nine fields and a state seven; written positionally
(``PodRec("web-0", 0, 0, 0, "Running", True, False, False, "up")``) a test
does not say which ``False`` is "deleting". These builders take keywords with
the records' own defaults and return exactly the records the model builds:

    pod("frontend-0", group=1, owner=1, node=0, phase=RUNNING, ready=True, containers=HUNG)
    state(world, [pod(...)], nodes=[NodeRec(up=False), NodeRec(), NodeRec()])
"""

from __future__ import annotations

from typing import Iterable, Sequence

from kspec.simulation.state import NOT_RUNNING, PENDING, RUNNING, UP, NodeRec, PodRec, State, World


def pod(name: str, *, group: int = 0, owner: int = -1, node: int = -1, phase: str = PENDING, ready: bool = False,
        deleting: bool = False, unschedulable: bool = False, containers: str = NOT_RUNNING) -> PodRec:
    """One pod record; ``containers`` is the physical state on the node (:attr:`PodRec.run`)."""
    return PodRec(name, group, owner, node, phase, ready, deleting, unschedulable, containers)


def owned_pod(world: World, workload: int, name: str, **fields) -> PodRec:
    """A pod of ``world.workloads[workload]``: made from its template and owned by it."""
    return pod(name, group=world.workloads[workload].group, owner=workload, **fields)


def running_pod(world: World, workload: int, name: str, *, node: int, ready: bool = True, containers: str = UP,
                **fields) -> PodRec:
    """A pod of the workload that the kubelet started on ``node``: Running, Ready, containers up."""
    return owned_pod(world, workload, name, node=node, phase=RUNNING, ready=ready, containers=containers, **fields)


def state(world: World, pods: Iterable[PodRec] = (), nodes: Sequence[NodeRec] | None = None, *,
          endpoints: Sequence[tuple[str, ...]] | None = None, replicas: Sequence[int | None] | None = None,
          memory: tuple = (), faults: tuple[int, ...] = (), ops: int = 0) -> State:
    """A state of ``world``: pods sorted by name; by default every node healthy
    (``NodeRec()``), no endpoints and each workload at its manifest's replicas."""
    return State(
        tuple(sorted(pods)),
        tuple(NodeRec() for _ in world.nodes) if nodes is None else tuple(nodes),
        tuple(() for _ in world.services) if endpoints is None else tuple(endpoints),
        tuple(w.replicas for w in world.workloads) if replicas is None else tuple(replicas),
        memory, faults, ops,
    )
