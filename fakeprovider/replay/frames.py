"""A recorded stream's bytes split into events, each stamped with when its last byte arrived.

The recording proxy keeps each chunk as it came with its arrival time and splits them here after
the stream has ended (off the caller's path): Server-Sent Events (`event:`, `data:`, multi-line
`data`, `:` comments) and the AWS event stream of Bedrock's `converse-stream`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from fakeprovider.dialects.bedrock.eventstream import Decoder, EventStreamError
from fakeprovider.replay.cassette import RecordedEvent

# (arrival in ms from the request's start, the bytes)
Chunk = tuple[float, bytes]


def json_or_text(text: str) -> Any:
    """`text` parsed where it is JSON (objects, arrays, numbers …), else the text itself."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def sse_events(chunks: Iterable[Chunk]) -> list[RecordedEvent]:
    """The SSE events of a stream. An event is stamped when the blank line ending it arrived; a
    comment when its line did. Lines end in `\n` or `\r\n`; `id:` and `retry:` are not kept.
    An event the stream ended without finishing (no blank line) is kept: it is what arrived."""
    events: list[RecordedEvent] = []
    rest = b""
    t_ms = 0.0
    for t_ms, chunk in chunks:
        buf = rest + chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        blocks = buf.split(b"\n\n")
        rest = blocks.pop()
        for block in blocks:
            if block.startswith(b"data: ") and b"\n" not in block:  # most events: one data line
                events.append(RecordedEvent(t_ms, None, json_or_text(block[6:].decode("utf-8", "replace"))))
            elif block:
                _block(block, t_ms, events)
    if rest.strip(b"\r\n"):
        _block(rest.strip(b"\r\n"), t_ms, events)
    return events


def _block(block: bytes, t_ms: float, events: list[RecordedEvent]) -> None:
    """One event's lines (no blank line among them): its comments, then the event if it has a
    name or data."""
    name: str | None = None
    data: list[str] = []
    for raw in block.split(b"\n"):
        field, colon, value = raw.decode("utf-8", "replace").partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if not field:
            events.append(RecordedEvent(t_ms, comment=value))
        elif field == "data":
            data.append(value)
        elif field == "event":
            name = value
    if data or name is not None:
        events.append(RecordedEvent(t_ms, name, json_or_text("\n".join(data)) if data else None))


def eventstream_events(chunks: Iterable[Chunk]) -> list[RecordedEvent]:
    """The messages of an AWS event stream: `event` its `:event-type` (an exception's
    `:exception-type`), `data` its JSON payload. Undecodable bytes end the list there, with a
    comment saying what was wrong."""
    decoder = Decoder()
    events: list[RecordedEvent] = []
    for t_ms, chunk in chunks:
        try:
            messages = decoder.feed(chunk)
        except EventStreamError as e:
            events.append(RecordedEvent(t_ms, comment=f"not an AWS event stream from here: {e}"))
            return events
        for headers, payload in messages:
            kind = headers.get(":event-type", headers.get(":exception-type"))
            text = payload.decode("utf-8", "replace")
            events.append(RecordedEvent(t_ms, kind if isinstance(kind, str) else None, json_or_text(text)))
    return events
