"""The whole placement problem for Z3: feasibility, objectives, failure tolerance, explanations.

This is the only module that imports z3. Solvers are made in one function
(:func:`make_solver`) that pins the random seed and the timeout; a check
returns ``feasible``, ``infeasible`` or ``unknown`` and ``unknown`` is never
read as ``infeasible``.

Encoding (see docs/schedule.md): one integer ``x[g, n] >= 0`` per group of
interchangeable pods and eligible node (the count of the group's pods on the
node), with

* demand: ``sum_n x[g, n] = replicas(g)``;
* resources: per node and resource, ``sum_g req(g) * x[g, n] <= allocatable -
  requests of bound pods`` (only groups requesting the resource), and every pod
  takes a pod slot;
* host ports: a group with host ports has at most one pod per node, and two
  groups with conflicting ports never share a node;
* required anti-affinity of ``g`` (term ``t``, key ``K``): in each ``K``
  domain holding a pod of ``g`` no other pod matching ``t`` (placed or bound);
* required affinity of ``g``: each domain holding a pod of ``g`` holds another
  pod matching all terms, unless that pod is the only matching pod in the
  cluster and matches its own terms (the first-pod rule);
* topology spread (DoNotSchedule) of ``g``: in each domain holding a pod of
  ``g``, matching pods <= global minimum + maxSkew (minimum 0 while fewer than
  minDomains domains exist);

A placement is accepted when it is *stable*: every placed pod passes every
filter against all the other pods where they are (bound pods are not
re-checked, as the scheduler never re-checks them). That is the order-free
reading of the kube-scheduler's checks: any of those pods, rescheduled, would
land again;
* node-local filters (taints, node affinity, nodeName, unschedulable, ports
  against bound pods, required topology labels) decide which ``x`` exist.

For failure tolerance every node gets an ``alive`` literal: a dead node's pod
slots are 0, its bound pods and daemon pods vanish from counts, its domain
leaves the spread minimum. Each scenario is one incremental check under
assumptions. For explanations every constraint family gets an assumption
literal and the unsat core is shrunk to a minimal one.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from math import comb

import z3

from kspec.scheduling import filters as F
from kspec.scheduling.problem import Problem, pack
from kspec.util import interrupt
from kspec.scheduling.result import (
    FEASIBLE,
    INFEASIBLE,
    UNKNOWN,
    BudgetBreach,
    BudgetTolerance,
    FailureCheck,
    NodeRow,
    Placement,
    Tolerance,
)

SEED = 0
DEFAULT_TIMEOUT = 60.0
ZONE_LABEL = "topology.kubernetes.io/zone"
OBJECTIVES = ("feasible", "min-nodes", "balanced")


def make_solver(timeout: float = DEFAULT_TIMEOUT, *, optimize: bool = False):
    """A Z3 solver with the seed and the timeout (seconds) pinned; every solver comes from here."""
    z3.set_param("smt.random_seed", SEED)
    z3.set_param("sat.random_seed", SEED)
    solver = z3.Optimize() if optimize else z3.Solver()
    solver.set("timeout", max(1, int(timeout * 1000)))
    if not optimize:
        solver.set("random_seed", SEED)
    return solver


def run_check(solver, *assumptions):
    """``solver.check(*assumptions)``. Z3 catches Ctrl-C itself during a check
    and answers unknown ("interrupted from keyboard"), so Python never sees the
    signal; raise it again here so that an interrupt stops the command instead
    of reading as a solver timeout. An interrupt that landed in a finalizer
    between two checks (and was swallowed there) stops it here too."""
    interrupt.raise_if_pending()
    answer = solver.check(*assumptions)
    if answer == z3.unknown and solver.reason_unknown() == "interrupted from keyboard":
        raise KeyboardInterrupt
    interrupt.raise_if_pending()
    return answer


def verdict_of(answer) -> str:
    """z3's sat/unsat/unknown as a three-valued verdict."""
    if answer == z3.sat:
        return FEASIBLE
    if answer == z3.unsat:
        return INFEASIBLE
    return UNKNOWN


_INT_CACHE: dict[int, z3.ArithRef] = {}


def _int(value: int) -> z3.ArithRef:
    cached = _INT_CACHE.get(value)
    if cached is None:
        cached = _INT_CACHE[value] = z3.IntVal(value)
    return cached


def _sum(terms):
    """The sum of integer terms, built through the C API (z3.Sum's coercion dominates
    encoding time on large problems); ints are accepted."""
    terms = [t if isinstance(t, z3.ExprRef) else _int(t) for t in terms]
    if not terms:
        return _int(0)
    if len(terms) == 1:
        return terms[0]
    ctx = terms[0].ctx
    args = (z3.Ast * len(terms))(*[t.as_ast() for t in terms])
    return z3.ArithRef(z3.Z3_mk_add(ctx.ref(), len(terms), args), ctx)


def _times(k: int, x: z3.ArithRef) -> z3.ArithRef:
    if k == 1:
        return x
    args = (z3.Ast * 2)(_int(k).as_ast(), x.as_ast())
    return z3.ArithRef(z3.Z3_mk_mul(x.ctx.ref(), 2, args), x.ctx)


def _le(a: z3.ArithRef, bound) -> z3.BoolRef:
    b = bound if isinstance(bound, z3.ExprRef) else _int(bound)
    return z3.BoolRef(z3.Z3_mk_le(a.ctx.ref(), a.as_ast(), b.as_ast()), a.ctx)


class Encoding:
    """The constraints of one :class:`Problem` in one solver.

    ``failures``: give every node an ``alive`` literal (checked under assumptions).
    ``explain``: guard each constraint family by an assumption literal, and keep
    the node-local exclusions as guarded constraints, so an unsat core can name them.
    """

    def __init__(self, problem: Problem, *, failures: bool = False, explain: bool = False,
                 timeout: float = DEFAULT_TIMEOUT, objective: str = "feasible"):
        self.p = problem
        self.failures = failures
        self.explain = explain
        self.objective = objective
        self.solver = make_solver(timeout, optimize=objective != "feasible")
        self.solver_timeout = timeout
        self._model = None
        self._values = None  # the accepted candidate, when the last check was one
        self._trial = None
        self.alive = [z3.Bool(f"alive_{i}") for i in range(len(problem.nodes))] if failures else None
        self.literals: dict[str, z3.BoolRef] = {}
        self.causes: dict[str, tuple] = {}  # literal name -> (kind, group index, detail)
        self.x: dict[tuple[int, int], z3.ArithRef] = {}
        self.pairs_of_group: list[list[int]] = []
        self.pairs_of_node: dict[int, list[int]] = defaultdict(list)
        self._pending: list = []
        self._build()
        self._flush()

    # ------------------------------------------------------------------ plumbing

    def _alive(self, i: int):
        return True if self.alive is None else self.alive[i]

    def _if_alive(self, i: int, value: int):
        return z3.IntVal(value) if self.alive is None else z3.If(self.alive[i], value, 0)

    def _add(self, name: str, cause: tuple, constraint) -> None:
        if constraint is True:
            return
        if self.explain:
            lit = self.literals.get(name)
            if lit is None:
                lit = self.literals[name] = z3.Bool(f"lit:{name}")
                self.causes[name] = cause
            self._assert(z3.Implies(lit, constraint))
        else:
            self._assert(constraint)

    def _assert(self, constraint) -> None:
        self._pending.append(constraint)

    def _flush(self) -> None:
        """Assert every buffered constraint at once: one conjunction through the C API
        (asserting tens of thousands one by one costs seconds in the Python bindings)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        ctx = z3.main_ctx()
        args = (z3.Ast * len(pending))(*[c.as_ast() for c in pending])
        conjunction = z3.BoolRef(z3.Z3_mk_and(ctx.ref(), len(pending), args), ctx)
        self.solver.add(conjunction)

    def _y(self, g: int, nodes) -> z3.ArithRef | None:
        terms = [self.x[g, i] for i in nodes if (g, i) in self.x]
        return _sum(terms) if terms else None

    # ------------------------------------------------------------------ constraints

    def _build(self) -> None:
        p = self.p
        for g, group in enumerate(p.groups):
            nodes = list(p.eligible[g])
            if self.explain:
                nodes = sorted(set(nodes) | set(p.excluded[g]))
            self.pairs_of_group.append(nodes)
            for i in nodes:
                var = z3.Int(f"x_{g}_{i}")
                self.x[g, i] = var
                self.pairs_of_node[i].append(g)
                self._assert(_le(_int(0), var))
                self._assert(_le(var, group.count))
                if i in p.excluded[g]:
                    why = p.excluded[g][i]
                    self._add(f"exclude:{g}:{why.plugin}:{why.reason}", ("exclude", g, why), var == 0)
        self._demand()
        self._capacity()
        self._ports()
        self._existing_anti_affinity()
        for g, group in enumerate(self.p.groups):
            for t, term in enumerate(F._required(group.pod, "pod_anti_affinity")):
                self._anti_affinity(g, t, term)
            if F._required(group.pod, "pod_affinity"):
                self._affinity(g)
            for c, constraint in enumerate(group.pod.spec.topology_spread_constraints):
                if constraint.when_unsatisfiable == "DoNotSchedule":
                    self._spread(g, c, constraint)
        self._flush()
        if self.objective == "min-nodes":
            self._min_nodes()
        elif self.objective == "balanced":
            self._balanced()

    def _demand(self) -> None:
        for g, group in enumerate(self.p.groups):
            total = _sum(self.x[g, i] for i in self.pairs_of_group[g])
            if group.pinned is not None:
                want = self._if_alive(self.p.node_index[group.pinned], 1)
            else:
                want = group.count
            self._add(f"replicas:{g}", ("replicas", g, group.count), total == want)

    def _capacity(self) -> None:
        p = self.p
        resources = p.resources()
        scales = {r: p.scale(r) for r in resources}
        for i, node in enumerate(p.nodes):
            groups = self.pairs_of_node.get(i, [])
            if not groups:
                continue
            slots = max(p.alloc[i].get("pods", 0) - p.bound_count(i), 0)
            cap = slots if self.alive is None else z3.If(self.alive[i], slots, 0)
            self._capacity_row(i, "pods", [(g, 1) for g in groups], cap)
            bound = p.bound_requested(i)
            for r in resources:
                terms = [(g, p.requests[g][r] // scales[r]) for g in groups if p.requests[g].get(r, 0)]
                if terms:
                    free = max(p.alloc[i].get(r, 0) - bound.get(r, 0), 0) // scales[r]
                    self._capacity_row(i, r, terms, free)

    def _capacity_row(self, i: int, resource: str, terms, cap) -> None:
        if not self.explain:
            self._assert(_le(_sum(_times(k, self.x[g, i]) for g, k in terms), cap))
            return
        guarded = []
        for g, k in terms:
            name = f"requests:{g}:{resource}"
            if name not in self.literals:
                self.literals[name] = z3.Bool(f"lit:{name}")
                self.causes[name] = ("requests", g, resource)
            guarded.append(z3.If(self.literals[name], _times(k, self.x[g, i]), 0))
        self._assert(_sum(guarded) <= cap)

    def _ports(self) -> None:
        p = self.p
        ports = {g: F.host_ports(group.pod.spec) for g, group in enumerate(p.groups)}
        with_ports = [g for g in ports if ports[g]]
        for g in with_ports:
            for i in self.pairs_of_group[g]:
                self._add(f"ports:{g}", ("ports", g, None), self.x[g, i] <= 1)
        for g, h in itertools.combinations(with_ports, 2):
            if not any(F.ports_conflict(a, b) for a in ports[g] for b in ports[h]):
                continue
            for i in set(self.pairs_of_group[g]) & set(self.pairs_of_group[h]):
                self._add(f"ports:{g}:{h}", ("ports-pair", g, h), self.x[g, i] + self.x[h, i] <= 1)

    def _existing_anti_affinity(self) -> None:
        """Bound pods' required anti-affinity terms that match a group keep it out of their domain."""
        p = self.p
        for name, pods in p.bound.items():
            m = p.node_index[name]
            labels = p.nodes[m].metadata.labels
            for pod in pods:
                for term in F._required(pod, "pod_anti_affinity"):
                    if term.topology_key not in labels:
                        continue
                    domain = p.domains(term.topology_key)[labels[term.topology_key]]
                    for g, group in enumerate(p.groups):
                        if not p.term_matches_bound(term, pod, group.pod):
                            continue
                        for i in domain:
                            if (g, i) in self.x:
                                rule = self.x[g, i] == 0 if self.alive is None else \
                                    z3.Implies(self.alive[m], self.x[g, i] == 0)
                                self._add(f"existing-anti:{g}:{name}/{pod.metadata.name}",
                                          ("existing-anti", g, (pod, term)), rule)

    def _bound_matching(self, predicate) -> dict[int, int]:
        counts: dict[int, int] = {}
        for name, pods in self.p.bound.items():
            k = sum(1 for pod in pods if predicate(pod))
            if k:
                counts[self.p.node_index[name]] = k
        return counts

    def _anti_affinity(self, g: int, t: int, term) -> None:
        p = self.p
        owner = p.groups[g].pod
        matching = [h for h, group in enumerate(p.groups) if p.term_matches_group(term, owner, group)]
        bound = self._bound_matching(lambda pod: p.term_matches_bound(term, owner, pod))
        for value, nodes in p.domains(term.topology_key).items():
            y = self._y(g, nodes)
            if y is None:
                continue
            others = [self.x[h, i] for h in matching if h != g for i in nodes if (h, i) in self.x]
            others += [self._if_alive(i, bound[i]) for i in nodes if i in bound]
            rule = z3.Implies(y >= 1, _sum(others) == 0) if others else True
            if g in matching:
                rule = y <= 1 if rule is True else z3.And(y <= 1, rule)
            self._add(f"anti:{g}:{t}", ("anti-affinity", g, t), rule)

    def _affinity(self, g: int) -> None:
        """Each pod of ``g`` needs another pod matching all its terms in its domain of every
        term, unless it is the only such pod in the cluster and matches its own terms
        (the first-pod rule, read on the final placement)."""
        p = self.p
        owner = p.groups[g].pod
        terms = F._required(owner, "pod_affinity")
        matching = [h for h, group in enumerate(p.groups)
                    if all(p.term_matches_group(term, owner, group) for term in terms)]
        bound = self._bound_matching(lambda pod: all(p.term_matches_bound(term, owner, pod) for term in terms))
        self_match = g in matching
        if self_match:
            total = _sum([z3.IntVal(sum(p.groups[h].count for h in matching if p.groups[h].pinned is None))]
                         + [self.x[h, i] for h in matching if p.groups[h].pinned is not None
                            for i in self.pairs_of_group[h]]
                         + [self._if_alive(i, k) for i, k in bound.items()])
            alone = total == 1
        for term in terms:
            for value, nodes in p.domains(term.topology_key).items():
                y = self._y(g, nodes)
                if y is None:
                    continue
                here = [self.x[h, i] for h in matching for i in nodes if (h, i) in self.x]
                here += [self._if_alive(i, bound[i]) for i in nodes if i in bound]
                need = 2 if self_match else 1  # the pod itself is one of the matching pods here
                anchored = _sum(here) >= need
                rule = z3.Implies(y >= 1, z3.Or(anchored, alone) if self_match else anchored)
                self._add(f"aff:{g}", ("affinity", g, None), rule)

    def _spread(self, g: int, c: int, constraint) -> None:
        p = self.p
        owner = p.groups[g].pod
        namespace = owner.metadata.namespace or "default"
        selector = F.effective_spread_selector(constraint, owner.metadata.labels)
        hard_keys = [k.topology_key for k in owner.spec.topology_spread_constraints
                     if k.when_unsatisfiable == "DoNotSchedule"]
        included = [i for i, node in enumerate(p.nodes)
                    if all(k in node.metadata.labels for k in hard_keys)
                    and F.spread_node_included(constraint, owner.spec, node)]
        domains = p.domains(constraint.topology_key, included)
        matching = [h for h, group in enumerate(p.groups)
                    if (group.pod.metadata.namespace or "default") == namespace
                    and selector.matches(group.pod.metadata.labels)]
        bound = self._bound_matching(lambda pod: (pod.metadata.namespace or "default") == namespace
                                     and pod.metadata.deletion_timestamp is None
                                     and selector.matches(pod.metadata.labels))
        name = f"spread:{g}:{c}"
        cause = ("spread", g, c)
        low = z3.Int(f"min_{g}_{c}")
        count = {}
        for v, nodes in domains.items():
            terms = [self.x[h, i] for h in matching for i in nodes if (h, i) in self.x]
            terms += [self._if_alive(i, bound[i]) for i in nodes if i in bound]
            count[v] = _sum(terms)
            if self.alive is None:
                self._add(name, cause, low <= count[v])
            else:
                self._add(name, cause, z3.Implies(z3.Or([self.alive[i] for i in nodes]), low <= count[v]))
        if constraint.min_domains:
            if self.alive is None:
                if len(domains) < constraint.min_domains:
                    self._add(name, cause, low <= 0)
            else:
                live = _sum(z3.If(z3.Or([self.alive[i] for i in nodes]), 1, 0) for nodes in domains.values())
                self._add(name, cause, z3.Implies(live < constraint.min_domains, low <= 0))
        for v, nodes in domains.items():
            y = self._y(g, nodes)
            if y is not None:
                self._add(name, cause, z3.Implies(y >= 1, count[v] <= low + constraint.max_skew))

    # ------------------------------------------------------------------ objectives

    def _used(self):
        used = []
        for i, groups in self.pairs_of_node.items():
            b = z3.Bool(f"used_{i}")
            self._assert(z3.Implies(_sum(self.x[g, i] for g in groups) >= 1, b))
            used.append(z3.If(b, 1, 0))
        return used

    def _min_nodes(self) -> None:
        self.solver.minimize(_sum(self._used()))

    def _balanced(self) -> None:
        """Minimise the highest cpu/memory utilisation (percent) over nodes."""
        p = self.p
        peak = z3.Int("peak_percent")
        for i, groups in self.pairs_of_node.items():
            bound = p.bound_requested(i)
            for r in ("cpu", "memory"):
                alloc = p.alloc[i].get(r, 0)
                terms = [self.x[g, i] * p.requests[g][r] for g in groups if p.requests[g].get(r, 0)]
                if alloc > 0 and terms:
                    self._assert(100 * (_sum(terms) + bound.get(r, 0)) <= peak * alloc)
        self.solver.minimize(peak)

    # ------------------------------------------------------------------ queries

    def check_candidate(self, counts: dict, assumptions=()) -> str:
        """Check a candidate placement against every constraint, in a second solver holding the
        same assertions (kept across calls), so that the main solver stays untouched for a free
        solve when the candidate is rejected."""
        if self._trial is None:
            self._trial = make_solver(self.solver_timeout)
            self._trial.add(self.solver.assertions())
        trial = self._trial
        ctx = z3.main_ctx()
        trial.push()
        try:
            for (g, i), var in self.x.items():
                value = _int(counts.get((g, i), 0))
                trial.add(z3.BoolRef(z3.Z3_mk_eq(ctx.ref(), var.as_ast(), value.as_ast()), ctx))
            answer = run_check(trial, *assumptions)
            if answer == z3.sat:
                self._model = None
                self._values = dict(counts)
        finally:
            trial.pop()
        return verdict_of(answer)

    def check(self, assumptions=()) -> str:
        if self.explain:
            assumptions = list(assumptions) + list(self.literals.values())
        answer = run_check(self.solver, *assumptions)
        self._model = self.solver.model() if answer == z3.sat else None
        self._values = None
        return verdict_of(answer)

    def all_alive(self, failed=()) -> list:
        """Assumptions: the ``failed`` node indexes dead, every other node alive."""
        dead = set(failed)
        return [z3.Not(a) if i in dead else a for i, a in enumerate(self.alive)]

    def placement(self) -> Placement:
        """The placement of the last satisfiable check."""
        values = self._values
        model = None if values is not None else (self._model if self._model is not None else self.solver.model())
        p = self.p
        rows = []
        for i, node in enumerate(p.nodes):
            pods = []
            requested = dict(p.bound_requested(i))
            for g in self.pairs_of_node.get(i, []):
                k = values.get((g, i), 0) if values is not None else \
                    model.eval(self.x[g, i], model_completion=True).as_long()
                if k:
                    pods.append((p.groups[g].key, k))
                    for r, amount in p.requests[g].items():
                        requested[r] = requested.get(r, 0) + amount * k
            requested["pods"] = p.bound_count(i) + sum(k for _, k in pods)
            rows.append(NodeRow(node.metadata.name, tuple(pods), p.bound_count(i),
                                tuple(sorted(requested.items())), tuple(sorted(p.alloc[i].items()))))
        return Placement(tuple(rows))

    def minimal_core(self, assumptions=(), budget: float = 30.0) -> tuple[list[str], bool]:
        """A minimal set of guarded constraint families that cannot hold together.

        Deletion-based: start from z3's core, drop each literal whose removal keeps the
        rest unsatisfiable. A check that times out keeps its literal, and the core is
        then reported as not proved minimal.
        """
        names = {lit.get_id(): name for name, lit in self.literals.items()}
        answer = run_check(self.solver, *assumptions, *self.literals.values())
        if answer != z3.unsat:
            return [], False
        core = [names[lit.get_id()] for lit in self.solver.unsat_core() if lit.get_id() in names]
        minimal = True
        deadline = time.monotonic() + budget
        for name in list(core):
            if time.monotonic() > deadline:
                minimal = False
                break
            trial = [n for n in core if n != name]
            answer = run_check(self.solver, *assumptions, *(self.literals[n] for n in trial))
            if answer == z3.unsat:
                smaller = {names[lit.get_id()] for lit in self.solver.unsat_core() if lit.get_id() in names}
                core = [n for n in trial if n in smaller] or trial
            elif answer == z3.unknown:
                minimal = False
        return core, minimal


# ---------------------------------------------------------------------------- failure scenarios


def class_combinations(classes: list[list[int]], k: int):
    """Failure sets of size ``k`` up to symmetry: how many nodes fail in each class.

    Yields (representative failed node indexes, number of concrete sets it stands for).
    """
    sizes = [len(c) for c in classes]

    def spread(index: int, left: int):
        if index == len(sizes):
            if left == 0:
                yield ()
            return
        for take in range(min(left, sizes[index]), -1, -1):
            for rest in spread(index + 1, left - take):
                yield (take,) + rest

    for counts in spread(0, k):
        failed = [i for cls, take in zip(classes, counts) for i in cls[:take]]
        covered = 1
        for size, take in zip(sizes, counts):
            covered *= comb(size, take)
        yield failed, covered


def check_failures(problem: Problem, scenarios, *, kind: str, k: int, timeout: float,
                   explain=None, stop_at_first: bool = True) -> Tolerance:
    """Solve each scenario (failed node indexes, covered sets) on one incremental encoding."""
    start = time.monotonic()
    encoding = Encoding(problem, failures=True, timeout=timeout)
    checks = []
    counterexample = None
    unknown = False
    solved = covered = 0
    for failed, stands_for in scenarios:
        t0 = time.monotonic()
        verdict = _check_with_candidate(problem, encoding, set(failed), encoding.all_alive(failed))
        names = tuple(problem.nodes[i].metadata.name for i in failed)
        check = FailureCheck(names, verdict, time.monotonic() - t0)
        solved += 1
        covered += stands_for
        if verdict == INFEASIBLE:
            if explain is not None:
                check = FailureCheck(names, verdict, check.seconds, explain(failed))
            checks.append(check)
            counterexample = check
            if stop_at_first:
                break
        else:
            checks.append(check)
            unknown = unknown or verdict == UNKNOWN
    verdict = INFEASIBLE if counterexample else (UNKNOWN if unknown else FEASIBLE)
    return Tolerance(kind, k, verdict, solved, covered, counterexample, tuple(checks), time.monotonic() - start)


def _check_with_candidate(problem: Problem, encoding: Encoding, failed: set, assumptions) -> str:
    """Try the quick packing as a witness first; solve freely only when it is rejected."""
    candidate = pack(problem, failed) if not encoding.explain else None
    if candidate is not None and encoding.check_candidate(candidate, assumptions) == FEASIBLE:
        return FEASIBLE
    return encoding.check(assumptions)


def check_budgets(problem: Problem, limits, *, kind: str, k: int, timeout: float) -> BudgetTolerance:
    """Does some placement the filters allow lose more pods of a limit's workloads than it allows
    when ``k`` nodes (``kind="nodes"``) or one zone (``kind="zone"``) fail? One query: the
    placement constraints with every node up, a free choice of the failed nodes, and the
    disjunction of the breaches; sat is a breach (not kept), unsat proves every limit kept."""
    start = time.monotonic()
    encoding = Encoding(problem, timeout=timeout)
    n = len(problem.nodes)
    if kind == "zone":
        zones = [nodes for nodes, _ in zone_scenarios(problem)]
        pick = [z3.Bool(f"zone_{z}") for z in range(len(zones))]
        encoding.solver.add(z3.PbEq([(b, 1) for b in pick], 1) if pick else z3.BoolVal(False))
        down = [z3.Or([pick[z] for z, nodes in enumerate(zones) if i in nodes] or [z3.BoolVal(False)])
                for i in range(n)]
    else:
        down = [z3.Bool(f"down_{i}") for i in range(n)]
        encoding.solver.add(z3.PbEq([(b, 1) for b in down], min(k, n)))
    lost = [_sum(z3.If(down[i], encoding.x[g, i], 0) for g in limit.groups for i in encoding.pairs_of_group[g])
            for limit in limits]
    encoding.solver.add(z3.Or([value > limit.allowed for value, limit in zip(lost, limits)]))
    verdict = verdict_of(run_check(encoding.solver))
    words = tuple(limit.describe(problem) for limit in limits)
    breach = None
    if verdict == FEASIBLE:  # a breach exists: the answer to "kept?" is no
        first = encoding.solver.model()
        found = next(j for j, term in enumerate(lost)
                     if first.eval(term, model_completion=True).as_long() > limits[j].allowed), first
        which, model = _least_breach(encoding.solver, lost, limits, found)
        value = lambda term: model.eval(term, model_completion=True)  # noqa: E731
        limit = limits[which]
        failed = {i for i in range(n) if z3.is_true(value(down[i]))}
        counts = {(g, i): value(encoding.x[g, i]).as_long() for g in limit.groups for i in encoding.pairs_of_group[g]}
        name = _canonical_names(problem, failed, counts, limit.groups)
        where = [(problem.groups[g].key, tuple(sorted((name[i], counts[g, i]) for i in encoding.pairs_of_group[g]
                                                      if counts[g, i])))
                 for g in limit.groups]
        breach = BudgetBreach(words[which], tuple(sorted(name[i] for i in failed)), value(lost[which]).as_long(),
                              limit.allowed, tuple(where))
    answer = {FEASIBLE: INFEASIBLE, INFEASIBLE: FEASIBLE}.get(verdict, UNKNOWN)
    return BudgetTolerance(kind, k, answer, words, breach, time.monotonic() - start)


def _least_breach(solver, lost: list, limits, found: tuple[int, z3.ModelRef]) -> tuple[int, z3.ModelRef]:
    """The first limit (in order) that some allowed placement breaches, and a
    model losing as few of its pods as any breach does: of the many models
    of a breach, the one to report, whatever Z3 happened to return first
    (which depends on every query the process made before). One query per
    limit that cannot be breached, a bisection on the pods lost for the one
    that can. ``found`` (the limit and model first returned) stands if a
    query times out."""
    for which, (term, limit) in enumerate(zip(lost, limits)):
        model = _model_with(solver, term > limit.allowed)
        if model is None:
            continue
        low, high = limit.allowed + 1, model.eval(term, model_completion=True).as_long()
        while low < high:  # the least count some breach loses lies in [low, high]
            middle = (low + high) // 2
            model = _model_with(solver, z3.And(term > limit.allowed, term <= middle))
            if model is None:
                low = middle + 1
            else:
                high = model.eval(term, model_completion=True).as_long()
        least = _model_with(solver, term == high)
        return (which, least) if least is not None else found
    return found


def _model_with(solver, constraint) -> z3.ModelRef | None:
    """A model of the solver's assertions and ``constraint``, or None (unsat or unknown)."""
    solver.push()
    try:
        solver.add(constraint)
        return solver.model() if run_check(solver) == z3.sat else None
    finally:
        solver.pop()


def _canonical_names(problem: Problem, failed: set[int], counts: dict, groups) -> dict[int, str]:
    """Names to report a breach under: within each class of interchangeable
    nodes (:meth:`Problem.node_classes`), the failed nodes and the fuller ones
    take the class's first names. Swapping such nodes maps the problem onto
    itself, so the breach stays one the filters allow, and the report no
    longer depends on which of several symmetric models the solver returned."""
    name = {i: node.metadata.name for i, node in enumerate(problem.nodes)}
    for members in problem.node_classes():
        load = {i: tuple(-counts.get((g, i), 0) for g in groups) for i in members}
        ordered = sorted(members, key=lambda i: (i not in failed, load[i], name[i]))
        names = sorted(problem.nodes[i].metadata.name for i in members)
        for i, new in zip(ordered, names):
            name[i] = new
    return name


def node_failure_scenarios(problem: Problem, k: int):
    return class_combinations(problem.node_classes(), k)


def zone_scenarios(problem: Problem, label: str = ZONE_LABEL):
    zones: dict[str, list[int]] = defaultdict(list)
    for i, node in enumerate(problem.nodes):
        zone = node.metadata.labels.get(label)
        if zone is not None:
            zones[zone].append(i)
    for zone in sorted(zones):
        yield zones[zone], 1


# ---------------------------------------------------------------------------- one-shot helpers


def solve(problem: Problem, *, objective: str = "feasible", timeout: float = DEFAULT_TIMEOUT):
    """(verdict, placement or None, encoding) for the whole problem."""
    encoding = Encoding(problem, timeout=timeout, objective=objective)
    if objective == "feasible":
        verdict = _check_with_candidate(problem, encoding, set(), [])
    else:
        verdict = encoding.check()
    if objective != "feasible" and verdict == UNKNOWN:
        # Optimize may have a best-so-far model when it times out; report it as feasible
        # only if it satisfies the hard constraints, which z3 guarantees for its model.
        try:
            model = encoding.solver.model()
            if model is not None and len(model) > 0:
                return FEASIBLE, encoding.placement(), encoding
        except z3.Z3Exception:
            pass
    placement = encoding.placement() if verdict == FEASIBLE else None
    return verdict, placement, encoding


def feasible(cluster, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The feasibility verdict for every pending pod and workload replica of ``cluster``."""
    return solve(Problem(cluster), timeout=timeout)[0]
