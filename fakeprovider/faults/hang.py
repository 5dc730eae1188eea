"""`hang`: accept the request and send nothing, for `after_s` seconds or until the caller leaves."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fakeprovider.faults.base import Answer, FaultContext, FaultKind, FaultParams, Hold, register


class HangParams(FaultParams):
    kind: Literal["hang"] = "hang"
    after_s: float | None = Field(default=None, gt=0, description="answer after N s; absent: never")


@register
class Hang(FaultKind):
    name = "hang"
    Params = HangParams

    def answer(self, ctx: FaultContext) -> Answer | None:
        p = self.params
        assert isinstance(p, HangParams)
        return Hold(p.after_s)
