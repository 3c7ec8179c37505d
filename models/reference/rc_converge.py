"""Reference model: one Replication Controller converging under node and pod faults.

The semantics are fixed so that the engine can be compared, state for
state, with other model checkers. They abstract the article's Replication
Controller ("if that Pod comes back and there are now 4 of 3, it terminates
one") and the upstream ReplicaSet controller's reconcile
(``pkg/controller/replicaset/replica_set.go``: ``diff := len(filteredPods) -
int(*(rs.Spec.Replicas))``, create when negative, delete when positive), limited
to one pod per transition.

Constants: N nodes, desired replicas R, P = R + 2 pod slots, fault budget F.

State (exactly this, nothing else): each slot's status (Absent, Pending,
Running, Unresponsive, Terminating), each slot's node (1..N when Running or
Unresponsive, else 0), each node's up flag, and ``faults`` in 0..F.

Actions, actor-and-verb, one definition each:

- ``RCCreatePod`` (rc): count = slots Pending or Running; if count < R an
  Absent slot becomes Pending.
- ``RCDeletePod`` (rc): if count > R a Pending or Running slot becomes Terminating.
- ``SchedulerBindPod`` (scheduler): a Pending slot becomes Running on an Up node.
- ``GCRemovePod`` (gc): a Terminating slot becomes Absent.
- ``NodeLifecycleMarkUnresponsive`` (node-lifecycle): a slot Running on a Down
  node becomes Unresponsive.
- Faults (fault), each while ``faults < F`` and using one unit: ``NodeCrash``
  (Up -> Down), ``NodeRecover`` (Down -> Up, and every Unresponsive slot on it
  becomes Running again), ``PodBecomeUnresponsive`` (Running on an Up node),
  ``PodRecover`` (Unresponsive on an Up node becomes Running).

Properties: see :meth:`RCConverge.properties`. For N=2, R=2, F=1 there are 877
distinct states without symmetry reduction.

The model implements the protocol on readable records and, for speed, the
packed fast path on ints (see ``kspec.checker.model``): a slot is 4 bits (0 Absent,
1 Pending, 2 Terminating, 3+2k Running on node k+1, 4+2k Unresponsive on node
k+1), then one up bit per node, then the fault counter. Tests check that both
paths give the same graph.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action, Description, actor_of, always, eventually_always, sometimes

ABSENT, PENDING, RUNNING, UNRESPONSIVE, TERMINATING = "Absent", "Pending", "Running", "Unresponsive", "Terminating"
CONTROLLERS = frozenset({"rc", "scheduler", "gc", "node-lifecycle"})


@attrs.frozen(cache_hash=True)
class RCState:
    """Slot statuses, slot nodes (0 = none), node up flags, faults used."""

    status: tuple[str, ...]
    node: tuple[int, ...]
    up: tuple[bool, ...]
    faults: int

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.status if s in statuses)

    @property
    def running(self) -> int:
        return self.count(RUNNING)


# -- actions ---------------------------------------------------------------


@attrs.frozen
class RCCreatePod(Action):
    actor: ClassVar[str] = "rc"
    slot: int


@attrs.frozen
class RCDeletePod(Action):
    actor: ClassVar[str] = "rc"
    slot: int


@attrs.frozen
class SchedulerBindPod(Action):
    actor: ClassVar[str] = "scheduler"
    slot: int
    node: int


@attrs.frozen
class GCRemovePod(Action):
    actor: ClassVar[str] = "gc"
    slot: int


@attrs.frozen
class NodeLifecycleMarkUnresponsive(Action):
    actor: ClassVar[str] = "node-lifecycle"
    slot: int


@attrs.frozen
class NodeCrash(Action):
    actor: ClassVar[str] = "fault"
    node: int


@attrs.frozen
class NodeRecover(Action):
    actor: ClassVar[str] = "fault"
    node: int


@attrs.frozen
class PodBecomeUnresponsive(Action):
    actor: ClassVar[str] = "fault"
    slot: int


@attrs.frozen
class PodRecover(Action):
    actor: ClassVar[str] = "fault"
    slot: int


def _set(t: tuple, i: int, v) -> tuple:
    return t[:i] + (v,) + t[i + 1 :]


@attrs.frozen
class RCConverge:
    """The model; picklable (three ints), action table built on demand."""

    n: int = 2
    r: int = 2
    f: int = 1
    warnings: ClassVar[tuple] = ()  # the model reads no input to warn about

    def __attrs_post_init__(self):
        if self.n < 1 or self.r < 0 or self.f < 0:
            raise ValueError("need N >= 1, R >= 0, F >= 0")
        if self.r + 2 > 14 or self.n > 6:
            raise ValueError("the packed encoding supports at most 12 replicas and 6 nodes")

    @property
    def p(self) -> int:
        return self.r + 2

    # -- protocol ----------------------------------------------------------

    def init_states(self):
        return [RCState((ABSENT,) * self.p, (0,) * self.p, (True,) * self.n, 0)]

    def actions(self, state):
        """The fixed table of every action; ``next_state`` says which are enabled."""
        return _action_table(self.n, self.p)

    def next_state(self, s: RCState, a):
        count = s.count(PENDING, RUNNING)
        kind = type(a)
        if kind is RCCreatePod:
            if count < self.r and s.status[a.slot] == ABSENT:
                return attrs.evolve(s, status=_set(s.status, a.slot, PENDING))
        elif kind is RCDeletePod:
            if count > self.r and s.status[a.slot] in (PENDING, RUNNING):
                return attrs.evolve(s, status=_set(s.status, a.slot, TERMINATING), node=_set(s.node, a.slot, 0))
        elif kind is SchedulerBindPod:
            if s.status[a.slot] == PENDING and s.up[a.node - 1]:
                return attrs.evolve(s, status=_set(s.status, a.slot, RUNNING), node=_set(s.node, a.slot, a.node))
        elif kind is GCRemovePod:
            if s.status[a.slot] == TERMINATING:
                return attrs.evolve(s, status=_set(s.status, a.slot, ABSENT))
        elif kind is NodeLifecycleMarkUnresponsive:
            if s.status[a.slot] == RUNNING and not s.up[s.node[a.slot] - 1]:
                return attrs.evolve(s, status=_set(s.status, a.slot, UNRESPONSIVE))
        elif s.faults >= self.f:
            return None
        elif kind is NodeCrash:
            if s.up[a.node - 1]:
                return attrs.evolve(s, up=_set(s.up, a.node - 1, False), faults=s.faults + 1)
        elif kind is NodeRecover:
            if not s.up[a.node - 1]:
                status = tuple(
                    RUNNING if st == UNRESPONSIVE and nd == a.node else st for st, nd in zip(s.status, s.node)
                )
                return RCState(status, s.node, _set(s.up, a.node - 1, True), s.faults + 1)
        elif kind is PodBecomeUnresponsive:
            if s.status[a.slot] == RUNNING and s.up[s.node[a.slot] - 1]:
                return attrs.evolve(s, status=_set(s.status, a.slot, UNRESPONSIVE), faults=s.faults + 1)
        elif kind is PodRecover:
            if s.status[a.slot] == UNRESPONSIVE and s.up[s.node[a.slot] - 1]:
                return attrs.evolve(s, status=_set(s.status, a.slot, RUNNING), faults=s.faults + 1)
        return None

    def properties(self):
        """The issue's five properties; ``encoded=`` is the same predicate on packed keys."""
        r = self.r
        packed = _Packed.of(self)
        running, active = packed.running, packed.active
        return [
            always(
                "running-at-most-r-plus-1",
                lambda s: s.running <= r + 1,
                encoded=lambda k: running(k) <= r + 1,
                score=lambda s: s.running,
                encoded_score=running,
            ),
            always(
                "no-overshoot-before-two-faults",
                lambda s: s.faults >= 2 or s.count(PENDING, RUNNING) <= r,
                encoded=lambda k: (k & 15) >= 2 or active(k) <= r,
            ),
            sometimes("surplus-reachable", lambda s: s.running == r + 1, encoded=lambda k: running(k) == r + 1),
            eventually_always(
                "surplus-removed", lambda s: s.running <= r, fair=CONTROLLERS, encoded=lambda k: running(k) <= r
            ),
            eventually_always(
                "converges", lambda s: s.running == r, fair=CONTROLLERS, encoded=lambda k: running(k) == r
            ),
        ]

    def within_boundary(self, state):
        return True

    # -- words for traces and reports --------------------------------------------

    def describe(self) -> Description:
        return Description("rc_converge", (("N", self.n), ("R", self.r), ("F", self.f)))

    def describe_state(self, state: RCState) -> tuple[str, ...]:
        return ()  # the record's fields read well as they are

    def describe_step(self, before: RCState, action, after: RCState) -> tuple[str, ...]:
        return ()  # the field-by-field changes (status[2]: 'Absent' -> 'Pending') say it

    def swim_lanes(self, state: RCState):
        """One view: a lane per node with the pod slots bound to it, then the unscheduled ones."""
        nodes = [f"node-{i + 1}" for i in range(len(state.up))]
        on_node: list[list[tuple[str, str]]] = [[] for _ in nodes]
        unscheduled: list[tuple[str, str]] = []
        for slot, (status, node) in enumerate(zip(state.status, state.node)):
            if status == "Absent":
                continue
            mark = (f"pod-{slot}", str(status))
            if isinstance(node, int) and 1 <= node <= len(nodes):
                on_node[node - 1].append(mark)
            else:
                unscheduled.append(mark)
        lanes = [(name, "up" if up else "down", tuple(pods)) for name, up, pods in zip(nodes, state.up, on_node)]
        return (tuple(lanes) + (("unscheduled", "", tuple(unscheduled)),),)

    def assumptions(self) -> tuple[tuple[str, str], ...]:
        faults = list(dict.fromkeys(type(a).__name__ for a in _action_table(self.n, self.p) if actor_of(a) == "fault"))
        return (
            ("nodes", f"{self.n} identical nodes (node-1..node-{self.n})"),
            ("faults", f"at most {self.f} fault(s) in all ({', '.join(faults)}); faults may happen, never have to"),
        )

    # -- symmetry: slots are interchangeable, and so are nodes -----------------

    def representative(self, s: RCState) -> RCState:
        return self.decode(self.encoded_representative(self.encode(s)))

    # -- packed fast path ------------------------------------------------------

    def encode(self, s: RCState) -> int:
        key = s.faults
        for k, up in enumerate(s.up):
            key |= int(up) << (4 + k)
        shift = 4 + self.n
        for i, (st, nd) in enumerate(zip(s.status, s.node)):
            key |= _code(st, nd) << (shift + 4 * i)
        return key

    def decode(self, key: int) -> RCState:
        shift = 4 + self.n
        codes = [(key >> (shift + 4 * i)) & 15 for i in range(self.p)]
        return RCState(
            tuple(_STATUS_OF_CODE[min(c, 3) if c < 3 else 3 + (c - 3) % 2] for c in codes),
            tuple(0 if c < 3 else (c - 3) // 2 + 1 for c in codes),
            tuple(bool((key >> (4 + k)) & 1) for k in range(self.n)),
            key & 15,
        )

    # The packed hooks are properties returning bound methods, so that the
    # explorer looks them up once rather than once per state.

    @property
    def encoded_steps(self):
        return _Packed.of(self).steps

    @property
    def encoded_representative(self):
        return _Packed.of(self).canonical

    @property
    def encoded_symmetric_steps(self):
        return _Packed.of(self).symmetric_steps

    def encoded_actions(self, key: int):
        return _action_table(self.n, self.p)

    encoded_within_boundary = None  # every state is within the boundary


_STATUS_OF_CODE = {0: ABSENT, 1: PENDING, 2: TERMINATING, 3: RUNNING, 4: UNRESPONSIVE}


def _code(status: str, node: int) -> int:
    if status == RUNNING:
        return 3 + 2 * (node - 1)
    if status == UNRESPONSIVE:
        return 4 + 2 * (node - 1)
    return {ABSENT: 0, PENDING: 1, TERMINATING: 2}[status]


_TABLES: dict = {}


def _action_table(n: int, p: int) -> tuple:
    key = (n, p)
    if key not in _TABLES:
        table = []
        table += [RCCreatePod(i) for i in range(p)]
        table += [RCDeletePod(i) for i in range(p)]
        table += [SchedulerBindPod(i, k) for i in range(p) for k in range(1, n + 1)]
        table += [GCRemovePod(i) for i in range(p)]
        table += [NodeLifecycleMarkUnresponsive(i) for i in range(p)]
        table += [NodeCrash(k) for k in range(1, n + 1)]
        table += [NodeRecover(k) for k in range(1, n + 1)]
        table += [PodBecomeUnresponsive(i) for i in range(p)]
        table += [PodRecover(i) for i in range(p)]
        _TABLES[key] = tuple(table)
    return _TABLES[key]


class _Packed:
    """Successors and canonical forms on the packed int encoding.

    Per state: decode the slot codes once, then every successor is the key plus
    a precomputed delta, and the action index is its position in the table.
    """

    _cache: dict = {}

    @classmethod
    def of(cls, model: RCConverge) -> "_Packed":
        key = (model.n, model.r, model.f)
        packed = cls._cache.get(key)
        if packed is None:
            packed = cls._cache[key] = cls(model.n, model.r, model.f)
        return packed

    def __init__(self, n: int, r: int, f: int):
        p = r + 2
        self.n, self.r, self.f, self.p = n, r, f, p
        self.sb = sb = 4 + n
        self.slot_shift = [sb + 4 * i for i in range(p)]
        # action indexes, in the order of _action_table
        base = 0
        self.i_create = [base + i for i in range(p)]
        base += p
        self.i_delete = [base + i for i in range(p)]
        base += p
        self.i_bind = [[base + i * n + k for k in range(n)] for i in range(p)]
        base += p * n
        self.i_gc = [base + i for i in range(p)]
        base += p
        self.i_mark = [base + i for i in range(p)]
        base += p
        self.i_crash = [base + k for k in range(n)]
        base += n
        self.i_recover = [base + k for k in range(n)]
        base += n
        self.i_unresp = [base + i for i in range(p)]
        base += p
        self.i_precover = [base + i for i in range(p)]
        self.hexfmt = f"%0{p}x"
        self.run_digit = ["%x" % (3 + 2 * k) for k in range(n)]
        self.unr_digit = ["%x" % (4 + 2 * k) for k in range(n)]
        self.bytes = (p + 1) // 2
        is_running = [c >= 3 and c & 1 for c in range(16)]
        is_active = [c == 1 or (c >= 3 and c & 1) for c in range(16)]
        self.running_table = [is_running[b & 15] + is_running[b >> 4] for b in range(256)]
        self.active_table = [is_active[b & 15] + is_active[b >> 4] for b in range(256)]
        self.rep = [sum(16**i for i in range(m)) for m in range(p + 1)]  # m nibbles of 1

    def running(self, key: int) -> int:
        """Slots Running, by table lookup on two slots (one byte) at a time."""
        slots, table, total = key >> self.sb, self.running_table, 0
        for _ in range(self.bytes):
            total += table[slots & 255]
            slots >>= 8
        return total

    def active(self, key: int) -> int:
        """Slots Pending or Running (the RC's count)."""
        slots, table, total = key >> self.sb, self.active_table, 0
        for _ in range(self.bytes):
            total += table[slots & 255]
            slots >>= 8
        return total

    def symmetric_steps(self, key: int) -> list[tuple[int, int]]:
        """``steps(key, symmetric=True)`` with every successor already
        canonical, computed on the orbit summary (faults, Pending count,
        Terminating count, sorted node signatures) instead of on the slots:
        each action changes one or two counts, so no successor needs the
        full canonicalisation. ``key`` must be canonical. Tests check it
        against ``canonical`` applied to ``steps``."""
        n, r, p = self.n, self.r, self.p
        hx = self.hexfmt % (key >> self.sb)
        cnt = hx.count
        faults = key & 15
        sigs = [((key >> (4 + k)) & 1, cnt(self.run_digit[k]), cnt(self.unr_digit[k])) for k in range(n)]
        h1, h2 = cnt("1"), cnt("2")
        on_nodes = sum(run + unr for _, run, unr in sigs)
        h0 = p - h1 - h2 - on_nodes
        count = h1 + sum(run for _, run, _ in sigs)
        first1, first2 = h0, h0 + h1
        build = self.build
        out = []
        append = out.append
        if count < r and h0:
            append((self.i_create[0], build(faults, h1 + 1, h2, sigs)))
        if count > r and h1:
            append((self.i_delete[first1], build(faults, h1 - 1, h2 + 1, sigs)))
        if h2:
            append((self.i_gc[first2], build(faults, h1, h2 - 1, sigs)))
        budget = faults < self.f
        pos = first2 + h2  # first slot on node 0 (canonical order: node by node, Running first)
        for j in range(n):
            up, run, unr = sig = sigs[j]
            first_run, first_unr = pos, pos + run
            pos += run + unr
            if j and sig == sigs[j - 1]:
                continue
            if count > r and run:
                append((self.i_delete[first_run], build(faults, h1, h2 + 1, _with(sigs, j, (up, run - 1, unr)))))
            if h1 and up:
                append((self.i_bind[first1][j], build(faults, h1 - 1, h2, _with(sigs, j, (up, run + 1, unr)))))
            if run:
                if not up:
                    append((self.i_mark[first_run], build(faults, h1, h2, _with(sigs, j, (up, run - 1, unr + 1)))))
                elif budget:
                    append((self.i_unresp[first_run], build(faults + 1, h1, h2, _with(sigs, j, (up, run - 1, unr + 1)))))
            if unr and up and budget:
                append((self.i_precover[first_unr], build(faults + 1, h1, h2, _with(sigs, j, (up, run + 1, unr - 1)))))
            if budget:
                if up:
                    append((self.i_crash[j], build(faults + 1, h1, h2, _with(sigs, j, (0, run, unr)))))
                else:
                    append((self.i_recover[j], build(faults + 1, h1, h2, _with(sigs, j, (1, run + unr, 0)))))
        return out

    def build(self, faults: int, h1: int, h2: int, sigs: list) -> int:
        """The canonical key of an orbit summary (``sigs`` in any order)."""
        sigs = sorted(sigs)
        run_digit, unr_digit = self.run_digit, self.unr_digit
        up_bits = 0
        parts = []
        for j in range(self.n - 1, -1, -1):
            up, run, unr = sigs[j]
            up_bits |= up << j
            parts.append(unr_digit[j] * unr + run_digit[j] * run)
        parts.append("2" * h2 + "1" * h1)
        digits = "".join(parts)
        # most significant digit first: the lowest slots hold the Absent zeros
        slots = int(digits, 16) << (4 * (self.p - len(digits))) if digits else 0
        return faults | (up_bits << 4) | (slots << self.sb)

    def steps(self, key: int, symmetric: bool = False) -> list[tuple[int, int]]:
        """Every enabled step as (action index, successor key). With
        ``symmetric`` (for a canonical key, whose equal slot codes are adjacent
        and whose equal nodes are adjacent) only the first of several slots
        with the same code, or nodes with the same signature, is used: the
        others give symmetric successors by the same actor."""
        n, r, p, sb = self.n, self.r, self.p, self.sb
        faults = key & 15
        slots = key >> sb
        codes = [(slots >> (4 * i)) & 15 for i in range(p)]
        up = [(key >> (4 + k)) & 1 for k in range(n)]
        shifts = self.slot_shift
        if symmetric:
            slot_range = [i for i in range(p) if i == 0 or codes[i] != codes[i - 1]]
            sigs = [(up[k], codes.count(3 + 2 * k), codes.count(4 + 2 * k)) for k in range(n)]
            node_range = [k for k in range(n) if k == 0 or sigs[k] != sigs[k - 1]]
        else:
            slot_range = range(p)
            node_range = range(n)
        out = []
        append = out.append
        count = 0
        for c in codes:
            if c == 1 or (c >= 3 and c & 1):
                count += 1
        if count < r:
            for i in slot_range:
                if codes[i] == 0:
                    append((self.i_create[i], key + (1 << shifts[i])))
        elif count > r:
            for i in slot_range:
                c = codes[i]
                if c == 1 or (c >= 3 and c & 1):
                    append((self.i_delete[i], key + ((2 - c) << shifts[i])))
        budget = faults < self.f
        for i in slot_range:
            c = codes[i]
            if c == 0:
                continue
            sh = shifts[i]
            if c == 1:
                bind = self.i_bind[i]
                for k in node_range:
                    if up[k]:
                        append((bind[k], key + ((2 + 2 * k) << sh)))
            elif c == 2:
                append((self.i_gc[i], key - (2 << sh)))
            elif c & 1:  # Running on node (c-3)//2
                if up[(c - 3) >> 1]:
                    if budget:
                        append((self.i_unresp[i], key + 1 + (1 << sh)))
                else:
                    append((self.i_mark[i], key + (1 << sh)))
            elif budget and up[(c - 4) >> 1]:  # Unresponsive on an Up node
                append((self.i_precover[i], key + 1 - (1 << sh)))
        if budget:
            for k in node_range:
                bit = 1 << (4 + k)
                if up[k]:
                    append((self.i_crash[k], key + 1 - bit))
                else:
                    delta = 1 + bit
                    unresp = 4 + 2 * k
                    for i in range(p):
                        if codes[i] == unresp:
                            delta -= 1 << shifts[i]
                    append((self.i_recover[k], key + delta))
        return out

    def canonical(self, key: int) -> int:
        """Orbit representative on keys: nodes sorted by signature and
        relabelled, then the pods sorted, specialised to counts: the
        slots are a multiset of codes, so only how many slots hold each code
        matters; a node's signature is (up, slots Running on it, slots
        Unresponsive on it); nodes are ordered by signature and relabelled, and
        the slot codes written back in ascending order. Done on the hex digits
        of the slot field, where ``str.count`` and ``int(.., 16)`` run in C."""
        hx = self.hexfmt % (key >> self.sb)
        cnt = hx.count
        run_digit, unr_digit = self.run_digit, self.unr_digit
        sigs = [((key >> (4 + k)) & 1, cnt(run_digit[k]), cnt(unr_digit[k])) for k in range(self.n)]
        return self.build(key & 15, cnt("1"), cnt("2"), sigs)


def _with(sigs: list, j: int, sig: tuple) -> list:
    out = list(sigs)
    out[j] = sig
    return out


def build_model(N: int = 2, R: int = 2, F: int = 1) -> RCConverge:
    """``kspec explore models/reference/rc_converge.py -p N=3 -p R=5 -p F=3``."""
    return RCConverge(int(N), int(R), int(F))
