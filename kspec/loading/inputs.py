"""Which input files are not Kubernetes manifests, and where piped Helm output came from.

A repository holds YAML that is not a manifest next to its manifests: Helm
charts (``Chart.yaml``, ``values.yaml``, templates with ``{{ ... }}``),
Kustomize files (``kustomization.yaml``), CI workflows. Scanning a folder
skips those with a warning that says what to run instead (``helm template``,
``kubectl kustomize``); a file named on the command line is read as asked,
and the same words explain the error it gives.

``helm template`` writes ``# Source: chart/templates/file.yaml`` before each
object; :func:`helm_sources` reads those comments so that an object piped in
from Helm is reported at its template.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

HELM_HINT = "a Helm chart: check what it renders with `helm template CHART | kspec check -`"
KUSTOMIZE_HINT = "a Kustomize file: check what it builds with `kubectl kustomize DIR | kspec check -`"
_BY_NAME = {
    "chart.yaml": f"Helm chart metadata, not a Kubernetes object; {HELM_HINT}",
    "chart.yml": f"Helm chart metadata, not a Kubernetes object; {HELM_HINT}",
    "values.yaml": f"Helm values, not a Kubernetes object; {HELM_HINT}",
    "values.yml": f"Helm values, not a Kubernetes object; {HELM_HINT}",
    "values.schema.json": f"a Helm values schema, not a Kubernetes object; {HELM_HINT}",
    "kustomization.yaml": f"not a Kubernetes object: {KUSTOMIZE_HINT}",
    "kustomization.yml": f"not a Kubernetes object: {KUSTOMIZE_HINT}",
}
_TEMPLATE = re.compile(r"\{\{-?\s*[-.$/\w\"(]")
_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.M)


def reason_by_name(file: str, text: str) -> str | None:
    """Why ``file`` is not a manifest, from its name and place alone (None: read it)."""
    path = Path(file)
    reason = _BY_NAME.get(path.name.lower())
    if reason is not None:
        return reason
    if _TEMPLATE.search(text) and in_chart(path):
        return f"a Helm template (it contains {{{{ ... }}}}); {HELM_HINT}"
    return None


def in_chart(path: Path) -> bool:
    """Whether a folder above ``path`` holds a ``Chart.yaml`` (the file is part of a Helm chart)."""
    return any((folder / "Chart.yaml").is_file() for folder in path.resolve().parents)


def reason_after_parse(text: str, manifests: list, parse_failed: bool) -> str | None:
    """Why a file's parsed content is not manifests (None: it is).

    A file that does not parse and holds ``{{`` is a template; one whose
    documents name neither ``apiVersion`` nor ``kind`` is
    some other YAML or JSON (a CI workflow, an application's configuration,
    a list or a scalar).
    """
    if parse_failed:
        return f"a Helm template (it contains {{{{ ... }}}}); {HELM_HINT}" if _TEMPLATE.search(text) else None
    if manifests and all(not isinstance(m, dict) or ("apiVersion" not in m and "kind" not in m) for m in manifests):
        if _TEMPLATE.search(text):
            return f"a Helm template (it contains {{{{ ... }}}}); {HELM_HINT}"
        return "not a Kubernetes object (no apiVersion or kind in any document)"
    if manifests and all(isinstance(m, dict) and str(m.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")
                         for m in manifests):
        return f"not a Kubernetes object: {KUSTOMIZE_HINT}"
    return None


def helm_sources(text: str) -> tuple[list[int], list[str]]:
    """The lines of ``# Source: path`` comments in ``text`` and their paths, in order."""
    lines: list[int] = []
    paths: list[str] = []
    for found in _SOURCE.finditer(text):
        lines.append(text.count("\n", 0, found.start()) + 1)
        paths.append(found.group(1))
    return lines, paths


def helm_source(sources: tuple[list[int], list[str]], line: int, previous: int) -> str | None:
    """The template an object starting at ``line`` came from: the last ``# Source:``
    comment above it and below the previous object's start ``previous``."""
    lines, paths = sources
    index = bisect.bisect_left(lines, line) - 1
    if index >= 0 and lines[index] > previous:
        return paths[index]
    return None


__all__ = ["HELM_HINT", "KUSTOMIZE_HINT", "helm_source", "helm_sources", "in_chart", "reason_after_parse",
           "reason_by_name"]
