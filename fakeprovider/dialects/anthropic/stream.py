"""A streamed Anthropic message: the full event sequence, as Anthropic sends it.

Apart from the whole-body renderer because a stream is a timed sequence (each `Chunk` carries
its delay and the tokens it bills) with its own grammar: `message_start`, a `ping` after the
first block opens, each content block opened, filled by deltas and stopped, then
`message_delta` and `message_stop`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from fakeprovider.dialects.anthropic.body import STOP_REASON, message_object
from fakeprovider.dialects.anthropic.wire import anthropic_error_json
from fakeprovider.dialects.base import Chunk, ResponseMeta, Usage
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

# Sent after the first block opens, and as the keep-alive of a silent stream.
PING = b'event: ping\ndata: {"type": "ping"}\n\n'


class AnthropicStream:
    """The streaming side of `AnthropicMessages`: a plan rendered as SSE events."""

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        """The stream's events in order; a cut plan (`ending` not complete) stops after its events."""
        start = {"type": "message_start", "message": message_object(meta, req.model.id, [], None, usage, 1)}
        yield Chunk(0.0, _event("message_start", start))
        index = -1
        open_kind: str | None = None
        pending = 0.0
        for i, event in enumerate(plan.events):
            delay = plan.delays[i] + pending
            pending = 0.0
            kind = "text" if isinstance(event, TextDelta) else "tool_use"
            if isinstance(event, ToolCallStart) or open_kind != kind:
                if open_kind is not None:
                    yield Chunk(
                        0.0,
                        _event("content_block_stop", {"type": "content_block_stop", "index": index}),
                    )
                index += 1
                open_kind = kind
                block: dict[str, Any] = (
                    {"type": "tool_use", "id": event.call_id, "name": event.name, "input": {}}
                    if isinstance(event, ToolCallStart)
                    else {"type": "text", "text": ""}
                )
                yield Chunk(
                    delay,
                    _event(
                        "content_block_start",
                        {"type": "content_block_start", "index": index, "content_block": block},
                    ),
                )
                delay = 0.0
                if index == 0:
                    yield Chunk(0.0, PING)
                if isinstance(event, ToolCallStart):
                    continue
            if isinstance(event, TextDelta):
                delta = {"type": "text_delta", "text": event.text}
            elif isinstance(event, ToolArgsDelta):
                delta = {"type": "input_json_delta", "partial_json": event.text}
            else:
                continue
            data = _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
            yield Chunk(delay, data, event.tokens, content=bool(event.text))
        if plan.ending != "complete":
            return
        if open_kind is None:
            yield Chunk(
                0.0,
                _event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                ),
            )
            index = 0
        yield Chunk(
            plan.tail_delay,
            _event("content_block_stop", {"type": "content_block_stop", "index": index}),
        )
        delta_body = {
            "type": "message_delta",
            "delta": {"stop_reason": STOP_REASON[plan.finish], "stop_sequence": None},
            "usage": {"output_tokens": usage.output_tokens},
        }
        yield Chunk(0.0, _event("message_delta", delta_body))
        yield Chunk(0.0, b'event: message_stop\ndata: {"type":"message_stop"}\n\n')

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """The mid-stream `error` event, in Anthropic's error shape."""
        return _event("error", anthropic_error_json(error))

    def keepalive(self) -> bytes | None:
        """Anthropic's `ping` event, which its SDK skips."""
        return PING


def _event(name: str, body: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"
