"""Errors all at once (issue 17, item 5): every problem of an object, of a
scenario file and of its CEL checks in one run, each at its own line."""

from __future__ import annotations

import copy
import itertools
import pathlib
import shutil

import attrs
import pytest

import kspec
from kspec.errors import LoadError
from kspec.loading.manifests import load_objects, parse_object
from kspec.rules.cel import compile_expression, syntax_tree
from kspec.simulation.scenario import ScenarioError, load_scenario, parse_scenario
from kspec.simulation.scenario_cel import (SCHEMA, VARIABLES, ExpressionError, Shape, compile_check,
                                           schema_problems, state_view)
from kspec.simulation.state import World
from support.states import pod, state

MODELS = pathlib.Path(__file__).resolve().parent.parent / "models"

# --------------------------------------------------------------------------- validation: every field of an object

THREE_BAD_FIELDS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: -1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        tier: front end
    spec:
      containers:
      - name: web
        image: nginx:1.25
        resources:
          requests:
            cpu: 1.5.3
"""


def errors_in(tmp_path, text: str, name: str = "m.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    return [str(d).replace(f"{path}:", "") for d in load_objects([path]).diagnostics]


def test_a_deployment_with_three_bad_fields_gets_three_errors_in_one_run(tmp_path):
    """The shape from the issue: a negative replicas, a bad template label and a bad
    quantity, each at its field's line, in upstream's order (ValidateDeploymentSpec:
    replicas, then the template's metadata, then its pod spec)."""
    assert errors_in(tmp_path, THREE_BAD_FIELDS) == [
        "6: error: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        '14: error: spec.template.metadata.labels.tier: Invalid value: "front end": a valid label must be an empty '
        "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        '21: error: spec.template.spec.containers[0].resources.requests.cpu: invalid quantity "1.5.3": quantities '
        "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]


def test_the_cli_prints_every_error_and_exits_2(tmp_path, run_cli):
    path = tmp_path / "web.yaml"
    path.write_text(THREE_BAD_FIELDS)
    result = run_cli("inspect", path)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert [line.split(": error: ")[0] for line in lines] == [f"{path}:6", f"{path}:14", f"{path}:21"]


def test_parse_object_raises_every_problem():
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
                "spec": {"restartPolicy": "Sometimes", "containers": [{"name": "c"}]}}
    with pytest.raises(LoadError) as err:
        parse_object(manifest)
    assert [d.field for d in err.value.diagnostics] == [
        "metadata.name", "spec.containers[0].image", "spec.restartPolicy"]


C = {"name": "c", "image": "nginx:1.25"}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "a"}},
       "spec": {"containers": [C]}}


def _with(manifest: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(manifest)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


# Independent mutations of one Pod, each rejected alone with exactly one error.
MUTATIONS = [
    (("metadata", "name"), "1.bad_"),
    (("metadata", "labels"), {"app": "has space"}),
    (("metadata", "annotations"), {"-bad": "x"}),
    (("spec", "containers"), [{**C, "resources": {"requests": {"cpu": "1.5.3"}}}]),
    (("spec", "restartPolicy"), "Sometimes"),
    (("spec", "tolerations"), [{"key": "k", "operator": "Exists", "value": "v"}]),
    (("spec", "nodeSelector"), {"zone": 3}),
    (("spec", "terminationGracePeriodSeconds"), -5),
    (("spec", "hostNetwork"), "yes"),
    (("status",), {"phase": "Sleeping"}),
]


def _diagnostics(manifest) -> list[tuple[str, str]]:
    try:
        parse_object(manifest)
    except LoadError as err:
        return [(d.field, d.message) for d in err.diagnostics]
    return []


@pytest.mark.parametrize("chosen", list(itertools.combinations(range(len(MUTATIONS)), 3))[::7] + [tuple(range(len(MUTATIONS)))])
def test_independent_problems_are_each_reported_with_their_own_message(chosen):
    """Several independent bad fields give exactly the errors each gives alone,
    byte for byte (the order is upstream's; the tests above pin it)."""
    alone = {}
    combined = POD
    for index in chosen:
        path, value = MUTATIONS[index]
        alone[index] = _diagnostics(_with(POD, path, value))
        assert len(alone[index]) == 1, alone[index]
        combined = _with(combined, path, value)
    got = _diagnostics(combined)
    assert sorted(got) == sorted(d for index in chosen for d in alone[index])


def test_list_items_and_nested_parts_each_report():
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "containers": [{**C, "ports": [{"containerPort": 0}, {"containerPort": 70000, "name": "TOO_LONG_PORT_NAME"}]},
                       {"name": "c", "image": ""}],
        "tolerations": [{"operator": "Equal", "value": "x"}, {"key": "k", "effect": "Never"}],
        "volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]}}
    assert [f for f, _ in _diagnostics(manifest)] == [
        "spec.volumes[1].name",
        "spec.containers[0].ports[0].containerPort",
        "spec.containers[0].ports[1].name",
        "spec.containers[0].ports[1].containerPort",
        "spec.containers[1].image",
        "spec.containers[1].name",  # a duplicate of containers[0]
        "spec.tolerations[0].operator",
        "spec.tolerations[1].effect",
    ]


def test_every_port_without_a_name_is_reported():
    """ValidateService: with several ports, each port needs a name (upstream reports each)."""
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80}, {"port": 443}, {"port": 8080, "name": "alt"}]}}
    assert _diagnostics(service) == [("spec.ports[0].name", "Required value"), ("spec.ports[1].name", "Required value")]


def deployment(**spec):
    body = {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [C]}}, **spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": body}


@pytest.mark.parametrize("manifest, expected", [
    # a selector that does not parse cannot be matched against the template
    (deployment(selector={"matchExpressions": [{"key": "app", "operator": "Like"}]}), ["spec.selector"]),
    # no selector: Required, and no "does not match" about a selector that is not there
    (deployment(selector=None), ["spec.selector"]),
    # a request cannot be compared with a limit that does not parse
    (deployment(template={"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {**C, "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "x1"}}}]}}),
     ["spec.template.spec.containers[0].resources.limits.cpu"]),
    # an unsupported strategy type: its rolling update is not checked
    (deployment(strategy={"type": "Blue", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}), ["spec.strategy.type"]),
    # a spec that is not a mapping: metadata is still checked
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Web!"}, "spec": "oops"},
     ["metadata.name", "spec"]),
])
def test_checks_that_need_a_failed_field_are_skipped(manifest, expected):
    assert [f for f, _ in _diagnostics(manifest)] == expected


def test_a_selector_mismatch_is_reported_beside_other_errors_and_keeps_its_code(tmp_path):
    """rules/engine turns the mismatch into a finding by its code; other errors stay fatal."""
    text = THREE_BAD_FIELDS.replace("      app: web\n  template", "      app: website\n  template")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    diagnostics = load_objects([path]).diagnostics
    assert [(d.field, d.code) for d in diagnostics] == [
        ("spec.replicas", ""), ("spec.template.metadata.labels", "selector-mismatch"),
        ("spec.template.metadata.labels.tier", ""), ("spec.template.spec.containers[0].resources.requests.cpu", "")]


def test_a_port_defaulted_from_a_bad_port_is_not_a_second_error():
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 700000}]}}
    assert [f for f, _ in _diagnostics(service)] == ["spec.ports[0].port"]


def test_items_of_a_list_report_each_field_with_the_items_prefix(tmp_path):
    text = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: 1s\n"
            "  spec:\n    ports:\n    - port: 0\n")
    assert errors_in(tmp_path, text) == [
        '7: error: items[0].metadata.name: Invalid value: "1s": a DNS-1035 label must consist of lower case '
        "alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        "10: error: items[0].spec.ports[0].port: Invalid value: 0: must be greater than or equal to 1",
    ]


def test_valid_objects_build_the_same_records():
    """Collecting errors changes nothing for valid input (the corpus snapshot is in test_corpus)."""
    record = parse_object(deployment(replicas=3))
    assert record.spec.replicas == 3 and record.spec.template.metadata.labels == {"app": "web"}


# --------------------------------------------------------------------------- scenario files: every problem in one pass


def scenario_dir(tmp_path) -> pathlib.Path:
    shutil.copytree(MODELS / "myapp", tmp_path / "myapp", dirs_exist_ok=True)
    return tmp_path


A_NODE_DOWN = """  - expression:
      name: a-node-down
      kind: sometimes
      cel: nodes.exists(n, !n.up)
"""


def problems(error) -> list[str]:
    return [f"{d.line}: {d.field}: {d.message}" if d.field else f"{d.line}: {d.message}" for d in error.diagnostics]


def test_a_scenario_file_reports_every_problem_in_one_pass(tmp_path):
    path = scenario_dir(tmp_path) / "s.yaml"
    path.write_text("""\
manifests: [myapp/]
start: sometime
colour: red
faults:
  kinds: [node-crash, meteor]
checks:
  - expression:
      name: ready
      kind: somtimes
      cel: pods.all(p, p.phse == "Running")
      colour: blue
""" + A_NODE_DOWN)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(path, {"budget": "x", "zoom": "1"})
    got = problems(err.value)
    assert got[:3] == [
        "3: colour: unknown key 'colour'; scenario keys are: name, description, manifests, nodes, start, prepare, "
        "scheduler, faults, operations, load, controllers, disable, consistency, etcd, nodeLifecycle, "
        "podGCThreshold, bounds, checks, expect, fuzz",
        "2: start: start must be one of settled, one, applied, got 'sometime'",
        "5: faults.kinds[1]: unknown fault kind 'meteor'; the kinds are: node-crash, node-restart, node-partition, "
        "node-heal, container-crash, pod-hang, pod-recover, pod-delete, controller-restart, pod-fail, watch-drop, "
        "relist, expectations-expire, control-plane-partition, etcd-member-crash, etcd-member-restart",
    ]
    assert got[3:] == [
        "None: parameter budget: expected an integer, got 'x'",
        "11: checks[0].expression.colour: unknown key 'colour' (name, kind, cel, description)",
        "9: checks[0].expression.kind: kind must be one of always, sometimes, eventually_always, got 'somtimes'",
        "10: checks[0].expression.cel: CEL 1:14: no such key 'phse' in a pod; did you mean 'phase'? (a pod has: "
        "name, workload, kind, labels, node, phase, ready, terminating, unschedulable, containers, running)",
        "None: unknown parameter 'zoom'; scenario parameters: budget, scheduler, start, max_pods",
    ]


def test_a_scenario_with_problems_also_reports_its_manifests_problems(tmp_path):
    folder = scenario_dir(tmp_path)
    rc = folder / "myapp" / "backend-rc.yaml"
    rc.write_text(rc.read_text().replace("replicas: 2", "replicas: -2"))
    path = folder / "s.yaml"
    path.write_text("manifests: [myapp/]\nstart: sometime\nchecks:\n" + A_NODE_DOWN)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert [(pathlib.Path(d.file).name, d.field) for d in err.value.diagnostics] == [
        ("s.yaml", "start"), ("backend-rc.yaml", "spec.replicas")]


def test_names_the_manifests_do_not_define_are_all_reported(tmp_path):
    """Operations, library check parameters and CEL checks are checked against the
    world together: one pass names every unknown workload, node and service."""
    path = scenario_dir(tmp_path) / "s.yaml"
    path.write_text("""\
manifests: [myapp/]
operations:
  - scale: {workload: frontnd, replicas: 2}
  - drain: {node: node-9}
checks:
  - service-always-has-endpoint: {service: backend-servic}
  - expression:
      name: backend-endpoints
      cel: services["backend-servic"].endpoints.size() > 0
""" + A_NODE_DOWN)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    got = problems(err.value)
    assert len(got) == 4, got
    assert got[0].startswith("3: no ReplicationController or ReplicaSet named 'frontnd'")
    assert got[1].startswith("4: ") and "node-9" in got[1]
    assert got[2] == "6: no Service named 'backend-servic'; the scenario has: backend-service, frontend"
    assert got[3] == ("7: checks[1].expression.cel: CEL 1:9: no service named 'backend-servic' in the manifests "
                      "(services: backend-service, frontend); did you mean 'backend-service'?")


def test_every_broken_user_controller_is_reported_with_the_other_names(tmp_path):
    shutil.copy(MODELS / "custom" / "leader.yaml", tmp_path / "leader.yaml")
    (tmp_path / "one.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "two.py").write_text("def build_controller(**p):\n    raise ValueError('bad')\n")
    path = tmp_path / "s.yaml"
    path.write_text("manifests: [leader.yaml]\nnodes: ['2:cpu=2,memory=4Gi']\ncontrollers:\n  - module: one.py\n"
                    "  - module: two.py\noperations:\n  - delete: {workload: nope}\nchecks: [fault-then-converged]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    got = problems(err.value)
    assert [line.split(":")[0] for line in got] == ["4", "5", "7"], got
    assert "one.py: cannot import controller: it raised RuntimeError: boom" in got[0]
    assert "two.py: build_controller raised ValueError: bad" in got[1]


def test_duplicate_check_names_are_reported_once_beside_other_problems(tmp_path):
    path = scenario_dir(tmp_path) / "s.yaml"
    path.write_text("manifests: [myapp/]\nchecks:\n" + A_NODE_DOWN + A_NODE_DOWN
                    + "  - service-always-has-endpoint: {service: nope}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    got = problems(err.value)
    assert len(got) == 2 and got[0].startswith("11: no Service named 'nope'")
    assert got[1] == "3: two checks are named 'a-node-down'; rename one (as: or name:)"


# --------------------------------------------------------------------------- CEL checks against the view's schema


def test_a_misspelt_field_is_a_file_line_error_when_the_scenario_is_read(tmp_path, run_cli):
    path = scenario_dir(tmp_path) / "s.yaml"
    path.write_text("manifests: [myapp/]\nchecks:\n" + A_NODE_DOWN
                    + '  - expression:\n      name: all-running\n      cel: pods.all(p, p.phse == "Running")\n')
    result = run_cli("explore", path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:9: error: checks[1].expression.cel: CEL 1:14: no such key 'phse' in a pod; did you mean 'phase'? "
        "(a pod has: name, workload, kind, labels, node, phase, ready, terminating, unschedulable, containers, "
        "running)\n")


@pytest.mark.parametrize("cel, message", [
    ('pods.filter(p, p.ready).all(q, q.nme != "")', "CEL 1:33: no such key 'nme' in a pod; did you mean 'name'?"),
    ("cel.bind(ps, pods.filter(p, p.ready), ps.all(p, p.redy))", "CEL 1:50: no such key 'redy' in a pod"),
    ('pods.exists(p, p["phse"] == "x")', "CEL 1:17: no such key 'phse' in a pod"),
    ("has(pods[0].phse)", "CEL 1:4: no such key 'phse' in a pod"),
    ('nodes.exists(n, n.orphans.exists(o, o.name == "x"))', "CEL 1:38: cannot select 'name' from a string"),
    ("faults_used.count > 0", "CEL 1:12: cannot select 'count' from an int"),
    ('services["web"].endpoint.size() > 0', "CEL 1:16: no such key 'endpoint' in a service; did you mean 'endpoints'?"),
    ('workloads.exists(w, workloads[w].replica > 1)', "CEL 1:33: no such key 'replica' in a workload; did you mean 'replicas'?"),
    ("pods[0].name", "the expression gives string, not bool"),
])
def test_schema_problems(cel, message):
    with pytest.raises(ExpressionError) as err:
        compile_check(cel)
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(message), err.value.problems


def test_every_schema_problem_of_one_expression_is_reported():
    with pytest.raises(ExpressionError) as err:
        compile_check('pods.all(p, p.phse == "x" && p.nodee != "")')
    assert [p.split(":")[0:2] for p in err.value.problems] == [["CEL 1", "14"], ["CEL 1", "31"]]


@pytest.mark.parametrize("cel", [
    'pods.filter(p, p.workload == "backend" && p.node != "").all(a, pods.filter(b, b.node == a.node).size() == 1)',
    "workloads.all(w, pods.filter(p, p.workload == w).size() == workloads[w].replicas)",
    'pods.map(p, p.labels).exists(l, l.app == "web")',  # labels are a map: any key
    'pods.exists(p, p.?phse.orValue("") == "x")',  # optional selection: left to run time
    "dyn(pods[0]).anything == 1",  # dyn: left to run time
    'nodes.exists(n, n.orphans.size() > 0 && n.cordoned && n.labels["zone"] == "a")',
    "[pods, nodes].exists(l, l.size() > 0)",  # a list of lists of different maps
])
def test_valid_expressions_pass(cel):
    assert schema_problems(compile_expression(cel, VARIABLES)) == []


def test_a_name_tested_by_the_expression_is_not_required_to_exist(tmp_path):
    path = scenario_dir(tmp_path) / "s.yaml"
    path.write_text("manifests: [myapp/]\nchecks:\n" + A_NODE_DOWN + "  - expression:\n      name: guarded\n"
                    "      cel: '!(\"web\" in services) || services[\"web\"].endpoints.size() > 0'\n")
    assert [p.name for p in load_scenario(path).properties()] == ["a-node-down", "guarded"]


def test_an_unreadable_tree_leaves_the_check_to_run_time():
    class Junk:
        def serialize(self):
            return b"\xff\xff"

    program = compile_expression("pods.size() > 0", VARIABLES)
    assert syntax_tree(attrs.evolve(program, expression=Junk())) is None
    assert schema_problems(attrs.evolve(program, expression=Junk())) == []


def _conforms(value, t) -> bool:
    if isinstance(t, Shape):
        return isinstance(value, dict) and set(value) == set(t.fields) and all(
            _conforms(value[k], t.fields[k]) for k in t.fields)
    if isinstance(t, tuple) and t[0] == "list":
        return isinstance(value, list) and all(_conforms(v, t[1]) for v in value)
    if isinstance(t, tuple) and t[0] == "map":
        return isinstance(value, dict) and all(_conforms(k, t[1]) and _conforms(v, t[2]) for k, v in value.items())
    if t == "int or null":
        return value is None or type(value) is int
    return type(value) is {"string": str, "int": int, "bool": bool}[t]


def test_the_schema_is_the_view():
    """SCHEMA says what state_view builds: the same variables, keys and value types."""
    world = World(kspec.load([MODELS / "myapp"]))
    endpoints = [("frontend-a",)] + [() for _ in world.services[1:]]
    view = state_view(world, state(world, [pod("frontend-a", group=0, owner=0, node=0)], endpoints=endpoints))
    assert set(view) == set(SCHEMA) == set(VARIABLES)
    assert view["pods"] and view["nodes"] and view["services"] and view["workloads"]
    for name, t in SCHEMA.items():
        assert _conforms(view[name], t), name
