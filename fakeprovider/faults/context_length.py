"""`context_length`: answer 400 `context_length_exceeded`, as if the prompt were too long."""

from __future__ import annotations

from typing import Literal

from fakeprovider.errors import context_length
from fakeprovider.faults.base import Answer, FaultContext, FaultKind, FaultParams, register


class ContextLengthParams(FaultParams):
    kind: Literal["context_length"] = "context_length"


@register
class ContextLength(FaultKind):
    name = "context_length"
    Params = ContextLengthParams

    def answer(self, ctx: FaultContext) -> Answer | None:
        window = ctx.context_window
        return context_length(ctx.model, window, window + max(1, ctx.input_tokens))
