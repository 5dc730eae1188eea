"""Reading a recorded chat completion back as neutral events: the replay side of `OpenAIChat`.

A whole completion's message (text, or tool calls) is cut into token pieces, all arriving when
the answer did; a stream's `data:` chunks give one event per content or tool-call delta, at the
time it arrived. Chunks with no choice (Azure's prompt-filter chunk, the usage chunk) carry no
event; the usage chunk, or the body's `usage`, gives the bill; the first chunk the ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import AnswerBuilder, RecordedAnswer, openai_usage
from fakeprovider.replay.decode import builder_for, stream_events, whole_body

if TYPE_CHECKING:
    from fakeprovider.replay.cassette import Exchange

_FINISHES: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def finish_of(value: Any, builder: AnswerBuilder) -> FinishReason:
    """A recorded finish reason as a plan's (an unknown one: `tool_calls` if it called, else `stop`)."""
    found = _FINISHES.get(value) if isinstance(value, str) else None
    return found or ("tool_calls" if builder.has_calls else "stop")


def usage_of(data: Any) -> Usage | None:
    """A chat completion's `usage` object as neutral usage, or None if it has none."""
    return openai_usage(data, "prompt_tokens", "completion_tokens")


def meta_of(data: dict[str, Any]) -> ResponseMeta | None:
    rid, created = data.get("id"), data.get("created")
    if not isinstance(rid, str) or not isinstance(created, int):
        return None
    fingerprint = data.get("system_fingerprint")
    return ResponseMeta(rid, created, fingerprint if isinstance(fingerprint, str) else "")


def _first_choice(data: dict[str, Any]) -> dict[str, Any] | None:
    choices = data.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                return choice
    return None


class OpenAIChatRecorded:
    """The replay side of `OpenAIChat` (and of Azure's chat, which adds only annotations)."""

    def read_answer(self, exchange: Exchange) -> RecordedAnswer:
        response = exchange.response
        builder = builder_for(exchange)
        if response.events is not None:
            stream_events(exchange)  # a 2xx stream, or refused naming the file
            return _read_stream(exchange, builder)
        body = whole_body(exchange)
        end = response.end_ms
        choice = _first_choice(body) or {}
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        assert isinstance(message, dict)
        calls = message.get("tool_calls")
        if isinstance(calls, list) and calls:
            for i, call in enumerate(calls):
                if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
                    continue
                function = call["function"]
                builder.call(i, str(call.get("id", "")), str(function.get("name", "")), end)
                arguments = function.get("arguments")
                if isinstance(arguments, str):
                    builder.args(i, arguments, end, split=True)
        else:
            content = message.get("content")
            if isinstance(content, str):
                builder.text(content, end, split=True)
        finish = finish_of(choice.get("finish_reason"), builder)
        return builder.build(finish, usage_of(body.get("usage")), end, meta_of(body))


def _read_stream(exchange: Exchange, builder: AnswerBuilder) -> RecordedAnswer:
    response = exchange.response
    assert response.events is not None
    meta: ResponseMeta | None = None
    usage: Usage | None = None
    finish_value: Any = None
    for event in response.events:
        data = event.data
        if not isinstance(data, dict):
            continue  # `[DONE]`, a comment
        usage = usage_of(data.get("usage")) or usage
        choice = _first_choice(data)
        if choice is None:
            continue  # Azure's prompt-filter chunk (no id of its own), the usage chunk
        if meta is None:
            meta = meta_of(data)
        t = event.t_ms
        delta = choice.get("delta")
        if isinstance(delta, dict):
            content = delta.get("content")
            if isinstance(content, str):
                builder.text(content, t)
            calls = delta.get("tool_calls")
            if isinstance(calls, list):
                for call in calls:
                    if not isinstance(call, dict):
                        continue
                    index = call.get("index", 0)
                    function = call.get("function") if isinstance(call.get("function"), dict) else {}
                    assert isinstance(function, dict)
                    if isinstance(call.get("id"), str):
                        builder.call(index, call["id"], str(function.get("name", "")), t)
                    arguments = function.get("arguments")
                    if isinstance(arguments, str):
                        builder.args(index, arguments, t)
        if choice.get("finish_reason") is not None:
            finish_value = choice["finish_reason"]
    return builder.build(finish_of(finish_value, builder), usage, response.end_ms, meta)
