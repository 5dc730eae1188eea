"""A recorded call turned into the cassette's `Exchange`: surface and model named, the answer
a JSON body, a text or a stream's events, secrets redacted. Runs in the recorder's writer
thread, after the answer has ended (never on the caller's path)."""

from __future__ import annotations

import zlib
from typing import Any

from fakeprovider.dialects.bedrock.eventstream import CONTENT_TYPE as EVENT_STREAM
from fakeprovider.replay.cassette import (
    MAX_EVENTS,
    Exchange,
    ExchangeTooLarge,
    RecordedRequest,
    RecordedResponse,
    redact_headers,
    redact_query,
)
from fakeprovider.replay.frames import Chunk, eventstream_events, json_or_text, sse_events
from fakeprovider.surfaces import Surface, model_named

PASSTHROUGH = "passthrough"  # the `api` of a path no surface declares


def _decoded(body: bytes, encoding: str) -> bytes | None:
    """A compressed answer's bytes as text for the cassette (gzip, deflate); None: not decodable."""
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompress(body, 47)  # gzip or zlib header, told apart by zlib
        except zlib.error:
            return None
    return None


def request_body(body: bytes) -> Any:
    if not body:
        return None
    return json_or_text(body.decode("utf-8", "replace"))


def build_exchange(
    surface: Surface | None,
    request: RecordedRequest,
    status: int,
    response_headers: dict[str, str],
    chunks: list[Chunk],
    match: dict[str, str],
    recorded_at: str,
    end_ms: float,
) -> Exchange:
    """The exchange as the cassette keeps it: the surface and model named, secrets redacted, the
    answer a JSON body, a text, or a stream's events (by its content type)."""
    body = request.body
    if surface is None:
        api, model = PASSTHROUGH, model_named(body, {})
        stream = isinstance(body, dict) and body.get("stream") is True
    else:
        api, model, stream = surface.api, model_named(body, match), surface.stream(body, match)
    content_type = response_headers.get("content-type", "").split(";")[0].strip().lower()
    events = None
    text: str | None = None
    answer: Any = None
    if content_type == "text/event-stream":
        events = tuple(sse_events(chunks))
    elif content_type == EVENT_STREAM:
        events = tuple(eventstream_events(chunks))
    else:
        raw = _decoded(b"".join(c for _, c in chunks), response_headers.get("content-encoding", ""))
        if raw is None:
            text = f"<{sum(len(c) for _, c in chunks)} bytes, content-encoding not decoded>"
        else:
            decoded = raw.decode("utf-8", "replace")
            answer = json_or_text(decoded) if decoded else None
            if isinstance(answer, str):
                answer, text = None, decoded
    if events is not None and len(events) > MAX_EVENTS:
        raise ExchangeTooLarge(
            f"{request.method} {request.path}: {len(events):,} events, more than the "
            f"{MAX_EVENTS:,} a recorded stream may hold; not recorded"
        )
    redacted = RecordedRequest(
        request.method,
        request.path,
        redact_query(request.query),
        redact_headers(request.headers),
        body,
    )
    response = RecordedResponse(
        status, redact_headers(response_headers), answer, text, events, round(end_ms, 3)
    )
    return Exchange(api, model, stream, redacted, response, recorded_at).with_key()
