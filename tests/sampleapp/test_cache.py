"""The embedding cache: time to live, least-recently-used eviction, keys per tenant and model."""

from __future__ import annotations

from sampleapp.cache import EmbeddingCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_expires_after_its_ttl() -> None:
    clock = Clock()
    cache = EmbeddingCache(ttl_s=10, max_entries=5, clock=clock)
    cache.put(("acme", "m1", "a"), [1.0])
    clock.now = 9.9
    assert cache.get(("acme", "m1", "a")) == [1.0]
    clock.now = 10.0
    assert cache.get(("acme", "m1", "a")) is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = EmbeddingCache(ttl_s=10, max_entries=2, clock=Clock())
    cache.put(("t", "m", "a"), [1.0])
    cache.put(("t", "m", "b"), [2.0])
    assert cache.get(("t", "m", "a")) == [1.0]  # now b is the least recently used
    cache.put(("t", "m", "c"), [3.0])
    assert cache.get(("t", "m", "b")) is None
    assert cache.get(("t", "m", "a")) == [1.0]
    assert cache.get(("t", "m", "c")) == [3.0]


def test_a_vector_is_reused_only_for_the_same_tenant_and_model_version() -> None:
    cache = EmbeddingCache(ttl_s=10, max_entries=10, clock=Clock())
    cache.put(("acme", "text-embedding-3-small", "hello"), [1.0])
    assert cache.get(("acme", "text-embedding-3-small", "hello")) == [1.0]
    assert cache.get(("globex", "text-embedding-3-small", "hello")) is None
    assert cache.get(("acme", "text-embedding-3-large", "hello")) is None


def test_a_zero_size_or_zero_ttl_cache_stores_nothing() -> None:
    for ttl, size in ((10, 0), (0, 10)):
        cache = EmbeddingCache(ttl_s=ttl, max_entries=size, clock=Clock())
        cache.put(("t", "m", "a"), [1.0])
        assert cache.get(("t", "m", "a")) is None
