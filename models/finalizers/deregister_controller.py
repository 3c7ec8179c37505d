"""The controller that owns the ``example.com/deregister`` finalizer.

Level-triggered, as a finalizer's owner must be: each reconcile looks for pods
that are being deleted (a deletionTimestamp) and still carry the finalizer,
deregisters them from the external system (instant here), and removes the
finalizer with :func:`~kspec.simulation.controllers.protocol.remove_finalizer`.
The API server then lets the object go as soon as its kubelet has stopped it
(at once, if it already has). It never touches a pod that is not being
deleted: the finalizer is what makes it hear of the deletion at all.
"""

from typing import ClassVar

import attrs

from kspec.checker.model import Action
from kspec.simulation.controllers.protocol import remove_finalizer

FINALIZER = "example.com/deregister"


@attrs.frozen
class DeregisterPod(Action):
    actor: ClassVar[str] = "deregister"
    pod: str


class DeregisterController:
    actor = "deregister"
    fair = True

    def steps(self, world, state):
        for i, pod in enumerate(state.pods):
            if pod.deleting and FINALIZER in world.groups[pod.group].finalizers:
                yield DeregisterPod(pod.name), remove_finalizer(world, state, i, FINALIZER)


controller = DeregisterController()
