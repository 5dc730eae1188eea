"""Deterministic content: seeded Faker prose, pre-tokenised once, picked per request.

Faker runs only at start (a pool of sentences per seed and encoding); a request draws from the
pool with its own seeded random generator, so the request path does no Faker work and no
tokenisation of generated prose. Each sentence's text pieces are built once, as plan events
that every plan shares.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

from fakeprovider import tokens
from fakeprovider.events import TextDelta

POOL_SIZE = 512


@dataclass(frozen=True, slots=True)
class Sentence:
    first: tuple[TextDelta, ...]  # pieces when it opens the reply
    then: tuple[TextDelta, ...]  # pieces when it follows another sentence (" ...")
    first_tokens: int
    then_tokens: int


def _sentence(text: str, encoding_name: str, deltas: dict[tuple[str, int], TextDelta]) -> Sentence:
    # A piece that recurs (" the", ".") is one shared event, so the events replies read stay
    # few enough to sit in the CPU cache (about 1,800 instead of 13,000 for a default pool).
    first = tuple(deltas.setdefault(p, TextDelta(*p)) for p in tokens.pieces(text, encoding_name))
    then = tuple(deltas.setdefault(p, TextDelta(*p)) for p in tokens.pieces(" " + text, encoding_name))
    return Sentence(first, then, sum(e.tokens for e in first), sum(e.tokens for e in then))


class ContentPool:
    """Sentences and words made by Faker for one seed, tokenised for one encoding."""

    def __init__(self, seed: int, encoding_name: str, size: int = POOL_SIZE) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        self.encoding_name = encoding_name
        texts = [fake.sentence(nb_words=fake.random_int(6, 18)) for _ in range(size)]
        deltas: dict[tuple[str, int], TextDelta] = {}
        self.sentences: tuple[Sentence, ...] = tuple(_sentence(t, encoding_name, deltas) for t in texts)
        self.words: tuple[str, ...] = tuple(fake.words(nb=256, unique=True))
        self.names: tuple[str, ...] = tuple(fake.name() for _ in range(64))
        self.cities: tuple[str, ...] = tuple(fake.city() for _ in range(64))
        self.plain: tuple[str, ...] = tuple(texts)

    def prose(self, rng: random.Random, n_tokens: int) -> list[tuple[str, int]]:
        """At least `n_tokens` tokens of prose as (text, tokens) pieces, in whole sentences."""
        events, _ = self.prose_events(rng, n_tokens, None)
        return [(e.text, e.tokens) for e in events]

    def prose_events(
        self, rng: random.Random, n_tokens: int, cap: int | None
    ) -> tuple[list[TextDelta], bool]:
        """At least `n_tokens` tokens of prose in whole sentences, as events cut before the first
        piece that would pass `cap` tokens; and whether that cut dropped any.

        Sentences past the cap are still drawn, so `rng` ends where the uncut draw leaves it.
        """
        out: list[TextDelta] = []
        drawn = 0
        kept = 0
        cut = False
        sentences = self.sentences
        n_sentences = len(sentences)
        # One C call per draw (`randrange` is Python code, several calls deep): the index is
        # as deterministic per generator state, and biased by under 2**-40 for pools under 8,000.
        rand = rng.random
        while drawn < n_tokens:
            s = sentences[int(rand() * n_sentences)]
            if drawn:
                events, count = s.then, s.then_tokens
            else:
                events, count = s.first, s.first_tokens
            drawn += count
            if cut:
                continue
            if cap is None or kept + count <= cap:
                out.extend(events)
                kept += count
                continue
            for e in events:
                if kept + e.tokens > cap:
                    break
                out.append(e)
                kept += e.tokens
            cut = True
        return out, cut

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
