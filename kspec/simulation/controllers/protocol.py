"""The controller protocol: how built-in and user controllers take part in a scenario.

A controller is an object with an ``actor`` name and one method::

    steps(world, state) -> iterable of (action, next_state)

``world`` is the scenario's static :class:`~kspec.simulation.state.World` (manifests,
templates, nodes, selectors, by index); ``state`` is the frozen
:class:`~kspec.simulation.state.State`. ``steps`` yields every step the controller could
take now, each an :class:`~kspec.checker.model.Action` (a small frozen record named
actor-and-verb, for traces) and the state after it. Several steps mean
nondeterminism, which the explorer branches on; none means the controller has
nothing to do. A controller must be a pure function of ``(world, state)``: no
I/O, no clock, no randomness, no attributes changed on ``self``; anything it
remembers between steps lives in ``state.memory`` (see below), so that a
``controller-restart`` fault can take it away.

Writes go through the API helpers in :mod:`kspec.simulation.state` (``create_pod``,
``delete_pod``, ``update_pod``), which apply the API server's rules in one
place. Built-in controllers read in the Kubernetes order: observe (list what
the informer holds), filter (active objects), claim (ownerReferences), diff
(desired minus observed), act (writes), status.

Optional members:

``fair`` (default True)
    Weakly fair: a liveness property assumes that a controller that stays
    enabled eventually acts. Faults and user operations are not fair.

``initial_memory(world)`` and ``restarted_memory(world, memory)``
    A controller with in-memory state (an informer's last view, a work queue, a
    plan) returns its start value; it reads and writes it with
    :func:`memory_of` and :func:`with_memory`. ``restarted_memory`` is what is
    left after a process restart (default: ``initial_memory``).

``templates()``
    Pod manifests (dicts) the controller creates pods from; each becomes a pod
    group whose index :func:`template_group` returns, named after
    ``metadata.generateName`` (or ``metadata.name``).

``rename_memory(memory, pods)``
    Symmetry reduction renames interchangeable pods; a controller whose memory
    holds pod names maps them with the ``pods`` dict (old name to new). A
    controller with memory but without this method turns symmetry reduction
    off for the scenario (always safe).

Reading through a cache, writing through the API (a scenario with
``consistency:``; see :mod:`kspec.simulation.informer`):

``cache_of(world, state, controller)``
    The pods as the controller's informer cache holds them: possibly stale,
    possibly missing what a dropped watch event carried. A controller that
    reads ``state.pods`` instead does a quorum read of the API every time.

``update_cached_pod(state, seen, reader=(world, self), **changes)`` and ``delete_cached_pod(state, seen, preconditions=False, reader=(world, self))``
    Writes of a pod the controller read from its cache, with the API server's
    preconditions: an update carries the resourceVersion it read and fails
    with :class:`Conflict` when the pod was written since (HTTP 409); a delete
    names the pod only, unless it carries ``preconditions`` (the UID and
    resourceVersion read, ``DeleteOptions.preconditions``), and then fails
    the same way; both fail with :class:`NotFound` when it is gone. ``reader``
    names the cache ``seen`` came from, so that a pod written and changed
    back, or deleted and made again, is a Conflict as upstream; without it
    the records are compared.
    ``create_pod`` needs no precondition (the API server names the pod).

``observe(world, state, event)``
    Optional: the controller's event handlers, called with each watch event
    (:class:`~kspec.simulation.informer.Event`) as its cache receives it,
    returning the state (typically with memory changed: a work queue, an
    expectations count). An edge-triggered controller acts on these.

``Expectations``
    Upstream's ``ControllerExpectations`` for a user's controller: raise them
    when writing, lower them in ``observe``, act only once they are
    satisfied, so a cache that lags behind the controller's own writes does
    not make it write twice (``models/sieve/replica_operator.py``).

Finalizers (``metadata.finalizers`` on a bare pod or on the template of a
ReplicationController, ReplicaSet or Deployment) are in
``world.groups[pod.group].finalizers``. A deleted pod that still carries one
stays Terminating (its kubelet stops it and posts a terminal phase, the
object stays) until its owner calls ``remove_finalizer(world, state, index,
name)``; with the last one gone the API server deletes the object in that
update if its grace period is over (``models/finalizers/``).

A scenario names a user controller by file (``controllers: [{module:
custom/singleton.py}]``); the module exports ``controller`` (an instance) or
``build_controller(**params)``. See ``models/custom/`` for a buggy
edge-triggered controller and its fixed level-triggered version.
"""

from __future__ import annotations

import math
from typing import Any, Callable, ClassVar, Hashable, Iterable, NamedTuple, Protocol, Sequence, runtime_checkable

import attrs

from kspec.checker.model import Action
from kspec.errors import KspecError
from kspec.simulation.informer import api_record, cached_state, written_since_cached
from kspec.simulation.state import PodRec, State, World, delete_pod, remove_finalizer, update_pod

__all__ = ["Controller", "Expectations", "Step", "WorkloadSlots", "memory_of", "with_memory", "template_group", "changed",
           "scaled_value", "describe_sync", "cache_of", "update_cached_pod", "delete_cached_pod", "Conflict", "NotFound",
           "remove_finalizer"]

Step = tuple[Action, State]


@runtime_checkable
class Controller(Protocol):
    """What every controller provides (see the module docstring)."""

    actor: str

    def steps(self, world: World, state: State) -> Iterable[Step]: ...


def memory_of(world: World, state: State, controller) -> Any:
    """The memory ``controller`` keeps in ``state``."""
    return state.memory[world.memory_slots[controller.actor]]


def with_memory(world: World, state: State, controller, memory: Hashable) -> State:
    """``state`` with ``controller``'s memory replaced (memory is not an API write)."""
    slot = world.memory_slots[controller.actor]
    return attrs.evolve(state, memory=state.memory[:slot] + (memory,) + state.memory[slot + 1:])


class WorkloadSlots:
    """The memory of a built-in controller reading through its cache: one slot
    per workload it manages (:meth:`workloads`), each None or an expectations
    record whose field ``names`` lists pod names (renamed with the pods under
    symmetry reduction, and part of their signature) and which
    :meth:`normal` reduces to None once it has nothing left to remember."""

    names: ClassVar[str]

    def workloads(self, world: World) -> Sequence[int]:
        raise NotImplementedError

    def normal(self, record):
        raise NotImplementedError

    def initial_memory(self, world: World) -> tuple:
        """No expectations recorded, no sync in progress (also after a restart)."""
        return tuple(None for _ in self.workloads(world))

    def rename_memory(self, memory: tuple, pods: dict) -> tuple:
        field = self.names
        return tuple(None if e is None
                     else e._replace(**{field: tuple(sorted(pods.get(n, n) for n in getattr(e, field)))})
                     for e in memory)

    def memory_marks(self, memory: tuple):
        """(pod name, slot position) for each pod name a record holds."""
        for j, record in enumerate(memory):
            if record is not None:
                for name in getattr(record, self.names):
                    yield name, j

    def slot(self, world: World, state: State, w: int):
        """Workload ``w``'s record (None: nothing remembered)."""
        return memory_of(world, state, self)[self.workloads(world).index(w)]

    def with_slot(self, world: World, state: State, w: int, record) -> State:
        """``state`` with workload ``w``'s record replaced (normalised)."""
        memory = memory_of(world, state, self)
        j = self.workloads(world).index(w)
        return with_memory(world, state, self, memory[:j] + (self.normal(record),) + memory[j + 1:])


def template_group(world: World, name: str) -> int:
    """The pod group of a template a controller declared in ``templates()``."""
    try:
        return world.template_groups[name]
    except KeyError:
        known = ", ".join(world.template_groups) or "(none)"
        raise KeyError(f"no pod template named {name!r}; declared templates: {known}") from None


def changed(before: State, after: State) -> bool:
    """Whether a step changed anything (a step that changes nothing is not a step)."""
    return after != before


def scaled_value(value, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: an int as it is, ``"25%"`` of ``total``."""
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


def describe_sync(kind: str, name: str, **lists: tuple[str, ...]) -> str:
    """``KindSync(name: create a, b; delete c)``: a sync step's text in traces."""
    parts = [f"{label} {', '.join(names)}" for label, names in lists.items() if names]
    return f"{kind}({name}: {'; '.join(parts)})"


class Expectations(NamedTuple):
    """``ControllerExpectations`` (``pkg/controller/controller_utils.go``) for a
    user's controller, kept in its memory: ``adds`` creations it still
    expects to see, ``deletes`` the pods whose deletion it still expects to
    see (sorted names). Raise them with :meth:`expect` when writing, lower
    them in the ``observe`` handler with :meth:`observed`, and act on the
    cache only when :attr:`satisfied`: a cache that has not seen the
    controller's own writes yet then cannot make it write twice. Declare
    ``rename_memory`` with :meth:`renamed` and ``memory_marks`` with
    :meth:`marks` so symmetry reduction renames the expected pods."""

    adds: int = 0
    deletes: tuple[str, ...] = ()

    @property
    def satisfied(self) -> bool:
        """``SatisfiedExpectations``: nothing expected is still to be seen."""
        return self.adds <= 0 and not self.deletes

    def expect(self, adds: int = 0, deletes: Iterable[str] = ()) -> "Expectations":
        """``ExpectCreations`` / ``ExpectDeletions``: raised before the writes."""
        return Expectations(self.adds + adds, tuple(sorted(set(self.deletes) | set(deletes))))

    def observed(self, event, owns: Callable[[PodRec], bool]) -> "Expectations":
        """Lowered by one watch event as the replica set controller's handlers
        lower them: an ADD of a pod the controller ``owns`` is one creation seen
        (``addPod``: ``CreationObserved``); the DELETE of an expected pod, or
        an update that marks it terminating (``updatePod`` hands a pod with a
        deletionTimestamp to ``deletePod``), is its deletion seen
        (``DeletionObserved``)."""
        after = event.after
        if event.before is None and after is not None and not after.deleting and owns(after):
            return self._replace(adds=self.adds - 1) if self.adds > 0 else self
        gone = after is None or (after.deleting and (event.before is None or not event.before.deleting))
        if gone and event.name in self.deletes:
            return self._replace(deletes=tuple(n for n in self.deletes if n != event.name))
        return self

    def renamed(self, mapping: dict[str, str]) -> "Expectations":
        """The same expectations with pod names renamed (a ``rename_memory`` hook)."""
        return self._replace(deletes=tuple(sorted(mapping.get(n, n) for n in self.deletes)))

    def marks(self) -> Iterable[tuple[str, str]]:
        """``(pod name, mark)`` for each expected deletion (a ``memory_marks`` hook)."""
        return [(name, "deletion expected") for name in self.deletes]

    def __repr__(self) -> str:
        parts = [f"add {self.adds}"] if self.adds else []
        parts += [f"del {list(self.deletes)}"] if self.deletes else []
        return "expect(" + (", ".join(parts) or "nothing") + ")"


class Conflict(KspecError):
    """HTTP 409: the object changed since the writer read it (stale resourceVersion)."""


class NotFound(KspecError):
    """HTTP 404: the object is gone."""


def cache_of(world: World, state: State, controller) -> tuple[PodRec, ...]:
    """The pods as ``controller``'s informer cache holds them (``state.pods``
    when the scenario's consistency is fresh or the controller reads the API)."""
    return cached_state(world, state, controller.actor).pods


def _current(state: State, seen: PodRec) -> int:
    for i, pod in enumerate(state.pods):
        if pod.name == seen.name:
            return i
    raise NotFound(f"pod {seen.name!r} not found")


def _check_unchanged(state: State, i: int, seen: PodRec, reader: tuple | None) -> None:
    """The precondition of a write: the API's pod ``i`` is still the pod read as
    ``seen`` (same UID and resourceVersion), else :class:`Conflict`.

    With ``reader`` (the world and the controller whose cache ``seen`` came
    from) the check is upstream's: the pod fails it once it has been written
    after the cache's copy, even if it was changed back, or deleted and made
    again with the same record (a new UID). Without it the API records are
    compared, so such a pod counts as unchanged (the state keeps neither UIDs
    nor resourceVersions; a per-object counter would make every history a
    distinct state)."""
    if reader is not None:
        world, controller = reader
        changed = written_since_cached(world, state, controller.actor, seen.name)
    else:
        changed = api_record(state.pods[i]) != api_record(seen)
    if changed:
        raise Conflict(f"pod {seen.name!r} was modified since it was read; re-read it and retry")


def update_cached_pod(state: State, seen: PodRec, *, reader: tuple | None = None, **changes) -> State:
    """PUT of pod ``seen`` (as read from a cache) with ``changes``: the
    resourceVersion precondition holds only if the API's pod is still the one
    read, else :class:`Conflict` (the controller must re-read and retry).
    ``reader``: ``(world, controller)``, the cache ``seen`` was read from,
    for upstream's exact check (see :func:`_check_unchanged`)."""
    i = _current(state, seen)
    _check_unchanged(state, i, seen, reader)
    return update_pod(state, i, **changes)


def delete_cached_pod(state: State, seen: PodRec, *, preconditions: bool = False,
                      reader: tuple | None = None) -> State:
    """DELETE of pod ``seen`` (as read from a cache): :class:`NotFound` when it is gone.

    Without ``preconditions`` the DELETE names the pod only, so whatever pod
    has that name now is deleted, however it changed since it was read. With
    ``preconditions`` it carries ``metav1.Preconditions`` holding ``seen``'s UID
    and resourceVersion: the API server checks them once it has found the pod
    (``rest.BeforeDelete``, again in storage when the generic registry
    store's ``Delete`` writes) and refuses with :class:`Conflict` (HTTP 409)
    when the pod changed since it was read or is another pod under that name;
    the controller re-reads and decides again. ``reader`` as for an update:
    with it the check is exact, without it records are compared. A pod already
    terminating whose precondition holds is left as it is (no error, no
    change: ``pendingGraceful``)."""
    i = _current(state, seen)
    if preconditions:
        _check_unchanged(state, i, seen, reader)
    return delete_pod(state, i)
