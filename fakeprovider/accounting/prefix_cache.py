"""Simulated provider-side prompt caches, per API key and tenant.

`PrefixCache` is automatic, like OpenAI's: prompts are cached in blocks of `block` tokens once
they reach `min_tokens`; a later prompt in the same scope that starts with the same blocks
reports them as cached. `ExplicitCache` caches only what the caller marks, like Anthropic's
`cache_control` breakpoints.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


class PrefixCache:
    def __init__(self, min_tokens: int = 1024, block: int = 128, max_entries: int = 200_000) -> None:
        self.min_tokens = min_tokens
        self.block = block
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, int], None] = OrderedDict()

    def lookup_and_store(self, scope: str, prompt_ids: list[int]) -> int:
        """Cached tokens for this prompt in `scope`; then remember its blocks."""
        n = len(prompt_ids)
        if n < self.min_tokens:
            return 0
        seen = self._seen
        cached = 0
        still_hit = True
        h = 0
        block = self.block
        for end in range(block, n + 1, block):
            h = hash((h, tuple(prompt_ids[end - block : end])))
            key = (scope, h)
            if still_hit and key in seen:
                seen.move_to_end(key)
                cached = end
            else:
                still_hit = False
                seen[key] = None
        while len(seen) > self.max_entries:
            seen.popitem(last=False)
        return cached if cached >= self.min_tokens else 0

    def clear(self) -> None:
        self._seen.clear()


@dataclass(slots=True)
class CacheUse:
    """What one call read from and wrote to an explicit prompt cache, in tokens."""

    read: int = 0
    written_5m: int = 0
    written_1h: int = 0


NO_CACHE_USE = CacheUse()


class ExplicitCache:
    """A simulated prompt cache with explicit breakpoints, as Anthropic's `cache_control`.

    Only prefixes that end at a breakpoint are cached, and only once they are at least the
    model's minimum length. A call reads the longest of its breakpoint prefixes already cached
    (and refreshes its time to live), then writes every longer one: the tokens between the
    read and each later breakpoint count as written at that breakpoint's TTL. Anthropic also
    finds a cached prefix a little before a breakpoint (up to 20 blocks back); here a hit needs
    the same prefix at a breakpoint. At most `max_entries` prefixes, the least recently used
    dropped first; expired ones are not read.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._expiry: OrderedDict[tuple[str, int, int], float] = OrderedDict()

    def use(
        self,
        scope: str,
        prompt_ids: list[int],
        breakpoints: tuple[tuple[int, float], ...],
        min_tokens: int,
        now: float,
    ) -> CacheUse:
        """Read and write the cache for a prompt with `breakpoints` ((token offset, TTL s),
        ascending offsets) in `scope`, at time `now` (seconds)."""
        cacheable = [(end, ttl) for end, ttl in breakpoints if end >= min_tokens]
        if not cacheable:
            return NO_CACHE_USE
        expiry = self._expiry
        keys = [(scope, end, hash(tuple(prompt_ids[:end]))) for end, _ in cacheable]
        use = CacheUse()
        start = 0  # where the read prefix ends
        for i in range(len(cacheable) - 1, -1, -1):
            due = expiry.get(keys[i])
            if due is not None and due > now:
                start = use.read = cacheable[i][0]
                expiry[keys[i]] = max(due, now + cacheable[i][1])
                expiry.move_to_end(keys[i])
                break
        for (end, ttl), key in zip(cacheable, keys, strict=True):
            if end <= start:
                continue
            if ttl > 300:
                use.written_1h += end - start
            else:
                use.written_5m += end - start
            start = end
            expiry[key] = now + ttl
            expiry.move_to_end(key)
        while len(expiry) > self.max_entries:
            expiry.popitem(last=False)
        return use

    def clear(self) -> None:
        self._expiry.clear()
