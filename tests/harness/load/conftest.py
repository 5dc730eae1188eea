"""A small real target for the load generator: an aiohttp server on 127.0.0.1 and port 0 that
remembers what it was sent, answers JSON, waits, hangs, and streams known SSE chunks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from harness.experiment.model import Load, RequestSpec
from harness.experiment.templates import RequestFactory
from harness.load import drive
from harness.record import PhaseWindow, RequestRecord

FIRST_DELAY_S = 0.1  # SSE: before the first content chunk
NEXT_DELAY_S = 0.05  # SSE: between content chunks

OPENAI_CHUNKS: list[tuple[float, Any]] = [
    (0.0, {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
    (FIRST_DELAY_S, {"choices": [{"index": 0, "delta": {"content": "Hel"}}]}),
    (NEXT_DELAY_S, {"choices": [{"index": 0, "delta": {"content": "lo"}}]}),
    (0.0, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    (0.0, {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}),
]
ANTHROPIC_EVENTS: list[tuple[float, str, Any]] = [
    (0.0, "message_start", {"type": "message_start", "message": {"id": "msg_1", "content": []}}),
    (
        0.0,
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
    ),
    (0.0, "ping", {"type": "ping"}),
    (
        FIRST_DELAY_S,
        "content_block_delta",
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}},
    ),
    (
        NEXT_DELAY_S,
        "content_block_delta",
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "!"}},
    ),
    (0.0, "content_block_stop", {"type": "content_block_stop", "index": 0}),
    (0.0, "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    (0.0, "message_stop", {"type": "message_stop"}),
]


@dataclass
class Target:
    url: str = ""
    ids: list[str] = field(default_factory=list)
    tenants: list[str] = field(default_factory=list)
    inflight: int = 0
    max_inflight: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)


def _app(target: Target) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        target.ids.append(request.headers.get("X-Request-Id", ""))
        target.tenants.append(request.headers.get("X-Tenant", ""))
        body = await request.json() if request.can_read_body else None
        target.inflight += 1
        target.max_inflight = max(target.max_inflight, target.inflight)
        try:
            await asyncio.sleep(float(request.query.get("delay", "0")))
        finally:
            target.inflight -= 1
        return web.json_response(
            {"id": request.headers.get("X-Request-Id"), "got": body}, headers={"X-Degraded": "no"}
        )

    async def hang(request: web.Request) -> web.Response:
        await target.release.wait()
        return web.json_response({})

    async def big(request: web.Request) -> web.Response:
        return web.json_response({"text": "x" * 70_000})

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="plain words")

    async def sse(request: web.Request, events: list[tuple[float, bytes]]) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for delay, event in events:
            if delay:
                await asyncio.sleep(delay)
            await resp.write(event)
        await resp.write_eof()
        return resp

    async def openai(request: web.Request) -> web.StreamResponse:
        events = [(d, b"data: " + json.dumps(c).encode() + b"\n\n") for d, c in OPENAI_CHUNKS]
        return await sse(request, [*events, (0.0, b"data: [DONE]\n\n")])

    async def anthropic(request: web.Request) -> web.StreamResponse:
        events = [
            (d, f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n".encode())
            for d, name, data in ANTHROPIC_EVENTS
        ]
        return await sse(request, events)

    async def plain(request: web.Request) -> web.StreamResponse:
        return await sse(
            request,
            [
                (0.0, b": a comment\n\n"),
                (FIRST_DELAY_S, b"data: first words\n\n"),
                (0.0, b"data: [DONE]\n\n"),
            ],
        )

    async def cut(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n')
        await asyncio.sleep(NEXT_DELAY_S)
        assert request.transport is not None
        request.transport.close()  # the connection drops mid-stream
        return resp

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/hang", hang)
    app.router.add_get("/big", big)
    app.router.add_get("/text", text)
    app.router.add_post("/sse/openai", openai)
    app.router.add_post("/sse/anthropic", anthropic)
    app.router.add_post("/sse/plain", plain)
    app.router.add_post("/sse/cut", cut)
    return app


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    state = Target()
    runner = web.AppRunner(_app(state), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.url = f"http://{host}:{port}"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


def make_factory(
    path: str = "/echo", json_: Any = None, headers: dict[str, str] | None = None
) -> RequestFactory:
    spec = RequestSpec.model_validate({"path": path, "json": json_, "headers": headers or {}})
    return RequestFactory(spec, seed=0)


async def run_load(
    url: str,
    *,
    path: str = "/echo",
    phases: list[PhaseWindow] | None = None,
    stream: bool = False,
    timeout_s: float = 5.0,
    seed: int = 0,
    **load: Any,
) -> list[RequestRecord]:
    """`drive` with a small request and the given `Load` fields."""
    return await drive(
        url,
        make_factory(path, {"q": "{{ seq }}"}),
        Load.model_validate(load),
        phases if phases is not None else [PhaseWindow("all", 0.0, load.get("duration_s") or 1.0)],
        stream=stream,
        timeout_s=timeout_s,
        seed=seed,
    )
