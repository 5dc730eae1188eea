"""The ledger: every SPEC field from real calls, bounded memory, JSONL sink, cursors, summaries."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.cardinality import MAX_TAG_VALUES, OVERFLOW
from fakeprovider.accounting.ledger import Ledger, LedgerRecord
from fakeprovider.accounting.metrics import ProviderMetrics
from fakeprovider.generation import tokens

SPEC_FIELDS = {
    "seq",
    "ts_start",
    "ts_end",
    "api",
    "model",
    "stream",
    "request_id",
    "idempotency_key",
    "sdk_retry_count",
    "fingerprint",
    "attempt",
    "tags",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_usd",
    "status",
    "fault",
    "outcome",
    "ttft_ms",
    "duration_ms",
    "finish_reason",
}


def _record(seq: int, **kw: Any) -> LedgerRecord:
    fields: dict[str, Any] = {
        "seq": seq,
        "ts_start": 1.0,
        "ts_end": 2.0,
        "api": "openai.chat",
        "model": "gpt-4o",
        "stream": False,
        "request_id": f"req_{seq}",
        "idempotency_key": None,
        "sdk_retry_count": 0,
        "fingerprint": "f",
        "attempt": 1,
        "tags": {"route": None, "feature": None, "tenant": None},
        "input_tokens": 10,
        "output_tokens": 5,
        "cached_tokens": 0,
        "cost_usd": 0.001,
        "status": 200,
        "fault": None,
        "outcome": "ok",
        "ttft_ms": 1.0,
        "duration_ms": 2.0,
        "finish_reason": "stop",
    }
    fields.update(kw)
    return LedgerRecord(**fields)


def _fill(ledger: Ledger, n: int, **kw: Any) -> None:
    for _ in range(n):
        ledger.append(_record(ledger.next_seq(), **kw))


def _price(provider: FakeProviderThread, model: str) -> tuple[float, float, float]:
    info = provider.state.catalogue.resolve(model)
    assert info is not None
    return info.input_per_m, info.cached_input_per_m, info.output_per_m


def test_openai_call_record_has_every_spec_field(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    reply = openai_client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Summarise the report."}],
        extra_headers={
            "X-Request-Id": "req-ledger-1",
            "Idempotency-Key": "idem-1",
            "X-Route": "summarize",
            "X-Feature": "digest",
            "X-Tenant": "acme",
        },
    )
    (rec,) = provider.state.ledger.records()
    d = rec.as_dict()
    assert set(d) >= SPEC_FIELDS
    assert d["seq"] == 1
    assert d["ts_start"] <= d["ts_end"]
    assert d["api"] == "openai.chat"
    assert d["model"] == "gpt-4o"
    assert d["stream"] is False
    assert d["request_id"] == "req-ledger-1"
    assert d["idempotency_key"] == "idem-1"
    assert d["sdk_retry_count"] == 0  # the SDK sends x-stainless-retry-count on every try
    assert len(d["fingerprint"]) >= 16
    assert d["attempt"] == 1
    assert d["tags"] == {"route": "summarize", "feature": "digest", "tenant": "acme"}
    assert reply.usage is not None
    assert d["input_tokens"] == reply.usage.prompt_tokens
    assert d["output_tokens"] == reply.usage.completion_tokens > 0
    assert d["cached_tokens"] == 0
    inp, _, out = _price(provider, "gpt-4o")
    assert d["cost_usd"] == pytest.approx((d["input_tokens"] * inp + d["output_tokens"] * out) / 1e6)
    assert d["status"] == 200
    assert d["fault"] is None
    assert d["outcome"] == "ok"
    assert d["ttft_ms"] is not None
    assert 0 <= d["ttft_ms"] <= d["duration_ms"]
    assert d["finish_reason"] == reply.choices[0].finish_reason == "stop"


def test_request_id_is_generated_and_returned_when_the_caller_sends_none(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    (rec,) = provider.state.ledger.records()
    assert rec.request_id.startswith("req_")
    assert raw.headers["x-request-id"] == rec.request_id
    assert rec.idempotency_key is None


def test_streamed_call_record_bills_streamed_usage(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Tell me a story."}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=40,
    )
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
    rec = _wait_for_record(provider)
    assert rec.stream is True
    assert usage is not None
    assert (rec.input_tokens, rec.output_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert rec.outcome == "ok"
    assert rec.finish_reason in ("stop", "length")
    inp, _, out = _price(provider, "gpt-4o-mini")
    assert rec.cost_usd == pytest.approx((rec.input_tokens * inp + rec.output_tokens * out) / 1e6)


def test_anthropic_call_record_matches_usage_and_price(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    msg = anthropic_client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=64,
        messages=[{"role": "user", "content": "hello"}],
    )
    (rec,) = provider.state.ledger.records()
    assert rec.api == "anthropic.messages"
    assert rec.sdk_retry_count == 0
    assert rec.input_tokens == msg.usage.input_tokens
    assert rec.output_tokens == msg.usage.output_tokens
    assert rec.request_id == msg._request_id
    inp, _, out = _price(provider, "claude-sonnet-4-6")
    assert rec.cost_usd == pytest.approx((rec.input_tokens * inp + rec.output_tokens * out) / 1e6)


def test_embedding_call_is_recorded_with_input_cost_only(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    result = openai_client.embeddings.create(model="text-embedding-3-small", input="ledger me")
    (rec,) = provider.state.ledger.records()
    assert rec.api == "openai.embeddings"
    assert rec.input_tokens == result.usage.prompt_tokens
    assert rec.output_tokens == 0
    assert rec.cost_usd == pytest.approx(rec.input_tokens * 0.02 / 1e6)


def test_error_call_is_recorded_with_status_and_outcome(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    (rec,) = provider.state.ledger.records()
    assert (rec.status, rec.outcome, rec.cost_usd, rec.output_tokens) == (404, "error", 0.0, 0)


def test_seq_increases_and_timestamps_are_ordered(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    for i in range(4):
        openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"call {i}"}], max_tokens=5
        )
    recs = provider.state.ledger.records()
    assert [r.seq for r in recs] == [1, 2, 3, 4]
    assert all(r.ts_start <= r.ts_end for r in recs)
    assert all(a.ts_start <= b.ts_start for a, b in itertools.pairwise(recs))


def test_memory_is_bounded_by_max_records() -> None:
    ledger = Ledger(max_records=5)
    _fill(ledger, 12)
    recs = ledger.records()
    assert [r.seq for r in recs] == [8, 9, 10, 11, 12]
    assert ledger.last_seq == 12
    # Summaries count every call, including those no longer held in memory.
    assert ledger.summary()["totals"]["calls"] == 12


def test_records_since_returns_newer_records_oldest_first() -> None:
    ledger = Ledger()
    _fill(ledger, 6)
    assert [r.seq for r in ledger.records(since=3)] == [4, 5, 6]
    assert [r.seq for r in ledger.records(since=0, limit=2)] == [1, 2]
    assert [r.seq for r in ledger.records(since=2, limit=2)] == [3, 4]
    assert ledger.records(since=6) == []
    assert ledger.records(since=100) == []


def test_records_since_older_than_the_window_returns_what_is_held() -> None:
    ledger = Ledger(max_records=3)
    _fill(ledger, 10)
    assert [r.seq for r in ledger.records(since=2)] == [8, 9, 10]


def test_clear_keeps_seq_increasing_so_cursors_stay_valid() -> None:
    ledger = Ledger()
    _fill(ledger, 3)
    ledger.clear()
    assert ledger.records() == []
    assert ledger.summary()["totals"]["calls"] == 0
    _fill(ledger, 1)
    assert [r.seq for r in ledger.records(since=3)] == [4]


def test_jsonl_sink_is_written_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    with FakeProviderThread(latency="none", ledger=path) as provider:
        client = openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0)
        try:
            for i in range(3):
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}], max_tokens=5
                )
                # Each record reaches the file as soon as the call ends, not at shutdown.
                lines = path.read_text().splitlines()
                assert len(lines) == i + 1
        finally:
            client.close()
        in_memory = [r.as_dict() for r in provider.state.ledger.records()]
    lines = path.read_text().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert parsed == in_memory
    assert all(set(p) >= SPEC_FIELDS for p in parsed)


def test_jsonl_sink_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text('{"seq": 0}\n')
    ledger = Ledger(path=path)
    try:
        _fill(ledger, 2)
    finally:
        ledger.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert [json.loads(x)["seq"] for x in lines] == [0, 1, 2]


def test_summary_totals_and_per_tag_breakdown() -> None:
    ledger = Ledger()
    acme_search = {"route": "search", "feature": "qa", "tenant": "acme"}
    globex_search = {"route": "search", "feature": None, "tenant": "globex"}
    _fill(ledger, 2, tags=acme_search, cost_usd=0.01, input_tokens=100, output_tokens=10)
    _fill(ledger, 1, tags=globex_search, cost_usd=0.02, input_tokens=50, output_tokens=5, attempt=2)
    _fill(
        ledger,
        1,
        tags=acme_search,
        status=503,
        outcome="error",
        fault={"rule": "outage", "kind": "http_error"},
        cost_usd=0.0,
        input_tokens=0,
        output_tokens=0,
    )
    summary = ledger.summary()
    totals = summary["totals"]
    assert totals["calls"] == 4
    assert totals["retries"] == 1
    assert totals["input_tokens"] == 250
    assert totals["output_tokens"] == 25
    assert totals["cost_usd"] == pytest.approx(0.04)
    assert totals["outcomes"] == {"ok": 3, "error": 1}
    assert totals["statuses"] == {"200": 3, "503": 1}
    assert totals["faults"] == {"http_error": 1}
    by = summary["by"]
    assert by["route"]["search"]["calls"] == 4
    assert by["tenant"]["acme"]["calls"] == 3
    assert by["tenant"]["acme"]["cost_usd"] == pytest.approx(0.02)
    assert by["tenant"]["acme"]["outcomes"] == {"ok": 2, "error": 1}
    assert by["tenant"]["globex"]["retries"] == 1
    assert by["feature"]["qa"]["calls"] == 3
    assert by["feature"]["(untagged)"]["calls"] == 1
    assert by["model"]["gpt-4o"]["calls"] == 4
    assert summary["last_seq"] == 4


def _wait_for_record(provider: FakeProviderThread, timeout_s: float = 2.0) -> LedgerRecord:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        recs = provider.state.ledger.records()
        if recs:
            return recs[-1]
        time.sleep(0.01)
    raise AssertionError("no ledger record within the timeout")


PACED_REPLY = " ".join(f"Sentence number {i} of a long scripted answer." for i in range(30))
# A paced model: instant first token, then 100 tokens per second, always saying PACED_REPLY.
PACED: dict[str, Any] = {
    "models": {"paced": {"like": "gpt-4o-mini", "ttft_ms": 0, "tokens_per_s": 100, "jitter_ms": 0}},
    "responses": [{"match": {"model": "paced"}, "reply": {"content": PACED_REPLY}}],
}


def test_client_cancel_mid_stream_bills_tokens_sent() -> None:
    full = tokens.count(PACED_REPLY, "o200k_base")
    with FakeProviderThread(latency="realistic", scenario=PACED) as provider:
        client = openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0)
        try:
            stream = client.chat.completions.create(
                model="paced", messages=[{"role": "user", "content": "go"}], stream=True
            )
            received = 0
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    received += 1
                if received == 5:
                    break
            stream.close()
            rec = _wait_for_record(provider)
        finally:
            client.close()
    assert rec.outcome == "client_cancelled"
    assert rec.stream is True
    assert received <= rec.output_tokens < full
    inp, _, out = 0.15, 0.075, 0.60
    assert rec.cost_usd == pytest.approx((rec.input_tokens * inp + rec.output_tokens * out) / 1e6)
    assert rec.cost_usd > 0


def test_client_timeout_on_a_non_streamed_call_bills_tokens_generated_so_far() -> None:
    full = tokens.count(PACED_REPLY, "o200k_base")
    with FakeProviderThread(latency="realistic", scenario=PACED) as provider:
        client = openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-test", max_retries=0, timeout=0.3)
        try:
            with pytest.raises(openai.APITimeoutError):
                client.chat.completions.create(model="paced", messages=[{"role": "user", "content": "go"}])
            rec = _wait_for_record(provider)
        finally:
            client.close()
    assert rec.outcome == "client_cancelled"
    assert 0 < rec.output_tokens < full
    assert rec.cost_usd == pytest.approx((rec.input_tokens * 0.15 + rec.output_tokens * 0.60) / 1e6)


def test_the_summary_keeps_at_most_the_bound_of_tenants_and_folds_the_rest() -> None:
    ledger = Ledger()
    for i in range(MAX_TAG_VALUES + 500):
        ledger.append(_record(ledger.next_seq(), tags={"route": "r", "feature": None, "tenant": f"t{i}"}))
    by_tenant = ledger.summary()["by"]["tenant"]
    assert len(by_tenant) == MAX_TAG_VALUES + 1
    assert by_tenant[OVERFLOW]["calls"] == 500
    assert ledger.summary()["totals"]["calls"] == MAX_TAG_VALUES + 500
    # The records keep their tags as sent; a reset forgets the values seen.
    assert ledger.records()[-1].tags["tenant"] == f"t{MAX_TAG_VALUES + 499}"
    ledger.clear()
    ledger.append(_record(ledger.next_seq(), tags={"route": None, "feature": None, "tenant": "new"}))
    assert list(ledger.summary()["by"]["tenant"]) == ["new"]


def test_metrics_keep_at_most_the_bound_of_tenant_series() -> None:
    metrics = ProviderMetrics()
    for i in range(MAX_TAG_VALUES + 200):
        metrics.observe(_record(i + 1, tags={"route": "r", "feature": None, "tenant": f"t{i}"}))
    text = metrics.render().decode()
    cost_series = [
        line for line in text.splitlines() if line.startswith("rehearsal_provider_cost_usd_total{")
    ]
    assert len(cost_series) == MAX_TAG_VALUES + 1
    assert any(f'tenant="{OVERFLOW}"' in line for line in cost_series)
