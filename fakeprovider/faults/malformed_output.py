"""`malformed_output`: structured output that is not JSON, JSON that breaks the schema, or an
empty answer."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import orjson

from fakeprovider.faults._corrupt import break_json, with_wrong_type, without_required
from fakeprovider.faults._edit import with_text
from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.generation.plan import Event, Plan, TextDelta


class MalformedOutputParams(FaultParams):
    kind: Literal["malformed_output"] = "malformed_output"
    mode: Literal["invalid_json", "schema_violation", "empty"] = "invalid_json"


@register
class MalformedOutput(FaultKind):
    name = "malformed_output"
    Params = MalformedOutputParams

    def applies(self, ctx: FaultContext) -> bool:
        p = self.params
        assert isinstance(p, MalformedOutputParams)
        if ctx.req is None:
            return False
        return p.mode == "empty" or ctx.req.output != "text"

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        p = self.params
        assert isinstance(p, MalformedOutputParams)
        assert ctx.req is not None
        encoding = ctx.req.model.encoding
        if p.mode == "empty":
            events: list[Event] = [e for e in plan.events if not isinstance(e, TextDelta)]
            return replace(plan, events=events, delays=plan.delays[: len(events)])
        text = plan.text()
        if p.mode == "invalid_json":
            return with_text(plan, break_json(text), encoding)
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict) or not value or ctx.req.output_schema is None:
            return with_text(plan, '["not", "the", "expected", "object"]', encoding)
        schema = ctx.req.output_schema
        broken = without_required(value, schema)
        if broken is None:
            broken = with_wrong_type(value, schema)
        return with_text(plan, orjson.dumps(broken).decode(), encoding)
