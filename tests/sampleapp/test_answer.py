"""`POST /answer` against a real fake provider: a Responses API call, tagged, capped, falling
back with the signal, and refused over budget before any call."""

from __future__ import annotations

from sampleapp import SampleApp
from tests.conftest import LONG_ANSWERS, put_scenario
from tests.sampleapp.conftest import QUICK, Rig

LONG_QUESTION = "Why do the quarterly figures for churn and hiring differ across regions? " * 200


async def test_an_answer_is_one_tagged_responses_call_with_the_callers_request_id(rig: Rig) -> None:
    put_scenario(rig.provider.url, LONG_ANSWERS)
    async with rig.app({**QUICK, "routes": {"answer": {"max_output_tokens": 16}}}) as app:
        reply = await rig.post(
            app, "/answer", {"question": "What is churn?"}, {"X-Request-Id": "req-ans-1", "X-Tenant": "acme"}
        )
    assert reply.status == 200, reply.text
    assert reply.headers["x-request-id"] == "req-ans-1"
    assert "x-degraded" not in reply.headers
    body = reply.json()
    assert body["answer"]
    assert (body["model"], body["degraded"]) == ("gpt-4o", False)
    [call] = rig.calls()
    assert (call.api, call.request_id) == ("openai.responses", "req-ans-1")
    assert call.tags == {"route": "answer", "feature": "faq", "tenant": "acme"}
    # max_output_tokens went out: the long answer stopped at the cap.
    assert (call.output_tokens, call.finish_reason) == (16, "length")
    # The assembler's count is the one the provider bills for a Responses prompt.
    assert body["input_tokens"] == call.input_tokens
    assert len(rig.provider.state.responses) == 0  # store: false


async def test_a_failing_primary_falls_back_and_says_so(rig: Rig, app: SampleApp) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    reply = await rig.post(app, "/answer", {"question": "What is churn?"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-degraded"] == "fallback"
    body = reply.json()
    assert (body["model"], body["degraded"]) == ("gpt-4o-mini", True)
    assert [c.model for c in rig.calls()] == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]


async def test_an_over_budget_question_is_refused_before_any_provider_call(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/answer", {"question": LONG_QUESTION})
    assert reply.status == 413
    error = reply.json()["error"]
    assert (error["code"], error["max_input_tokens"]) == ("input_too_long", 2000)
    assert rig.calls() == []
