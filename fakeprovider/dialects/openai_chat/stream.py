"""A streamed OpenAI chat completion: the plan's events as `data:` chunks, then `[DONE]`.

Apart from the whole-body renderer because a stream is a timed sequence (each `Chunk` carries
its delay and the tokens it bills), and because this runs once per streamed piece: every chunk
is the same prefix and suffix around its delta, built once per answer as bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from fakeprovider.dialects.base import Chunk, ResponseMeta, Usage
from fakeprovider.dialects.openai_chat.body import usage_json
from fakeprovider.dialects.openai_wire import SSE_KEEPALIVE, openai_error_json
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest


class OpenAIStream:
    """The streaming side of `OpenAIChat`: a plan rendered as SSE chunks."""

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        """The stream's chunks in order; a cut plan (`ending` not complete) stops after its events."""
        head = (
            b'data: {"id":"'
            + meta.response_id.encode()
            + b'","object":"chat.completion.chunk","created":'
            + str(meta.created).encode()
            + b',"model":'
            + orjson.dumps(req.model.id)
            + b',"service_tier":"default","system_fingerprint":"'
            + meta.fingerprint.encode()
            + b'","choices":[{"index":0,"delta":'
        )
        end = (b',"usage":null' if req.include_usage else b"") + b"}\n\n"
        tail = b',"logprobs":null,"finish_reason":null}]' + end
        delays = plan.delays
        first_delay = delays[0] if delays else plan.tail_delay
        events = plan.events
        if events and isinstance(events[0], ToolCallStart):
            # OpenAI opens a tool-call reply with the role and the first call in one chunk, and
            # `content: null` (the SDK's stream helper would otherwise report content "").
            role: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [_call_start(events[0])],
                "refusal": None,
            }
            yield Chunk(first_delay, head + orjson.dumps(role) + tail, 0, content=True)
        else:
            yield Chunk(first_delay, head + b'{"role":"assistant","content":"","refusal":null}' + tail)
        # A text chunk is these two around the JSON string of its text.
        text_head = head + b'{"content":'
        text_tail = b"}" + tail
        dumps = orjson.dumps
        for i, event in enumerate(events):
            delay = delays[i] if i else 0.0
            if isinstance(event, TextDelta):
                data = text_head + dumps(event.text) + text_tail
                yield Chunk(delay, data, event.tokens, content=bool(event.text))
            elif isinstance(event, ToolCallStart):
                if i == 0:
                    continue
                data = head + orjson.dumps({"tool_calls": [_call_start(event)]}) + tail
                yield Chunk(delay, data, 0, content=True)
            elif isinstance(event, ToolArgsDelta):
                delta = {"tool_calls": [{"index": event.index, "function": {"arguments": event.text}}]}
                yield Chunk(delay, head + orjson.dumps(delta) + tail, event.tokens, content=bool(event.text))
        if plan.ending != "complete":
            return
        finish = head + b'{},"logprobs":null,"finish_reason":"' + plan.finish.encode() + b'"}]' + end
        yield Chunk(plan.tail_delay if plan.events else 0.0, finish)
        if req.include_usage:
            body = {
                "id": meta.response_id,
                "object": "chat.completion.chunk",
                "created": meta.created,
                "model": req.model.id,
                "service_tier": "default",
                "system_fingerprint": meta.fingerprint,
                "choices": [],
                "usage": usage_json(usage),
            }
            yield Chunk(0.0, b"data: " + orjson.dumps(body) + b"\n\n")
        yield Chunk(0.0, b"data: [DONE]\n\n")

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """The mid-stream error chunk: OpenAI's error object on a `data:` line."""
        return b"data: " + orjson.dumps(openai_error_json(error)) + b"\n\n"

    def keepalive(self) -> bytes | None:
        """An SSE comment line: no event, which the SDK's decoder skips."""
        return SSE_KEEPALIVE


def _call_start(event: ToolCallStart) -> dict[str, Any]:
    return {
        "index": event.index,
        "id": event.call_id,
        "type": "function",
        "function": {"name": event.name, "arguments": ""},
    }
