"""What a call meets before its plan: the quotas that admit it, and a fault that answers first.

Every call passes the same gate, whatever its dialect: the
limiter admits the call (or raises its 429), the engine may fire a rule, and a fault that
answers instead of the plan (an error, a reset, a hold) acts here. Faults that rewrite a plan
act later, once the plan exists.
"""

from __future__ import annotations

import asyncio
import random

from aiohttp import web

from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.errors import ProviderError
from fakeprovider.faults.base import CutConnection, FaultContext, Hold
from fakeprovider.generation.request import ChatRequest
from fakeprovider.scenario.engine import ActiveRule
from fakeprovider.serving.call import Call
from fakeprovider.serving.transport import ConnectionCut, cut_connection
from fakeprovider.state import ProviderState

_FAULT_SEED_SALT = 0x5EED_FA17
IDLE_RNG = random.Random(0)  # stands in until a rule fires
Gate = tuple[ActiveRule | None, FaultContext | None]  # the rule that fired, and its context
NOTHING_FIRED: Gate = (None, None)


def admit(state: ProviderState, call: Call, model: str, stream: bool, tokens: int) -> None:
    """Count the call against the quotas; their headers go on the answer, a refusal is raised."""
    admission = state.limiter.admit(call.api_key, call.tags, call.dialect.api, model, stream, tokens)
    call.extra_headers = call.dialect.quota_headers(admission.levels) if admission.levels else {}
    if admission.error is not None:
        raise admission.error


def fire(state: ProviderState, call: Call, ctx: FaultContext, stream: bool) -> ActiveRule | None:
    """The rule that fires on this call, if any (recorded on the call)."""
    fired = state.engine.decide(ctx, call.tags, stream, call.attempt, call.request_key)
    if fired is not None:
        call.fault = {"rule": fired.name, "kind": fired.fault.name}
        # Seeded only when a fault fires: the idle path stays cheap (`applies` never draws).
        ctx.rng = random.Random(state.request_seed(call.fingerprint) ^ _FAULT_SEED_SALT)
    return fired


async def check_faults(
    request: web.Request, state: ProviderState, call: Call, ctx: FaultContext, stream: bool
) -> ActiveRule | None:
    """The rule that fires on this call, if any, once a fault that answers first has acted."""
    fired = fire(state, call, ctx, stream)
    if fired is not None:
        await answer_first(request, state, call, fired, ctx)
    return fired


async def gate(
    request: web.Request,
    state: ProviderState,
    call: Call,
    info: ModelInfo,
    input_tokens: int,
    reserved: int,
    req: ChatRequest | None = None,
) -> Gate:
    """A call through the gate: its quota (`reserved` tokens: the prompt and what the answer may
    take), then its faults. `req` is the chat request (None for embeddings: nothing streams, no
    plan follows). The rule that fired (unless it answered instead) and its context."""
    stream = req is not None and req.stream
    if state.limiter:
        admit(state, call, info.id, stream, reserved)
    if not state.engine:
        return NOTHING_FIRED
    ctx = FaultContext(call.dialect.api, info.id, info.context_window, input_tokens, IDLE_RNG, req)
    return await check_faults(request, state, call, ctx, stream), ctx


async def answer_first(
    request: web.Request, state: ProviderState, call: Call, fired: ActiveRule, ctx: FaultContext
) -> None:
    """Act on a fault that answers before any plan: raise its error, cut, or hold."""
    answer = fired.fault.answer(ctx)
    if isinstance(answer, ProviderError):
        raise answer
    if isinstance(answer, CutConnection):
        call.cut(before_answer=True)
        cut_connection(request, reset=True)
        raise ConnectionCut
    if isinstance(answer, Hold):
        call.holding = True
        await hold(state, answer.seconds)
        call.holding = False


async def hold(state: ProviderState, seconds: float | None) -> None:
    """Wait `seconds` on the provider's clock; None: until the caller leaves (or the server stops)."""
    if seconds is None:
        await asyncio.Event().wait()
    else:
        await state.sleep(seconds)
