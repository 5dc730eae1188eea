from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.contract.base import ClauseResult
from harness.report.junit import JUnitHandler, junit_xml, write_junit

from .synthetic import HOSTILE_TITLE, make_results, make_run


def test_junit_has_one_testcase_per_clause_with_failures_and_errors(tmp_path: Path) -> None:
    results = make_results()
    write_junit(tmp_path / "junit.xml", [(make_run(), results)])
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r.title for r in results]
    assert {c.get("classname") for c in cases} == {"summarize falls back when the primary model is down"}
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    errored = [c.get("name") for c in cases if c.find("error") is not None]
    assert failed == [r.title for r in results if r.verdict == "fail"]
    assert errored == [r.title for r in results if r.verdict == "error"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    failure = cases[0].find("failure")
    assert failure is not None
    assert "expected <= 3" in (failure.get("message") or "")
    assert "req-0101, req-0107" in (failure.text or "")


def test_junit_adds_a_run_testcase_with_an_error_when_the_run_errored() -> None:
    run = make_run()
    run.status, run.error = "error", "provider failed to start: port 8080 in use"
    root = ET.fromstring(junit_xml([(run, [])]))
    (case,) = root.iter("testcase")
    assert case.get("name") == "run"
    error = case.find("error")
    assert error is not None
    assert error.get("message") == run.error
    assert root.get("errors") == "1"


def test_junit_has_one_testsuite_per_experiment_and_survives_hostile_text() -> None:
    bad = ClauseResult("latency", 'p95 < 2 s <&> "quoted"', "a\x00b", "\x1b[31mred", "fail", ["<id>"])
    root = ET.fromstring(junit_xml([(make_run(), make_results()), (make_run(HOSTILE_TITLE), [bad])]))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "summarize falls back when the primary model is down",
        HOSTILE_TITLE,
    ]
    (case,) = suites[1].findall("testcase")
    assert case.get("name") == 'p95 < 2 s <&> "quoted"'
    assert root.get("tests") == "6"


def test_junit_handler_rewrites_the_file_with_every_finished_run(tmp_path: Path) -> None:
    handler = JUnitHandler(tmp_path / "junit.xml")
    handler.run_finished(make_run("one"), make_results())
    handler.run_finished(make_run("two"), make_results()[:1])
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert [s.get("name") for s in root.findall("testsuite")] == ["one", "two"]
