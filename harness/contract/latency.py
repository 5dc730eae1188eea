"""`latency`: percentiles of E2E, TTFT and ITL stay within their bounds (milliseconds).

Figures follow `harness.analysis.METRIC_DEFINITIONS`: measured from the scheduled send time in
open loop, percentiles by linear interpolation over the raw samples. Only answered requests
(2xx, no transport error) are samples unless `include_errors`: a fast 503 is not a fast answer,
and failures have their own clause (`error_rate`). With `include_errors`, every request that
ended (errors and timeouts included, at the time they ended) is a sample. Offenders are the
slowest requests over a bound that was exceeded.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.analysis import answered, join, latency_samples, percentiles, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, ms, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.record import Run

# Bound field -> (metric, percentile)
BOUNDS: dict[str, tuple[str, float]] = {
    "p50_ms": ("e2e", 50),
    "p95_ms": ("e2e", 95),
    "p99_ms": ("e2e", 99),
    "ttft_p50_ms": ("ttft", 50),
    "ttft_p95_ms": ("ttft", 95),
    "ttft_p99_ms": ("ttft", 99),
    "itl_p50_ms": ("itl", 50),
    "itl_p95_ms": ("itl", 95),
    "itl_p99_ms": ("itl", 99),
}


class LatencyParams(ClauseParams):
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")
    p50_ms: float | None = Field(default=None, gt=0, description="E2E p50 bound")
    p95_ms: float | None = Field(default=None, gt=0, description="E2E p95 bound")
    p99_ms: float | None = Field(default=None, gt=0, description="E2E p99 bound")
    ttft_p50_ms: float | None = Field(default=None, gt=0)
    ttft_p95_ms: float | None = Field(default=None, gt=0)
    ttft_p99_ms: float | None = Field(default=None, gt=0)
    itl_p50_ms: float | None = Field(default=None, gt=0)
    itl_p95_ms: float | None = Field(default=None, gt=0)
    itl_p99_ms: float | None = Field(default=None, gt=0)
    include_errors: bool = Field(default=False, description="count failed requests as samples too")

    @model_validator(mode="after")
    def _some_bound(self) -> LatencyParams:
        if not self.bounds():
            raise ValueError(f"give at least one bound: {', '.join(BOUNDS)}")
        return self

    def bounds(self) -> dict[str, float]:
        return {f: v for f in BOUNDS if (v := getattr(self, f)) is not None}


def _label(bound: str) -> str:
    metric, q = BOUNDS[bound]
    return f"{'' if metric == 'e2e' else metric + ' '}p{q:g}"


@register
class Latency(Clause):
    name = "latency"
    Params = LatencyParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, LatencyParams)
        name, head = self.name, title(self.name, p.phase)
        bounds = p.bounds()
        expected = ", ".join(f"{_label(b)} <= {v:g} ms" for b, v in bounds.items())
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        requests = run.requests_in(p.phase)
        if not requests:
            return cannot_evaluate(name, head, expected, "no request was sent")
        counted = (
            [r for r in requests if r.end_s is not None]
            if p.include_errors
            else list(filter(answered, requests))
        )
        samples = latency_samples(run, counted, join(run))
        details: dict[str, Any] = {
            "requests": len(requests),
            "samples": len(counted),
            "excluded": len(requests) - len(counted),
            "counted": "every request that ended" if p.include_errors else "answered requests (2xx) only",
        }
        for metric in ("e2e", "ttft", "itl"):
            figures = percentiles((s for s, _ in samples.of(metric)), (50, 95, 99))
            details[metric] = {f"p{q:g}_ms": ms(v) for q, v in figures.items()}
        observed_parts: list[str] = []
        offenders: list[str] = []
        missing: list[str] = []
        failed = False
        for bound, limit in bounds.items():
            metric, q = BOUNDS[bound]
            value = details[metric][f"p{q:g}_ms"]
            if value is None:
                missing.append(_label(bound))
                continue
            observed_parts.append(f"{_label(bound)} {value:g} ms")
            if value > limit:
                failed = True
                slow = sorted((s for s in samples.of(metric) if s[0] * 1000 > limit), reverse=True)
                offenders.extend(rid for _, rid in slow)
        details["bounds"] = bounds
        observed = "; ".join(observed_parts)
        if missing:
            of = f"{len(counted)}" if p.include_errors else f"{len(counted)} answered"
            gap = f"no {', '.join(missing)} sample among {of} (TTFT and ITL need a streamed target)"
            observed = f"{observed}; {gap}" if observed else gap
            if not failed:
                return cannot_evaluate(name, head, expected, observed, details)
        else:
            observed += f" ({len(counted)} samples)"
        verdict: Verdict = "fail" if failed else "pass"
        return ClauseResult(name, head, expected, observed, verdict, first_ids(offenders), details)
