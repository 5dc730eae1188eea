"""`slow` end to end: the server paces the answer as configured (virtual time, then a real wait)."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

from fakeprovider.clock import VirtualTime
from tests.conftest import LONG_ANSWERS
from tests.fakeprovider.e2e import chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

SLOW = {"name": "slow", "fault": {"kind": "slow", "ttft_ms": 3000, "inter_token_ms": 50}}


def test_slow_openai_stream_sleeps_ttft_then_each_inter_token_delay() -> None:
    vt = VirtualTime()
    with serve(faults(SLOW, **LONG_ANSWERS), clock=vt) as s:
        chunks = chat(s.openai(), stream=True)
        n = sum(1 for c in chunks if c.choices and c.choices[0].delta.content)
        assert n > 5
        assert vt.slept == pytest.approx([3.0] + [0.05] * (n - 1))
        r = s.last()
        assert r.fault == {"rule": "slow", "kind": "slow"}
        assert r.outcome == "ok"
        # The ledger's timings run on the server's clock, virtual here.
        assert r.ttft_ms == 3000.0
        assert r.duration_ms == pytest.approx(3000 + 50 * (n - 1))


def test_slow_anthropic_stream_sleeps_ttft_then_each_inter_token_delay() -> None:
    vt = VirtualTime()
    with serve(faults(SLOW, **LONG_ANSWERS), clock=vt) as s:
        events = message(s.anthropic(), stream=True)
        n = sum(1 for e in events if e.type == "content_block_delta")
        assert n > 5
        assert vt.slept == pytest.approx([3.0] + [0.05] * (n - 1))
        assert s.last().ttft_ms == 3000.0


def test_slow_non_streamed_answers_after_the_whole_generation_time() -> None:
    vt = VirtualTime()
    with serve(faults(SLOW, **LONG_ANSWERS), clock=vt) as s:
        reply = chat(s.openai())
        # One piece per token in the default English prose.
        n = reply.usage.completion_tokens
        assert vt.slept == [pytest.approx(3.0 + 0.05 * (n - 1))]
        assert s.last().ttft_ms == pytest.approx(3000 + 50 * (n - 1))
        vt.slept.clear()
        reply = message(s.anthropic())
        n = reply.usage.output_tokens
        assert vt.slept == [pytest.approx(3.0 + 0.05 * (n - 1))]


def test_slow_jitter_stays_in_range_and_is_the_same_for_the_same_request() -> None:
    rule = {"fault": {"kind": "slow", "ttft_ms": 1000, "inter_token_ms": 40, "jitter_ms": 10}}
    slept: list[list[float]] = []
    for _ in range(2):
        vt = VirtualTime()
        with serve(faults(rule), clock=vt, seed=3) as s:
            chat(s.openai(), stream=True)
        slept.append(vt.slept)
    assert slept[0] == slept[1]
    first, *rest = slept[0]
    assert 0.99 <= first <= 1.01
    assert all(0.03 <= d <= 0.05 for d in rest)
    assert len(set(rest)) > 1


def test_slow_ttft_is_a_real_wait_without_a_virtual_clock() -> None:
    rule = {"fault": {"kind": "slow", "ttft_ms": 50, "inter_token_ms": 1}}
    with serve(faults(rule)) as s:
        started = time.monotonic()
        stream = s.openai().chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        first_content = None
        for chunk in stream:
            if first_content is None and chunk.choices and chunk.choices[0].delta.content:
                first_content = time.monotonic() - started
        assert first_content is not None
        assert first_content >= 0.05
        r = s.last()
        assert r.ttft_ms is not None
        assert r.ttft_ms >= 50
        assert r.duration_ms >= r.ttft_ms


def test_slow_non_streamed_is_a_real_wait_without_a_virtual_clock() -> None:
    with serve(faults({"kind": "slow", "ttft_ms": 50, "inter_token_ms": 0})) as s:
        started = time.monotonic()
        message(s.anthropic())
        assert time.monotonic() - started >= 0.05
        assert (s.last().ttft_ms or 0) >= 50


def test_a_caller_leaving_a_slow_stream_is_cancelled_and_billed_for_what_was_sent() -> None:
    with serve(faults({"kind": "slow", "ttft_ms": 0, "inter_token_ms": 20}, **LONG_ANSWERS)) as s:
        stream = s.openai().chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        received = 0
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received += 1
            if received == 5:
                break
        stream.close()
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "client_cancelled", None)
        # What was written before the server saw the caller go, at least what the caller read.
        assert 5 <= r.output_tokens <= 10
        assert r.cost_usd > 0


def test_a_caller_timing_out_on_a_slow_answer_is_billed_for_what_was_generated() -> None:
    with serve(faults({"kind": "slow", "ttft_ms": 100, "inter_token_ms": 20}, **LONG_ANSWERS)) as s:
        with pytest.raises(openai.APITimeoutError):
            s.openai(timeout=0.3).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (499, "client_cancelled", None)
        # 0.3 s in: the first token at 0.1 s, then one each 20 ms.
        assert 6 <= r.output_tokens <= 14


def _content(chunks: list[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_slowed_stream_carries_what_an_unslowed_one_does() -> None:
    request: dict[str, Any] = {"messages": [{"role": "user", "content": "Same question."}], "max_tokens": 30}
    with serve(LONG_ANSWERS, seed=5) as s:
        plain = chat(s.openai(), stream=True, **request)
    with serve(faults({"kind": "slow", "inter_token_ms": 2}, **LONG_ANSWERS), seed=5) as s:
        slowed = chat(s.openai(), stream=True, **request)
        r = s.last()
    assert _content(slowed) == _content(plain) != ""
    assert [c.choices[0].finish_reason for c in slowed if c.choices] == [
        c.choices[0].finish_reason for c in plain if c.choices
    ]
    assert (r.outcome, r.output_tokens, r.finish_reason) == ("ok", 30, "length")


async def test_many_concurrent_slowed_streams_are_each_delivered_whole() -> None:
    with serve(faults({"kind": "slow", "inter_token_ms": 3}, **LONG_ANSWERS)) as s:
        client = openai.AsyncOpenAI(base_url=s.url + "/v1", api_key="sk-test", max_retries=0, timeout=20.0)

        async def one(i: int) -> tuple[str, int]:
            stream = await client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": f"Question {i}?"}],
                max_tokens=20,
                stream=True,
                stream_options={"include_usage": True},
            )
            text, usage = "", 0
            async for chunk in stream:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
                if chunk.usage is not None:
                    usage = chunk.usage.completion_tokens
            return text, usage

        try:
            results = await asyncio.gather(*(one(i) for i in range(40)))
        finally:
            await client.close()
        records = s.records(40)
    assert len({text for text, _ in results}) > 1
    assert all(usage == 20 for _, usage in results)
    assert sorted(r.output_tokens for r in records) == [20] * 40
    assert {r.outcome for r in records} == {"ok"}


def test_an_http_1_0_caller_gets_its_slowed_stream_unchunked() -> None:
    body = json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": True}
    ).encode()
    with serve(faults({"kind": "slow", "inter_token_ms": 2})) as s:
        parts = urlsplit(s.url)
        host, port = parts.hostname or "", parts.port or 0
        with socket.create_connection((host, port), timeout=10) as sock:
            head = (
                f"POST /v1/chat/completions HTTP/1.0\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sock.sendall(head.encode() + body)
            received = b""
            while data := sock.recv(65536):  # the answer ends when the server closes
                received += data
        assert s.last().output_tokens == 5
    status, _, payload = received.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.0 200")
    assert b"transfer-encoding" not in status.lower()
    events = [e for e in payload.split(b"\n\n") if e]
    assert events[0].startswith(b"data: {")
    assert events[-1] == b"data: [DONE]"


def _closed_server_transports(port: int) -> list[asyncio.Transport]:
    """The server side's transports of connections to `port` that are closed but still kept."""
    gc.collect()
    # `type(o)`, not `isinstance`: the SDKs' lazy module proxies import themselves when asked.
    return [
        o
        for o in gc.get_objects()
        if issubclass(type(o), asyncio.Transport)
        and o.is_closing()
        and (o.get_extra_info("sockname") or (None, None))[1] == port
    ]


def test_a_caller_leaving_a_stalled_stream_is_let_go_of_at_once() -> None:
    # The next token is a minute away when the caller leaves: the server keeps nothing of the
    # call (its connection, the request) for that minute.
    with serve(faults({"kind": "slow", "ttft_ms": 0, "inter_token_ms": 60_000})) as s:
        port = urlsplit(s.url).port or 0
        stream = s.openai().chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        first = next(iter(stream))
        assert first.choices[0].delta.role == "assistant"
        stream.close()
        r = s.last()
        assert (r.outcome, r.output_tokens) == ("client_cancelled", 1)
        deadline = time.monotonic() + 2.0
        while _closed_server_transports(port) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _closed_server_transports(port) == []
