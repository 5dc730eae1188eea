"""`stall`: the stream stays open and goes silent part-way, resuming after `for_s` or never.

Streamed, the answer pauses once `after_tokens` output tokens went out (0: right after the
headers; an answer shorter than that pauses before its end), sending only the protocol's
keep-alive every `keepalive_s` where the protocol has one (serving asks the dialect for it).
Silence that keeps the connection alive defeats read timeouts that guard only the first byte,
or that any byte resets. Not streamed, there is nothing to pause mid-way: the whole answer is
held back for `for_s`, then sent (absent: never, as `hang`). Stalled time bills no tokens.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from fakeprovider.faults.base import Answer, FaultContext, FaultKind, FaultParams, Hold, register
from fakeprovider.generation.plan import Plan, Stall

MAX_STALL_S = 3600.0  # an hour: longer than any client waits
MIN_KEEPALIVE_S = 0.01  # a keep-alive is a trickle, never a flood
MAX_KEEPALIVE_S = 300.0


class StallParams(FaultParams):
    kind: Literal["stall"] = "stall"
    after_tokens: int = Field(default=0, ge=0, strict=True, description="output tokens before the stall")
    for_s: float | None = Field(
        default=None, gt=0, le=MAX_STALL_S, allow_inf_nan=False, description="resume after N s; absent: never"
    )
    keepalive_s: float | None = Field(
        default=None,
        ge=MIN_KEEPALIVE_S,
        le=MAX_KEEPALIVE_S,
        allow_inf_nan=False,
        description="send the protocol's keep-alive every N s while stalled; absent: none",
    )


@register
class StallFault(FaultKind):
    name = "stall"
    Params = StallParams

    def applies(self, ctx: FaultContext) -> bool:
        return ctx.req is not None

    def answer(self, ctx: FaultContext) -> Answer | None:
        p = self.params
        assert isinstance(p, StallParams)
        assert ctx.req is not None
        return None if ctx.req.stream else Hold(p.for_s)

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        p = self.params
        assert isinstance(p, StallParams)
        assert ctx.req is not None
        if not ctx.req.stream:
            return plan  # held back whole in `answer`
        after = min(p.after_tokens, plan.output_tokens)
        return replace(plan, stall=Stall(after, p.for_s, p.keepalive_s))
