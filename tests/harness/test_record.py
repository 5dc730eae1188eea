"""`harness.record`: the run's data is a leaf, a ledger record is described once (the provider's
`LedgerRecord`), and a journal round-trips through `Run` unchanged, old or new."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from fakeprovider.accounting.ledger import LedgerRecord, record_fields
from harness.contract.evaluate import evaluate
from harness.errors import HarnessError
from harness.experiment.model import Experiment
from harness.record import LedgerCall, Run
from harness.report.journal import JOURNAL_FORMAT, JOURNAL_VERSION, read_journal

T0 = 1_700_000_000.0


def test_record_and_procs_import_nothing_from_the_runner_the_load_engines_or_the_clauses() -> None:
    code = (
        "import sys, harness.record, harness.procs\n"
        "heavy = [m for m in ('harness.run', 'harness.load', 'harness.contract', 'harness.report')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_the_reader_of_a_ledger_record_knows_every_field_of_the_record() -> None:
    # A field added to `LedgerRecord` without a reader default would break old journals.
    assert list(record_fields({})) == [f.name for f in dataclasses.fields(LedgerRecord)]


def _provider_record(seq: int) -> dict[str, Any]:
    """A record as the provider writes it: built on its request path, then `as_dict()`."""
    rec = LedgerRecord.blank()
    rec.seq, rec.ts_start, rec.ts_end = seq, T0 + seq, T0 + seq + 0.2
    rec.api, rec.model, rec.stream = "openai.chat", "gpt-4o", True
    rec.request_id, rec.idempotency_key, rec.sdk_retry_count = f"r{seq}", None, 0
    rec.fingerprint, rec.attempt = f"fp{seq}", 1
    rec.tags = {"route": "/summarize", "feature": "summary", "tenant": None}
    rec.input_tokens, rec.output_tokens, rec.cached_tokens, rec.cost_usd = 500, 40, 256, 0.0021
    rec.status, rec.outcome = 200, "partial" if seq == 2 else "ok"
    rec.fault = {"rule": "outage/cut", "kind": "partial"} if seq == 2 else None
    rec.ttft_ms, rec.duration_ms, rec.finish_reason = 120.0, 200.0, "stop"
    rec.error, rec.deployment, rec.cache_creation_tokens = None, None, 0
    return rec.as_dict()


def _journal_run(ledger: list[Any], requests: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "experiment": {
            "title": "saved run",
            "target": {"url": "http://127.0.0.1:9", "request": {"method": "POST", "path": "/summarize"}},
            "load": {"mode": "open", "rate": 1, "duration_s": 4},
            "phases": [{"name": "steady", "duration_s": 2}, {"name": "outage", "duration_s": 2}],
            "contract": [
                {"stream_integrity": {"phase": "outage"}},
                {"cache": {"min_prompt_cache_share": 0.0, "min_response_cache_share": 0.0}},
                {"amplification": {"phase": "outage", "max_calls_per_request": 1}},
            ],
        },
        "source": "saved.yaml",
        "started_at": T0 - 1,
        "status": "completed",
        "error": None,
        "phases": [
            {"name": "steady", "start_s": 0.0, "end_s": 2.0},
            {"name": "outage", "start_s": 2.0, "end_s": 4.0},
        ],
        "requests": requests,
        "ledger": ledger,
        "load_started_at": T0,
        "fault_rules": [],
    }


def _request(i: int, **newer: Any) -> dict[str, Any]:
    return {
        "id": f"r{i}",
        "seq": i,
        "phase": "steady" if i < 2 else "outage",
        "scheduled_s": float(i),
        "sent_s": float(i),
        "status": 200,
        "error": None,
        "headers": {"content-type": "text/event-stream"},
        "body": None,
        "body_bytes": 300,
        "chunk_s": [i + 0.1, i + 0.15],
        "first_content_s": i + 0.1,
        "end_s": i + 0.2,
        **newer,
    }


def test_a_journal_written_before_the_typed_ledger_reads_back_and_writes_out_byte_for_byte() -> None:
    # A merged ledger's records carry keys the record does not know: they stay, in place.
    ledger = [_provider_record(i) for i in range(4)]
    ledger[3] = {**ledger[3], "replica": "http://127.0.0.1:8101", "replica_seq": 7}
    saved = _journal_run(
        ledger, [_request(i, tail="data: [DONE]\n\n", stream_end="terminator") for i in range(4)]
    )
    run = Run.from_dict(copy.deepcopy(saved))
    assert all(isinstance(c, LedgerCall) for c in run.ledger)
    assert run.ledger[3].extra == {"replica": "http://127.0.0.1:8101", "replica_seq": 7}
    assert orjson.dumps(run.to_dict()) == orjson.dumps(saved)


def test_a_ledger_call_reads_derived_facts_from_the_one_record() -> None:
    call = LedgerCall.from_dict(_provider_record(2))
    assert (call.fault_rule, call.fault_kind, call.cut) == ("outage/cut", "partial", True)
    plain = LedgerCall.from_dict(_provider_record(1))
    assert (plain.fault_rule, plain.fault_kind, plain.cut) == (None, None, False)


def test_a_journal_without_the_newest_fields_loads_with_defaults_and_re_evaluates() -> None:
    newest = (
        "deployment",
        "cached_tokens",
        "cache_creation_tokens",
        "ttft_ms",
        "stream",
        "idempotency_key",
        "sdk_retry_count",
    )
    ledger = [{k: v for k, v in _provider_record(i).items() if k not in newest} for i in range(4)]
    saved = _journal_run(ledger, [_request(i) for i in range(4)])  # no `tail`, no `stream_end`
    run = Run.from_dict(saved)
    assert (run.requests[0].tail, run.requests[0].stream_end) == (None, None)
    c = run.ledger[0]
    assert (c.deployment, c.cached_tokens, c.ttft_ms, c.stream, c.idempotency_key) == (
        None,
        0,
        None,
        False,
        None,
    )
    verdicts = {r.clause: r.verdict for r in evaluate(Experiment.model_validate(run.experiment), run)}
    assert verdicts == {
        "stream_integrity": "fail",  # r2's call was cut, and its request looked complete
        "cache": "pass",
        "amplification": "pass",
    }
    # Written out again, it is a journal of today's format: every field present.
    again = run.to_dict()
    assert again["requests"][0]["stream_end"] is None
    assert again["ledger"][0]["cached_tokens"] == 0
    assert Run.from_dict(again) == run


@pytest.mark.parametrize("record", [["not", "a", "record"], {"request_id": "r0", "status": "two hundred"}])
def test_a_journal_whose_ledger_holds_no_record_is_refused_on_reading(record: object, tmp_path: Path) -> None:
    saved = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, **_journal_run([record], [])}
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(saved))
    with pytest.raises(HarnessError, match="malformed journal"):
        read_journal(path)
