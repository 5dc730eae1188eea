"""A streamed Responses API answer: typed SSE events, each with its `sequence_number`.

The order is the one the SDK's stream helper accumulates: `response.created` and
`response.in_progress` at once, then per output item `output_item.added`, its content part and
deltas, their `done` events, `output_item.done`, and last `response.completed` (or
`response.incomplete`). A text delta, sent once per token, is two byte strings built once per
answer around the JSON string of its text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import orjson

from fakeprovider.dialects.base import Chunk, ResponseMeta, Usage
from fakeprovider.dialects.openai_responses.body import (
    ResponsesMeta,
    call_item,
    final_json,
    message_item,
    remember,
    response_json,
    text_part,
)
from fakeprovider.dialects.openai_responses.request import ResponsesRequest
from fakeprovider.dialects.openai_responses.store import ResponseStore
from fakeprovider.dialects.openai_wire import SSE_KEEPALIVE, openai_error_json
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest


def event(meta: ResponsesMeta, kind: str, **fields: Any) -> bytes:
    """One SSE event of type `kind`, numbered next in the stream."""
    fields["type"] = kind
    fields["sequence_number"] = meta.sequence
    meta.sequence += 1
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(fields) + b"\n\n"


class _Items:
    """The output items of one stream: opened on their first event, closed before the next."""

    def __init__(self, meta: ResponsesMeta, plan: Plan) -> None:
        self.meta = meta
        self.text, self.calls = plan.content()
        self.open: int | None = None  # the call index open, or -1 for the message
        msg_id = meta.item_id("msg_").encode()
        self.delta_head = (
            b"event: response.output_text.delta\ndata: "
            b'{"type":"response.output_text.delta","item_id":"' + msg_id + b'","output_index":0,'
            b'"content_index":0,"logprobs":[],"delta":'
        )

    def open_message(self) -> bytes:
        meta = self.meta
        self.open = -1
        item = message_item(meta, None, "in_progress")
        return event(meta, "response.output_item.added", output_index=0, item=item) + event(
            meta, "response.content_part.added", **self._where(), part=text_part("")
        )

    def open_call(self, index: int) -> bytes:
        done = self.close()
        self.open = index
        item = call_item(self.meta, index, (*self.calls[index][:2], ""), "in_progress")
        return done + event(self.meta, "response.output_item.added", output_index=index, item=item)

    def text_delta(self, text: str) -> bytes:
        meta = self.meta
        seq = meta.sequence
        meta.sequence = seq + 1
        return self.delta_head + orjson.dumps(text) + b',"sequence_number":%d}\n\n' % seq

    def args_delta(self, index: int, text: str) -> bytes:
        item_id = self.meta.item_id("fc_", index)
        return event(
            self.meta,
            "response.function_call_arguments.delta",
            item_id=item_id,
            output_index=index,
            delta=text,
        )

    def close(self) -> bytes:
        """The `done` events of the item open, if any."""
        meta, index = self.meta, self.open
        self.open = None
        if index is None:
            return b""
        if index < 0:
            where = self._where()
            return (
                event(meta, "response.output_text.done", **where, text=self.text, logprobs=[])
                + event(meta, "response.content_part.done", **where, part=text_part(self.text))
                + event(
                    meta,
                    "response.output_item.done",
                    output_index=0,
                    item=message_item(meta, self.text, "completed"),
                )
            )
        call = self.calls[index]
        item = call_item(meta, index, call, "completed")
        return event(
            meta,
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            name=call[1],
            arguments=call[2],
        ) + event(meta, "response.output_item.done", output_index=index, item=item)

    def _where(self) -> dict[str, Any]:
        return {"item_id": self.meta.item_id("msg_"), "output_index": 0, "content_index": 0}


class ResponsesStream:
    """The streaming side of `OpenAIResponses`: a plan rendered as typed SSE events."""

    store: ResponseStore

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        """The stream's chunks in order; a cut plan (`ending` not complete) stops after its events."""
        r, m = cast(ResponsesRequest, req), cast(ResponsesMeta, meta)
        start = response_json(r, m, "in_progress", [], None)
        yield Chunk(
            0.0,
            event(m, "response.created", response=start) + event(m, "response.in_progress", response=start),
        )
        items = _Items(m, plan)
        delays = plan.delays
        for i, e in enumerate(plan.events):
            if e.__class__ is TextDelta:
                text = e.text
                opening = items.open_message() if items.open is None else b""
                data = opening + items.text_delta(text)
                yield Chunk(delays[i], data, e.tokens, content=bool(text))
            elif isinstance(e, ToolCallStart):
                yield Chunk(delays[i], items.open_call(e.index), 0, content=True)
            elif isinstance(e, ToolArgsDelta):
                yield Chunk(delays[i], items.args_delta(e.index, e.text), e.tokens, content=bool(e.text))
        if plan.ending != "complete":
            return
        opening = items.open_message() if not plan.events else b""
        final = final_json(r, plan, usage, m)
        done = "response.completed" if final["status"] == "completed" else "response.incomplete"
        tail = opening + items.close() + event(m, done, response=final)
        remember(self.store, r, (items.text, items.calls), m.response_id, orjson.dumps(final))
        yield Chunk(plan.tail_delay if plan.events else 0.0, tail)

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """`response.failed`, then the `error` event: its fields at the top level as documented,
        and nested under `error` as the API sends them (which is what makes the SDK raise)."""
        m = cast(ResponsesMeta, meta)
        body = openai_error_json(error)["error"]
        code, message = body["code"] or "server_error", body["message"]
        failure = {"code": code, "message": message}
        failed = response_json(cast(ResponsesRequest, req), m, "failed", [], None, error=failure)
        return event(m, "response.failed", response=failed) + event(
            m, "error", code=code, message=message, param=error.param, error=body
        )

    def keepalive(self) -> bytes | None:
        """An SSE comment line: no event, which the SDK's decoder skips."""
        return SSE_KEEPALIVE
