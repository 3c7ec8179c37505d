"""``kspec schedule`` through the real CLI: exit codes, text and the documented JSON shape."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kspec.cli.schedule import command

FRONTEND = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
spec:
  replicas: 3
  selector:
    matchLabels: {app: frontend}
  template:
    metadata:
      labels: {app: frontend}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector:
                matchLabels: {app: frontend}
              topologyKey: kubernetes.io/hostname
      containers:
        - name: web
          image: nginx
          resources:
            requests: {cpu: 500m, memory: 256Mi}
"""


def invoke(*args):
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_article_cluster_fits_and_survives_a_node_and_a_zone():
    result = invoke("models/myapp", "--tolerate-node-failures", "1", "--tolerate-zone-failure")
    assert result.exit_code == 0, result.output
    assert "FEASIBLE" in result.output
    assert "any 1 node failure(s): TOLERANT" in result.output
    assert "the loss of any one zone: TOLERANT" in result.output


def test_json_shape(tmp_path):
    (tmp_path / "fe.yaml").write_text(FRONTEND)
    result = invoke(str(tmp_path), "--nodes", "3:cpu=2,memory=4Gi;zones=a,b,c", "-o", "json",
                    "--tolerate-node-failures", "1")
    assert result.exit_code == 1  # feasible, but not tolerant of one node failure
    data = json.loads(result.output)
    assert data["verdict"] == "feasible" and data["exit_code"] == 1
    assert set(data) >= {"verdict", "objective", "pods", "groups", "placement", "explanation", "tolerance",
                         "greedy", "seconds", "stats"}
    assert [row["pods"] for row in data["placement"]] == [[{"group": "Deployment/frontend", "count": 1}]] * 3
    tolerance = data["tolerance"][0]
    assert tolerance["kind"] == "nodes" and tolerance["tolerant"] is False
    assert len(tolerance["counterexample"]["failed"]) == 1
    causes = tolerance["counterexample"]["explanation"]["causes"]
    assert {c["kind"] for c in causes} >= {"replicas", "anti-affinity"}


def test_infeasible_explains_with_file_and_line(tmp_path):
    path = tmp_path / "fe.yaml"
    path.write_text(FRONTEND)
    result = invoke(str(path), "--nodes", "2:cpu=2,memory=4Gi")
    assert result.exit_code == 1
    assert "INFEASIBLE" in result.output
    assert f"{path}:6: Deployment/frontend: spec.replicas" in result.output
    assert f"{path}:16: Deployment/frontend: spec.template.spec.affinity.podAntiAffinity" in result.output
    assert "1 pod(s) left Pending" in result.output


def test_bad_input_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 3\n")
    result = CliRunner().invoke(command, [str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    result = CliRunner().invoke(command, ["models/myapp", "--nodes", "x:cpu=1"])
    assert result.exit_code == 2 and "--nodes" in result.output


def test_objectives():
    for objective in ("min-nodes", "balanced"):
        result = invoke("models/myapp", "--objective", objective, "-o", "json", "--no-greedy")
        data = json.loads(result.output)
        assert result.exit_code == 0 and data["objective"] == objective
    used = json.loads(invoke("models/myapp", "--objective", "min-nodes", "-o", "json").output)
    assert sum(1 for row in used["placement"] if row["pods"]) == 1
    spread = json.loads(invoke("models/myapp", "--objective", "balanced", "-o", "json").output)
    assert sum(1 for row in spread["placement"] if row["pods"]) == 3
