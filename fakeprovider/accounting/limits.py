"""Quotas: requests and tokens per minute per scope (API key, tenant, route), sliding window.

A request is admitted only if every matching bucket has room; then it is counted in all of them
(there is no await between the check and the count, so concurrent requests never overshoot).
Tokens are counted at admission as prompt tokens plus `max_tokens`, as OpenAI estimates them.
Every answer carries the headers of the tightest bucket.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from fakeprovider.errors import ProviderError, QuotaRefusal, RetryAfter
from fakeprovider.generation.request import Tags
from fakeprovider.scenario.rules import LimitSpec

WINDOW_S = 60.0


@dataclass(slots=True)
class Bucket:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)
    token_sum: int = 0

    def evict(self, now: float) -> None:
        horizon = now - WINDOW_S
        while self.requests and self.requests[0] <= horizon:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= horizon:
            self.token_sum -= self.tokens.popleft()[1]


@dataclass(frozen=True, slots=True)
class Headroom:
    """One bucket's state as the answer reports it: `what` is "requests" or "tokens"."""

    what: Literal["requests", "tokens"]
    limit: int
    remaining: int
    reset: float  # seconds until the bucket is full again


@dataclass(slots=True)
class Admission:
    """The tightest buckets' headroom (requests first, then tokens), and a refusal if any."""

    levels: list[Headroom]
    error: ProviderError | None = None


# Buckets kept before idle ones are swept out: a bucket with nothing in its window is the same
# as a new one, so one new tenant per request costs memory only for the window's tenants.
SWEEP_AT_BUCKETS = 10_000


class Limiter:
    def __init__(self, specs: Iterable[LimitSpec], source: Callable[[], float] = time.monotonic) -> None:
        self.specs = list(specs)
        self._source = source
        self._buckets: dict[tuple[int, str], Bucket] = {}
        self._sweep_at = SWEEP_AT_BUCKETS

    def _sweep(self, now: float) -> None:
        """Drop the buckets with nothing left in their window; amortised O(1) per new bucket."""
        for key, bucket in list(self._buckets.items()):
            bucket.evict(now)
            if not bucket.requests and not bucket.tokens:
                del self._buckets[key]
        self._sweep_at = max(SWEEP_AT_BUCKETS, 2 * len(self._buckets))

    def __bool__(self) -> bool:
        return bool(self.specs)

    def clear(self) -> None:
        self._buckets.clear()

    def admit(self, api_key: str, tags: Tags, api: str, model: str, stream: bool, tokens: int) -> Admission:
        now = self._source()
        chosen: list[tuple[LimitSpec, Bucket]] = []
        for i, spec in enumerate(self.specs):
            if not spec.match.matches(api, model, tags, stream):
                continue
            value = api_key if spec.scope == "key" else getattr(tags, spec.scope) or ""
            bucket = self._buckets.get((i, value))
            if bucket is None:
                if len(self._buckets) >= self._sweep_at:
                    self._sweep(now)
                bucket = self._buckets[(i, value)] = Bucket()
            bucket.evict(now)
            chosen.append((spec, bucket))
        if not chosen:
            return Admission([])
        refusal: tuple[Literal["requests", "tokens"], float, LimitSpec, Bucket] | None = None
        for spec, bucket in chosen:
            if spec.rpm is not None and len(bucket.requests) >= spec.rpm:
                wait = bucket.requests[0] + WINDOW_S - now
                refusal = max(
                    refusal or ("requests", wait, spec, bucket),
                    ("requests", wait, spec, bucket),
                    key=lambda r: r[1],
                )
            if spec.tpm is not None and bucket.token_sum + tokens > spec.tpm:
                wait = self._token_wait(bucket, spec.tpm, tokens, now)
                refusal = max(
                    refusal or ("tokens", wait, spec, bucket),
                    ("tokens", wait, spec, bucket),
                    key=lambda r: r[1],
                )
        if refusal is None:
            for _, bucket in chosen:
                bucket.requests.append(now)
                bucket.tokens.append((now, tokens))
                bucket.token_sum += tokens
        levels = self._levels(chosen, now)
        if refusal is None:
            return Admission(levels)
        what, wait, spec, _ = refusal
        return Admission(levels, self._error(what, wait, spec, model, tokens))

    @staticmethod
    def _token_wait(bucket: Bucket, tpm: int, tokens: int, now: float) -> float:
        if tokens > tpm:
            return WINDOW_S
        need = bucket.token_sum + tokens - tpm
        freed = 0
        for t, n in bucket.tokens:
            freed += n
            if freed >= need:
                return t + WINDOW_S - now
        return WINDOW_S

    @staticmethod
    def _levels(chosen: list[tuple[LimitSpec, Bucket]], now: float) -> list[Headroom]:
        levels: list[Headroom] = []
        req = [(s.rpm - len(b.requests), s.rpm, b) for s, b in chosen if s.rpm is not None]
        tok = [(s.tpm - b.token_sum, s.tpm, b) for s, b in chosen if s.tpm is not None]
        if req:
            remaining, limit, b = min(req, key=lambda r: r[0])
            reset = b.requests[-1] + WINDOW_S - now if b.requests else 0.0
            levels.append(Headroom("requests", limit, max(0, remaining), reset))
        if tok:
            remaining, limit, b = min(tok, key=lambda r: r[0])
            reset = b.tokens[-1][0] + WINDOW_S - now if b.tokens else 0.0
            levels.append(Headroom("tokens", limit, max(0, remaining), reset))
        return levels

    @staticmethod
    def _error(
        what: Literal["requests", "tokens"], wait: float, spec: LimitSpec, model: str, tokens: int
    ) -> ProviderError:
        limit = spec.rpm if what == "requests" else spec.tpm
        assert limit is not None  # a bucket refuses only on a limit it has
        requested = 1 if what == "requests" else tokens
        refusal = QuotaRefusal(what, limit, requested, spec.scope, model, wait)
        return ProviderError(
            429, "rate_limit", "", retry_after=RetryAfter(wait, "rounded_up"), detail=refusal
        )
