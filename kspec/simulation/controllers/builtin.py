"""The built-in controllers a scenario wires, in order, and the actors they act as.

Each controller class names its actor (``actor = "taint-eviction"``), the name
its steps carry in traces; the list of actors a scenario may ``disable:`` is
read from those classes, so it cannot drift from what actually runs.
"""

from __future__ import annotations

from typing import Iterable

from kspec.simulation.controllers.cronjob import CronJobController
from kspec.simulation.controllers.daemonset import DaemonSetController
from kspec.simulation.controllers.deployment import DeploymentController
from kspec.simulation.controllers.drain import Drainer
from kspec.simulation.controllers.endpoints import EndpointsController
from kspec.simulation.controllers.gc import GarbageCollector, PodGC
from kspec.simulation.controllers.job import JobController, TTLAfterFinished
from kspec.simulation.controllers.kubelet import Kubelet
from kspec.simulation.controllers.nodelifecycle import Clock, NodeLifecycle, TaintManager
from kspec.simulation.controllers.podautoscaler import HorizontalPodAutoscalerController
from kspec.simulation.controllers.replication import ReplicationControllerLoop
from kspec.simulation.controllers.scheduler import Scheduler
from kspec.simulation.controllers.statefulset import StatefulSetController

CONTROLLERS = (
    DeploymentController,
    ReplicationControllerLoop,
    StatefulSetController,
    DaemonSetController,
    CronJobController,
    JobController,
    Drainer,
    Scheduler,
    Kubelet,
    NodeLifecycle,
    TaintManager,
    Clock,
    EndpointsController,
    GarbageCollector,
    PodGC,
    TTLAfterFinished,
    HorizontalPodAutoscalerController,
)

# one name may cover several controllers (``gc``: owner-reference and terminated-pod collection)
ACTORS = tuple(dict.fromkeys(controller.actor for controller in CONTROLLERS))


def builtin_controllers(scheduler: str = "all", disable: Iterable[str] = ()) -> list:
    """The built-in controllers, less those whose actor is in ``disable``;
    ``scheduler`` is the scheduler's mode (the only built-in with a setting)."""
    disabled = set(disable)
    return [
        controller(scheduler) if controller is Scheduler else controller()
        for controller in CONTROLLERS
        if controller.actor not in disabled
    ]
