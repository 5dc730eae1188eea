"""Reading a target's answer into its `RequestRecord`: status, headers, a small JSON body, and
for server-sent events the arrival time of every chunk and of the first one with content.
The last `TAIL_BYTES` of a stream (or of a body not parsed as JSON) are kept as text, and how a
stream ended (`RequestRecord.stream_end`): by its protocol's terminator (`[DONE]`, Anthropic's
`message_stop`, the Responses API's `response.completed`), with an error event (`event: error`,
or a chunk whose `type` is `error` or that holds an `error` object), without its terminator
(a stream in one of those protocols), or in no known protocol ("open").

An SSE chunk is one event (its `data:` lines, ended by a blank line) with non-empty data other
than `[DONE]`; it arrives when the read that completes it does. Content is:
`choices[*].delta.content` for OpenAI-style chunks, the `text` of an Anthropic
`content_block_delta`, and any other non-empty data for streams in neither shape.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from harness.record import TAIL_BYTES, PhaseWindow, RequestRecord, StreamEnd

BODY_CAP = 64 * 1024  # larger bodies are counted, not kept
_DONE = b"[DONE]"
# Events of Anthropic's Messages stream; only content_block_delta carries text.
_ANTHROPIC = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)


async def read_response(
    resp: aiohttp.ClientResponse, record: RequestRecord, now: Callable[[], float], *, stream: bool
) -> None:
    """Fill `record` from `resp`; `now()` is seconds from load start. Read errors propagate."""
    record.status = resp.status
    record.headers = {k.lower(): v for k, v in resp.headers.items()}
    if stream and resp.content_type == "text/event-stream":
        events = EventStream(record)
        try:
            async for data in resp.content.iter_any():
                events.feed(data, now())
        finally:  # a stream that broke keeps what it delivered
            events.close(now())
            record.body_bytes = events.size
        return
    length = resp.content_length
    if length is not None and length <= BODY_CAP:
        body = await resp.read()
        record.body_bytes = len(body)
        last = body[-TAIL_BYTES:]
    else:
        body, record.body_bytes, last = await _read_capped(resp.content)
    if body and "json" in resp.content_type:
        try:
            record.body = orjson.loads(body)
        except orjson.JSONDecodeError:
            record.body = None
    if record.body is None and last:
        record.tail = tail_text(last)


def tail_text(last: bytes) -> str:
    """A body's last `TAIL_BYTES` as text: a character cut by the start of the window is dropped
    (not replaced), so the text's UTF-8 is never longer than the bytes kept."""
    last = last[-TAIL_BYTES:]
    start = 0
    while start < min(len(last), 3) and last[start] & 0xC0 == 0x80:  # UTF-8 continuation bytes
        start += 1
    return last[start:].decode(errors="replace")


async def _read_capped(content: aiohttp.StreamReader) -> tuple[bytes, int, bytes]:
    """The body if it is at most `BODY_CAP` bytes (else b""), its size and its last bytes."""
    kept = bytearray()
    last = b""
    size = 0
    async for data in content.iter_any():
        size += len(data)
        if size <= BODY_CAP:
            kept += data
        last = (last + data)[-TAIL_BYTES:]
    return (bytes(kept) if size <= BODY_CAP else b""), size, last


class EventStream:
    """An incremental SSE parser that stamps chunks into a record."""

    __slots__ = (
        "_data",
        "_errored",
        "_event",
        "_known",
        "_last",
        "_partial",
        "_terminated",
        "record",
        "size",
    )

    def __init__(self, record: RequestRecord) -> None:
        self.record = record
        self.size = 0
        self._partial = b""  # an incomplete line carried to the next read
        self._data: bytes | None = None
        self._event = b""
        self._last = b""  # the stream's last TAIL_BYTES
        self._known = False  # an event of a known protocol was seen
        self._terminated = False
        self._errored = False

    def feed(self, data: bytes, at: float) -> None:
        """Take the bytes of one read, which arrived at `at`."""
        self.size += len(data)
        self._last = (self._last + data)[-TAIL_BYTES:]
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            self._line(line, at)

    def close(self, at: float) -> None:
        """The stream ended: a last event without its blank line still counts."""
        if self._partial:
            self._line(self._partial, at)
            self._partial = b""
        if self._data is not None:
            self._dispatch(at)
        self.record.tail = tail_text(self._last)
        self.record.stream_end = self.end()

    def end(self) -> StreamEnd:
        """How the stream ended (so far): see `RequestRecord.stream_end`."""
        if self._errored:
            return "error"
        if self._terminated:
            return "terminator"
        return "unterminated" if self._known else "open"

    def _line(self, line: bytes, at: float) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            if self._data is not None:
                self._dispatch(at)
        elif line.startswith(b"data:"):
            value = line[6:] if line.startswith(b"data: ") else line[5:]
            self._data = value if self._data is None else self._data + b"\n" + value
        elif line.startswith(b"event:"):
            self._event = line[6:].strip()
        # `id:`, `retry:` and `:` comments carry nothing to measure.

    def _dispatch(self, at: float) -> None:
        data, event = self._data, self._event
        self._data, self._event = None, b""
        if event == b"error":
            self._errored = True
        if data == _DONE:
            self._terminated = True
            return
        if not data:
            return
        record = self.record
        record.chunk_s.append(at)
        chunk = _parse(data)
        if isinstance(chunk, dict):
            kind = _kind(chunk, event)
            self._known = (
                self._known or "choices" in chunk or kind in _ANTHROPIC or kind.startswith("response.")
            )
            self._terminated = self._terminated or kind in _TERMINATORS
            self._errored = self._errored or kind == "error" or isinstance(chunk.get("error"), dict)
        if record.first_content_s is None and _content(chunk, event):
            record.first_content_s = at


_NOT_JSON: Any = object()
# The events that end a stream of a known protocol (`[DONE]` is OpenAI Chat's, not an event).
_TERMINATORS = frozenset({"message_stop", "response.completed"})


def _parse(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _NOT_JSON


def _kind(chunk: dict[str, Any], event: bytes) -> str:
    """A chunk's type: its `type` field, else the SSE event name."""
    kind = chunk.get("type")
    return kind if isinstance(kind, str) else event.decode(errors="replace")


def has_content(data: bytes, event: bytes = b"") -> bool:
    """Whether one SSE chunk's data carries generated content (see the module docstring)."""
    return _content(_parse(data), event)


def _content(chunk: Any, event: bytes) -> bool:
    if chunk is _NOT_JSON:
        return True
    if not isinstance(chunk, dict):
        return chunk not in ("", None)
    choices = chunk.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict) and isinstance(delta.get("content"), str) and delta["content"]:
                return True
        return False
    kind = _kind(chunk, event)
    if kind in _ANTHROPIC:
        delta = chunk.get("delta")
        return (
            kind == "content_block_delta"
            and isinstance(delta, dict)
            and isinstance(delta.get("text"), str)
            and bool(delta["text"])
        )
    return True


class PhaseLabels:
    """The phase whose window holds a given time; before the first, the first; after the last,
    the last; "" when the run has no phases."""

    __slots__ = ("_names", "_starts")

    def __init__(self, phases: list[PhaseWindow]) -> None:
        ordered = sorted(phases, key=lambda p: p.start_s)
        self._starts = [p.start_s for p in ordered]
        self._names = [p.name for p in ordered]

    def __call__(self, at_s: float) -> str:
        if not self._names:
            return ""
        return self._names[max(0, bisect_right(self._starts, at_s) - 1)]
