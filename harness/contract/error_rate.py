"""`error_rate`: the share of requests ending in an error outcome stays at or under `max`.

Each request has one client-side outcome: `ok` (status < 400, body complete), `4xx`, `5xx`,
`timeout` (no complete answer in `target.timeout_s`), `no_response` (connection refused, reset or
closed before a status) or `broken` (a status arrived, then the body or stream broke). By
default `5xx`, `timeout`, `no_response` and `broken` count as errors; `outcomes` picks others
(e.g. add `4xx` when the route must not shed load with 429).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.analysis import unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, share, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import RequestRecord, Run

Outcome = Literal["ok", "4xx", "5xx", "timeout", "no_response", "broken"]
DEFAULT_ERRORS: list[Outcome] = ["5xx", "timeout", "no_response", "broken"]


def outcome(r: RequestRecord) -> Outcome:
    """The request's client-side outcome."""
    if (r.error or "").startswith("timeout"):
        return "timeout"
    if r.status is None:
        return "no_response"
    if r.status >= 500:
        return "5xx"
    if r.status >= 400:
        return "4xx"
    return "ok" if r.error is None else "broken"


class ErrorRateParams(ClauseParams):
    max: float = Field(ge=0, le=1, description="highest share of requests with an error outcome")
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")
    outcomes: list[Outcome] = Field(
        default_factory=lambda: list(DEFAULT_ERRORS), min_length=1, description="outcomes that are errors"
    )


@register
class ErrorRate(Clause):
    name = "error_rate"
    Params = ErrorRateParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, ErrorRateParams)
        name, head = self.name, title(self.name, p.phase)
        errors = set(p.outcomes)
        expected = f"<= {p.max:.2%} of requests {'/'.join(o for o in p.outcomes)}"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        requests = run.requests_in(p.phase)
        if not requests:
            return cannot_evaluate(name, head, expected, "no request was sent")
        by_outcome: dict[str, int] = {}
        by_status: dict[str, int] = {}
        failed: list[str] = []
        for r in requests:
            o = outcome(r)
            by_outcome[o] = by_outcome.get(o, 0) + 1
            key = "none" if r.status is None else str(r.status)
            by_status[key] = by_status.get(key, 0) + 1
            if o in errors:
                failed.append(r.id)
        rate = share(len(failed), len(requests))
        details = {
            "requests": len(requests),
            "errors": len(failed),
            "rate": rate,
            "error_outcomes": sorted(errors),
            "outcomes": by_outcome,
            "statuses": dict(sorted(by_status.items())),
        }
        mix = ", ".join(f"{o} {n}" for o, n in sorted(by_outcome.items(), key=lambda kv: -kv[1]))
        observed = f"{rate:.2%} ({len(failed)} of {len(requests)}; {mix})"
        verdict: Verdict = "fail" if rate > p.max else "pass"
        return ClauseResult(
            name, head, expected, observed, verdict, first_ids(failed) if verdict == "fail" else [], details
        )
