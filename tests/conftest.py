"""Shared fixtures (the repository root, the corpus, a CLI runner) and the Hypothesis profile.

Builders and shared models live in ``tests/support/``; test files import from
there, never from each other.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import profiles

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("KSPEC_CORPUS", ROOT.parent / "shared" / "corpus"))
HYPOTHESIS_PROFILE = profiles.load()  # before any test module applies @settings


def pytest_report_header(config):
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} (set {profiles.ENV}=thorough for more examples)"


@pytest.fixture(autouse=True)
def no_terminal_width(monkeypatch):
    """Tables wrap to ``$COLUMNS`` when it is set; tests compare unwrapped output
    whatever the terminal (or pytest-xdist's workers) set it to."""
    monkeypatch.delenv("COLUMNS", raising=False)


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
