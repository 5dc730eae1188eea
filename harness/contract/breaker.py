"""`breaker`: once a model has been failing for `after_s`, the route as a whole slows its calls to
it down to `max_calls_per_s` (a circuit breaker or a shared backoff, not only a per-request cap).

The window runs from `after_s` into the phase to the phase's end. Every provider call to `model`
(the ledger's model, matched exactly) that started inside the window counts, whatever request
made it, joined or not. The verdict uses the mean rate over the window: calls / window length.
The busiest second (the most calls starting within any 1 s) is reported as a figure, and its
requests are the offenders when the clause fails.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from harness.analysis import join, phase_window_s, provider_calls, unit_id, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import Run


class BreakerParams(ClauseParams):
    phase: str = Field(description="the phase in which `model` fails")
    model: str = Field(min_length=1, description="the model id as the provider's ledger records it")
    after_s: float = Field(ge=0, description="seconds into the phase by which the route must back off")
    max_calls_per_s: float = Field(ge=0, description="calls per second to `model`, all requests together")


def busiest_second(starts: list[float]) -> tuple[int, int]:
    """(most calls starting within any 1 s, index of the first of them) over sorted `starts`."""
    best, first, lo = 0, 0, 0
    for hi, t in enumerate(starts):
        while t - starts[lo] >= 1.0:
            lo += 1
        if hi - lo + 1 > best:
            best, first = hi - lo + 1, lo
    return best, first


@register
class Breaker(Clause):
    name = "breaker"
    Params = BreakerParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, BreakerParams)
        name, head = self.name, title(self.name, p.phase)
        expected = f"<= {p.max_calls_per_s:g} calls/s to {p.model} from {p.after_s:g} s into the phase"
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        if not run.requests_in(p.phase):
            return cannot_evaluate(name, head, expected, f"no request was sent in phase {p.phase}")
        if not run.ledger:
            return cannot_evaluate(name, head, expected, "the provider recorded no call")
        calls = provider_calls(run)
        models = sorted({c.model for c in calls if c.model is not None})
        if p.model not in models:
            return cannot_evaluate(
                name, head, expected, f"no call to {p.model} in this run (models called: {', '.join(models)})"
            )
        window = phase_window_s(run, p.phase)
        assert window is not None
        start, end = window[0] + p.after_s, window[1]
        if end <= start:
            why = f"the phase lasts {window[1] - window[0]:g} s: nothing is left after {p.after_s:g} s"
            return cannot_evaluate(name, head, expected, why)
        inside = [c for c in calls if c.model == p.model and start <= c.ts_start <= end]
        length = end - start
        rate = len(inside) / length
        peak, first = busiest_second([c.ts_start for c in inside])
        joined = join(run)
        details: dict[str, Any] = {
            "calls": len(inside),
            "window_s": round(length, 6),
            "calls_per_s": rate,
            "busiest_second_calls": peak,
            "requests": len({unit_id(c, joined) for c in inside}),
            "calls_not_joined": sum(1 for c in inside if c.request_id not in joined.by_request),
        }
        observed = (
            f"{rate:.3g} calls/s ({len(inside)} calls in {length:.3g} s, "
            f"from {details['requests']} requests); busiest second {peak} calls"
        )
        failed = rate > p.max_calls_per_s
        offenders = [unit_id(c, joined) for c in inside[first : first + peak]] if failed else []
        verdict: Verdict = "fail" if failed else "pass"
        return ClauseResult(name, head, expected, observed, verdict, first_ids(offenders), details)
