"""`slow`: re-time the answer: time to first token, delay between tokens, jitter.

Applies to streamed answers (chunks arrive paced) and non-streamed ones (the whole answer
arrives after the sum)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.generation.plan import Plan


class SlowParams(FaultParams):
    kind: Literal["slow"] = "slow"
    ttft_ms: float | None = Field(default=None, ge=0)
    inter_token_ms: float | None = Field(default=None, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)


@register
class Slow(FaultKind):
    name = "slow"
    Params = SlowParams

    def applies(self, ctx: FaultContext) -> bool:
        return ctx.req is not None

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        p = self.params
        assert isinstance(p, SlowParams)
        rng = ctx.rng
        jitter = p.jitter_ms / 1000

        def jittered(base: float) -> float:
            return max(0.0, base + rng.uniform(-jitter, jitter)) if jitter else base

        delays = list(plan.delays)
        for i in range(len(delays)):
            if i == 0 and p.ttft_ms is not None:
                delays[0] = jittered(p.ttft_ms / 1000)
            elif i > 0 and p.inter_token_ms is not None:
                delays[i] = jittered(p.inter_token_ms / 1000)
        if not delays and p.ttft_ms is not None:
            return replace(plan, tail_delay=jittered(p.ttft_ms / 1000))
        return replace(plan, delays=delays)
