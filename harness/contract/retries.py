"""`retries`: no route request makes more provider calls than `max_attempts_per_request`.

Attempts of a route request are the ledger records joined to it (request_id == the X-Request-Id
sent), so a fallback-model call counts as an attempt too. Calls of a route that does not
forward X-Request-Id are grouped by body fingerprint instead: that still counts SDK and route
retries of one provider request, but a fallback call (another body) becomes its own group.
Requests that made no provider call are not counted.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness.analysis import join, units, unknown_phase
from harness.contract._common import cannot_evaluate, counts, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import Run


class RetriesParams(ClauseParams):
    max_attempts_per_request: int = Field(ge=1, description="provider calls allowed per route request")
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")


@register
class Retries(Clause):
    name = "retries"
    Params = RetriesParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, RetriesParams)
        name, head = self.name, title(self.name, p.phase)
        expected = f"<= {p.max_attempts_per_request} provider attempts per request"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        counted = units(run, p.phase, joined)
        details: dict[str, Any] = {"coverage": joined.coverage.as_dict()}
        if not counted:
            return cannot_evaluate(name, head, expected, "no provider call in this phase", details)
        attempts = sorted(((len(u.calls), u.id) for u in counted), key=lambda a: -a[0])
        worst = attempts[0][0]
        over = [uid for n, uid in attempts if n > p.max_attempts_per_request]
        fingerprinted = sum(1 for u in counted if not u.correlated)
        details |= {
            "worst": worst,
            "distribution": counts(n for n, _ in attempts),
            "units": len(counted),
            "fingerprint_groups": fingerprinted,
            "over": len(over),
        }
        spread = ", ".join(f"{k}: {v}" for k, v in details["distribution"].items())
        observed = f"worst {worst} (requests by attempts {spread})"
        if over:
            observed += f"; {len(over)} over the cap"
        if fingerprinted:
            observed += f" ({fingerprinted} counted by fingerprint: X-Request-Id not forwarded)"
        verdict: Verdict = "fail" if over else "pass"
        return ClauseResult(name, head, expected, observed, verdict, first_ids(over), details)
