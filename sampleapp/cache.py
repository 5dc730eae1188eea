"""An in-memory LRU cache with a time to live, for embeddings.

Keys carry the tenant and the embedding model version as well as the text: a vector is only
ever reused for the same tenant and the same model, so neither tenant data nor vectors of an
older model leak into an answer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

Key = tuple[str, str, str]  # (tenant, embedding model version, text)
Vector = list[float]


class EmbeddingCache:
    """At most `max_entries` vectors, each for `ttl_s` seconds; the least recently used go first."""

    def __init__(self, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, Vector]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Vector | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, vector = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return vector

    def put(self, key: Key, vector: Vector) -> None:
        if self.max_entries <= 0 or self.ttl_s <= 0:
            return
        self._entries[key] = (self._clock() + self.ttl_s, vector)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
