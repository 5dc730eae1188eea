"""Quotas end to end: the headers the SDKs see, the 429 they raise, the window sliding on the
server's (virtual) clock, and concurrent callers never getting more than the limit."""

from __future__ import annotations

import asyncio
import calendar
import time
from typing import Any

import anthropic
import openai
import pytest

from fakeprovider.clock import VirtualTime
from tests.fakeprovider.e2e import CLAUDE, GPT, HELLO, chat, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

ACME = {"X-Tenant": "acme"}


def _limits(*specs: dict[str, Any]) -> dict[str, Any]:
    return {"limits": list(specs)}


def _openai_headers(client: openai.OpenAI, **kwargs: Any) -> dict[str, str]:
    kwargs.setdefault("model", GPT)
    kwargs.setdefault("messages", HELLO)
    raw = client.chat.completions.with_raw_response.create(**kwargs)
    raw.parse()
    return {k: v for k, v in raw.headers.items() if "ratelimit" in k or k.startswith("retry-after")}


def _rfc3339_in(text: str) -> float:
    """Seconds from now until the RFC 3339 time `text`."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) - time.time()


def test_rpm_per_tenant_headers_count_down_then_429_then_the_window_slides() -> None:
    vt = VirtualTime()
    with serve(_limits({"scope": "tenant", "rpm": 3}), clock=vt) as s:
        client = s.openai()
        seen = []
        for _ in range(3):
            seen.append(_openai_headers(client, extra_headers=ACME))
            vt.advance(1)
        assert seen == [
            {
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": str(remaining),
                "x-ratelimit-reset-requests": "1m0s",
            }
            for remaining in (2, 1, 0)
        ]
        with pytest.raises(openai.RateLimitError) as info:
            chat(client, extra_headers=ACME)
        err = info.value
        # At t = 3 s; the first request (t = 0) leaves the window at t = 60 s.
        assert {k: v for k, v in err.response.headers.items() if "ratelimit" in k or "retry" in k} == {
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "59s",
            "retry-after": "57",
            "retry-after-ms": "57000",
        }
        assert err.code == "rate_limit_exceeded"
        assert err.type == "requests"
        assert "Limit 3" in err.message
        r = s.last()
        assert (r.status, r.outcome, r.fault) == (429, "error", None)
        # Another tenant has its own bucket.
        assert (
            _openai_headers(client, extra_headers={"X-Tenant": "globex"})["x-ratelimit-remaining-requests"]
            == "2"
        )
        vt.advance(56.999)
        with pytest.raises(openai.RateLimitError):
            chat(client, extra_headers=ACME)
        vt.advance(0.001)
        assert _openai_headers(client, extra_headers=ACME)["x-ratelimit-remaining-requests"] == "0"


def test_rpm_headers_have_anthropic_names_for_anthropic_calls() -> None:
    vt = VirtualTime()
    with serve(_limits({"scope": "key", "rpm": 2, "tpm": 10_000}), clock=vt) as s:
        client = s.anthropic()
        raw = client.messages.with_raw_response.create(model=CLAUDE, max_tokens=100, messages=HELLO)
        reply = raw.parse()
        h = raw.headers
        assert h["anthropic-ratelimit-requests-limit"] == "2"
        assert h["anthropic-ratelimit-requests-remaining"] == "1"
        assert 58 <= _rfc3339_in(h["anthropic-ratelimit-requests-reset"]) <= 61
        assert h["anthropic-ratelimit-tokens-limit"] == "10000"
        assert h["anthropic-ratelimit-tokens-remaining"] == str(10_000 - reply.usage.input_tokens - 100)
        assert 58 <= _rfc3339_in(h["anthropic-ratelimit-tokens-reset"]) <= 61
        assert not [k for k in h if k.startswith("x-ratelimit")]
        vt.advance(20)
        message(client, max_tokens=100)
        with pytest.raises(anthropic.RateLimitError) as info:
            message(client, max_tokens=100)
        err = info.value
        assert err.response.headers["retry-after"] == "40"
        assert "retry-after-ms" not in err.response.headers
        assert err.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert err.type == "rate_limit_error"


def test_tpm_counts_prompt_and_max_tokens_and_refuses_what_does_not_fit() -> None:
    vt = VirtualTime()
    with serve(_limits({"scope": "key", "tpm": 1000}), clock=vt) as s:
        client = s.openai()
        raw = client.chat.completions.with_raw_response.create(model=GPT, messages=HELLO, max_tokens=400)
        prompt = raw.parse().usage.prompt_tokens  # type: ignore[union-attr]
        assert raw.headers["x-ratelimit-limit-tokens"] == "1000"
        assert raw.headers["x-ratelimit-remaining-tokens"] == str(1000 - prompt - 400)
        assert raw.headers["x-ratelimit-reset-tokens"] == "1m0s"
        assert "x-ratelimit-limit-requests" not in raw.headers
        vt.advance(30)
        chat(client, max_tokens=400)
        with pytest.raises(openai.RateLimitError) as info:
            chat(client, max_tokens=400)
        err = info.value
        assert err.type == "tokens"
        assert "tokens per min (TPM)" in err.message
        # The first request's tokens leave the window at t = 60 s, which frees room.
        assert err.response.headers["retry-after"] == "30"
        assert err.response.headers["x-ratelimit-remaining-tokens"] == str(1000 - 2 * (prompt + 400))
        # A smaller request still fits now.
        chat(client, max_tokens=100)
        vt.advance(30)
        chat(client, max_tokens=400)


def test_route_limit_applies_only_to_the_route_it_matches() -> None:
    with serve(_limits({"scope": "route", "match": {"route": "search"}, "rpm": 1})) as s:
        client = s.openai()
        chat(client, extra_headers={"X-Route": "search"})
        with pytest.raises(openai.RateLimitError):
            chat(client, extra_headers={"X-Route": "search"})
        assert "x-ratelimit-limit-requests" not in _openai_headers(client, extra_headers={"X-Route": "other"})


def test_key_scope_gives_each_api_key_its_own_bucket() -> None:
    with serve(_limits({"scope": "key", "rpm": 1})) as s:
        a = s.openai()
        b = s.openai(api_key="sk-other")
        chat(a)
        chat(b)
        with pytest.raises(openai.RateLimitError):
            chat(a)


def test_limits_apply_to_embeddings() -> None:
    with serve(_limits({"scope": "key", "rpm": 1})) as s:
        client = s.openai()
        client.embeddings.create(model="text-embedding-3-small", input="hello")
        with pytest.raises(openai.RateLimitError):
            client.embeddings.create(model="text-embedding-3-small", input="hello")


def test_reset_clears_the_quotas() -> None:
    with serve(_limits({"scope": "key", "rpm": 1})) as s:
        client = s.openai()
        chat(client)
        with pytest.raises(openai.RateLimitError):
            chat(client)
        s.control("POST", "/reset").raise_for_status()
        chat(client)


def test_fifty_concurrent_callers_against_rpm_10_get_exactly_10_answers() -> None:
    async def run(url: str) -> list[int]:
        async with openai.AsyncOpenAI(
            base_url=url + "/v1",
            api_key="sk-test",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(verify=False),
        ) as client:

            async def one(i: int) -> int:
                try:
                    await client.chat.completions.create(
                        model=GPT, messages=HELLO, max_tokens=5, extra_headers={"X-Request-Id": f"c{i}"}
                    )
                except openai.RateLimitError:
                    return 429
                return 200

            return await asyncio.gather(*(one(i) for i in range(50)))

    with serve(_limits({"scope": "key", "rpm": 10})) as s:
        statuses = asyncio.run(run(s.url))
        assert statuses.count(200) == 10
        assert statuses.count(429) == 40
        recs = s.records(50)
        assert sorted(r.status for r in recs) == [200] * 10 + [429] * 40


def test_a_request_larger_than_tpm_is_told_it_is_too_large() -> None:
    with serve(_limits({"scope": "key", "tpm": 100})) as s:
        with pytest.raises(openai.RateLimitError) as info:
            chat(s.openai(), max_tokens=500)
        assert info.value.type == "tokens"
        assert "Request too large for gpt-4o on tokens per min (TPM): Limit 100" in info.value.message
        chat(s.openai(), max_tokens=50)
