from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from harness.errors import HarnessError
from harness.record import Run
from harness.report.journal import METRIC_DEFINITIONS, JournalHandler, read_journal, write_journal

from .synthetic import HOSTILE_TITLE, make_results, make_run


def test_journal_round_trips_run_and_results(tmp_path: Path) -> None:
    run, results = make_run(HOSTILE_TITLE), make_results()
    path = write_journal(tmp_path / "run.json", run, results, METRIC_DEFINITIONS)
    back_run, back_results = read_journal(path)
    assert back_run == run
    assert back_results == results


def test_journal_round_trips_the_load_start_and_the_fault_rules(tmp_path: Path) -> None:
    run = make_run()
    run.load_started_at = run.started_at + 1.5
    run.fault_rules = [{"name": "outage/primary-503", "fault": {"kind": "http_error", "status": 503}}]
    back_run, _ = read_journal(write_journal(tmp_path / "run.json", run, make_results()))
    assert back_run.load_started_at == run.load_started_at
    assert back_run.fault_rules == run.fault_rules


def test_journal_holds_every_record_and_the_metric_definitions(tmp_path: Path) -> None:
    run = make_run()
    write_journal(tmp_path / "run.json", run, make_results(), METRIC_DEFINITIONS)
    data = orjson.loads((tmp_path / "run.json").read_bytes())
    assert data["experiment"]["title"] == run.experiment["title"]
    assert data["status"] == "completed"
    assert [p["name"] for p in data["phases"]] == ["steady", "outage"]
    assert len(data["requests"]) == 200
    assert len(data["ledger"]) == len(run.ledger)
    assert len(data["results"]) == 5
    defs = " ".join(data["metric_definitions"].values())
    assert "linear interpolation between closest ranks over the raw samples" in defs
    assert "scheduled send time" in defs
    assert {"ttft", "e2e", "itl"} <= set(data["metric_definitions"])


def test_journal_handler_writes_a_partial_journal_when_the_run_errored(tmp_path: Path) -> None:
    run = make_run()
    run.status, run.error = "error", "target http://127.0.0.1:9 refused the connection"
    run.requests = run.requests[:3]
    handler = JournalHandler(tmp_path / "out" / "run.json")
    handler.run_finished(run, [])
    back, results = read_journal(tmp_path / "out" / "run.json")
    assert back.status == "error"
    assert back.error == run.error
    assert len(back.requests) == 3
    assert results == []


def test_journal_handler_numbers_the_journals_of_later_runs(tmp_path: Path) -> None:
    handler = JournalHandler(tmp_path / "run.json")
    for title in ("first", "second", "third"):
        handler.run_finished(make_run(title), [])
    assert [p.name for p in handler.written] == ["run.json", "run.2.json", "run.3.json"]
    assert read_journal(tmp_path / "run.3.json")[0].experiment["title"] == "third"


def test_journal_keeps_values_json_does_not_know_as_text(tmp_path: Path) -> None:
    run = Run(
        experiment={"title": "t", "scenario": Path("scenarios/base.yaml")}, source="x.yaml", started_at=1.0
    )
    write_journal(tmp_path / "run.json", run, [])
    assert read_journal(tmp_path / "run.json")[0].experiment["scenario"] == "scenarios/base.yaml"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{not json", "not a JSON journal"), (b'{"a": 1}', "not a rehearsal journal")],
)
def test_read_journal_refuses_what_is_not_a_journal(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(HarnessError, match=message):
        read_journal(path)


def test_read_journal_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="cannot read journal"):
        read_journal(tmp_path / "missing.json")


# A journal as the harness wrote it before the §10 clauses: requests without `tail` and
# `stream_end`, ledger records without `cached_tokens`, `ttft_ms` and `stream`.
_T0 = 1_700_000_000.0
OLD_JOURNAL: dict[str, object] = {
    "format": "rehearsal-journal",
    "version": 1,
    "written_at": _T0 + 30,
    "experiment": {
        "title": "saved before the §10 clauses",
        "phases": [{"name": "steady"}, {"name": "outage"}],
    },
    "source": "old.yaml",
    "started_at": _T0 - 2,
    "load_started_at": _T0,
    "status": "completed",
    "error": None,
    "phases": [
        {"name": "steady", "start_s": 0.0, "end_s": 5.0},
        {"name": "outage", "start_s": 5.0, "end_s": 10.0},
    ],
    "fault_rules": [],
    "requests": [
        {
            "id": f"r{i}",
            "seq": i,
            "phase": "steady" if i < 4 else "outage",
            "scheduled_s": float(i),
            "sent_s": float(i),
            "status": 200,
            "error": None,
            "headers": {"content-type": "text/event-stream"},
            "body": None,
            "body_bytes": 300,
            "chunk_s": [i + 0.05, i + 0.1],
            "first_content_s": i + 0.05,
            "end_s": i + 0.2,
        }
        for i in range(8)
    ],
    "ledger": [
        {
            "seq": i + 1,
            "ts_start": _T0 + i + 0.01,
            "ts_end": _T0 + i + 0.15,
            "api": "openai.chat",
            "model": "gpt-4o",
            "request_id": f"r{i}",
            "fingerprint": f"fp{i}",
            "tags": {"route": "chat"},
            "input_tokens": 500,
            "output_tokens": 40,
            "cost_usd": 0.002,
            "status": 200,
            "fault": None if i < 6 else {"rule": "outage/cut", "kind": "partial"},
            "outcome": "ok" if i < 6 else "partial",
        }
        for i in range(8)
    ],
    "results": [],
}


def test_a_journal_saved_before_the_section_10_clauses_re_evaluates_and_re_renders(tmp_path: Path) -> None:
    from rich.console import Console

    from harness.contract import REGISTRY
    from harness.report.console import render_results
    from harness.report.html.page import render_html

    path = tmp_path / "old.json"
    path.write_bytes(orjson.dumps(OLD_JOURNAL))
    run, _ = read_journal(path)
    assert run.requests[0].tail is None
    assert run.requests[0].stream_end is None
    contract = {
        "budget": {"max_input_tokens_per_call": 500, "max_output_tokens_per_call": 39},
        "amplification": {"phase": "outage", "baseline_phase": "steady", "max_calls_per_request": 1},
        "breaker": {"phase": "outage", "model": "gpt-4o", "after_s": 1, "max_calls_per_s": 1},
        "goodput": {"min": 1, "e2e_ms": 200, "ttft_ms": 50},
        "cache": {"min_prompt_cache_share": 0.0, "min_response_cache_share": 0.0},
        "stream_integrity": {"phase": "outage"},
    }
    results = [REGISTRY[n](REGISTRY[n].Params.model_validate(p)).evaluate(run) for n, p in contract.items()]
    verdicts = {r.clause: r.verdict for r in results}
    assert verdicts == {
        "budget": "fail",  # 40 output tokens per call, over 39
        "amplification": "pass",
        "breaker": "pass",  # r6 and r7 only in [6 s, 10 s]: 0.5/s
        "goodput": "pass",
        "cache": "pass",  # no cached_tokens recorded: 0 cached; every request made a call
        "stream_integrity": "fail",  # old records: no tail, no stream end, a 200: looked complete
    }
    assert results[0].offenders == [f"r{i}" for i in range(5)]
    assert results[-1].offenders == ["r6", "r7"]
    # And the re-evaluated journal renders as a fresh one does.
    back_run, back_results = read_journal(write_journal(tmp_path / "again.json", run, results))
    assert back_results == results
    console = Console(record=True, width=200)
    render_results(console, back_run, back_results)
    assert "stream_integrity" in console.export_text()
    assert "stream_integrity" in render_html([(back_run, back_results)])
