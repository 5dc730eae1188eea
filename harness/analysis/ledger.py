"""The provider's ledger joined to the requests the harness sent, on X-Request-Id: which provider
calls each route request caused, and how the calls nobody can place are still counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.analysis.phases import phase_at, phase_window_s
from harness.record import LedgerCall, Run


def provider_calls(run: Run) -> list[LedgerCall]:
    """The ledger's calls, in start order."""
    return sorted(run.ledger, key=lambda c: (c.ts_start, c.seq))


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

    by_request: dict[str, list[LedgerCall]]  # request id -> its calls, in start order
    unjoined: list[LedgerCall]
    coverage: Coverage

    def calls_of(self, request_id: str) -> list[LedgerCall]:
        return self.by_request.get(request_id, [])


def join(run: Run) -> Join:
    """Join every ledger record to the request whose X-Request-Id it carries."""
    ids = {r.id for r in run.requests}
    by_request: dict[str, list[LedgerCall]] = {}
    unjoined: list[LedgerCall] = []
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
    calls: list[LedgerCall] = field(default_factory=list)


def units(run: Run, phase: str | None = None, joined: Join | None = None) -> list[Unit]:
    """Requests with at least one joined call, then fingerprint groups of the calls not joined;
    only those in `phase` (a group is placed by the start time of its first call)."""
    joined = joined or join(run)
    out: list[Unit] = []
    for r in run.requests:
        calls = joined.by_request.get(r.id)
        if calls and (phase is None or r.phase == phase):
            out.append(Unit(r.id, r.phase, True, calls))
    groups: dict[str, list[LedgerCall]] = {}
    for c in joined.unjoined:
        groups.setdefault(c.fingerprint, []).append(c)
    for fp, calls in groups.items():
        where = phase_at(run, calls[0].ts_start)
        if phase is None or where == phase:
            out.append(Unit(f"fingerprint:{fp}", where, False, calls))
    return out


def unit_id(call: LedgerCall, joined: Join) -> str:
    """The id a call is reported under: its request's id, or `fingerprint:<fp>` when not joined."""
    return call.request_id if call.request_id in joined.by_request else f"fingerprint:{call.fingerprint}"


def phase_calls(run: Run, phase: str | None, joined: Join | None = None) -> list[LedgerCall]:
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
