"""Seeded content: the Faker pool is deterministic per seed and its pieces carry real counts."""

from __future__ import annotations

import random

import pytest

from fakeprovider import tokens
from fakeprovider.content import ContentPool, ContentPools


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
