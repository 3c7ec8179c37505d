"""Declarative CEL rules over whole clusters: ``kspec check`` and ``kspec test-rules``.

>>> from kspec.loading.manifests import parse_object
>>> from kspec.rules import builtin_rules, check
>>> pod = parse_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
...                     "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
>>> result = check([pod], builtin_rules().select(["bare-pod", "image-tag-latest-or-missing"]))
>>> [(f.rule_id, f.object_ref) for f in result.findings]
[('bare-pod', 'Pod/web'), ('image-tag-latest-or-missing', 'Pod/web')]

See docs/rules.md for the rule format, variables, functions and output shapes.
"""

from kspec.rules.engine import CheckResult, Finding, check, check_cluster, check_paths, rule_as_predicate
from kspec.rules.rule import Rule, RuleFileError, RuleSet
from kspec.rules.ruleset import builtin_rules, load_rules

__all__ = [
    "CheckResult", "Finding", "Rule", "RuleFileError", "RuleSet", "builtin_rules", "check", "check_cluster",
    "check_paths", "load_rules", "rule_as_predicate",
]
