"""Sending a chat answer once its plan exists: whole or streamed, cut or stalled where the plan
says, and how far it got: a drop bills the tokens already written (the `Call` keeps the bill).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp import web

from fakeprovider.dialects.base import ChatDialect, Chunk, ResponseMeta, Usage
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan, Stall
from fakeprovider.generation.request import ChatRequest
from fakeprovider.serving.call import Call, elapsed_ms
from fakeprovider.serving.direct import json_answer
from fakeprovider.serving.gate import Gate, hold
from fakeprovider.serving.pacing import Progress, play_by_sleeping
from fakeprovider.serving.transport import ConnectionCut, cut_connection
from fakeprovider.state import ProviderState

# A stall's last keep-alive interval that ends within this of its end is its end: no keep-alive
# goes out a float's width before the stream resumes.
_RESUME_SLACK_S = 1e-6


def internal_error_message(e: Exception) -> str:
    """How a bug of ours is labelled in the ledger and in the 500 that answers it."""
    return f"internal error in the fake provider: {e!r}"


@dataclass(slots=True)
class Outgoing:
    """What one chat call answers: its plan, usage and ids, and the dialect that renders them."""

    dialect: ChatDialect
    req: ChatRequest
    plan: Plan
    usage: Usage
    meta: ResponseMeta

    def body(self) -> bytes:
        return self.dialect.render_body(self.req, self.plan, self.usage, self.meta)

    def sse(self) -> Iterator[Chunk]:
        return self.dialect.render_sse(self.req, self.plan, self.usage, self.meta)

    def error(self) -> ProviderError:
        """What an `error_event` ending sends: the plan's own error, else the dialect's."""
        return self.plan.error or self.dialect.mid_stream_error(self.req.stream)


async def send_plan(
    request: web.Request,
    state: ProviderState,
    call: Call,
    dialect: ChatDialect,
    req: ChatRequest,
    plan: Plan,
    gate: Gate,
    meta: ResponseMeta,
    output_tokens: int | None = None,
) -> web.StreamResponse:
    """Send a chat call's plan, generated or replayed, once the fault that fired (`gate`) has
    transformed it: whole or streamed. The output billed is `output_tokens` (a recording's
    usage) unless a fault changed the plan, else what the plan's events carry."""
    fired, ctx = gate
    if fired is not None and ctx is not None:
        plan = fired.fault.transform(plan, ctx)
        output_tokens = None
        if plan.cut:
            call.cut_short(plan)
    call.plan = plan
    if output_tokens is None:
        output_tokens = plan.output_tokens
    usage = Usage(call.input_tokens, call.cached_tokens, output_tokens, call.written_5m, call.written_1h)
    call.finish_reason = plan.finish if plan.ending == "complete" else None
    out = Outgoing(dialect, req, plan, usage, meta)
    if req.stream:
        return await send_stream(request, state, call, out)
    return await send_whole(request, state, call, out)


async def send_whole(
    request: web.Request, state: ProviderState, call: Call, out: Outgoing
) -> web.StreamResponse:
    """A non-streamed answer: wait for the whole generation, then send it (or cut)."""
    plan = out.plan
    total = sum(plan.delays) + plan.tail_delay
    if total > 0:
        await state.sleep(total)
    if plan.ending == "error_event":
        raise out.error()
    if plan.ending in ("drop", "reset"):
        call.cut(before_answer=False)
        call.bill(0)  # the prompt was read; no output reached the caller
        cut_connection(request, reset=plan.ending == "reset")
        raise ConnectionCut
    call.bill(out.usage.output_tokens)
    call.ttft_ms = elapsed_ms(call.m_start, state.clock.monotonic())
    return json_answer(out.body(), call.response_headers())


async def send_stream(
    request: web.Request, state: ProviderState, call: Call, out: Outgoing
) -> web.StreamResponse:
    """A streamed answer, paced chunk by chunk, ended as its plan says."""
    now = state.clock.monotonic
    plan = out.plan
    headers = call.response_headers()
    headers["Content-Type"] = out.dialect.stream_content_type
    headers["Cache-Control"] = "no-cache"
    resp = web.StreamResponse(status=200, headers=headers)
    progress = Progress()
    pacer = state.pacer()
    transport = request.transport

    def first_content() -> None:
        if call.ttft_ms is None:  # a stalled stream is played in two parts
            call.ttft_ms = elapsed_ms(call.m_start, now())

    async def play(chunks: Iterator[Chunk]) -> None:
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

    try:
        await resp.prepare(request)
        chunks = out.sse()
        stall = plan.stall
        if stall is not None:
            await play(through_tokens(chunks, stall.after_tokens))
            call.holding = True  # the caller giving up now is a timeout, as for a hang
            await stall_stream(resp, state, stall, out.dialect.keepalive())
            call.holding = False
        await play(chunks)  # the rest, if stalled: its first chunk's delay counts from the stall's end
        if plan.ending == "error_event":
            if plan.tail_delay > 0:
                await state.sleep(plan.tail_delay)
            error = out.error()
            await resp.write(out.dialect.stream_error(error, out.req, out.meta))
            call.error = out.dialect.error_message(error)
        elif plan.ending in ("drop", "reset"):
            call.bill(progress.tokens)
            cut_connection(request, reset=plan.ending == "reset")
            return resp
        await resp.write_eof()
    except ConnectionError:
        call.client_left()
    except asyncio.CancelledError:
        call.bill(progress.tokens)
        raise
    except Exception as e:
        # A bug of ours after the headers went out: no error answer can follow a 200, so end
        # the stream unterminated (the caller sees a drop) and say why in the ledger.
        call.broke(internal_error_message(e))
        call.bill(progress.tokens)
        cut_connection(request, reset=False)
        return resp
    call.bill(progress.tokens)
    return resp


def through_tokens(chunks: Iterator[Chunk], n: int) -> Iterator[Chunk]:
    """`chunks` up to the one that brings the tokens written to `n` (none at all for 0), leaving
    the rest in `chunks` (a plan's stall point is never past its last token)."""
    if n <= 0:
        return
    written = 0
    for chunk in chunks:
        yield chunk
        written += chunk.tokens
        if written >= n:
            return


async def stall_stream(
    resp: web.StreamResponse, state: ProviderState, stall: Stall, keepalive: bytes | None
) -> None:
    """Keep an open stream silent for the stall's time (for ever if it has none), but for the
    protocol's keep-alive every `keepalive_s` where it has one. Stalled time bills nothing."""
    every = stall.keepalive_s
    if every is None or keepalive is None:
        await hold(state, stall.seconds)
        return
    left = stall.seconds
    while True:
        step = every if left is None else min(every, left)
        await state.sleep(step)
        if left is not None:
            left -= step
            if left <= _RESUME_SLACK_S:
                return
        await resp.write(keepalive)  # raises once the caller has gone
