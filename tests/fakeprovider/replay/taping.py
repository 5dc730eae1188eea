"""Making cassettes in tests with timing the test chooses: a request sent to a provider, its
answer read off the wire and written as an exchange, split into events as the recorder splits
them (`frames.py`), the `i`th at `t_ms(i)`. (`rehearse record` stamps real arrival times; a
test of replayed timing wants known ones.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import orjson

from fakeprovider.replay import frames
from fakeprovider.replay.cassette import (
    CassetteWriter,
    Exchange,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
    redact_headers,
)


def sse_events(raw: bytes, t_ms: Callable[[int], float]) -> list[RecordedEvent]:
    """An SSE body as the recorder splits it, the `i`th event arriving at `t_ms(i)`."""
    blocks = [b for b in raw.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
    return frames.sse_events((t_ms(i), block + b"\n\n") for i, block in enumerate(blocks))


def tape(
    http: httpx2.Client,
    writer: CassetteWriter,
    api: str,
    path: str,
    body: dict[str, Any],
    *,
    model: str | None = None,
    stream: bool | None = None,
    headers: dict[str, str] | None = None,
    t_ms: Callable[[int], float] = lambda i: 100.0 + 10 * i,
    end_ms: float | None = None,
) -> tuple[bytes, Path]:
    """POST `body` to `path`, write what came back as one exchange; the raw answer and the file."""
    resp = http.post(
        path, content=orjson.dumps(body), headers={"content-type": "application/json", **(headers or {})}
    )
    raw = resp.content
    streamed = body.get("stream") is True if stream is None else stream
    content_type = resp.headers.get("content-type", "")
    events = body_value = None
    if "event-stream" in content_type:
        events = tuple(sse_events(raw, t_ms))
        end = end_ms if end_ms is not None else (events[-1].t_ms + 1 if events else 0.0)
    else:
        body_value = orjson.loads(raw)
        end = end_ms if end_ms is not None else 250.0
    x = Exchange(
        api,
        model if model is not None else body.get("model"),
        streamed,
        RecordedRequest("POST", path, {}, redact_headers(dict(headers or {})), body),
        RecordedResponse(resp.status_code, redact_headers(dict(resp.headers)), body_value, None, events, end),
        "2026-12-07T19:30:00.000Z",
    ).with_key()
    return raw, writer.write(x)
