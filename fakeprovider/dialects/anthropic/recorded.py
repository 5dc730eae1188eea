"""A recorded Anthropic message read back as neutral events (`read_answer`, for replay).

A whole message: its `text` blocks cut into token pieces, each `tool_use` block a call with its
`input` as arguments, all at the answer's end. A stream: each `text_delta` and
`input_json_delta` a piece at its recorded offset, a `tool_use` block's start a call's start;
`thinking` blocks, `ping`s and signatures are not content. `usage` is the message's
(`message_start`, then the `message_delta`'s output tokens); the prompt is `input_tokens` plus
the cache reads and writes.
"""

from __future__ import annotations

from typing import Any

import orjson

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import RecordedAnswer
from fakeprovider.replay.cassette import Exchange
from fakeprovider.replay.decode import builder_for, count, finish_of, obj, refuse, stream_events, whole_body

FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _usage(u: dict[str, Any], x: Exchange, where: str) -> Usage:
    """The prompt's tokens as Anthropic splits them: after the last breakpoint, read, written."""
    fresh = count(u.get("input_tokens"), x, f"{where}.input_tokens")
    read = count(u.get("cache_read_input_tokens"), x, f"{where}.cache_read_input_tokens")
    written = count(u.get("cache_creation_input_tokens"), x, f"{where}.cache_creation_input_tokens")
    split = u.get("cache_creation")
    w1h = count(split.get("ephemeral_1h_input_tokens"), x, f"{where}.cache_creation") if split else 0
    w5m = written - w1h if written >= w1h else 0
    output = count(u.get("output_tokens"), x, f"{where}.output_tokens")
    return Usage(fresh + read + written, read, output, w5m, w1h)


class AnthropicRecorded:
    """The replay side of `AnthropicMessages`: recorded bodies and streams as neutral answers."""

    def read_answer(self, exchange: Exchange) -> RecordedAnswer:
        if exchange.response.events is not None:
            return _read_stream(exchange)
        return _read_body(exchange)


def _read_body(x: Exchange) -> RecordedAnswer:
    body = whole_body(x)
    blocks = body.get("content")
    if not isinstance(blocks, list):
        raise refuse(x, "content: expected a list of blocks")
    builder, end = builder_for(x), x.response.end_ms
    texts = [str(b.get("text", "")) for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
    builder.text("".join(texts), end, split=True)  # one message, one text: as it renders
    for i, block in enumerate(blocks):
        b = obj(block, x, f"content.{i}")
        if b.get("type") == "tool_use":
            builder.call(i, str(b.get("id", "")), str(b.get("name", "")), end)
            builder.args(i, orjson.dumps(b.get("input", {})).decode(), end, split=True)
    usage = _usage(obj(body.get("usage"), x, "usage"), x, "usage")
    finish = finish_of(FINISH, body.get("stop_reason"), x, "stop_reason")
    return builder.build(finish, usage, end, ResponseMeta(str(body.get("id", "")), 0, ""))


def _read_stream(x: Exchange) -> RecordedAnswer:
    builder = builder_for(x)
    usage: Usage | None = None
    output: int | None = None
    reason: Any = None
    response_id = ""
    for n, e in enumerate(stream_events(x)):
        if e.comment is not None or not isinstance(e.data, dict):
            continue
        data, where, t = e.data, f"response.events.{n}.data", e.t_ms
        kind = data.get("type")
        if kind == "message_start":
            message = obj(data.get("message"), x, f"{where}.message")
            response_id = str(message.get("id", ""))
            usage = _usage(
                obj(message.get("usage"), x, f"{where}.message.usage"), x, f"{where}.message.usage"
            )
        elif kind == "content_block_start":
            block = obj(data.get("content_block"), x, f"{where}.content_block")
            if block.get("type") == "tool_use":
                builder.call(data.get("index"), str(block.get("id", "")), str(block.get("name", "")), t)
            elif block.get("type") == "text":
                builder.text(str(block.get("text", "")), t)
        elif kind == "content_block_delta":
            delta = obj(data.get("delta"), x, f"{where}.delta")
            if delta.get("type") == "text_delta":
                builder.text(str(delta.get("text", "")), t)
            elif delta.get("type") == "input_json_delta":
                builder.args(data.get("index"), str(delta.get("partial_json", "")), t)
        elif kind == "message_delta":
            reason = obj(data.get("delta"), x, f"{where}.delta").get("stop_reason")
            if isinstance(data.get("usage"), dict):
                output = count(data["usage"].get("output_tokens"), x, f"{where}.usage.output_tokens")
    if usage is None:
        raise refuse(x, "the stream has no message_start")
    if output is not None:
        usage.output_tokens = output
    finish = finish_of(FINISH, reason, x, "stop_reason")
    return builder.build(finish, usage, x.response.end_ms, ResponseMeta(response_id, 0, ""))
