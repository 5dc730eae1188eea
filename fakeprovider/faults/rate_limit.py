"""`rate_limit`: answer 429, with retry-after in seconds, in ms, as an HTTP date, or absent
(the call's dialect writes the headers its provider sends)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fakeprovider.errors import ProviderError, RateLimited, RetryAfter
from fakeprovider.faults.base import Answer, FaultContext, FaultKind, FaultParams, register


class RateLimitParams(FaultParams):
    kind: Literal["rate_limit"] = "rate_limit"
    retry_after_s: float | None = Field(default=None, ge=0)
    retry_after_ms: int | None = Field(default=None, ge=0)
    retry_after_date: bool = False
    omit_retry_after: bool = False
    code: Literal["rate_limit_exceeded", "insufficient_quota"] = "rate_limit_exceeded"

    @model_validator(mode="after")
    def _one_form(self) -> RateLimitParams:
        if self.omit_retry_after and (
            self.retry_after_s is not None or self.retry_after_ms is not None or self.retry_after_date
        ):
            raise ValueError("omit_retry_after excludes retry_after_s, retry_after_ms and retry_after_date")
        if self.retry_after_ms is not None and (self.retry_after_s is not None or self.retry_after_date):
            raise ValueError("retry_after_ms excludes retry_after_s and retry_after_date")
        return self


@register
class RateLimit(FaultKind):
    name = "rate_limit"
    Params = RateLimitParams

    def answer(self, ctx: FaultContext) -> Answer | None:
        p = self.params
        assert isinstance(p, RateLimitParams)
        retry: RetryAfter | None = None
        if p.retry_after_ms is not None:
            retry = RetryAfter(p.retry_after_ms / 1000, "ms")
        elif not p.omit_retry_after:
            wait = 1.0 if p.retry_after_s is None else p.retry_after_s
            retry = RetryAfter(wait, "date" if p.retry_after_date else "exact")
        if p.code == "insufficient_quota":
            message = "You exceeded your current quota, please check your plan and billing details."
            return ProviderError(429, "quota", message, retry_after=retry)
        wait = 1.0 if retry is None else retry.seconds
        return ProviderError(429, "rate_limit", "", retry_after=retry, detail=RateLimited(ctx.model, wait))
