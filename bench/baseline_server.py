"""The throughput baseline: the least an aiohttp server can do to answer like a chat provider.

`POST /v1/chat/completions` reads the body and answers a fixed body: a chat completion as JSON,
or (when the body asks for `"stream": true`) 50 fixed content chunks and `data: [DONE]` as SSE,
each chunk a separate `await resp.write(...)`. `POST /openai/deployments/{deployment}/chat/
completions` answers that completion as Azure annotates it (content-filter results);
`POST /model/{modelId}/converse-stream` answers Bedrock's event stream of 50 text deltas;
`POST /v1beta/models/{model}:streamGenerateContent` streams 50 fixed Gemini chunks and a last one
with the finish and usage. Same server
settings as `rehearse serve` (AppRunner, no access log, handler cancellation), so the difference
is the provider's own work.

Run alone: `python bench/baseline_server.py [--port 0]`; prints `listening on http://HOST:PORT`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from fakeprovider.dialects.bedrock.eventstream import CONTENT_TYPE as EVENT_STREAM
from fakeprovider.dialects.bedrock.eventstream import event_headers, frame
from fakeprovider.dialects.openai_responses.request import ECHOED

CHUNKS = 50

COMPLETION = orjson.dumps(
    {
        "id": "chatcmpl-BaselineBaselineBaselineBase",
        "object": "chat.completion",
        "created": 1735689600,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": " ".join(["word"] * CHUNKS),
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length",
            }
        ],
        "usage": {
            "prompt_tokens": 14,
            "completion_tokens": CHUNKS,
            "total_tokens": 14 + CHUNKS,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_baseline0",
    }
)


def _chunk(i: int) -> bytes:
    body = {
        "id": "chatcmpl-BaselineBaselineBaselineBase",
        "object": "chat.completion.chunk",
        "created": 1735689600,
        "model": "gpt-4o-mini",
        "service_tier": "default",
        "system_fingerprint": "fp_baseline0",
        "choices": [
            {
                "index": 0,
                "delta": {"content": " word" if i else "word"},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    return b"data: " + orjson.dumps(body) + b"\n\n"


# Azure's completion: the same, with the content-filter results Azure adds to choice and prompt.
_SAFE = {"filtered": False, "severity": "safe"}
_RESULTS = dict.fromkeys(("hate", "self_harm", "sexual", "violence"), _SAFE)
_AZURE = orjson.loads(COMPLETION)
_AZURE["choices"][0]["content_filter_results"] = {
    **_RESULTS,
    "protected_material_code": {"filtered": False, "detected": False},
    "protected_material_text": {"filtered": False, "detected": False},
}
_AZURE["prompt_filter_results"] = [
    {
        "prompt_index": 0,
        "content_filter_results": {**_RESULTS, "jailbreak": {"filtered": False, "detected": False}},
    }
]
AZURE_COMPLETION = orjson.dumps(_AZURE)
STREAM_CHUNKS = tuple(_chunk(i) for i in range(CHUNKS))
DONE = b"data: [DONE]\n\n"
RESPONSE_OBJECT: dict[str, object] = {
    "id": "resp_baseline",
    "object": "response",
    "created_at": 1735689600,
    "status": "incomplete",
    "background": False,
    "completed_at": None,
    "error": None,
    "incomplete_details": {"reason": "max_output_tokens"},
    **ECHOED,  # the request fields a response repeats, as the provider sends them
    "max_output_tokens": CHUNKS,
    "model": "gpt-4o-mini",
    "output": [
        {
            "id": "msg_baseline",
            "type": "message",
            "status": "incomplete",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "annotations": [],
                    "logprobs": [],
                    "text": " ".join(["word"] * CHUNKS),
                }
            ],
        }
    ],
    "reasoning": {"effort": None, "summary": None},
    "service_tier": "default",
    "store": True,
    "usage": {
        "input_tokens": 14,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": CHUNKS,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 14 + CHUNKS,
    },
}
RESPONSE = orjson.dumps(RESPONSE_OBJECT)


def _event(kind: str, seq: int, **fields: object) -> bytes:
    data = orjson.dumps({"type": kind, "sequence_number": seq, **fields})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


_WHERE = {"item_id": "msg_baseline", "output_index": 0, "content_index": 0}
RESPONSE_EVENTS = (
    _event("response.created", 0, response={**RESPONSE_OBJECT, "status": "in_progress", "output": []}),
    _event("response.in_progress", 1, response={**RESPONSE_OBJECT, "status": "in_progress", "output": []}),
    _event("response.output_item.added", 2, output_index=0, item={"id": "msg_baseline", "content": []}),
    _event("response.content_part.added", 3, **_WHERE, part={"type": "output_text", "text": ""}),
    *(
        _event("response.output_text.delta", 4 + i, **_WHERE, delta=" word" if i else "word")
        for i in range(CHUNKS)
    ),
    _event("response.output_text.done", CHUNKS + 4, **_WHERE, text=" ".join(["word"] * CHUNKS)),
    _event("response.output_item.done", CHUNKS + 5, output_index=0, item=RESPONSE_OBJECT["output"]),
    _event("response.incomplete", CHUNKS + 6, response=RESPONSE_OBJECT),
)
# Bedrock's converse-stream: the same 50 words as text delta frames, then the stream's end.
_BEDROCK_USAGE = {"inputTokens": 14, "outputTokens": CHUNKS, "totalTokens": 14 + CHUNKS}
BEDROCK_EVENTS = (
    frame(event_headers("messageStart"), b'{"role":"assistant"}'),
    *(
        frame(
            event_headers("contentBlockDelta"),
            orjson.dumps({"contentBlockIndex": 0, "delta": {"text": " word" if i else "word"}}),
        )
        for i in range(CHUNKS)
    ),
    frame(event_headers("contentBlockStop"), b'{"contentBlockIndex":0}'),
    frame(event_headers("messageStop"), b'{"stopReason":"max_tokens"}'),
    frame(event_headers("metadata"), orjson.dumps({"usage": _BEDROCK_USAGE, "metrics": {"latencyMs": 0}})),
)
_SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}


def fixed_answers(
    whole: bytes, stream: tuple[bytes, ...]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A handler answering `whole`, or, when the body asks for a stream, each of `stream`."""

    async def answer(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        # A byte search, not a JSON parse: the baseline does no per-request work it can avoid.
        if b'"stream":true' not in body and b'"stream": true' not in body:
            return web.Response(body=whole, content_type="application/json")
        resp = web.StreamResponse(status=200, headers=_SSE_HEADERS)
        await resp.prepare(request)
        for chunk in stream:
            await resp.write(chunk)
        await resp.write_eof()
        return resp

    return answer


async def azure_chat_completions(request: web.Request) -> web.StreamResponse:
    await request.read()
    return web.Response(body=AZURE_COMPLETION, content_type="application/json")


async def bedrock_converse_stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    resp = web.StreamResponse(status=200, headers={"Content-Type": EVENT_STREAM})
    await resp.prepare(request)
    for event in BEDROCK_EVENTS:
        await resp.write(event)
    await resp.write_eof()
    return resp


_GEMINI_TAIL = {
    "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
    "modelVersion": "gemini-2.5-flash-lite",
    "responseId": "BaselineBaselineBaseli",
}


def _gemini_chunk(text: str, finish: str | None = None) -> bytes:
    candidate: dict[str, object] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    return b"data: " + orjson.dumps({"candidates": [candidate], **_GEMINI_TAIL}) + b"\r\n\r\n"


GEMINI_STREAM = (
    *(_gemini_chunk(" word" if i else "word") for i in range(CHUNKS)),
    _gemini_chunk("", "MAX_TOKENS"),
)


async def gemini_stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    resp = web.StreamResponse(status=200, headers=_SSE_HEADERS)
    await resp.prepare(request)
    for chunk in GEMINI_STREAM:
        await resp.write(chunk)
    await resp.write_eof()
    return resp


async def serve(host: str, port: int) -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fixed_answers(COMPLETION, (*STREAM_CHUNKS, DONE)))
    app.router.add_post("/v1/responses", fixed_answers(RESPONSE, RESPONSE_EVENTS))
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", azure_chat_completions)
    app.router.add_post("/model/{model}/converse-stream", bedrock_converse_stream)
    app.router.add_post("/v1beta/models/{model_action}", gemini_stream)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound = runner.addresses[0]
    print(f"listening on http://{bound[0]}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
