"""The simulated prompt caches: OpenAI's automatic prefix cache (per key and tenant, 128-token
blocks, 1024-token minimum) and the explicit one Anthropic's `cache_control` breakpoints use."""

from __future__ import annotations

import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.accounting.prefix_cache import CacheUse, ExplicitCache, PrefixCache
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


# -- explicit breakpoints (Anthropic) ---------------------------------------------------------

PROMPT = list(range(6000))
FIVE_MIN, HOUR = 300.0, 3600.0


def test_a_breakpoint_prefix_is_written_then_read() -> None:
    cache = ExplicitCache()
    marks = ((2000, FIVE_MIN),)
    assert cache.use("k", PROMPT, marks, 1024, now=0.0) == CacheUse(read=0, written_5m=2000)
    assert cache.use("k", PROMPT, marks, 1024, now=10.0) == CacheUse(read=2000)


def test_only_prefixes_up_to_a_breakpoint_are_cached_and_no_breakpoint_caches_nothing() -> None:
    cache = ExplicitCache()
    assert cache.use("k", PROMPT, (), 1024, now=0.0) == CacheUse()
    cache.use("k", PROMPT, ((3000, FIVE_MIN),), 1024, now=0.0)
    # The same text with the breakpoint elsewhere: that prefix was never written.
    assert cache.use("k", PROMPT, ((2500, FIVE_MIN),), 1024, now=1.0) == CacheUse(written_5m=2500)


def test_the_longest_cached_breakpoint_is_read_and_the_later_ones_written_by_their_ttl() -> None:
    cache = ExplicitCache()
    cache.use("k", PROMPT, ((2000, HOUR),), 1024, now=0.0)
    use = cache.use("k", PROMPT, ((2000, HOUR), (3500, FIVE_MIN), (5000, FIVE_MIN)), 1024, now=1.0)
    assert use == CacheUse(read=2000, written_5m=3000)
    again = cache.use("k", PROMPT, ((2000, HOUR), (3500, FIVE_MIN), (5000, FIVE_MIN)), 1024, now=2.0)
    assert again == CacheUse(read=5000)


def test_a_prefix_under_the_model_minimum_is_neither_written_nor_read() -> None:
    cache = ExplicitCache()
    marks = ((1500, FIVE_MIN),)
    assert cache.use("k", PROMPT, marks, 2048, now=0.0) == CacheUse()
    assert cache.use("k", PROMPT, marks, 2048, now=1.0) == CacheUse()


def test_entries_expire_after_their_ttl_and_a_read_refreshes_it() -> None:
    cache = ExplicitCache()
    marks = ((2000, FIVE_MIN),)
    cache.use("k", PROMPT, marks, 1024, now=0.0)
    assert cache.use("k", PROMPT, marks, 1024, now=299.0).read == 2000  # refreshed to 599
    assert cache.use("k", PROMPT, marks, 1024, now=598.0).read == 2000
    assert cache.use("k", PROMPT, marks, 1024, now=898.1) == CacheUse(written_5m=2000)  # expired
    hour = ((2000, HOUR),)
    cache.use("k", PROMPT, hour, 1024, now=1000.0)
    assert cache.use("k", PROMPT, hour, 1024, now=4500.0).read == 2000


def test_explicit_cache_is_scoped_bounded_and_clearable() -> None:
    cache = ExplicitCache(max_entries=3)
    marks = ((2000, FIVE_MIN),)
    cache.use("a", PROMPT, marks, 1024, now=0.0)
    assert cache.use("b", PROMPT, marks, 1024, now=0.0).read == 0
    for start in range(5):  # four more prefixes: the oldest go
        cache.use("a", list(range(start + 1, 6000)), marks, 1024, now=0.0)
    assert len(cache._expiry) == 3
    assert cache.use("a", PROMPT, marks, 1024, now=1.0).read == 0
    cache.clear()
    assert cache.use("a", PROMPT, marks, 1024, now=1.0).read == 0
