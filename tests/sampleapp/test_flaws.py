"""Each flaw switches on one known bug, and it shows in what the provider sees or the caller gets."""

from __future__ import annotations

import dataclasses

import pytest

from sampleapp.flaws import KNOWN_FLAWS, Behaviour, Flaw, UnknownFlaw, parse_flaws
from tests.sampleapp.conftest import QUICK, Rig

OUTAGE = {"kind": "http_error", "status": 503}
LONG_TEXT = "Rivers carve valleys over many thousands of years, slowly and patiently. " * 200


def test_an_unknown_flaw_is_refused_with_the_known_ones() -> None:
    with pytest.raises(
        UnknownFlaw, match="unknown flaw 'flaky' \\(known: unbounded_retries, silent_fallback"
    ):
        parse_flaws(["silent_fallback", "flaky"])


def test_the_correct_app_has_no_flaw_and_each_flaw_changes_one_behaviour() -> None:
    assert Behaviour.of() == Behaviour()
    assert all(dataclasses.astuple(Behaviour()))
    for name in KNOWN_FLAWS:
        flipped = [k for k, v in dataclasses.asdict(Behaviour.of([name])).items() if not v]
        assert len(flipped) == 1, name
    assert set(KNOWN_FLAWS) == {f.value for f in Flaw}


async def test_unbounded_retries_keeps_calling_the_primary_until_the_route_times_out(rig: Rig) -> None:
    await rig.fault(fault=OUTAGE)
    config = {**QUICK, "routes": {"summarize": {"timeout_s": 0.4}}}
    async with rig.app(config, flaws=["unbounded_retries"]) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-storm"})
    assert reply.status == 503
    calls = rig.calls("r-storm")
    assert len(calls) > 3
    assert {c.model for c in calls} == {"gpt-4o"}  # never the fallback


async def test_silent_fallback_serves_the_fallback_without_saying_so(rig: Rig) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault=OUTAGE)
    async with rig.app(flaws=["silent_fallback"]) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"})
    assert reply.status == 200
    assert "x-degraded" not in reply.headers
    body = reply.json()
    assert body["degraded"] is False
    assert body["model"] == "gpt-4o-mini"
    assert rig.calls()[-1].model == "gpt-4o-mini"


async def test_no_token_cap_sends_an_over_budget_prompt_without_max_tokens(rig: Rig) -> None:
    # A call timeout no busy machine reaches: a retried call would be a third call to read back.
    config = {**QUICK, "retry": {"call_timeout_s": 10.0}, "routes": {"summarize": {"max_output_tokens": 5}}}
    async with rig.app(config) as app:
        assert (await rig.post(app, "/summarize", {"text": LONG_TEXT})).status == 413
        assert (await rig.post(app, "/summarize", {"text": "short"})).status == 200
    async with rig.app(config, flaws=["no_token_cap"]) as app:
        reply = await rig.post(app, "/summarize", {"text": LONG_TEXT})
    assert reply.status == 200, reply.text
    capped, uncapped = rig.calls()
    assert (capped.output_tokens, capped.finish_reason) == (5, "length")
    assert uncapped.input_tokens > 2000
    assert uncapped.output_tokens > 5
    assert uncapped.finish_reason == "stop"


async def test_ignore_retry_after_retries_sooner_than_the_retry_after(rig: Rig) -> None:
    await rig.fault(first_attempts=1, fault={"kind": "rate_limit", "retry_after_ms": 400})
    async with rig.app(flaws=["ignore_retry_after"]) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-early"})
    assert reply.status == 200
    first, second = rig.calls("r-early")
    assert (first.status, second.model) == (429, "gpt-4o")
    assert second.ts_start - first.ts_end < 0.3


async def test_no_attribution_sends_no_route_feature_or_tenant(rig: Rig) -> None:
    async with rig.app(flaws=["no_attribution"]) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Tenant": "acme", "X-Request-Id": "r-t"})
    assert reply.status == 200
    [call] = rig.calls("r-t")
    assert call.tags == {"route": None, "feature": None, "tenant": None}


async def test_no_request_id_does_not_forward_the_callers_id(rig: Rig) -> None:
    async with rig.app(flaws=["no_request_id"]) as app:
        reply = await rig.post(app, "/summarize", {"text": "hi"}, {"X-Request-Id": "r-lost"})
    assert reply.status == 200
    assert reply.headers["x-request-id"] == "r-lost"  # still echoed to the caller
    [call] = rig.calls()
    assert call.request_id != "r-lost"
    assert call.tags["route"] == "summarize"


@pytest.mark.usefixtures("long_answers")  # an answer long enough to cut
async def test_serves_truncated_ends_a_cut_stream_as_if_it_were_complete(rig: Rig) -> None:
    from tests.sampleapp.test_chat import events

    await rig.fault(fault={"kind": "partial", "after_tokens": 5, "mode": "drop"})
    async with rig.app(flaws=["serves_truncated"]) as app:
        reply = await rig.post(app, "/chat", {"message": "hello"})
    assert reply.status == 200
    got = events(reply)
    assert all(name == "message" for name, _ in got)
    assert "stream_interrupted" not in reply.text
    assert got[-1][1]["done"] is True
    assert got[-1][1]["finish_reason"] == "stop"


@pytest.mark.usefixtures("long_answers")  # an answer long enough to stall part-way
async def test_no_read_timeout_waits_on_a_stalled_stream_until_the_routes_time_runs_out(rig: Rig) -> None:
    from tests.sampleapp.test_chat import STALL_WITH_KEEPALIVES, events

    await rig.fault(fault=STALL_WITH_KEEPALIVES)
    config = {**QUICK, "routes": {"chat": {"idle_timeout_s": 0.2, "timeout_s": 1.0}}}
    async with rig.app(config, flaws=["no_read_timeout"]) as app:
        reply = await rig.post(app, "/chat", {"message": "hello"})
    name, data = events(reply)[-1]
    assert (name, data["error"]["code"]) == ("error", "stream_interrupted")
    assert "time ran out" in data["error"]["message"]  # five idle timeouts later: no stall guard
    assert "stalled" not in data["error"]["message"]
