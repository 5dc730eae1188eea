"""The degradation policy: its waits and its loop in isolation (a fake attempt, an injected
sleep), then its calls as the provider's ledger records them (through `/summarize`)."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from sampleapp.config import AppConfig
from sampleapp.flaws import Behaviour
from sampleapp.policy import FLAW_WAIT_S, Deadline, Failure, Policy, ProviderBroke, retry_after_s
from tests.sampleapp.conftest import QUICK, Rig

OUTAGE = {"kind": "http_error", "status": 503}


def _policy(behaviour: Behaviour | None = None, **retry: float) -> Policy:
    config = AppConfig.model_validate({"retry": retry})
    return Policy(config, behaviour or Behaviour(), rng=random.Random(1))


# --- waits and the loop, in isolation ------------------------------------------------------


def test_retry_after_is_read_from_ms_seconds_or_an_http_date() -> None:
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "1"}) == pytest.approx(0.25)
    assert retry_after_s({"retry-after": "1.5"}) == pytest.approx(1.5)
    now = 1_000_000.0
    assert retry_after_s({"retry-after": formatdate(now + 3, usegmt=True)}, now=lambda: now) == pytest.approx(
        3
    )
    assert retry_after_s({"retry-after": "soon"}) is None
    assert retry_after_s({}) is None


def test_backoff_is_jittered_exponential_above_one_base_and_capped() -> None:
    policy = _policy(backoff_s=0.05, max_backoff_s=0.3)
    server_error = Failure("gpt-4o: 503")
    for retry, ceiling in ((1, 0.1), (2, 0.2), (3, 0.3), (6, 0.3)):
        waits = [policy.retry_wait(retry, server_error) for _ in range(200)]
        assert all(w is not None and 0.05 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 100  # jittered, not fixed


def test_a_retry_after_is_waited_unless_it_is_longer_than_the_cap() -> None:
    policy = _policy(max_retry_after_s=2.0)
    wait = policy.retry_wait(1, Failure("429", rate_limited=True, retry_after_s=0.7))
    assert wait is not None
    assert wait >= 0.7
    assert policy.retry_wait(1, Failure("429", rate_limited=True, retry_after_s=2.5)) is None
    # A 429 without retry-after gets the ordinary backoff.
    wait = policy.retry_wait(1, Failure("429", rate_limited=True))
    assert wait is not None
    assert 0.05 <= wait <= 0.1


def test_the_flawed_waits_are_a_fixed_ten_ms() -> None:
    ignore = _policy(Behaviour(honour_retry_after=False))
    assert ignore.retry_wait(1, Failure("429", rate_limited=True, retry_after_s=5.0)) == FLAW_WAIT_S
    unbounded = _policy(Behaviour(bounded_retries=False))
    assert unbounded.retry_wait(4, Failure("503")) == FLAW_WAIT_S


def test_a_deadline_counts_down_on_its_clock() -> None:
    now = [100.0]
    deadline = Deadline(2.0, clock=lambda: now[0])
    now[0] += 0.5
    assert deadline.remaining() == pytest.approx(1.5)


async def test_a_broken_attempt_is_retried_after_a_backoff_then_the_fallback_is_tried_at_once() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = Policy(AppConfig(), Behaviour(), rng=random.Random(1), sleep=sleep)
    tried: list[str] = []

    async def attempt(model: str, timeout_s: float) -> str:
        tried.append(model)
        if model == "gpt-4o":
            raise ProviderBroke("the stream ended before its first chunk")
        return "an answer"

    answer = await policy.run(Deadline(10.0), policy.chat_stages(), attempt)
    assert (answer.value, answer.model, answer.fallback) == ("an answer", "gpt-4o-mini", True)
    assert tried == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]
    [wait] = waits  # one backoff on the primary, none before the fallback
    assert 0.05 <= wait <= 0.1


def test_only_a_signalling_app_tells_the_caller_about_the_fallback() -> None:
    assert _policy().signalled(True) is True
    assert _policy().signalled(False) is False
    assert _policy(Behaviour(signal_degraded=False)).signalled(True) is False


# --- calls, as the provider saw them -------------------------------------------------------


async def test_a_primary_outage_makes_two_primary_calls_then_one_on_the_fallback(rig: Rig) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault=OUTAGE)
    async with rig.app() as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-outage"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-degraded"] == "fallback"
    body = reply.json()
    assert (body["model"], body["degraded"]) == ("gpt-4o-mini", True)
    calls = rig.calls("r-outage")
    assert [(c.model, c.attempt, c.status) for c in calls] == [
        ("gpt-4o", 1, 503),
        ("gpt-4o", 2, 503),
        ("gpt-4o-mini", 3, 200),
    ]
    assert all(c.tags["route"] == "summarize" for c in calls)
    # The retry on the primary waited (backoff floor 50 ms); the switch to the fallback did not.
    assert calls[1].ts_start - calls[0].ts_end >= 0.045


async def test_when_every_model_fails_the_route_answers_503_unavailable_after_three_calls(rig: Rig) -> None:
    await rig.fault(fault=OUTAGE)
    async with rig.app() as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"})
    assert reply.status == 503
    assert reply.headers["x-degraded"] == "unavailable"
    assert reply.json()["error"]["code"] == "provider_unavailable"
    assert len(rig.calls()) == 3


async def test_a_retry_waits_at_least_the_retry_after(rig: Rig) -> None:
    await rig.fault(first_attempts=1, fault={"kind": "rate_limit", "retry_after_ms": 300})
    async with rig.app() as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-429"})
    assert reply.status == 200, reply.text
    assert reply.json()["degraded"] is False
    first, second = rig.calls("r-429")
    assert (first.status, second.status, second.model) == (429, 200, "gpt-4o")
    assert second.ts_start - first.ts_end >= 0.3 - 0.02  # the provider's clock, generous slack


async def test_a_retry_after_longer_than_the_cap_goes_to_the_fallback_at_once(rig: Rig) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "rate_limit", "retry_after_s": 30})
    async with rig.app() as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-long"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-degraded"] == "fallback"
    first, second = rig.calls("r-long")
    assert (first.model, second.model) == ("gpt-4o", "gpt-4o-mini")
    assert second.ts_start - first.ts_end < 1.0


async def test_a_non_retryable_4xx_is_not_retried(rig: Rig) -> None:
    async with rig.app({**QUICK, "primary_model": "no-such-model"}) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"})
    assert reply.status == 502
    assert reply.json()["error"]["code"] == "provider_error"
    [call] = rig.calls()
    assert call.status == 404


async def test_a_hung_call_times_out_and_the_fallback_answers_at_once(rig: Rig) -> None:
    await rig.fault(first_attempts=1, fault={"kind": "hang"})
    async with rig.app({"retry": {"call_timeout_s": 1.0}}) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-hang"})
        assert reply.status == 200, reply.text
        assert reply.json()["model"] == "gpt-4o-mini"
        assert reply.headers["x-degraded"] == "fallback"
        await rig.settled(2)
    first, second = sorted(rig.calls("r-hang"), key=lambda c: c.attempt)
    assert (first.model, first.outcome) == ("gpt-4o", "timeout")
    assert (second.model, second.outcome) == ("gpt-4o-mini", "ok")


async def test_a_connection_reset_is_retried(rig: Rig) -> None:
    await rig.fault(first_attempts=1, fault={"kind": "connection_reset"})
    async with rig.app() as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-reset"})
    assert reply.status == 200, reply.text
    assert [c.outcome for c in rig.calls("r-reset")] == ["reset", "ok"]


async def test_a_short_route_timeout_ends_the_retries_with_503(rig: Rig) -> None:
    await rig.fault(fault={"kind": "hang"})
    config = {"retry": {"call_timeout_s": 5.0}, "routes": {"summarize": {"timeout_s": 0.4}}}
    async with rig.app(config) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"})
    assert reply.status == 503
    assert reply.json()["error"]["code"] == "provider_unavailable"
