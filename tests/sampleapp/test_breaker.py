"""The circuit breaker: its state machine on an injected clock, the policy skipping an open
model, and an outage through the real provider with and without it (`no_breaker`)."""

from __future__ import annotations

import asyncio
import random

import pytest

from sampleapp.breaker import Breakers, CircuitBreaker, State
from sampleapp.config import AppConfig, BreakerConfig
from sampleapp.errors import RouteError
from sampleapp.flaws import Behaviour
from sampleapp.policy import Deadline, Policy, ProviderBroke
from tests.sampleapp.conftest import QUICK, Rig

OUTAGE = {"kind": "http_error", "status": 503}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: Clock, **settings: float) -> CircuitBreaker:
    return CircuitBreaker(BreakerConfig.model_validate(settings), clock)


# --- the state machine ---------------------------------------------------------------------


def test_it_opens_after_the_consecutive_failures_and_a_success_resets_the_count() -> None:
    breaker = _breaker(Clock(), failure_threshold=3)
    for _ in range(2):
        assert breaker.allow()
        breaker.failed()
    breaker.succeeded()
    for _ in range(2):
        breaker.failed()
    assert breaker.state is State.CLOSED
    breaker.failed()
    assert breaker.state is State.OPEN
    assert not breaker.allow()


def test_it_opens_on_the_failure_rate_in_its_window_once_enough_calls_ended() -> None:
    clock = Clock()
    breaker = _breaker(clock, failure_threshold=100, failure_rate=0.5, window_s=10, min_calls=6)
    for _ in range(2):  # fail, fail, succeed, ...: never 3 in a row, but 2/3 failed
        breaker.failed()
        breaker.failed()
        breaker.succeeded()
        clock.now += 1
    assert breaker.state is State.CLOSED  # judged when a call fails
    breaker.failed()  # 5 of 7
    assert breaker.state is State.OPEN


def test_outcomes_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    breaker = _breaker(clock, failure_threshold=100, failure_rate=0.5, window_s=10, min_calls=4)
    for _ in range(3):
        breaker.failed()
    clock.now = 10.5  # those three are out of the window now
    breaker.succeeded()
    breaker.failed()
    breaker.succeeded()
    assert breaker.state is State.CLOSED  # 1 of 3 in the window, and fewer than min_calls


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes_it() -> None:
    clock = Clock()
    breaker = _breaker(clock, failure_threshold=1, cooldown_s=2)
    breaker.failed()
    clock.now = 1.9
    assert (breaker.state, breaker.allow()) == (State.OPEN, False)
    clock.now = 2.0
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.succeeded()
    assert breaker.state is State.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_probe_opens_it_for_another_cool_down() -> None:
    clock = Clock()
    breaker = _breaker(clock, failure_threshold=1, cooldown_s=2)
    breaker.failed()
    clock.now = 2.0
    assert breaker.allow()
    breaker.failed()
    assert breaker.state is State.OPEN
    clock.now = 3.9
    assert not breaker.allow()
    clock.now = 4.0
    assert breaker.allow()


def test_a_probe_that_said_nothing_gives_its_slot_back() -> None:
    clock = Clock()
    breaker = _breaker(clock, failure_threshold=1, cooldown_s=1)
    breaker.failed()
    clock.now = 1.0
    assert breaker.allow()
    breaker.released()  # e.g. a cancelled call
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()


def test_each_model_has_its_own_breaker() -> None:
    breakers = Breakers(BreakerConfig(failure_threshold=1), Clock())
    breakers["gpt-4o"].failed()
    assert breakers["gpt-4o"].state is State.OPEN
    assert breakers["gpt-4o-mini"].state is State.CLOSED
    assert breakers["gpt-4o"] is breakers["gpt-4o"]


def test_bad_breaker_settings_are_refused_naming_the_field() -> None:
    from sampleapp.config import parse_config
    from sampleapp.errors import ConfigError

    with pytest.raises(ConfigError, match=r"breaker\.failure_rate: "):
        parse_config({"breaker": {"failure_rate": 1.5}})
    with pytest.raises(ConfigError, match=r"breaker\.cooldown_s: "):
        parse_config({"breaker": {"cooldown_s": 0}})


# --- the policy with breakers ----------------------------------------------------------------


async def _no_sleep(seconds: float) -> None:
    return None


def _policy(clock: Clock, behaviour: Behaviour | None = None) -> Policy:
    config = AppConfig.model_validate({"breaker": {"failure_threshold": 2, "cooldown_s": 5}})
    return Policy(config, behaviour or Behaviour(), rng=random.Random(1), sleep=_no_sleep, clock=clock)


async def test_an_open_primary_is_skipped_and_the_fallback_answers_with_no_primary_call() -> None:
    clock = Clock()
    policy = _policy(clock)
    tried: list[str] = []

    async def attempt(model: str, timeout_s: float) -> str:
        tried.append(model)
        if model == "gpt-4o":
            raise ProviderBroke("down")
        return "an answer"

    first = await policy.run(Deadline(10.0), policy.chat_stages(), attempt)
    assert (first.model, first.fallback) == ("gpt-4o-mini", True)
    assert tried == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]  # two failures: the primary's opens
    tried.clear()
    for _ in range(5):
        answer = await policy.run(Deadline(10.0), policy.chat_stages(), attempt)
        assert (answer.model, answer.fallback) == ("gpt-4o-mini", True)
    assert tried == ["gpt-4o-mini"] * 5
    tried.clear()
    clock.now = 5.0  # cool-down over: one request probes the primary, which answers again
    healthy = await policy.run(Deadline(10.0), policy.chat_stages(), lambda m, t: _answer(m, tried))
    assert (healthy.model, healthy.fallback) == ("gpt-4o", False)
    assert tried == ["gpt-4o"]


async def _answer(model: str, tried: list[str]) -> str:
    tried.append(model)
    return "an answer"


async def test_when_every_breaker_is_open_the_route_answers_503_without_a_call() -> None:
    policy = _policy(Clock())
    assert policy.breakers is not None
    for model in ("gpt-4o", "gpt-4o-mini"):
        policy.breakers[model].failed()
        policy.breakers[model].failed()
    tried: list[str] = []
    with pytest.raises(RouteError) as caught:
        await policy.run(Deadline(10.0), policy.chat_stages(), lambda m, t: _answer(m, tried))
    assert caught.value.status == 503
    assert "circuit open" in caught.value.message
    assert tried == []


def test_no_breaker_has_no_breakers() -> None:
    assert _policy(Clock(), Behaviour(circuit_breaker=False)).breakers is None


# --- an outage through the real provider -----------------------------------------------------

REQUESTS = 12


async def _outage(rig: Rig, flaws: list[str]) -> list[int]:
    """REQUESTS /summarize requests in a primary outage; the primary calls each one made."""
    await rig.fault(name="primary-down", match={"model": "gpt-4o"}, fault=OUTAGE)
    config = {**QUICK, "breaker": {"failure_threshold": 4, "cooldown_s": 60}}
    async with rig.app(config, flaws=flaws) as app:
        for i in range(REQUESTS):
            reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": f"r-{i}"})
            assert reply.status == 200, reply.text
            assert (reply.headers["x-degraded"], reply.json()["model"]) == ("fallback", "gpt-4o-mini")
    return [sum(c.model == "gpt-4o" for c in rig.calls(f"r-{i}")) for i in range(REQUESTS)]


async def test_in_an_outage_the_breaker_stops_the_calls_to_the_primary(rig: Rig) -> None:
    per_request = await _outage(rig, [])
    assert per_request == [2, 2] + [0] * (REQUESTS - 2)  # open after 4 failures: two requests


async def test_no_breaker_keeps_every_request_calling_the_down_primary(rig: Rig) -> None:
    per_request = await _outage(rig, ["no_breaker"])
    assert per_request == [2] * REQUESTS


async def test_after_the_outage_the_probe_closes_the_breaker_and_the_primary_answers(rig: Rig) -> None:
    await rig.fault(name="primary-down", match={"model": "gpt-4o"}, fault=OUTAGE)
    config = {**QUICK, "breaker": {"failure_threshold": 2, "cooldown_s": 0.2}}
    async with rig.app(config) as app:
        for _ in range(2):
            reply = await rig.post(app, "/summarize", {"text": "hi"})
            assert reply.json()["model"] == "gpt-4o-mini"
        async with rig.http.delete(rig.provider.url + "/control/faults/primary-down") as resp:
            assert resp.status == 200
        reply = await rig.post(app, "/summarize", {"text": "hi"})
        assert reply.json()["model"] == "gpt-4o-mini"  # still open: no call to the primary
        await asyncio.sleep(0.25)  # the cool-down
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-probe"})
        assert (reply.json()["model"], reply.json()["degraded"]) == ("gpt-4o", False)
        assert "x-degraded" not in reply.headers
    assert [c.model for c in rig.calls("r-probe")] == ["gpt-4o"]


async def test_a_run_of_rate_limits_opens_the_breaker_and_the_fleet_stops_calling(rig: Rig) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "rate_limit", "retry_after_ms": 1})
    config = {**QUICK, "breaker": {"failure_threshold": 3, "cooldown_s": 60}}
    async with rig.app(config) as app:
        for i in range(3):
            reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": f"r-{i}"})
            assert reply.status == 200
            assert (reply.json()["model"], reply.headers["x-degraded"]) == ("gpt-4o-mini", "fallback")
    # Two 429s for the first request (its primary attempts), the third opened the breaker on the
    # second; the third request went straight to the fallback.
    primary = [sum(c.model == "gpt-4o" for c in rig.calls(f"r-{i}")) for i in range(3)]
    assert primary == [2, 1, 0]
    assert all(c.status == 429 for c in rig.calls() if c.model == "gpt-4o")
