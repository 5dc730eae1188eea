"""Rendered answers turned into cassette exchanges the way the recorder sees them (no sockets),
and recorded answers turned back into plans the way replay serves them."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from fakeprovider.dialects.base import Chunk
from fakeprovider.generation.plan import Plan
from fakeprovider.replay.answer import RecordedAnswer, offsets_to_delays
from fakeprovider.replay.cassette import Exchange, RecordedEvent, RecordedRequest, RecordedResponse
from fakeprovider.replay.eventstream import EventStreamDecoder


def sse_events(data: bytes, t_ms: float) -> list[RecordedEvent]:
    """The SSE events in `data` (whole events, `\\n\\n` or `\\r\\n\\r\\n` ended), all at `t_ms`."""
    out: list[RecordedEvent] = []
    for block in data.replace(b"\r\n", b"\n").split(b"\n\n"):
        if not block:
            continue
        name: str | None = None
        lines: list[str] = []
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                out.append(RecordedEvent(t_ms, comment=line[1:].strip()))
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                lines.append(line[5:].removeprefix(" "))
        if lines:
            text = "\n".join(lines)
            try:
                value: object = orjson.loads(text)
            except orjson.JSONDecodeError:
                value = text
            out.append(RecordedEvent(t_ms, name, value))
    return out


def recorded_stream(api: str, chunks: Iterable[Chunk], eventstream: bool = False) -> tuple[bytes, Exchange]:
    """A stream's bytes, and the exchange a recorder writes for it: each chunk at its paced
    offset (delays summed), SSE parsed or AWS event-stream frames decoded."""
    t = 0.0
    raw = b""
    events: list[RecordedEvent] = []
    decoder = EventStreamDecoder()
    for chunk in chunks:
        t += chunk.delay * 1000
        raw += chunk.data
        if eventstream:
            events += [m.recorded(t) for m in decoder.feed(chunk.data)]
        else:
            events += sse_events(chunk.data, t)
    assert decoder.pending == 0
    return raw, _exchange(api, True, RecordedResponse(200, {}, events=tuple(events), end_ms=t))


def recorded_body(api: str, body: bytes, end_ms: float) -> Exchange:
    return _exchange(api, False, RecordedResponse(200, {}, body=orjson.loads(body), end_ms=end_ms))


def _exchange(api: str, stream: bool, response: RecordedResponse) -> Exchange:
    request = RecordedRequest("POST", "/", {}, {}, {"model": "m"})
    return Exchange(api, "m", stream, request, response, source="test.json")


def plan_of(answer: RecordedAnswer) -> Plan:
    """The plan replay serves a recorded answer as: its events at their recorded offsets."""
    delays, tail = offsets_to_delays(answer.offsets_ms, answer.end_ms, 1.0)
    return Plan(list(answer.events), delays, answer.finish, tail_delay=tail)
