"""A streamed Gemini answer (`:streamGenerateContent?alt=sse`): one `GenerateContentResponse`
per SSE event, as Google sends them.

Each text piece is a chunk holding one candidate with one `text` part; Gemini sends a function
call whole, so a call's argument pieces are gathered and sent as one `functionCall` chunk. The
last chunk carries `finishReason` and the full `usageMetadata`. Events are `data: {...}` lines
ended by a blank line (`\r\n\r\n`, as Google writes them); there is no `[DONE]`. An error after
the 200 is one more event, `data: {"error": {...}}`, which the SDK raises as its `APIError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from fakeprovider.dialects.base import Chunk, ResponseMeta, Usage
from fakeprovider.dialects.gemini.body import (
    FINISH_REASON,
    MALFORMED,
    candidate,
    function_call_part,
    usage_json,
)
from fakeprovider.dialects.gemini.wire import google_error_json, google_message
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

_END = b"\r\n\r\n"


class GeminiStream:
    """The streaming side of `GeminiGenerate`: a plan rendered as SSE chunks."""

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        """The stream's chunks in order; a cut plan (`ending` not complete) stops after its events."""
        # Every text chunk is the same bytes around its text: built once per stream.
        tail = orjson.dumps(
            {
                "usageMetadata": usage_json(usage, None),
                "modelVersion": req.model.id,
                "responseId": meta.response_id,
            }
        )
        text_head = b'data: {"candidates":[{"content":{"parts":[{"text":'
        text_tail = b'}],"role":"model"},"index":0}],' + tail[1:] + _END
        finish = FINISH_REASON[plan.finish]
        call_name = ""
        call_args: list[str] = []
        call_tokens = 0
        call_delay = 0.0
        carried = 0  # tokens of a malformed call, billed on the next chunk
        open_call = False
        for i, event in enumerate(plan.events):
            delay = plan.delays[i]
            if event.__class__ is TextDelta:
                assert isinstance(event, TextDelta)
                if open_call:
                    chunk = self._call_chunk(call_name, call_args, call_delay, call_tokens, tail)
                    if chunk is None:
                        finish, carried = MALFORMED, carried + call_tokens
                    else:
                        yield chunk
                    open_call = False
                data = text_head + orjson.dumps(event.text) + text_tail
                yield Chunk(delay, data, event.tokens + carried, content=bool(event.text))
                carried = 0
            elif isinstance(event, ToolCallStart):
                if open_call:
                    chunk = self._call_chunk(call_name, call_args, call_delay, call_tokens, tail)
                    if chunk is None:
                        finish, carried = MALFORMED, carried + call_tokens
                    else:
                        yield chunk
                call_name, call_args, call_tokens, call_delay, open_call = event.name, [], 0, delay, True
            elif isinstance(event, ToolArgsDelta):
                call_args.append(event.text)
                call_tokens += event.tokens
                call_delay += delay
        if plan.ending != "complete":
            return  # a call cut mid-arguments never went out: Gemini sends calls whole
        if open_call:
            chunk = self._call_chunk(call_name, call_args, call_delay, call_tokens, tail)
            if chunk is None:
                finish, carried = MALFORMED, carried + call_tokens
            else:
                yield chunk
        parts: list[dict[str, Any]] | None = [{"text": ""}]
        if finish in ("SAFETY", MALFORMED):
            parts = None
        last = {
            "candidates": [candidate(parts, finish)],
            "usageMetadata": usage_json(usage, usage.output_tokens),
            "modelVersion": req.model.id,
            "responseId": meta.response_id,
        }
        yield Chunk(plan.tail_delay, b"data: " + orjson.dumps(last) + _END, carried)

    def _call_chunk(self, name: str, args: list[str], delay: float, tokens: int, tail: bytes) -> Chunk | None:
        part = function_call_part(name, "".join(args))
        if part is None:
            return None
        head = orjson.dumps({"candidates": [{"content": {"parts": [part], "role": "model"}, "index": 0}]})
        return Chunk(delay, b"data: " + head[:-1] + b"," + tail[1:] + _END, tokens, content=True)

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """The mid-stream error event: Google's error object as one more `data:` event."""
        return b"data: " + orjson.dumps(google_error_json(error, google_message(error))) + _END
