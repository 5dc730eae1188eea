"""A recorded Gemini answer read back as neutral events (`read_answer`, for replay).

A whole `GenerateContentResponse` (its text cut into token pieces) or each streamed one alike:
the first candidate's `text` parts are text pieces (empty ones, such as the last chunk's, are
not content; `thought` parts are not either), each `functionCall` part a call with its `args`
as arguments, at the offset of the chunk that held it. The finish is the last `finishReason`
(STOP with calls: `tool_calls`), the usage the last `usageMetadata` (the prompt including
`cachedContentTokenCount`; the output `candidatesTokenCount` plus `thoughtsTokenCount`, both
billed as output).
"""

from __future__ import annotations

from typing import Any

import orjson

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import RecordedAnswer
from fakeprovider.replay.cassette import Exchange
from fakeprovider.replay.decode import builder_for, count, finish_of, obj, stream_events, whole_body

# Google's finish reasons; the ones that withhold an answer for its content are `content_filter`.
FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
    "OTHER": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
    # Neutral plans have no malformed call: the answer asked for one, and that is its finish.
    "MALFORMED_FUNCTION_CALL": "tool_calls",
    "UNEXPECTED_TOOL_CALL": "tool_calls",
}


class _Reader:
    """The pieces, finish, usage and id gathered over one or more responses."""

    def __init__(self, x: Exchange) -> None:
        self.x = x
        self.builder = builder_for(x)
        self.calls = 0
        self.reason: str | None = None
        self.usage: Usage | None = None
        self.response_id = ""

    def add(self, response: dict[str, Any], t_ms: float, where: str, split: bool = False) -> None:
        x = self.x
        candidates = response.get("candidates")
        if isinstance(candidates, list) and candidates:
            first = obj(candidates[0], x, f"{where}.candidates.0")
            content = first.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            for i, part in enumerate(parts if isinstance(parts, list) else []):
                self._part(obj(part, x, f"{where}.candidates.0.content.parts.{i}"), t_ms, split)
            if isinstance(first.get("finishReason"), str):
                self.reason = first["finishReason"]
        meta = response.get("usageMetadata")
        if isinstance(meta, dict):
            u = f"{where}.usageMetadata"
            output = count(meta.get("candidatesTokenCount"), x, f"{u}.candidatesTokenCount")
            output += count(meta.get("thoughtsTokenCount"), x, f"{u}.thoughtsTokenCount")
            self.usage = Usage(
                count(meta.get("promptTokenCount"), x, f"{u}.promptTokenCount"),
                count(meta.get("cachedContentTokenCount"), x, f"{u}.cachedContentTokenCount"),
                output,
            )
        if isinstance(response.get("responseId"), str):
            self.response_id = response["responseId"]

    def _part(self, part: dict[str, Any], t_ms: float, split: bool) -> None:
        if part.get("thought"):
            return
        text = part.get("text")
        if isinstance(text, str):
            self.builder.text(text, t_ms, split=split)  # the last chunk's empty text is no content
        call = part.get("functionCall")
        if isinstance(call, dict):
            index = self.calls
            self.calls += 1
            given = call.get("id")
            call_id = given if isinstance(given, str) else f"call_{index}"
            self.builder.call(index, call_id, str(call.get("name", "")), t_ms)
            self.builder.args(index, orjson.dumps(call.get("args", {})).decode(), t_ms, split=split)

    def answer(self) -> RecordedAnswer:
        finish = finish_of(FINISH, self.reason, self.x, "finishReason")
        if finish == "stop" and self.calls:
            finish = "tool_calls"  # Gemini ends a function call turn with STOP
        meta = ResponseMeta(self.response_id, 0, "")
        return self.builder.build(finish, self.usage, self.x.response.end_ms, meta)


class GeminiRecorded:
    """The replay side of `GeminiGenerate`: recorded responses and streams as neutral answers."""

    def read_answer(self, exchange: Exchange) -> RecordedAnswer:
        reader = _Reader(exchange)
        if exchange.response.events is None:
            reader.add(whole_body(exchange), exchange.response.end_ms, "response.body", split=True)
            return reader.answer()
        for n, e in enumerate(stream_events(exchange)):
            if isinstance(e.data, dict) and e.comment is None:
                if "error" in e.data:
                    break  # the stream failed here: what came before is the answer
                reader.add(e.data, e.t_ms, f"response.events.{n}.data")
        return reader.answer()
