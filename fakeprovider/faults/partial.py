"""`partial`: cut the answer after N tokens, ending it the way a failing provider does.

`drop` closes the connection without a terminator, `reset` resets it (TCP RST), `error_event`
sends the provider's own mid-stream error, `length` ends normally with `finish_reason: length`.
Only the tokens sent are billed."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from fakeprovider.errors import ProviderError
from fakeprovider.faults._edit import cut_after_tokens
from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.plan import Plan


class PartialParams(FaultParams):
    kind: Literal["partial"] = "partial"
    after_tokens: int = Field(default=10, ge=0)
    mode: Literal["drop", "reset", "error_event", "length"] = "drop"


def mid_stream_error(family: str, stream: bool = True) -> ProviderError:
    """The error a provider sends mid-stream; a non-streamed answer gets a 500 instead."""
    if family == "anthropic":
        if stream:
            return ProviderError(529, "overloaded", "Overloaded")
        return ProviderError(500, "server", "Internal server error")
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
            return replace(cut, finish="length", cut=True)
        if p.mode == "error_event":
            stream = ctx.req is None or ctx.req.stream
            return replace(cut, ending="error_event", error=mid_stream_error(ctx.family, stream), cut=True)
        return replace(cut, ending=p.mode, cut=True)
