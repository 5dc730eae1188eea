"""JUnit XML: one testsuite per experiment, one testcase per contract clause, so CI (GitLab,
Jenkins, GitHub) shows which contract broke. A run that did not complete adds a `run` testcase
with an error element."""

from __future__ import annotations

import os
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.contract.base import ClauseResult
from harness.record import Run
from harness.report.figures import correlation_coverage, run_duration_s, title_of
from harness.report.files import RewritingHandler, RunResults, write_atomically


def _clean(text: str) -> str:
    # XML 1.0 cannot carry most control characters even escaped; an error message quoting a
    # binary body must not make the whole report unreadable.
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else f"\\x{ord(c):02x}" for c in text)


def _body(result: ClauseResult) -> str:
    lines = [f"clause: {result.clause}", f"expected: {result.expected}", f"observed: {result.observed}"]
    if result.offenders:
        lines.append("offending requests: " + ", ".join(result.offenders))
    return _clean("\n".join(lines))


def _suite(run: Run, results: Sequence[ClauseResult]) -> ET.Element:
    title = _clean(title_of(run))
    classname = title
    failures = sum(1 for r in results if r.verdict == "fail")
    errors = sum(1 for r in results if r.verdict == "error") + (run.status != "completed")
    suite = ET.Element(
        "testsuite",
        {
            "name": title,
            "tests": str(len(results) + (run.status != "completed")),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": "0",
            "time": f"{run_duration_s(run):.3f}",
            "timestamp": datetime.fromtimestamp(run.started_at, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": _clean(socket.gethostname()),
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("source", run.source),
        ("status", run.status),
        ("requests", str(len(run.requests))),
        ("provider_calls", str(len(run.ledger))),
        ("correlation_coverage", correlation_coverage(run).text()),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    if run.status != "completed":
        case = ET.SubElement(suite, "testcase", {"name": "run", "classname": classname, "time": "0"})
        if run.source:
            case.set("file", _clean(run.source))
        message = _clean(run.error or f"the run did not complete (status {run.status})")
        error = ET.SubElement(case, "error", {"message": message, "type": f"run {run.status}"})
        error.text = message
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {"name": _clean(result.title or result.clause), "classname": classname, "time": "0"},
        )
        if run.source:
            case.set("file", _clean(run.source))
        message = _clean(f"expected {result.expected}; observed {result.observed}")
        if result.verdict == "fail":
            ET.SubElement(case, "failure", {"message": message, "type": result.clause}).text = _body(result)
        elif result.verdict == "error":
            ET.SubElement(case, "error", {"message": message, "type": result.clause}).text = _body(result)
        else:
            ET.SubElement(case, "system-out").text = _body(result)
    return suite


def junit_tree(runs_and_results: Sequence[RunResults]) -> ET.ElementTree[ET.Element]:
    suites = [_suite(run, results) for run, results in runs_and_results]
    root = ET.Element(
        "testsuites",
        {
            "name": "rehearsal",
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": str(sum(int(s.get("errors", "0")) for s in suites)),
            "time": f"{sum(float(s.get('time', '0')) for s in suites):.3f}",
        },
    )
    root.extend(suites)
    ET.indent(root)
    return ET.ElementTree(root)


def junit_xml(runs_and_results: Sequence[RunResults]) -> str:
    """The JUnit XML document for one or several runs, as text."""
    return ET.tostring(junit_tree(runs_and_results).getroot(), encoding="unicode", xml_declaration=True)


def write_junit(path: str | os.PathLike[str], runs_and_results: Sequence[RunResults]) -> Path:
    """Write the JUnit XML for one or several runs (UTF-8, atomically)."""
    return write_atomically(
        path, lambda tmp: junit_tree(runs_and_results).write(tmp, encoding="utf-8", xml_declaration=True)
    )


class JUnitHandler(RewritingHandler):
    """Rewrites the JUnit file after every run, so it holds every experiment finished so far."""

    def write(self, path: Path, runs: Sequence[RunResults]) -> None:
        write_junit(path, runs)
