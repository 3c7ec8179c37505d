"""Baselines: adopt kspec on a repository that already has findings.

``kspec check --write-baseline FILE`` records the findings of today; later
runs with ``--baseline FILE`` report only findings that are not in it, so CI
fails on new problems while the old ones are worked off. A finding is
recorded by what identifies it across edits: rule, kind, namespace, name and
file (relative to the baseline's folder); not its line (which moves when
lines are added above) nor its message. Recorded findings are counted: two
findings of one rule on one object in the baseline hide two, not a third.

The file (JSON, stable, sorted)::

    {"version": 1, "tool": "kspec",
     "findings": [{"rule": "limits-missing", "kind": "Deployment", "namespace": "default",
                   "name": "web", "file": "deploy/web.yaml"}]}
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Iterable

from kspec.errors import Diagnostic, LoadError

VERSION = 1
_FIELDS = ("rule", "kind", "namespace", "name", "file")


class BaselineError(LoadError):
    """A baseline file that cannot be read."""


def _file_key(file: str, folder: str) -> str:
    """A finding's file relative to the baseline's folder (as written), for files that exist."""
    if not os.path.exists(file):
        return file  # <stdin>, a Helm template's name
    return Path(os.path.relpath(os.path.abspath(file), os.path.abspath(folder))).as_posix()


def finding_key(finding, folder: str) -> tuple[str, ...]:
    return (finding.rule_id, finding.kind, finding.namespace or "", finding.name, _file_key(finding.file, folder))


def render_baseline(findings: Iterable, baseline_file: str) -> str:
    """The baseline of ``findings`` as the text of ``baseline_file``."""
    folder = os.path.dirname(baseline_file) or "."
    keys = sorted(finding_key(f, folder) for f in findings)
    entries = [dict(zip(_FIELDS, key)) for key in keys]
    return json.dumps({"version": VERSION, "tool": "kspec", "findings": entries}, indent=2) + "\n"


def read_baseline(baseline_file: str) -> Counter:
    """The recorded findings of ``baseline_file``, counted by key."""
    try:
        data = json.loads(Path(baseline_file).read_text(encoding="utf-8"))
    except OSError as err:
        raise BaselineError([Diagnostic(baseline_file, None, err.strerror or str(err))]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise BaselineError([Diagnostic(baseline_file, line, f"not a kspec baseline (invalid JSON: {err})")]) from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(entries, list):
        raise BaselineError([Diagnostic(baseline_file, None,
                                        f"not a kspec baseline (expected version {VERSION} and a findings list; "
                                        "write one with --write-baseline)")])
    counts: Counter = Counter()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in _FIELDS):
            raise BaselineError([Diagnostic(baseline_file, None, f"findings[{index}]: expected the strings "
                                            f"{', '.join(_FIELDS)}", f"findings[{index}]")])
        counts[tuple(entry[f] for f in _FIELDS)] += 1
    return counts


def split_baselined(findings: Iterable, recorded: Counter, baseline_file: str) -> tuple[list, list, int]:
    """``(new findings, baselined findings, recorded entries no longer found)``."""
    folder = os.path.dirname(baseline_file) or "."
    left = Counter(recorded)
    new, known = [], []
    for finding in findings:
        key = finding_key(finding, folder)
        if left[key] > 0:
            left[key] -= 1
            known.append(finding)
        else:
            new.append(finding)
    return new, known, sum(left.values())


__all__ = ["BaselineError", "finding_key", "read_baseline", "render_baseline", "split_baselined"]
