"""Small real LLM-backed routes for runner tests: each calls the fake provider through the
official openai SDK, some with a known flaw. Run in a thread on port 0."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import openai
from aiohttp import web

PRIMARY = "gpt-4o"
FALLBACK = "gpt-4o-mini"


def _client(provider_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=provider_url + "/v1", api_key="sk-target", max_retries=0)


async def _call(
    client: openai.AsyncOpenAI,
    request: web.Request,
    model: str,
    max_tokens: int | None,
    forward_id: bool = True,
) -> openai.types.chat.ChatCompletion:
    headers = {
        "X-Route": "summarize",
        "X-Feature": "test",
        "X-Tenant": request.headers.get("X-Tenant", "acme"),
    }
    if forward_id and "X-Request-Id" in request.headers:
        headers["X-Request-Id"] = request.headers["X-Request-Id"]
    kwargs = {"max_tokens": max_tokens} if max_tokens is not None else {}
    # The request's own text goes into the prompt, so that two requests' provider calls differ
    # (the harness groups calls without X-Request-Id by body fingerprint).
    body = await request.json() if request.body_exists else {}
    text = body.get("text", "") if isinstance(body, dict) else ""
    return await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": f"summarise this: {text}"}],
        extra_headers=headers,
        timeout=5,
        **kwargs,  # type: ignore[arg-type]
    )


def _retry_after(e: openai.APIStatusError) -> float:
    h = e.response.headers
    if "retry-after-ms" in h:
        return float(h["retry-after-ms"]) / 1000
    if "retry-after" in h:
        return float(h["retry-after"])
    return 0.05


def make_app(provider_url: str) -> web.Application:
    client = _client(provider_url)

    async def good(request: web.Request) -> web.Response:
        """Bounded retries honouring retry-after, then a signalled fallback."""
        for attempt in range(2):
            try:
                r = await _call(client, request, PRIMARY, 64)
                return web.json_response({"text": r.choices[0].message.content, "model": PRIMARY})
            except openai.APIStatusError as e:
                if attempt == 0 and e.status_code in (429, 500, 502, 503):
                    await asyncio.sleep(_retry_after(e) if e.status_code == 429 else 0.1)
        r = await _call(client, request, FALLBACK, 64)
        return web.json_response(
            {"text": r.choices[0].message.content, "model": FALLBACK, "degraded": True},
            headers={"x-degraded": "fallback"},
        )

    async def unbounded_retries(request: web.Request) -> web.Response:
        for _ in range(8):
            try:
                r = await _call(client, request, PRIMARY, 64)
                return web.json_response({"text": r.choices[0].message.content})
            except openai.APIStatusError:
                await asyncio.sleep(0.01)
        return web.json_response({"error": "gave up"}, status=502)

    async def silent_fallback(request: web.Request) -> web.Response:
        try:
            r = await _call(client, request, PRIMARY, 64)
        except openai.APIStatusError:
            r = await _call(client, request, FALLBACK, 64)
        return web.json_response({"text": r.choices[0].message.content})

    async def no_token_cap(request: web.Request) -> web.Response:
        r = await _call(client, request, PRIMARY, None)
        return web.json_response({"text": r.choices[0].message.content})

    async def early_retry(request: web.Request) -> web.Response:
        for _ in range(3):
            try:
                r = await _call(client, request, PRIMARY, 64)
                return web.json_response({"text": r.choices[0].message.content})
            except openai.RateLimitError:
                continue  # no wait: ignores retry-after
        return web.json_response({"error": "rate limited"}, status=429)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        return web.json_response({"ok": True})

    async def no_request_id(request: web.Request) -> web.Response:
        """/good's bounded retries, without forwarding X-Request-Id."""
        for attempt in range(2):
            try:
                r = await _call(client, request, PRIMARY, 64, forward_id=False)
                return web.json_response({"text": r.choices[0].message.content})
            except openai.APIStatusError:
                if attempt == 0:
                    await asyncio.sleep(0.1)
        r = await _call(client, request, FALLBACK, 64, forward_id=False)
        return web.json_response({"text": r.choices[0].message.content}, headers={"x-degraded": "fallback"})

    app = web.Application()
    for path, handler in (
        ("/good", good),
        ("/unbounded_retries", unbounded_retries),
        ("/silent_fallback", silent_fallback),
        ("/no_token_cap", no_token_cap),
        ("/early_retry", early_retry),
        ("/slow", slow),
        ("/no_request_id", no_request_id),
    ):
        app.router.add_post(path, handler)

    async def close(_: web.Application) -> None:
        await client.close()

    app.on_cleanup.append(close)
    return app


@contextmanager
def serve_target(provider_url: str) -> Iterator[str]:
    """Run the target app on 127.0.0.1 and a free port in a thread; yields its URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        runner = web.AppRunner(make_app(provider_url), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        runner = holder["runner"]
        assert isinstance(runner, web.AppRunner)
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("target app did not start")
    try:
        yield f"http://127.0.0.1:{holder['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        time.sleep(0)
