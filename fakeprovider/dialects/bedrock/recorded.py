"""A recorded Converse answer read back as neutral events (`read_answer`, for replay).

A whole `ConverseResponse`: `output.message.content`'s `text` blocks cut into token pieces,
each `toolUse` a call with its `input` as arguments (a string input kept as the string it is),
all at the answer's end. A stream (the event stream's messages as recorded: `event` the
`:event-type`, `data` the JSON payload): each `contentBlockDelta` text or `toolUse.input` a
piece at its offset, a `contentBlockStart` naming a tool a call's start; `reasoningContent` is
not content. The finish is `stopReason`, the usage `usage` (or the stream's `metadata.usage`):
the prompt is `inputTokens` plus the cache reads and writes.
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
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}


def _usage(u: dict[str, Any], x: Exchange, where: str) -> Usage:
    fresh = count(u.get("inputTokens"), x, f"{where}.inputTokens")
    read = count(u.get("cacheReadInputTokens"), x, f"{where}.cacheReadInputTokens")
    written = count(u.get("cacheWriteInputTokens"), x, f"{where}.cacheWriteInputTokens")
    output = count(u.get("outputTokens"), x, f"{where}.outputTokens")
    return Usage(fresh + read + written, read, output, written)


def _args(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


class BedrockRecorded:
    """The replay side of `BedrockConverse`: recorded answers and event streams as neutral ones."""

    def read_answer(self, exchange: Exchange) -> RecordedAnswer:
        if exchange.response.events is not None:
            return _read_stream(exchange)
        return _read_body(exchange)


def _read_body(x: Exchange) -> RecordedAnswer:
    body = whole_body(x)
    message = obj(obj(body.get("output"), x, "output").get("message"), x, "output.message")
    blocks = message.get("content")
    if not isinstance(blocks, list):
        raise refuse(x, "output.message.content: expected a list of blocks")
    builder, end = builder_for(x), x.response.end_ms
    texts = [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]
    builder.text("".join(texts), end, split=True)  # one message, one text: as it renders
    for i, block in enumerate(blocks):
        use = obj(block, x, f"output.message.content.{i}").get("toolUse")
        if isinstance(use, dict):
            builder.call(i, str(use.get("toolUseId", "")), str(use.get("name", "")), end)
            builder.args(i, _args(use.get("input", {})), end, split=True)
    usage = _usage(obj(body.get("usage"), x, "usage"), x, "usage")
    finish = finish_of(FINISH, body.get("stopReason"), x, "stopReason")
    return builder.build(finish, usage, end, ResponseMeta("", 0, ""))


def _read_stream(x: Exchange) -> RecordedAnswer:
    builder = builder_for(x)
    usage: Usage | None = None
    reason: Any = None
    for n, e in enumerate(stream_events(x)):
        if not isinstance(e.data, dict):
            continue
        data, where, t = e.data, f"response.events.{n}.data", e.t_ms
        if e.event == "contentBlockStart":
            use = obj(data.get("start"), x, f"{where}.start").get("toolUse")
            if isinstance(use, dict):
                key = data.get("contentBlockIndex")
                builder.call(key, str(use.get("toolUseId", "")), str(use.get("name", "")), t)
        elif e.event == "contentBlockDelta":
            delta = obj(data.get("delta"), x, f"{where}.delta")
            if isinstance(delta.get("text"), str):
                builder.text(delta["text"], t)  # the empty piece opening an empty answer is none
            elif isinstance(delta.get("toolUse"), dict):
                builder.args(data.get("contentBlockIndex"), _args(delta["toolUse"].get("input", "")), t)
        elif e.event == "messageStop":
            reason = data.get("stopReason")
        elif e.event == "metadata" and isinstance(data.get("usage"), dict):
            usage = _usage(data["usage"], x, f"{where}.usage")
    finish = finish_of(FINISH, reason, x, "stopReason")
    return builder.build(finish, usage, x.response.end_ms, ResponseMeta("", 0, ""))
