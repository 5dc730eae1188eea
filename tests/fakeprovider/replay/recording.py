"""Rendered answers turned into cassette exchanges the way the recorder sees them (no sockets),
and recorded answers turned back into plans the way replay serves them."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from fakeprovider.dialects.base import Chunk
from fakeprovider.generation.plan import Plan
from fakeprovider.replay import frames
from fakeprovider.replay.answer import RecordedAnswer, offsets_to_delays
from fakeprovider.replay.cassette import Exchange, RecordedRequest, RecordedResponse


def recorded_stream(api: str, chunks: Iterable[Chunk], eventstream: bool = False) -> tuple[bytes, Exchange]:
    """A stream's bytes, and the exchange a recorder writes for it: each chunk at its paced
    offset (delays summed), split into events by the recorder's own `frames`."""
    t = 0.0
    timed: list[tuple[float, bytes]] = []
    for chunk in chunks:
        t += chunk.delay * 1000
        timed.append((t, chunk.data))
    events = frames.eventstream_events(timed) if eventstream else frames.sse_events(timed)
    raw = b"".join(data for _, data in timed)
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
