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
from dataclasses import dataclass
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
from fakeprovider.generation.plan import Plan, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

_END = b"\r\n\r\n"


@dataclass(slots=True)
class _Call:
    """A function call gathered from its argument pieces: sent whole, when they are all in."""

    name: str
    args: list[str]
    tokens: int
    delay: float

    def chunk(self, tail: bytes, carried: int, lag: float) -> Chunk | None:
        """Its chunk (with what a malformed call before it carried), or None if malformed."""
        part = function_call_part(self.name, "".join(self.args))
        if part is None:
            return None
        head = orjson.dumps({"candidates": [{"content": {"parts": [part], "role": "model"}, "index": 0}]})
        data = b"data: " + head[:-1] + b"," + tail[1:] + _END
        return Chunk(self.delay + lag, data, self.tokens + carried, content=True)


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
        call: _Call | None = None  # the function call being gathered
        carried, lag = 0, 0.0  # tokens and wait of a malformed call, sent with the next chunk
        for i, event in enumerate(plan.events):
            delay = plan.delays[i]
            if isinstance(event, ToolArgsDelta):
                if call is not None:
                    call.args.append(event.text)
                    call.tokens += event.tokens
                    call.delay += delay
                continue
            if call is not None:  # a text piece or the next call: the call before is whole
                chunk = call.chunk(tail, carried, lag)
                if chunk is None:
                    finish, carried, lag = MALFORMED, carried + call.tokens, lag + call.delay
                else:
                    yield chunk
                    carried, lag = 0, 0.0
                call = None
            if isinstance(event, ToolCallStart):
                call = _Call(event.name, [], 0, delay)
                continue
            data = text_head + orjson.dumps(event.text) + text_tail
            yield Chunk(delay + lag, data, event.tokens + carried, content=bool(event.text))
            carried, lag = 0, 0.0
        if plan.ending != "complete":
            return  # a call cut mid-arguments never went out: Gemini sends calls whole
        if call is not None:
            chunk = call.chunk(tail, carried, lag)
            if chunk is None:
                finish, carried, lag = MALFORMED, carried + call.tokens, lag + call.delay
            else:
                yield chunk
                carried, lag = 0, 0.0
        parts: list[dict[str, Any]] | None = [{"text": ""}]
        if finish in ("SAFETY", MALFORMED):
            parts = None
        last = {
            "candidates": [candidate(parts, finish)],
            "usageMetadata": usage_json(usage, usage.output_tokens),
            "modelVersion": req.model.id,
            "responseId": meta.response_id,
        }
        yield Chunk(plan.tail_delay + lag, b"data: " + orjson.dumps(last) + _END, carried)

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """The mid-stream error event: Google's error object as one more `data:` event."""
        return b"data: " + orjson.dumps(google_error_json(error, google_message(error))) + _END

    def keepalive(self) -> bytes | None:
        """None: Google sends nothing on a silent stream, and `google-genai` reads every line
        that is not `data:` as a piece of JSON (an SSE comment would make it fail)."""
        return None
