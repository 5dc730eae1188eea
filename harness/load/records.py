"""Reading a target's answer into its `RequestRecord`: status, headers, a small JSON body, and
for server-sent events the arrival time of every chunk and of the first one with content.

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

from harness.run.model import PhaseWindow, RequestRecord

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
        async for data in resp.content.iter_any():
            events.feed(data, now())
        events.close(now())
        record.body_bytes = events.size
        return
    length = resp.content_length
    if length is not None and length <= BODY_CAP:
        body = await resp.read()
        record.body_bytes = len(body)
    else:
        body, record.body_bytes = await _read_capped(resp.content)
    if body and "json" in resp.content_type:
        try:
            record.body = orjson.loads(body)
        except orjson.JSONDecodeError:
            record.body = None


async def _read_capped(content: aiohttp.StreamReader) -> tuple[bytes, int]:
    """The body if it is at most `BODY_CAP` bytes (else b""), and its size."""
    kept = bytearray()
    size = 0
    async for data in content.iter_any():
        size += len(data)
        if size <= BODY_CAP:
            kept += data
    return (bytes(kept) if size <= BODY_CAP else b""), size


class EventStream:
    """An incremental SSE parser that stamps chunks into a record."""

    __slots__ = ("_data", "_event", "_partial", "record", "size")

    def __init__(self, record: RequestRecord) -> None:
        self.record = record
        self.size = 0
        self._partial = b""  # an incomplete line carried to the next read
        self._data: bytes | None = None
        self._event = b""

    def feed(self, data: bytes, at: float) -> None:
        """Take the bytes of one read, which arrived at `at`."""
        self.size += len(data)
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
        if not data or data == _DONE:
            return
        record = self.record
        record.chunk_s.append(at)
        if record.first_content_s is None and has_content(data, event):
            record.first_content_s = at


def has_content(data: bytes, event: bytes = b"") -> bool:
    """Whether one SSE chunk's data carries generated content (see the module docstring)."""
    try:
        chunk: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
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
    kind = chunk.get("type")
    if not isinstance(kind, str):
        kind = event.decode(errors="replace")
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
