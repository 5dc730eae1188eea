"""`POST /chat`: server-sent events forwarded from the provider's stream, the done event, a broken
stream ended cleanly, and the fallback signalled in the headers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sampleapp import SampleApp
from tests.sampleapp.conftest import QUICK, Reply, Rig


def events(reply: Reply) -> list[tuple[str, Any]]:
    """The SSE events of a reply as (event name, parsed data)."""
    out = []
    for block in reply.text.split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
        out.append((name, data))
    return out


async def test_deltas_are_forwarded_and_the_stream_ends_with_a_done_event(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/chat", {"message": "hello"}, {"X-Request-Id": "r-chat", "X-Tenant": "acme"})
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream"
    assert reply.headers["x-request-id"] == "r-chat"
    assert "x-degraded" not in reply.headers
    got = events(reply)
    *deltas, (last_name, done) = got
    assert len(deltas) > 3
    assert all(name == "message" and set(data) == {"delta"} and data["delta"] for name, data in deltas)
    assert last_name == "message"
    assert done["done"] is True
    assert (done["model"], done["degraded"], done["finish_reason"]) == ("gpt-4o", False, "stop")
    [call] = await rig.settled(1)
    assert call.stream is True
    assert call.request_id == "r-chat"
    assert call.tags == {"route": "chat", "feature": "assistant", "tenant": "acme"}
    assert done["usage"]["input_tokens"] == call.input_tokens
    assert done["usage"]["output_tokens"] == call.output_tokens


async def test_history_goes_to_the_model_and_the_oldest_turns_go_first_when_over_budget(rig: Rig) -> None:
    history = [
        {"role": "user", "content": "tell me about rivers " * 20},
        {"role": "assistant", "content": "rivers flow downhill " * 20},
        {"role": "user", "content": "and lakes?"},
    ]
    async with rig.app({**QUICK, "routes": {"chat": {"max_input_tokens": 120}}}) as app:
        full = await rig.post(app, "/chat", {"message": "hi", "history": history[2:]})
        trimmed = await rig.post(app, "/chat", {"message": "hi", "history": history})
    assert "x-input-trimmed" not in full.headers
    assert trimmed.headers["x-input-trimmed"] == "true"
    assert events(trimmed)[-1][1]["done"] is True
    first, second = await rig.settled(2)
    assert second.input_tokens <= 120
    assert second.input_tokens > first.input_tokens  # the newest history turn was kept


@pytest.mark.usefixtures("long_answers")  # an answer long enough to cut
async def test_a_stream_dropped_mid_way_ends_with_stream_interrupted(rig: Rig, app: SampleApp) -> None:
    await rig.fault(fault={"kind": "partial", "after_tokens": 5, "mode": "drop"})
    reply = await rig.post(app, "/chat", {"message": "hello"})
    assert reply.status == 200
    got = events(reply)
    assert [name for name, _ in got[:-1]] == ["message"] * (len(got) - 1)
    assert "".join(d["delta"] for _, d in got[:-1])
    name, data = got[-1]
    assert name == "error"
    assert data["error"]["code"] == "stream_interrupted"
    assert data["partial"] is True
    assert not any("done" in d for _, d in got)


@pytest.mark.usefixtures("long_answers")  # an answer long enough to cut
async def test_a_mid_stream_error_event_ends_with_stream_interrupted(rig: Rig, app: SampleApp) -> None:
    await rig.fault(fault={"kind": "partial", "after_tokens": 3, "mode": "error_event"})
    reply = await rig.post(app, "/chat", {"message": "hello"})
    name, data = events(reply)[-1]
    assert (name, data["error"]["code"]) == ("error", "stream_interrupted")


async def test_when_the_primary_fails_before_its_first_chunk_the_fallback_streams_signalled(
    rig: Rig, app: SampleApp
) -> None:
    await rig.fault(match={"model": "gpt-4o"}, fault={"kind": "http_error", "status": 503})
    reply = await rig.post(app, "/chat", {"message": "hello"}, {"X-Request-Id": "r-fb"})
    assert reply.status == 200
    assert reply.headers["x-degraded"] == "fallback"
    done = events(reply)[-1][1]
    assert (done["model"], done["degraded"]) == ("gpt-4o-mini", True)
    calls = await rig.settled(3)
    assert [c.model for c in calls] == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]


async def test_a_stream_that_never_opens_is_a_json_503(rig: Rig, app: SampleApp) -> None:
    await rig.fault(fault={"kind": "http_error", "status": 502})
    reply = await rig.post(app, "/chat", {"message": "hello"})
    assert reply.status == 503
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["code"] == "provider_unavailable"


async def test_a_message_over_budget_is_a_413_before_any_call(rig: Rig) -> None:
    async with rig.app({**QUICK, "routes": {"chat": {"max_input_tokens": 50}}}) as app:
        reply = await rig.post(app, "/chat", {"message": "words " * 100})
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "input_too_long"
    assert rig.calls() == []


async def test_a_bad_history_turn_is_400(rig: Rig, app: SampleApp) -> None:
    reply = await rig.post(app, "/chat", {"message": "hi", "history": [{"role": "system", "content": "x"}]})
    assert reply.status == 400
    assert "history.0.role" in reply.json()["error"]["message"]


@pytest.mark.usefixtures("long_answers")  # an answer long enough to cut
async def test_a_stalled_stream_ends_with_stream_interrupted_when_the_route_time_runs_out(rig: Rig) -> None:
    # The first chunk at once, the next never within the route's time: 1.5 s, so that a busy
    # machine still opens the stream in time (else the route answers a 504 before streaming);
    # under the idle guard's 2 s, so that the route's time is what runs out.
    await rig.fault(fault={"kind": "slow", "ttft_ms": 0, "inter_token_ms": 10_000})
    async with rig.app({**QUICK, "routes": {"chat": {"timeout_s": 1.5}}}) as app:
        reply = await rig.post(app, "/chat", {"message": "hello"})
    assert reply.status == 200, reply.text
    name, data = events(reply)[-1]
    assert (name, data["error"]["code"]) == ("error", "stream_interrupted")
    assert "time ran out" in data["error"]["message"]


@pytest.mark.usefixtures("long_answers")  # an answer long enough to cut
async def test_a_caller_that_leaves_mid_stream_cancels_the_provider_stream(rig: Rig, app: SampleApp) -> None:
    await rig.fault(fault={"kind": "slow", "ttft_ms": 0, "inter_token_ms": 200})
    async with rig.http.post(app.url + "/chat", json={"message": "hello"}) as resp:
        assert resp.status == 200
        await resp.content.readuntil(b"\n\n")  # the first delta
        resp.close()
    [call] = await rig.settled(1)
    assert call.outcome == "client_cancelled"


STALL_WITH_KEEPALIVES = {"kind": "stall", "after_tokens": 5, "keepalive_s": 0.05}  # for ever


@pytest.mark.usefixtures("long_answers")  # an answer long enough to stall part-way
async def test_a_stream_stalled_behind_keepalives_is_cut_after_idle_timeout_s(rig: Rig) -> None:
    await rig.fault(fault=STALL_WITH_KEEPALIVES)
    async with rig.app({**QUICK, "routes": {"chat": {"idle_timeout_s": 0.3}}}) as app:
        reply = await rig.post(app, "/chat", {"message": "hello"}, {"X-Request-Id": "r-stall"})
    assert reply.status == 200
    *deltas, (name, data) = events(reply)
    assert deltas  # the text before the stall went out
    assert (name, data["error"]["code"], data["partial"]) == ("error", "stream_interrupted", True)
    assert "stalled: no content for 0.3 s" in data["error"]["message"]
    [call] = await rig.settled(1)
    assert (call.request_id, call.outcome) == ("r-stall", "timeout")  # the app hung up on the stall


@pytest.mark.usefixtures("long_answers")
async def test_a_slow_stream_that_keeps_making_progress_is_not_cut_as_stalled(rig: Rig) -> None:
    # 12 tokens 0.1 s apart: 1.2 s in all, four times the idle timeout, never 0.3 s without one.
    await rig.fault(fault={"kind": "slow", "ttft_ms": 0, "inter_token_ms": 100})
    config = {**QUICK, "routes": {"chat": {"idle_timeout_s": 0.3, "max_output_tokens": 12}}}
    async with rig.app(config) as app:
        reply = await rig.post(app, "/chat", {"message": "hello"})
    name, data = events(reply)[-1]
    assert (name, data["done"], data["finish_reason"]) == ("message", True, "length")
