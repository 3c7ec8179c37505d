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

:func:`describe_changes` says what changed between two states in words for
:class:`~kspec.simulation.state.State` (from :mod:`kspec.simulation.views`, which also
computes the lanes); other states use the trace's field-by-field changes.
"""

from __future__ import annotations

from typing import Any

from kspec.report.model import Frame, Lane, PodMark
from kspec.simulation import views as cluster_views
from kspec.simulation.state import State
from kspec.simulation.views import UNSCHEDULED


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
    if isinstance(state, State):
        return _cluster_frame(state, _world(model))
    if all(hasattr(state, f) for f in ("status", "node", "up")):
        return _slots_frame(state)
    return None


# --------------------------------------------------------------------------- kspec.simulation.state.State


def _cluster_frame(state: State, world) -> Frame:
    api, physical = cluster_views.lanes(state, world)
    return Frame(tuple(map(_lane, api)), tuple(map(_lane, physical)))


def _lane(lane: cluster_views.Lane) -> Lane:
    return Lane(lane.node, lane.status, tuple(PodMark(name, status) for name, status in lane.pods))


def describe_changes(before: Any, after: Any, model: Any = None) -> tuple[str, ...] | None:
    """What changed, in words, for cluster states; None for other states."""
    if not isinstance(before, State) or not isinstance(after, State):
        return None
    return cluster_views.describe_changes(before, after, _world(model))


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
