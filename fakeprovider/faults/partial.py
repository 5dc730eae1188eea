"""`partial`: cut the answer after N tokens, ending it the way a failing provider does.

`drop` closes the connection without a terminator, `reset` resets it (TCP RST), `error_event`
sends the provider's own mid-stream error, `length` ends normally with `finish_reason: length`.
Only the tokens sent are billed."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from fakeprovider.faults._edit import cut_after_tokens
from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.plan import Plan
from fakeprovider.protocols.errors import ProviderError


class PartialParams(FaultParams):
    kind: Literal["partial"] = "partial"
    after_tokens: int = Field(default=10, ge=0)
    mode: Literal["drop", "reset", "error_event", "length"] = "drop"


def mid_stream_error(family: str) -> ProviderError:
    if family == "anthropic":
        return ProviderError(529, "overloaded", "Overloaded")
    return ProviderError(
        500, "server", "The server had an error while processing your request. Sorry about that!"
    )


@register
class Partial(FaultKind):
    name = "partial"
    Params = PartialParams

    def applies(self, ctx: FaultContext) -> bool:
        return ctx.req is not None

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        p = self.params
        assert isinstance(p, PartialParams)
        cut = cut_after_tokens(plan, p.after_tokens)
        if p.mode == "length":
            return replace(cut, finish="length")
        if p.mode == "error_event":
            return replace(cut, ending="error_event", error=mid_stream_error(ctx.family))
        return replace(cut, ending=p.mode)
