"""The non-streamed Anthropic message, and the message object a stream opens with.

Apart from the stream encoder because a whole message is one object built from the plan's
joined content; the stream's `message_start` carries the same object, empty, so both are made
by `message_object` here.
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
    "content_filter": "refusal",
}


def message_object(
    meta: ResponseMeta,
    model: str,
    content: list[dict[str, Any]],
    stop_reason: str | None,
    usage: Usage,
    output_tokens: int,
) -> dict[str, Any]:
    """A message with `content`; `usage` bills the prompt, `output_tokens` the reply so far."""
    return {
        "id": meta.response_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            # Anthropic's input_tokens are the prompt's tokens after the last cache breakpoint:
            # neither read from the cache nor written to it.
            "input_tokens": usage.input_tokens - usage.cached_tokens - usage.written_5m - usage.written_1h,
            "cache_creation_input_tokens": usage.written_5m + usage.written_1h,
            "cache_read_input_tokens": usage.cached_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": usage.written_5m,
                "ephemeral_1h_input_tokens": usage.written_1h,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }


class AnthropicBody:
    """The whole-body side of `AnthropicMessages`: a plan rendered as one message."""

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        text, calls = plan.content()
        if text or not calls:
            content.append({"type": "text", "text": text})
        for cid, name, args in calls:
            try:
                value = orjson.loads(args) if args else {}
            except orjson.JSONDecodeError:
                value = {}
            content.append({"type": "tool_use", "id": cid, "name": name, "input": value})
        return message_object(
            meta, req.model.id, content, STOP_REASON[plan.finish], usage, usage.output_tokens
        )

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        return orjson.dumps(self.render_json(req, plan, usage, meta))
