"""`rate_limit`: answer 429, with retry-after in seconds, in ms, as an HTTP date, or absent."""

from __future__ import annotations

import email.utils
import math
import time
from typing import Literal

from pydantic import Field, model_validator

from fakeprovider.errors import ProviderError
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


def _seconds_text(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


@register
class RateLimit(FaultKind):
    name = "rate_limit"
    Params = RateLimitParams

    def answer(self, ctx: FaultContext) -> Answer | None:
        p = self.params
        assert isinstance(p, RateLimitParams)
        headers: dict[str, str] = {}
        if p.retry_after_ms is not None:
            if ctx.family == "anthropic":
                headers["retry-after"] = str(math.ceil(p.retry_after_ms / 1000))
            else:
                headers["retry-after-ms"] = str(p.retry_after_ms)
            wait = p.retry_after_ms / 1000
        elif not p.omit_retry_after:
            wait = 1.0 if p.retry_after_s is None else p.retry_after_s
            if p.retry_after_date:
                headers["retry-after"] = email.utils.formatdate(time.time() + wait, usegmt=True)
            elif ctx.family == "anthropic":
                # Anthropic writes whole seconds only.
                headers["retry-after"] = str(math.ceil(wait))
            else:
                headers["retry-after"] = _seconds_text(wait)
                headers["retry-after-ms"] = str(round(wait * 1000))
        else:
            wait = 1.0
        if p.code == "insufficient_quota":
            message = "You exceeded your current quota, please check your plan and billing details."
            return ProviderError(429, "quota", message, code="insufficient_quota", headers=headers)
        message = (
            f"Rate limit reached for {ctx.model} on requests per min (RPM). "
            f"Please try again in {_seconds_text(round(wait, 3))}s."
        )
        if ctx.family == "anthropic":
            message = "Number of requests has exceeded your rate limit. Please try again later."
        return ProviderError(429, "rate_limit", message, code="rate_limit_exceeded", headers=headers)
