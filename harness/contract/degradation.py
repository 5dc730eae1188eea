"""`degradation`: in a phase, at least `min_share` of the requests answer as expected.

A request meets the expectation when every given part holds: `status` equals (or is one of the
list); each header in `headers` is present (names case-insensitive) with exactly that value;
each `body` entry's dotted path (`a.b.0.c`, list items by index) holds exactly that JSON value
(`true` is not `1`). The value `"*"` means "present, any value". A request with no response
meets nothing; a streamed response has no parsed body, so a `body` expectation fails for it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.analysis import unknown_phase
from harness.contract._common import MISSING, cannot_evaluate, dig, first_ids, share, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, register
from harness.record import RequestRecord, Run

ANY = "*"


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: int | list[int] | None = Field(default=None, description="the status, or one of these")
    headers: dict[str, str] = Field(default_factory=dict, description="response header -> value ('*': any)")
    body: dict[str, Any] = Field(default_factory=dict, description="dotted path -> JSON value ('*': any)")

    @model_validator(mode="after")
    def _something(self) -> Expect:
        if self.status is None and not self.headers and not self.body:
            raise ValueError("expect at least one of `status`, `headers`, `body`")
        return self

    def describe(self) -> str:
        parts: list[str] = []
        if self.status is not None:
            parts.append(f"status {self.status}")
        parts += [f"{k}: {v}" for k, v in self.headers.items()]
        parts += [f"body.{k} = {v!r}" for k, v in self.body.items()]
        return ", ".join(parts)


class DegradationParams(ClauseParams):
    phase: str = Field(description="the phase whose requests must degrade as expected")
    expect: Expect
    min_share: float = Field(default=1.0, ge=0, le=1, description="share of the phase's requests")
    edge_s: float = Field(
        default=0.2,
        ge=0,
        description="requests scheduled this close to the phase's start or end are not judged",
    )


def same_json(actual: Any, wanted: Any) -> bool:
    """JSON equality: booleans are not numbers."""
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return isinstance(actual, bool) and isinstance(wanted, bool) and actual == wanted
    if isinstance(actual, dict) and isinstance(wanted, dict):
        return actual.keys() == wanted.keys() and all(same_json(actual[k], wanted[k]) for k in wanted)
    if isinstance(actual, list) and isinstance(wanted, list):
        return len(actual) == len(wanted) and all(map(same_json, actual, wanted))
    return bool(type(actual) is type(wanted) or {type(actual), type(wanted)} <= {int, float}) and (
        actual == wanted
    )


def mismatch(r: RequestRecord, expect: Expect) -> str | None:
    """The first expectation `r` does not meet, or None."""
    if r.status is None:
        return f"no response ({r.error or 'unknown error'})"
    if expect.status is not None:
        allowed = expect.status if isinstance(expect.status, list) else [expect.status]
        if r.status not in allowed:
            return f"status {r.status}"
    for header, wanted in expect.headers.items():
        value = r.headers.get(header.lower())
        if value is None:
            return f"no {header.lower()} header"
        if wanted != ANY and value != wanted:
            return f"{header.lower()}: {value}"
    for path, wanted in expect.body.items():
        value = dig(r.body, path)
        if value is MISSING or (wanted == ANY and value is None):
            return f"no body.{path}"
        if wanted != ANY and not same_json(value, wanted):
            return f"body.{path} = {value!r}"
    return None


def judged(run: Run, phase: str, edge_s: float) -> list[RequestRecord]:
    """The phase's requests away from its edges, where the provider's fault window (on its own
    clock) and a request's retries can straddle two phases; all of them if that leaves none."""
    requests = run.requests_in(phase)
    window = run.phase(phase)
    if window is None or edge_s == 0:
        return requests
    inner = [r for r in requests if window.start_s + edge_s <= r.scheduled_s < window.end_s - edge_s]
    return inner or requests


@register
class Degradation(Clause):
    name = "degradation"
    Params = DegradationParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, DegradationParams)
        name, head = self.name, title(self.name, p.phase)
        expected = p.expect.describe()
        if p.min_share < 1:
            expected += f" on >= {p.min_share:.0%} of requests"
        else:
            expected += " on every request"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        requests = judged(run, p.phase, p.edge_s)
        if not requests:
            return cannot_evaluate(name, head, expected, f"no request was sent in phase {p.phase}")
        misses = [(r.id, why) for r in requests if (why := mismatch(r, p.expect)) is not None]
        met = len(requests) - len(misses)
        got = share(met, len(requests))
        reasons: dict[str, int] = {}
        for _, why in misses:
            reasons[why] = reasons.get(why, 0) + 1
        offenders = first_ids(rid for rid, _ in misses)
        details: dict[str, Any] = {
            "requests": len(requests),
            "met": met,
            "share": got,
            "mismatches": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            "offender_reasons": {rid: why for rid, why in misses if rid in offenders},
        }
        observed = f"{met} of {len(requests)} ({got:.1%}) as expected"
        if misses:
            top = ", ".join(f"{why} x{n}" for why, n in list(details["mismatches"].items())[:3])
            observed += f"; others: {top}"
        if got >= p.min_share:
            return ClauseResult(name, head, expected, observed, "pass", [], details)
        return ClauseResult(name, head, expected, observed, "fail", offenders, details)
