"""`goodput`: the share of requests that succeeded within the latency targets stays >= `min`.

A request is good when its outcome is `ok` (as `error_rate` defines it: a status below 400 and
a complete body or stream), its E2E latency (from the scheduled send time) is <= `e2e_ms`, and,
when `ttft_ms` is given, its time to first content is <= `ttft_ms` (both in milliseconds rounded
to the microsecond, as reports show them). A request with no TTFT
(a non-streamed answer) is judged on E2E only. The share is over all the phase's requests.
Offenders are the requests that were not good: failures first, then the slowest.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness.analysis import unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, ms, share, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.contract.error_rate import outcome
from harness.record import RequestRecord, Run


class GoodputParams(ClauseParams):
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")
    min: float = Field(ge=0, le=1, description="lowest share of good requests")
    e2e_ms: float = Field(gt=0, description="E2E latency target, milliseconds")
    ttft_ms: float | None = Field(default=None, gt=0, description="TTFT target, milliseconds (streams)")


def _miss(r: RequestRecord, p: GoodputParams) -> tuple[str, float] | None:
    """Why `r` is not good (and how bad, for ordering), or None when it is."""
    o = outcome(r)
    if o != "ok":
        return f"outcome {o}", float("inf")
    e2e = ms(r.latency_s) or 0.0
    if e2e > p.e2e_ms:
        return "e2e over target", e2e
    ttft = ms(r.ttft_s)
    if p.ttft_ms is not None and ttft is not None and ttft > p.ttft_ms:
        return "ttft over target", e2e
    return None


@register
class Goodput(Clause):
    name = "goodput"
    Params = GoodputParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, GoodputParams)
        name, head = self.name, title(self.name, p.phase)
        targets = f"E2E <= {p.e2e_ms:g} ms" + ("" if p.ttft_ms is None else f", TTFT <= {p.ttft_ms:g} ms")
        expected = f">= {p.min:.2%} of requests ok with {targets}"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        requests = run.requests_in(p.phase)
        if not requests:
            return cannot_evaluate(name, head, expected, "no request was sent")
        misses = [(m, r.id) for r in requests if (m := _miss(r, p)) is not None]
        good = len(requests) - len(misses)
        got = share(good, len(requests))
        reasons: dict[str, int] = {}
        for (why, _), _rid in misses:
            reasons[why] = reasons.get(why, 0) + 1
        details: dict[str, Any] = {
            "requests": len(requests),
            "good": good,
            "share": got,
            "misses": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            "without_ttft": sum(1 for r in requests if r.ttft_s is None),
        }
        observed = f"{got:.2%} good ({good} of {len(requests)})"
        if reasons:
            observed += "; " + ", ".join(f"{why} x{n}" for why, n in details["misses"].items())
        verdict: Verdict = "fail" if got < p.min else "pass"
        offenders = [rid for (_, badness), rid in sorted(misses, key=lambda m: -m[0][1])]
        return ClauseResult(
            name,
            head,
            expected,
            observed,
            verdict,
            first_ids(offenders) if verdict == "fail" else [],
            details,
        )
