"""Serving one chat or embeddings call: quotas, the fault engine, the plan, pacing, the cut.

The path is the same for every API: parse, count, admit (limits), let the engine pick a fault,
answer instead of the plan or transform it, then render and pace it. The ledger record is
written in `finally`, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from fakeprovider.calls import Call, elapsed_ms, error_response, finish_call, read_json, start_call
from fakeprovider.direct import json_answer
from fakeprovider.engine import ActiveRule
from fakeprovider.faults.base import CutConnection, FaultContext, Hold
from fakeprovider.pacing import Progress, play_by_sleeping
from fakeprovider.plan import Plan, ToolCallStart, build_plan
from fakeprovider.protocols import ChatProtocol, Chunk, ResponseMeta, Usage
from fakeprovider.protocols import openai_embeddings as embeddings
from fakeprovider.protocols.errors import ProviderError, context_length
from fakeprovider.protocols.openai_chat import OpenAIChat
from fakeprovider.request import ChatRequest
from fakeprovider.state import ProviderState

_FAULT_SEED_SALT = 0x5EED_FA17
_IDLE_RNG = random.Random(0)  # stands in until a rule fires


class ConnectionCut(Exception):
    """The answer ends by cutting the connection (already done when this is raised)."""


def json_response(data: Any, headers: dict[str, str], status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers=headers
    )


def cut_connection(request: web.Request, reset: bool) -> None:
    """Close the client's connection: a TCP RST when `reset`, else an orderly close (FIN)."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


async def _hold(state: ProviderState, hold: Hold) -> None:
    if hold.seconds is None:
        await asyncio.Event().wait()  # until the caller leaves (or the server stops)
    else:
        await state.sleep(hold.seconds)


def _fire(state: ProviderState, call: Call, ctx: FaultContext, stream: bool) -> ActiveRule | None:
    fired = state.engine.decide(ctx, call.tags, stream, call.attempt, call.request_key)
    if fired is not None:
        call.fault = {"rule": fired.name, "kind": fired.fault.name}
        # Seeded only when a fault fires: the idle path stays cheap (`applies` never draws).
        ctx.rng = random.Random(state.request_seed(call.fingerprint) ^ _FAULT_SEED_SALT)
    return fired


async def _answer_first(
    request: web.Request, state: ProviderState, call: Call, fired: ActiveRule, ctx: FaultContext
) -> None:
    """Act on a fault that answers before any plan: raise its error, cut, or hold."""
    answer = fired.fault.answer(ctx)
    if isinstance(answer, ProviderError):
        raise answer
    if isinstance(answer, CutConnection):
        call.outcome = "reset"
        call.status = 0
        cut_connection(request, reset=True)
        raise ConnectionCut
    if isinstance(answer, Hold):
        call.holding = True
        await _hold(state, answer)
        call.holding = False


def _admit(state: ProviderState, call: Call, model: str, stream: bool, tokens: int) -> None:
    admission = state.limiter.admit(call.family, call.api_key, call.tags, call.api, model, stream, tokens)
    call.extra_headers = admission.headers
    if admission.error is not None:
        raise admission.error


@dataclass(slots=True)
class Outgoing:
    """What one chat call answers: its plan, usage and ids, and the protocol that renders them."""

    protocol: ChatProtocol
    req: ChatRequest
    plan: Plan
    usage: Usage
    meta: ResponseMeta

    def body(self) -> bytes:
        return self.protocol.render_body(self.req, self.plan, self.usage, self.meta)

    def sse(self) -> Iterator[Chunk]:
        return self.protocol.render_sse(self.req, self.plan, self.usage, self.meta)


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
        info = req.model
        input_tokens = req.input_tokens
        if input_tokens > info.context_window:
            raise context_length(info.id, info.context_window, input_tokens, protocol.family)
        call.input_tokens = input_tokens
        if state.limiter:
            _admit(state, call, info.id, req.stream, input_tokens + (req.max_tokens or 0))
        fired = None
        ctx: FaultContext | None = None
        if state.engine:
            ctx = FaultContext(
                protocol.api,
                protocol.family,
                info.id,
                info.context_window,
                input_tokens,
                _IDLE_RNG,
                req,
            )
            fired = _fire(state, call, ctx, req.stream)
            if fired is not None:
                await _answer_first(request, state, call, fired, ctx)
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
        plan = build_plan(req, state.pools.get(info.encoding), rng, reply, state.realistic)
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
            return await _stream(request, state, call, out)
        return await _whole(request, state, call, out)
    except ProviderError as e:
        return error_response(call, e)
    except ConnectionCut:
        return web.Response(status=499)  # never sent: the connection is gone
    except asyncio.CancelledError:
        _on_cancel(call, state, plan, now())
        raise
    except Exception as e:  # a bug of ours: answer as the provider would, never a traceback
        return error_response(
            call, ProviderError(500, "server", f"internal error in the fake provider: {e!r}")
        )
    finally:
        finish_call(call, state, now())


def _on_cancel(call: Call, state: ProviderState, plan: Plan | None, now: float) -> None:
    """The caller went away: a hang becomes a timeout; bill what had been generated."""
    if call.holding:
        call.outcome = "timeout"
    elif call.outcome not in ("partial", "reset"):
        call.outcome = "client_cancelled"
    if call.status == 200 and (plan is None or not call.stream):
        # Nothing went out (a stream's headers go out only once its plan exists).
        call.status = 499
    call.finish_reason = None
    if plan is not None and not call.stream:
        _bill(call, state, _generated_by(plan, now - call.m_start))


async def _whole(request: web.Request, state: ProviderState, call: Call, out: Outgoing) -> web.StreamResponse:
    """A non-streamed answer: wait for the whole generation, then send it (or cut)."""
    plan = out.plan
    total = sum(plan.delays) + plan.tail_delay
    if total > 0:
        await state.sleep(total)
    if plan.ending == "error_event":
        assert plan.error is not None
        raise plan.error
    if plan.ending in ("drop", "reset"):
        call.status = 0  # no status line ever went out
        call.finish_reason = None
        _bill(call, state, 0)  # the prompt was read; no output reached the caller
        cut_connection(request, reset=plan.ending == "reset")
        raise ConnectionCut
    _bill(call, state, out.usage.output_tokens)
    call.ttft_ms = elapsed_ms(call.m_start, state.clock.monotonic())
    return json_answer(out.body(), call.response_headers())


async def _stream(
    request: web.Request, state: ProviderState, call: Call, out: Outgoing
) -> web.StreamResponse:
    now = state.clock.monotonic
    plan, protocol = out.plan, out.protocol
    headers = call.response_headers()
    headers["Content-Type"] = "text/event-stream; charset=utf-8"
    headers["Cache-Control"] = "no-cache"
    resp = web.StreamResponse(status=200, headers=headers)
    progress = Progress()

    def first_content() -> None:
        call.ttft_ms = elapsed_ms(call.m_start, now())

    try:
        await resp.prepare(request)
        pacer = state.pacer()
        transport = request.transport
        chunks = out.sse()
        # Real time: the loop's one pacer timer writes the chunks. An injected clock (tests'
        # virtual time) or an answer aiohttp does not chunk (HTTP/1.0) sleeps chunk by chunk.
        if (
            pacer is not None
            and transport is not None
            and resp.headers.get("Transfer-Encoding") == "chunked"
            and not resp.compression
        ):
            await pacer.play(chunks, transport, first_content, progress)
        else:
            await play_by_sleeping(chunks, resp, state.sleep, now, first_content, progress)
        if plan.ending == "error_event" and plan.error is not None:
            if plan.tail_delay > 0:
                await state.sleep(plan.tail_delay)
            await resp.write(protocol.stream_error(plan.error))
            call.error = plan.error.message
        elif plan.ending in ("drop", "reset"):
            _bill(call, state, progress.tokens)
            cut_connection(request, reset=plan.ending == "reset")
            return resp
        await resp.write_eof()
    except ConnectionError:
        call.outcome = "client_cancelled"
        call.finish_reason = None
    except asyncio.CancelledError:
        _bill(call, state, progress.tokens)
        raise
    except Exception as e:
        # A bug of ours after the headers went out: no error answer can follow a 200, so end
        # the stream unterminated (the caller sees a drop) and say why in the ledger.
        call.outcome = "error"
        call.error = f"internal error in the fake provider: {e!r}"
        call.finish_reason = None
        _bill(call, state, progress.tokens)
        cut_connection(request, reset=False)
        return resp
    _bill(call, state, progress.tokens)
    return resp


def _bill(call: Call, state: ProviderState, output_tokens: int) -> None:
    call.output_tokens = output_tokens
    info = state.catalogue.resolve(call.model or "")
    if info is not None:
        call.cost_usd = info.cost_usd(call.input_tokens, call.cached_tokens, output_tokens)


def _generated_by(plan: Plan, elapsed: float) -> int:
    """Output tokens whose scheduled time had passed `elapsed` seconds into the call."""
    t = 0.0
    n = 0
    for delay, event in zip(plan.delays, plan.events, strict=True):
        t += delay
        if t > elapsed:
            break
        if not isinstance(event, ToolCallStart):
            n += event.tokens
    return n


async def serve_embeddings(request: web.Request, state: ProviderState) -> web.StreamResponse:
    now = state.clock.monotonic
    call = start_call(request, "openai.embeddings", "openai", now())
    try:
        body = await read_json(request, call, state)
        call.tags = OpenAIChat().tags(body, call.header_tags)
        model = body.get("model")
        call.model = model if isinstance(model, str) else None
        req = embeddings.parse(body, state.catalogue)
        call.input_tokens = req.input_tokens
        if state.limiter:
            _admit(state, call, req.model.id, False, req.input_tokens)
        if state.engine:
            ctx = FaultContext(
                "openai.embeddings",
                "openai",
                req.model.id,
                req.model.context_window,
                req.input_tokens,
                _IDLE_RNG,
            )
            fired = _fire(state, call, ctx, False)
            if fired is not None:
                await _answer_first(request, state, call, fired, ctx)
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
        _on_cancel(call, state, None, now())
        raise
    except Exception as e:
        return error_response(
            call, ProviderError(500, "server", f"internal error in the fake provider: {e!r}")
        )
    finally:
        finish_call(call, state, now())
