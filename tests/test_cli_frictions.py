"""Small frictions: one default per option in --help, tables that fit the terminal, skips that say why."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from kspec.cli import group
from kspec.util.textfmt import MIN_COLUMN, fit_widths, table

ROOT = Path(__file__).resolve().parent.parent


def options_of(help_text: str) -> list[str]:
    """Each option's entry of a click help page (its lines joined)."""
    body = help_text.split("Options:", 1)[1]
    return [" ".join(entry.split()) for entry in re.split(r"\n  (?=-)", body) if entry.strip()]


@pytest.mark.parametrize("verb", group.list_commands(None))
def test_help_shows_one_default_per_option(run_cli, verb):
    result = run_cli(verb, "--help")
    assert result.exit_code == 0
    entries = options_of(result.stdout)
    assert entries
    doubled = [e for e in entries if len(re.findall(r"\[default:", e)) > 1]
    assert doubled == [], doubled


# --------------------------------------------------------------------------- widths


@given(widths=st.lists(st.integers(0, 120), min_size=1, max_size=8), available=st.integers(20, 200))
def test_fitted_widths_fit_or_stop_at_the_minimum(widths, available):
    fitted = fit_widths(widths, available)
    assert all(f <= w for f, w in zip(fitted, widths))
    total = sum(fitted) + 2 * (len(fitted) - 1)
    assert total <= available or all(f <= MIN_COLUMN or f == w for f, w in zip(fitted, widths))


@given(cells=st.lists(st.text(alphabet="abc de-/", min_size=0, max_size=90), min_size=3, max_size=3),
       width=st.integers(40, 120))
def test_a_fitted_table_keeps_every_character(cells, width):
    lines = table(("one", "two", "three"), [cells], width=width).splitlines()
    assert all(len(line) <= width for line in lines)
    spans = [m.span() for m in re.finditer(r"-+", lines[1])]
    for cell, (start, end) in zip(cells, spans):
        column = "".join(line[start:end] for line in lines[2:])
        assert column.replace(" ", "") == cell.replace(" ", "")


REPORT = ("report", "models/drain-with-pdb.yaml", "--property", "deployment-min-available", "--no-check",
          "--no-schedule")
SENTENCE = "2 Ready pods of Deployment/web < 3 replicas - maxUnavailable 0"


def test_the_report_table_wraps_to_the_terminal(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "70")
    lines = run_cli(*REPORT).stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("check "))
    rows = lines[start:lines.index("", start)]
    assert max(len(line) for line in rows) <= 70
    detail = rows[0].index("detail")
    assert " ".join(line[detail:].strip() for line in rows[2:]).startswith(SENTENCE)


def test_a_piped_report_is_not_wrapped(run_cli, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert any(f"{SENTENCE} (counterexample of" in line for line in run_cli(*REPORT).stdout.splitlines())


def test_the_placement_wraps_to_the_terminal(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli("schedule", "models/myapp", "--nodes", "1:cpu=8,memory=32Gi")
    grid = [line for line in result.stdout.splitlines() if line.startswith("  ")]
    assert max(len(line) for line in grid) <= 100
    assert "ReplicationController/frontend x" in result.stdout
    monkeypatch.delenv("COLUMNS")
    wide = run_cli("schedule", "models/myapp", "--nodes", "1:cpu=8,memory=32Gi").stdout
    assert max(len(line) for line in wide.splitlines()) > 100


# --------------------------------------------------------------------------- skips


def test_a_skip_says_why_in_the_summary(tmp_path):
    """The project's pytest settings print every skip's reason in the short summary."""
    (tmp_path / "test_skipper.py").write_text("import pytest\n\ndef test_x():\n"
                                              "    pytest.skip('the widget is absent here')\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider",
                          "--rootdir", str(tmp_path), str(tmp_path / "test_skipper.py")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert "1 skipped" in run.stdout
    assert "SKIPPED [1]" in run.stdout and "the widget is absent here" in run.stdout
