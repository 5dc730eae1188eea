"""`malformed_tool_call`: the model calls a tool badly: arguments that are not JSON, cut short,
missing a required field or of the wrong type, or a tool that does not exist."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import orjson

from fakeprovider.faults._corrupt import as_object, break_json, with_wrong_type, without_required
from fakeprovider.faults._edit import with_tool_args
from fakeprovider.faults.base import FaultContext, FaultKind, FaultParams, register
from fakeprovider.generation.plan import Plan, ToolCallStart


class MalformedToolCallParams(FaultParams):
    kind: Literal["malformed_tool_call"] = "malformed_tool_call"
    mode: Literal["invalid_json", "truncated_json", "unknown_tool", "missing_required", "wrong_type"] = (
        "invalid_json"
    )


@register
class MalformedToolCall(FaultKind):
    name = "malformed_tool_call"
    Params = MalformedToolCallParams

    def applies(self, ctx: FaultContext) -> bool:
        req = ctx.req
        if req is None or not req.tools or req.tool_choice == "none":
            return False
        return not (req.tool_choice == "auto" and req.after_tool_result)

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        p = self.params
        assert isinstance(p, MalformedToolCallParams)
        assert ctx.req is not None
        calls = plan.tool_calls()
        if not calls:
            return plan
        encoding = ctx.req.model.encoding
        _, name, args = calls[0]
        if p.mode == "unknown_tool":
            known = {t.name for t in ctx.req.tools}
            new_name = name + "_unknown"
            while new_name in known:
                new_name += "_x"
            events = [
                replace(e, name=new_name) if isinstance(e, ToolCallStart) and e.index == 0 else e
                for e in plan.events
            ]
            return replace(plan, events=events)
        if p.mode == "invalid_json":
            return with_tool_args(plan, 0, break_json(args), encoding)
        if p.mode == "truncated_json":
            return with_tool_args(plan, 0, args[: max(1, len(args) // 2)], encoding)
        value = as_object(args)
        schema = next((t.parameters for t in ctx.req.tools if t.name == name), {})
        broken = without_required(value, schema) if p.mode == "missing_required" else None
        if broken is None:
            # `wrong_type`, or a tool with no required field to leave out: the arguments must
            # still fail validation, so break a field's type.
            broken = with_wrong_type(value, schema)
        return with_tool_args(plan, 0, orjson.dumps(broken).decode(), encoding)
