"""A synthetic run: two phases, 200 streamed requests, a ledger with tags, costs, retries and
faults, and clause results of every verdict. Deterministic (seeded)."""

from __future__ import annotations

import random
from typing import Any

from harness.contract.base import ClauseResult
from harness.record import LedgerCall, PhaseWindow, RequestRecord, Run

HOSTILE_TITLE = '<script>alert("x")</script> & [bold]summary[/bold]'


def make_run(title: str = "summarize falls back when the primary model is down", seed: int = 7) -> Run:
    rnd = random.Random(seed)
    phases = [PhaseWindow("steady", 0.0, 10.0), PhaseWindow("outage", 10.0, 20.0)]
    requests: list[RequestRecord] = []
    ledger: list[dict[str, Any]] = []
    for seq in range(200):
        scheduled = seq * 0.1
        phase = "steady" if scheduled < 10.0 else "outage"
        rid = f"req-{seq:04d}"
        sent = scheduled + rnd.uniform(0.0, 0.004)
        tenant = rnd.choice(["acme", "globex"])
        feature = rnd.choice(["summarize", "digest"])
        status: int | None = 200
        error: str | None = None
        headers = {"content-type": "text/event-stream"}
        attempts: list[tuple[str, int, dict[str, str] | None, str]] = []
        if phase == "steady":
            latency = rnd.lognormvariate(-1.0, 0.3)
            attempts.append(("gpt-4o", 200, None, "ok"))
            if seq % 40 == 7:
                status, error = None, "read: connection reset by peer"
                attempts[-1] = ("gpt-4o", 200, {"rule": "r1", "kind": "connection_reset"}, "reset")
        else:
            retries = rnd.choice([1, 2, 2, 3])
            attempts.extend(
                ("gpt-4o", 503, {"rule": "outage-0", "kind": "http_error"}, "error") for _ in range(retries)
            )
            roll = rnd.random()
            if roll < 0.1:
                status, error, latency = None, "timeout", 5.0
            elif roll < 0.2:
                status, latency = 503, rnd.uniform(0.2, 0.6)
            else:
                attempts.append(("gpt-4o-mini", 200, None, "ok"))
                latency = rnd.lognormvariate(0.2, 0.35)
                if roll < 0.9:
                    headers["x-degraded"] = "fallback"
        end = scheduled + latency
        chunks: list[float] = []
        first = None
        if status == 200:
            first = scheduled + latency * rnd.uniform(0.15, 0.35)
            n = rnd.randint(3, 12)
            chunks = [first + (end - first) * i / (n - 1) for i in range(n)]
        requests.append(
            RequestRecord(
                id=rid,
                seq=seq,
                phase=phase,
                scheduled_s=scheduled,
                sent_s=sent,
                status=status,
                error=error,
                headers=headers if status is not None else {},
                body=None,
                body_bytes=120 * len(chunks),
                chunk_s=chunks,
                first_content_s=first,
                end_s=end,
            )
        )
        # Every 25th request is not forwarded with its id: correlation coverage below 100 %.
        ledger_id = rid if seq % 25 != 3 else f"unforwarded-{seq}"
        for attempt, (model, pstatus, fault, outcome) in enumerate(attempts, 1):
            ok = pstatus == 200
            tokens_in = rnd.randint(300, 900)
            tokens_out = rnd.randint(40, 300) if ok else 0
            price = 2.5e-6 if model == "gpt-4o" else 0.15e-6
            ledger.append(
                {
                    "seq": len(ledger),
                    "ts_start": 1_700_000_000.0 + sent,
                    "ts_end": 1_700_000_000.0 + end,
                    "api": "openai.chat",
                    "model": model,
                    "stream": True,
                    "request_id": ledger_id,
                    "attempt": attempt,
                    "tags": {
                        "route": "/summarize",
                        "feature": feature,
                        "tenant": None if seq % 50 == 9 else tenant,
                    },
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "cached_tokens": 0 if attempt == 1 else 256,
                    "cost_usd": round((tokens_in + 4 * tokens_out) * price, 8),
                    "status": pstatus,
                    "fault": fault,
                    "outcome": outcome,
                    "ttft_ms": 120.0 if ok else None,
                    "duration_ms": latency * 1000 / len(attempts),
                    "finish_reason": "stop" if ok else None,
                }
            )
    experiment = {
        "title": title,
        "target": {"app": "sample", "request": {"method": "POST", "path": "/summarize"}, "stream": "sse"},
        "load": {"mode": "open", "rate": 10, "duration_s": 20, "max_requests": 1000},
        "phases": [{"name": "steady", "duration_s": 10}, {"name": "outage", "duration_s": 10}],
    }
    return Run(
        experiment=experiment,
        source="experiments/outage.yaml",
        started_at=1_700_000_000.0,
        phases=phases,
        requests=requests,
        ledger=[LedgerCall.from_dict(c) for c in ledger],
    )


def make_results() -> list[ClauseResult]:
    return [
        ClauseResult(
            "retries",
            "retries: at most 3 provider calls per request",
            "<= 3",
            "worst 4 (p50 1)",
            "fail",
            ["req-0101", "req-0107"],
            {"distribution": {"1": 100, "2": 50, "4": 3}},
        ),
        ClauseResult("latency", "latency (phase outage)", "p95 <= 2000 ms", "p95 1840 ms", "pass"),
        ClauseResult(
            "degradation",
            "degradation (phase outage)",
            "status 200, x-degraded: fallback",
            "72/100 held <b>not bold</b>",
            "fail",
            ["req-0110", "req-0111", "req-0112"],
        ),
        ClauseResult("budget", "budget per request", "<= 4000 input tokens", "max 2870", "pass"),
        ClauseResult(
            "no_silent_fallback",
            "no silent fallback",
            "x-degraded on fallback answers",
            "ledger has no model for 3 calls",
            "error",
        ),
    ]
