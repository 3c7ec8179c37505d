"""Cone-of-influence slicing: leave out the Endpoints syncs no check reads.

The endpoints controller writes only ``State.endpoints``, one Service's slot
per step, and nothing else reads them: no other built-in controller, fault,
operation or informer (kube-proxy's routing is a check's view, not a step).
So the Endpoints of a Service that no check reads are an output of the model
and nothing more. Left unsynced (empty), the rest of the state evolves
exactly as before: every path of the full model, with those Endpoints syncs
removed, is a path of the sliced one, and each sliced path extends to a full
one by syncing them in between; weak fairness of the other actors is
unchanged (their steps never depend on Endpoints), and a check judged only on
what was kept gets the same verdict on both. What goes is the interleavings
of those syncs with everything else, which on an application with many
Services are most of its states.

What a check reads: a library check in
:data:`~kspec.simulation.properties.READS_ENDPOINTS` reads the Service it
names (every Service when it names none); a CEL expression that names
``services`` may read any; a user controller may read anything, so with one
nothing is left out; nor when the scenario names the endpoints controller
among those reading through informer caches (``consistency.controllers``).

A check over every Service reads every Service's endpoints, so it keeps the
whole model here; ``kspec explore`` explores the ones that are a conjunction
or disjunction over Services one Service at a time instead, each part sliced
to its Service (:mod:`kspec.simulation.split`).
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from kspec.errors import KspecError
from kspec.simulation import properties as properties_lib
from kspec.simulation.controllers.endpoints import EndpointsController
from kspec.simulation.state import World

__all__ = ["read_services", "slice_controllers"]


def read_services(world: World, checks: Sequence[tuple[str, Mapping[str, Any], int]]) -> frozenset[int]:
    """The Services whose endpoints some check may read (indexes of ``World.services``)."""
    everything = frozenset(range(len(world.services)))
    read: set[int] = set()
    for name, params, _ in checks:
        if name == "expression":
            if re.search(r"\bservices\b", params["cel"]):
                return everything
        elif name in properties_lib.READS_ENDPOINTS:
            service = params.get("service")
            if service is None:
                return everything
            try:
                read.add(world.service_named(service))
            except KspecError:  # an unknown name is the check's own error, reported when it is built
                return everything
    return frozenset(read)


def slice_controllers(world: World, checks, controllers: list, custom: list, enabled: bool,
                      cached: Sequence[str] = ()) -> tuple[list, str]:
    """``controllers`` with the endpoints controller restricted to the
    Services some check reads (left out when none is), and a note saying
    what was left out ("" for nothing). ``cached``: the actors the scenario
    names to read through informer caches; one named is studied as it is."""
    if not enabled or custom or not world.services or EndpointsController.actor in cached:
        return controllers, ""
    read = read_services(world, checks)
    if len(read) == len(world.services):
        return controllers, ""
    out, sliced = [], False
    for c in controllers:
        if type(c) is EndpointsController:
            sliced = True
            if read:
                out.append(EndpointsController(services=read))
            continue
        out.append(c)
    if not sliced:
        return controllers, ""
    if not read:
        return out, ("endpoints controller left out: no check reads a Service's endpoints "
                     "(cone of influence; --no-slice explores them)")
    kept = ", ".join(sorted(world.services[s].name for s in read))
    return out, (f"endpoints synced only for {kept}: no check reads the other Services' endpoints "
                 "(cone of influence; --no-slice explores them)")
