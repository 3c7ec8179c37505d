"""Suppressions written on the objects themselves: kspec's annotation and other linters'.

kspec reads its own annotation::

    metadata:
      annotations:
        kspec.dev/ignore: "limits-missing, requests-missing: batch job, BestEffort on purpose"

(rule ids, a colon, and the reason, which is required: a suppression without
one is not applied and a warning says so), and the annotations users already
write for other linters, each parsed the way its tool parses it:

* kube-linter (``pkg/ignore/ignore.go``, ``ObjectForCheck``): a key
  ``ignore-check.kube-linter.io/<check>`` (any value, the reason) ignores one
  check; the key ``kube-linter.io/ignore-all`` ignores every check;
* checkov (``checkov/kubernetes/kubernetes_utils.py``, ``get_skipped_checks``):
  keys containing ``checkov.io/skip`` (or ``bridgecrew.io/skip``), value
  ``CKV_K8S_<n>[=comment]``;
* kube-score (``scorecard/enabled.go``, ``isEnabled``): ``kube-score/ignore``,
  a comma-separated list of check ids (``*`` for all), on the object or on
  its pod template; ``kube-score/skip: true`` skips the object (``isSkipped``,
  a YAML boolean);
* Polaris (``pkg/validator``): ``polaris.fairwinds.com/<check>-exempt`` equal
  to ``true`` (any case) exempts one check, ``polaris.fairwinds.com/exempt``
  every check.

Another tool's annotation suppresses a kspec rule only where it names that
rule's equivalent: a rule's ``equivalents`` list, per tool, the checks that
together cover what the rule checks, and every one that applies to the
object's kind must be named (an annotation that silences only checkov's
CPU-limit check does not hide kspec's finding about memory limits; a
kube-score check named ``deployment-...`` does not apply to a StatefulSet).
An "ignore everything" annotation of a tool suppresses the rules that have
an equivalent in that tool.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import attrs

from kspec.rules.rule import Rule

KSPEC_IGNORE = "kspec.dev/ignore"
KUBE_LINTER_PREFIX = "ignore-check.kube-linter.io/"
KUBE_LINTER_ALL = "kube-linter.io/ignore-all"
CHECKOV_KEYS = ("checkov.io/skip", "bridgecrew.io/skip")
KUBE_SCORE_IGNORE = "kube-score/ignore"
KUBE_SCORE_SKIP = "kube-score/skip"
POLARIS_PREFIX = "polaris.fairwinds.com/"
POLARIS_ALL = "polaris.fairwinds.com/exempt"
TOOLS = ("kube-linter", "checkov", "kube-score", "polaris")
ALL = "*"
_KIND_PREFIXED = ("deployment", "statefulset", "daemonset", "replicaset", "cronjob", "service", "ingress",
                  "networkpolicy", "horizontalpodautoscaler")

@attrs.frozen
class Suppression:
    """Why one rule's findings on one object are not reported: the annotation and its reason."""

    rule_id: str
    annotation: str
    reason: str


def _annotations(manifest: Mapping) -> Mapping:
    metadata = manifest.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


def _template_annotations(manifest: Mapping) -> Mapping:
    spec = manifest.get("spec")
    if not isinstance(spec, Mapping):
        return {}
    template = spec.get("template")
    if not isinstance(template, Mapping):
        job = spec.get("jobTemplate")
        job_spec = job.get("spec") if isinstance(job, Mapping) else None
        template = job_spec.get("template") if isinstance(job_spec, Mapping) else None
    return _annotations(template) if isinstance(template, Mapping) else {}


def tool_ignores(manifest: Mapping) -> dict[str, dict[str, str]]:
    """``{tool: {check id or "*": reason}}`` from the other linters' annotations on ``manifest``."""
    found: dict[str, dict[str, str]] = {tool: {} for tool in TOOLS}
    annotations = _annotations(manifest)
    for key, value in annotations.items():
        key, text = str(key), "" if value is None else str(value)
        if key == KUBE_LINTER_ALL:
            found["kube-linter"][ALL] = text
        elif key.startswith(KUBE_LINTER_PREFIX):
            found["kube-linter"][key[len(KUBE_LINTER_PREFIX):]] = text
        elif any(marker in key for marker in CHECKOV_KEYS) and "CKV_K8S" in text:
            check, _, comment = text.partition("=")
            found["checkov"][check.strip()] = comment.strip()
        elif key == KUBE_SCORE_SKIP and text.strip().lower() == "true":
            found["kube-score"][ALL] = ""
        elif key == POLARIS_ALL and text.lower() == "true":
            found["polaris"][ALL] = ""
        elif key.startswith(POLARIS_PREFIX) and key.endswith("-exempt") and text.lower() == "true":
            found["polaris"][key[len(POLARIS_PREFIX):-len("-exempt")]] = ""
    for source in (annotations, _template_annotations(manifest)):
        for check in str(source.get(KUBE_SCORE_IGNORE) or "").split(","):
            if check.strip():
                found["kube-score"][check.strip()] = ""
    return found


def parse_kspec_ignore(value) -> tuple[tuple[str, ...], str]:
    """``"rule-a, rule-b: reason"`` as ``(("rule-a", "rule-b"), "reason")``."""
    ids, _, reason = str(value or "").partition(":")
    return tuple(part.strip() for part in ids.split(",") if part.strip()), reason.strip()


def applicable_checks(checks: Iterable[str], kind: str) -> tuple[str, ...]:
    """The checks that apply to an object of ``kind``: one named for another kind
    (``deployment-has-poddisruptionbudget`` on a StatefulSet) does not."""
    kind = kind.lower()
    chosen = []
    for check in checks:
        prefix = check.split("-", 1)[0]
        if prefix in _KIND_PREFIXED and "-" in check and prefix != kind:
            continue
        chosen.append(check)
    return tuple(chosen)


def object_suppressions(manifest: Mapping, rules: Iterable[Rule]) -> tuple[dict[str, Suppression], list[str]]:
    """The suppressions ``manifest`` declares for ``rules``, and the problems with
    its ``kspec.dev/ignore`` annotation (no reason, unknown rules)."""
    annotations = _annotations(manifest)
    if not annotations and not _template_annotations(manifest):
        return {}, []
    rules = tuple(rules)
    known = {rule.id for rule in rules}
    chosen: dict[str, Suppression] = {}
    problems: list[str] = []
    if KSPEC_IGNORE in annotations:
        ids, reason = parse_kspec_ignore(annotations[KSPEC_IGNORE])
        unknown = [i for i in ids if i not in known]
        if unknown:
            problems.append(f"{KSPEC_IGNORE} names unknown rule(s) {', '.join(unknown)}")
        if not ids:
            problems.append(f"{KSPEC_IGNORE} names no rule; write 'rule-a, rule-b: the reason'")
        elif not reason:
            problems.append(f"{KSPEC_IGNORE} has no reason, so it is not applied; write '{', '.join(ids)}: the reason'")
        else:
            for rule_id in ids:
                chosen[rule_id] = Suppression(rule_id, KSPEC_IGNORE, reason)
    ignores = tool_ignores(manifest)
    if not any(ignores.values()):
        return chosen, problems
    kind = str(manifest.get("kind", ""))
    for rule in rules:
        if rule.id in chosen:
            continue
        for tool, checks in rule.equivalents:
            named = ignores.get(tool) or {}
            checks = applicable_checks(checks, kind)
            if ALL in named or (named and checks and all(check in named for check in checks)):
                reasons = "; ".join(r for r in (named.get(ALL, ""), *(named.get(c, "") for c in checks)) if r)
                chosen[rule.id] = Suppression(rule.id, tool, reasons)
                break
    return chosen, problems


__all__ = ["KSPEC_IGNORE", "applicable_checks", "Suppression", "object_suppressions", "parse_kspec_ignore",
           "tool_ignores"]
