"""Files for the suites the plugin tests run with `pytester`: a strict pytest configuration (as
a careful user's), and a small LLM-backed service under test that calls the session's fake
provider through the official openai SDK."""

from __future__ import annotations

# What a careful project sets: unknown markers and warnings are errors. (The inner sessions run
# in this process, where `harness` is imported already and so cannot be assertion-rewritten.)
PYPROJECT = """
[tool.pytest.ini_options]
addopts = "--strict-markers --strict-config -p no:cacheprovider"
filterwarnings = ["error", "ignore:Module already imported:pytest.PytestAssertRewriteWarning"]
asyncio_default_fixture_loop_scope = "function"
"""

# `service_url`: the service started once per session, configured with the provider's URL.
CONFTEST = '''
import asyncio
import threading

import openai
import pytest
from aiohttp import web


def make_app(provider_base_url):
    client = openai.AsyncOpenAI(base_url=provider_base_url, api_key="sk-test", max_retries=0)

    async def summarize(request):
        body = await request.json()
        headers = {"X-Route": "summarize", "X-Feature": "test", "X-Tenant": "acme"}
        if "X-Request-Id" in request.headers:
            headers["X-Request-Id"] = request.headers["X-Request-Id"]
        for model in ("gpt-4o", "gpt-4o-mini"):
            try:
                reply = await client.chat.completions.create(
                    model=model,
                    max_tokens=32,
                    messages=[{"role": "user", "content": "summarise: " + body.get("text", "")}],
                    extra_headers=headers,
                    timeout=5,
                )
            except openai.APIStatusError:
                continue
            degraded = {"x-degraded": "fallback"} if model != "gpt-4o" else {}
            return web.json_response(
                {"text": reply.choices[0].message.content, "model": model}, headers=degraded
            )
        return web.json_response({"error": "unavailable"}, status=503)

    async def close(app):
        await client.close()

    app = web.Application()
    app.router.add_post("/summarize", summarize)
    app.on_cleanup.append(close)
    return app


@pytest.fixture
def chat(fake_provider):
    """One chat completion through the openai SDK, straight to the fake provider."""
    with openai.OpenAI(base_url=fake_provider.openai_base_url, api_key="sk-test", max_retries=0) as client:
        yield lambda: client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )


@pytest.fixture(scope="session")
def service_url(fake_provider_server):
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(fake_provider_server.openai_base_url), access_log=None)

    async def start():
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner.addresses[0][1]

    port = loop.run_until_complete(start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.run_until_complete(runner.cleanup())
    loop.close()
'''


# The service's summarize route through half a second of normal traffic and half a second of
# primary-model outage, at 20 requests/s; `target.url` is replaced by `target_url=`.
OUTAGE = {
    "title": "summarize falls back during an outage",
    "target": {
        "url": "http://127.0.0.1:9",
        "request": {"method": "POST", "path": "/summarize", "json": {"text": "{{ faker.sentence() }}"}},
        "timeout_s": 10,
    },
    "load": {"mode": "open", "rate": 20},
    "phases": [
        {"name": "steady", "duration_s": 0.5},
        {
            "name": "outage",
            "duration_s": 0.5,
            "faults": [{"fault": {"kind": "http_error", "status": 503}, "match": {"model": "gpt-4o"}}],
        },
    ],
    "contract": [
        {"retries": {"max_attempts_per_request": 2}},
        {"no_silent_fallback": {"signal_header": "x-degraded"}},
        {
            "degradation": {
                "phase": "outage",
                "expect": {"status": 200, "headers": {"x-degraded": "fallback"}},
            }
        },
        {"attribution": {"required_tags": ["route", "tenant"]}},
    ],
}
