"""Builders of small synthetic runs: requests as the load generator records them, ledger records
as the fake provider writes them. Times are seconds from the load start; the ledger's wall clock
is `T0` plus those."""

from __future__ import annotations

import json
from typing import Any

from harness.contract import REGISTRY, ClauseResult
from harness.contract.base import MAX_OFFENDERS
from harness.record import LedgerCall, PhaseWindow, RequestRecord, Run, StreamEnd

T0 = 1_700_000_000.0
PHASES = (("steady", 0.0, 10.0), ("outage", 10.0, 20.0))


def req(
    rid: str,
    phase: str = "steady",
    at: float = 0.0,
    latency: float | None = 0.1,
    status: int | None = 200,
    *,
    sent_lag: float = 0.0,
    error: str | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    chunks: list[float] | None = None,
    seq: int = 0,
    tail: str | None = None,
    stream_end: StreamEnd | None = None,
) -> RequestRecord:
    """A request scheduled at `at`, ending `latency` later; `chunks` are offsets from `at`."""
    chunk_s = [at + c for c in chunks or []]
    return RequestRecord(
        id=rid,
        seq=seq,
        phase=phase,
        scheduled_s=at,
        sent_s=at + sent_lag,
        status=status,
        error=error,
        headers=headers or {},
        body=body,
        chunk_s=chunk_s,
        first_content_s=chunk_s[0] if chunk_s else None,
        end_s=None if latency is None else at + latency,
        tail=tail,
        stream_end=stream_end,
    )


def call(
    rid: str,
    at: float = 0.0,
    duration: float = 0.05,
    status: int = 200,
    *,
    model: str | None = "gpt-4o",
    api: str = "openai.chat",
    fingerprint: str | None = None,
    tags: dict[str, str | None] | None = None,
    input_tokens: int = 100,
    output_tokens: int = 20,
    cost_usd: float = 0.001,
    fault: tuple[str, str] | None = None,
    error: str | None = None,
    seq: int = 0,
    cached_tokens: int = 0,
    outcome: str | None = None,
) -> dict[str, Any]:
    """A ledger record of a provider call started at `at` (from the load start)."""
    return {
        "seq": seq,
        "ts_start": T0 + at,
        "ts_end": T0 + at + duration,
        "api": api,
        "model": model,
        "stream": False,
        "request_id": rid,
        "idempotency_key": None,
        "sdk_retry_count": None,
        "fingerprint": fingerprint or f"fp-{rid}-{model}",
        "attempt": 1,
        "tags": {"route": "/summarize", "feature": "summary", "tenant": "acme"} if tags is None else tags,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens if status == 200 else 0,
        "cached_tokens": cached_tokens,
        "cost_usd": cost_usd if status == 200 else 0.0,
        "status": status,
        "fault": None if fault is None else {"rule": fault[0], "kind": fault[1]},
        "outcome": outcome or ("ok" if status == 200 else "error"),
        "ttft_ms": None,
        "duration_ms": duration * 1000,
        "finish_reason": "stop" if status == 200 else None,
        "error": error,
    }


def make_run(
    requests: list[RequestRecord],
    ledger: list[dict[str, Any]] | None = None,  # as the provider writes them: read as a journal is
    *,
    phases: tuple[tuple[str, float, float], ...] = PHASES,
    experiment: dict[str, Any] | None = None,
    fault_rules: list[dict[str, Any]] | None = None,
) -> Run:
    return Run(
        experiment=experiment or {"title": "synthetic", "phases": [{"name": n} for n, _, _ in phases]},
        source="synthetic.yaml",
        started_at=T0 - 5.0,
        phases=[PhaseWindow(n, s, e) for n, s, e in phases],
        requests=requests,
        ledger=[LedgerCall.from_dict(c) for c in ledger or []],
        load_started_at=T0,
        fault_rules=fault_rules or [],
    )


def evaluate(name: str, params: dict[str, Any], run: Run) -> ClauseResult:
    """The clause as an experiment file would give it, evaluated on `run`; its result must go
    into the JSON journal as it is."""
    cls = REGISTRY[name]
    result = cls(cls.Params.model_validate(params)).evaluate(run)
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False)) == result.to_dict()
    assert len(result.offenders) <= MAX_OFFENDERS
    return result
