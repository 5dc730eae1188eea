"""Serving one chat or embeddings call: the request path from body to ledger record.

The path is the same for every API: parse, count, pass the gate (`gate.py`: quotas, a fault
that answers instead of the plan), build the plan and let a fired fault transform it, then send
it (`delivery.py`: whole or streamed, paced, cut, billed). The ledger record is written in
`finally`, whatever happened.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from fakeprovider.calls import Call, elapsed_ms, error_response, finish_call, read_json, start_call
from fakeprovider.delivery import (
    ConnectionCut,
    Outgoing,
    internal_error_message,
    on_cancel,
    send_stream,
    send_whole,
)
from fakeprovider.faults.base import FaultContext
from fakeprovider.gate import IDLE_RNG, admit, answer_first, fire
from fakeprovider.plan import Plan, build_plan
from fakeprovider.protocols import ChatProtocol, Usage
from fakeprovider.protocols import openai_embeddings as embeddings
from fakeprovider.protocols.errors import ProviderError, context_length
from fakeprovider.protocols.openai_chat import OpenAIChat
from fakeprovider.state import ProviderState

# Embeddings calls carry their tags as OpenAI chat calls do; one stateless instance reads them.
_OPENAI_CHAT = OpenAIChat()


def json_response(data: Any, headers: dict[str, str], status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers=headers
    )


def _internal_error(call: Call, e: Exception) -> web.Response:
    """A bug of ours, answered as the provider would answer its own: a 500, never a traceback."""
    return error_response(call, ProviderError(500, "server", internal_error_message(e)))


async def serve_chat(
    request: web.Request, state: ProviderState, protocol: ChatProtocol
) -> web.StreamResponse:
    state.catch_up_pacing()
    now = state.clock.monotonic
    call = start_call(request, protocol.api, protocol.family, now())
    plan: Plan | None = None
    try:
        body = await read_json(request, call, state)
        call.tags = protocol.tags(body, call.header_tags)
        model = body.get("model")
        call.model = model if isinstance(model, str) else None
        call.stream = body.get("stream") is True
        req = protocol.parse(body, state.catalogue)
        info = call.price = req.model
        input_tokens = req.input_tokens
        if input_tokens > info.context_window:
            raise context_length(info.id, info.context_window, input_tokens, protocol.family)
        call.input_tokens = input_tokens
        if state.limiter:
            admit(state, call, info.id, req.stream, input_tokens + (req.max_tokens or 0))
        fired = None
        ctx: FaultContext | None = None
        if state.engine:
            ctx = FaultContext(
                protocol.api,
                protocol.family,
                info.id,
                info.context_window,
                input_tokens,
                IDLE_RNG,
                req,
            )
            fired = fire(state, call, ctx, req.stream)
            if fired is not None:
                await answer_first(request, state, call, fired, ctx)
        if input_tokens >= state.prefix_cache.min_tokens:  # shorter prompts are never cached
            scope = f"{call.api_key}|{call.tags.tenant or ''}"
            call.cached_tokens = state.prefix_cache.lookup_and_store(scope, req.prompt_ids)
        rng = state.plan_rng(call.fingerprint)
        scenario = state.scenario
        reply = (
            scenario.scripted(protocol.api, info.id, call.tags, req.stream, req.last_text)
            if scenario.responses
            else None
        )
        length = scenario.lengths.for_call(protocol.api, info.id, call.tags, req.stream)
        plan = build_plan(req, state.pools.get(info.encoding), rng, reply, state.realistic, length)
        if fired is not None and ctx is not None:
            plan = fired.fault.transform(plan, ctx)
            if plan.cut:
                call.outcome = "reset" if plan.ending == "reset" else "partial"
        output_tokens = plan.output_tokens
        usage = Usage(input_tokens, call.cached_tokens, output_tokens)
        meta = protocol.new_meta()
        call.finish_reason = plan.finish if plan.ending == "complete" else None
        out = Outgoing(protocol, req, plan, usage, meta)
        if req.stream:
            return await send_stream(request, state, call, out)
        return await send_whole(request, state, call, out)
    except ProviderError as e:
        return error_response(call, e)
    except ConnectionCut:
        return web.Response(status=499)  # never sent: the connection is gone
    except asyncio.CancelledError:
        on_cancel(call, state, plan, now())
        raise
    except Exception as e:
        return _internal_error(call, e)
    finally:
        finish_call(call, state, now())


async def serve_embeddings(request: web.Request, state: ProviderState) -> web.StreamResponse:
    now = state.clock.monotonic
    call = start_call(request, "openai.embeddings", "openai", now())
    try:
        body = await read_json(request, call, state)
        call.tags = _OPENAI_CHAT.tags(body, call.header_tags)
        model = body.get("model")
        call.model = model if isinstance(model, str) else None
        req = embeddings.parse(body, state.catalogue)
        call.input_tokens = req.input_tokens
        if state.limiter:
            admit(state, call, req.model.id, False, req.input_tokens)
        if state.engine:
            ctx = FaultContext(
                "openai.embeddings",
                "openai",
                req.model.id,
                req.model.context_window,
                req.input_tokens,
                IDLE_RNG,
            )
            fired = fire(state, call, ctx, False)
            if fired is not None:
                await answer_first(request, state, call, fired, ctx)
        if state.realistic:
            await state.sleep(req.model.ttft_ms / 1000)
        data = embeddings.render(req, state.seed)
        call.cost_usd = req.model.cost_usd(req.input_tokens, 0, 0)
        call.ttft_ms = elapsed_ms(call.m_start, now())
        return json_response(data, call.response_headers())
    except ProviderError as e:
        return error_response(call, e)
    except ConnectionCut:
        return web.Response(status=499)
    except asyncio.CancelledError:
        on_cancel(call, state, None, now())
        raise
    except Exception as e:
        return _internal_error(call, e)
    finally:
        finish_call(call, state, now())
