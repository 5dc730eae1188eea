"""Connections that send nothing are closed; running out of descriptors is reported once in a
while, not once per refused connection."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from urllib.parse import urlsplit

import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.resources import QuietResourceErrors
from tests.fakeprovider.e2e import read_to_end

HI = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "", parts.port or 0), timeout=10)


def test_idle_and_slow_header_connections_are_closed_and_calls_go_on() -> None:
    with FakeProviderThread(latency="none", idle_timeout_s=0.3) as provider:
        idle = _connect(provider.url)
        slow = _connect(provider.url)
        slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")  # headers never end
        with idle, slow:
            assert idle.recv(100) == b""  # closed by the server, within the socket's 10 s
            assert slow.recv(100) == b""
        assert read_to_end(provider.url, "/v1/chat/completions", HI).received.startswith(b"HTTP/1.1 200")


def _context(err: int) -> dict[str, object]:
    return {
        "message": "socket.accept() out of system resource",
        "exception": OSError(err, "Too many open files"),
    }


def test_accept_resource_errors_are_reported_once_per_quiet_period(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[dict[str, object]] = []
    handler = QuietResourceErrors(lambda _loop, context: seen.append(context))
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.ERROR, logger="fakeprovider"):
            for _ in range(1000):
                handler(loop, _context(errno.EMFILE))
            handler(loop, {"message": "something else"})
    finally:
        loop.close()
    assert [r.getMessage() for r in caplog.records] == [
        "fake provider: cannot accept connections: [Errno 24] Too many open files"
    ]
    assert seen == [{"message": "something else"}]  # anything else goes to the handler before
