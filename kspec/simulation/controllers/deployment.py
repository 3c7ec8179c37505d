"""Deployment: keep a ReplicaSet per template revision and roll between them.

Follows ``pkg/controller/deployment`` (``syncDeployment``, ``sync.go``,
``rolling.go``, ``recreate.go``) and ``deployment/util``. A Deployment owns
ReplicaSets, never pods: the replication manager (:mod:`.replication`) keeps
each ReplicaSet's pods. One sync of one Deployment is one step, in upstream's
order:

1. observe: the Deployment's ReplicaSets (``getReplicaSetsForDeployment``); the
   current template's is the *new* ReplicaSet, the others are *old*;
2. create the new ReplicaSet if it does not exist (``getNewReplicaSet``), with
   ``NewRSNewReplicas`` replicas (Recreate: only once no old pod runs);
3. the strategy's rollout: ``rolloutRolling`` (``reconcileNewReplicaSet``
   scales the new ReplicaSet up within ``maxSurge``; if it did not, then
   ``reconcileOldReplicaSets`` scales old ones down within ``maxUnavailable``,
   unhealthy replicas first), or ``rolloutRecreate`` (old ReplicaSets to 0,
   then, once none of their pods runs, the new one to ``replicas``).

ReplicaSet status (``availableReplicas``) is computed from the pods when read,
as for the replication manager (:func:`.replication.status`): the model does
not delay status updates, and ``minReadySeconds`` counts as elapsed (time is
abstract). A scaling event with one active ReplicaSet (``scale()``) gives the
same write as the rollout path; proportional scaling of several active
ReplicaSets (a scale in the middle of a rollout) is left to the rollout path,
which converges to the same end by other steps. ``revisionHistoryLimit``
clean-up, pausing and rollback are not modelled. The template change itself is
a user operation (``rollout``: ``kubectl set image`` or ``kubectl rollout
restart``); :meth:`~kspec.simulation.state.World.current_revision` reads it.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.simulation.controllers.protocol import scaled_value
from kspec.checker.model import Action
from kspec.simulation.state import State, World, is_active, is_terminal

__all__ = ["DeploymentSync", "DeploymentController", "resolve_fenceposts", "max_unavailable",
           "new_rs_new_replicas", "available", "revisions", "rollout_step"]


@attrs.frozen
class DeploymentSync(Action):
    """One sync of a Deployment: the ReplicaSets it created or scaled (``name: old -> new``)."""

    actor: ClassVar[str] = "deployment"
    deployment: str
    changes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"DeploymentSync({self.deployment}: {'; '.join(self.changes)})"


def resolve_fenceposts(strategy, replicas: int) -> tuple[int, int]:
    """``deploymentutil.ResolveFenceposts``: (maxSurge rounded up, maxUnavailable
    rounded down); both 0 would deadlock, so maxUnavailable becomes 1."""
    surge = scaled_value(strategy.max_surge, replicas, True)
    unavailable = scaled_value(strategy.max_unavailable, replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(strategy, replicas: int) -> int:
    """``deploymentutil.MaxUnavailable``: never more than ``replicas``; 0 for Recreate."""
    if strategy is None or strategy.type != "RollingUpdate" or replicas == 0:
        return 0
    return min(resolve_fenceposts(strategy, replicas)[1], replicas)


def available(world: World, state: State, rs: int) -> int:
    """The ReplicaSet's ``status.availableReplicas``: active pods it owns that are Ready."""
    return sum(1 for p in state.pods if p.owner == rs and p.ready and is_active(p))


def new_rs_new_replicas(strategy, replicas: int, rs_replicas: list[int], new_replicas: int) -> int:
    """``deploymentutil.NewRSNewReplicas``: how far the new ReplicaSet may grow
    now (``rs_replicas``: every ReplicaSet's ``spec.replicas``, the new one's included)."""
    if strategy.type != "RollingUpdate":
        return replicas
    surge, _ = resolve_fenceposts(strategy, replicas)
    current = sum(rs_replicas)
    if current >= replicas + surge:
        return new_replicas
    scale_up = min(replicas + surge - current, replicas - new_replicas)
    return new_replicas + scale_up


def _old_pods_running(state: State, olds: list[int]) -> bool:
    """``oldPodsRunning``: a pod of an old ReplicaSet that is not Succeeded or Failed."""
    return any(p.owner in olds and not is_terminal(p) for p in state.pods)


def revisions(world: World, state: State, d: int) -> tuple[int, list[int]]:
    """(the new ReplicaSet, the old ones that exist) of Deployment ``d``: the
    new one is the current template's (``FindNewReplicaSet``)."""
    dep = world.workloads[d]
    new = dep.replica_sets[world.current_revision(state, d)]
    return new, [rs for rs in dep.replica_sets if rs != new and state.replicas[rs] is not None]


def rollout_step(world: World, state: State, d: int) -> dict[int, int]:
    """The ReplicaSet ``spec.replicas`` one sync of Deployment ``d`` writes
    (ReplicaSet index -> new replicas; empty when there is nothing to do).

    A scaling event needs no path of its own here: with one active ReplicaSet,
    the rollout path below scales it to the Deployment's replicas, as
    ``scale()`` does."""
    replicas = state.replicas[d]
    if replicas is None:  # the Deployment is deleted: the garbage collector removes its ReplicaSets
        return {}
    strategy = world.workloads[d].strategy
    new, olds = revisions(world, state, d)
    spec = {rs: state.replicas[rs] for rs in olds}
    if state.replicas[new] is None:  # getNewReplicaSet creates it
        if strategy.type != "RollingUpdate" and (any(spec.values()) or _old_pods_running(state, olds)):
            return _recreate_scale_down(spec)
        return {new: new_rs_new_replicas(strategy, replicas, list(spec.values()) + [0], 0)}
    spec[new] = state.replicas[new]
    if strategy.type != "RollingUpdate":
        return _recreate(state, spec, olds, new, replicas)
    return _rolling(world, state, spec, olds, new, replicas, strategy)


def _recreate_scale_down(spec: dict[int, int]) -> dict[int, int]:
    return {rs: 0 for rs, n in spec.items() if n > 0}


def _recreate(state: State, spec, olds, new, replicas) -> dict[int, int]:
    """``rolloutRecreate``: old ReplicaSets to 0, wait for their pods to stop, then the new one to ``replicas``."""
    down = _recreate_scale_down({rs: spec[rs] for rs in olds})
    if down:
        return down
    if _old_pods_running(state, olds):
        return {}
    return {new: replicas} if spec[new] != replicas else {}


def _rolling(world: World, state: State, spec, olds, new, replicas, strategy) -> dict[int, int]:
    """``rolloutRolling``: scale the new ReplicaSet up, else the old ones down."""
    if spec[new] > replicas:  # reconcileNewReplicaSet: scale down
        return {new: replicas}
    if spec[new] < replicas:
        grow = new_rs_new_replicas(strategy, replicas, list(spec.values()), spec[new])
        if grow != spec[new]:
            return {new: grow}
    return _reconcile_old(world, state, spec, olds, new, replicas, strategy)


def _reconcile_old(world: World, state: State, spec, olds, new, replicas, strategy) -> dict[int, int]:
    """``reconcileOldReplicaSets``: ``cleanupUnhealthyReplicas`` then
    ``scaleDownOldReplicaSetsForRollingUpdate``, oldest ReplicaSet first."""
    olds = [rs for rs in olds if spec[rs] > 0]
    if not olds:
        return {}
    all_pods = sum(spec.values())
    min_available = replicas - max_unavailable(strategy, replicas)
    new_unavailable = spec[new] - available(world, state, new)
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return {}
    out: dict[int, int] = {}
    cleaned = 0
    for rs in olds:  # cleanupUnhealthyReplicas
        if cleaned >= max_scaled_down:
            break
        healthy = available(world, state, rs)
        if spec[rs] == healthy:
            continue
        count = min(max_scaled_down - cleaned, spec[rs] - healthy)
        out[rs] = spec[rs] - count
        cleaned += count
    current = {rs: out.get(rs, n) for rs, n in spec.items()}
    available_now = sum(available(world, state, rs) for rs in current)
    total_down = available_now - min_available
    scaled = 0
    for rs in olds:  # scaleDownOldReplicaSetsForRollingUpdate
        if scaled >= total_down:
            break
        if current[rs] == 0:
            continue
        count = min(current[rs], total_down - scaled)
        out[rs] = current[rs] - count
        scaled += count
    return {rs: n for rs, n in out.items() if n != spec[rs]}


class DeploymentController:
    """The deployment controller: one :class:`DeploymentSync` step per Deployment that has work."""

    actor = "deployment"
    fair = True

    def steps(self, world: World, state: State):
        for d in world.deployments:
            dep = world.workloads[d]
            writes = rollout_step(world, state, d)
            if not writes:
                continue
            replicas = list(state.replicas)
            changes = []
            for rs, n in sorted(writes.items()):
                before = replicas[rs]
                changes.append(f"create {world.workloads[rs].name} with {n}" if before is None
                               else f"scale {world.workloads[rs].name} {before} -> {n}")
                replicas[rs] = n
            yield DeploymentSync(dep.name, tuple(changes)), attrs.evolve(state, replicas=tuple(replicas),
                                                                          rv=state.rv + 1)
