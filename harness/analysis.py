"""What a run's raw data means: percentiles, latency figures, and the join of the provider's
ledger to the requests the harness sent.

Pure functions of a `Run` (ARCHITECTURE, central idea 2): contract clauses and reports read the
same figures from here, so a verdict and the report that shows it never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.run.model import RequestRecord, Run

PERCENTILE_METHOD = (
    "linear interpolation between closest ranks over the raw samples, no bucketing "
    "(numpy's default 'linear', Hyndman & Fan type 7): rank h = (n - 1) * q / 100"
)
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


def percentile(samples: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None without samples."""
    return percentiles(samples, (q,))[q]


def percentiles(samples: Iterable[float], qs: Sequence[float] = (50, 95, 99)) -> dict[float, float | None]:
    """Several percentiles of the same samples, sorted once."""
    xs = sorted(samples)
    out: dict[float, float | None] = {}
    for q in qs:
        if not 0 <= q <= 100:
            raise ValueError(f"percentile {q} is outside 0..100")
        if not xs:
            out[q] = None
            continue
        h = (len(xs) - 1) * q / 100
        lo = math.floor(h)
        hi = min(lo + 1, len(xs) - 1)
        out[q] = xs[lo] + (h - lo) * (xs[hi] - xs[lo])
    return out


# ---- phases ----------------------------------------------------------------------------


def by_phase(run: Run) -> dict[str, list[RequestRecord]]:
    """Requests grouped by phase, phases in run order (also those without requests)."""
    groups: dict[str, list[RequestRecord]] = {p.name: [] for p in run.phases}
    for r in run.requests:
        groups.setdefault(r.phase, []).append(r)
    return groups


def unknown_phase(run: Run, phase: str | None) -> str | None:
    """Why `phase` cannot be evaluated on this run, or None when it can."""
    if phase is None or run.phase(phase) is not None:
        return None
    names = [p.name for p in run.phases]
    return f"no phase named {phase!r} in this run (phases: {', '.join(names) or 'none'})"


def phase_at(run: Run, wall_s: float) -> str | None:
    """The phase running at wall-clock time `wall_s` (ledger timestamps are wall clock)."""
    origin = run.load_started_at if run.load_started_at is not None else run.started_at
    t = wall_s - origin
    for p in run.phases:
        if p.start_s <= t < p.end_s:
            return p.name
    return None


# ---- the provider's calls --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """A typed view of one ledger record (the fields the analysis reads)."""

    seq: int
    ts_start: float
    ts_end: float
    api: str
    model: str | None
    request_id: str
    fingerprint: str
    tags: dict[str, str | None]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    status: int
    outcome: str
    fault_rule: str | None
    fault_kind: str | None
    error: str | None

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> ProviderCall:
        fault = d.get("fault") or {}
        return cls(
            seq=int(d.get("seq", 0)),
            ts_start=float(d.get("ts_start", 0.0)),
            ts_end=float(d.get("ts_end", d.get("ts_start", 0.0))),
            api=str(d.get("api", "")),
            model=d.get("model"),
            request_id=str(d.get("request_id", "")),
            fingerprint=str(d.get("fingerprint", "")),
            tags=dict(d.get("tags") or {}),
            input_tokens=int(d.get("input_tokens", 0)),
            output_tokens=int(d.get("output_tokens", 0)),
            cost_usd=float(d.get("cost_usd", 0.0)),
            status=int(d.get("status", 0)),
            outcome=str(d.get("outcome", "")),
            fault_rule=fault.get("rule"),
            fault_kind=fault.get("kind"),
            error=d.get("error"),
        )


def provider_calls(run: Run) -> list[ProviderCall]:
    """The ledger as typed calls, in start order."""
    return sorted((ProviderCall.from_record(d) for d in run.ledger), key=lambda c: (c.ts_start, c.seq))


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of the run could be correlated on X-Request-Id."""

    requests: int
    requests_joined: int  # requests with at least one ledger record
    calls: int
    calls_joined: int  # ledger records whose request_id is a request's id

    @property
    def request_share(self) -> float | None:
        return self.requests_joined / self.requests if self.requests else None

    @property
    def call_share(self) -> float | None:
        return self.calls_joined / self.calls if self.calls else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "requests_joined": self.requests_joined,
            "request_share": self.request_share,
            "calls": self.calls,
            "calls_joined": self.calls_joined,
            "call_share": self.call_share,
        }


@dataclass(slots=True)
class Join:
    """The ledger joined to the requests on request_id == RequestRecord.id."""

    by_request: dict[str, list[ProviderCall]]  # request id -> its calls, in start order
    unjoined: list[ProviderCall]
    coverage: Coverage

    def calls_of(self, request_id: str) -> list[ProviderCall]:
        return self.by_request.get(request_id, [])


def join(run: Run) -> Join:
    """Join every ledger record to the request whose X-Request-Id it carries."""
    ids = {r.id for r in run.requests}
    by_request: dict[str, list[ProviderCall]] = {}
    unjoined: list[ProviderCall] = []
    calls = provider_calls(run)
    for c in calls:
        if c.request_id in ids:
            by_request.setdefault(c.request_id, []).append(c)
        else:
            unjoined.append(c)
    coverage = Coverage(len(run.requests), len(by_request), len(calls), len(calls) - len(unjoined))
    return Join(by_request, unjoined, coverage)


@dataclass(slots=True)
class Unit:
    """What retry and budget clauses count over: a route request and its provider calls, or,
    for calls not joined to a request, one provider request and its retries (same fingerprint)."""

    id: str  # the request's X-Request-Id, or "fingerprint:<fp>"
    phase: str | None
    correlated: bool
    calls: list[ProviderCall] = field(default_factory=list)


def units(run: Run, phase: str | None = None, joined: Join | None = None) -> list[Unit]:
    """Requests with at least one joined call, then fingerprint groups of the calls not joined;
    only those in `phase` (a group is placed by the start time of its first call)."""
    joined = joined or join(run)
    out: list[Unit] = []
    for r in run.requests:
        calls = joined.by_request.get(r.id)
        if calls and (phase is None or r.phase == phase):
            out.append(Unit(r.id, r.phase, True, calls))
    groups: dict[str, list[ProviderCall]] = {}
    for c in joined.unjoined:
        groups.setdefault(c.fingerprint, []).append(c)
    for fp, calls in groups.items():
        where = phase_at(run, calls[0].ts_start)
        if phase is None or where == phase:
            out.append(Unit(f"fingerprint:{fp}", where, False, calls))
    return out


# ---- latency ---------------------------------------------------------------------------


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


def output_tokens(r: RequestRecord, calls: Sequence[ProviderCall] = ()) -> int | None:
    """The last successful provider call's output tokens, else the content chunks counted."""
    for c in reversed(calls):
        if c.status == 200 and c.output_tokens > 0:
            return c.output_tokens
    if r.first_content_s is None:
        return None
    return sum(1 for t in r.chunk_s if t >= r.first_content_s)


def itl_s(r: RequestRecord, calls: Sequence[ProviderCall] = ()) -> float | None:
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
