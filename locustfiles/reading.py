"""Sending one request through a locust `FastHttpSession` and reading its answer into a
`RequestRecord`, as the asyncio engine does (`harness.load.records`).

Locust times a streamed request only to its headers. The record goes past that: server-sent
events are read line by line as they arrive and fed to the same incremental parser the asyncio
engine uses, so TTFT, E2E and ITL mean the same on both engines. Locust still counts the
request once, with its own timing; the LLM timings are the record's, never extra locust rows.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import gevent  # type: ignore[import-untyped]
import orjson
from locust.contrib.fasthttp import FastHttpSession, LocustBadStatusCode, ResponseContextManager

from harness.experiment.templates import PreparedRequest
from harness.load.records import BODY_CAP, EventStream, tail_text
from harness.record import RequestRecord

Clock = Callable[[], float]


class _Deadline(Exception):
    """The target's `timeout_s` passed while the answer was being read."""


def send(
    client: FastHttpSession,
    request: PreparedRequest,
    record: RequestRecord,
    now: Clock,
    *,
    name: str,
    stream: bool,
    timeout_s: float,
) -> None:
    """Send `request`, fill `record` (times from `now()`), and give locust its verdict."""
    headers = request.headers
    if not any(k.lower() == "accept-encoding" for k in headers):
        headers["Accept-Encoding"] = "identity"  # a compressed event stream cannot be timed
    record.sent_s = now()
    resp: ResponseContextManager
    with client.request(
        request.method,
        request.path,
        name=name,
        data=request.body,  # type: ignore[arg-type]  # bytes go out as they are; locust's hint omits them
        headers=headers,
        stream=stream,  # streamed: locust's own timing stops at the headers
        catch_response=True,
    ) as resp:
        try:
            _read(resp, record, now, stream=stream, remaining_s=timeout_s - (now() - record.sent_s))
        finally:
            record.end_s = now()
        _verdict(resp, record)


def _verdict(resp: Any, record: RequestRecord) -> None:
    """Locust's verdict on the request (its `success`/`failure` carry no type hints)."""
    if record.error is not None:
        resp.failure(record.error)
    elif record.status is not None and record.status >= 400:
        resp.failure(f"HTTP {record.status}")
    else:
        resp.success()


def _read(
    resp: ResponseContextManager, record: RequestRecord, now: Clock, *, stream: bool, remaining_s: float
) -> None:
    error = getattr(resp, "error", None)
    if not resp.status_code:  # no HTTP answer at all
        record.error = _describe(error, before_answer=True)
        return
    record.status = resp.status_code
    record.headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
    raw = resp._response  # the socket response: read past the headers ourselves
    if raw is None:
        record.error = "read: no response body"
        return
    try:
        with gevent.Timeout(max(remaining_s, 0.001), _Deadline):
            if stream and record.headers.get("content-type", "").startswith("text/event-stream"):
                events = EventStream(record)
                try:
                    while line := raw.readline(b"\n"):
                        events.feed(line, now())
                    tail = raw.read()  # a last line without its newline
                    if tail:
                        events.feed(tail, now())
                finally:
                    events.close(now())
                    record.body_bytes = events.size
            else:
                _read_body(resp, record)
    except _Deadline:
        record.error = "timeout"
    except Exception as e:  # a broken or malformed stream: recorded, never raised
        record.error = _describe(e, before_answer=False)


def _read_body(resp: ResponseContextManager, record: RequestRecord) -> None:
    """A whole body (locust read it already unless it was a stream that is not SSE)."""
    failed = resp.request_meta.get("exception")
    if failed is not None and not isinstance(failed, LocustBadStatusCode):  # a 4xx/5xx is an answer
        raise failed
    body = resp.content or b""
    record.body_bytes = size = len(body)
    if size <= BODY_CAP and body and "json" in record.headers.get("content-type", ""):
        try:
            record.body = orjson.loads(body)
        except orjson.JSONDecodeError:
            record.body = None
    if record.body is None and body:
        record.tail = tail_text(body)


def _describe(error: BaseException | None, *, before_answer: bool) -> str:
    """The record's error text, in the asyncio engine's words: timeout, connect: ..., read: ..."""
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    text = str(error) or type(error).__name__
    if before_answer and isinstance(error, ConnectionRefusedError | socket.gaierror):
        return f"connect: {text}"
    return f"read: {text}"
