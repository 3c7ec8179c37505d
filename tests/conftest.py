"""Shared fixtures: the repository root, the corpus, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("KSPEC_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared manifest corpus is not at {CORPUS} (set KSPEC_CORPUS)")
    return CORPUS


@pytest.fixture
def run_cli():
    """Run ``kspec ARGS`` in-process; returns click's Result (exit_code, stdout, stderr)."""
    from kspec.cli import group

    def run(*args, input=None):
        return CliRunner().invoke(group, [str(a) for a in args], input=input, catch_exceptions=False)

    return run
