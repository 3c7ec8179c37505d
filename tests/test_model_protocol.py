"""The model protocol, named properties, parameters, the model-file loader and the CLI."""

from __future__ import annotations

import json
import pathlib
import pickle

import pytest
from click.testing import CliRunner

import kspec.cli as cli
from kspec.checker.model import (
    Kind,
    ModelError,
    UnknownPropertyError,
    always,
    eventually_always,
    find_property,
    parse_params,
    select_properties,
    sometimes,
)
from kspec.simulation.modelfile import load_model

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = str(ROOT / "models" / "reference" / "rc_converge.py")


def test_missing_property_lists_the_names_that_exist():
    props = [always("a", bool), sometimes("b", bool)]
    with pytest.raises(UnknownPropertyError, match="the model defines: a, b"):
        find_property(props, "c")
    assert select_properties(props, ["b"]) == (props[1],)
    with pytest.raises(ModelError, match="two properties"):
        select_properties(props + [always("a", bool)])


def test_fairness_only_on_liveness():
    assert eventually_always("x", bool, fair={"rc"}).fair == frozenset({"rc"})
    assert eventually_always("x", bool).kind is Kind.EVENTUALLY_ALWAYS
    with pytest.raises(ModelError):
        from kspec.checker.model import Property

        Property("x", Kind.ALWAYS, bool, fair={"rc"})


def test_parse_params_converts_ints():
    assert parse_params(["N=3", "name=web", "neg=-2"]) == {"N": 3, "name": "web", "neg": -2}
    with pytest.raises(ModelError):
        parse_params(["N"])


def test_load_model_file_and_errors(tmp_path):
    m = load_model(MODEL, {"N": 2, "R": 2, "F": 1})
    assert pickle.loads(pickle.dumps(m)) == m  # models must be picklable
    with pytest.raises(ModelError, match="build_model rejected"):
        load_model(MODEL, {"X": 1})
    bad = tmp_path / "nothing.py"
    bad.write_text("x = 1\n")
    with pytest.raises(ModelError, match="build_model"):
        load_model(bad)
    other = tmp_path / "model.txt"
    other.write_text("")
    with pytest.raises(ModelError, match="a .py model file or a .yaml scenario"):
        load_model(other)
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.yaml")


def run(*args):
    return CliRunner().invoke(cli.group, list(args))


def test_cli_exit_codes_and_json_shape():
    res = run("explore", MODEL, "-p", "N=2", "-p", "R=2", "-p", "F=1", "--no-symmetry", "-o", "json")
    assert res.exit_code == 1  # surplus-reachable cannot happen with one fault
    doc = json.loads(res.stdout)
    assert doc["stats"]["distinct_states"] == 877
    for key in ("transitions", "max_depth", "seconds", "peak_memory_bytes"):
        assert key in doc["stats"]
    assert [p["verdict"] for p in doc["properties"]] == ["holds", "holds", "violated", "holds", "holds"]
    res = run("explore", MODEL, "-p", "N=2", "-p", "F=2", "--property", "converges", "-o", "json")
    prop = json.loads(res.stdout)["properties"][0]
    assert res.exit_code == 1 and prop["verdict"] == "violated"
    assert prop["cycle_start"] == len(prop["trace"]) - 1 and prop["trace"][1]["action"]
    res = run("explore", MODEL, "--property", "running-at-most-r-plus-1")
    assert res.exit_code == 0
    res = run("explore", MODEL, "--max-states", "10", "--strict")
    assert res.exit_code == 3
    assert run("explore", MODEL, "--property", "nope").exit_code == 2
    assert run("explore", MODEL, "-p", "N").exit_code == 2
    assert run("explore", "missing.py").exit_code == 2


def test_cli_fuzz_prints_seed():
    res = run("fuzz", MODEL, "--seed", "4", "--max-examples", "20")
    assert res.exit_code == 0
    assert "--seed 4" in res.stderr
