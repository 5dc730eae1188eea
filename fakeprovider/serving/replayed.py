"""Answering a call from a cassette (`--replay`, docs/replay.md "Replaying"): which recording
answers it, and the answer sent from it.

A chat recording's events become the call's plan, with the recorded usage, ids and timing; the
gate (quotas with the recorded tokens, faults) acts as on a generated one, a fired fault
transforms the replayed plan, and `delivery.py` sends it. An embeddings recording is sent as it
was recorded. A recorded error is replayed as it came. The handler calls in here only when the
provider has a cassette.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakeprovider.dialects.base import ChatDialect, Dialect, EmbeddingRequest, EmbeddingsDialect
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ChatRequest
from fakeprovider.replay.answer import NOT_RECORDED
from fakeprovider.replay.cassette import Exchange
from fakeprovider.replay.replayer import RecordedError, TimedAnswer
from fakeprovider.serving.call import Call, elapsed_ms
from fakeprovider.serving.delivery import send_plan
from fakeprovider.serving.gate import gate
from fakeprovider.state import ProviderState
from fakeprovider.surfaces import model_named


def find(
    request: web.Request, state: ProviderState, dialect: Dialect, body: dict[str, Any], stream: bool
) -> Exchange | None:
    """The recording that answers this request; on a miss None (generate), or under
    `--replay-miss error` the 400 naming the nearest recording."""
    replay = state.replay
    assert replay is not None
    model = model_named(body, request.match_info)  # as the recorder names it
    x = replay.find(dialect.api, model, stream, body)
    if x is None and replay.miss == "error":
        raise replay.miss_error(dialect.api, model, stream, body)
    return x


def chat_recording(
    request: web.Request,
    state: ProviderState,
    call: Call,
    dialect: ChatDialect,
    body: dict[str, Any],
    req: ChatRequest,
) -> TimedAnswer | RecordedError | None:
    """What the cassette answers this chat call with, or None to generate the answer: a scripted
    reply that matches wins over the recording."""
    scenario = state.scenario
    if scenario.responses and scenario.scripted(
        dialect.api, req.model.id, call.tags, req.stream, req.last_text
    ):
        return None
    x = find(request, state, dialect, body, req.stream)
    if x is None:
        return None
    assert state.replay is not None
    return state.replay.chat_answer(dialect, x)


async def answer_chat(
    request: web.Request,
    state: ProviderState,
    call: Call,
    dialect: ChatDialect,
    req: ChatRequest,
    recorded: TimedAnswer | RecordedError,
) -> web.StreamResponse:
    """A chat call answered from its recording: the recorded events at their recorded times, the
    recorded usage billed at the catalogue's prices; quotas and faults as for a generated one."""
    if isinstance(recorded, RecordedError):
        call.input_tokens = req.input_tokens
        await gate(request, state, call, req.model, req.input_tokens, req.input_tokens, req)
        return _recorded_error(call, recorded)
    usage = recorded.usage
    input_tokens = req.input_tokens if usage.input_tokens == NOT_RECORDED else usage.input_tokens
    call.input_tokens, call.cached_tokens = input_tokens, usage.cached_tokens
    call.written_5m, call.written_1h = usage.written_5m, usage.written_1h
    # The quota holds the recorded tokens: what the call will be billed.
    fired = await gate(request, state, call, req.model, input_tokens, input_tokens + usage.output_tokens, req)
    plan = Plan(recorded.events, recorded.delays, recorded.finish, tail_delay=recorded.tail_delay)
    meta = recorded.new_meta() or dialect.new_meta()
    return await send_plan(request, state, call, dialect, req, plan, fired, meta, usage.output_tokens)


def _recorded_error(call: Call, recorded: RecordedError) -> web.Response:
    """A recorded non-2xx answer, replayed as it came (status, body, retry headers)."""
    call.status = recorded.status
    call.outcome = "error"
    call.error = recorded.message
    headers = call.response_headers()
    headers.update(recorded.headers)
    return web.Response(
        status=recorded.status, body=recorded.body, content_type=recorded.content_type, headers=headers
    )


async def answer_embeddings(
    request: web.Request,
    state: ProviderState,
    call: Call,
    dialect: EmbeddingsDialect,
    req: EmbeddingRequest,
    x: Exchange,
) -> web.StreamResponse:
    """An embeddings call answered with the recorded body as it is, its usage billed."""
    replay = state.replay
    assert replay is not None
    recorded = replay.embedding_answer(x)
    info = req.model
    tokens = req.input_tokens if isinstance(recorded, RecordedError) else recorded.input_tokens
    call.input_tokens = tokens
    await gate(request, state, call, info, tokens, tokens)
    delay = replay.delay_s(x)
    if delay > 0:
        await state.sleep(delay)
    if isinstance(recorded, RecordedError):
        return _recorded_error(call, recorded)
    call.bill(0)
    call.ttft_ms = elapsed_ms(call.m_start, state.clock.monotonic())
    return web.Response(body=recorded.body, content_type="application/json", headers=call.response_headers())
