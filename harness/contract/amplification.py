"""`amplification`: how many provider calls, and how much cost, one route request causes in a
phase, against a cap and (optionally) against a baseline phase.

Calls per request = the phase's provider calls / ALL the phase's route requests. A request that
made no call (served from a cache, refused early) counts with 0 calls. The phase's calls are the
calls joined to its requests plus the calls joined to no request that started inside its window
(a route that does not forward X-Request-Id is still counted, by time). Cost per request is the
same ratio with the calls' cost. With `baseline_phase`, the cost ratio is cost per request in
`phase` / cost per request in `baseline_phase`; `max_cost_ratio` caps it. Offenders are the
requests with the most calls (or the highest cost), worst first.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.analysis import join, phase_calls, unit_id, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import LedgerCall, Run


class AmplificationParams(ClauseParams):
    phase: str = Field(description="the phase whose requests are measured")
    baseline_phase: str | None = Field(default=None, description="the phase the cost is compared to")
    max_calls_per_request: float = Field(gt=0, description="mean provider calls per route request")
    max_cost_ratio: float | None = Field(
        default=None, gt=0, description="cost per request in `phase` / in `baseline_phase`"
    )

    @model_validator(mode="after")
    def _ratio_needs_baseline(self) -> AmplificationParams:
        if self.max_cost_ratio is not None and self.baseline_phase is None:
            raise ValueError("`max_cost_ratio` needs `baseline_phase`")
        return self


def _per_request(calls: list[LedgerCall], requests: int) -> tuple[float, float]:
    """(calls per request, cost USD per request)."""
    return len(calls) / requests, sum(c.cost_usd for c in calls) / requests


@register
class Amplification(Clause):
    name = "amplification"
    Params = AmplificationParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, AmplificationParams)
        name, head = self.name, title(self.name, p.phase)
        expected = f"<= {p.max_calls_per_request:g} provider calls per request (mean)"
        if p.max_cost_ratio is not None:
            expected += f"; cost per request <= {p.max_cost_ratio:g}x phase {p.baseline_phase}"
        for phase in (p.phase, p.baseline_phase):
            if why := unknown_phase(run, phase):
                return cannot_evaluate(name, head, expected, why)
        requests = run.requests_in(p.phase)
        if not requests:
            return cannot_evaluate(name, head, expected, f"no request was sent in phase {p.phase}")
        joined = join(run)
        calls = phase_calls(run, p.phase, joined)
        per_request, cost = _per_request(calls, len(requests))
        unjoined = sum(1 for c in calls if c.request_id not in joined.by_request)
        details: dict[str, Any] = {
            "requests": len(requests),
            "calls": len(calls),
            "calls_not_joined": unjoined,
            "calls_per_request": per_request,
            "cost_usd_per_request": round(cost, 10),
            "requests_without_call": sum(1 for r in requests if not joined.calls_of(r.id)),
        }
        observed = f"{per_request:.3g} calls per request ({len(calls)} calls, {len(requests)} requests)"
        if unjoined:
            observed += f"; {unjoined} calls not joined to a request, counted by time"
        failed = per_request > p.max_calls_per_request
        # The worst units by calls, then by cost: who made the mean what it is.
        tally: dict[str, list[LedgerCall]] = {}
        for c in calls:
            tally.setdefault(unit_id(c, joined), []).append(c)
        by_calls = sorted(tally, key=lambda uid: -len(tally[uid]))
        by_cost = sorted(tally, key=lambda uid: -sum(c.cost_usd for c in tally[uid]))
        offenders: list[str] = by_calls if failed else []
        if p.baseline_phase is not None:
            base_requests = run.requests_in(p.baseline_phase)
            base_calls = phase_calls(run, p.baseline_phase, joined)
            base_cost = _per_request(base_calls, len(base_requests))[1] if base_requests else 0.0
            details["baseline_cost_usd_per_request"] = round(base_cost, 10)
            if base_cost <= 0:
                why = f"no cost in baseline phase {p.baseline_phase} ({len(base_requests)} requests)"
                return cannot_evaluate(name, head, expected, f"{observed}; {why}", details)
            ratio = cost / base_cost
            details["cost_ratio"] = ratio
            observed += f"; cost per request {ratio:.3g}x phase {p.baseline_phase}"
            if p.max_cost_ratio is not None and ratio > p.max_cost_ratio:
                failed = True
                offenders = offenders + by_cost
        verdict: Verdict = "fail" if failed else "pass"
        return ClauseResult(name, head, expected, observed, verdict, first_ids(offenders), details)
