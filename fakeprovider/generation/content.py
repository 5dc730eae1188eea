"""Deterministic content: seeded Faker prose, pre-tokenised once, picked per request.

Faker runs only at start (a pool of sentences per seed and encoding); a request draws from the
pool with its own seeded random generator, so the request path does no Faker work and no
tokenisation of generated prose. Each sentence's text pieces are built once, as plan events
that every plan shares.
"""

from __future__ import annotations

import bisect
import itertools
import random
import sys
from dataclasses import dataclass

from faker import Faker

from fakeprovider.generation import tokens
from fakeprovider.generation.events import TextDelta

POOL_SIZE = 512


@dataclass(frozen=True, slots=True)
class Phrasing:
    """One way to write a sentence out: its pieces, with running totals to cut it after any."""

    pieces: tuple[TextDelta, ...]
    text: str  # the pieces joined
    tokens: int
    ends: tuple[int, ...]  # tokens up to each piece boundary: 0, after the first, ..., `tokens`
    lengths: tuple[int, ...]  # characters of `text` up to each boundary


@dataclass(frozen=True, slots=True)
class Sentence:
    first: Phrasing  # when it opens the reply
    then: Phrasing  # when it follows another sentence (" ...")


@dataclass(slots=True)
class Prose:
    """Drawn prose: its events, and their text and token count, summed as they were drawn."""

    events: list[TextDelta]
    text: str
    tokens: int
    cut: bool  # pieces past the cap were dropped


def _phrasing(text: str, encoding_name: str, deltas: dict[tuple[str, int], TextDelta]) -> Phrasing:
    # A piece that recurs (" the", ".") is one shared event, so the events replies read stay
    # few enough to sit in the CPU cache (about 1,800 instead of 13,000 for a default pool).
    pieces = tuple(deltas.setdefault(p, TextDelta(*p)) for p in tokens.pieces(text, encoding_name))
    ends = (0, *itertools.accumulate(e.tokens for e in pieces))
    lengths = (0, *itertools.accumulate(len(e.text) for e in pieces))
    return Phrasing(pieces, "".join(e.text for e in pieces), ends[-1], ends, lengths)


def _sentence(text: str, encoding_name: str, deltas: dict[tuple[str, int], TextDelta]) -> Sentence:
    return Sentence(_phrasing(text, encoding_name, deltas), _phrasing(" " + text, encoding_name, deltas))


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
        return [(e.text, e.tokens) for e in self.prose_events(rng, n_tokens, None).events]

    def prose_events(self, rng: random.Random, n_tokens: int, cap: int | None) -> Prose:
        """At least `n_tokens` tokens of prose in whole sentences, as events cut before the first
        piece that would pass `cap` tokens (no sentence is drawn past it)."""
        out: list[TextDelta] = []
        texts: list[str] = []  # whole sentences' texts: fewer to join than the pieces
        kept = 0
        room = sys.maxsize if cap is None else cap  # tokens that may still be kept
        sentences = self.sentences
        n_sentences = len(sentences)
        # One C call per draw (`randrange` is Python code, several calls deep): the index is
        # as deterministic per generator state, and biased by under 2**-40 for pools under 8,000.
        rand = rng.random
        while kept < n_tokens:
            s = sentences[int(rand() * n_sentences)]
            p = s.then if kept else s.first
            count = p.tokens
            if count <= room:
                out += p.pieces
                texts.append(p.text)
                kept += count
                room -= count
                continue
            # The pieces that still fit: the last boundary at or under the room left.
            i = bisect.bisect_right(p.ends, room) - 1
            out += p.pieces[:i]
            texts.append(p.text[: p.lengths[i]])
            return Prose(out, "".join(texts), kept + p.ends[i], True)
        return Prose(out, "".join(texts), kept, False)

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
