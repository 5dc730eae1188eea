"""Bounded label values: a caller picks its own tags (one new `X-Tenant` per request, say), so
every summary and metric keyed by them keeps at most `MAX_TAG_VALUES` distinct values per tag
and folds the rest into one `(other)` bucket. The ledger's records keep their tags as sent."""

from __future__ import annotations

OVERFLOW = "(other)"
MAX_TAG_VALUES = 1_000


class BoundedValues:
    """The distinct values of one tag seen so far, at most `limit`; later new ones fold."""

    __slots__ = ("_seen", "limit")

    def __init__(self, limit: int = MAX_TAG_VALUES) -> None:
        self._seen: set[str] = set()
        self.limit = limit

    def __call__(self, value: str | None) -> str | None:
        if value is None or value in self._seen:
            return value
        if len(self._seen) < self.limit:
            self._seen.add(value)
            return value
        return OVERFLOW

    def clear(self) -> None:
        self._seen.clear()
