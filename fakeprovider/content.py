"""Deterministic content: seeded Faker prose, pre-tokenised once, picked per request.

Faker runs only at start (a pool of sentences per seed and encoding); a request draws from the
pool with its own seeded random generator, so the request path does no Faker work and no
tokenisation of generated prose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

from fakeprovider import tokens

POOL_SIZE = 512


@dataclass(frozen=True, slots=True)
class Sentence:
    first: tuple[tuple[str, int], ...]  # pieces when it opens the reply
    then: tuple[tuple[str, int], ...]  # pieces when it follows another sentence (" ...")


class ContentPool:
    """Sentences and words made by Faker for one seed, tokenised for one encoding."""

    def __init__(self, seed: int, encoding_name: str, size: int = POOL_SIZE) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.encoding_name = encoding_name
        texts = [fake.sentence(nb_words=fake.random_int(6, 18)) for _ in range(size)]
        self.sentences: tuple[Sentence, ...] = tuple(
            Sentence(
                first=tuple(tokens.pieces(t, encoding_name)),
                then=tuple(tokens.pieces(" " + t, encoding_name)),
            )
            for t in texts
        )
        self.words: tuple[str, ...] = tuple(fake.words(nb=256, unique=True))
        self.names: tuple[str, ...] = tuple(fake.name() for _ in range(64))
        self.cities: tuple[str, ...] = tuple(fake.city() for _ in range(64))
        self.plain: tuple[str, ...] = tuple(texts)

    def prose(self, rng: random.Random, n_tokens: int) -> list[tuple[str, int]]:
        """At least `n_tokens` tokens of prose as pieces, in whole sentences."""
        out: list[tuple[str, int]] = []
        total = 0
        sentences = self.sentences
        while total < n_tokens:
            s = sentences[rng.randrange(len(sentences))]
            chosen = s.then if out else s.first
            out.extend(chosen)
            total += sum(n for _, n in chosen)
        return out

    def sentence(self, rng: random.Random) -> str:
        return self.plain[rng.randrange(len(self.plain))]


class ContentPools:
    """One pool per encoding, built on first use for the server's seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._pools: dict[str, ContentPool] = {}

    def get(self, encoding_name: str) -> ContentPool:
        pool = self._pools.get(encoding_name)
        if pool is None:
            pool = self._pools[encoding_name] = ContentPool(self.seed, encoding_name)
        return pool
