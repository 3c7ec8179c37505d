"""Mutated real inputs through every command: exit 0, 1, 2 or 3, never a traceback.

The bundled manifests (``models/*/``), scenarios (``models/*.yaml``), rule files
(``checks/*.yaml``) and admission policies (a small policy and binding, plus the
public examples under ``../shared/realworld/vap-examples`` when present) are
mutated structurally (a key dropped, a value replaced by one of another type:
list, mapping, string, integer, an integer beyond int64, float, null, "1e309",
control characters; a document duplicated; the text truncated) and fed to the
command that reads them, in-process through click. Whatever the mutation, the
command must end with one of the documented exit codes and without an
unexpected Python exception.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
CHECKS = ROOT / "checks"
VAP_EXAMPLES = ROOT.parent / "shared" / "realworld" / "vap-examples"

POLICY = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - apiGroups: ["", "apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["replicationcontrollers", "deployments"]
    namespaceSelector: {matchLabels: {}}
    objectSelector: {matchExpressions: [{key: app, operator: Exists}]}
  matchConditions:
  - {name: not-system, expression: "object.metadata.namespace != 'kube-system'"}
  variables:
  - {name: replicas, expression: "object.spec.replicas"}
  validations:
  - expression: "variables.replicas <= 5"
    message: "too many replicas"
    messageExpression: "'replicas: ' + string(variables.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-binding}
spec:
  policyName: replica-limit
  validationActions: [Deny, Audit]
  paramRef: {name: limits, namespace: default, parameterNotFoundAction: Allow}
  matchResources:
    resourceRules:
    - {apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}
    excludeResourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"], resourceNames: [x]}
"""

HUGE = 99999999999999999999
REPLACEMENTS = st.sampled_from([
    [], {}, ["x", 1], {"k": "v"}, "", "text", "1e309", "1e-309", "-1", "9Ei", "\x1b]0;title\x07\x1b[31m\x00\x85",
    0, -1, 1, 2**31, HUGE, -HUGE, 1.5, 1e300, float("inf"), float("nan"), None, True, "*", "../../etc/passwd",
])


def _paths(value, prefix=()):
    """Every (path, value) in a YAML tree, the root included."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _parent(root, path):
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_text(draw, text: str) -> str:
    """``text`` after one to three structural mutations (or a truncation)."""
    try:
        documents = [d for d in yaml.safe_load_all(text)]
    except yaml.YAMLError:
        documents = []
    if not documents or draw(st.integers(0, 9)) == 0:
        return text[: draw(st.integers(0, len(text)))]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(documents) - 1))
        if draw(st.integers(0, 11)) == 0:
            documents.append(copy.deepcopy(documents[index]))  # a duplicated document
            continue
        paths = list(_paths(documents[index]))
        path, _ = paths[draw(st.integers(0, len(paths) - 1))]
        # a copy: the drawn lists and mappings are shared by every example, and later mutations edit in place
        replacement = copy.deepcopy(draw(REPLACEMENTS))
        if not path:
            documents[index] = replacement
            continue
        parent = _parent(documents[index], path)
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    try:
        return yaml.safe_dump_all(documents, allow_unicode=False, sort_keys=False)
    except (yaml.YAMLError, RecursionError):
        return text


def _files(folder: Path, pattern: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in folder.glob(pattern) if "__pycache__" not in p.parts)


MANIFESTS = _files(MODELS, "*/*.yaml")
SCENARIOS = _files(MODELS, "*.yaml")
RULES = _files(CHECKS, "*.yaml")
VAP_FILES = sorted(str(p) for p in VAP_EXAMPLES.rglob("*.yaml")) if VAP_EXAMPLES.is_dir() else []

EXPLORE_LIMITS = ("--max-states", "150", "--time-limit", "3", "--no-progress")


def _commands(kind: str, target: str) -> list[tuple[str, ...]]:
    """The commands that read a file of this kind (``target``: its path in the copy)."""
    folder = str(Path(target).parent)
    if kind == "manifest":
        scenarios = [("explore", s, *EXPLORE_LIMITS) for s in SCENARIOS
                     if f"{Path(folder).name}/" in (ROOT / s).read_text(encoding="utf-8")]
        return [("check", folder), ("inspect", folder), ("schedule", folder, "--timeout", "2"),
                ("schedule", folder, "--timeout", "2", "--objective", "balanced", "--tolerate-node-failures", "1"),
                ("report", folder, "--format", "sarif"), *scenarios[:2]]
    if kind == "scenario":
        return [("explore", target, *EXPLORE_LIMITS), ("fuzz", target, "--max-examples", "3", "--steps", "8",
                                                        "--seed", "1"),
                ("report", target, "--format", "junit", "--max-states", "150", "--time-limit", "3")]
    if kind == "rules":
        return [("check", "models/myapp", "--rules", target, "--no-builtin", "-o", "junit"),
                ("check", "models/web", "--rules", target, "-o", "sarif")]
    return [("check", "models/myapp", "models/web", "--rules", target, "--no-builtin")]


def run_mutated(kind: str, source: str, data) -> None:
    """Copy the repository inputs, mutate ``source`` there, run one command on it."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shutil.copytree(MODELS, base / "models", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(CHECKS, base / "checks")
        if kind == "policy":
            original = POLICY if source == "<policy>" else Path(source).read_text(encoding="utf-8")
            target = "policy.yaml"
        else:
            original = (ROOT / source).read_text(encoding="utf-8")
            target = source
        (base / target).write_text(data.draw(mutated_text(original)), encoding="utf-8")
        args = data.draw(st.sampled_from(_commands(kind, target)))
        assert_clean_exit(args, base)


def assert_clean_exit(args, cwd: Path) -> None:
    """Run ``kspec ARGS`` in ``cwd``: a documented exit code, no unexpected exception."""
    from kspec.cli import group

    runner = CliRunner()
    with contextlib.chdir(cwd):
        result = runner.invoke(group, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"kspec {' '.join(args)} raised:\n{trace}\nstderr: {result.stderr[-2000:]}")
    assert result.exit_code in (0, 1, 2, 3), (args, result.exit_code, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr



SOURCES = (
    [("manifest", f) for f in MANIFESTS] + [("scenario", f) for f in SCENARIOS]
    + [("rules", f) for f in RULES] + [("policy", "<policy>")] + [("policy", f) for f in VAP_FILES]
)
FAST = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(source=st.sampled_from([s for s in SOURCES if s[0] in ("manifest", "rules", "policy")]), data=st.data())
def test_mutated_manifests_rules_and_policies_never_crash(source, data):
    run_mutated(*source, data)


@FAST
@given(source=st.sampled_from([s for s in SOURCES if s[0] == "scenario"]), data=st.data())
def test_mutated_scenarios_never_crash(source, data):
    run_mutated(*source, data)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_mutated_inputs_never_crash_thorough(source, data):
    run_mutated(*source, data)


def test_public_policy_examples_present_or_skipped():
    """The public ValidatingAdmissionPolicy examples feed the mutations when present."""
    if not VAP_FILES:
        pytest.skip(f"the public policy examples are not at {VAP_EXAMPLES}")
    assert all(Path(f).is_file() for f in VAP_FILES)
