"""Latency figures of a request (E2E, TTFT, inter-token latency) and their per-phase percentiles,
each defined once in `METRIC_DEFINITIONS`, which every journal carries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.analysis.ledger import Join, join
from harness.analysis.phases import by_phase
from harness.analysis.quantiles import percentiles
from harness.record import LedgerCall, RequestRecord, Run

METRIC_DEFINITIONS = {
    "origin": "the scheduled send time (open loop, so a slow target cannot hide its tail), "
    "or the actual start (closed loop)",
    "ttft": "origin -> first non-empty content chunk (streamed responses only)",
    "e2e": "origin -> last chunk (streamed) or last byte (non-streamed)",
    "itl": "(e2e - ttft) / (output tokens - 1); output tokens = the last successful joined provider "
    "call's output_tokens, else the number of content chunks",
    "attempts": "provider calls per route request: ledger records whose request_id is the "
    "X-Request-Id sent; calls not joined are grouped by body fingerprint (one group per provider "
    "request and its retries)",
}


def answered(r: RequestRecord) -> bool:
    """A complete successful answer: a 2xx status and no transport error."""
    return r.status is not None and 200 <= r.status < 300 and r.error is None


def ttft_s(r: RequestRecord) -> float | None:
    """Origin -> first non-empty content chunk; None when not streamed."""
    return r.ttft_s


def e2e_s(r: RequestRecord) -> float | None:
    """Origin -> last chunk (streamed) or last byte."""
    if r.chunk_s:
        return r.chunk_s[-1] - r.scheduled_s
    return r.latency_s


def output_tokens(r: RequestRecord, calls: Sequence[LedgerCall] = ()) -> int | None:
    """The last successful provider call's output tokens, else the content chunks counted."""
    for c in reversed(calls):
        if c.status == 200 and c.output_tokens > 0:
            return c.output_tokens
    if r.first_content_s is None:
        return None
    return sum(1 for t in r.chunk_s if t >= r.first_content_s)


def itl_s(r: RequestRecord, calls: Sequence[LedgerCall] = ()) -> float | None:
    """(E2E - TTFT) / (output tokens - 1); None with fewer than two tokens or no TTFT."""
    ttft, e2e, tokens = ttft_s(r), e2e_s(r), output_tokens(r, calls)
    if ttft is None or e2e is None or tokens is None or tokens < 2:
        return None
    return (e2e - ttft) / (tokens - 1)


@dataclass(slots=True)
class LatencySamples:
    """Per-request latency samples (seconds), each paired with its request id."""

    e2e: list[tuple[float, str]] = field(default_factory=list)
    ttft: list[tuple[float, str]] = field(default_factory=list)
    itl: list[tuple[float, str]] = field(default_factory=list)

    def of(self, metric: str) -> list[tuple[float, str]]:
        samples: list[tuple[float, str]] = getattr(self, metric)
        return samples


def latency_samples(
    run: Run, requests: Iterable[RequestRecord], joined: Join | None = None
) -> LatencySamples:
    """The latency samples of `requests` (callers pick which requests count)."""
    joined = joined or join(run)
    out = LatencySamples()
    for r in requests:
        e2e, ttft = e2e_s(r), ttft_s(r)
        if e2e is not None:
            out.e2e.append((e2e, r.id))
        if ttft is not None:
            out.ttft.append((ttft, r.id))
        itl = itl_s(r, joined.calls_of(r.id))
        if itl is not None:
            out.itl.append((itl, r.id))
    return out


def phase_percentiles(run: Run, qs: Sequence[float] = (50, 95, 99)) -> dict[str, dict[str, Any]]:
    """Per phase: answered-request count and e2e/ttft/itl percentiles in ms (for reports)."""
    joined = join(run)
    table: dict[str, dict[str, Any]] = {}
    for name, requests in by_phase(run).items():
        ok = [r for r in requests if answered(r)]
        samples = latency_samples(run, ok, joined)
        row: dict[str, Any] = {"requests": len(requests), "answered": len(ok)}
        for metric in ("e2e", "ttft", "itl"):
            figures = percentiles((s for s, _ in samples.of(metric)), qs)
            for q, v in figures.items():
                row[f"{metric}_p{q:g}_ms"] = None if v is None else round(v * 1000, 3)
        table[name] = row
    return table
