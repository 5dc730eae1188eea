"""`POST /ask` against a real fake provider: OpenAI chat completions normally, failing over to
Anthropic's Messages API (through the `anthropic` SDK) with the signal, each provider's retry
hints honoured by the one shared policy, tags and the request id on both."""

from __future__ import annotations

import pytest

from sampleapp import SampleApp
from sampleapp.config import parse_config
from sampleapp.errors import ConfigError
from tests.sampleapp.conftest import Rig

TAGS = {"route": "ask", "feature": "assistant", "tenant": "acme"}
CALLER = {"X-Request-Id": "req-ask-1", "X-Tenant": "acme"}


async def test_an_ask_is_answered_by_the_openai_primary(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/ask", {"question": "What is churn?"}, CALLER)
    assert reply.status == 200, reply.text
    assert reply.headers["x-request-id"] == "req-ask-1"
    assert "x-degraded" not in reply.headers
    body = reply.json()
    assert body["answer"]
    assert (body["model"], body["provider"], body["degraded"]) == ("gpt-4o", "openai", False)
    [call] = rig.calls()
    assert (call.api, call.model, call.request_id, call.tags) == ("openai.chat", "gpt-4o", "req-ask-1", TAGS)
    assert body["input_tokens"] == call.input_tokens


async def test_a_429_storm_fails_over_to_anthropic_after_the_retry_after_and_says_so(
    rig: Rig, app: SampleApp
) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "rate_limit", "retry_after_ms": 200})
    reply = await rig.post(app, "/ask", {"question": "What is churn?"}, CALLER)
    assert reply.status == 200, reply.text
    assert reply.headers["x-degraded"] == "fallback"
    body = reply.json()
    assert body["answer"]
    assert (body["model"], body["provider"], body["degraded"]) == ("claude-haiku-4-5", "anthropic", True)
    calls = rig.calls()
    assert [(c.api, c.model, c.status) for c in calls] == [
        ("openai.chat", "gpt-4o", 429),
        ("openai.chat", "gpt-4o", 429),
        ("anthropic.messages", "claude-haiku-4-5", 200),
    ]
    assert calls[1].ts_start - calls[0].ts_end >= 0.2 - 0.02  # OpenAI's retry-after-ms waited
    assert all((c.request_id, c.tags) == ("req-ask-1", TAGS) for c in calls)  # on both providers
    assert calls[2].output_tokens <= 120  # the route's output cap went to Anthropic too


async def test_anthropics_own_529_is_retried_after_a_backoff(rig: Rig, app: SampleApp) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    await rig.fault(
        match={"model": "claude-haiku-4-5"}, first_attempts=3, fault={"kind": "http_error", "status": 529}
    )
    reply = await rig.post(app, "/ask", {"question": "What is churn?"})
    assert reply.status == 200, reply.text
    assert reply.json()["model"] == "claude-haiku-4-5"
    calls = rig.calls()
    assert [(c.api, c.status) for c in calls] == [
        ("openai.chat", 503),
        ("openai.chat", 503),
        ("anthropic.messages", 529),
        ("anthropic.messages", 200),
    ]
    assert calls[3].ts_start - calls[2].ts_end >= 0.05 - 0.01  # the backoff's floor, not at once


async def test_anthropics_retry_after_is_honoured(rig: Rig, app: SampleApp) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    await rig.fault(
        match={"model": "claude-haiku-4-5"},
        first_attempts=3,
        fault={"kind": "rate_limit", "retry_after_ms": 200},  # Anthropic sends whole seconds: 1
    )
    reply = await rig.post(app, "/ask", {"question": "What is churn?"})
    assert reply.status == 200, reply.text
    calls = rig.calls()
    assert [(c.api, c.status) for c in calls] == [
        ("openai.chat", 503),
        ("openai.chat", 503),
        ("anthropic.messages", 429),
        ("anthropic.messages", 200),
    ]
    assert calls[3].ts_start - calls[2].ts_end >= 1.0 - 0.02


async def test_both_providers_down_is_a_503_after_capped_attempts(rig: Rig, app: SampleApp) -> None:
    await rig.fault(fault={"kind": "http_error", "status": 503})
    reply = await rig.post(app, "/ask", {"question": "What is churn?"})
    assert reply.status == 503
    assert reply.headers["x-degraded"] == "unavailable"
    assert [c.api for c in rig.calls()] == ["openai.chat"] * 2 + ["anthropic.messages"] * 2


async def test_a_silent_fallback_flaw_hides_the_failover(rig: Rig) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    async with rig.app(flaws=["silent_fallback"]) as app:
        reply = await rig.post(app, "/ask", {"question": "What is churn?"})
    assert reply.status == 200, reply.text
    assert "x-degraded" not in reply.headers
    assert (reply.json()["model"], reply.json()["degraded"]) == ("claude-haiku-4-5", False)


async def test_an_over_budget_question_is_refused_before_any_provider_call(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/ask", {"question": "Why do the figures differ across regions? " * 400})
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "input_too_long"
    assert rig.calls() == []


def test_the_ask_models_must_differ_and_the_error_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"routes\.ask.*must differ"):
        parse_config({"routes": {"ask": {"fallback_model": "gpt-4o"}}})
