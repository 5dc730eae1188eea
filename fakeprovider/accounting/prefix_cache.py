"""A simulated provider-side prompt-prefix cache, per API key and tenant.

Like OpenAI's: prompts are cached in blocks of `block` tokens once they reach `min_tokens`;
a later prompt in the same scope that starts with the same blocks reports them as cached.
"""

from __future__ import annotations

from collections import OrderedDict


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
