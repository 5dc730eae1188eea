"""`partial`: cut the answer after N tokens, ending it the way a failing provider does.

`drop` closes the connection without a terminator, `reset` resets it (TCP RST), `error_event`
ends with the error the call's dialect fails with mid-answer (its own frame on a stream, an
error answer otherwise), `length` ends normally with `finish_reason: length`. Only the tokens
sent are billed."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from fakeprovider.faults._edit import cut_after_tokens
from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.generation.plan import Plan


class PartialParams(FaultParams):
    kind: Literal["partial"] = "partial"
    after_tokens: int = Field(default=10, ge=0)
    mode: Literal["drop", "reset", "error_event", "length"] = "drop"


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
        return replace(cut, ending=p.mode, cut=True)
