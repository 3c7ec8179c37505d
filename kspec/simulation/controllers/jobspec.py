"""A Job manifest's spec as the job controller reads it (:class:`jobmath.JobSpec`).

The API server defaults and validates these fields (``SetDefaults_Job`` and
``ValidateJobSpec`` in ``pkg/apis/batch``); kspec's loader keeps only
parallelism, completions and backoffLimit typed, so the rest is read here
from the defaulted manifest, every problem a :class:`LoadError` at the Job's
line, with upstream's wording where it has one:

- ``completionMode: Indexed`` needs ``completions``;
- ``backoffLimitPerIndex`` and ``maxFailedIndexes`` need an Indexed Job, and
  ``maxFailedIndexes`` needs ``backoffLimitPerIndex`` (with a per-index limit
  ``backoffLimit`` defaults to the largest int32: no Job-wide limit);
- ``podFailurePolicy`` needs ``restartPolicy: Never`` and makes
  ``podReplacementPolicy`` default to (and require) ``Failed``;
- ``podReplacementPolicy`` is ``TerminatingOrFailed`` or ``Failed``.
"""

from __future__ import annotations

from kspec.errors import Diagnostic, LoadError
from kspec.simulation.controllers.jobmath import JobSpec, OnExitCodes, PodFailurePolicyRule

__all__ = ["MAX_INT32", "job_spec"]

MAX_INT32 = 2**31 - 1
_REPLACEMENT = ("TerminatingOrFailed", "Failed")
_ACTIONS = ("FailJob", "FailIndex", "Ignore", "Count")


def _int(spec: dict, key: str, fail) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(f"spec.{key}", "must be greater than or equal to 0")
    return value


def _rules(spec: dict, fail) -> tuple[PodFailurePolicyRule, ...] | None:
    policy = spec.get("podFailurePolicy")
    if policy is None:
        return None
    rules = policy.get("rules") if isinstance(policy, dict) else None
    if not isinstance(rules, list):
        fail("spec.podFailurePolicy.rules", "Required value")
    out = []
    for i, rule in enumerate(rules):
        path = f"spec.podFailurePolicy.rules[{i}]"
        if not isinstance(rule, dict) or rule.get("action") not in _ACTIONS:
            fail(f"{path}.action", f"Unsupported value: supported values: {', '.join(_ACTIONS)}")
        codes = rule.get("onExitCodes")
        conditions = rule.get("onPodConditions") or []
        if (codes is None) == (not conditions):
            fail(path, "specifying one of onExitCodes and onPodConditions is required")
        on_codes = None
        if codes is not None:
            values = codes.get("values") if isinstance(codes, dict) else None
            if codes.get("operator") not in ("In", "NotIn") or not isinstance(values, list) or not values:
                fail(f"{path}.onExitCodes", "operator must be In or NotIn, with at least one value")
            on_codes = OnExitCodes(codes["operator"], tuple(int(v) for v in values), codes.get("containerName"))
        pairs = tuple((str(c.get("type")), str(c.get("status", "True"))) for c in conditions if isinstance(c, dict))
        out.append(PodFailurePolicyRule(rule["action"], on_codes, pairs))
    return tuple(out)


def job_spec(obj) -> JobSpec:
    """The :class:`JobSpec` of a loaded Job object (its defaulted manifest in ``obj.raw``)."""
    raw = obj.raw if isinstance(obj.raw, dict) else {}
    spec = raw.get("spec") or {}

    def fail(field: str, message: str):
        raise LoadError([Diagnostic(str(obj.source.file), obj.source.line, f"Job/{obj.metadata.name}: {message}",
                                    field)])

    indexed = spec.get("completionMode", "NonIndexed") == "Indexed"
    if spec.get("completionMode", "NonIndexed") not in ("NonIndexed", "Indexed"):
        fail("spec.completionMode", 'Unsupported value: supported values: "NonIndexed", "Indexed"')
    completions = obj.spec.completions
    if indexed and completions is None:
        fail("spec.completions", "when completion mode is Indexed: Required value")
    per_index = _int(spec, "backoffLimitPerIndex", fail)
    max_failed = _int(spec, "maxFailedIndexes", fail)
    if per_index is not None and not indexed:
        fail("spec.backoffLimitPerIndex", "requires indexed completion mode")
    if max_failed is not None and per_index is None:
        fail("spec.maxFailedIndexes", "cannot be set when backoffLimitPerIndex is not set")
    rules = _rules(spec, fail)
    restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy", "Never")
    if rules is not None and restart != "Never":
        fail("spec.podFailurePolicy", "only allowed when template.spec.restartPolicy is Never")
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None and replacement not in _REPLACEMENT:
        fail("spec.podReplacementPolicy", f"Unsupported value: supported values: {', '.join(_REPLACEMENT)}")
    if rules is not None and replacement == "TerminatingOrFailed":
        fail("spec.podReplacementPolicy", "must be Failed when podFailurePolicy is specified")
    backoff = obj.spec.backoff_limit  # defaulted: 6, or MAX_INT32 with a per-index limit
    deadline = _int(spec, "activeDeadlineSeconds", fail)
    if deadline == 0:
        fail("spec.activeDeadlineSeconds", "must be greater than 0")
    return JobSpec(parallelism=obj.spec.parallelism, completions=completions, indexed=indexed, backoff_limit=backoff,
                   backoff_limit_per_index=per_index, max_failed_indexes=max_failed, pod_failure_policy=rules,
                   pod_replacement_policy=replacement, suspend=spec.get("suspend") is True, restart_policy=restart,
                   active_deadline_seconds=deadline)
