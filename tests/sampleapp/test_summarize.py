"""`POST /summarize` against a real fake provider: tags, request ids, token budgets, errors."""

from __future__ import annotations

from sampleapp import SampleApp
from tests.sampleapp.conftest import QUICK, Rig

LONG_TEXT = "The quarterly report covers revenue, churn and hiring across three regions. " * 100


async def test_a_summary_call_is_tagged_capped_and_carries_the_callers_request_id(rig: Rig) -> None:
    async with rig.app({**QUICK, "routes": {"summarize": {"max_output_tokens": 7}}}) as app:
        reply = await rig.post(
            app, "/summarize", {"text": "hello there"}, {"X-Request-Id": "req-sum-1", "X-Tenant": "acme"}
        )
    assert reply.status == 200, reply.text
    assert reply.headers["x-request-id"] == "req-sum-1"
    assert "x-degraded" not in reply.headers
    body = reply.json()
    assert body["summary"]
    assert (body["model"], body["degraded"], body["trimmed"]) == ("gpt-4o", False, False)
    [call] = rig.calls()
    assert call.request_id == "req-sum-1"
    assert call.tags == {"route": "summarize", "feature": "summary", "tenant": "acme"}
    # max_tokens went out: the answer stopped at the cap.
    assert (call.output_tokens, call.finish_reason) == (7, "length")
    # The assembler's count is the real tokenizer's, framed as the provider bills it.
    assert body["input_tokens"] == call.input_tokens


async def test_without_a_request_id_the_app_makes_one_echoes_and_forwards_it(
    rig: Rig, app: SampleApp
) -> None:
    reply = await rig.post(app, "/summarize", {"text": "hello"})
    assert reply.status == 200, reply.text
    rid = reply.headers["x-request-id"]
    assert rid
    [call] = rig.calls()
    assert call.request_id == rid
    assert call.tags["tenant"] == "public"  # default_tenant


async def test_an_over_budget_text_is_refused_before_any_provider_call(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/summarize", {"text": LONG_TEXT * 2})
    assert reply.status == 413
    error = reply.json()["error"]
    assert error["code"] == "input_too_long"
    assert error["max_input_tokens"] == 2000
    assert error["input_tokens"] > 2000
    assert rig.calls() == []


async def test_trim_cuts_the_text_to_fit_and_says_so(rig: Rig) -> None:
    config = {**QUICK, "routes": {"summarize": {"on_input_over_budget": "trim", "max_input_tokens": 100}}}
    async with rig.app(config) as app:
        reply = await rig.post(app, "/summarize", {"text": LONG_TEXT})
    assert reply.status == 200, reply.text
    assert reply.headers["x-input-trimmed"] == "true"
    body = reply.json()
    assert body["trimmed"] is True
    [call] = rig.calls()
    assert call.input_tokens == body["input_tokens"]
    assert 90 <= call.input_tokens <= 100


async def test_a_text_within_budget_is_not_trimmed(rig: Rig) -> None:
    config = {**QUICK, "routes": {"summarize": {"on_input_over_budget": "trim"}}}
    async with rig.app(config) as app:
        reply = await rig.post(app, "/summarize", {"text": "short"})
    assert reply.status == 200
    assert "x-input-trimmed" not in reply.headers
    assert reply.json()["trimmed"] is False


async def test_the_providers_context_length_error_is_a_413_without_retry(rig: Rig, app: SampleApp) -> None:
    await rig.fault(fault={"kind": "context_length"})
    reply = await rig.post(app, "/summarize", {"text": "hello"})
    assert reply.status == 413
    error = reply.json()["error"]
    assert error["code"] == "input_too_long"
    assert error["max_input_tokens"] == 2000
    [call] = rig.calls()
    assert error["input_tokens"] == call.input_tokens


async def test_bad_json_and_missing_fields_are_400_bad_request(rig: Rig, app: SampleApp) -> None:
    async with rig.http.post(app.url + "/summarize", data=b"{not json") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "bad_request"
        assert resp.headers["x-request-id"]
    reply = await rig.post(app, "/summarize", {"txt": "typo"})
    assert reply.status == 400
    assert "text: Field required" in reply.json()["error"]["message"]
    reply = await rig.post(app, "/summarize", ["not", "an", "object"])
    assert reply.status == 400
    assert rig.calls() == []
