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
   unhealthy replicas first: :func:`reconcile_old_replica_sets`), or
   ``rolloutRecreate`` (old ReplicaSets to 0, then, once none of their pods
   runs, the new one to ``replicas``).

An old ReplicaSet just scaled down still has its surplus pods, Ready, until
the replication manager deletes them; while it has more available replicas
than its spec, upstream's ``cleanupUnhealthyReplicas`` refuses to go on and
that sync scales no old ReplicaSet down. The next sync after the surplus is
gone does.

ReplicaSet status (``availableReplicas``) is computed from the pods when read,
as for the replication manager (:func:`.replication.status`): the model does
not delay status updates, and ``minReadySeconds`` counts as elapsed (time is
abstract). A scaling event with one active ReplicaSet (``scale()``) gives the
same write as the rollout path; proportional scaling of several active
ReplicaSets (a scale in the middle of a rollout) is left to the rollout path,
which converges to the same end by other steps (its arithmetic is
:func:`proportional_scale`, checked against upstream's table but not yet a
step: the model keeps no replica annotations). ``revisionHistoryLimit``
clean-up, pausing and rollback are not modelled. The template change itself is
a user operation (``rollout``: ``kubectl set image`` or ``kubectl rollout
restart``); :meth:`~kspec.simulation.state.World.current_revision` reads it.

Read through an informer cache (a scenario's ``consistency.controllers``
names ``deployment``), the controller plans each sync on the pods of its own
cache (:func:`~kspec.simulation.informer.cached_state`), which lag the API
server by up to ``staleness`` events and lose what a ``watch-drop`` drops.
Upstream it reads only listers: ReplicaSets from ``rsLister``, pods from
``podLister`` (``getPodMapForDeployment``, read by ``oldPodsRunning`` for
Recreate), and each ReplicaSet's ``status.availableReplicas`` and
``status.replicas``, which the ReplicaSet controller writes from its own pod
cache. The model has no ReplicaSet status objects, so the status the
controller reads is counted from its cached pods: a view of availability and
of old pods that lags the pods, as upstream's does (the ReplicaSet status it
lists is at best as recent as the last ReplicaSet sync). What is still read
fresh: the Deployment itself and the ReplicaSets' ``spec.replicas`` (only pod
events travel the stream). That leaves out one upstream guard and one hazard
together: a scale written from a stale ReplicaSet copy fails with a Conflict
on its resourceVersion (``scaleReplicaSet`` sends ``Update`` with the cached
object, and the sync is retried on a newer cache), and a stale copy of
another ReplicaSet's ``spec.replicas`` can feed the arithmetic (in the
rolling path it cancels out of ``maxScaledDown``, and a larger stale total
only narrows ``NewRSNewReplicas``). The controller keeps no memory
(upstream's deployment controller has no expectations), so a
``controller-restart`` only relists its cache. With ``consistency: fresh``
the cache is the API and nothing changes.

The Deployment's status is :func:`calculate_status`; :func:`rollout_status` is
``kubectl rollout status`` reading it.

Generations (only in a scenario whose checks read them, :func:`track_generations`:
elsewhere :func:`observed` stands in and no state changes). A ``scale`` or
``rollout`` operation changes the spec, and the API server bumps
``metadata.generation`` (``deploymentStrategy.PrepareForUpdate``): it is one
plus the spec-changing operations done (:func:`generation`). Every sync writes
``status.observedGeneration`` (``calculateStatus``), so a sync with nothing to
scale still happens once after a spec change, to write it. The state keeps
which of those operations the controller has observed (a status slot), and the
status until then is the one the last sync computed, for the template it then
held: :func:`calculate_status` counts the pods for the observed template.

The status conditions (Progressing with ``progressDeadlineSeconds``,
Available) are computed by :func:`sync_rollout_status` and
:func:`available_condition` over a clock in seconds; the model's state has
no clock and no conditions yet, so no step writes them.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.simulation.controllers.protocol import scaled_value
from kspec.checker.model import Action
from kspec.simulation.informer import cached_state
from kspec.simulation.state import (State, World, add_status_slot, deletion_pending, is_active, is_terminal, status_of,
                                    with_status)

__all__ = ["DeploymentSync", "DeploymentController", "DeploymentStatus", "resolve_fenceposts", "max_unavailable",
           "new_rs_new_replicas", "available", "revisions", "rollout_step", "reconcile_old_replica_sets",
           "cleanup_unhealthy_replicas", "scale_down_old_replica_sets_for_rolling_update", "ReplicaSetSize",
           "replica_set_proportion", "proportional_scale", "DeploymentCondition", "deployment_complete",
           "deployment_progressing", "deployment_timed_out", "sync_rollout_status", "available_condition",
           "calculate_status", "observed", "rollout_status", "deployment_status_viewer", "GENERATIONS",
           "track_generations", "generation", "observed_generation", "status_revision", "GENERATION_KINDS",
           "unobserved_spec", "record_observed", "with_observed"]

GENERATIONS = "generations"
"""Status slot: per workload, the spec-changing operations (bits of ``State.ops``) its controller has observed."""


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
    """``reconcileOldReplicaSets`` on the ReplicaSets' spec and ``status.availableReplicas``
    (:func:`reconcile_old_replica_sets`), oldest ReplicaSet first."""
    after = reconcile_old_replica_sets(
        replicas, max_unavailable(strategy, replicas), spec[new], available(world, state, new),
        [(spec[rs], available(world, state, rs)) for rs in olds])
    return {rs: n for rs, n in zip(olds, after) if n != spec[rs]}


def reconcile_old_replica_sets(replicas: int, max_unavailable: int, new_spec: int, new_available: int,
                               olds: list[tuple[int, int]]) -> tuple[int, ...]:
    """``reconcileOldReplicaSets``: the old ReplicaSets' ``spec.replicas`` after one sync.

    ``olds`` is (``spec.replicas``, ``status.availableReplicas``) of each old
    ReplicaSet, oldest first; the answer is in the same order. Only active
    ReplicaSets (``spec.replicas`` > 0, ``FilterActiveReplicaSets``) take
    part: an old ReplicaSet already at 0 whose pods are still there is neither
    scaled nor counted as available. Within ``maxScaledDown`` (every
    ``spec.replicas`` minus ``replicas - maxUnavailable`` minus the new
    ReplicaSet's unavailable replicas), :func:`cleanup_unhealthy_replicas`
    goes first, then :func:`scale_down_old_replica_sets_for_rolling_update`
    on what it left. When the cleanup stops at upstream's error (an old
    ReplicaSet with more available replicas than its spec), the sync scales
    nothing more down: ``reconcileOldReplicaSets`` returns before the second
    step, keeping what the cleanup wrote before it.
    """
    after = [spec for spec, _ in olds]
    active = [i for i, (spec, _) in enumerate(olds) if spec > 0]
    if not active:  # oldPodsCount == 0: nothing to scale down
        return tuple(after)
    min_available = replicas - max_unavailable
    max_scaled_down = new_spec + sum(after) - min_available - (new_spec - new_available)
    if max_scaled_down <= 0:
        return tuple(after)
    cleaned, _, refused = cleanup_unhealthy_replicas([olds[i] for i in active], max_scaled_down)
    for i, spec in zip(active, cleaned):
        after[i] = spec
    if refused:
        return tuple(after)
    scaled, _ = scale_down_old_replica_sets_for_rolling_update(
        replicas, max_unavailable, new_available, [(after[i], olds[i][1]) for i in active])
    for i, spec in zip(active, scaled):
        after[i] = spec
    return tuple(after)


def cleanup_unhealthy_replicas(olds: list[tuple[int, int]], max_cleanup: int) -> tuple[tuple[int, ...], int, bool]:
    """``cleanupUnhealthyReplicas``: scale old ReplicaSets (``(spec.replicas,
    status.availableReplicas)``, oldest first) down by their unavailable
    replicas, at most ``max_cleanup`` in all.

    Returns the new ``spec.replicas``, how many were taken away, and whether
    the cleanup stopped at upstream's error: an old ReplicaSet with more
    available replicas than its spec (just scaled down, its surplus pods not
    deleted yet) would be "scaled down" to more than its spec, which upstream
    refuses ("got invalid request to scale down"); the ReplicaSets before it
    keep their new spec, it and those after it keep theirs.
    """
    after = [spec for spec, _ in olds]
    total = 0
    for i, (spec, healthy) in enumerate(olds):
        if total >= max_cleanup:
            break
        if spec == 0 or spec == healthy:
            continue
        count = min(max_cleanup - total, spec - healthy)
        if count < 0:
            return tuple(after), total, True
        after[i] = spec - count
        total += count
    return tuple(after), total, False


def scale_down_old_replica_sets_for_rolling_update(replicas: int, max_unavailable: int, new_available: int,
                                                   olds: list[tuple[int, int]]) -> tuple[tuple[int, ...], int]:
    """``scaleDownOldReplicaSetsForRollingUpdate``: take available replicas from old
    ReplicaSets (``(spec.replicas, status.availableReplicas)``, oldest first)
    while more than ``replicas - maxUnavailable`` are available across the new
    one and these. Returns the new ``spec.replicas`` and how many were taken."""
    after = [spec for spec, _ in olds]
    total_down = new_available + sum(healthy for _, healthy in olds) - (replicas - max_unavailable)
    scaled = 0
    for i, spec in enumerate(after):
        if scaled >= total_down:
            break
        if spec == 0:
            continue
        count = min(spec, total_down - scaled)
        after[i] = spec - count
        scaled += count
    return tuple(after), scaled


@attrs.frozen
class ReplicaSetSize:
    """A ReplicaSet as ``scale()`` reads it: ``spec.replicas``, its creation order (larger is
    newer), ``status.availableReplicas`` and the ``deployment.kubernetes.io/desired-replicas`` and
    ``max-replicas`` annotations the controller wrote when it last sized it (``None``: absent)."""

    name: str
    replicas: int
    created: int
    available: int = 0
    desired_annotation: int | None = None
    max_annotation: int | None = None


def _round_half_away(value: float) -> int:
    """``integer.RoundToInt32``."""
    return int(value - 0.5) if value < 0 else int(value + 0.5)


def replica_set_proportion(rs: ReplicaSetSize, replicas: int, max_surge: int, status_replicas: int,
                           to_add: int, added: int) -> int:
    """``GetReplicaSetProportion`` with ``getReplicaSetFraction``: the share of a scaling event of
    ``to_add`` replicas (``added`` already given out) this ReplicaSet takes: its size scaled by the
    Deployment's new ``replicas + maxSurge`` over the ``max-replicas`` annotation (else the
    Deployment's ``status.replicas``), rounded half away from zero, bounded by what is left; all of
    it when scaling to zero."""
    if rs.replicas == 0 or to_add == 0 or to_add == added:
        return 0
    if replicas == 0:
        fraction = -rs.replicas
    else:
        before = rs.max_annotation or status_replicas
        if before == 0:
            return 0
        fraction = _round_half_away(rs.replicas * (replicas + max_surge) / before) - rs.replicas
    left = to_add - added
    return min(fraction, left) if to_add > 0 else max(fraction, left)


def proportional_scale(replicas: int, max_surge: int, rolling: bool, new: ReplicaSetSize | None,
                       olds: list[ReplicaSetSize], status_replicas: int) -> dict[str, int]:
    """``scale()`` (``sync.go``) on a change of ``spec.replicas``: the ReplicaSets' new sizes (by name,
    only those that change).

    With one active ReplicaSet (or none: the newest), it takes the whole count
    (``FindActiveOrLatest``). A saturated new ReplicaSet (spec, desired annotation and available
    replicas all equal to ``replicas``) leaves the old ones to go to zero. Otherwise, for a rolling
    update, the difference between ``replicas + maxSurge`` and the active ReplicaSets' total is
    shared in proportion to their sizes (:func:`replica_set_proportion`), largest first (on equal
    sizes the newer first when growing, the older first when shrinking), and what rounding leaves
    over goes to the first, never below zero."""
    everyone = ([new] if new is not None else []) + list(olds)
    if not everyone:
        return {}
    active = [rs for rs in everyone if rs.replicas > 0]
    if not active:
        latest = new if new is not None else max(olds, key=lambda rs: rs.created)
        return {} if latest.replicas == replicas else {latest.name: replicas}
    if len(active) == 1:
        return {} if active[0].replicas == replicas else {active[0].name: replicas}
    if new is not None and new.replicas == replicas == new.desired_annotation == new.available:
        return {rs.name: 0 for rs in olds if rs.replicas > 0}
    if not rolling:
        return {}
    allowed = replicas + max_surge if replicas > 0 else 0
    to_add = allowed - sum(rs.replicas for rs in active)
    newer_first = to_add > 0
    active.sort(key=lambda rs: (-rs.replicas, -rs.created if newer_first else rs.created))
    sizes: dict[str, int] = {}
    added = 0
    for rs in active:
        share = replica_set_proportion(rs, replicas, max_surge, status_replicas, to_add, added)
        sizes[rs.name] = rs.replicas + share
        added += share
    if to_add:
        sizes[active[0].name] = max(0, sizes[active[0].name] + to_add - added)
    return {name: size for name, size in sizes.items()
            if size != next(rs.replicas for rs in active if rs.name == name)}


@attrs.frozen
class DeploymentStatus:
    """``status`` of a Deployment as ``calculateStatus`` (``sync.go``) computes it from its
    ReplicaSets: ``replicas`` and ``updatedReplicas`` count active pods (the
    ReplicaSets' ``status.replicas``), of all and of the new one;
    ``availableReplicas`` the Ready ones (``minReadySeconds`` counts as elapsed)."""

    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0


INFINITE_PROGRESS_DEADLINE = 2**31 - 1
"""A ``progressDeadlineSeconds`` of the largest int32 means no deadline (``HasProgressDeadline``)."""


@attrs.frozen
class DeploymentCondition:
    """A Deployment condition as the controller writes it: status (``"True"``/``"False"``), reason,
    and its last update and last transition times (seconds on the scenario's clock)."""

    status: str
    reason: str
    last_update: int
    last_transition: int


def deployment_complete(replicas: int, status: DeploymentStatus) -> bool:
    """``DeploymentComplete``: every replica updated and available and no other replica left (the
    generation is taken as observed)."""
    return status.updated_replicas == status.replicas == status.available_replicas == replicas


def deployment_progressing(old: DeploymentStatus, new: DeploymentStatus) -> bool:
    """``DeploymentProgressing``: more updated, ready or available replicas than before, or fewer old
    ones."""
    return (new.updated_replicas > old.updated_replicas
            or new.replicas - new.updated_replicas < old.replicas - old.updated_replicas
            or new.ready_replicas > old.ready_replicas
            or new.available_replicas > old.available_replicas)


def deployment_timed_out(progress_deadline: int | None, progressing: DeploymentCondition | None, now: int) -> bool:
    """``DeploymentTimedOut``: the Progressing condition was last updated more than
    ``progressDeadlineSeconds`` ago (never after a completed rollout; always once timed out)."""
    if progress_deadline in (None, INFINITE_PROGRESS_DEADLINE) or progressing is None:
        return False
    if progressing.reason == "NewReplicaSetAvailable":
        return False
    if progressing.reason == "ProgressDeadlineExceeded":
        return True
    return progressing.last_update + progress_deadline < now


def _set_condition(current: DeploymentCondition | None, status: str, reason: str, now: int) -> DeploymentCondition:
    """``SetDeploymentCondition``: an identical status and reason leave the condition as it is; the
    same status keeps its transition time."""
    if current is not None and (current.status, current.reason) == (status, reason):
        return current
    transition = current.last_transition if current is not None and current.status == status else now
    return DeploymentCondition(status, reason, now, transition)


def sync_rollout_status(progress_deadline: int | None, replicas: int, old: DeploymentStatus, new: DeploymentStatus,
                        progressing: DeploymentCondition | None, now: int) -> DeploymentCondition | None:
    """``syncRolloutStatus``: the Progressing condition after a sync that computed status ``new``
    (the Deployment's status was ``old``). Without a deadline there is none; after a completed
    rollout with no old replica it stays; otherwise ``NewReplicaSetAvailable`` once complete,
    ``ReplicaSetUpdated`` (update time now, transition kept if it was True) while progressing, and
    ``ProgressDeadlineExceeded`` (False) once the deadline has passed without progress."""
    if progress_deadline in (None, INFINITE_PROGRESS_DEADLINE):
        return None
    if new.replicas == new.updated_replicas and progressing is not None \
            and progressing.reason == "NewReplicaSetAvailable":
        return progressing
    if deployment_complete(replicas, new):
        return _set_condition(progressing, "True", "NewReplicaSetAvailable", now)
    if deployment_progressing(old, new):
        kept = progressing is not None and progressing.status == "True"
        return DeploymentCondition("True", "ReplicaSetUpdated", now, progressing.last_transition if kept else now)
    if deployment_timed_out(progress_deadline, progressing, now):
        return _set_condition(progressing, "False", "ProgressDeadlineExceeded", now)
    return progressing


def available_condition(replicas: int, max_unavailable: int, status: DeploymentStatus) -> tuple[str, str]:
    """The Available condition ``calculateStatus`` writes: (status, reason)."""
    if status.available_replicas >= replicas - max_unavailable:
        return "True", "MinimumReplicasAvailable"
    return "False", "MinimumReplicasUnavailable"


GENERATION_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
"""Workloads whose generations a scenario keeps (the registry strategies of
``apps/deployment``, ``apps/statefulset`` and ``apps/daemonset`` bump
``metadata.generation`` on a spec change)."""


def track_generations(world: World, operations) -> None:
    """Keep ``metadata.generation`` and ``status.observedGeneration`` of every
    Deployment, StatefulSet and DaemonSet in the scenario (``operations``: its
    user operations, bit ``i`` of ``State.ops`` the ``i``-th): a scale or
    rollout changes the spec (a DaemonSet has no scale)."""
    for bit, op in enumerate(operations):
        if op.verb in ("scale", "rollout") and op.workload >= 0 \
                and world.workloads[op.workload].kind in GENERATION_KINDS:
            world.spec_bits[op.workload] = world.spec_bits.get(op.workload, 0) | 1 << bit
    add_status_slot(world, GENERATIONS, tuple(0 for _ in world.workloads))


def generation(world: World, state: State, d: int) -> int:
    """``metadata.generation`` of Deployment ``d``: 1 at creation, one more per spec change."""
    return 1 + bin(state.ops & world.spec_bits.get(d, 0)).count("1")


def observed_generation(world: World, state: State, d: int) -> int | None:
    """``status.observedGeneration`` of Deployment ``d`` (None when the scenario keeps no generations)."""
    if GENERATIONS not in world.status_slots:
        return None
    return 1 + bin(status_of(world, state, GENERATIONS)[d]).count("1")


def status_revision(world: World, state: State, d: int) -> int:
    """Which template (index into ``replica_sets``) the status of Deployment ``d``
    was computed for: the current one, unless the controller has not observed
    the rollout yet."""
    if GENERATIONS not in world.status_slots:
        return world.current_revision(state, d)
    bit = world.rollout_bits.get(d)
    return 1 if bit is not None and status_of(world, state, GENERATIONS)[d] >> bit & 1 else 0


def unobserved_spec(world: World, state: State, d: int) -> int | None:
    """The spec changes of workload ``d`` its controller's next sync observes
    (None: nothing new, or the scenario keeps no generations)."""
    if GENERATIONS not in world.status_slots or state.replicas[d] is None:
        return None
    done = state.ops & world.spec_bits.get(d, 0)
    return None if status_of(world, state, GENERATIONS)[d] == done else done


def record_observed(world: World, state: State, d: int, unseen: int) -> State:
    """``state`` with workload ``d``'s ``status.observedGeneration`` set to its
    generation (``unseen``: :func:`unobserved_spec`, the spec changes it now covers)."""
    seen = status_of(world, state, GENERATIONS)
    return with_status(world, state, GENERATIONS, seen[:d] + (unseen,) + seen[d + 1:])


def with_observed(text: str, observed: int) -> str:
    """A sync step's trace text (``Kind(name: ...)``) saying the observedGeneration it wrote (0: none)."""
    if not observed:
        return text
    return text[:-1] + ("" if text.endswith(": )") else "; ") + f"observedGeneration {observed})"


def calculate_status(world: World, state: State, d: int) -> DeploymentStatus:
    """``calculateStatus`` of Deployment ``d``, for the template it had at the
    last sync (:func:`status_revision`); the model does not delay status writes
    otherwise, so the counts are the pods' now."""
    dep = world.workloads[d]
    new = dep.replica_sets[status_revision(world, state, d)]
    olds = [rs for rs in dep.replica_sets if rs != new and state.replicas[rs] is not None]
    owners = set(olds) | ({new} if state.replicas[new] is not None else set())
    pods = [p for p in state.pods if p.owner in owners and is_active(p)]
    ready = sum(1 for p in pods if p.ready)
    spec_total = sum(state.replicas[rs] for rs in owners)
    return DeploymentStatus(replicas=len(pods), updated_replicas=sum(1 for p in pods if p.owner == new),
                            ready_replicas=ready, available_replicas=ready,
                            unavailable_replicas=max(spec_total - ready, 0))


def observed(world: World, state: State, d: int) -> bool:
    """``status.observedGeneration >= metadata.generation``, in a scenario that
    keeps generations (:func:`track_generations`). Elsewhere a stand-in: the
    first sync after a template change is
    the one that creates the current template's ReplicaSet (``getNewReplicaSet``)
    and writes ``observedGeneration``. A ``kubectl scale`` has no stand-in: a
    scale-up leaves ``updatedReplicas`` short until the controller acts, but a
    scale-down reads as done before it acts (the ``deployment-converges``
    property asks ``updatedReplicas == replicas`` as well, which it is not)."""
    seen = observed_generation(world, state, d)
    if seen is not None:
        return seen >= generation(world, state, d)
    new, _ = revisions(world, state, d)
    return state.replicas[new] is not None


def rollout_status(world: World, state: State, d: int) -> tuple[str, bool]:
    """``kubectl rollout status`` on Deployment ``d``: :func:`deployment_status_viewer`
    reading :func:`calculate_status`, with :func:`observed` for the generation check."""
    name = world.workloads[d].name
    replicas = state.replicas[d]
    if replicas is None:
        return f'deployments.apps "{name}" not found', False
    return deployment_status_viewer(name, replicas, calculate_status(world, state, d), observed(world, state, d))


def deployment_status_viewer(name: str, replicas: int, status: DeploymentStatus, observed: bool) -> tuple[str, bool]:
    """``DeploymentStatusViewer.Status`` (kubectl ``rollout_status.go``): its message
    (without the trailing newline) and whether the rollout is done.

    Done needs the spec observed (``observedGeneration >= generation``),
    ``updatedReplicas >= replicas`` (every replica of the current template),
    ``replicas <= updatedReplicas`` in the status (no old replica left) and
    ``availableReplicas >= updatedReplicas``. The ``ProgressDeadlineExceeded``
    error is not modelled (no ``progressDeadlineSeconds``: time is abstract)."""
    if not observed:
        return "Waiting for deployment spec update to be observed...", False
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if status.updated_replicas < replicas:
        return waiting + f"{status.updated_replicas} out of {replicas} new replicas have been updated...", False
    if status.replicas > status.updated_replicas:
        return waiting + f"{status.replicas - status.updated_replicas} old replicas are pending termination...", False
    if status.available_replicas < status.updated_replicas:
        return waiting + (f"{status.available_replicas} of {status.updated_replicas} updated replicas "
                          "are available..."), False
    return f'deployment "{name}" successfully rolled out', True


class DeploymentController:
    """The deployment controller: one :class:`DeploymentSync` step per Deployment that has work."""

    actor = "deployment"
    fair = True

    def steps(self, world: World, state: State):
        view = cached_state(world, state, self.actor)  # the listers: its informer cache's pods, when it has one
        for d in world.deployments:
            dep = world.workloads[d]
            # a deletionTimestamp (Foreground or Orphan deletion under way): syncStatusOnly
            writes = {} if deletion_pending(world, state, d) else rollout_step(world, view, d)
            unseen = unobserved_spec(world, state, d)
            if not writes and unseen is None:
                continue
            replicas = list(state.replicas)
            changes = []
            for rs, n in sorted(writes.items()):
                before = replicas[rs]
                changes.append(f"create {world.workloads[rs].name} with {n}" if before is None
                               else f"scale {world.workloads[rs].name} {before} -> {n}")
                replicas[rs] = n
            nxt = attrs.evolve(state, replicas=tuple(replicas), rv=state.rv + 1)
            if unseen is not None:  # calculateStatus: observedGeneration = generation
                nxt = record_observed(world, nxt, d, unseen)
                changes.append(f"observedGeneration {generation(world, state, d)}")
            yield DeploymentSync(dep.name, tuple(changes)), nxt
