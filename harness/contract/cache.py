"""`cache`: the route reuses what it can, from the provider's prompt cache and from its own
response cache.

Prompt cache share = cached input tokens / input tokens, summed over the phase's provider calls
(those joined to its requests and those joined to none that started in its window; input tokens
as billed, cached included). Response cache share = the phase's requests answered `ok` (as
`error_rate` defines it) with no provider call joined to them / all the phase's requests. A
request with no joined call is a cache hit only if the route is traced: when any of the phase's
calls is not joined to a request (X-Request-Id not forwarded), the response share cannot be
judged (verdict `error`, naming the correlation coverage). Offenders are the requests that made
the most calls (response share) or whose calls had the lowest cached share (prompt share).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.analysis import join, phase_calls, unit_id, unknown_phase
from harness.contract._common import cannot_evaluate, first_ids, share, title
from harness.contract.base import Clause, ClauseParams, ClauseResult, Verdict, register
from harness.contract.error_rate import outcome
from harness.record import LedgerCall, Run


class CacheParams(ClauseParams):
    phase: str | None = Field(default=None, description="only requests of this phase (default: all)")
    min_prompt_cache_share: float | None = Field(
        default=None, ge=0, le=1, description="cached input tokens / input tokens"
    )
    min_response_cache_share: float | None = Field(
        default=None, ge=0, le=1, description="share of requests answered with no provider call"
    )

    @model_validator(mode="after")
    def _some_share(self) -> CacheParams:
        if self.min_prompt_cache_share is None and self.min_response_cache_share is None:
            raise ValueError("give at least one of `min_prompt_cache_share`, `min_response_cache_share`")
        return self


@register
class Cache(Clause):
    name = "cache"
    Params = CacheParams

    def evaluate(self, run: Run) -> ClauseResult:
        p = self.params
        assert isinstance(p, CacheParams)
        name, head = self.name, title(self.name, p.phase)
        parts = []
        if p.min_prompt_cache_share is not None:
            parts.append(f"prompt cache share >= {p.min_prompt_cache_share:.2%}")
        if p.min_response_cache_share is not None:
            parts.append(f"response cache share >= {p.min_response_cache_share:.2%}")
        expected = "; ".join(parts)
        if why := unknown_phase(run, p.phase):
            return cannot_evaluate(name, head, expected, why)
        requests = run.requests_in(p.phase)
        if not requests:
            return cannot_evaluate(name, head, expected, "no request was sent")
        joined = join(run)
        calls = phase_calls(run, p.phase, joined)
        details: dict[str, Any] = {"requests": len(requests), "calls": len(calls)}
        observed_parts: list[str] = []
        offenders: list[str] = []
        failed = False
        if p.min_prompt_cache_share is not None:
            input_tokens = sum(c.input_tokens for c in calls)
            cached = sum(c.cached_tokens for c in calls)
            if not input_tokens:
                why = f"no input tokens billed ({len(calls)} provider calls)"
                return cannot_evaluate(name, head, expected, why, details)
            prompt_share = cached / input_tokens
            details |= {
                "input_tokens": input_tokens,
                "cached_tokens": cached,
                "prompt_cache_share": prompt_share,
            }
            observed_parts.append(
                f"prompt cache share {prompt_share:.2%} ({cached} of {input_tokens} tokens)"
            )
            if prompt_share < p.min_prompt_cache_share:
                failed = True
                offenders += [unit_id(c, joined) for c in sorted(calls, key=_cached_share)]
        if p.min_response_cache_share is not None:
            unjoined = [c for c in calls if c.request_id not in joined.by_request]
            if unjoined:
                coverage = joined.coverage
                why = (
                    f"{len(unjoined)} of {len(calls)} provider calls not joined to a request "
                    f"(correlation: {coverage.calls_joined} of {coverage.calls} calls carry a request's "
                    "X-Request-Id): a request without a joined call need not be a cache hit"
                )
                details["coverage"] = coverage.as_dict()
                return cannot_evaluate(name, head, expected, why, details)
            hits = [r for r in requests if not joined.calls_of(r.id) and outcome(r) == "ok"]
            response_share = share(len(hits), len(requests))
            details |= {"answered_without_call": len(hits), "response_cache_share": response_share}
            observed_parts.append(
                f"response cache share {response_share:.2%} ({len(hits)} of {len(requests)} with no call)"
            )
            if response_share < p.min_response_cache_share:
                failed = True
                offenders += sorted(
                    (r.id for r in requests if joined.calls_of(r.id)),
                    key=lambda rid: -len(joined.calls_of(rid)),
                )
        verdict: Verdict = "fail" if failed else "pass"
        return ClauseResult(
            name, head, expected, "; ".join(observed_parts), verdict, first_ids(offenders), details
        )


def _cached_share(c: LedgerCall) -> float:
    return c.cached_tokens / c.input_tokens if c.input_tokens else 1.0
