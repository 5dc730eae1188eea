"""Known bugs the sampleapp can be started with (`--flaw NAME`), one per switch.

Flaws never reach the routes as names: they are turned once into a `Behaviour`, the few facts
the policy and the prompt assembler consult, so a flaw is one field and not if-branches
scattered through the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sampleapp.errors import SampleAppError


class Flaw(StrEnum):
    UNBOUNDED_RETRIES = "unbounded_retries"
    """Retries the primary on every retryable error, 10 ms apart, until the route times out (or
    the primary's breaker opens: then a 503); never falls back."""
    SILENT_FALLBACK = "silent_fallback"
    """Serves the fallback model without `x-degraded` and with `"degraded": false`."""
    NO_TOKEN_CAP = "no_token_cap"
    """No input cap at the prompt assembler and no `max_tokens` on any call."""
    IGNORE_RETRY_AFTER = "ignore_retry_after"
    """On a 429, waits a fixed 10 ms instead of the retry-after."""
    NO_ATTRIBUTION = "no_attribution"
    """Sends no X-Route / X-Feature / X-Tenant."""
    NO_REQUEST_ID = "no_request_id"
    """Does not forward X-Request-Id to the provider."""
    NO_BREAKER = "no_breaker"
    """No circuit breaker: every request tries a failing model itself, with its own retries."""
    SERVES_TRUNCATED = "serves_truncated"
    """A chat stream cut upstream is relayed as if complete: no error event, a normal `done`."""
    NO_CACHE = "no_cache"
    """The /extract response cache is bypassed: every request calls the provider."""
    NO_READ_TIMEOUT = "no_read_timeout"
    """A chat stream that stalls after its first chunk is waited on for as long as the route's
    timeout allows: no idle guard, so the caller's own timeout usually goes first."""


KNOWN_FLAWS: tuple[str, ...] = tuple(f.value for f in Flaw)


class UnknownFlaw(SampleAppError):
    """A flaw name that is not one of `KNOWN_FLAWS`."""


def parse_flaws(names: Iterable[str | Flaw]) -> frozenset[Flaw]:
    """The flaws named, refusing unknown names with the list of known ones."""
    out: set[Flaw] = set()
    for name in names:
        try:
            out.add(Flaw(name))
        except ValueError:
            raise UnknownFlaw(f"unknown flaw {name!r} (known: {', '.join(KNOWN_FLAWS)})") from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the app does, with every flaw already applied. The correct app is `Behaviour()`."""

    bounded_retries: bool = True  # attempt cap, jittered backoff, then the fallback model
    signal_degraded: bool = True
    cap_tokens: bool = True  # input cap at the assembler and max_tokens on every call
    honour_retry_after: bool = True
    attribution: bool = True
    forward_request_id: bool = True
    circuit_breaker: bool = True  # a breaker per model, shared by all requests
    signal_truncation: bool = True  # a stream cut upstream ends with an error event
    cache_responses: bool = True  # /extract answers reused for the same tenant and text
    guard_stalls: bool = True  # a chat stream with no content for `idle_timeout_s` is cut, visibly

    @classmethod
    def of(cls, flaws: Iterable[str | Flaw] = ()) -> Behaviour:
        found = parse_flaws(flaws)
        return cls(
            bounded_retries=Flaw.UNBOUNDED_RETRIES not in found,
            signal_degraded=Flaw.SILENT_FALLBACK not in found,
            cap_tokens=Flaw.NO_TOKEN_CAP not in found,
            honour_retry_after=Flaw.IGNORE_RETRY_AFTER not in found,
            attribution=Flaw.NO_ATTRIBUTION not in found,
            forward_request_id=Flaw.NO_REQUEST_ID not in found,
            circuit_breaker=Flaw.NO_BREAKER not in found,
            signal_truncation=Flaw.SERVES_TRUNCATED not in found,
            cache_responses=Flaw.NO_CACHE not in found,
            guard_stalls=Flaw.NO_READ_TIMEOUT not in found,
        )
