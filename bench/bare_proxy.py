"""The least an aiohttp proxy can do, the baseline of `recorder_overhead.py`: every request
forwarded to `--upstream` with one shared `ClientSession`, every answer chunk written back as it
arrives; nothing parsed, nothing recorded."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import aiohttp
from aiohttp import web
from paced_upstream import serve_app

SKIP = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive"})


def make_app(upstream: str) -> web.Application:
    session: dict[str, aiohttp.ClientSession] = {}

    async def open_session(app: web.Application) -> None:
        session["s"] = aiohttp.ClientSession(auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        await session["s"].close()

    async def proxy(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in SKIP]
        async with session["s"].request(
            request.method, upstream + request.rel_url.raw_path_qs, headers=headers, data=body or None
        ) as up:
            response = web.StreamResponse(status=up.status)
            for k, v in up.headers.items():
                if k.lower() not in SKIP:
                    response.headers.add(k, v)
            if up.content_length is not None:
                response.content_length = up.content_length
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_app(make_app(args.upstream.rstrip("/"))))


if __name__ == "__main__":
    main()
