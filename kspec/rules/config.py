"""``.kspec.yaml``: a repository's settings for ``kspec check``.

Read from ``--config FILE``, else from ``.kspec.yaml`` (or ``.kspec.yml``) in
the current folder::

    only: [limits-missing, requests-missing]   # run only these rules (default: all)
    skip: [bare-pod]                           # never run these
    severity:                                  # per-rule severity
      single-replica-behind-service: info
    exclude: ["vendor/**", "charts"]           # files not read (as --exclude)
    ignore:                                    # findings not reported; every key given must match
      - rule: privileged-or-host-namespaces    # rule id (glob)
        kind: DaemonSet
        namespace: kube-system
        name: "cilium*"                        # glob
        path: "deploy/system/*"                # glob on the file (as --exclude reads globs)
        reason: the CNI needs the host network # required
    baseline: .kspec-baseline.json             # findings recorded here are not reported (--baseline)
    kubernetesVersion: "1.30"                  # the release whose APIs are checked (--kube-version)

Paths in the file (``baseline``) are relative to the file's folder. Every
problem is reported at once as ``file:line: error: field: message``.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Iterable

import attrs

from kspec.errors import Diagnostic, Diagnostics, LoadError
from kspec.loading.manifests import is_excluded
from kspec.loading.yamlio import YamlError, load_documents, node_line
from kspec.rules.rule import SEVERITIES, RuleSet

DEFAULT_NAMES = (".kspec.yaml", ".kspec.yml")
_KEYS = ("only", "skip", "severity", "exclude", "ignore", "baseline", "kubernetesVersion")
_IGNORE_KEYS = ("rule", "kind", "namespace", "name", "path", "reason")


class ConfigError(LoadError):
    """A configuration file that cannot be used; one diagnostic per problem."""


@attrs.frozen
class Ignore:
    """Findings the configuration does not report: each field given (globs for
    rule, name and path) must match; ``reason`` says why."""

    reason: str
    rule: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    path: str | None = None

    def matches(self, finding) -> bool:
        return ((self.rule is None or fnmatch.fnmatchcase(finding.rule_id, self.rule))
                and (self.kind is None or finding.kind == self.kind)
                and (self.namespace is None or (finding.namespace or "") == self.namespace)
                and (self.name is None or fnmatch.fnmatchcase(finding.name, self.name))
                and (self.path is None or is_excluded(finding.file, (self.path,))))


@attrs.frozen
class Config:
    """What a configuration file says (the defaults when there is none)."""

    file: str | None = None
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[Ignore, ...] = ()
    baseline: str | None = None
    kubernetes_version: str | None = None
    lines: tuple[tuple[str, int], ...] = attrs.field(default=(), eq=False, repr=False)

    def line_of(self, field: str) -> int | None:
        return dict(self.lines).get(field)

    def apply(self, rules: RuleSet, only: Iterable[str] = (), skip: Iterable[str] = ()) -> RuleSet:
        """``rules`` selected (command-line ``only`` replaces the file's; ``skip``
        adds to it) and with the file's severities; unknown ids are errors here."""
        only, skip = tuple(only) or self.only, self.skip + tuple(skip)
        self._check_ids(rules)
        chosen = rules.select(only, skip)
        severities = dict(self.severity)
        if not severities:
            return chosen
        return attrs.evolve(chosen, rules=tuple(attrs.evolve(r, severity=severities[r.id]) if r.id in severities
                                                else r for r in chosen.rules))

    def _check_ids(self, rules: RuleSet) -> None:
        known = set(rules.ids)
        problems = []
        for field, ids in (("only", self.only), ("skip", self.skip), ("severity", [i for i, _ in self.severity])):
            for rule_id in ids:
                if rule_id not in known:
                    problems.append(Diagnostic(self.file or "", self.line_of(f"{field}.{rule_id}") or self.line_of(field),
                                               f"unknown rule id {rule_id!r}; known ids: {', '.join(sorted(known))}",
                                               field))
        if problems:
            raise ConfigError(problems)

    def ignored(self, finding) -> Ignore | None:
        for entry in self.ignore:
            if entry.matches(finding):
                return entry
        return None

    def path(self, value: str) -> str:
        """A path written in the file, relative to the file's folder."""
        if self.file is None or os.path.isabs(value):
            return value
        return os.path.normpath(os.path.join(os.path.dirname(self.file), value))


def find_config(given: str | None, folder: str = ".") -> str | None:
    """``given``, else the first of :data:`DEFAULT_NAMES` in ``folder``, else None."""
    if given is not None:
        return given
    for name in DEFAULT_NAMES:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return None


def load_config(file: str | None) -> Config:
    """The configuration in ``file`` (the defaults for None); raises ConfigError on any problem."""
    if file is None:
        return Config()
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([Diagnostic(file, None, getattr(err, "strerror", None) or str(err))]) from None
    try:
        documents = list(load_documents(text))
    except YamlError as err:
        raise ConfigError([Diagnostic(file, err.line, err.message)]) from None
    if not documents:
        return Config(file=file)
    if len(documents) > 1 or not isinstance(documents[0].value, dict):
        raise ConfigError([Diagnostic(file, documents[0].line, "expected one mapping of settings")])
    return _read(file, documents[0])


def _read(file: str, document) -> Config:
    value = document.value
    problems = Diagnostics(file, lambda path: node_line(document.node, path))
    lines: dict[str, int] = {}
    for key in value:
        lines[str(key)] = node_line(document.node, (key,))
        if key not in _KEYS:
            problems.at((key,), f"unknown field {key!r}; known fields: {', '.join(_KEYS)}", str(key))
    only = _ids(value, "only", problems, lines, document)
    skip = _ids(value, "skip", problems, lines, document)
    severity = _severities(value, problems, lines, document)
    exclude = _strings(value, "exclude", problems)
    ignore = _ignores(value, problems)
    baseline = _text(value, "baseline", problems)
    version = value.get("kubernetesVersion")
    if version is not None and not isinstance(version, (str, float, int)):
        problems.at(("kubernetesVersion",), "expected a version such as \"1.30\"", "kubernetesVersion")
        version = None
    if isinstance(version, float):
        problems.at(("kubernetesVersion",), f"write the version as a string (\"{version}\"): YAML reads it as a "
                                            "number, so 1.30 would be 1.3", "kubernetesVersion")
        version = None
    problems.raise_if_any(ConfigError)
    return Config(file=file, only=only, skip=skip, severity=severity, exclude=exclude, ignore=ignore,
                  baseline=baseline, kubernetes_version=None if version is None else str(version),
                  lines=tuple(lines.items()))


def _strings(value: dict, key: str, problems: Diagnostics) -> tuple[str, ...]:
    items = value.get(key)
    if items is None:
        return ()
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        problems.at((key,), "expected a list of non-empty strings", key)
        return ()
    return tuple(i.strip() for i in items)


def _ids(value: dict, key: str, problems: Diagnostics, lines: dict, document) -> tuple[str, ...]:
    ids = _strings(value, key, problems)
    for index, rule_id in enumerate(ids):
        lines[f"{key}.{rule_id}"] = node_line(document.node, (key, index))
    return ids


def _severities(value: dict, problems: Diagnostics, lines: dict, document) -> tuple[tuple[str, str], ...]:
    given = value.get("severity")
    if given is None:
        return ()
    if not isinstance(given, dict):
        problems.at(("severity",), "expected a mapping of rule id to severity", "severity")
        return ()
    chosen = []
    for rule_id, level in given.items():
        lines[f"severity.{rule_id}"] = node_line(document.node, ("severity", rule_id))
        if level not in SEVERITIES:
            problems.at(("severity", rule_id), f"severity must be one of {', '.join(SEVERITIES)}, not {level!r}",
                        f"severity.{rule_id}")
        else:
            chosen.append((str(rule_id), level))
    return tuple(chosen)


def _text(value: dict, key: str, problems: Diagnostics) -> str | None:
    text = value.get(key)
    if text is not None and (not isinstance(text, str) or not text.strip()):
        problems.at((key,), "expected a non-empty string", key)
        return None
    return text


def _ignores(value: dict, problems: Diagnostics) -> tuple[Ignore, ...]:
    entries = value.get("ignore")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        problems.at(("ignore",), "expected a list of {rule, kind, namespace, name, path, reason}", "ignore")
        return ()
    chosen = []
    for index, entry in enumerate(entries):
        field = f"ignore[{index}]"
        if not isinstance(entry, dict):
            problems.at(("ignore", index), "expected a mapping with a reason and what to match", field)
            continue
        bad = False
        for key, item in entry.items():
            if key not in _IGNORE_KEYS:
                problems.at(("ignore", index, key), f"unknown field {key!r}; known fields: {', '.join(_IGNORE_KEYS)}",
                            f"{field}.{key}")
                bad = True
            elif not isinstance(item, str) or not item.strip():
                problems.at(("ignore", index, key), "expected a non-empty string", f"{field}.{key}")
                bad = True
        if "reason" not in entry:
            problems.at(("ignore", index), "a reason is required (why these findings do not matter)", field)
            bad = True
        elif len(entry) == 1:
            problems.at(("ignore", index), "name what to ignore: rule, kind, namespace, name or path", field)
            bad = True
        if not bad:
            chosen.append(Ignore(**{key: item.strip() for key, item in entry.items()}))
    return tuple(chosen)


__all__ = ["Config", "ConfigError", "DEFAULT_NAMES", "Ignore", "find_config", "load_config"]
