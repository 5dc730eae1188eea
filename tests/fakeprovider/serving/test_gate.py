"""The gate before a plan: which rule fires (and its seeded draws), and faults that answer first."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import make_mocked_request

from fakeprovider.clock import VirtualTime
from fakeprovider.dialects import DIALECTS
from fakeprovider.errors import ProviderError
from fakeprovider.faults.base import FaultContext
from fakeprovider.generation.request import Tags
from fakeprovider.scenario import parse_scenario
from fakeprovider.scenario.engine import ActiveRule
from fakeprovider.serving.call import Call
from fakeprovider.serving.gate import IDLE_RNG, answer_first, fire
from fakeprovider.state import ProviderConfig, ProviderState


def _state(fault: str, vt: VirtualTime | None = None) -> ProviderState:
    scenario = parse_scenario(f"faults: [{{name: r1, match: {{model: gpt-4o}}, fault: {fault}}}]")
    if vt is None:
        return ProviderState(ProviderConfig(latency="none", seed=3), scenario)
    return ProviderState(ProviderConfig(latency="none", seed=3), scenario, sleep=vt.sleep, time_source=vt)


def _call(fingerprint: str) -> Call:
    call = Call(DIALECTS["openai.chat"], "req-1", True, None, None, Tags(), "sk", 0.0, 0.0)
    call.fingerprint, call.request_key = fingerprint, "f:" + fingerprint
    return call


def _ctx(model: str = "gpt-4o") -> FaultContext:
    return FaultContext("openai.chat", model, 128_000, 10, IDLE_RNG)


def _fired(fault: str, vt: VirtualTime | None = None) -> tuple[ProviderState, Call, FaultContext, ActiveRule]:
    """A call the rule `r1` (with `fault`) has fired on."""
    state = _state(fault, vt)
    call, ctx = _call("abc"), _ctx()
    fired = fire(state, call, ctx, False)
    assert fired is not None
    return state, call, ctx, fired


def test_a_fired_rule_is_recorded_and_seeds_the_faults_draws_from_the_request() -> None:
    state = _state("{kind: http_error}")
    draws = []
    for fingerprint in ("abc", "abc", "xyz"):
        call, ctx = _call(fingerprint), _ctx()
        fired = fire(state, call, ctx, False)
        assert fired is not None
        assert fired.name == "r1"
        assert call.fault == {"rule": "r1", "kind": "http_error"}
        assert ctx.rng is not IDLE_RNG
        draws.append(ctx.rng.random())
    assert draws[0] == draws[1] != draws[2]


def test_no_rule_firing_leaves_the_call_and_the_idle_generator_alone() -> None:
    state = _state("{kind: http_error}")
    call, ctx = _call("abc"), _ctx(model="gpt-4o-mini")
    assert fire(state, call, ctx, False) is None
    assert call.fault is None
    assert ctx.rng is IDLE_RNG


async def test_an_error_fault_answers_by_raising_its_error() -> None:
    state, call, ctx, fired = _fired("{kind: http_error, status: 502}")
    with pytest.raises(ProviderError) as info:
        await answer_first(make_mocked_request("POST", "/"), state, call, fired, ctx)
    assert info.value.status == 502


async def test_a_hold_waits_its_time_then_lets_the_call_go_on() -> None:
    vt = VirtualTime()
    state, call, ctx, fired = _fired("{kind: hang, after_s: 30}", vt)
    await answer_first(make_mocked_request("POST", "/"), state, call, fired, ctx)
    assert vt.slept == [30.0]
    assert call.holding is False


async def test_a_hold_without_an_end_is_holding_until_cancelled() -> None:
    state, call, ctx, fired = _fired("{kind: hang}")
    task = asyncio.ensure_future(answer_first(make_mocked_request("POST", "/"), state, call, fired, ctx))
    await asyncio.sleep(0.01)
    assert call.holding
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.holding  # what `on_cancel` reads to record a timeout
