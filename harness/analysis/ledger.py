"""The provider's ledger joined to the requests the harness sent, on X-Request-Id: which provider
calls each route request caused, and how the calls nobody can place are still counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.analysis.phases import phase_at, phase_window_s
from harness.run.model import Run

# Ledger outcomes of a call whose answer was cut off before its end: `partial` (a stream dropped
# or ended by an error event mid-answer), `reset` (TCP reset), `timeout` (the provider stalled
# until its caller gave up) and `server_stopped`. `client_cancelled` is not a cut: the caller
# left on its own (a hedge that lost, or the user going away).
CUT_OUTCOMES = frozenset({"partial", "reset", "timeout", "server_stopped"})


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """A typed view of one ledger record (the fields the analysis reads)."""

    seq: int
    ts_start: float
    ts_end: float
    api: str
    model: str | None
    stream: bool
    request_id: str
    fingerprint: str
    tags: dict[str, str | None]
    input_tokens: int  # as billed: cached tokens included
    output_tokens: int
    cached_tokens: int  # of input_tokens, served from the provider's prompt cache
    cost_usd: float
    status: int
    outcome: str
    fault_rule: str | None
    fault_kind: str | None
    error: str | None
    ttft_ms: float | None  # provider side: call start -> first token (streams), else None

    @property
    def cut(self) -> bool:
        """The call's answer was cut off (see `CUT_OUTCOMES`)."""
        return self.outcome in CUT_OUTCOMES

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> ProviderCall:
        fault = d.get("fault") or {}
        return cls(
            seq=int(d.get("seq", 0)),
            ts_start=float(d.get("ts_start", 0.0)),
            ts_end=float(d.get("ts_end", d.get("ts_start", 0.0))),
            api=str(d.get("api", "")),
            model=d.get("model"),
            stream=bool(d.get("stream", False)),
            request_id=str(d.get("request_id", "")),
            fingerprint=str(d.get("fingerprint", "")),
            tags=dict(d.get("tags") or {}),
            input_tokens=int(d.get("input_tokens", 0)),
            output_tokens=int(d.get("output_tokens", 0)),
            cached_tokens=int(d.get("cached_tokens") or 0),
            cost_usd=float(d.get("cost_usd", 0.0)),
            status=int(d.get("status", 0)),
            outcome=str(d.get("outcome", "")),
            fault_rule=fault.get("rule"),
            fault_kind=fault.get("kind"),
            error=d.get("error"),
            ttft_ms=None if d.get("ttft_ms") is None else float(d["ttft_ms"]),
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


def unit_id(call: ProviderCall, joined: Join) -> str:
    """The id a call is reported under: its request's id, or `fingerprint:<fp>` when not joined."""
    return call.request_id if call.request_id in joined.by_request else f"fingerprint:{call.fingerprint}"


def phase_calls(run: Run, phase: str | None, joined: Join | None = None) -> list[ProviderCall]:
    """The provider calls of a phase: those joined to its requests, and those not joined to any
    request that started inside its window (all calls when `phase` is None)."""
    joined = joined or join(run)
    if phase is None:
        return provider_calls(run)
    ids = {r.id for r in run.requests_in(phase)}
    window = phase_window_s(run, phase)
    mine = [c for rid in ids for c in joined.calls_of(rid)]
    if window is not None:
        start, end = window
        mine += [c for c in joined.unjoined if start <= c.ts_start < end]
    return sorted(mine, key=lambda c: (c.ts_start, c.seq))
