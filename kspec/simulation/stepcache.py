"""Transition caching: the steps of controllers that never read Endpoints,
memoised on the rest of the state.

Most states of a search differ from others only in their Endpoints (the
endpoints controller lags behind the pods it lists: on myapp-two-faults the
117,475 states have 14,518 distinct pod, node and fault parts). Every
built-in step source but the endpoints controller ignores ``State.endpoints``
except in one place, the name a new pod gets (:func:`free_name` avoids the
addresses of pods already gone), and none writes it. So each such source's
steps from a state are a function of the state's other fields plus those
stale addresses: computed once per distinct such key and replayed on every
state that shares it, with the state's own Endpoints (and its
resourceVersion, history only, advanced by as many writes). This is LTSmin's
transition caching over read projections (Blom, van de Pol and Weber,
"LTSmin", CAV 2010), with the projection fixed by what the sources read.

The cache is off for a model with a user's controller or operation (it may
read anything), for one without an endpoints controller (Endpoints then never
change, so no two states share a key), and with a modelled API server in
between (informer caches, several etcd members: steps then carry watch events
built from the whole state). A cached source whose step changes Endpoints is an error of kspec,
raised at once (it would break the key's premise), never a wrong state.

Under symmetry a cached step also keeps the canonicaliser's layout of its
successor's pods and nodes, which every state meeting the entry shares, so a
state's successors are listed as representatives at once
(:meth:`StepCache.symmetric_steps`).
"""

from __future__ import annotations

from kspec.simulation.controllers.endpoints import EndpointsController
from kspec.simulation.state import State
from kspec.simulation.symmetry import Canonicaliser, membership
from kspec.util.bounded import put_bounded

__all__ = ["StepCache"]


class StepCache:
    """The step map of ``sources`` on one world: the endpoints controller's
    steps computed from each state (what it would write, a function of the
    pods, from the table), every other source's from a table keyed by
    the state's non-Endpoints fields and stale addresses. ``limit`` bounds the
    table (oldest entries dropped first: a breadth-first search reads its
    latest levels)."""

    def __init__(self, world, sources, limit: int = 20_000):
        self.world = world
        self.sources = tuple(sources)
        self.live = tuple(isinstance(s, EndpointsController) for s in self.sources)
        self.limit = limit
        self.table: dict = {}
        self.hits = self.misses = 0

    @classmethod
    def for_sources(cls, world, sources, builtin) -> "StepCache | None":
        """A cache for ``sources``, or None where it cannot be sound (a source
        not in ``builtin``, a user's, may read Endpoints) or cannot help (no
        endpoints controller: Endpoints never change, so no two states share
        a key)."""
        if any(s not in builtin for s in sources) or not any(isinstance(s, EndpointsController) for s in sources):
            return None
        return cls(world, sources)

    def __getstate__(self):
        return dict(self.__dict__, table={})  # a pickled model starts with an empty table

    def step_map(self, state: State) -> dict:
        """Action -> next state, in source order, the first step with an action kept."""
        entry = self._entry(state)
        world, endpoints, rv = self.world, state.endpoints, state.rv
        steps: dict = {}
        add = steps.setdefault
        for source, live, cached in zip(self.sources, self.live, entry):
            if live:  # the endpoints controller: what it would write is cached, the comparison is not
                for action, nxt in source.steps_toward(world, state, cached):
                    add(action, nxt)
                continue
            for step in cached:
                add(step.action, step.replayed(endpoints, rv))
        return steps

    def symmetric_steps(self, state: State, canon: Canonicaliser, stored) -> tuple[list, list]:
        """What ``step_map(state)`` gives as (index, representative) pairs, a
        successor in ``stored`` (representatives) taken as it is, and the
        actions in the same order. A cached step's successor has the same pods
        and nodes whatever state meets the entry (only the Endpoints differ),
        so the canonicaliser's layout of them is kept with the step and
        applied to the state's Endpoints directly: the concrete successor is
        not built, hashed or looked up. No two steps share an action (see
        :meth:`_record`). Needs ``canon``'s layouts on."""
        entry = self._entry(state)
        world, endpoints, rv = self.world, state.endpoints, state.rv
        member = membership(endpoints)  # which Endpoints lists hold each address: the same for every step
        representative = canon.representative
        out, actions = [], []
        for source, live, cached in zip(self.sources, self.live, entry):
            if live:
                for action, nxt in source.steps_toward(world, state, cached):
                    actions.append(action)
                    out.append((len(out), nxt if nxt in stored else representative(nxt)))
                continue
            for step in cached:
                actions.append(step.action)
                layout = step.layout
                if layout is _UNSEEN:
                    layout = step.layout = canon.layout_for(step.nxt) if canon.memoising else _UNSEEN
                else:
                    canon.served += 1
                if layout is None or layout is _UNSEEN:  # alike nodes, or memoising stopped: in full
                    nxt = step.replayed(endpoints, rv)
                    out.append((len(out), nxt if nxt in stored else representative(nxt)))
                else:
                    out.append((len(out), layout.apply_to(canon, endpoints, step.nxt, rv + step.writes, member)))
        return out, actions

    def _entry(self, state: State) -> tuple:
        key = (state.pods, state.nodes, state.replicas, state.memory, state.faults, state.ops, state.log,
               state.informers, state.etcd_down, state.status, _stale_addresses(state))
        entry = self.table.get(key)
        if entry is not None:
            self.hits += 1
            return entry
        self.misses += 1
        taken: set = set()  # the actions of the steps recorded so far
        entry = tuple(source.wanted(self.world, state) if live else self._record(source, state, taken)
                      for source, live in zip(self.sources, self.live))
        put_bounded(self.table, key, entry, self.limit)
        return entry

    def _record(self, source, state: State, taken: set) -> tuple:
        """``source``'s steps from ``state``, but for an action an earlier
        step has (the first step with an action is kept; the endpoints
        controller's actions are its own kind, so no step of it takes one)."""
        out = []
        for action, nxt in source.steps(self.world, state):
            if nxt.endpoints != state.endpoints:
                raise RuntimeError(f"{type(source).__name__} changed Endpoints; it cannot be cached by StepCache")
            if action not in taken:
                taken.add(action)
                out.append(_Step(action, nxt, nxt.rv - state.rv))
        return tuple(out)


_UNSEEN = object()  # a step's layout not looked up yet


class _Step:
    """One cached step: its action, the next state it computed, the writes
    it made (resourceVersions it advances) and, once looked up, the
    canonicaliser's layout of the next state's pods and nodes (None when
    alike nodes tie), kept as long as the entry is: the table's bound bounds
    the layouts kept this way too."""

    __slots__ = ("action", "nxt", "writes", "layout")

    def __init__(self, action, nxt: State, writes: int):
        self.action, self.nxt, self.writes, self.layout = action, nxt, writes, _UNSEEN

    def replayed(self, endpoints: tuple, rv: int) -> State:
        """The next state from a state with ``endpoints`` and resourceVersion ``rv``."""
        nxt = self.nxt
        return State(nxt.pods, nxt.nodes, endpoints, nxt.replicas, nxt.memory, nxt.faults, nxt.ops,
                     rv + self.writes, nxt.log, nxt.informers, nxt.etcd_down, nxt.status)


def _stale_addresses(state: State) -> tuple:
    """The Endpoints addresses that name no pod (pods already gone): the only
    part of ``State.endpoints`` other sources read (a new pod's name avoids them)."""
    endpoints = state.endpoints
    if not any(endpoints):
        return ()
    names = {p[0] for p in state.pods}
    return tuple(sorted({a for addrs in endpoints for a in addrs if a not in names}))
