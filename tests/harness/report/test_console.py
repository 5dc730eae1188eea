from __future__ import annotations

import io

import pytest
from rich.console import Console

from harness.report.console import (
    LOG_WIDTH,
    ConsoleResultsHandler,
    ProgressHandler,
    output_console,
    render_results,
    render_summary,
)

from .synthetic import HOSTILE_TITLE, make_results, make_run


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_results_table_shows_clauses_verdicts_and_offenders() -> None:
    console = Console(record=True, width=120)
    render_results(console, make_run(), make_results())
    out = console.export_text()
    for r in make_results():
        assert r.title in out.replace("\n", " ") or r.title.split(":")[0] in out
        assert r.expected in out
    assert out.count("FAIL") >= 3  # header and two clauses
    assert "PASS" in out
    assert "ERROR" in out
    assert "req-0101, req-0107" in out
    assert "correlation 192/200 (96%)" in out


def test_results_print_markup_in_user_strings_literally() -> None:
    console = Console(record=True, width=160)
    render_results(console, make_run(HOSTILE_TITLE), make_results())
    assert "[bold]summary[/bold]" in console.export_text()


def test_results_of_an_errored_run_name_the_error() -> None:
    run = make_run()
    run.status, run.error = "error", "child crashed: sampleapp exited with 1"
    console = Console(record=True, width=120)
    ConsoleResultsHandler(console).run_finished(run, [])
    out = console.export_text()
    assert "ERROR" in out
    assert "child crashed: sampleapp exited with 1" in out


def test_summary_has_one_line_per_experiment() -> None:
    console = Console(record=True, width=200)
    ok = make_results()[1:2]
    render_summary(console, [(make_run("first"), make_results()), (make_run("second"), ok)])
    lines = console.export_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FAIL")
    assert "first" in lines[0]
    assert "2/5 clauses held" in lines[0]
    assert lines[1].startswith("PASS")
    assert "second" in lines[1]


def test_progress_without_a_terminal_prints_bounded_plain_lines() -> None:
    out = io.StringIO()
    clock = FakeClock()
    progress = ProgressHandler(Console(file=out, width=120), interval_s=5.0, clock=clock)
    run = make_run()
    progress.run_started("t", "x.yaml", 20.0, 1000)
    for window in run.phases:
        progress.phase_started(window)
        for record in run.requests_in(window.name):
            clock.now = 100.0 + record.scheduled_s
            progress.request_done(record)
    clock.now = 121.0
    progress.run_finished(run, [])
    text = out.getvalue()
    lines = text.splitlines()
    # A start line, one per phase, one per 5 s of 20 s, and the end line.
    assert 4 <= len(lines) <= 1 + 2 + 4 + 1
    assert "\x1b" not in text
    assert (
        lines[-1]
        == "finished (completed) | 200/1000 req | 20.0/20.0 s (+1.0 s draining) | phase outage | 22 errors"
        " | 9.5 req/s"
    )


def test_progress_on_a_terminal_runs_a_transient_live_line() -> None:
    out = io.StringIO()
    progress = ProgressHandler(Console(file=out, force_terminal=True, width=120), interval_s=5.0)
    run = make_run()
    progress.run_started("t", "x.yaml", 20.0, 1000)
    progress.phase_started(run.phases[0])
    for record in run.requests[:10]:
        progress.request_done(record)
    assert progress.done == 10
    progress.run_finished(run, [])
    assert progress._live is None
    assert "finished" not in out.getvalue()


def test_progress_says_nothing_for_a_run_that_failed_before_its_load() -> None:
    out = io.StringIO()
    run = make_run()
    run.status, run.error = "error", "target down"
    ProgressHandler(Console(file=out, width=120)).run_finished(run, [])
    assert out.getvalue() == ""


def test_output_to_a_log_is_wide_enough_for_the_clause_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under pytest stdout is not a terminal, as in CI: rich alone would squeeze tables to 80.
    monkeypatch.delenv("COLUMNS", raising=False)
    console = output_console()
    assert not console.is_terminal
    assert console.width == LOG_WIDTH
    monkeypatch.setenv("COLUMNS", "100")
    assert output_console().width == 100


def test_a_results_table_in_a_log_keeps_each_expectation_on_few_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    ConsoleResultsHandler().run_finished(make_run(), make_results())
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) > 80
    for r in make_results():
        assert r.expected in "\n".join(lines)
