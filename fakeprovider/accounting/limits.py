"""Quotas: requests and tokens per minute per scope (API key, tenant, route), sliding window.

A request is admitted only if every matching bucket has room; then it is counted in all of them
(there is no await between the check and the count, so concurrent requests never overshoot).
Tokens are counted at admission as prompt tokens plus `max_tokens`, as OpenAI estimates them.
Every answer carries the headers of the tightest bucket.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fakeprovider.errors import ProviderError
from fakeprovider.request import Tags
from fakeprovider.rules import LimitSpec

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


@dataclass(slots=True)
class Admission:
    headers: dict[str, str]
    error: ProviderError | None = None


def _ceil(x: float) -> int:
    """`x` rounded up, ignoring float noise from subtracting times (`59.12000000001` is 59.12)."""
    return math.ceil(round(x, 6))


def duration_text(seconds: float) -> str:
    """A duration as OpenAI's reset headers write it: `120ms`, `1.5s`, `6m0s` (rounded up to ms)."""
    # Whole milliseconds first: `1000.12 - 1000` must read `120ms`, not `121ms`, and 119.9999 s
    # must carry into the minutes (`2m0s`), not read `1m60s`.
    ms = _ceil(seconds * 1000)
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    text = f"{rest / 1000:g}s"
    return f"{minutes}m{text}" if minutes else text


def _rfc3339(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.ceil(wall)))


def _put(
    headers: dict[str, str], family: str, what: str, limit: int, remaining: int, reset: float, wall: float
) -> None:
    """One bucket's limit/remaining/reset headers, named as the provider names them."""
    if family == "anthropic":
        headers[f"anthropic-ratelimit-{what}-limit"] = str(limit)
        headers[f"anthropic-ratelimit-{what}-remaining"] = str(max(0, remaining))
        headers[f"anthropic-ratelimit-{what}-reset"] = _rfc3339(wall + reset)
    else:
        headers[f"x-ratelimit-limit-{what}"] = str(limit)
        headers[f"x-ratelimit-remaining-{what}"] = str(max(0, remaining))
        headers[f"x-ratelimit-reset-{what}"] = duration_text(reset)


class Limiter:
    def __init__(self, specs: Iterable[LimitSpec], source: Callable[[], float] = time.monotonic) -> None:
        self.specs = list(specs)
        self._source = source
        self._buckets: dict[tuple[int, str], Bucket] = {}

    def __bool__(self) -> bool:
        return bool(self.specs)

    def clear(self) -> None:
        self._buckets.clear()

    def admit(
        self, family: str, api_key: str, tags: Tags, api: str, model: str, stream: bool, tokens: int
    ) -> Admission:
        now = self._source()
        chosen: list[tuple[LimitSpec, Bucket]] = []
        for i, spec in enumerate(self.specs):
            if not spec.match.matches(api, model, tags, stream):
                continue
            value = api_key if spec.scope == "key" else getattr(tags, spec.scope) or ""
            bucket = self._buckets.get((i, value))
            if bucket is None:
                bucket = self._buckets[(i, value)] = Bucket()
            bucket.evict(now)
            chosen.append((spec, bucket))
        if not chosen:
            return Admission({})
        refusal: tuple[str, float, LimitSpec, Bucket] | None = None
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
        headers = self._headers(family, chosen, now)
        if refusal is None:
            return Admission(headers)
        what, wait, spec, _ = refusal
        return Admission(headers, self._error(family, what, wait, spec, model, tokens, headers))

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

    def _headers(self, family: str, chosen: list[tuple[LimitSpec, Bucket]], now: float) -> dict[str, str]:
        headers: dict[str, str] = {}
        req = [(s.rpm - len(b.requests), s.rpm, b) for s, b in chosen if s.rpm is not None]
        tok = [(s.tpm - b.token_sum, s.tpm, b) for s, b in chosen if s.tpm is not None]
        wall = time.time()
        if req:
            remaining, limit, b = min(req, key=lambda r: r[0])
            reset = b.requests[-1] + WINDOW_S - now if b.requests else 0.0
            _put(headers, family, "requests", limit, remaining, reset, wall)
        if tok:
            remaining, limit, b = min(tok, key=lambda r: r[0])
            reset = b.tokens[-1][0] + WINDOW_S - now if b.tokens else 0.0
            _put(headers, family, "tokens", limit, remaining, reset, wall)
        return headers

    @staticmethod
    def _error(
        family: str, what: str, wait: float, spec: LimitSpec, model: str, tokens: int, headers: dict[str, str]
    ) -> ProviderError:
        retry = {"retry-after": str(max(1, _ceil(wait)))}
        if family == "openai":
            retry["retry-after-ms"] = str(max(1, _ceil(wait * 1000)))
        limit = spec.rpm if what == "requests" else spec.tpm
        unit = "requests per min (RPM)" if what == "requests" else "tokens per min (TPM)"
        requested = 1 if what == "requests" else tokens
        if family == "anthropic":
            message = (
                f"This request would exceed your rate limit of {limit} {what} per minute "
                f"({spec.scope} scope). Please try again later."
            )
        elif limit is not None and requested > limit:
            # No wait lets this one through: OpenAI says so rather than naming a time.
            message = (
                f"Request too large for {model} on {unit}: Limit {limit}, Requested {requested}. "
                "The input or output tokens must be reduced in order to run successfully."
            )
        else:
            message = (
                f"Rate limit reached for {model} on {unit}: Limit {limit}, Requested {requested}. "
                f"Please try again in {duration_text(wait)}."
            )
        return ProviderError(
            429,
            "rate_limit",
            message,
            code="rate_limit_exceeded",
            headers={**headers, **retry},
            openai_type=what,
        )
