"""A user's pod reaper: Sieve's (OSDI'22) stale-state class in a DELETE, and its fix.

The reaper deletes every ``app=web`` pod that its informer cache shows
Running but not Ready (a hung server whose readiness probe fails), so that
the pod's ReplicationController replaces it. It decides on its cache, which
lags the API server; the DELETE reaches a pod that may have changed since.

``version: buggy``
    Deletes by name (``DeleteOptions`` without preconditions), as most
    operators do. When the pod recovered after the cache last heard of it,
    the DELETE kills a Ready pod: the decision was made on a state older
    than the one it acts on. The same by-name DELETE would kill a pod that
    was deleted and created again under the same name (a StatefulSet's
    ``db-0``), the form in which Sieve found this bug in several operators.
    ``models/sieve-stale-delete-buggy.yaml``: pod hangs, kubelet reports it
    not Ready, the cache hears of it, pod recovers, kubelet reports it Ready,
    the reaper deletes it while its cache still says not Ready.

``version: fixed``
    Deletes with ``preconditions`` (the UID and resourceVersion of the pod it
    read, ``metav1.Preconditions``): the API server answers 409 Conflict when
    the pod changed since, and the reaper does nothing until its cache shows
    the pod again and it decides anew (a requeue; level-triggered, it needs
    no memory for it). ``models/sieve-stale-delete-fixed.yaml`` holds.

The reaper keeps no memory: this class needs no restart, only a cache behind
the API server.
"""

from typing import ClassVar

import attrs

from kspec.api.labels import selector_from_map
from kspec.checker.model import Action
from kspec.simulation.controllers.protocol import Conflict, NotFound, cache_of, delete_cached_pod
from kspec.simulation.state import RUNNING, is_active

SELECTOR = selector_from_map({"app": "web"})
VERSIONS = ("buggy", "fixed")


@attrs.frozen
class ReaperDelete(Action):
    """The reaper's cache shows ``pod`` Running and not Ready: it deletes it."""

    actor: ClassVar[str] = "pod-reaper"
    pod: str
    preconditions: bool = False

    def __str__(self) -> str:
        how = ", preconditions: uid, resourceVersion" if self.preconditions else ""
        return f"ReaperDelete({self.pod}{how})"


def unhealthy(world, pod) -> bool:
    """An active ``app=web`` pod, Running but not Ready: the reaper's target."""
    return (SELECTOR.matches(world.groups[pod.group].labels) and is_active(pod)
            and pod.phase == RUNNING and not pod.ready)


class PodReaper:
    """Deletes the pods its cache shows unhealthy (see the module docstring)."""

    actor = "pod-reaper"
    fair = True

    def __init__(self, preconditions: bool):
        self.preconditions = preconditions

    def steps(self, world, state):
        for pod in cache_of(world, state, self):
            if not unhealthy(world, pod):
                continue
            try:
                nxt = delete_cached_pod(state, pod, preconditions=self.preconditions, reader=(world, self))
            except (NotFound, Conflict):
                continue  # gone, or changed since it was read: decide again once the cache shows it
            if nxt != state:
                yield ReaperDelete(pod.name, self.preconditions), nxt


def build_controller(version: str = "buggy"):
    """The reaper in one of :data:`VERSIONS` (see the module docstring)."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
    return PodReaper(preconditions=version == "fixed")
