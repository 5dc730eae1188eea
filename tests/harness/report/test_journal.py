from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from harness.errors import HarnessError
from harness.report.journal import METRIC_DEFINITIONS, JournalHandler, read_journal, write_journal
from harness.run.model import Run

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
