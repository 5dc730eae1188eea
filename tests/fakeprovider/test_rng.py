"""Per-request draws from a BLAKE2b stream: fixed by the key, uniform, usable as `random.Random`."""

from __future__ import annotations

import hashlib
import struct
from collections import Counter

import pytest

from fakeprovider.generation.rng import DigestRandom


def _draws(key: bytes, n: int) -> list[float]:
    rng = DigestRandom(key)
    return [rng.random() for _ in range(n)]


def test_the_same_key_gives_the_same_draws_and_another_key_others() -> None:
    assert _draws(b"seed:request", 40) == _draws(b"seed:request", 40)
    assert _draws(b"seed:request", 40) != _draws(b"seed:other", 40)


def test_the_first_draws_are_the_top_53_bits_of_the_keys_blake2b_words() -> None:
    # Pinned to the hash, not to the interpreter: the same draws on every machine.
    words = struct.unpack("<8Q", hashlib.blake2b(b"k").digest())
    assert _draws(b"k", 8) == [(w >> 11) / 2**53 for w in words]


def test_draws_go_on_past_the_first_block_without_repeating_it() -> None:
    draws = _draws(b"k", 40)
    assert len(set(draws)) == 40
    assert draws[8:16] != draws[:8]


def test_draws_are_in_the_unit_interval_and_evenly_spread() -> None:
    draws = _draws(b"spread", 40_000)
    assert all(0.0 <= d < 1.0 for d in draws)
    tenths = Counter(int(d * 10) for d in draws)
    # 4,000 expected in each tenth; a skewed generator is far outside this band.
    assert all(3_700 < tenths[i] < 4_300 for i in range(10))


def test_random_methods_built_on_the_draws_stay_in_their_ranges() -> None:
    rng = DigestRandom(b"methods")
    assert all(1 <= rng.randint(1, 6) <= 6 for _ in range(500))
    assert {rng.randrange(3) for _ in range(500)} == {0, 1, 2}
    assert all(2.0 <= rng.uniform(2.0, 3.0) <= 3.0 for _ in range(500))
    assert set(rng.choices("abc", k=300)) == {"a", "b", "c"}
    assert rng.choice(["only"]) == "only"
    items = list(range(10))
    rng.shuffle(items)
    assert sorted(items) == list(range(10))


@pytest.mark.parametrize("k", [0, 1, 7, 53, 54, 200])
def test_getrandbits_gives_k_bits(k: int) -> None:
    rng = DigestRandom(b"bits")
    values = [rng.getrandbits(k) for _ in range(200)]
    assert all(0 <= v < 2**k for v in values)
    if k >= 7:
        assert max(values).bit_length() == k  # the top bit is drawn too


def test_getrandbits_bits_are_evenly_drawn() -> None:
    rng = DigestRandom(b"even")
    counts = Counter(rng.getrandbits(3) for _ in range(16_000))
    assert all(1_800 < counts[v] < 2_200 for v in range(8))


def test_a_digest_random_cannot_be_reseeded() -> None:
    rng = DigestRandom(b"fixed")
    with pytest.raises(TypeError, match="fixed by its key"):
        rng.seed(1)
    with pytest.raises(TypeError):
        rng.getstate()
