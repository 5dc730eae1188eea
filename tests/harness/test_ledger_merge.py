"""`rehearse ledger merge`: several fake-provider replicas (as behind a load balancer) seen as
one provider: seeded faults that agree across replicas, one time line, attempts counted across
replicas, and a contract evaluated on the merged ledger."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from fakeprovider import FakeProviderThread
from harness.cli import main
from harness.record import RequestRecord
from tests.conftest import wait_for_record

FLAKY = {"faults": [{"name": "flaky", "probability": 0.5, "fault": {"kind": "http_error", "status": 503}}]}


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[FakeProviderThread, FakeProviderThread]]:
    with (
        FakeProviderThread(latency="none", seed=7, scenario=FLAKY, ledger=tmp_path / "a.jsonl") as a,
        FakeProviderThread(latency="none", seed=7, scenario=FLAKY) as b,
    ):
        yield a, b


def _call(url: str, request_id: str) -> int:
    with openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0) as client:
        try:
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"hello {request_id}"}],
                max_tokens=4,
                extra_headers={"X-Request-Id": request_id},
            )
        except openai.APIStatusError as e:
            return e.status_code
    return 200


def test_replicas_with_one_seed_make_the_same_fault_decisions(
    replicas: tuple[FakeProviderThread, FakeProviderThread],
) -> None:
    a, b = replicas
    ids = [f"req-{i}" for i in range(16)]
    on_a = [_call(a.url, i) for i in ids]
    on_b = [_call(b.url, i) for i in ids]
    assert on_a == on_b
    assert set(on_a) == {200, 503}  # the rule fires for some requests, not all


def test_merge_orders_the_calls_and_counts_attempts_across_replicas(
    replicas: tuple[FakeProviderThread, FakeProviderThread],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = replicas
    _call(a.url, "r-1")  # first attempt on one replica,
    _call(b.url, "r-1")  # its retry on the other
    _call(a.url, "r-2")
    wait_for_record(a, 2)
    wait_for_record(b, 1)
    out = tmp_path / "merged.jsonl"
    # One replica read live, the other from the file it wrote: the same calls either way.
    assert main(["ledger", "merge", a.url, b.url, "-o", str(out)]) == 0
    assert "merged 3 calls from 2 ledgers" in capsys.readouterr().err
    calls = [json.loads(line) for line in out.read_text().splitlines()]
    assert [c["seq"] for c in calls] == [1, 2, 3]
    assert [(c["request_id"], c["attempt"]) for c in calls] == [("r-1", 1), ("r-1", 2), ("r-2", 1)]
    assert [c["replica"] for c in calls] == [a.url, b.url, a.url]
    assert [c["replica_seq"] for c in calls] == [1, 1, 2]
    assert [c["ts_start"] for c in calls] == sorted(c["ts_start"] for c in calls)

    from_file = tmp_path / "from-file.jsonl"
    assert main(["ledger", "merge", str(tmp_path / "a.jsonl"), b.url, "-o", str(from_file)]) == 0
    assert [c["request_id"] for c in map(json.loads, from_file.read_text().splitlines())] == [
        "r-1",
        "r-1",
        "r-2",
    ]


def _records_file(path: Path, t0: float, ids: list[str]) -> None:
    lines = [{"kind": "start", "t0": t0, "id_prefix": "r-", "lanes": 1}]
    for seq, rid in enumerate(ids):
        record = RequestRecord(rid, seq, "steady", 0.1 * seq, 0.1 * seq, status=200, end_s=0.1 * seq + 0.05)
        lines.append({"kind": "request", "record": asdict(record)})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _experiment_file(path: Path, contract: list[dict[str, Any]]) -> Path:
    """A one-second locust experiment on /chat with `contract`."""
    exp = {
        "title": "merged",
        "target": {"url": "http://127.0.0.1:9", "request": {"path": "/chat"}},
        "load": {"engine": "locust", "rate": 10, "users": 1},
        "phases": [{"name": "steady", "duration_s": 1}],
        "contract": contract,
    }
    path.write_text(yaml.safe_dump(exp))
    return path


@pytest.mark.parametrize(("cap", "status"), [(1, 1), (2, 0)])
def test_merged_ledger_evaluates_the_contract_of_a_locust_run(
    replicas: tuple[FakeProviderThread, FakeProviderThread], tmp_path: Path, cap: int, status: int
) -> None:
    a, b = replicas
    t0 = time.time()
    _call(a.url, "r-1")
    _call(b.url, "r-1")  # a retry that landed on the other replica
    _call(b.url, "r-2")
    wait_for_record(a, 1)
    wait_for_record(b, 2)
    records = tmp_path / "records.jsonl"
    _records_file(records, t0, ["r-1", "r-2"])
    exp = _experiment_file(tmp_path / "exp.yaml", [{"retries": {"max_attempts_per_request": cap}}])
    journal = tmp_path / "journal.json"
    argv = ["ledger", "merge", a.url, b.url, "--experiment", str(exp), "--records", str(records)]
    assert main([*argv, "--json", str(journal)]) == status
    written = json.loads(journal.read_text())
    assert len(written["ledger"]) == 3
    assert written["results"][0]["details"]["worst"] == 2


def test_merge_needs_the_experiment_and_the_records_together(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "merge", "x.jsonl", "--records", "r.jsonl"]) == 2
    assert "--experiment and --records together" in capsys.readouterr().err


def test_an_unreadable_source_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1}\nnot json\n')
    assert main(["ledger", "merge", str(bad)]) == 2
    assert f"{bad}: line 2: not a JSON record" in capsys.readouterr().err


def test_records_and_a_ledger_saved_before_the_section_10_clauses_evaluate_them(tmp_path: Path) -> None:
    # Files as written before request records had `tail`/`stream_end` and before the analysis
    # read `cached_tokens`/`ttft_ms`/`stream` from ledger records.
    t0 = 1_700_000_000.0
    old_fields = ("tail", "stream_end")
    records = tmp_path / "records.jsonl"
    lines: list[dict[str, Any]] = [{"kind": "start", "t0": t0, "id_prefix": "r-", "lanes": 1}]
    for seq in range(4):
        record = asdict(
            RequestRecord(f"r-{seq}", seq, "steady", 0.1 * seq, 0.1 * seq, status=200, end_s=0.1 * seq + 0.05)
        )
        lines.append({"kind": "request", "record": {k: v for k, v in record.items() if k not in old_fields}})
    records.write_text("".join(json.dumps(line) + "\n" for line in lines))
    ledger = tmp_path / "old-ledger.jsonl"
    calls = [
        {
            "seq": i + 1,
            "ts_start": t0 + 0.1 * i,
            "ts_end": t0 + 0.1 * i + 0.02,
            "api": "openai.chat",
            "model": "gpt-4o",
            "request_id": f"r-{i % 2}",
            "fingerprint": f"f{i % 2}",
            "tags": {},
            "input_tokens": 300 + i,
            "output_tokens": 20,
            "cost_usd": 0.001,
            "status": 200,
            "fault": None,
            "outcome": "ok",
        }
        for i in range(4)
    ]
    ledger.write_text("".join(json.dumps(c) + "\n" for c in calls))
    contract = [
        {"amplification": {"phase": "steady", "max_calls_per_request": 1}},  # 4 calls / 4 requests
        {"budget": {"max_input_tokens_per_call": 302}},  # the call of 303 tokens is over
    ]
    exp = _experiment_file(tmp_path / "exp.yaml", contract)
    journal = tmp_path / "journal.json"
    argv = ["ledger", "merge", str(ledger), "--experiment", str(exp), "--records", str(records)]
    assert main([*argv, "--json", str(journal)]) == 1
    results = json.loads(journal.read_text())["results"]
    assert [r["verdict"] for r in results] == ["pass", "fail"]
    assert results[0]["details"]["calls_per_request"] == 1.0
    assert results[1]["offenders"] == ["r-1"]
