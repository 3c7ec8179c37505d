"""The default pod bound (``bounds: {max_pods}`` left out) leaves room for a
generation of replacement pods per fault: each node crash or partition can
strand every pod on its node as a terminating record beside its replacement,
so a bound of two generations cut two-fault scenarios short and made their
checks inconclusive."""

from __future__ import annotations

from kspec.checker.explore import Explorer
from kspec.checker.model import Verdict
from support.manifests import served_rc
from support.stepping import scenario

TWO_FAULTS = """\
scheduler: all
faults:
  budget: 2
  kinds: [node-crash, node-restart, node-partition, node-heal, container-crash, pod-hang, pod-recover]
checks: [rc-never-exceeds-replicas]
"""


def _model(tmp_path, body: str):
    app = tmp_path / "app.yaml"
    app.write_text(served_rc("web", 3))
    return scenario(tmp_path, body, [app], nodes=3)


def test_two_faults_are_not_cut_by_the_default_bound(tmp_path):
    model = _model(tmp_path, TWO_FAULTS)
    assert model.max_pods == 3 * 3 + 2  # three generations of three replicas, and two to spare
    result = Explorer(model, symmetry=True, progress=False).run()
    assert result.complete and result.bound is None
    assert result.properties[0].verdict is Verdict.HOLDS


def test_two_generations_were_too_few_for_two_faults(tmp_path):
    """``scheduler: all`` may stack the three pods on one node and their
    replacements on another; both nodes crash in turn: nine pod records, one
    more than two generations (and two to spare) allow."""
    result = Explorer(_model(tmp_path, TWO_FAULTS + "bounds: {max_pods: 8}\n"), symmetry=True, progress=False).run()
    assert result.properties[0].verdict is Verdict.INCONCLUSIVE
    assert result.properties[0].bound == "boundary"


def test_one_fault_keeps_two_generations(tmp_path):
    body = TWO_FAULTS.replace("budget: 2", "budget: 1")
    assert _model(tmp_path, body).max_pods == 2 * 3 + 2
