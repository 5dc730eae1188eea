"""Pay the SDK's first-call costs at start, not in the first callers' latency.

The openai SDK imports resource modules, builds request transforms and response models lazily,
on first use: a cold first stream costs a few hundred milliseconds more than the next one. The
app makes one call of each kind it uses against an in-memory transport (never the provider, so
the ledger sees nothing) before it listens.
"""

from __future__ import annotations

import logging

import httpx2  # the openai SDK's own HTTP client library
import orjson
from openai import AsyncOpenAI

from sampleapp.extract import TOOL, TOOL_CHOICE

log = logging.getLogger("sampleapp")

_USAGE = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
_COMPLETION = {
    "id": "warm",
    "object": "chat.completion",
    "created": 0,
    "model": "warm",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": _USAGE,
}
_CHUNKS: list[dict[str, object]] = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"choices": [], "usage": _USAGE},
]
# What the SDK reads of a Responses object (it is not validated: the fields of a real one).
_RESPONSE = {
    "id": "warm",
    "object": "response",
    "created_at": 0,
    "model": "warm",
    "status": "completed",
    "output": [],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}
_EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.0]}],
    "model": "warm",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def _answer(request: httpx2.Request) -> httpx2.Response:
    if request.url.path.endswith("/embeddings"):
        return httpx2.Response(200, json=_EMBEDDINGS)
    if request.url.path.endswith("/responses"):
        return httpx2.Response(200, json=_RESPONSE)
    if orjson.loads(request.content).get("stream"):
        head: dict[str, object] = {
            "id": "warm",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "warm",
        }
        sse = b"".join(b"data: " + orjson.dumps(head | c) + b"\n\n" for c in _CHUNKS) + b"data: [DONE]\n\n"
        return httpx2.Response(200, content=sse, headers={"content-type": "text/event-stream"})
    return httpx2.Response(200, json=_COMPLETION)


async def warm_sdk() -> None:
    """One streamed chat, one tool call, one Responses answer and one embedding through a
    throwaway client."""
    transport = httpx2.MockTransport(_answer)
    client = AsyncOpenAI(
        base_url="http://warmup.invalid/v1",
        api_key="sk-warmup",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    )
    headers = {"X-Route": "warmup", "X-Request-Id": "warmup"}
    try:
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=1,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=headers,
            timeout=5,
        )
        async for _ in stream:
            pass
        await client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=1,
            tools=[TOOL],
            tool_choice=TOOL_CHOICE,
            extra_headers=headers,
            timeout=5,
        )
        await client.responses.create(
            model="gpt-4o",
            instructions="hi",
            input="hi",
            max_output_tokens=16,
            store=False,
            extra_headers=headers,
            timeout=5,
        )
        await client.embeddings.create(model="text-embedding-3-small", input=["hi"], extra_headers=headers)
    except Exception as e:
        # Only a cost moved earlier: the app works without it, so it must not stop a start.
        log.warning("openai SDK warm-up failed (the first calls will be slower): %s", e)
    finally:
        await client.close()
