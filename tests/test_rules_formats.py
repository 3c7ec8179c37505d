"""``kspec check``'s machine outputs against the published schemas in ``../shared/schemas``
(SARIF 2.1.0, JSON Schema draft 4, its ``uri`` formats checked too; the Ant ``JUnit.xsd``
and the Jenkins xUnit plugin's ``junit-10.xsd``), and SARIF artifact URIs:
percent-encoded and relative to the repository root."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kspec.rules.output import artifact_uri, repository_root

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT.parent / "shared" / "schemas"
EXAMPLES = ROOT / "checks" / "examples"
JUNIT_XSDS = ("windyroad-JUnit.xsd", "jenkins-junit-10.xsd")
# RFC 3986 URI-reference characters: unreserved, reserved, and '%' only before two hex digits.
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def schema_file(name: str) -> Path:
    path = SCHEMAS / name
    if not path.is_file():
        pytest.skip(f"the published schema {name} is not in {SCHEMAS}")
    return path


def sarif_errors(log: dict) -> list[str]:
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("uri-reference")(lambda v: not isinstance(v, str) or bool(URI_REFERENCE.match(v)))
    checker.checks("uri")(lambda v: not isinstance(v, str) or bool(URI_REFERENCE.match(v) and URI.match(v)))
    schema = json.loads(schema_file("sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=checker)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def junit_errors(text: str) -> dict[str, list[str]]:
    import xmlschema

    found = {}
    for name in JUNIT_XSDS:
        schema = xmlschema.XMLSchema(str(schema_file(name)))
        found[name] = [str(e.reason) + " at " + str(e.path) for e in schema.iter_errors(text)]
    return found


def run_check(run_cli, *args):
    return run_cli("check", *args)


# --------------------------------------------------------------------------- SARIF


def test_sarif_of_the_examples_is_valid(run_cli):
    out = run_check(run_cli, EXAMPLES / "controllers-overlap" / "fail.yaml", EXAMPLES / "bare-pod" / "fail.yaml",
                    "-o", "sarif")
    log = json.loads(out.stdout)
    assert log["runs"][0]["results"]
    assert sarif_errors(log) == []


def test_sarif_of_the_corpus_is_valid(run_cli, corpus):
    log = json.loads(run_check(run_cli, corpus, "-o", "sarif").stdout)
    assert len(log["runs"][0]["results"]) > 50
    assert sarif_errors(log) == []


def test_a_bad_uri_is_caught_by_the_schema_check():
    # the format checks can fail: a space and a lone '%' are not URI characters
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "kspec"}}, "results": [{
        "message": {"text": "m"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a b%zz.yaml"}}}]}]}]}
    assert sarif_errors(log)


def make_repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    folder = repo / "deploy dir" / "ünïcode 100%"
    folder.mkdir(parents=True)
    (folder / "pod #1.yaml").write_text((EXAMPLES / "bare-pod" / "fail.yaml").read_text())
    (repo / "sub").mkdir()
    return repo


def test_sarif_uris_are_relative_to_the_repository_root_and_percent_encoded(run_cli, tmp_path, monkeypatch):
    repo = make_repository(tmp_path)
    monkeypatch.chdir(repo / "sub")  # run from a folder inside the repository
    log = json.loads(run_check(run_cli, "../deploy dir", "-o", "sarif", "--only", "bare-pod").stdout)
    (result,) = log["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "deploy%20dir/%C3%BCn%C3%AFcode%20100%25/pod%20%231.yaml", "uriBaseId": "%SRCROOT%"}
    base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert urllib.parse.unquote(base) == f"file://{repo}/"
    assert sarif_errors(log) == []


def test_a_file_outside_the_repository_is_an_absolute_file_uri(tmp_path):
    repo = make_repository(tmp_path)
    outside = tmp_path / "elsewhere" / "a b.yaml"
    uri, inside = artifact_uri(str(outside), str(repo))
    assert not inside and uri == "file://" + urllib.parse.quote(str(outside))


def test_repository_root_is_the_nearest_folder_with_git(tmp_path):
    repo = make_repository(tmp_path)
    assert repository_root(str(repo / "sub")) == str(repo)
    assert repository_root(str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")


@given(st.lists(st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and "\0" not in s
                                                        and s not in (".", "..")), min_size=1, max_size=3))
def test_artifact_uris_are_uri_references_that_decode_to_the_relative_path(parts):
    root = "/srv/repo"
    path = os.path.join(root, *parts)
    uri, inside = artifact_uri(path, root)
    assert inside and URI_REFERENCE.match(uri)
    assert urllib.parse.unquote_to_bytes(uri) == os.fsencode("/".join(parts))


# --------------------------------------------------------------------------- JUnit


def test_junit_is_valid_against_both_schemas(run_cli, tmp_path):
    rules = tmp_path / "broken.yaml"
    rules.write_text("id: reads-a-missing-field\nseverity: error\nmatch: {kinds: [Pod]}\n"
                     "expression: object.spec.nothing == 1\nmessage: never\n")
    out = run_check(run_cli, EXAMPLES / "controllers-overlap" / "fail.yaml", EXAMPLES / "bare-pod" / "fail.yaml",
                    "--rules", rules, "-o", "junit", "--severity-threshold", "warning")
    assert "<failure" in out.stdout and "<error" in out.stdout and "below threshold" in out.stdout
    assert junit_errors(out.stdout) == {name: [] for name in JUNIT_XSDS}


def test_junit_of_the_corpus_is_valid_against_both_schemas(run_cli, corpus):
    out = run_check(run_cli, corpus, "-o", "junit")
    assert junit_errors(out.stdout) == {name: [] for name in JUNIT_XSDS}


def test_the_old_junit_shape_was_invalid():
    # attributes on <testsuites> and file/line on <testcase> are what both schemas reject
    text = ('<testsuites name="kspec check" tests="1"><testsuite name="r" tests="1" failures="0" errors="0">'
            '<testcase classname="r" name="x" file="a.yaml" line="1"/></testsuite></testsuites>')
    assert all(junit_errors(text).values())
