"""Bounds that hold outside the search loop.

Each bound is reproduced on an input that ran unbounded before: a settle
search of many Deployments (45 s before its own limit), a user controller
stuck in a loop, the greedy baseline on 20,000 replicas (78 s), node pools
of 600,000 nodes (a MemoryError traceback), ``replicas: 2000000000`` in
``kspec schedule`` (never finished), and CEL expressions that grow strings
and lists (gigabytes, then a crash inside the CEL library).
"""

from __future__ import annotations

import json
import resource
import sys
import textwrap
import time

import pytest
from hypothesis import given, strategies as st

import kspec
from kspec.errors import LoadError, ValidationError
from kspec.loading.manifests import pool_nodes
from kspec.loading.nodepool import MAX_POOL_NODES, PoolQuota
from kspec.rules import cel
from kspec.scheduling import greedy
from kspec.scheduling.problem import MAX_PODS, Problem
from kspec.simulation.scenario import load_scenario
from kspec.util.budget import Budget, BudgetExceeded

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: nginx, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}]
"""


def deployments(count: int, replicas: int) -> str:
    return "---\n".join(DEPLOYMENT.format(name=f"app{i}", replicas=replicas) for i in range(count))


def scenario(tmp_path, extra: str = "", start: str = "settled", apps: int = 8):
    (tmp_path / "apps.yaml").write_text(deployments(apps, 2))
    (tmp_path / "s.yaml").write_text(textwrap.dedent(f"""\
        name: bounded
        manifests: [apps.yaml]
        nodes: ["3:cpu=8,memory=16Gi"]
        start: {start}
        checks:
          - expression: {{name: any-pod, kind: sometimes, cel: "size(pods) > 0"}}
        """) + extra)
    return tmp_path / "s.yaml"


# ----------------------------------------------------------------------------- settling


def test_settle_stops_at_the_time_limit_naming_the_phase(tmp_path):
    """Eight Deployments under ``start: settled``: every order of the rollout
    (45 s before the settle limit's error); a 0.5 s budget ends it at 0.5 s."""
    budget = Budget(time_limit=0.5)
    model = load_scenario(scenario(tmp_path), budget=budget)
    with pytest.raises(BudgetExceeded) as info:
        model.init_states()
    assert budget.elapsed() < 0.75
    assert str(info.value) == "time limit reached while settling the initial state"
    assert info.value.bound == "time_limit"


def test_settle_stops_inside_a_user_controller_that_never_returns(tmp_path):
    """A user controller's steps() that loops forever cannot call check(): the watchdog interrupts it."""
    (tmp_path / "stuck.py").write_text(textwrap.dedent("""\
        class Stuck:
            actor = "stuck"
            def steps(self, world, state):
                while True:
                    pass
        controller = Stuck()
        """))
    path = scenario(tmp_path, "controllers:\n  - module: stuck.py\n", apps=1)
    budget = Budget(time_limit=0.5)
    model = load_scenario(path, budget=budget)
    with pytest.raises(BudgetExceeded, match="while settling the initial state"):
        model.init_states()
    assert budget.elapsed() < 1.0


def test_loading_a_user_controller_whose_module_never_returns(tmp_path):
    (tmp_path / "sleepy.py").write_text("import time\ntime.sleep(60)\n")
    path = scenario(tmp_path, "controllers:\n  - module: sleepy.py\n", apps=1)
    budget = Budget(time_limit=0.5)
    with pytest.raises(BudgetExceeded, match="time limit reached while loading the scenario"):
        load_scenario(path, budget=budget)
    assert budget.elapsed() < 1.0


class _SlowFinalizer:
    """Its ``__del__`` outlasts the time limit, so the watchdog's alarm lands
    in it, where an exception cannot propagate (CPython reports it to
    ``sys.unraisablehook`` and goes on)."""

    def __del__(self):
        start = time.monotonic()
        while time.monotonic() - start < 0.3:
            pass


def test_an_alarm_swallowed_in_a_finalizer_is_raised_again_and_not_reported(monkeypatch):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)
    with pytest.raises(BudgetExceeded):
        with Budget(time_limit=0.05).watchdog("testing"):
            _SlowFinalizer()  # dropped at once: the finalizer runs here, past the deadline
            while True:
                pass
    assert reported == []
    assert sys.unraisablehook == reported.append


def test_watchdog_restores_the_previous_alarm_handler():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with Budget(time_limit=10).watchdog("testing"):
        pass
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_settle_without_a_budget_is_unchanged(tmp_path):
    model = load_scenario(scenario(tmp_path, apps=1))
    assert len(model.init_states()) >= 1


def test_settle_stops_at_max_states_saying_what_it_reached(tmp_path):
    """The run's max_states bounds the settle search too: stopped once it has
    stored that many states, the exception names the bound, the phase and the count."""
    model = load_scenario(scenario(tmp_path), budget=Budget(max_states=100))
    with pytest.raises(BudgetExceeded) as info:
        model.init_states()
    assert (info.value.bound, info.value.phase) == ("max_states", "settling the initial state")
    assert info.value.reached == "after 100 states, 0 of them settled"


def test_settle_one_order_stops_at_max_states(tmp_path):
    model = load_scenario(scenario(tmp_path, start="one"), budget=Budget(max_states=5))
    with pytest.raises(BudgetExceeded) as info:
        model.init_states()
    assert (info.value.bound, info.value.phase) == ("max_states", "settling the initial state")
    assert info.value.reached == "after 5 states, none of them settled"


@pytest.mark.parametrize("start", ["settled", "one"])
def test_a_settle_within_max_states_is_unchanged(tmp_path, start):
    """A max_states the settle stays under changes nothing."""
    plain = load_scenario(scenario(tmp_path, start=start, apps=1)).init_states()
    assert load_scenario(scenario(tmp_path, start=start, apps=1), budget=Budget(max_states=10_000)).init_states() == plain


def test_settle_shows_the_progress_line_when_forced_on(tmp_path, monkeypatch, capsys):
    """``progress=True`` on the budget (``--progress``): the settle writes the
    search's kind of line to stderr, and clears it when it stops."""
    from kspec.util.progress import Progress

    monkeypatch.setattr(Progress, "DELAY", 0.0)
    monkeypatch.setattr(Progress, "INTERVAL", 0.0)
    model = load_scenario(scenario(tmp_path), budget=Budget(max_states=1000, progress=True))
    with pytest.raises(BudgetExceeded):
        model.init_states()
    err = capsys.readouterr().err
    assert "\rsettling the initial state: " in err and " settled, queue " in err and "states/s" in err
    assert err.endswith("\r\033[K")
    model = load_scenario(scenario(tmp_path), budget=Budget(max_states=1000, progress=False))
    with pytest.raises(BudgetExceeded):
        model.init_states()
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- greedy baseline


def big_problem(tmp_path, replicas=20_000, nodes="200:cpu=16,memory=64Gi"):
    (tmp_path / "d.yaml").write_text(DEPLOYMENT.format(name="web", replicas=replicas))
    return Problem(kspec.load(tmp_path / "d.yaml", nodes=[nodes]))


def test_greedy_baseline_stops_at_its_timeout(tmp_path):
    """20,000 replicas on 200 nodes took 78 s; with a 0.5 s budget it says "not computed"."""
    problem = big_problem(tmp_path)
    start = time.monotonic()
    result = greedy.schedule(problem, Budget(time_limit=0.5))
    assert time.monotonic() - start < 1.0
    assert not result.computed and not result.all_placed and not result.pending
    assert result.summary().startswith("not computed (timeout after 0.5s")
    assert result.to_json()["computed"] is False
    assert result.to_json()["result"].startswith("not computed (timeout")


@pytest.mark.slow
def test_schedule_verdict_is_not_changed_by_the_greedy_timeout(tmp_path, run_cli):
    (tmp_path / "d.yaml").write_text(DEPLOYMENT.format(name="web", replicas=20_000))
    result = run_cli("schedule", tmp_path / "d.yaml", "--nodes", "200:cpu=16,memory=64Gi", "--timeout", "1")
    assert result.exit_code == 0
    assert "FEASIBLE" in result.stdout
    assert "greedy (kube-scheduler order, least-allocated): not computed (timeout after 1.0s)" in result.stdout


def test_greedy_baseline_within_its_budget_is_unchanged(tmp_path):
    result = greedy.schedule(big_problem(tmp_path, replicas=4, nodes="2:cpu=1,memory=1Gi"), Budget(time_limit=60))
    assert result.computed and result.all_placed
    assert result.to_json()["computed"] is True


# ----------------------------------------------------------------------------- generated sizes


def test_node_pools_are_capped_in_total(run_cli, tmp_path):
    """Six pools of 100,000 nodes ended in a MemoryError traceback."""
    (tmp_path / "d.yaml").write_text(DEPLOYMENT.format(name="web", replicas=1))
    pools = []
    for _ in range(6):
        pools += ["--nodes", "100000:cpu=4"]
    result = run_cli("schedule", tmp_path / "d.yaml", *pools)
    assert result.exit_code == 2
    assert result.stderr.strip() == ('--nodes: error: "100000:cpu=4": spec.count: Invalid value: 100000: '
                                      f"the node pools would generate more than {MAX_POOL_NODES} nodes")


def test_node_pools_count_together(tmp_path):
    with pytest.raises(LoadError, match=r"\(6000 from other pools\)"):
        pool_nodes(["6000:cpu=1", "6000:cpu=2"])


def test_nodepool_file_is_capped_at_its_count_line(run_cli, tmp_path):
    (tmp_path / "pool.yaml").write_text(textwrap.dedent("""\
        apiVersion: kspec.dev/v1
        kind: NodePool
        metadata: {name: w}
        spec:
          count: 20000
          allocatable: {cpu: "4"}
        """))
    result = run_cli("inspect", tmp_path / "pool.yaml")
    assert result.exit_code == 2
    assert f"pool.yaml:5: error: spec.count: Invalid value: 20000: the node pools would generate more than " \
           f"{MAX_POOL_NODES} nodes" in result.stderr


def test_pools_at_the_cap_load(tmp_path):
    assert len(pool_nodes([f"{MAX_POOL_NODES // 2}:cpu=1", f"{MAX_POOL_NODES // 2}:cpu=2"])) == MAX_POOL_NODES


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=12), st.integers(min_value=0, max_value=100))
def test_pool_quota_never_hands_out_more_than_its_limit(counts, limit):
    quota = PoolQuota(limit)
    given_out = 0
    for count in counts:
        fits = given_out + count <= limit
        try:
            quota.take(count, "spec.count")
        except ValidationError as err:
            assert not fits and err.path == "spec.count"
        else:
            assert fits
            given_out += count
    assert quota.left == limit - given_out >= 0


def test_schedule_refuses_two_billion_replicas(run_cli, tmp_path):
    """``replicas: 2000000000`` with room for them ran pod by pod, for hours."""
    (tmp_path / "d.yaml").write_text(DEPLOYMENT.format(name="web", replicas=2_000_000_000))
    start = time.monotonic()
    result = run_cli("schedule", tmp_path / "d.yaml", "--nodes", "10000:cpu=1000000,memory=100000Ti,pods=300000")
    assert time.monotonic() - start < 30
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{tmp_path / 'd.yaml'}:1: error: spec.replicas: Invalid value: 2000000000: "
                                    f"more than {MAX_PODS} pods to place")


# ----------------------------------------------------------------------------- CEL cost budget

DOUBLING = ("cel.bind(a, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', cel.bind(b, a+a+a+a+a+a+a+a, "
            "cel.bind(c, b+b+b+b+b+b+b+b, cel.bind(d, c+c+c+c+c+c+c+c, cel.bind(e, d+d+d+d+d+d+d+d, "
            "cel.bind(f, e+e+e+e+e+e+e+e, cel.bind(g, f+f+f+f+f+f+f+f, g+g+g+g+g+g+g+g))))))).size() > 0")


@pytest.fixture
def small_cel_budget(monkeypatch):
    """A 64 MiB budget, so that the blow-ups stay small in the test process."""
    monkeypatch.setattr(cel, "MEMORY_BUDGET", 64 << 20)


def test_cel_string_growth_exceeds_the_cost_budget(small_cel_budget):
    """Each bind multiplies a 32-byte string by 8: 64 MiB in the end, over the 64 MiB budget set here
    (bench/bench_bounds.py runs a 4 GiB one against the real 1 GiB budget)."""
    limits = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(cel.CelEvaluationError, match="^CEL cost budget exceeded: the expression needed more than 64 MiB"):
        cel.compile_expression(DOUBLING).evaluate({"object": {}})
    assert resource.getrlimit(resource.RLIMIT_AS) == limits


def test_cel_nested_comprehensions_exceed_the_cost_budget(small_cel_budget):
    program = cel.compile_expression("object.l.all(a, object.l.all(b, object.l.all(c, true)))")
    with pytest.raises(cel.CelEvaluationError, match="^CEL cost budget exceeded: more than 10,000 comprehension"):
        program.evaluate({"object": {"l": list(range(100))}})


def test_cel_within_budget_is_unchanged(small_cel_budget):
    assert cel.compile_expression("object.l.map(x, x * 2).size() == 1000").evaluate({"object": {"l": list(range(1000))}})


def test_rule_over_budget_is_an_error_finding_naming_the_rule(run_cli, tmp_path, small_cel_budget):
    """As the API server: an expression past its cost budget is an evaluation error, not a pass."""
    (tmp_path / "d.yaml").write_text(DEPLOYMENT.format(name="web", replicas=1))
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(f"""\
        id: grows
        severity: error
        match: {{kinds: [Deployment]}}
        expression: "{DOUBLING}"
        message: grows
        """))
    result = run_cli("check", tmp_path / "d.yaml", "--rules", tmp_path / "rules.yaml", "--no-builtin")
    assert result.exit_code != 0
    assert "grows" in result.output and "CEL cost budget exceeded" in result.output


# ----------------------------------------------------------------------------- through the CLI


@pytest.mark.parametrize("verb", ["explore", "fuzz"])
def test_a_settle_cut_by_the_time_limit_is_inconclusive_not_an_error(tmp_path, run_cli, verb):
    """The limit reached while settling: the verdict is inconclusive (0; 3 under
    --strict), naming the phase, never exit 2 as if the input were bad."""
    path = scenario(tmp_path)
    result = run_cli(verb, path, "--time-limit", "0.5")
    assert result.exit_code == 0, result.output
    assert "inconclusive (bound hit: time_limit" in result.output
    assert "settling the initial state" in result.output
    assert run_cli(verb, path, "--time-limit", "0.5", "--strict").exit_code == 3


def test_max_states_hit_while_settling_is_inconclusive_with_the_count(tmp_path, run_cli):
    """``--max-states 100`` on eight Deployments under ``start: settled``: the
    settle stops there, inconclusive, naming the bound, the phase and the count
    (text and JSON); never the settle limit's error."""
    path = scenario(tmp_path)
    result = run_cli("explore", path, "--max-states", "100", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "inconclusive (bound hit: max_states)" in result.output
    assert "(reached while settling the initial state, after 100 states, 0 of them settled)" in result.output
    assert run_cli("explore", path, "--max-states", "100", "--strict").exit_code == 3
    doc = json.loads(run_cli("explore", path, "--max-states", "100", "-o", "json").stdout)
    assert (doc["verdict"], doc["bound"], doc["complete"]) == ("inconclusive", "max_states", False)
    assert doc["reason"].endswith("(reached while settling the initial state, after 100 states, 0 of them settled)")
    assert doc["properties"][0]["reason"] == doc["reason"]


@pytest.mark.parametrize("flag", ["--progress", "--no-progress"])
def test_explore_progress_setting_reaches_the_settle(tmp_path, run_cli, monkeypatch, flag):
    from kspec.util.progress import Progress

    monkeypatch.setattr(Progress, "DELAY", 0.0)
    monkeypatch.setattr(Progress, "INTERVAL", 0.0)
    result = run_cli("explore", scenario(tmp_path), "--max-states", "1000", flag)
    assert ("settling the initial state: " in result.stderr) is (flag == "--progress")


def test_a_scenario_with_more_pods_than_it_can_explore_is_refused_at_the_workload(tmp_path, run_cli):
    """``replicas: 2000000000`` in a scenario: one line at the Deployment, exit 2,
    at once (it used to grow to gigabytes under any time limit)."""
    path = scenario(tmp_path, apps=0)
    (tmp_path / "apps.yaml").write_text(deployments(1, 2_000_000_000))
    result = run_cli("explore", path, "--time-limit", "5")
    assert result.exit_code == 2
    assert "apps.yaml:1: error: spec.replicas: 2,000,000,000 pods are more than a scenario can explore" in result.output


def test_a_report_names_the_settle_phase_when_a_bound_cuts_it(tmp_path, run_cli):
    """The report's status says the bound was hit while settling the initial
    state, not "after 0 distinct states" as if the search had run."""
    path = scenario(tmp_path)
    result = run_cli("report", path, "--time-limit", "0.5", "--format", "json")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "while settling the initial state" in text
    assert "after 0 distinct states" not in text
