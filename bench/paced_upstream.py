"""A streaming upstream with a known pace, for `recorder_overhead.py`: `POST /v1/chat/completions`
answers `--events` chat chunks `--pace-ms` apart, then `data: [DONE]`. Each chunk carries
`sent_ns`, the wall clock (`time.time_ns()`) just before it was written, so a client can tell how
long each event took to reach it, directly or through a proxy."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

from aiohttp import web


def make_app(events: int, pace_s: float) -> web.Application:
    async def chat(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for i in range(events):
            await asyncio.sleep(pace_s)
            chunk = (
                b'{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"w%d "}}],' % i
            )
            await response.write(b"data: " + chunk + b'"sent_ns":%d}\n\n' % time.time_ns())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


async def serve_app(app: web.Application, port: int = 0) -> None:
    """Serve `app` on 127.0.0.1 until cancelled, printing the `listening on` line first."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(f"listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--pace-ms", type=float, default=10.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_app(make_app(args.events, args.pace_ms / 1000), args.port))


if __name__ == "__main__":
    main()
