"""Bad input is one line ``file:line: error: field: message`` and exit 2, never a traceback.

Each test reproduces one defect found by trying malformed shapes on every
command: the command must end with a documented exit code, name the file (and
field) at fault, and never leak the start of a file it names. Control
characters in user text are spelled out in every output format.
"""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from kspec.simulation.scenario import ScenarioError, parse_scenario
from kspec.util.escape import json_dumps, one_line, terminal, visible, xml_safe, xml_text

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
C0_C1 = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]


def run(*args, cwd=None):
    """``kspec ARGS`` in-process: (exit code, stdout, stderr), asserting no unexpected exception."""
    from kspec.cli import group

    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(group, [str(a) for a in args])
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.stderr, result.stderr
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


RC_TEMPLATE = """\
apiVersion: v1
kind: ReplicationController
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{app: web}}
  template:
    metadata: {{labels: {labels}}}
    spec: {{containers: [{{name: c, image: "nginx:1.25"}}]}}
"""


# --------------------------------------------------------------------------- manifests


def test_list_items_that_are_not_mappings_are_one_line_each(tmp_path):
    path = write(tmp_path, "l.yaml", "apiVersion: v1\nkind: List\nitems:\n- 3\n- secret-text\n")
    code, _, err = run("check", path)
    assert code == 2
    assert err.splitlines() == [f"{path}:4: error: items[0]: expected a Kubernetes object (a mapping), got an integer",
                                f"{path}:5: error: items[1]: expected a Kubernetes object (a mapping), got a string"]


def test_template_labels_given_as_a_string_is_a_field_error(tmp_path):
    """Upstream decoding: a string cannot become ``map[string]string``."""
    path = write(tmp_path, "rc.yaml", RC_TEMPLATE.format(replicas=1, labels='"app=web"'))
    for verb in ("check", "inspect", "schedule"):
        code, _, err = run(verb, path)
        assert code == 2 and f"{path}:8: error: spec.template.metadata.labels: expected a mapping" in err


@pytest.mark.parametrize("replicas", ["99999999999999999999", "2147483648", "-2147483649", "1.0e+20"])
def test_integers_beyond_int32_are_the_api_servers_decoding_error(tmp_path, replicas):
    """``replicas`` is an int32: the API server answers "cannot unmarshal number ... of type int32"."""
    path = write(tmp_path, "rc.yaml", RC_TEMPLATE.format(replicas=replicas, labels="{app: web}"))
    code, _, err = run("check", path)
    assert code == 2 and f"{path}:5: error: spec.replicas: json: cannot unmarshal number" in err
    assert "of type int32" in err


def test_int64_fields_take_int64_values(tmp_path):
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  terminationGracePeriodSeconds: %s\n"
            "  containers: [{name: c, image: 'nginx:1'}]\n")
    ok = write(tmp_path, "ok.yaml", text % (2**40))
    assert run("inspect", ok)[0] == 0
    bad = write(tmp_path, "bad.yaml", text % (2**63))
    code, _, err = run("inspect", bad)
    assert code == 2 and "of type int64" in err


@pytest.mark.parametrize("kind", ["apps/v1 Deployment", "example.com/v1 Widget"])
def test_metadata_given_as_a_list(tmp_path, kind):
    api, name = kind.split()
    spec = ("{selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, "
            "spec: {containers: [{name: c, image: 'nginx:1'}]}}}")
    path = write(tmp_path, "m.yaml", f"apiVersion: {api}\nkind: {name}\nmetadata: [a]\nspec: {spec}\n")
    code, _, err = run("check", path)
    assert code == 2 and f"{path}:3: error: metadata: expected a mapping" in err


def test_a_named_file_is_never_quoted(tmp_path):
    """A file read as one string (``/etc/shadow`` named by mistake) must not be echoed."""
    secret = write(tmp_path, "secret.txt", "root:$6$supersecrethash:19000:0:99999:7:::\n")
    for args in (("check", secret), ("inspect", secret), ("schedule", secret), ("report", secret)):
        code, out, err = run(*args)
        assert code == 2 and "supersecret" not in err + out


# --------------------------------------------------------------------------- quantities


BIG_NODE = """\
apiVersion: v1
kind: Node
metadata: {name: n1}
status:
  allocatable: {cpu: "1e400", memory: "1e309", pods: "110"}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: "nginx:1", resources: {requests: {cpu: "1e309", memory: 1Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: q}
spec:
  nodeName: n1
  containers: [{name: c, image: "nginx:1", resources: {requests: {cpu: "1e399"}}}]
"""


@pytest.mark.parametrize("objective", ["feasible", "balanced", "min-nodes"])
def test_quantities_beyond_float_range_schedule_exactly(tmp_path, objective):
    """Upstream ``ParseQuantity("1e309")`` is an exact (inf.Dec) quantity; kspec keeps it exact too."""
    path = write(tmp_path, "big.yaml", BIG_NODE)
    code, out, _ = run("schedule", path, "--nodes", "1:cpu=1,memory=1Gi", "--objective", objective,
                       "--tolerate-node-failures", "1")
    assert code in (0, 1) and "FEASIBLE" in out


def test_quantities_beyond_float_range_in_a_report(tmp_path):
    path = write(tmp_path, "big.yaml", BIG_NODE)
    for fmt in ("text", "json", "html", "markdown"):
        code, out, _ = run("report", path, "--format", fmt)
        assert code in (0, 1) and out


def test_a_float_quantity_that_overflows_is_a_field_error(tmp_path):
    path = write(tmp_path, "p.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                                     "  - {name: c, image: 'nginx:1', resources: {requests: {cpu: 1.0e+309}}}\n")
    code, _, err = run("schedule", path)
    assert code == 2 and "requests.cpu" in err and "not a finite number" in err


# --------------------------------------------------------------------------- admission policies


POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: limit}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  validations: [{expression: "true"}]
"""
BINDING = """\
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: limit-binding}
spec: {policyName: limit, validationActions: [Deny]}
"""


@pytest.mark.parametrize("old, new, field", [
    ("metadata: {name: limit}", "metadata: [limit]", "metadata"),
    ("spec:\n  matchConstraints", "spec:\n  variables: {a: b}\n  matchConstraints", "spec.variables"),
    ("resourceRules: [", "resourceRules: {a: 1}\n    other: [", "spec.matchConstraints.resourceRules"),
    ("apiGroups: [\"\"]", "apiGroups: \"\"", "spec.matchConstraints.resourceRules[0].apiGroups"),
    ("validations: [{expression: \"true\"}]", "validations: [{expression: [true]}]", "spec.validations[0].expression"),
    ("validations: [{expression: \"true\"}]", "validations: [\"true\"]", "spec.validations[0]"),
    ("  matchConstraints:\n", "  matchConditions: [3]\n  matchConstraints:\n", "spec.matchConditions[0]"),
    ("spec:\n", "spec: []\nx:\n", "spec"),
])
def test_malformed_policy_shapes_are_field_errors(tmp_path, old, new, field):
    assert old in POLICY
    rules = write(tmp_path, "p.yaml", POLICY.replace(old, new))
    code, _, err = run("check", MODELS / "myapp", "--rules", rules, "--no-builtin")
    assert code == 2 and f"{rules}:1: error: {field}: " in err


@pytest.mark.parametrize("spec, field, message", [
    ("[limit]", "spec", "expected a mapping, got a list"),
    ("{policyName: [limit], validationActions: [Deny]}", "spec.policyName", "expected a string"),
    ("{policyName: limit, validationActions: Deny}", "spec.validationActions", "expected a list"),
    ("{policyName: limit}", "spec.validationActions", "Required value"),
    ("{validationActions: [Deny]}", "spec.policyName", "Required value"),
    ("{policyName: limit, validationActions: [Block]}", "spec.validationActions[0]", 'Unsupported value: "Block"'),
    ("{policyName: limit, validationActions: [Deny, Warn]}", "spec.validationActions", "must not contain both"),
    ("{policyName: limit, validationActions: [Deny], paramRef: [x]}", "spec.paramRef", "expected a mapping"),
    ("{policyName: limit, validationActions: [Deny], matchResources: {resourceRules: [7]}}",
     "spec.matchResources.resourceRules[0]", "expected a mapping"),
])
def test_malformed_binding_shapes_are_field_errors(tmp_path, spec, field, message):
    rules = write(tmp_path, "p.yaml", POLICY + BINDING.replace("{policyName: limit, validationActions: [Deny]}", spec))
    code, _, err = run("check", MODELS / "myapp", "--rules", rules, "--no-builtin")
    assert code == 2 and f"{rules}:9: error: {field}: {message}" in err


def test_policy_without_match_constraints_is_required_not_dropped(tmp_path):
    """Upstream validation: ``spec.matchConstraints: Required value``; it used to be dropped, and check passed."""
    rules = write(tmp_path, "p.yaml", POLICY.replace("  matchConstraints:\n", "  x:\n"))
    code, _, err = run("check", MODELS / "myapp", "--rules", rules, "--no-builtin")
    assert code == 2 and f"{rules}:1: error: spec.matchConstraints: Required value" in err


def test_policy_no_binding_names_judges_nothing_with_a_warning(tmp_path):
    """As in a cluster (the admission plugin evaluates a policy only through a
    binding that references it), an unbound policy judges nothing: kspec says
    so at the policy's line instead of failing or running it as if bound."""
    other = POLICY.replace("name: limit}", "name: other}")
    rules = write(tmp_path, "p.yaml", POLICY + BINDING + "---\n" + other)
    code, _, err = run("check", MODELS / "myapp", "--rules", rules, "--no-builtin")
    assert code == 0
    assert "p.yaml:14: warning: ValidatingAdmissionPolicy 'other' is not named by any" in err
    alone = write(tmp_path, "alone.yaml", other)  # nothing bound at all: no rule to run is a usage error
    code, _, err = run("check", MODELS / "myapp", "--rules", alone, "--no-builtin")
    assert code == 2 and "judges nothing" in err and "no rules to run" in err


# --------------------------------------------------------------------------- user code


CONTROLLER_SCENARIO = """\
manifests: [leader.yaml]
nodes: ["2:cpu=2,memory=4Gi"]
controllers:
  - module: {module}
checks: [fault-then-converged]
"""
GOOD = (MODELS / "custom" / "singleton_buggy.py").read_text()


@pytest.mark.parametrize("code, expected", [
    ("raise RuntimeError('boom')", "cannot import controller: it raised RuntimeError: boom"),
    ("import sys\nsys.exit(0)", "cannot import controller: it called sys.exit(0)"),
    ("def build_controller(**p):\n    raise ValueError('bad')", "build_controller raised ValueError: bad"),
    (GOOD + "\nclass C(EdgeTriggeredLeaderOperator):\n    def templates(self):\n        raise KeyError('t')\n"
     "controller = C()\n", "templates() raised KeyError: 't'"),
])
def test_user_controller_errors_outside_steps_name_the_file(tmp_path, code, expected):
    shutil.copy(MODELS / "custom" / "leader.yaml", tmp_path / "leader.yaml")
    write(tmp_path, "ctl.py", code)
    scenario = write(tmp_path, "s.yaml", CONTROLLER_SCENARIO.format(module="ctl.py"))
    status, _, err = run("explore", scenario, "--no-progress")
    assert status == 2 and f"{scenario}:4: error: {tmp_path / 'ctl.py'}: {expected}" in err


def test_user_controller_exiting_in_a_step_is_an_error_not_a_pass(tmp_path):
    shutil.copy(MODELS / "custom" / "leader.yaml", tmp_path / "leader.yaml")
    write(tmp_path, "ctl.py", GOOD + "\nimport sys\nclass C(EdgeTriggeredLeaderOperator):\n"
                              "    def steps(self, world, state):\n        sys.exit(0)\ncontroller = C()\n")
    scenario = write(tmp_path, "s.yaml", CONTROLLER_SCENARIO.format(module="ctl.py"))
    status, _, err = run("explore", scenario, "--no-progress")
    assert status == 2 and "called sys.exit(0)" in err and str(scenario) in err


MODEL_FILE = """\
import sys
sys.path.insert(0, {reference!r})
import rc_converge


class M(rc_converge.RCConverge):
    def properties(self):
        {properties}
        return super().properties()


def build_model(**params):
    {build}
    return M(2, 2, 1)
"""


@pytest.mark.parametrize("properties, build, expected", [
    ("raise RuntimeError('props')", "pass", "the model raised RuntimeError: props"),
    ("sys.exit(0)", "pass", "the model called sys.exit(0)"),
    ("pass", "raise RuntimeError('ctor')", "build_model raised RuntimeError: ctor"),
    ("pass", "sys.exit(0)", "build_model called sys.exit(0)"),
])
@pytest.mark.parametrize("verb", ["explore", "fuzz"])
def test_model_file_errors_name_the_file(tmp_path, properties, build, expected, verb):
    model = write(tmp_path, "m.py", MODEL_FILE.format(reference=str(MODELS / "reference"), properties=properties,
                                                      build=build))
    status, _, err = run(verb, model, *(["--no-progress"] if verb == "explore" else ["--max-examples", "2"]))
    assert status == 2 and f"{model}: {expected}" in err


# --------------------------------------------------------------------------- scenario paths


@pytest.mark.parametrize("manifests", ["../outside/", "/etc/passwd", "../../../../../../etc/passwd"])
def test_scenario_manifests_outside_its_folder_are_refused(tmp_path, manifests):
    (tmp_path / "outside").mkdir()
    (tmp_path / "scen").mkdir()
    scenario = write(tmp_path / "scen", "s.yaml", f"manifests: [{manifests}]\nchecks: [fault-then-converged]\n")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(scenario)
    (line,) = str(err.value).splitlines()
    assert line.startswith(f"{scenario}:1: error: manifests[0]: ") and "outside the scenario's folder" in line
    assert "root:" not in line
    code, _, stderr = run("explore", scenario, "--no-progress")
    assert code == 2 and "outside the scenario's folder" in stderr


def test_controller_module_outside_the_folder_is_refused_unless_allowed(tmp_path):
    (tmp_path / "scen").mkdir()
    shutil.copytree(MODELS / "custom", tmp_path / "custom")
    text = "manifests: [../custom/leader.yaml]\ncontrollers:\n  - module: ../custom/singleton_buggy.py\n" \
           "checks: [fault-then-converged]\n"
    scenario = write(tmp_path / "scen", "s.yaml", text)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(scenario)
    assert [d.field for d in err.value.diagnostics] == ["manifests[0]", "controllers[0].module"]
    assert parse_scenario(scenario, allow_outside=True).controllers


def test_symlink_out_of_the_folder_is_outside(tmp_path):
    (tmp_path / "scen").mkdir()
    (tmp_path / "scen" / "link").symlink_to(MODELS / "myapp")
    scenario = write(tmp_path / "scen", "s.yaml", "manifests: [link/]\nchecks: [fault-then-converged]\n")
    with pytest.raises(ScenarioError):
        parse_scenario(scenario)


# --------------------------------------------------------------------------- control characters


OSC = "\x1b]0;pwned\x07"
CSI = "\x1b[31m"
HOSTILE_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {note: "\\x1b]0;pwned\\x07"}
spec:
  containers:
  - name: c
    image: "\\x1b[31mnginx\\x01\\x85"
"""


def _raw_controls(text: str, allowed: str = "\n\t") -> list[str]:
    return [c for c in text if c in C0_C1 and c not in allowed]


def test_control_characters_in_fields_never_reach_any_output_raw(tmp_path):
    path = write(tmp_path, "p.yaml", HOSTILE_POD)
    for fmt in ("text", "json", "sarif", "junit"):
        code, out, _ = run("check", path, "-o", fmt)
        assert code in (0, 1) and not _raw_controls(out), fmt
        if fmt == "junit":
            ET.fromstring(out)
        if fmt in ("json", "sarif"):
            json.loads(out)
            assert "\\u001b[31mnginx\\u0001\\u0085" in out  # the JSON still carries the exact text
    for fmt in ("text", "markdown", "html", "junit", "json", "sarif"):
        code, out, _ = run("report", path, "--format", fmt)
        assert code in (0, 1) and not _raw_controls(out), fmt
        if fmt == "junit":
            ET.fromstring(out)


def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path):
    folder = os.fsencode(tmp_path)
    name = folder + b"/caf\xe9-\xff.yaml"
    with open(name, "wb") as handle:
        handle.write(b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x}]\n")
    path = os.fsdecode(name)
    for fmt in ("text", "json", "sarif", "junit"):
        code, out, _ = run("check", path, "-o", fmt)
        assert code in (0, 1) and "\\xff" in out or "%FF" in out, fmt
    sarif = json.loads(run("check", path, "-o", "sarif")[1])
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
            for loc in r["locations"]}
    assert all(uri.endswith("caf%E9-%FF.yaml") for uri in uris) and uris
    for fmt in ("text", "json", "markdown", "html", "junit", "sarif"):
        code, out, _ = run("report", path, "--format", fmt)
        assert code in (0, 1) and out, fmt
        out.encode("utf-8")  # no lone surrogate left


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)))
def test_escaping_helpers_leave_no_raw_control(text):
    assert not _raw_controls(visible(text), "")
    visible(text).encode("utf-8")  # no lone surrogate left
    assert not _raw_controls(terminal(text)) and not _raw_controls(one_line(text), "\t")
    assert "\n" not in one_line(text)
    element = ET.Element("case", message=text)
    element.text = text
    ET.fromstring(ET.tostring(xml_safe(element), encoding="unicode"))
    assert not _raw_controls(xml_text(text), "\t\n\r")
    dumped = json_dumps({"m": text})
    assert not _raw_controls(dumped, "\n")
    dumped.encode("utf-8")
    assert json.loads(dumped)["m"] == visible(text, keep="".join(c for c in set(text) if not "\ud800" <= c <= "\udfff"))


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_visible_is_the_identity_on_printable_text(text):
    printable = "".join(c for c in text if c not in C0_C1 and not "\ud800" <= c <= "\udfff")
    assert visible(printable) == printable


def test_markdown_and_html_renderers_spell_out_controls():
    from kspec.report.html import esc
    from kspec.report.markdown import cell

    assert esc(OSC) == "\\x1b]0;pwned\\x07" and cell(CSI) == "\\\\x1b\\[31m"


def test_a_diagnostic_quoting_a_value_spells_out_its_controls(tmp_path):
    path = write(tmp_path, "p.yaml", 'apiVersion: v1\nkind: Pod\nmetadata: {name: "\\x1b]0;x\\x07\\n"}\n'
                                     "spec: {containers: [{name: c, image: x}]}\n")
    for verb in ("check", "inspect", "schedule"):
        code, _, err = run(verb, path)
        assert code == 2 and "\\x1b]0;x\\x07\\x0a" in err and not _raw_controls(err), verb
        assert len([line for line in err.splitlines() if "metadata.name" in line]) == 1


@pytest.mark.parametrize("kind", ["[]", "{}", "3"])
@pytest.mark.parametrize("verb", ["check", "inspect"])
def test_a_kind_that_is_not_a_string_is_a_field_error(tmp_path, verb, kind):
    """Found by the mutation tests: ``kind: []`` reached dict look-ups by kind and crashed (exit 4)."""
    path = write(tmp_path, "a.yaml", f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: a}}\nspec: {{}}\n")
    code, _, err = run(verb, path)
    assert code == 2 and "a.yaml:2: error: kind: expected a string" in err
