"""Symmetry reduction for cluster states: interchangeable pods and identical nodes.

Generated pod names are arbitrary: two states that differ
only by renaming the pods of one template, or by swapping nodes that no pod,
selector or property can tell apart, are the same state for checking. This
module computes one canonical representative per equivalence class, for the
explorer's ``representative`` (:class:`kspec.checker.model.Symmetric`), in
O(P log P + N log N), never N!.

Which nodes are interchangeable (:func:`node_classes`): nodes with the same
capacity, allocatable, taints, unschedulable flag and conditions, and the same
values for every label a pod's ``nodeSelector`` or node affinity mentions. A
label used only as a topology key (pod anti-affinity, spread, the node
controller's zones) may differ as long as its values are all distinct (each node
its own domain, as ``kubernetes.io/hostname``) or all equal; otherwise its value
is part of the class. A node a template names in ``spec.nodeName``, a node an
operation drains and a node a CEL check names are each in a class of their own. Node symmetry is off when a template uses ``matchFields`` (a
selector on node names) or a DaemonSet runs (its pods are named after their nodes). The scheduler never breaks ties by node order (its
``least-allocated`` mode keeps every top-scoring node, as upstream's
``selectHost`` picks among them at random), so it does not break symmetry.

How the representative is built (:func:`representative`): each pod's
signature is everything but its name, its node and which Endpoints list it
(group, owner, API status, physical state); a node's signature is its class,
its record and the sorted signatures of its pods, then, only to break a tie,
the sorted (signature, Endpoints membership) of its pods and its watch
history. Nodes of a class are put in signature order; then the pods are
sorted by (signature, new node, Endpoints membership) and the
pods of each generated group are renamed ``<prefix>0``, ``<prefix>1``, ... in
that order (groups with one prefix, a Job's pods before and after it counts
them, share the numbering). Stale Endpoints addresses (pods already gone) are renamed
``~gone-<i>`` in order of which Endpoints hold them, except names that are
identities (a StatefulSet's ``db-0``, a DaemonSet's, a bare pod's): such a
name comes back with the next pod, so it is kept. Nodes with equal signatures
carry equal multisets of pod signatures, so swapping them changes nothing after
the sort: the result is the same for every member of the class.
"""

from __future__ import annotations

from kspec.simulation.state import PodRec, State, World
from kspec.util.bounded import put_bounded

__all__ = ["node_classes", "Canonicaliser", "membership", "representative"]

ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def _selector_keys(world: World) -> tuple[set[str], set[str], bool]:
    """(label keys nodes are selected by, topology keys, uses matchFields)."""
    selected, topology, fields = set(), set(ZONE_KEYS), False
    for group in world.groups:
        spec = group.pod.spec
        selected.update(spec.node_selector)
        affinity = spec.affinity
        if affinity is not None and affinity.node_affinity is not None:
            na = affinity.node_affinity
            terms = list(na.required or ()) + [p.preference for p in na.preferred]
            for term in terms:
                selected.update(r.key for r in term.match_expressions)
                fields = fields or bool(term.match_fields)
        if affinity is not None:
            for pa in (affinity.pod_affinity, affinity.pod_anti_affinity):
                if pa is not None:
                    topology.update(t.topology_key for t in pa.required)
                    topology.update(w.term.topology_key for w in pa.preferred)
        topology.update(c.topology_key for c in spec.topology_spread_constraints)
    return selected, topology, fields


def node_classes(world: World, enabled: bool = True, pinned: frozenset[int] = frozenset()) -> tuple[int, ...]:
    """A class id per node: nodes with one id are interchangeable. ``pinned``
    nodes (named by an operation or a check) are each in a class of their own."""
    n = len(world.nodes)
    if not enabled:
        return tuple(range(n))
    selected, topology, fields = _selector_keys(world)
    if fields or any(g.daemon for g in world.groups):  # a DaemonSet pod's name names its node
        return tuple(range(n))
    pinned = {g.pinned_node for g in world.groups if g.pinned_node >= 0} | set(pinned)
    significant = set(selected)
    for key in topology - selected:
        values = [node.metadata.labels.get(key) for node in world.nodes]
        if len(set(values)) not in (1, n):
            significant.add(key)
    keys = []
    for i, node in enumerate(world.nodes):
        labels = tuple(sorted((k, node.metadata.labels.get(k)) for k in significant if k in node.metadata.labels))
        missing = tuple(sorted(k for k in significant if k not in node.metadata.labels))
        keys.append(("pinned", i) if i in pinned else (
            "node", node.spec, node.status.capacity, node.status.allocatable,
            tuple(sorted((c.type, c.status) for c in node.status.conditions)), labels, missing))
    ids: dict = {}
    return tuple(ids.setdefault(k, len(ids)) for k in keys)


class Canonicaliser:
    """Representatives of states of one world (see the module docstring)."""

    def __init__(self, world: World, *, nodes: bool = True, rename_memory=None, pinned: frozenset[int] = frozenset(),
                 memory_marks=None, layouts: bool = False):
        """``memory_marks(memory)`` yields ``(pod name, mark)`` for every pod
        name controllers' memory holds (so renaming stays canonical).
        ``layouts`` memoises the pod and node order of states whose Endpoints
        are all that differ (see :class:`_Layout`): worth it only where an
        endpoints controller makes states that differ only there."""
        self.world = world
        self.memory_marks = memory_marks
        self.classes = node_classes(world, nodes, pinned)
        self.members: dict[int, list[int]] = {}
        for i, c in enumerate(self.classes):
            self.members.setdefault(c, []).append(i)
        self.node_symmetry = any(len(m) > 1 for m in self.members.values())
        self.generated = tuple(g.generated for g in world.groups)
        self.prefixes = tuple(g.prefix for g in world.groups)
        # a generated group's first names, made once: one string object per name, its hash computed once
        self.names = tuple(tuple(f"{g.prefix}{k}" for k in range(_NAMES)) if g.generated else ()
                           for g in world.groups)
        # groups sharing a name prefix (a Job's pods before and after it counts them) share one numbering
        first = {}
        self.counter = tuple(first.setdefault(g.prefix, i) for i, g in enumerate(world.groups))
        self.rename_memory = rename_memory
        self.multi = [idxs for idxs in self.members.values() if len(idxs) > 1]
        # one object per distinct value (see _shared)
        self.pod_values: dict = {}
        self.part_values: tuple[dict, dict, dict] = ({}, {}, {})
        # (pods, nodes) -> _Layout or None; never with memory marks (their names order pods too)
        self.layouts: dict | None = {} if layouts and memory_marks is None else None
        self.served = self.built = 0  # layouts served and built (memoising stops when it does not pay)

    def _identity(self, name: str) -> bool:
        """Is ``name`` one a pod of a non-generated template would carry (a bare
        pod's, ``<statefulset>-<ordinal>``, ``<daemonset>-<node>``, or
        ``<daemonset>-<node>-<k>`` when the DaemonSet controller reads a cache)?
        Such a name can come back, so a stale address with it is kept, never
        renumbered (and the next free name does not depend on renumbering)."""
        for group in self.world.groups:
            if group.generated or not name.startswith(group.prefix):
                continue
            rest = name[len(group.prefix):]
            if group.daemon and rest not in self.world.node_index:
                rest = rest.rpartition("-")[0]
            if rest == "" or rest.isdigit() or rest in self.world.node_index:
                return True
        return False

    def __call__(self, state: State) -> State:
        return self.representative(state)

    def representative(self, state: State) -> State:
        # No memo of concrete states: the explorer does not canonicalise a
        # successor it has stored already, which was where a memo hit (on
        # myapp-two-faults a 4,096-entry memo then hit 4,000 times in 270,000).
        # The pod and node order is memoised instead (see _Layout).
        if self.layouts is not None and not _history(state):
            layout = self.layout_for(state)
            if layout is not None:
                return layout.apply(self, state)
        return self._compute(state)

    @property
    def memoising(self) -> bool:
        """Are layouts memoised (not for controller memory marks, nor once they do not pay)?"""
        return self.layouts is not None

    def layout_for(self, state: State) -> "_Layout | None":
        """The memoised layout of ``state``'s pods and nodes (see _Layout),
        built the first time they are met, for a state without watch history;
        None when two alike nodes tie. Needs :attr:`memoising`."""
        key = (state.pods, state.nodes)
        layouts = self.layouts
        try:
            layout = layouts[key]
            self.served += 1
            return layout
        except KeyError:
            pass
        layout = _Layout.of(self, state.pods, state.nodes)
        put_bounded(layouts, key, layout, LAYOUT_LIMIT)
        self.built += 1
        if self.built % LAYOUT_TRIAL == 0 and self.built >= 2 * LAYOUT_TRIAL and \
                self.served < LAYOUT_PAYOFF * self.built:
            self.layouts = None  # layouts are not met again often enough to pay for building them
        return layout

    def _compute(self, state: State) -> State:
        endpoints = state.endpoints
        generated = self.generated
        pods = state.pods
        member = membership(endpoints)
        sigs = [(p[1], p[2], p[4], p[5], p[6], p[7], p[8], "" if generated[p[1]] else p[0]) for p in pods]
        history = _history(state)
        marks: dict[str, tuple] = {}
        if history or self.memory_marks is not None:
            marks = self._stream_marks(state)
            if marks:
                sigs = [sg + (marks.get(p[0], ()),) for sg, p in zip(sigs, pods)]
        inside = member.get
        membs = [inside(p[0], 0) for p in pods] if member else [0] * len(pods)
        nodes = state.nodes
        if self.node_symmetry:
            # a node's key: its record, its pods' signatures, then their
            # memberships (see _Layout) and history, when those must break a tie
            on_node = _on_nodes(pods, sigs, len(nodes))
            new_nodes = list(nodes)
            relabel = list(range(len(nodes)))
            relabel.append(-1)  # relabel[-1] keeps unbound pods unbound
            refs = self._node_references(state) if history else None
            with_members = None
            for idxs in self.multi:
                order, tied = _by_signatures(idxs, nodes, on_node)
                if tied:
                    if with_members is None:
                        with_members = _on_nodes(pods, list(zip(sigs, membs)), len(nodes))
                    if refs is None:
                        order = sorted(idxs, key=lambda i: (nodes[i], on_node[i], with_members[i]))
                    else:
                        order = sorted(idxs, key=lambda i: (nodes[i], on_node[i], with_members[i], refs.get(i, ())))
                for new, old in zip(idxs, order):
                    relabel[old] = new
                    new_nodes[new] = nodes[old]
            nodes = tuple(new_nodes)
            keyed = sorted(zip(sigs, [relabel[p[3]] for p in pods], membs, pods))
        else:
            keyed = sorted(zip(sigs, [p[3] for p in pods], membs, pods))
        rename, new_pods, _ = self._renamed_in_order([(k[1], k[3]) for k in keyed])
        new_pods.sort()
        new_endpoints = endpoints
        if member:
            _number_stale([a for a in member if a not in rename and not self._identity(a)], member, marks, rename)
            get = rename.get
            new_endpoints = tuple([tuple(sorted([get(a, a) for a in addrs])) if addrs else addrs
                                   for addrs in endpoints])
        log, informers = state.log, state.informers
        if log or informers or self.memory_marks is not None:
            log, informers = self._rename_stream(log, informers, state.memory, rename,
                                                 relabel if self.node_symmetry else None)
        memory = state.memory
        if self.rename_memory is not None and memory:
            memory = self.rename_memory(memory, rename)
        pods, nodes, new_endpoints = self._shared(new_pods, nodes, new_endpoints)
        return State(pods, nodes, new_endpoints, state.replicas, memory, state.faults, state.ops, state.rv,
                     log, informers, state.etcd_down, state.status)

    def _renamed_in_order(self, placed: list) -> tuple[dict, list, bool]:
        """The pods of ``placed`` ((new node, pod) in the representative's
        order) renamed ``<prefix>0, 1, ...`` per generated group, on their new
        nodes: (old name -> new name, the new records in that order, whether
        every pod kept its name)."""
        generated, counter, names = self.generated, self.counter, self.names
        counters = [0] * len(generated)
        rename: dict[str, str] = {}
        renamed = []
        make = tuple.__new__
        kept = True
        for node, p in placed:
            old, group = p[0], p[1]
            if generated[group]:
                c = counter[group]
                k = counters[c]
                counters[c] = k + 1
                known = names[group]
                name = known[k] if k < len(known) else self.prefixes[group] + str(k)
            else:
                name = old
            rename[old] = name
            if name == old:
                renamed.append(p if node == p[3] else make(PodRec, (name, group, p[2], node) + p[4:]))
            else:
                kept = False
                renamed.append(make(PodRec, (name, group, p[2], node) + p[4:]))
        return rename, renamed, kept

    def _shared(self, pods: list, nodes: tuple, endpoints: tuple) -> tuple[tuple, tuple, tuple]:
        """The pods, nodes and Endpoints of a representative as objects shared
        with every earlier representative that has equal ones: the explorer
        stores representatives, and the same pod record or address list
        recurs in most of them, so one copy each is kept (on myapp-two-faults
        the stored states' own objects shrink sixfold)."""
        _, known_nodes, known_endpoints = self.part_values
        return self._shared_pods(pods), known_nodes.setdefault(nodes, nodes), \
            known_endpoints.setdefault(endpoints, endpoints)

    def _shared_pods(self, pods: list) -> tuple:
        """``pods`` as a tuple shared with every earlier equal one (see :meth:`_shared`)."""
        known_pods = self.part_values[0]
        pods = tuple(pods)
        shared = known_pods.get(pods)
        if shared is None:  # a new pod list: its records shared one by one
            pod = self.pod_values.setdefault
            shared = tuple([pod(p, p) for p in pods])
            known_pods[shared] = shared  # keyed by itself: the new records are not kept
        return shared

    def _stream_marks(self, state: State) -> dict[str, tuple]:
        """What the watch stream, the caches' missed records and controllers'
        memory say of each pod, names left out: part of a pod's signature, so
        that pods are interchangeable only when their histories are too."""
        marks: dict[str, list] = {}
        strip = self._strip
        for i, event in enumerate(state.log):
            marks.setdefault(event[0], []).append((0, i, strip(event[1]), strip(event[2])))
        for k, rec in enumerate(state.informers):
            for name, held in rec[1]:
                marks.setdefault(name, []).append((1, k, strip(held), None))
        if self.memory_marks is not None and state.memory:
            for name, mark in self.memory_marks(state.memory):
                marks.setdefault(name, []).append((2, mark, None, None))
        return {name: tuple(sorted(m, key=repr)) for name, m in marks.items()}

    def _strip(self, rec):
        """A past pod record without its name, its node as the node's class:
        the same for every member of the state's symmetry class."""
        if rec is None:
            return None
        node = rec[3]
        return (rec[1], rec[2], self.classes[node] if node >= 0 else -1) + tuple(rec[4:])

    def _node_references(self, state: State) -> dict[int, tuple]:
        """For each node, the past pod records that name it (where in the
        stream, names left out): part of a node's sort key, so that nodes are
        interchangeable only when their histories are too."""
        refs: dict[int, list] = {}
        strip = self._strip
        for i, event in enumerate(state.log):
            for role, rec in ((0, event[1]), (1, event[2])):
                if rec is not None and rec[3] >= 0:
                    refs.setdefault(rec[3], []).append((0, i, role, strip(rec)))
        for k, rec in enumerate(state.informers):
            for _, held in rec[1]:
                if held is not None and held[3] >= 0:
                    refs.setdefault(held[3], []).append((1, k, 0, strip(held)))
        return {node: tuple(sorted(items)) for node, items in refs.items()}

    def _rename_stream(self, log: tuple, informers: tuple, memory: tuple, rename: dict, relabel) -> tuple[tuple, tuple]:
        """The watch stream's events and the informers' missed entries with the
        same pod renaming (and node relabelling) as the state: names of pods
        already gone get fresh ``~gone-<i>`` names in order of appearance, so no
        two pods' histories are ever merged (``rename`` is extended in place, for
        controllers' memory)."""
        gone = sum(1 for name in rename.values() if name.startswith("~gone-"))

        def name_of(old: str) -> str:
            nonlocal gone
            new = rename.get(old)
            if new is None:
                if self._identity(old):
                    new = old
                else:  # a fresh number even when it equals the old name ("~gone-0" of an earlier renaming)
                    new = f"~gone-{gone}"
                    gone += 1
                rename[old] = new
            return new

        def pod(rec):
            if rec is None:
                return None
            node = rec[3] if relabel is None else relabel[rec[3]]
            return tuple.__new__(PodRec, (name_of(rec[0]), rec[1], rec[2], node) + rec[4:])

        log = tuple(type(e)(name_of(e[0]), pod(e[1]), pod(e[2])) for e in log)
        renamed = []
        for rec in informers:
            if rec.missed:
                ordered = sorted(rec.missed, key=lambda m: repr(self._strip(m[1])))  # not by name: stays canonical
                rec = rec._replace(missed=tuple(sorted((name_of(n), pod(r)) for n, r in ordered)))
            renamed.append(rec)
        if self.memory_marks is not None and memory:
            for name, _ in sorted(self.memory_marks(memory), key=lambda m: repr(m[1])):
                name_of(name)
        return log, tuple(renamed)


_NAMES = 64  # generated names per group made in advance (see Canonicaliser.names)

LAYOUT_LIMIT = 20_000  # memoised layouts; the oldest half is dropped when full
# Whether memoising pays (it cannot change a representative): from 10,000 layouts built, every 5,000, go
# on only if they were served 1.5 times as often (a layout kept with a cached step counts each time it is
# applied). On myapp-two-faults they are served 7.7 times as often by the end (python bench/bench_engine.py
# --where); with -p scheduler=all --max-states 400000, 10,000 built were served 7,236 times, so memoising
# stops there.
LAYOUT_TRIAL, LAYOUT_PAYOFF = 5_000, 1.5



class _Layout:
    """The representative's pod names and node order for one (pods, nodes),
    computed once and reused for every Endpoints that state is met with
    (most states differ from others only there).

    :meth:`Canonicaliser._compute`'s order consults Endpoints membership
    last: nodes by (record, sorted pod signatures), pods by (signature, new
    node, membership). So unless two nodes of a class tie on their records
    and pod signatures (:meth:`of` returns None; and it is not used with watch
    history, which :meth:`Canonicaliser.representative` checks, or controller
    memory marks), membership orders only pods alike in everything but their name
    (a *run*), and :meth:`apply` orders just those at each call. Pods of a
    run with equal membership are alike in everything, so which gets which of
    the run's names does not change the result: the layout's own order is
    kept unless a run's memberships differ. Stale addresses are numbered
    ``~gone-<i>`` as the full computation numbers them, so the result is
    the full computation's."""

    __slots__ = ("fixed", "runs", "nodes", "rename", "pods", "plain", "in_runs", "orders")

    def __init__(self, fixed: tuple, runs: tuple, nodes: tuple, rename: dict, pods: tuple, plain: bool):
        self.fixed = fixed  # renamed records of pods in no run
        self.runs = runs  # (pods of a run, their names in order, their new node)
        self.nodes = nodes
        self.rename = rename  # old name -> new name, each run in its own order
        self.pods = pods  # the renamed pods, each run in its own order, sorted
        self.plain = plain  # every pod keeps its name
        self.in_runs = tuple([p[0] for olds, _, _ in runs for p in olds]) if runs else ()  # the runs' pods' names
        # the runs' memberships -> (renaming, renamed pods, whether it keeps every name) in that order
        self.orders: dict | None = {} if runs else None

    @classmethod
    def of(cls, canon: Canonicaliser, pods: tuple, nodes: tuple) -> "_Layout | None":
        generated = canon.generated
        sigs = [(p[1], p[2], p[4], p[5], p[6], p[7], p[8], "" if generated[p[1]] else p[0]) for p in pods]
        relabel = list(range(len(nodes)))
        relabel.append(-1)
        if canon.node_symmetry:
            on_node = _on_nodes(pods, sigs, len(nodes))
            new_nodes = list(nodes)
            for idxs in canon.multi:
                order, tied = _by_signatures(idxs, nodes, on_node)
                if tied:
                    return None  # alike nodes: only the Endpoints may tell them apart
                for new, old in zip(idxs, order):
                    relabel[old] = new
                    new_nodes[new] = nodes[old]
            nodes = tuple(new_nodes)
        nodes = canon.part_values[1].setdefault(nodes, nodes)
        keyed = sorted(zip(sigs, [relabel[p[3]] for p in pods], pods))
        rename, renamed, plain = canon._renamed_in_order([(k[1], k[2]) for k in keyed])
        joined = [False] + [a[0] == b[0] and a[1] == b[1] for a, b in zip(keyed, keyed[1:])]  # same run as the pod before
        runs, fixed = _runs(keyed, renamed, joined) if any(joined) else ((), ())
        renamed.sort()
        return cls(fixed, runs, nodes, rename, canon._shared_pods(renamed), plain)

    def apply(self, canon: Canonicaliser, state: State) -> State:
        """The representative of ``state``, whose pods and nodes this layout is of."""
        return self.apply_to(canon, state.endpoints, state, state.rv)

    def apply_to(self, canon: Canonicaliser, endpoints: tuple, base: State, rv: int,
                 member: dict | None = None) -> State:
        """The representative of ``base`` (whose pods and nodes this layout is
        of) with ``endpoints`` and resourceVersion ``rv`` instead of its own:
        a cached step's successor, without building it (see
        :meth:`kspec.simulation.stepcache.StepCache.symmetric_steps`, which
        passes ``endpoints``' membership map, the same for all of a state's
        successors)."""
        rename, pods, plain = self.rename, self.pods, self.plain
        new_endpoints = endpoints
        if any(endpoints):
            if member is None:
                member = membership(endpoints)
            if self.runs:
                rename, pods, plain = self._ordered(canon, member)
            others = member.keys() - rename.keys()
            if others:
                stale = [a for a in others if not canon._identity(a)]
                if stale:
                    rename, plain = dict(rename), False
                    _number_stale(stale, member, {}, rename)
            if not plain:  # the addresses are renamed (each list is sorted by name, before and after)
                get = rename.get
                new_endpoints = tuple([tuple(sorted([get(a, a) for a in addrs])) if addrs else addrs
                                       for addrs in endpoints])
            new_endpoints = canon.part_values[2].setdefault(new_endpoints, new_endpoints)
        memory = base.memory
        if canon.rename_memory is not None and memory:
            memory = canon.rename_memory(memory, rename)
        return State(pods, self.nodes, new_endpoints, base.replicas, memory, base.faults, base.ops, rv,
                     base.log, base.informers, base.etcd_down, base.status)

    def _ordered(self, canon: Canonicaliser, member: dict) -> tuple[dict, tuple, bool]:
        """The renaming and renamed pods with each run's pods in membership
        order, and whether that renaming keeps every name, memoised on the
        runs' memberships (all the order depends on)."""
        inside = member.get
        pattern = tuple([inside(name, 0) for name in self.in_runs])
        found = self.orders.get(pattern)
        if found is None:
            if self._reordered(member):
                rename, pods = self._by_membership(canon, member)
                found = (rename, pods, _unchanged(rename))
            else:
                found = (self.rename, self.pods, self.plain)
            self.orders[pattern] = found
        return found

    def _reordered(self, member: dict) -> bool:
        """Do the memberships within some run differ (so its order is the Endpoints')?"""
        for olds, _, _ in self.runs:
            first = member.get(olds[0][0], 0)
            for p in olds:
                if member.get(p[0], 0) != first:
                    return True
        return False

    def _by_membership(self, canon: Canonicaliser, member: dict) -> tuple[dict, tuple]:
        """The renaming and renamed pods with each run ordered by membership."""
        rename = dict(self.rename)
        renamed = list(self.fixed)
        inside = member.get
        for olds, names, node in self.runs:
            olds = sorted(olds, key=lambda p: inside(p[0], 0))
            rename.update(zip([p[0] for p in olds], names))
            renamed.extend(_renamed(p, name, node) for p, name in zip(olds, names))
        renamed.sort()
        return rename, canon._shared_pods(renamed)


def _runs(keyed: list, renamed: list, joined: list) -> tuple[tuple, tuple]:
    """The runs of a layout, (pods, their names in order, their node), and
    the renamed records of the pods in none (``keyed``, ``renamed`` and
    ``joined`` in sort order)."""
    runs, fixed = [], []
    i, n = 0, len(keyed)
    while i < n:
        j = i + 1
        while j < n and joined[j]:
            j += 1
        if j - i > 1:
            runs.append((tuple([k[2] for k in keyed[i:j]]), tuple([r[0] for r in renamed[i:j]]), keyed[i][1]))
        else:
            fixed.append(renamed[i])
        i = j
    return tuple(runs), tuple(fixed)


def _unchanged(rename: dict) -> bool:
    """Does ``rename`` map every name to itself?"""
    return all(old == new for old, new in rename.items())


def _renamed(p: PodRec, name: str, node: int) -> PodRec:
    return p if name == p[0] and node == p[3] else tuple.__new__(PodRec, (name, p[1], p[2], node) + p[4:])


def _history(state: State) -> bool:
    """Has ``state`` watch history: events on the stream, or a cache holding
    records it saw (the caches are looked at only when there are any: most
    states have none, and a generator costs more than the test)."""
    return bool(state.log) or (bool(state.informers) and any(rec[1] for rec in state.informers))


def membership(endpoints: tuple) -> dict[str, int]:
    """Which Endpoints list each address, as an int whose bits, highest
    first, are the non-empty lists in order: it sorts as the tuple of
    booleans would, and costs one dict look-up per pod."""
    member: dict[str, int] = {}
    if any(endpoints):
        bit = 1 << sum(map(bool, endpoints))
        for addrs in endpoints:
            if addrs:
                bit >>= 1
                for a in addrs:
                    member[a] = member.get(a, 0) | bit
    return member


def _on_nodes(pods: tuple, values: list, count: int) -> list[list]:
    """Per node, the sorted ``values`` (one per pod, in pod order) of its pods."""
    lists: list[list] = [[] for _ in range(count)]
    for p, v in zip(pods, values):
        if p[3] >= 0:
            lists[p[3]].append(v)
    for lst in lists:
        lst.sort()
    return lists


def _by_signatures(idxs: list, nodes: tuple, on_node: list) -> tuple[list, bool]:
    """The nodes ``idxs`` of a class in (record, pods' signatures) order, and
    whether two of them tie on those."""
    order = sorted(idxs, key=lambda i: (nodes[i], on_node[i]))
    return order, any(nodes[a] == nodes[b] and on_node[a] == on_node[b] for a, b in zip(order, order[1:]))


def _number_stale(stale, member: dict, marks: dict, rename: dict) -> None:
    """Rename the ``stale`` addresses (pods already gone) ``~gone-<i>``:
    those with equal membership and history are interchangeable, so they are
    numbered in that order."""
    for k, a in enumerate(sorted(stale, key=lambda a: (member[a], repr(marks.get(a, ())), a))):
        rename[a] = f"~gone-{k}"


def representative(world: World, state: State) -> State:
    """One-off representative (builds a :class:`Canonicaliser`; reuse one in loops)."""
    return Canonicaliser(world).representative(state)
