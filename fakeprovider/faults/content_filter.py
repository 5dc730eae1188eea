"""`content_filter`: stop the answer early as a provider's safety filter does
(`finish_reason: content_filter`; Anthropic `stop_reason: refusal`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.generation.plan import Plan


class ContentFilterParams(FaultParams):
    kind: Literal["content_filter"] = "content_filter"


@register
class ContentFilter(FaultKind):
    name = "content_filter"
    Params = ContentFilterParams

    def applies(self, ctx: FaultContext) -> bool:
        return ctx.req is not None

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        keep = len(plan.events) // 4
        return replace(plan, events=plan.events[:keep], delays=plan.delays[:keep], finish="content_filter")
