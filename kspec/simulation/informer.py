"""Informer caches: what a controller sees of the pods, fed by the API server's watch stream.

A real controller does not read etcd. It lists the pods once, then follows a
watch: an ordered stream of ADDED, MODIFIED and DELETED events, applied to its
own cache (``client-go/tools/cache``: reflector, DeltaFIFO, indexer). Its
reads lag behind the API server; a watch can break and lose events until the
reflector relists; a controller that restarts lists again, possibly from an
API server whose watch cache is itself behind (kubernetes#59848). Sieve
(OSDI'22) traced most controller bugs to exactly these gaps: stale state,
unobserved state and intermediate state.

How the state keeps it small:

- ``State.log`` holds the most recent pod events (:class:`Event`: the pod's
  API record before and after; None for "did not exist"), only as many as some
  cache has not seen yet (or, when a restart may relist from a lagging API
  server, the last ``staleness`` events).
- ``State.informers[k]`` (:class:`InformerRec`) is controller ``k``'s position:
  ``lag`` events behind the API server, and ``missed``, the records it kept
  for pods whose event a broken watch lost (until the pod's next event or a
  relist).
- A controller's cache (:func:`cached_pods`) is the current pods with the last
  ``lag`` events undone and the missed records put back. With ``staleness: 0``
  every cache is the API itself.

Bounded staleness: a cache is at most ``staleness`` events behind; a write
that would leave it further behind delivers the oldest events with it. Every
other delivery is a step of the ``informer`` actor, weakly fair (a watch
delivers eventually). Only pod events travel the stream: nodes, workloads'
``spec.replicas``, a Job's status and Endpoints are read fresh. Controllers
that can read through a cache: the replication manager, the job, StatefulSet,
endpoints, deployment and DaemonSet controllers, the scheduler, and user controllers (the scenario's
``consistency.controllers`` chooses).

Faults on the stream (see :mod:`kspec.simulation.faults`): ``watch-drop`` (the
next event is lost for one controller), ``relist`` (the reflector lists again:
the cache is rebuilt and the differences reach the handlers as events),
``controller-restart`` (memory lost; the new process lists from an API server
that may be up to ``staleness`` events behind).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import attrs

from kspec.checker.model import Action
from kspec.simulation.state import PodRec, State, World

__all__ = ["Event", "InformerRec", "Consistency", "InformerDeliver", "cached_pods", "cached_state", "pod_events",
           "record_events", "deliver", "drop_next", "relist", "informer_index", "written_since_cached",
           "Informers", "InformerRelist",
           "api_record", "describe_cache"]


class Event(NamedTuple):
    """One watch event: ADDED (``before`` None), DELETED (``after`` None) or MODIFIED."""

    name: str
    before: PodRec | None
    after: PodRec | None

    def __repr__(self) -> str:
        verb = "ADDED" if self.before is None else "DELETED" if self.after is None else "MODIFIED"
        return f"{verb} {self.name}"


class InformerRec(NamedTuple):
    """One controller's cache position: ``lag`` events behind the stream, and
    the ``missed`` pods whose event was lost (name, the record it still holds)."""

    lag: int = 0
    missed: tuple = ()

    def __repr__(self) -> str:
        missed = f" missed {[n for n, _ in self.missed]}" if self.missed else ""
        return f"(lag {self.lag}{missed})"


@attrs.frozen
class Consistency:
    """Which controllers read through an informer cache, and how stale it may be.

    ``staleness`` None is ``fresh`` (every controller reads the API directly
    and a sync is one atomic step, as before informers were modelled); an int
    N means each informed controller's cache is at most N events behind, and
    the replication manager keeps upstream's memory (expectations, slow-start
    batches) and can restart.
    """

    staleness: int | None = None
    controllers: tuple[str, ...] = ()
    time_travel: bool = False  # a restart may relist from a lagging API server: keep the last N events

    @property
    def fresh(self) -> bool:
        return self.staleness is None

    def informed(self, actor: str) -> bool:
        return not self.fresh and actor in self.controllers


def api_record(pod: PodRec | None):
    """What the API server stores of a pod (everything but the containers' physical state)."""
    return None if pod is None else pod[:8]


def informer_index(world: World, actor: str) -> int | None:
    """The position of ``actor``'s cache in ``State.informers``, or None (reads the API)."""
    return world.informer_slots.get(actor)


def cached_pods(state: State, k: int) -> tuple[PodRec, ...]:
    """Controller ``k``'s cache: the pods as its informer last heard of them."""
    rec = state.informers[k]
    if not rec.lag and not rec.missed:
        return state.pods
    return tuple(sorted(_cache(state.pods, state.log, rec).values()))


def written_since_cached(world: World, state: State, actor: str, name: str) -> bool:
    """Whether pod ``name`` was written after ``actor``'s cache took its copy:
    an event for it is among those the cache has not received, or the cache
    missed its last one. Exactly when upstream's resourceVersion of the pod
    differs from the cached object's (every write bumps it); False for a
    controller that reads the API."""
    k = informer_index(world, actor)
    if k is None:
        return False
    rec = state.informers[k]
    if any(missed == name for missed, _ in rec.missed):
        return True
    unseen = state.log[len(state.log) - rec.lag:] if rec.lag else ()
    return any(event.name == name for event in unseen)


def _cache(pods: tuple[PodRec, ...], log: tuple, rec: InformerRec) -> dict[str, PodRec]:
    """The cache of an informer at ``rec`` on ``log``, by pod name."""
    pods = {p.name: p for p in pods}
    for event in reversed(log[len(log) - rec.lag:]) if rec.lag else ():
        if event.before is None:
            pods.pop(event.name, None)
        else:
            pods[event.name] = event.before
    for name, held in rec.missed:
        if held is None:
            pods.pop(name, None)
        else:
            pods[name] = held
    return pods


def cached_state(world: World, state: State, actor: str) -> State:
    """``state`` as controller ``actor`` sees it: its cache's pods, the rest fresh."""
    k = informer_index(world, actor)
    if k is None:
        return state
    pods = cached_pods(state, k)
    return state if pods is state.pods else attrs.evolve(state, pods=pods)


def pod_events(before: tuple[PodRec, ...], after: tuple[PodRec, ...]) -> tuple[Event, ...]:
    """The watch events between two pod lists (sorted by name): API changes only."""
    if before is after:
        return ()
    old = {p.name: p for p in before}
    events = []
    for pod in after:
        prev = old.pop(pod.name, None)
        if prev is None:
            events.append(Event(pod.name, None, pod))
        elif prev[:8] != pod[:8]:
            events.append(Event(pod.name, prev, pod))
    for name, prev in old.items():
        events.append(Event(name, prev, None))
    return tuple(sorted(events, key=_event_order))


def _event_order(event: Event):
    """The order of one step's events on the stream (upstream: the order of
    the writes, which one step here does at once): by what they say of the
    pods, nodes and then names last, so that which event a lagging cache has
    not received depends on generated names or node numbers only between
    pods that differ in nothing else."""
    before, after = _unnamed(event.before), _unnamed(event.after)
    return (before[0], after[0], before[1], after[1], event.name)


def _unnamed(rec: PodRec | None) -> tuple[tuple, int]:
    """A record without its name, and its node apart."""
    return ((0,), -1) if rec is None else ((1, rec[1], rec[2]) + tuple(rec[4:]), rec[3])


def _observe(world: World, state: State, k: int, events, cache: dict[str, PodRec] | None) -> State:
    """The handlers of controller ``k`` run on events as its cache applies
    them (``processDeltas``): the old object a handler gets is the cached one,
    and an update of an object the cache lacks reaches it as an add.
    ``cache`` is the cache before the events (None: events are already
    relative to it)."""
    hook = getattr(world.informed[k], "observe", None)
    if hook is None:
        return state
    for event in events:
        if cache is not None:
            held = cache.get(event.name)
            event = Event(event.name, held if held is not None or event.after is not None else event.before,
                          event.after)
            if event.after is None:
                cache.pop(event.name, None)
            else:
                cache[event.name] = event.after
        state = hook(world, state, event)
    return state


def _trim(world: World, state: State, log: tuple, informers: tuple) -> State:
    """Keep only the events some cache still needs (or the last N for time travel)."""
    keep = max((rec.lag for rec in informers), default=0)
    if world.consistency.time_travel:
        keep = max(keep, world.consistency.staleness or 0)
    if len(log) > keep:
        log = log[len(log) - keep:] if keep else ()
    return attrs.evolve(state, log=log, informers=informers)


def record_events(world: World, before: State, after: State) -> State:
    """``after`` with the pod events of the step ``before -> after`` on the
    stream: every cache falls behind by them, and any cache that would be more
    than ``staleness`` behind receives its oldest events now."""
    events = pod_events(before.pods, after.pods)
    if not events:
        return after
    log = after.log + events
    bound = world.consistency.staleness or 0
    informers = list(after.informers)
    state = after
    for k, rec in enumerate(informers):
        lag = rec.lag + len(events)
        if lag > bound:
            due = log[len(log) - lag:len(log) - bound]
            state = _observe(world, state, k, due, _cache(after.pods, log, rec._replace(lag=lag)))
            rec = _forget_missed(rec, due)
            lag = bound
        informers[k] = rec._replace(lag=lag)
    return _trim(world, state, log, tuple(informers))


def _forget_missed(rec: InformerRec, events) -> InformerRec:
    """A delivered event carries the pod's whole object: a missed record of it is replaced."""
    if not rec.missed:
        return rec
    names = {e.name for e in events}
    return rec._replace(missed=tuple(m for m in rec.missed if m[0] not in names))


@attrs.frozen
class InformerDeliver(Action):
    """The watch delivers the next event to a controller's cache."""

    actor: ClassVar[str] = "informer"
    controller: str
    event: str


def deliver(world: World, state: State, k: int) -> State:
    """Controller ``k`` receives its oldest undelivered event."""
    rec = state.informers[k]
    event = state.log[len(state.log) - rec.lag]
    state = _observe(world, state, k, (event,), _cache(state.pods, state.log, rec))
    informers = state.informers[:k] + (_forget_missed(rec, (event,))._replace(lag=rec.lag - 1),) + state.informers[k + 1:]
    return _trim(world, state, state.log, informers)


def drop_next(world: World, state: State, k: int) -> State:
    """The watch of controller ``k`` loses its oldest undelivered event: the
    cache keeps the pod as it was until the pod's next event or a relist."""
    rec = state.informers[k]
    event = state.log[len(state.log) - rec.lag]
    missed = rec.missed
    if not any(name == event.name for name, _ in missed):
        missed = tuple(sorted(missed + ((event.name, event.before),)))
    informers = state.informers[:k] + (rec._replace(lag=rec.lag - 1, missed=missed),) + state.informers[k + 1:]
    return _trim(world, state, state.log, informers)


def relist(world: World, state: State, k: int, lag: int = 0, *, new_process: bool = False) -> State:
    """Controller ``k``'s reflector lists again from an API server ``lag``
    events behind: the cache is replaced and its handlers see the
    differences as events (``Replace``); in a ``new_process`` the cache starts
    empty, so every listed pod arrives as ADDED."""
    old = () if new_process else cached_pods(state, k)
    informers = state.informers[:k] + (InformerRec(lag=lag),) + state.informers[k + 1:]
    state = attrs.evolve(state, informers=informers)
    new = cached_pods(state, k)
    state = _observe(world, state, k, pod_events(old, new), None)
    return _trim(world, state, state.log, state.informers)


@attrs.frozen
class InformerRelist(Action):
    """A reflector whose watch broke (an event was lost) lists again."""

    actor: ClassVar[str] = "informer"
    controller: str


class Informers:
    """The watch stream delivering events to every informed controller's
    cache, and reflectors relisting after a broken watch (both weakly fair)."""

    actor = "informer"
    fair = True

    def steps(self, world: World, state: State):
        for k, rec in enumerate(state.informers):
            if rec.lag:
                event = state.log[len(state.log) - rec.lag]
                yield InformerDeliver(world.informed[k].actor, repr(event)), deliver(world, state, k)
            if rec.missed:
                yield InformerRelist(world.informed[k].actor), relist(world, state, k)


def describe_cache(state: State, k: int) -> str:
    """A cache's position in words: the events it has not seen, the pods it missed."""
    rec = state.informers[k]
    if not rec.lag and not rec.missed:
        return "up to date"
    parts = []
    if rec.lag:
        unseen = ", ".join(repr(e) for e in state.log[len(state.log) - rec.lag:])
        parts.append(f"{rec.lag} event{'s' if rec.lag > 1 else ''} behind (unseen: {unseen})")
    if rec.missed:
        parts.append(f"lost events of {', '.join(name for name, _ in rec.missed)} (until it relists)")
    return "; ".join(parts)
