"""Serving one call of any dialect: the request path from body to ledger record.

The path is the same for every surface: read the body, let the dialect parse it, count it, pass
the gate (`gate.py`: quotas, a fault that answers instead), then answer: a chat call builds its
plan, lets a fired fault transform it and sends it (`delivery.py`: whole or streamed, paced,
cut); an embeddings call sends its vectors. The `Call` ends in `finally`, whatever happened.
With a cassette (`--replay`), a request that matches a recording is answered from it instead
(`replayed.py`): the recorded events become the plan, and the gate, faults and ledger act as on a
generated one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from fakeprovider.dialects.base import ChatDialect, Dialect, EmbeddingsDialect
from fakeprovider.errors import ProviderError, context_length
from fakeprovider.generation.plan import build_plan
from fakeprovider.generation.request import ChatRequest
from fakeprovider.serving import replayed
from fakeprovider.serving.call import Call, elapsed_ms
from fakeprovider.serving.delivery import internal_error_message, send_plan
from fakeprovider.serving.gate import gate
from fakeprovider.serving.intake import read_json
from fakeprovider.serving.transport import ConnectionCut
from fakeprovider.state import ProviderState


def json_response(data: Any, headers: dict[str, str], status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers=headers
    )


def _url_params(request: web.Request, dialect: Dialect) -> Mapping[str, str]:
    """The URL's parameters `dialect.parse` reads: the path's, and the query's it names."""
    if not dialect.query_params:
        return request.match_info
    query = request.query
    params = dict(request.match_info)
    params.update((name, query[name]) for name in dialect.query_params if name in query)
    return params


async def serve(request: web.Request, state: ProviderState, dialect: Dialect) -> web.StreamResponse:
    """Answer one provider call in `dialect`, and record it."""
    state.catch_up_pacing()
    now = state.clock.monotonic
    call = Call.start(request, dialect, now())
    try:
        body = await read_json(request, call, state)
        call.tags = dialect.tags(body, call.header_tags)
        model = body.get("model")
        # A surface that names the model in its path (Gemini's `models/{model}:…`) has it there.
        call.model = model if isinstance(model, str) else request.match_info.get("model")
        if isinstance(dialect, ChatDialect):
            return await _chat(request, state, call, dialect, body)
        assert isinstance(dialect, EmbeddingsDialect)
        return await _embeddings(request, state, call, dialect, body)
    except ProviderError as e:
        return call.fail(e)
    except ConnectionCut:
        return web.Response(status=499)  # never sent: the connection is gone
    except asyncio.CancelledError:
        call.cancelled(now(), server_stopping=state.stopping)
        raise
    except Exception as e:
        # A bug of ours, answered as the provider would answer its own: a 500, never a traceback.
        return call.fail(ProviderError(500, "server", internal_error_message(e)))
    finally:
        call.end(state, now())


async def _chat(
    request: web.Request, state: ProviderState, call: Call, dialect: ChatDialect, body: dict[str, Any]
) -> web.StreamResponse:
    call.stream = body.get("stream") is True
    req = dialect.parse(body, state.catalogue, _url_params(request, dialect))
    call.stream = req.stream  # the request as read: a surface may stream by path (Bedrock's converse-stream)
    info = call.price = req.model
    call.model, call.deployment = info.id, req.deployment
    if state.replay is not None:
        recorded = replayed.chat_recording(request, state, call, dialect, body, req)
        if recorded is not None:
            return await replayed.answer_chat(request, state, call, dialect, req, recorded)
    input_tokens = req.input_tokens
    if input_tokens > info.context_window:
        raise context_length(info.id, info.context_window, input_tokens)
    call.input_tokens = input_tokens
    fired = await gate(request, state, call, info, input_tokens, input_tokens + (req.max_tokens or 0), req)
    _use_prompt_cache(state, call, req)
    rng = state.plan_rng(call.fingerprint)
    scenario = state.scenario
    reply = (
        scenario.scripted(dialect.api, info.id, call.tags, req.stream, req.last_text)
        if scenario.responses
        else None
    )
    length = scenario.lengths.for_call(dialect.api, info.id, call.tags, req.stream)
    plan = build_plan(req, state.pools.get(info.encoding), rng, reply, state.realistic, length)
    return await send_plan(request, state, call, dialect, req, plan, fired, dialect.new_meta())


def _use_prompt_cache(state: ProviderState, call: Call, req: ChatRequest) -> None:
    """Read and fill the prompt cache the request's provider has: automatic prefix blocks
    (OpenAI's), or the prefixes up to its `cache_control` breakpoints (Anthropic's)."""
    breakpoints = req.cache_breakpoints
    if breakpoints is None:
        if req.input_tokens < state.prefix_cache.min_tokens:  # shorter prompts are never cached
            return
    elif not breakpoints:
        return  # explicit caching, and nothing marked: nothing cached
    scope = f"{call.api_key}|{call.tags.tenant or ''}"
    if breakpoints is None:
        call.cached_tokens = state.prefix_cache.lookup_and_store(scope, req.prompt_ids)
        return
    now = state.clock.monotonic()
    use = state.explicit_cache.use(scope, req.prompt_ids, breakpoints, req.model.min_cache_tokens, now)
    call.cached_tokens, call.written_5m, call.written_1h = use.read, use.written_5m, use.written_1h


async def _embeddings(
    request: web.Request, state: ProviderState, call: Call, dialect: EmbeddingsDialect, body: dict[str, Any]
) -> web.StreamResponse:
    req = dialect.parse(body, state.catalogue, _url_params(request, dialect))
    info = call.price = req.model
    call.model, call.deployment = info.id, req.deployment
    if state.replay is not None:
        x = replayed.find(request, state, dialect, body, False)
        if x is not None:
            return await replayed.answer_embeddings(request, state, call, dialect, req, x)
    call.input_tokens = req.input_tokens
    await gate(request, state, call, info, req.input_tokens, req.input_tokens)
    if state.realistic:
        await state.sleep(info.ttft_ms / 1000)
    answer = dialect.render_body(req, state.seed)
    call.bill(0)
    call.ttft_ms = elapsed_ms(call.m_start, state.clock.monotonic())
    return web.Response(body=answer, content_type="application/json", headers=call.response_headers())
