"""`POST /extract`: one forced tool call, validated; capped re-asks on malformed calls."""

from __future__ import annotations

import pytest
from openai.types.chat import ChatCompletionMessage

from sampleapp import SampleApp
from sampleapp.extract import check_call
from tests.sampleapp.conftest import Rig

TEXT = {"text": "Ada Lovelace (ada@engines.example) runs research at Analytical Engines Ltd."}


def _malformed(mode: str, first_attempts: int | None = None) -> dict[str, object]:
    rule: dict[str, object] = {"fault": {"kind": "malformed_tool_call", "mode": mode}}
    if first_attempts is not None:
        rule["first_attempts"] = first_attempts
    return rule


async def test_a_valid_tool_call_gives_the_fields_with_no_reask(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/extract", TEXT, {"X-Request-Id": "r-x", "X-Tenant": "acme"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-reasks"] == "0"
    body = reply.json()
    assert set(body["fields"]) == {"name", "email", "company"}
    assert all(isinstance(v, str) for v in body["fields"].values())
    assert (body["model"], body["degraded"], body["reasks"]) == ("gpt-4o", False, 0)
    [call] = rig.calls("r-x")
    assert call.tags == {"route": "extract", "feature": "contact-extraction", "tenant": "acme"}
    assert call.finish_reason == "tool_calls"


@pytest.mark.parametrize("mode", ["invalid_json", "missing_required", "wrong_type", "unknown_tool"])
async def test_a_malformed_call_is_reasked_and_the_next_valid_one_is_used(
    rig: Rig, app: SampleApp, mode: str
) -> None:
    await rig.fault(**_malformed(mode, first_attempts=1))
    reply = await rig.post(app, "/extract", TEXT, {"X-Request-Id": f"r-{mode}"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-reasks"] == "1"
    assert reply.json()["reasks"] == 1
    calls = rig.calls(f"r-{mode}")
    assert [c.fault is not None for c in calls] == [True, False]
    # The re-ask carried the bad call and the error back: a longer prompt.
    assert calls[1].input_tokens > calls[0].input_tokens


async def test_after_max_reasks_the_route_answers_502_malformed_output(rig: Rig, app: SampleApp) -> None:
    await rig.fault(**_malformed("truncated_json"))
    reply = await rig.post(app, "/extract", TEXT, {"X-Request-Id": "r-bad"})
    assert reply.status == 502
    error = reply.json()["error"]
    assert (error["code"], error["reasks"]) == ("malformed_output", 2)
    assert "JSON" in error["message"]
    assert reply.headers["x-reasks"] == "2"
    assert len(rig.calls("r-bad")) == 3  # the first ask and two re-asks


async def test_a_reask_after_a_fallback_stays_on_the_fallback(rig: Rig, app: SampleApp) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    await rig.fault(match={"model": "gpt-4o-mini"}, **_malformed("invalid_json", first_attempts=3))
    reply = await rig.post(app, "/extract", TEXT, {"X-Request-Id": "r-fb"})
    assert reply.status == 200, reply.text
    assert reply.headers["x-degraded"] == "fallback"
    assert (reply.json()["degraded"], reply.json()["reasks"]) == (True, 1)
    assert [c.model for c in rig.calls("r-fb")] == ["gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4o-mini"]


def test_check_call_names_what_is_wrong() -> None:
    def message(name: str, arguments: str) -> ChatCompletionMessage:
        call = {"id": "c1", "type": "function", "function": {"name": name, "arguments": arguments}}
        return ChatCompletionMessage.model_validate({"role": "assistant", "tool_calls": [call]})

    good = '{"name": "A", "email": "a@b.c", "company": "C"}'
    assert check_call(message("record_contact", good)) == (
        {"name": "A", "email": "a@b.c", "company": "C"},
        "",
    )
    assert "not valid JSON" in check_call(message("record_contact", '{"name": '))[1]
    assert "'email' is a required property" in check_call(message("record_contact", '{"name": "A"}'))[1]
    extra = '{"name": "A", "email": "e", "company": "C", "phone": "1"}'
    assert "phone" in check_call(message("record_contact", extra))[1]
    assert "no tool 'lookup'" in check_call(message("lookup", good))[1]
    no_call = ChatCompletionMessage.model_validate({"role": "assistant", "content": "Sure!"})
    assert check_call(no_call) == (None, "you did not call record_contact")


# --- the response cache ------------------------------------------------------------------------


async def test_the_same_tenant_and_text_is_answered_from_the_cache_with_no_provider_call(
    rig: Rig, app: SampleApp
) -> None:
    first = await rig.post(app, "/extract", TEXT, {"X-Request-Id": "r-1", "X-Tenant": "acme"})
    spaced = {"text": "  " + TEXT["text"].replace(" ", "\n  ") + "\t"}  # whitespace aside, the same
    again = await rig.post(app, "/extract", spaced, {"X-Request-Id": "r-2", "X-Tenant": "acme"})
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert (first.json()["cached"], again.json()["cached"]) == (False, True)
    assert again.json()["fields"] == first.json()["fields"]
    assert (again.json()["model"], again.json()["degraded"]) == ("gpt-4o", False)
    assert len(rig.calls("r-1")) == 1
    assert rig.calls("r-2") == []


async def test_the_cache_is_never_shared_across_tenants(rig: Rig, app: SampleApp) -> None:
    await rig.post(app, "/extract", TEXT, {"X-Tenant": "acme"})
    other = await rig.post(app, "/extract", TEXT, {"X-Request-Id": "r-g", "X-Tenant": "globex"})
    assert other.headers["x-cache"] == "miss"
    assert len(rig.calls("r-g")) == 1


async def test_a_degraded_answer_is_not_cached(rig: Rig, app: SampleApp) -> None:
    await rig.fault(name="down", match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    degraded = await rig.post(app, "/extract", TEXT)
    assert (degraded.headers["x-degraded"], degraded.headers["x-cache"]) == ("fallback", "miss")
    async with rig.http.delete(rig.provider.url + "/control/faults/down") as resp:
        assert resp.status == 200
    again = await rig.post(app, "/extract", TEXT, {"X-Request-Id": "r-again"})
    assert again.headers["x-cache"] == "miss"
    assert len(rig.calls("r-again")) >= 1


async def test_no_cache_calls_the_provider_for_every_repeat(rig: Rig) -> None:
    async with rig.app(flaws=["no_cache"]) as app:
        for i in range(3):
            reply = await rig.post(app, "/extract", TEXT, {"X-Request-Id": f"r-{i}"})
            assert reply.json()["cached"] is False
            assert "x-cache" not in reply.headers
    assert [len(rig.calls(f"r-{i}")) for i in range(3)] == [1, 1, 1]
