"""Reading a recorded Responses API answer back as neutral events: the replay side of
`OpenAIResponses`.

A whole response's output items (messages' `output_text` parts, `function_call` items; reasoning
items carry nothing replayed) become events arriving when the answer did. A stream gives an event
per `response.output_text.delta`, per `function_call` item added and per arguments delta, at the
time it arrived; `response.created` gives the ids, `response.completed` (or `incomplete`,
`failed`) the usage and how it ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fakeprovider.dialects.base import Usage
from fakeprovider.dialects.openai_responses.body import ResponsesMeta
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import AnswerBuilder, RecordedAnswer, openai_usage
from fakeprovider.replay.decode import builder_for, stream_events, whole_body

if TYPE_CHECKING:
    from fakeprovider.replay.cassette import Exchange

_INCOMPLETE: dict[str, FinishReason] = {"max_output_tokens": "length", "content_filter": "content_filter"}
_ENDS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _usage(data: Any) -> Usage | None:
    return openai_usage(data, "input_tokens", "output_tokens")


def _meta(response: dict[str, Any]) -> ResponsesMeta | None:
    rid, created = response.get("id"), response.get("created_at")
    if not isinstance(rid, str) or not isinstance(created, int):
        return None
    return ResponsesMeta(rid, created, "")


def _finish(response: dict[str, Any], builder: AnswerBuilder) -> FinishReason:
    details = response.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    if response.get("status") == "incomplete" and isinstance(reason, str):
        return _INCOMPLETE.get(reason, "length")
    return "tool_calls" if builder.has_calls else "stop"


class ResponsesRecorded:
    """The replay side of `OpenAIResponses` (and of Azure's)."""

    def read_answer(self, exchange: Exchange) -> RecordedAnswer:
        response = exchange.response
        builder = builder_for(exchange)
        if response.events is not None:
            stream_events(exchange)  # a 2xx stream, or refused naming the file
            return _read_stream(exchange, builder)
        body = whole_body(exchange)
        end = response.end_ms
        output = body.get("output")
        for n, item in enumerate(output if isinstance(output, list) else []):
            if not isinstance(item, dict):
                continue
            if item.get("type") == "function_call":
                builder.call(n, str(item.get("call_id", "")), str(item.get("name", "")), end)
                arguments = item.get("arguments")
                if isinstance(arguments, str):
                    builder.args(n, arguments, end, split=True)
            elif item.get("type") == "message" and isinstance(item.get("content"), list):
                for part in item["content"]:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        builder.text(part["text"], end, split=True)
        return builder.build(_finish(body, builder), _usage(body.get("usage")), end, _meta(body))


def _read_stream(exchange: Exchange, builder: AnswerBuilder) -> RecordedAnswer:
    response = exchange.response
    assert response.events is not None
    meta: ResponsesMeta | None = None
    final: dict[str, Any] = {}
    for event in response.events:
        data = event.data
        if not isinstance(data, dict):
            continue
        kind, t = data.get("type"), event.t_ms
        if kind == "response.output_text.delta" and isinstance(data.get("delta"), str):
            builder.text(data["delta"], t)
        elif kind == "response.output_item.added":
            item = data.get("item")
            if isinstance(item, dict) and item.get("type") == "function_call":
                key = data.get("output_index")
                builder.call(key, str(item.get("call_id", "")), str(item.get("name", "")), t)
        elif kind == "response.function_call_arguments.delta" and isinstance(data.get("delta"), str):
            builder.args(data.get("output_index"), data["delta"], t)
        elif kind == "response.created" and isinstance(data.get("response"), dict):
            meta = _meta(data["response"])
        elif kind in _ENDS and isinstance(data.get("response"), dict):
            final = data["response"]
    usage = _usage(final.get("usage"))
    return builder.build(_finish(final, builder), usage, response.end_ms, meta)
