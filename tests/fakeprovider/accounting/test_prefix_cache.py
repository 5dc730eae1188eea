"""The simulated prompt-prefix cache: per key and tenant, 128-token blocks, 1024-token minimum."""

from __future__ import annotations

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.prefix_cache import PrefixCache
from fakeprovider.generation import tokens

# A system prompt well over 1024 tokens in both encodings.
LONG_SYSTEM = " ".join(f"Rule {i}: answer politely and cite the handbook section {i}." for i in range(150))


def _chat(system: str, question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def test_long_system_prompt_is_over_the_minimum() -> None:
    assert tokens.count(LONG_SYSTEM, "o200k_base") > 1200
    assert tokens.count(LONG_SYSTEM, "cl100k_base") > 1200


def test_repeated_prefix_is_cached_in_whole_blocks() -> None:
    cache = PrefixCache()
    prompt = list(range(1500))
    assert cache.lookup_and_store("k", prompt) == 0
    assert cache.lookup_and_store("k", prompt) == 1408  # 11 whole blocks of 128
    assert cache.lookup_and_store("k", [*prompt[:1300], 7, 7, 7]) == 1280


def test_prompt_under_the_minimum_is_never_cached() -> None:
    cache = PrefixCache()
    prompt = list(range(1000))
    cache.lookup_and_store("k", prompt)
    assert cache.lookup_and_store("k", prompt) == 0


def test_shared_prefix_shorter_than_the_minimum_is_not_a_hit() -> None:
    cache = PrefixCache()
    cache.lookup_and_store("k", list(range(2000)))
    assert cache.lookup_and_store("k", [*range(900), *range(5000, 6500)]) == 0


def test_cache_is_scoped() -> None:
    cache = PrefixCache()
    prompt = list(range(1500))
    cache.lookup_and_store("key-a|acme", prompt)
    assert cache.lookup_and_store("key-b|acme", prompt) == 0
    assert cache.lookup_and_store("key-a|globex", prompt) == 0
    assert cache.lookup_and_store("key-a|acme", prompt) == 1408


def test_cache_is_bounded_and_clearable() -> None:
    cache = PrefixCache(max_entries=20)
    for start in range(0, 10_000, 2000):
        cache.lookup_and_store("k", list(range(start, start + 1500)))
    assert len(cache._seen) <= 20
    cache.clear()
    assert cache.lookup_and_store("k", list(range(8000, 9500))) == 0


def test_openai_second_request_reports_cached_tokens_and_cheaper_cost(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    first = openai_client.chat.completions.create(
        model="gpt-4o", messages=_chat(LONG_SYSTEM, "What is rule 3?"), max_tokens=10
    )
    second = openai_client.chat.completions.create(
        model="gpt-4o", messages=_chat(LONG_SYSTEM, "And rule 7?"), max_tokens=10
    )
    assert first.usage is not None
    assert second.usage is not None
    assert first.usage.prompt_tokens_details is not None
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details is not None
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached is not None
    assert cached >= 1024
    assert cached % 128 == 0
    assert cached <= second.usage.prompt_tokens
    rec = provider.state.ledger.records()[-1]
    assert rec.cached_tokens == cached
    expected = ((rec.input_tokens - cached) * 2.50 + cached * 1.25 + rec.output_tokens * 10.0) / 1_000_000
    assert rec.cost_usd == pytest.approx(expected)
    assert rec.cost_usd < provider.state.ledger.records()[0].cost_usd


def test_anthropic_second_request_reports_cache_read_input_tokens(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    def ask(question: str) -> anthropic.types.Message:
        return anthropic_client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=10,
            system=LONG_SYSTEM,
            messages=[{"role": "user", "content": question}],
        )

    first = ask("What is rule 3?")
    second = ask("And rule 7?")
    assert first.usage.cache_read_input_tokens == 0
    cached = second.usage.cache_read_input_tokens
    assert cached is not None
    assert cached >= 1024
    assert cached % 128 == 0
    rec = provider.state.ledger.records()[-1]
    # Anthropic reports uncached input apart from cache reads; the ledger holds the whole prompt.
    assert rec.input_tokens == second.usage.input_tokens + cached
    assert rec.cached_tokens == cached
    expected = ((rec.input_tokens - cached) * 3.00 + cached * 0.30 + rec.output_tokens * 15.0) / 1e6
    assert rec.cost_usd == pytest.approx(expected)


def _cached(client: openai.OpenAI, **kw: object) -> int:
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=_chat(LONG_SYSTEM, "same question"),
        max_tokens=5,
        **kw,  # type: ignore[arg-type]
    )
    assert reply.usage is not None
    assert reply.usage.prompt_tokens_details is not None
    return reply.usage.prompt_tokens_details.cached_tokens or 0


def test_different_api_key_gets_no_cache_hit(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    other = openai.OpenAI(base_url=provider.url + "/v1", api_key="sk-other", max_retries=0)
    try:
        assert _cached(openai_client) == 0
        assert _cached(other) == 0
        assert _cached(openai_client) > 0
    finally:
        other.close()


def test_different_tenant_gets_no_cache_hit(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    assert _cached(openai_client, extra_headers={"X-Tenant": "acme"}) == 0
    assert _cached(openai_client, extra_headers={"X-Tenant": "globex"}) == 0
    assert _cached(openai_client, extra_headers={"X-Tenant": "acme"}) > 0


def test_short_prompts_are_never_cached(provider: FakeProviderThread, openai_client: openai.OpenAI) -> None:
    for _ in range(3):
        reply = openai_client.chat.completions.create(
            model="gpt-4o", messages=_chat("Be brief.", "hello"), max_tokens=5
        )
        assert reply.usage is not None
        assert reply.usage.prompt_tokens_details is not None
        assert reply.usage.prompt_tokens_details.cached_tokens == 0
    assert all(r.cached_tokens == 0 for r in provider.state.ledger.records())
