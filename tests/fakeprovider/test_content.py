"""Seeded content: the Faker pool is deterministic per seed and its pieces carry real counts."""

from __future__ import annotations

import random

import pytest

from fakeprovider.generation import tokens
from fakeprovider.generation.content import ContentPool, ContentPools


def test_pool_is_deterministic_per_seed() -> None:
    a = ContentPool(3, "o200k_base", size=32)
    b = ContentPool(3, "o200k_base", size=32)
    assert a.plain == b.plain
    assert a.words == b.words
    assert a.names == b.names
    assert a.sentences == b.sentences


def test_pools_of_different_seeds_differ() -> None:
    assert ContentPool(1, "o200k_base", size=32).plain != ContentPool(2, "o200k_base", size=32).plain


def test_prose_is_deterministic_per_request_rng() -> None:
    pool = ContentPool(0, "o200k_base", size=32)
    assert pool.prose(random.Random(5), 100) == pool.prose(random.Random(5), 100)
    assert pool.prose(random.Random(5), 100) != pool.prose(random.Random(6), 100)


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
@pytest.mark.parametrize("rng_seed", range(5))
def test_prose_piece_counts_equal_the_real_token_count_of_the_text(encoding: str, rng_seed: int) -> None:
    pool = ContentPool(0, encoding, size=64)
    pieces = pool.prose(random.Random(rng_seed), 150)
    text = "".join(p for p, _ in pieces)
    assert sum(n for _, n in pieces) == tokens.count(text, encoding)
    assert sum(n for _, n in pieces) >= 150


def test_prose_is_whole_sentences() -> None:
    pool = ContentPool(0, "o200k_base", size=32)
    text = "".join(p for p, _ in pool.prose(random.Random(0), 40))
    assert text[0].isupper()
    assert text.endswith(".")


def test_pools_are_built_once_per_encoding() -> None:
    pools = ContentPools(seed=4)
    assert pools.get("o200k_base") is pools.get("o200k_base")
    assert pools.get("cl100k_base").encoding_name == "cl100k_base"


@pytest.mark.parametrize("cap", [None, 1, 7, 40, 500])
@pytest.mark.parametrize("rng_seed", range(4))
def test_drawn_prose_text_and_tokens_are_those_of_its_events(cap: int | None, rng_seed: int) -> None:
    pool = ContentPool(0, "o200k_base", size=64)
    prose = pool.prose_events(random.Random(rng_seed), 120, cap)
    assert prose.text == "".join(e.text for e in prose.events)
    assert prose.tokens == sum(e.tokens for e in prose.events)
    if cap is not None:
        assert prose.tokens <= cap
    assert prose.cut == (cap is not None and cap < 120)


def test_capped_prose_is_the_start_of_the_uncapped_prose() -> None:
    pool = ContentPool(0, "o200k_base", size=64)
    whole = pool.prose_events(random.Random(9), 100, None)
    capped = pool.prose_events(random.Random(9), 100, 30)
    assert whole.events[: len(capped.events)] == capped.events
    assert capped.cut
    assert not whole.cut


def test_each_phrasing_knows_its_text_and_where_each_piece_ends() -> None:
    pool = ContentPool(0, "cl100k_base", size=32)
    for sentence in pool.sentences:
        for p in (sentence.first, sentence.then):
            assert p.text == "".join(e.text for e in p.pieces)
            assert p.tokens == sum(e.tokens for e in p.pieces) == tokens.count(p.text, "cl100k_base")
            for i in range(len(p.pieces) + 1):
                assert p.ends[i] == sum(e.tokens for e in p.pieces[:i])
                assert p.text[: p.lengths[i]] == "".join(e.text for e in p.pieces[:i])
