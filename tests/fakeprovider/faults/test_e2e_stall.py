"""`stall` end to end: a stream that goes silent part-way and resumes (or never does), on every
chat surface, read by the official SDKs and by raw clients; what the ledger records.

Timing is checked on a virtual clock (what the provider waited, keep-alive by keep-alive) or,
on the real pacer, by what a client's read timeout makes of the silence, never by how fast.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google.genai import types

from fakeprovider.clock import VirtualTime
from tests.conftest import LONG_ANSWERS
from tests.fakeprovider.dialects.bedrock.test_sdk import HELLO as BEDROCK_HELLO
from tests.fakeprovider.dialects.bedrock.test_sdk import NOVA
from tests.fakeprovider.dialects.gemini.test_sdk import FLASH, gemini
from tests.fakeprovider.e2e import CLAUDE, GPT, HELLO, chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

SSE_COMMENT = b": keep-alive\n\n"
PING = b"event: ping"


def _stall(**params: Any) -> dict[str, Any]:
    # Answers longer than the stall point, so that the stall comes mid-answer.
    return faults({"name": "quiet", "fault": {"kind": "stall", **params}}, **LONG_ANSWERS)


# Every streamed chat surface as a raw request: path, body, and what only a whole answer ends with.
STREAMS: dict[str, tuple[str, dict[str, Any], bytes]] = {
    "openai.chat": ("/v1/chat/completions", {"model": GPT, "messages": HELLO, "stream": True}, b"[DONE]"),
    "openai.responses": (
        "/v1/responses",
        {"model": GPT, "input": "Hi.", "stream": True},
        b"response.completed",
    ),
    "azure.chat": (
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
        {"messages": HELLO, "stream": True},
        b"[DONE]",
    ),
    "azure.responses": (
        "/openai/v1/responses",
        {"model": GPT, "input": "Hi.", "stream": True},
        b"response.completed",
    ),
    "anthropic.messages": (
        "/v1/messages",
        {"model": CLAUDE, "max_tokens": 256, "messages": HELLO, "stream": True},
        b"event: message_stop",
    ),
    "gemini.generate": (
        f"/v1beta/models/{FLASH}:streamGenerateContent?alt=sse",
        {"contents": [{"role": "user", "parts": [{"text": "Hi."}]}]},
        b'"finishReason"',
    ),
    "bedrock.converse": (f"/model/{NOVA}/converse-stream", {"messages": BEDROCK_HELLO}, b"messageStop"),
}
KEEPALIVE = {"anthropic.messages": PING, "gemini.generate": None, "bedrock.converse": None}


@pytest.mark.parametrize("api", list(STREAMS))
def test_every_chat_surface_stalls_mid_stream_with_its_own_keepalive_then_completes(api: str) -> None:
    path, body, terminator = STREAMS[api]
    vt = VirtualTime()
    with serve(_stall(after_tokens=2, for_s=0.3, keepalive_s=0.1), clock=vt) as s:
        resp = s.http().post(path, json=body, headers={"api-key": "k", "x-goog-api-key": "k"})
        assert resp.status_code == 200, resp.text
        r = s.last()
    keepalive = KEEPALIVE.get(api, SSE_COMMENT)
    if keepalive is None:  # no keep-alive in this protocol: one silent wait
        assert vt.slept == [pytest.approx(0.3)]
        assert SSE_COMMENT not in resp.content
        assert PING not in resp.content
    else:  # a keep-alive every 0.1 s of the 0.3 s, none as it resumes
        assert vt.slept == [pytest.approx(0.1)] * 3
        pings_of_a_whole_stream = 1 if api == "anthropic.messages" else 0
        assert resp.content.count(keepalive) == 2 + pings_of_a_whole_stream
    assert terminator in resp.content
    assert (r.api, r.status, r.outcome, r.fault) == (api, 200, "ok", {"rule": "quiet", "kind": "stall"})
    assert r.finish_reason is not None
    assert r.output_tokens > 2


def test_openai_sdk_reads_a_stream_stalled_after_3_tokens_for_0_3_s_to_its_end() -> None:
    with serve(_stall(after_tokens=3, for_s=0.3)) as s:
        stream = s.openai().chat.completions.create(model=GPT, messages=HELLO, stream=True)
        arrivals: list[tuple[float, str]] = []
        finish = None
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append((time.monotonic(), chunk.choices[0].delta.content))
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        r = s.last()
    assert finish == "stop"
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(arrivals)]
    assert max(range(len(gaps)), key=gaps.__getitem__) == 2  # the silence is after the 3rd token
    assert gaps[2] >= 0.25
    assert (r.outcome, r.status, r.finish_reason) == ("ok", 200, "stop")
    assert r.output_tokens == len(arrivals)  # one token a piece: the whole answer, the stall unbilled


def test_keepalives_defeat_the_sdks_read_timeout_and_silence_does_not() -> None:
    on_gpt = {"match": {"model": GPT}}
    for keepalive, expected in ((0.05, "ok"), (None, "timeout")):
        scenario = faults(
            {**on_gpt, "fault": {"kind": "stall", "after_tokens": 3, "for_s": 0.6}}, **LONG_ANSWERS
        )
        if keepalive is not None:
            scenario["faults"][0]["fault"]["keepalive_s"] = keepalive
        with serve(scenario) as s:
            chat(s.openai(), model="gpt-4o-mini")  # warm: the read timeout below is for the stall only
            client = s.openai(timeout=0.25)  # silent for 0.6 s, but for keep-alives
            if expected == "ok":
                chunks = chat(client, stream=True)
                assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
            else:
                with pytest.raises(openai.APITimeoutError):
                    chat(client, stream=True)
            r = s.records(2)[-1]
        assert (r.status, r.outcome) == (200, expected)
        assert r.output_tokens == (3 if expected == "timeout" else r.output_tokens)


def test_an_endless_stall_sends_keepalives_until_the_client_gives_up() -> None:
    with serve(_stall(after_tokens=3, keepalive_s=0.05)) as s:
        path, body, _ = STREAMS["openai.chat"]
        received = b""
        with (
            httpx2.Client(base_url=s.url, timeout=2.0) as client,
            client.stream("POST", path, json=body) as resp,
        ):
            assert resp.status_code == 200
            for data in resp.iter_raw():
                received += data
                if received.count(SSE_COMMENT) >= 4:
                    break  # the caller's own patience: it leaves
        r = s.last()
    assert b"[DONE]" not in received
    assert received.index(SSE_COMMENT) > received.index(b'"content":"')  # after the first tokens
    assert (r.status, r.outcome, r.fault) == (200, "timeout", {"rule": "quiet", "kind": "stall"})
    assert (r.output_tokens, r.finish_reason) == (3, None)  # the silence billed nothing


def test_anthropic_pings_arrive_while_stalled_and_the_sdk_skips_them() -> None:
    with serve(_stall(after_tokens=3, for_s=0.3, keepalive_s=0.05)) as s:
        events = message(s.anthropic(), stream=True)
        with s.anthropic().messages.stream(model=CLAUDE, max_tokens=256, messages=HELLO) as helper:
            final = helper.get_final_message()
        path, body, _ = STREAMS["anthropic.messages"]
        raw = s.http().post(path, json=body).content
        records = s.records(3)
    assert all(e.type != "ping" for e in events)
    assert events[-1].type == "message_stop"
    assert final.stop_reason == "max_tokens"  # the long answer, whole up to the request's cap
    assert raw.count(PING) >= 4  # the stream's own ping, then one every 0.05 s of the 0.3 s
    assert [r.outcome for r in records] == ["ok"] * 3


def test_gemini_sdk_reads_a_stalled_stream_a_keepalive_it_could_not_parse_is_never_sent() -> None:
    with serve(_stall(after_tokens=2, for_s=0.2, keepalive_s=0.05)) as s:
        models = gemini(s).models
        chunks = list(models.generate_content_stream(model=FLASH, contents="Say something."))
        r = s.last()
    assert chunks[-1].candidates is not None
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert (r.api, r.outcome) == ("gemini.generate", "ok")


@pytest.mark.parametrize("stream", [False, True])
def test_a_stall_of_a_whole_answer_holds_it_for_for_s_then_sends_it(stream: bool) -> None:
    vt = VirtualTime()
    with serve(_stall(after_tokens=0, for_s=30, keepalive_s=10), clock=vt) as s:
        reply = chat(s.openai(), stream=stream)
        r = s.last()
    assert reply
    assert math.isclose(sum(vt.slept), 30)
    assert vt.slept == ([30.0] if not stream else [10.0, 10.0, 10.0])  # keep-alives only on a stream
    assert (r.status, r.outcome, r.stream) == (200, "ok", stream)
    assert r.ttft_ms is not None
    assert r.ttft_ms >= 30_000


def test_an_endless_stall_of_a_whole_answer_is_a_hang_the_sdk_times_out() -> None:
    with serve(_stall(after_tokens=5, keepalive_s=0.05)) as s:
        with pytest.raises(anthropic.APITimeoutError):
            message(s.anthropic(timeout=0.3))
        r = s.last()
    assert (r.status, r.outcome, r.output_tokens) == (499, "timeout", 0)
    assert r.fault == {"rule": "quiet", "kind": "stall"}
