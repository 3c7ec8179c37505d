"""Seeing a model's state as swim lanes, for a counterexample's timeline.

A model that can be drawn says so through the checker's ``Drawable``
capability: ``swim_lanes(state)`` gives one or more views of lanes (places and
the items in them). A cluster model gives two, side by side: the **API view**
(what etcd holds: each pod on its ``spec.nodeName`` with its phase, ``Ready``,
``Terminating``; each node's ``Ready`` condition and unreachable taint) and the
**physical view** (what machines run); many real bugs live in the gap between
the two. A third view, when given, holds the Services and the ready
endpoints each lists, so the step that empties one shows. A model that cannot be drawn gets no picture, and the trace table
alone tells the story.
"""

from __future__ import annotations

from typing import Any

from kspec.checker.model import Drawable
from kspec.report.model import Frame, Lane, PodMark

__all__ = ["frame_of"]


def frame_of(state: Any, model: Any = None) -> Frame | None:
    """The swim-lane frame of ``state``, or None when the model cannot be drawn."""
    if not isinstance(model, Drawable):
        return None
    views = [tuple(_lane(lane) for lane in view) for view in model.swim_lanes(state)]
    if not views:
        return None
    return Frame(views[0], views[1] if len(views) > 1 else (), views[2] if len(views) > 2 else ())


def _lane(lane) -> Lane:
    place, status, items = lane
    return Lane(str(place), str(status), tuple(PodMark(str(name), str(status)) for name, status in items))
