"""`run_experiment`: an experiment (a dict or a file) run by the real runner against a service
wired to the session's fake provider; `report.assert_ok()` fails with the clause table."""

from __future__ import annotations

import pytest

from tests.harness.pytest_plugin.inner import OUTAGE

pytest_plugins = ["pytester"]

HEADER = f"import copy, json, pytest\nOUTAGE = {OUTAGE!r}\n"


def test_an_experiment_dict_runs_against_the_service_and_every_clause_is_reported(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(
        HEADER
        + """
def test_outage(run_experiment, service_url, fake_provider, tmp_path):
    report = run_experiment(OUTAGE, target_url=service_url)
    report.assert_ok()
    assert report.ok and report.verdict == "pass" and report.failed == []
    clauses = [r.clause for r in report.results]
    assert clauses == ["retries", "no_silent_fallback", "degradation", "attribution"]
    assert report.run.status == "completed"
    assert {r.phase for r in report.run.requests} == {"steady", "outage"}
    assert all(r.status == 200 for r in report.run.requests)
    # The run's provider calls are the session provider's ledger: primary, then during the
    # outage a 503 and the fallback.
    ledger = fake_provider.ledger()
    assert {(c.model, c.status) for c in ledger} == {("gpt-4o", 200), ("gpt-4o", 503), ("gpt-4o-mini", 200)}
    assert fake_provider.faults() == []  # the run removed its phase faults
    # The reports `rehearse run` writes, from the same run.
    journal = json.loads(report.write_json(tmp_path / "run.json").read_text())
    assert journal["results"][0]["clause"] == "retries"
    assert 'name="degradation (phase outage)"' in report.write_junit(tmp_path / "run.xml").read_text()
    assert "summarize falls back during an outage" in report.write_html(tmp_path / "run.html").read_text()
"""
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_assert_ok_fails_the_test_with_the_clause_table(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        HEADER
        + """
def test_outage_over_budget(run_experiment, service_url):
    exp = copy.deepcopy(OUTAGE)
    exp["contract"].append({"budget": {"max_output_tokens": 8}})  # the service asks for 32
    report = run_experiment(exp, target_url=service_url)
    assert not report.ok and [r.clause for r in report.failed] == ["budget"]
    report.assert_ok()
"""
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*experiment 'summarize falls back during an outage': fail",
            "FAIL  summarize falls back during an outage  [[]completed]*",
            "  test_assert_ok_fails_the_test_with_the_clause_table.py::test_outage_over_budget",
            "*clause*expected*observed*verdict*",
            "*retries*PASS*",
            "*budget*8*FAIL*",
            "*offending requests*",
        ]
    )
    result.stdout.no_fnmatch_line("*site-packages*")  # the table, not a traceback


def test_an_experiment_file_is_read_from_the_test_files_folder_with_its_scenario(
    suite: pytest.Pytester,
) -> None:
    scenario = suite.mkdir("scenarios") / "primary_down.yaml"
    scenario.write_text(
        "faults:\n  - {name: primary-down, match: {model: gpt-4o}, fault: {kind: http_error, status: 500}}\n"
    )
    (suite.mkdir("experiments") / "down.yaml").write_text(
        """
title: primary down all along
target:
  url: http://127.0.0.1:9
  request: {method: POST, path: /summarize, json: {text: hello}}
provider: {scenario: ../scenarios/primary_down.yaml, latency: none}
load: {mode: open, rate: 20, duration_s: 10}
contract:
  - no_silent_fallback: {signal_header: x-degraded}
"""
    )
    suite.makepyfile(
        """
def test_down(run_experiment, service_url):
    report = run_experiment("experiments/down.yaml", target_url=service_url, duration_s=0.5)
    report.assert_ok()
    assert report.run.phases[-1].end_s == 0.5  # 10 s shortened to half a second
    assert report.run.source.endswith("experiments/down.yaml")
    assert [rule["name"] for rule in report.run.fault_rules] == ["primary-down"]
    assert all(r.headers.get("x-degraded") == "fallback" for r in report.run.requests)
"""
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_a_bad_experiment_is_refused_with_the_field_path(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        HEADER
        + """
from harness.errors import InvalidExperiment

def test_refused(run_experiment, service_url):
    with pytest.raises(InvalidExperiment, match=r"::test_refused: load\\.rate: Input should be greater"):
        run_experiment(OUTAGE, overrides={"load.rate": -5})
    with pytest.raises(InvalidExperiment, match=r"provider\\.latency: the experiment asks for 'realistic'"):
        run_experiment(OUTAGE, overrides={"provider.latency": "realistic"})
    with pytest.raises(InvalidExperiment, match=r"no_such\\.yaml: cannot read"):
        run_experiment("no_such.yaml")
    with pytest.raises(TypeError, match="duration_s or time_scale"):
        run_experiment(OUTAGE, duration_s=1, time_scale=0.5)
"""
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_tests_that_run_experiments_are_marked_rehearsal(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
import pytest

def test_rehearses(run_experiment):
    pass

@pytest.mark.rehearsal
def test_marked_by_hand():
    pass

def test_plain(fake_provider):
    pass
"""
    )
    suite.runpytest("-m", "not rehearsal").assert_outcomes(passed=1, deselected=2)
    suite.runpytest("-m", "rehearsal").assert_outcomes(passed=2, deselected=1)


def test_an_async_test_awaits_arun_and_a_plain_call_there_says_so(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        HEADER
        + """
from harness.errors import HarnessError

@pytest.mark.asyncio
async def test_in_a_loop(run_experiment, service_url):
    with pytest.raises(HarnessError, match="await run_experiment.arun"):
        run_experiment(OUTAGE, target_url=service_url)
    report = await run_experiment.arun(OUTAGE, target_url=service_url, time_scale=0.6)
    report.assert_ok()
    assert report.run.phases[-1].end_s == pytest.approx(0.6)
"""
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_a_run_that_cannot_start_reports_an_error_and_assert_ok_says_why(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        HEADER
        + """
def test_remote_target(run_experiment):
    report = run_experiment(OUTAGE, target_url="http://192.0.2.1:8080")
    assert (report.verdict, report.ok, report.results) == ("error", False, [])
    report.assert_ok()
"""
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*experiment 'summarize falls back during an outage': error",
            "*run error: target http://192.0.2.1:8080 is not a loopback address*",
        ]
    )
