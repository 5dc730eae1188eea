"""In-memory LRU caches with a time to live: embeddings (`/embed`) and answers (`/extract`).

Keys always carry the tenant and the model as well as the input: a cached value is only ever
reused for the same tenant and the same model, so neither tenant data nor the output of an
older model leaks into an answer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Key = tuple[str, str, str]  # (tenant, embedding model version, text)
Vector = list[float]


class TTLCache(Generic[K, V]):
    """At most `max_entries` values, each for `ttl_s` seconds; the least recently used go first.
    Either bound at 0 turns the cache off (nothing is kept)."""

    def __init__(self, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.max_entries <= 0 or self.ttl_s <= 0:
            return
        self._entries[key] = (self._clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


class EmbeddingCache(TTLCache[Key, Vector]):
    """Vectors by (tenant, embedding model version, text)."""
