"""Direct JSON answers: the very bytes aiohttp's `web.Response` sends, and the same keep-alive."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from fakeprovider.serving.direct import DirectJSON, json_answer

pytestmark = pytest.mark.timeout(10)

BODY = b'{"id":"chatcmpl-1","object":"chat.completion","choices":[]}'
_DATE = re.compile(rb"\r\nDate: [^\r]*\r\n")


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, int]]:
    """One app answering the same JSON both ways: `/aiohttp/N` and `/direct/N` (N picks headers)."""
    header_sets: list[dict[str, str]] = [
        {"x-request-id": "req_abc"},
        {"request-id": "req_01x", "x-request-id": "req_01x", "anthropic-ratelimit-requests-remaining": "4"},
        {"x-note": "café ☕"},
        {},
    ]

    async def by_aiohttp(request: web.Request) -> web.StreamResponse:
        await request.read()
        headers = header_sets[int(request.match_info["n"])]
        return web.Response(body=BODY, content_type="application/json", headers=headers)

    async def direct(request: web.Request) -> web.StreamResponse:
        await request.read()
        return DirectJSON(BODY, header_sets[int(request.match_info["n"])])

    app = web.Application()
    app.router.add_post("/aiohttp/{n}", by_aiohttp)
    app.router.add_post("/direct/{n}", direct)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield host, port
    finally:
        await runner.cleanup()


async def _exchange(address: tuple[str, int], path: str, version: str, extra: str = "") -> tuple[bytes, bool]:
    """One request; the answer's bytes (Date blanked) and whether the server then closed."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(
            f"POST {path} HTTP/{version}\r\nHost: t\r\nContent-Length: 2\r\n{extra}\r\n{{}}".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        answer = head + await reader.readexactly(length)
        try:
            closed = await asyncio.wait_for(reader.read(1), 0.2) == b""
        except TimeoutError:
            closed = False  # still open: kept alive
    finally:
        writer.close()
    return _DATE.sub(b"\r\nDate: -\r\n", answer), closed


@pytest.mark.parametrize("headers", range(4))
@pytest.mark.parametrize(
    ("version", "extra"),
    [("1.1", ""), ("1.1", "Connection: close\r\n"), ("1.0", ""), ("1.0", "Connection: keep-alive\r\n")],
)
async def test_a_direct_answer_is_byte_for_byte_what_aiohttp_sends(
    server: tuple[str, int], headers: int, version: str, extra: str
) -> None:
    ours = await _exchange(server, f"/direct/{headers}", version, extra)
    theirs = await _exchange(server, f"/aiohttp/{headers}", version, extra)
    assert ours == theirs
    assert ours[0].endswith(BODY)


async def test_a_kept_alive_connection_carries_the_next_request_after_a_direct_answer(
    server: tuple[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(*server)
    try:
        for _ in range(3):
            writer.write(b"POST /direct/0 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert await reader.readexactly(len(BODY)) == BODY
    finally:
        writer.close()


def test_a_header_aiohttp_sets_itself_leaves_the_answer_to_aiohttp() -> None:
    assert isinstance(json_answer(BODY, {"x-request-id": "r"}), DirectJSON)
    for clash in ("Date", "server", "Connection"):
        answer = json_answer(BODY, {clash: "x"})
        assert type(answer) is web.Response


class _Request:
    """What `DirectJSON.prepare` reads of a request, and a transport that keeps the writes."""

    def __init__(self) -> None:
        from aiohttp.http import HttpVersion11

        self.version = HttpVersion11
        self.keep_alive = True
        self.transport: Any = self
        self.written: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.written.append(data)


async def test_a_header_with_a_line_break_is_refused_as_aiohttp_refuses_it() -> None:
    request = _Request()
    with pytest.raises(ValueError, match="Newline or carriage return"):
        await DirectJSON(BODY, {"x-request-id": "a\r\nInjected: yes"}).prepare(request)  # type: ignore[arg-type]
    assert request.written == []


async def test_a_direct_answer_is_written_once() -> None:
    request = _Request()
    answer = DirectJSON(BODY, {})
    await answer.prepare(request)  # type: ignore[arg-type]
    await answer.prepare(request)  # type: ignore[arg-type]
    await answer.write_eof()
    assert len(request.written) == 1
    assert answer.keep_alive is True
