"""Stand-in for *your* service: one LLM-backed route, `POST /summarize`.

Its policy is what the release gate checks: every provider call is tagged (route, feature,
tenant) and carries the route request's X-Request-Id; at most two attempts on the primary model
(a 429's retry-after is waited, a 5xx gets a short backoff), then one on the fallback model,
answered with `x-degraded: fallback` so a caller can tell; output capped at 256 tokens.

Replace this file with your own service and keep `conftest.py` pointing it at the fake provider.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import openai
from aiohttp import web

PRIMARY = "gpt-4o"
FALLBACK = "gpt-4o-mini"
MAX_OUTPUT_TOKENS = 256
PRIMARY_ATTEMPTS = 2
BACKOFF_S = 0.1
MAX_RETRY_AFTER_S = 2.0  # a longer wait than this goes straight to the fallback


def _retry_after_s(error: openai.APIStatusError) -> float:
    headers = error.response.headers
    if "retry-after-ms" in headers:
        return float(headers["retry-after-ms"]) / 1000
    if "retry-after" in headers:
        return float(headers["retry-after"])
    return BACKOFF_S


def make_app(provider_base_url: str, api_key: str = "sk-example") -> web.Application:
    # max_retries=0: the retry policy is the route's own, below, not the SDK's.
    client = openai.AsyncOpenAI(base_url=provider_base_url, api_key=api_key, max_retries=0)

    async def complete(request: web.Request, text: str, model: str) -> str:
        headers = {
            "X-Route": "summarize",
            "X-Feature": "docs",
            "X-Tenant": request.headers.get("X-Tenant", ""),
        }
        if "X-Request-Id" in request.headers:
            headers["X-Request-Id"] = request.headers["X-Request-Id"]
        reply = await client.chat.completions.create(
            model=model,
            max_tokens=MAX_OUTPUT_TOKENS,
            messages=[{"role": "user", "content": f"Summarise in two sentences:\n\n{text}"}],
            extra_headers=headers,
            timeout=10,
        )
        return reply.choices[0].message.content or ""

    async def summarize(request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("text", ""))
        for attempt in range(1, PRIMARY_ATTEMPTS + 1):
            try:
                return web.json_response(
                    {"summary": await complete(request, text, PRIMARY), "model": PRIMARY}
                )
            except openai.APIStatusError as e:
                if e.status_code != 429 and e.status_code < 500:
                    return web.json_response({"error": "bad request"}, status=400)
                wait = _retry_after_s(e) if e.status_code == 429 else BACKOFF_S
                if attempt == PRIMARY_ATTEMPTS or wait > MAX_RETRY_AFTER_S:
                    break
                await asyncio.sleep(wait)
            except (openai.APIConnectionError, openai.APITimeoutError):
                if attempt == PRIMARY_ATTEMPTS:
                    break
                await asyncio.sleep(BACKOFF_S)
        try:
            summary = await complete(request, text, FALLBACK)
        except (openai.APIStatusError, openai.APIConnectionError, openai.APITimeoutError):
            return web.json_response({"error": "summaries are unavailable, try again shortly"}, status=503)
        return web.json_response(
            {"summary": summary, "model": FALLBACK, "degraded": True}, headers={"x-degraded": "fallback"}
        )

    async def close(_: web.Application) -> None:
        await client.close()

    app = web.Application()
    app.router.add_post("/summarize", summarize)
    app.on_cleanup.append(close)
    return app


@contextmanager
def serve(provider_base_url: str) -> Iterator[str]:
    """Run the service on 127.0.0.1 and a free port, in a thread; yield its URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(provider_base_url), access_log=None)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return int(runner.addresses[0][1])

    port = loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, name="summarizer", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()
