"""`correlation`: the route forwards the X-Request-Id it was sent to every provider call.

Without it the ledger cannot be joined to route requests: retry and budget clauses fall back to
fingerprints (which cannot tell a retry from a second identical request) and an incident cannot
be traced from a user's request to the calls it made. Measured as the share of provider calls
that carry one of the run's request ids; offenders are the provider's own ids of calls that
carry none. With `phase`, calls joined to a request count in that request's phase, others
by their start time.
"""

from __future__ import annotations

from pydantic import Field

from harness.analysis import join, phase_at, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import Run


class CorrelationParams(ClauseParams):
    min_call_share: float = Field(
        default=1.0, ge=0, le=1, description="share of provider calls carrying the route request's id"
    )
    phase: str | None = Field(default=None, description="only calls of this phase (default: all)")


@register
class Correlation(Clause):
    name = "correlation"
    Params = CorrelationParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, CorrelationParams)
        name, head = self.name, title(self.name, p.phase)
        expected = f">= {p.min_call_share:.0%} of provider calls carry the request's X-Request-Id"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        joined = join(run)
        correlated = [c for cs in joined.by_request.values() for c in cs]
        loose = joined.unjoined
        if p.phase is not None:
            phase_of = {r.id: r.phase for r in run.requests}
            correlated = [c for c in correlated if phase_of[c.request_id] == p.phase]
            loose = [c for c in loose if phase_at(run, c.ts_start) == p.phase]
        total = len(correlated) + len(loose)
        if not total:
            return cannot_evaluate(name, head, expected, "no provider call in this phase")
        share = len(correlated) / total
        details = {"calls": total, "calls_correlated": len(correlated), "call_share": share}
        observed = f"{len(correlated)} of {total} calls correlated ({share:.1%})"
        verdict: Verdict = "pass" if share >= p.min_call_share else "fail"
        offenders = [] if verdict == "pass" else first_ids(c.request_id for c in loose)
        return ClauseResult(name, head, expected, observed, verdict, offenders, details)
