"""A streamed Converse answer: `ConverseStreamOutput` events in AWS event stream frames.

`messageStart`; per content block its deltas (a tool-use block opens with `contentBlockStart`
naming the tool; text blocks have none) and `contentBlockStop`; then `messageStop` with the stop
reason and `metadata` with usage and latency. A stream that fails mid-way ends with an
`exception` message (`:exception-type: throttlingException`, …), which botocore raises as an
`EventStreamError`.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from fakeprovider.dialects.base import Chunk, ResponseMeta, Usage
from fakeprovider.dialects.bedrock.body import STOP_REASON, latency_ms, tool_use_id, usage_json
from fakeprovider.dialects.bedrock.eventstream import event_headers, exception_headers, frame
from fakeprovider.dialects.bedrock.wire import bedrock_message, stream_exception
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

# Each event type's headers, encoded once: a frame is then its payload, two CRCs and a join.
_START = event_headers("messageStart")
_BLOCK_START = event_headers("contentBlockStart")
_DELTA = event_headers("contentBlockDelta")
_BLOCK_STOP = event_headers("contentBlockStop")
_STOP = event_headers("messageStop")
_METADATA = event_headers("metadata")
_MESSAGE_START = frame(_START, b'{"role":"assistant"}')
_INDEX = [str(i).encode() for i in range(64)]


def _index(i: int) -> bytes:
    return _INDEX[i] if i < 64 else str(i).encode()


def _block_stop(index: int) -> bytes:
    return frame(_BLOCK_STOP, b'{"contentBlockIndex":' + _index(index) + b"}")


class BedrockStream:
    """The streaming side of `BedrockConverse`: a plan rendered as event-stream frames."""

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        """The stream's frames in order; a cut plan (`ending` not complete) stops after its events."""
        yield Chunk(0.0, _MESSAGE_START)
        index = -1
        open_kind: type | None = None
        for i, event in enumerate(plan.events):
            delay = plan.delays[i]
            kind = TextDelta if event.__class__ is TextDelta else ToolCallStart
            if event.__class__ is ToolCallStart or open_kind is not kind:
                if open_kind is not None:
                    yield Chunk(0.0, _block_stop(index))
                index += 1
                open_kind = kind
            if isinstance(event, TextDelta):
                payload = (
                    b'{"contentBlockIndex":'
                    + _index(index)
                    + b',"delta":{"text":'
                    + orjson.dumps(event.text)
                    + b"}}"
                )
                yield Chunk(delay, frame(_DELTA, payload), event.tokens, content=bool(event.text))
            elif isinstance(event, ToolCallStart):
                start = {
                    "contentBlockIndex": index,
                    "start": {"toolUse": {"toolUseId": tool_use_id(event.call_id), "name": event.name}},
                }
                yield Chunk(delay, frame(_BLOCK_START, orjson.dumps(start)))
            elif isinstance(event, ToolArgsDelta):
                delta = {"contentBlockIndex": index, "delta": {"toolUse": {"input": event.text}}}
                yield Chunk(delay, frame(_DELTA, orjson.dumps(delta)), event.tokens, content=bool(event.text))
        if plan.ending != "complete":
            return
        if open_kind is None:
            index = 0
            yield Chunk(0.0, frame(_DELTA, b'{"contentBlockIndex":0,"delta":{"text":""}}'))
        yield Chunk(plan.tail_delay, _block_stop(index))
        yield Chunk(0.0, frame(_STOP, b'{"stopReason":"' + STOP_REASON[plan.finish].encode() + b'"}'))
        metadata = {"usage": usage_json(usage), "metrics": {"latencyMs": latency_ms(plan)}}
        yield Chunk(0.0, frame(_METADATA, orjson.dumps(metadata)))

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """The `exception` message that ends the stream, in the shape of its exception."""
        name = stream_exception(error)
        body: dict[str, object] = {"message": bedrock_message(error)}
        if name == "modelStreamErrorException":
            body["originalStatusCode"] = error.status
            body["originalMessage"] = body["message"]
        return frame(exception_headers(name), orjson.dumps(body))

    def keepalive(self) -> bytes | None:
        """None: ConverseStream's AWS event stream has no keep-alive event, so a stalled Bedrock
        stream is silent (a `stall` fault's `keepalive_s` does nothing here)."""
        return None
