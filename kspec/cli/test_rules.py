"""``kspec test-rules``: run rule test suites (``kind: RuleTest``) in CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import click

from kspec.checker.model import Verdict
from kspec.cli.common import verb
from kspec.cli.exits import exit_code
from kspec.rules.testing import run


def _junit(results) -> str:
    root = ET.Element("testsuites", name="kspec test-rules", tests=str(len(results)),
                      failures=str(sum(not r.ok for r in results)))
    suites: dict[str, ET.Element] = {}
    for r in results:
        suite = suites.get(r.suite)
        if suite is None:
            suite = suites[r.suite] = ET.SubElement(root, "testsuite", name=r.suite)
        case = ET.SubElement(suite, "testcase", classname=r.suite, name=f"{r.case} / {r.rule_id}", file=r.file)
        if not r.ok:
            failure = ET.SubElement(case, "failure", message=f"expected {r.expected}, got {r.actual}")
            failure.text = "\n".join(f"{f.location}: {f.object_ref}: {f.message}" for f in r.findings)
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@verb("test-rules")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", "fmt", type=click.Choice(["text", "junit"]), default="text",
              help="Output format.")
@click.option("-v", "--verbose", is_flag=True, default=False, help="List passing expectations too.")
def command(paths, fmt, verbose):
    """Run rule test suites: files with kind: RuleTest under DIR.

    Each case gives objects (inline manifests or files), optionally an
    inventory of other objects, and the expected outcome per rule (pass,
    fail, error, skip). Exit 0 when every expectation holds, 1 when one does
    not, 2 when a test or rule file is invalid.
    """
    results = run(paths)
    failed = [r for r in results if not r.ok]
    if fmt == "junit":
        click.echo(_junit(results), nl=False)
    else:
        for r in results:
            if r.ok and not verbose:
                continue
            where = f"{r.file}:{r.line}" if r.line else r.file
            if r.ok:
                click.echo(f"{where}: PASS {r.title}: {r.actual}")
            else:
                click.echo(f"{where}: FAIL {r.title}: expected {r.expected}, got {r.actual}")
                for f in r.findings:
                    click.echo(f"    {f.location}: {f.object_ref}: {f.message}")
    click.echo(f"{len(results) - len(failed)} of {len(results)} expectations hold", err=True)
    return exit_code([Verdict.VIOLATED if failed else Verdict.HOLDS])
