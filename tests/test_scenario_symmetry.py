"""The scenario canonicaliser (kspec.simulation.symmetry) on generated states.

A representative must not depend on which member of an orbit it is computed
from: renaming the pods of a generated template (ReplicationController,
ReplicaSet, a Deployment's ReplicaSets), renaming Endpoints addresses of pods
that are gone, and swapping interchangeable nodes all give the same
representative. It must be idempotent, and it must never rename a pod whose
name is its identity (a StatefulSet's, a bare pod's) or swap nodes a DaemonSet
tells apart.
"""

from __future__ import annotations

import collections
import pathlib
import random

import attrs
import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.simulation.symmetry import Canonicaliser, node_classes
from kspec.simulation.state import (
    FAILED, NOT_RUNNING, PENDING, READY, RUN_STATES, RUNNING, UNKNOWN, NodeRec, State, World,
)
from support.profiles import examples
from support.states import pod, state as build_state

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"
NODES = ["3:cpu=4,memory=8Gi"]
WORLDS = {
    "myapp": World(kspec.load([MODELS / "myapp"])),
    "web": World(kspec.load([MODELS / "web"], nodes=NODES), rollouts={"web": "nginx:1.27"}),
    "db": World(kspec.load([MODELS / "db"], nodes=NODES)),
    "agent": World(kspec.load([MODELS / "agent", MODELS / "myapp" / "nodes.yaml", MODELS / "myapp" / "frontend-rc.yaml"])),
}


@st.composite
def cases(draw):
    name = draw(st.sampled_from(sorted(WORLDS)))
    world = WORLDS[name]
    nodes = []
    for _ in world.nodes:
        tainted = draw(st.booleans())
        nodes.append(NodeRec(up=draw(st.booleans()), reachable=draw(st.booleans()),
                             ready=draw(st.sampled_from([READY, UNKNOWN])), tainted=tainted,
                             timer=draw(st.integers(0, len(world.levels))) if tainted else 0))
    pods, used = [], set()
    groups = list(range(len(world.groups)))
    for k in range(draw(st.integers(0, 6))):
        group = draw(st.sampled_from(groups))
        g = world.groups[group]
        name_ = f"{g.prefix}{k}" if not g.daemon else f"{g.prefix}{world.node_names[k % len(world.nodes)]}"
        if name_ in used:
            continue
        used.add(name_)
        node = draw(st.integers(-1, len(nodes) - 1))
        phase = draw(st.sampled_from([PENDING, FAILED] + ([RUNNING] if node >= 0 else [])))
        run = draw(st.sampled_from(RUN_STATES)) if node >= 0 and nodes[node].up else NOT_RUNNING
        owners = [w for w, wl in enumerate(world.workloads) if wl.group == group]
        pods.append(pod(name_, group=group, owner=draw(st.sampled_from([-1] + owners)), node=node, phase=phase,
                        ready=phase == RUNNING and draw(st.booleans()), deleting=draw(st.booleans()), containers=run))
    names = [p.name for p in pods] + ["gone-a", "gone-b"]
    endpoints = tuple(tuple(sorted(draw(st.sets(st.sampled_from(names))))) for _ in world.services)
    state = build_state(world, pods, nodes, endpoints=endpoints, replicas=world.initial_replicas(), faults=(0,))
    return name, state, draw(st.integers(0, 2**32 - 1))


def renamed(world: World, state: State, seed: int) -> State:
    """A member of ``state``'s orbit: generated pods renamed within their
    template, stale addresses renamed, interchangeable nodes swapped."""
    rng = random.Random(seed)
    mapping = {}
    for group, g in enumerate(world.groups):
        if not g.generated:
            continue
        olds = [p.name for p in state.pods if p.group == group]
        fresh = [f"{g.prefix}{k}" for k in rng.sample(range(50, 80), len(olds))]
        mapping.update(zip(olds, fresh))
    live = {p.name for p in state.pods}
    stale = sorted({a for addrs in state.endpoints for a in addrs if a not in live})
    mapping.update(zip(stale, [f"stale-{k}" for k in rng.sample(range(100), len(stale))]))
    classes = node_classes(world)
    perm = list(range(len(state.nodes)))
    for c in set(classes):
        members = [i for i, k in enumerate(classes) if k == c]
        shuffled = members[:]
        rng.shuffle(shuffled)
        for old, new in zip(members, shuffled):
            perm[old] = new
    nodes = [None] * len(state.nodes)
    for old, new in enumerate(perm):
        nodes[new] = state.nodes[old]
    pods = tuple(sorted(p._replace(name=mapping.get(p.name, p.name), node=perm[p.node] if p.node >= 0 else -1)
                        for p in state.pods))
    endpoints = tuple(tuple(sorted(mapping.get(a, a) for a in addrs)) for addrs in state.endpoints)
    return attrs.evolve(state, pods=pods, nodes=tuple(nodes), endpoints=endpoints)


@examples(300)
@given(cases())
def test_representative_is_the_same_for_every_member_of_the_orbit(case):
    name, state, seed = case
    world = WORLDS[name]
    canon = Canonicaliser(world)
    rep = canon.representative(state)
    assert canon.representative(renamed(world, state, seed)) == rep
    assert canon.representative(rep) == rep  # idempotent


@examples(200)
@given(cases())
def test_identities_are_never_renamed_and_counts_are_kept(case):
    name, state, _ = case
    world = WORLDS[name]
    rep = Canonicaliser(world).representative(state)
    keep = sorted(p.name for p in state.pods if not world.groups[p.group].generated)
    assert sorted(p.name for p in rep.pods if not world.groups[p.group].generated) == keep
    assert sorted(p[1:3] + p[4:] for p in rep.pods) == sorted(p[1:3] + p[4:] for p in state.pods)
    assert [len(a) for a in rep.endpoints] == [len(a) for a in state.endpoints]
    if any(g.daemon for g in world.groups):
        assert rep.nodes == state.nodes and [p.node for p in rep.pods if not world.groups[p.group].generated] == \
            [p.node for p in sorted(state.pods) if not world.groups[p.group].generated]


def test_generated_names_go_on_past_those_made_in_advance():
    """A template with more pods than the canonicaliser names in advance
    (64 per template) numbers the rest on, in the full computation and in a
    memoised layout alike: frontend-0 .. frontend-69, one per pod."""
    world = WORLDS["myapp"]
    w = next(i for i, wl in enumerate(world.workloads) if world.groups[wl.group].prefix == "frontend-")
    group = world.workloads[w].group
    pods = [pod(f"frontend-{100 + k}", group=group, owner=w) for k in range(70)]
    state = build_state(world, pods)
    want = sorted(f"frontend-{k}" for k in range(70))
    for canon in (Canonicaliser(world), Canonicaliser(world, layouts=True)):
        assert sorted(p.name for p in canon.representative(state).pods) == want


# --------------------------------------------------------------------------- memoised layouts

WARM = {name: Canonicaliser(world, layouts=True) for name, world in WORLDS.items()}


@examples(300)
@given(cases(), st.data())
def test_a_memoised_layout_gives_the_representative_computed_in_full(case, data):
    """With layouts memoised (states differing only in their Endpoints share
    their pods' order) the representative is the one computed in full,
    whether the canonicaliser is fresh or has met the same pods and nodes
    with other Endpoints before (``WARM``, shared by every example); it is
    one per orbit and idempotent."""
    name, state, seed = case
    world = WORLDS[name]
    # pods alike but for their names (a run), so that only Endpoints membership orders them
    # and nodes alike in everything, their pods included, but what the Endpoints hold
    if data.draw(st.booleans()):
        state = attrs.evolve(state, nodes=(state.nodes[0],) * len(state.nodes))
    nodes = st.integers(-1, len(state.nodes) - 1)
    twins = [p._replace(name=f"{world.groups[p.group].prefix}{90 + k}", node=data.draw(st.sampled_from([p.node]) | nodes))
             for k, p in enumerate(data.draw(st.lists(st.sampled_from(state.pods), max_size=3)) if state.pods else [])
             if world.groups[p.group].generated]
    state = attrs.evolve(state, pods=tuple(sorted(state.pods + tuple(twins))))
    names = [p.name for p in state.pods] + ["gone-a"]

    def endpoints():
        return tuple(tuple(sorted(data.draw(st.sets(st.sampled_from(names))))) for _ in world.services)

    warm = WARM[name]
    for s in (attrs.evolve(state, endpoints=endpoints()), attrs.evolve(state, endpoints=endpoints()), state):
        rep = Canonicaliser(world).representative(s)  # computed in full, no layout
        assert warm.representative(s) == rep
        assert Canonicaliser(world, layouts=True).representative(s) == rep
        assert warm.representative(renamed(world, s, seed)) == rep
        assert warm.representative(rep) == rep


def test_memoised_layouts_serve_most_states_and_change_no_count():
    """On a rollout most representatives come from a memoised layout (the
    test above is not vacuous), and exploring with and without them stores
    as many states with the same verdicts and traces."""
    from kspec.simulation.scenario import load_scenario

    results = []
    for memo in (True, False):
        model = load_scenario(MODELS / "rolling-update.yaml")
        canon = model._canon
        if not memo:
            canon.layouts = None
        computed = [0]
        compute = canon._compute

        def counted(state, compute=compute):
            computed[0] += 1
            return compute(state)

        canon._compute = counted
        result = kspec.explore(model, symmetry=True)
        results.append((result.stats.distinct_states, [(r.name, r.verdict, len(r.trace or ())) for r in result.properties], computed[0]))
    (with_memo, verdicts, fallbacks), (without, plain_verdicts, computed_all) = results
    assert (with_memo, verdicts) == (without, plain_verdicts)
    assert fallbacks < computed_all / 2


# --------------------------------------------------------------------------- equivariance on real scenarios


COMMUTE = ["statefulset-force-delete", "statefulset-partition", "daemonset-node-crash", "drain-with-pdb",
           "unresponsive-pod-returns", "rolling-update", "myapp-antiaffinity-node-crash", "overlapping-rcs"]


@pytest.mark.parametrize("name", COMMUTE)
def test_steps_commute_with_the_representative(name):
    """For every concrete state reached (the first 1,500), the representatives
    of its successors are those of its representative's successors: the model
    cannot tell orbit members apart, which is what makes the reduction sound.
    (It caught stale Endpoints addresses of StatefulSet pods being renumbered
    although the next db-0 takes the same name.)"""
    check_steps_commute(name, 1500)


@pytest.mark.slow
@pytest.mark.parametrize("name", COMMUTE)
def test_steps_commute_with_the_representative_on_4000_states(name):
    check_steps_commute(name, 4000)


def check_steps_commute(name, limit):
    from kspec.simulation.scenario import load_scenario

    model = load_scenario(MODELS / f"{name}.yaml")
    canon = model.representative
    seen, queue = set(), collections.deque(model.init_states())
    while queue and len(seen) < limit:
        state = queue.popleft()
        succ = model._step_map(state).values()
        assert {canon(x) for x in succ} == {canon(x) for x in model._step_map(canon(state)).values()}, state
        for nxt in succ:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
