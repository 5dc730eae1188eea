"""The non-streamed Converse answer: `output.message.content` (text, `toolUse`), `stopReason`,
`usage` and `metrics.latencyMs`, as `ConverseResponse` in botocore's service model.

Apart from the stream encoder because a whole answer is one object built from the plan's joined
content; the pieces both share (stop reasons, usage, tool-use ids) live here.
"""

from __future__ import annotations

from typing import Any

import orjson

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.generation.plan import FinishReason, Plan
from fakeprovider.generation.request import ChatRequest

STOP_REASON: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filtered",
}


def tool_use_id(call_id: str) -> str:
    """Bedrock's `tooluse_…` id for the plan's call id (`call_…`)."""
    return "tooluse_" + call_id.partition("_")[2]


def usage_json(usage: Usage) -> dict[str, int]:
    """`TokenUsage`: input tokens exclude the cache reads and writes, which are counted apart."""
    written = usage.written_5m + usage.written_1h
    fresh = usage.input_tokens - usage.cached_tokens - written
    return {
        "inputTokens": fresh,
        "outputTokens": usage.output_tokens,
        "totalTokens": fresh + usage.cached_tokens + written + usage.output_tokens,
        "cacheReadInputTokens": usage.cached_tokens,
        "cacheWriteInputTokens": written,
    }


def latency_ms(plan: Plan) -> int:
    """The answer's generation time as the plan schedules it (`metrics.latencyMs`)."""
    return round((sum(plan.delays) + plan.tail_delay) * 1000)


class BedrockBody:
    """The whole-body side of `BedrockConverse`: a plan rendered as one `ConverseResponse`."""

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        text, calls = plan.content()
        if text or not calls:
            content.append({"text": text})
        for cid, name, args in calls:
            try:
                value = orjson.loads(args) if args else {}
            except orjson.JSONDecodeError:
                value = args  # a malformed call reaches the caller as the string it is
            content.append({"toolUse": {"toolUseId": tool_use_id(cid), "name": name, "input": value}})
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": STOP_REASON[plan.finish],
            "usage": usage_json(usage),
            "metrics": {"latencyMs": latency_ms(plan)},
        }

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        return orjson.dumps(self.render_json(req, plan, usage, meta))
