"""Small random scenarios (workloads, selectors, node pools, faults, operations,
checks) as a Hypothesis strategy, for tests that compare two ways of exploring
the same model (partial-order reduction on and off, symmetry on and off).

:func:`scenarios` draws a :class:`Drawn` scenario; :meth:`Drawn.write` puts
its manifests and scenario file in a folder, ready for
``kspec.simulation.scenario.load_scenario``. New controllers and step kinds
are exercised by adding what makes them act here (a workload kind, a fault
kind, an operation, a check), so every future reduction is checked the same
way.
"""

from __future__ import annotations

import pathlib

import attrs
import yaml
from hypothesis import strategies as st

APPS = ("a", "b", "c")
TIERS = ("x", "y")
KINDS = ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet")
FAULTS = ("node-crash", "node-restart", "node-partition", "node-heal", "container-crash", "pod-hang", "pod-recover",
          "pod-delete")
SAFETY_CHECKS = ("rc-never-exceeds-replicas", "at-most-replicas-running", "fault-then-converged", "no-overcommit",
                 "scheduler-binds-only-feasible")
SERVICE_CHECKS = ("service-always-has-endpoint", "endpoints-only-ready-pods", "service-reachable")
LIVENESS_CHECKS = ("rc-replicas-converge",)
NAMED_LIVENESS = {"ReplicationController": ("rc-replicas-converge", "workload"),  # a check about one workload
                  "ReplicaSet": ("rc-replicas-converge", "workload"),
                  "StatefulSet": ("rc-replicas-converge", "workload"),
                  "Deployment": ("deployment-converges", "deployment"),
                  "DaemonSet": ("daemonset-on-every-node", "daemonset")}
CEL_CHECKS = ("pods.exists(p, p.ready)", "size(pods) <= 6")


def is_liveness(check) -> bool:
    """Whether a drawn check (a name, or a one-key mapping of name to parameters) is a liveness check."""
    name = check if isinstance(check, str) else next(iter(check))
    return name in LIVENESS_CHECKS or name in {n for n, _ in NAMED_LIVENESS.values()}


@attrs.frozen
class Drawn:
    """One random scenario: the manifests and the scenario file, as data."""

    manifests: tuple[dict, ...]
    scenario: dict

    def write(self, folder: pathlib.Path) -> pathlib.Path:
        """Write ``manifests.yaml`` and ``scenario.yaml`` into ``folder``; returns the scenario's path."""
        (folder / "manifests.yaml").write_text(yaml.safe_dump_all(self.manifests, sort_keys=False))
        path = folder / "scenario.yaml"
        path.write_text(yaml.safe_dump(self.scenario, sort_keys=False))
        return path


def _rarely(n: int):
    """True about once in ``n`` draws (and False when Hypothesis shrinks)."""
    return st.sampled_from((False,) * (n - 1) + (True,))


def _labels(draw, app: str | None = None) -> dict:
    labels = {"app": app or draw(st.sampled_from(APPS))}
    if draw(st.booleans()):
        labels["tier"] = draw(st.sampled_from(TIERS))
    return labels


def _template(labels: dict, cpu: int, policy: str) -> dict:
    spec = {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": f"{cpu}m"}}}]}
    if policy != "Always":
        spec["restartPolicy"] = policy
    return {"metadata": {"labels": labels}, "spec": spec}


def _workload(draw, index: int) -> dict:
    kind = draw(st.sampled_from(KINDS))
    labels = _labels(draw, None if draw(_rarely(4)) else APPS[index])  # mostly apart, sometimes overlapping
    selector = {k: v for k, v in labels.items() if k == "app" or draw(st.booleans())}
    cpu = draw(st.sampled_from((100, 500, 900)))
    policy = "Always"  # the only policy a workload's template may have
    name = f"w{index}"
    if kind == "ReplicationController":
        return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name},
                "spec": {"replicas": draw(st.integers(1, 2)), "selector": selector,
                         "template": _template(labels, cpu, policy)}}
    spec = {"selector": {"matchLabels": selector}, "template": _template(labels, cpu, policy)}
    if kind != "DaemonSet":
        spec["replicas"] = draw(st.integers(1, 2))
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


@st.composite
def scenarios(draw, liveness: bool = False) -> Drawn:
    """A small scenario: one to three workloads of any kind (and now and then
    a bare pod) on one to three nodes, Services over the same labels, up to two faults, at most one user
    operation, and a handful of checks (always one ``sometimes``). ``liveness``: two
    workloads or three, always a liveness check about one of them, and no check
    that makes every step visible."""
    # with liveness, two workloads at least: one workload's steps are all one family, nothing to reorder
    workloads = [_workload(draw, i) for i in range(draw(st.sampled_from((2, 3) if liveness else (1, 2, 2, 3, 3))))]
    bare = []
    if draw(_rarely(4)):  # a bare pod, the only place restartPolicy Never or OnFailure may go
        template = _template(_labels(draw), 100, draw(st.sampled_from(("Always", "Never", "OnFailure"))))
        bare.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", **template["metadata"]},
                     "spec": template["spec"]})
    services = []
    for s in range(draw(st.integers(0, 2))):
        selector = _labels(draw)
        services.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{s}"},
                         "spec": {"selector": selector, "ports": [{"port": 80}]}})
    nodes = draw(st.integers(1, 3))
    cpu = draw(st.sampled_from((1, 2)))
    scenario: dict = {
        "name": "random",
        "manifests": ["manifests.yaml"],
        "nodes": [f"{nodes}:cpu={cpu},memory=4Gi"],
        "start": draw(st.sampled_from(("one", "applied"))),
        "scheduler": draw(st.sampled_from(("all", "least-allocated"))),
    }
    budget = draw(st.integers(0, 2))
    if budget:
        kinds = draw(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3, unique=True))
        scenario["faults"] = {"budget": budget, "kinds": kinds}
    scalable = [w["metadata"]["name"] for w in workloads if w["kind"] != "DaemonSet"]
    deployments = [w["metadata"]["name"] for w in workloads if w["kind"] == "Deployment"]
    operations = []
    if scalable and draw(st.booleans()):
        verb = draw(st.sampled_from(("scale", "delete", "rollout") if deployments else ("scale", "delete")))
        if verb == "rollout":
            operations.append({"rollout": {"workload": draw(st.sampled_from(deployments)), "image": "nginx:2"}})
        elif verb == "scale":
            operations.append({"scale": {"workload": draw(st.sampled_from(scalable)),
                                         "replicas": draw(st.integers(0, 3))}})
        else:
            operations.append({"delete": {"workload": draw(st.sampled_from(scalable))}})
    if operations:
        scenario["operations"] = operations
    scenario["checks"] = _checks(draw, services, scalable, narrow=liveness)
    if liveness or draw(st.booleans()):  # liveness about one workload: the reduction applies to it too
        workload = draw(st.sampled_from(workloads))
        name, param = NAMED_LIVENESS[workload["kind"]]
        scenario["checks"].append({name: {param: workload["metadata"]["name"]}})
    return Drawn(tuple(workloads + bare + services), scenario)


def _evidence(draw, services: list[str], scalable: list[str]):
    """The one ``sometimes`` check every scenario needs, about one workload or
    one Service (a check about everything makes every step visible, and the
    reduction would have nothing to do)."""
    choices = []
    if scalable:
        workload = draw(st.sampled_from(scalable))
        choices += [{"replacement-created": {"workload": workload}},
                    {"running-copies-reach": {"workload": workload, "count": draw(st.integers(1, 3))}}]
    if services:
        choices.append({"endpoint-lost": {"service": draw(st.sampled_from(services))}})
    return draw(st.sampled_from(choices)) if choices else "fault-then-converged"


def _checks(draw, services: list[dict], scalable: list[str], narrow: bool = False) -> list:
    """Safety checks mostly, sometimes a CEL expression (which makes every
    step visible) or a convergence check about every workload, one
    ``sometimes`` always. ``narrow``: no check that makes every step visible
    (safety checks name a workload, no CEL)."""
    names = [s["metadata"]["name"] for s in services]
    checks: list = [_evidence(draw, names, scalable)]
    for name in draw(st.lists(st.sampled_from(SAFETY_CHECKS), max_size=1)) if draw(_rarely(4)) else ():
        replicated = name in ("rc-never-exceeds-replicas", "at-most-replicas-running") and scalable
        if narrow and not replicated:
            continue
        if replicated and (narrow or draw(st.booleans())):
            checks.append({name: {"workload": draw(st.sampled_from(scalable))}})
        else:
            checks.append(name)
    if names:
        for name in draw(st.lists(st.sampled_from(SERVICE_CHECKS), max_size=2, unique=True)):
            checks.append({name: {"service": draw(st.sampled_from(names))}})
    if not narrow and draw(_rarely(10)):
        checks.append({"expression": {"name": "cel-check", "kind": draw(st.sampled_from(("always", "sometimes"))),
                                      "cel": draw(st.sampled_from(CEL_CHECKS))}})
    if draw(_rarely(10)):
        checks.append(draw(st.sampled_from(LIVENESS_CHECKS)))
    return checks
