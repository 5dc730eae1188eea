"""The one degradation policy every provider call goes through: which models get how many
attempts, the per-call timeout, the waits between retries, the fallback and how it is signalled.

Kept apart from the call kinds (`llm.py`) because it is the part a probe in `experiments/` judges:
one loop that every route shares, testable with a fake attempt and an injected sleep.

Retryable: 5xx (Anthropic's 529 `overloaded_error` too), 429, timeouts, connection errors (and
a stream that breaks before its first chunk), from the `openai` and the `anthropic` SDK alike:
a route may fail over from one provider to the other (`/ask`), and both are judged the same way.

Up to `primary_attempts` calls on the primary model with jittered exponential backoff
(a 429's retry-after is waited, unless it is longer than `max_retry_after_s` or the time left:
then the fallback is tried at once), then the rest of `max_attempts` on the fallback model. A
call that timed out is not repeated on the same model: it has already spent a whole call
timeout, and a model that hangs once usually hangs again, so the fallback is tried at once.
Other 4xx are not retried; a context-length 400 becomes the route's 413.

Every model has a circuit breaker shared by all requests (`breaker.py`): while a model's is
open, its stage is skipped without a call - the route goes straight to its fallback (signalled
as degraded like any fallback), or answers 503 when no model is left.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Generic, TypeVar

import anthropic
import openai

from sampleapp.breaker import Breakers, CircuitBreaker, State
from sampleapp.config import AppConfig
from sampleapp.errors import RouteError
from sampleapp.flaws import Behaviour

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]
Stage = tuple[str, int | None]  # a model and how many calls it gets (None: no cap)
Budget = tuple[int, int]  # a prompt's input tokens and the route's max_input_tokens

# The wait of the flawed retry loops: no backoff and no retry-after, just a breath.
FLAW_WAIT_S = 0.01


class ProviderBroke(Exception):
    """The provider's answer ended before it began (a stream with no first chunk)."""


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    value: T
    model: str  # the model that answered
    fallback: bool  # whether that was the fallback model


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a retryable call failed, and the retry-after a 429 asked for."""

    what: str
    rate_limited: bool = False
    retry_after_s: float | None = None
    timed_out: bool = False


class Deadline:
    """A route request's time budget."""

    __slots__ = ("_at", "_clock")

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._at = clock() + timeout_s

    def remaining(self) -> float:
        return self._at - self._clock()


def retry_after_s(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The wait a 429 asks for: `retry-after-ms`, else `retry-after` (seconds or an HTTP date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    if (value := headers.get("retry-after")) is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError):
        return None


def error_code(e: openai.APIStatusError | anthropic.APIStatusError) -> str | None:
    """The error's code: OpenAI's `error.code`, or Anthropic's `error.type` (`overloaded_error`)."""
    if isinstance(e, openai.APIStatusError):
        return e.code if isinstance(e.code, str) else None
    error = e.body.get("error") if isinstance(e.body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) else None


def _anthropic_too_long(e: openai.APIStatusError | anthropic.APIStatusError) -> bool:
    """Anthropic's context-length 400: an `invalid_request_error` saying the prompt is too long."""
    return isinstance(e, anthropic.APIStatusError) and "prompt is too long" in e.message


class Policy:
    """The app's degradation policy, built once per app from its config and behaviour (flaws)."""

    def __init__(
        self,
        config: AppConfig,
        behaviour: Behaviour,
        *,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.behaviour = behaviour
        self._rng = rng or random.Random()
        self._sleep = sleep
        # `no_breaker`: none, every request finds out about an outage by itself.
        self.breakers = Breakers(config.breaker, clock) if behaviour.circuit_breaker else None

    def breaker(self, model: str) -> CircuitBreaker | None:
        return None if self.breakers is None else self.breakers[model]

    def signalled(self, fallback: bool) -> bool:
        """Whether the caller is told it got the fallback (`silent_fallback` hides it)."""
        return fallback and self.behaviour.signal_degraded

    def chat_stages(self, *, on_fallback: bool = False) -> list[Stage]:
        """Primary then fallback; `on_fallback` starts where an earlier call of the same route
        request ended up (its fallback share of the attempts only)."""
        r = self.config.retry
        stages = self.failover_stages(
            (self.config.primary_model, r.primary_attempts),
            (self.config.fallback_model, r.max_attempts - r.primary_attempts),
        )
        return stages[1:] if on_fallback and self.behaviour.bounded_retries else stages

    def failover_stages(self, primary: tuple[str, int], fallback: tuple[str, int]) -> list[Stage]:
        """`primary` then `fallback` (a model and its calls each: any two models, possibly on
        two providers); `unbounded_retries` keeps to the primary with no cap."""
        if not self.behaviour.bounded_retries:
            return [(primary[0], None)]
        return [primary, fallback]

    def single_stage(self, model: str) -> list[Stage]:
        return [(model, self.config.retry.max_attempts if self.behaviour.bounded_retries else None)]

    async def run(
        self,
        deadline: Deadline,
        stages: list[Stage],
        attempt: Callable[[str, float], Awaitable[T]],
        budget: Budget | None = None,
    ) -> Answer[T]:
        """Call `attempt(model, timeout_s)` under the policy until one answers. `budget` (the
        prompt's tokens and the route's cap) goes into a context-length 413."""
        last = "no time left for a call"
        for index, (model, attempts) in enumerate(stages):
            breaker = self.breaker(model)
            failure: Failure | None = None
            for k in itertools.count() if attempts is None else range(attempts):
                if breaker is not None and breaker.state is State.OPEN:
                    last = f"{model}: circuit open after repeated failures"
                    break  # the model is known to be down: the next model, at once
                if failure is not None:
                    wait = self.retry_wait(k, failure)
                    if wait is None or wait >= deadline.remaining():
                        break  # too long to wait here: the next model, at once
                    await self._sleep(wait)
                timeout = min(self.config.retry.call_timeout_s, deadline.remaining())
                if timeout <= 0:
                    break
                if breaker is not None and not breaker.allow():
                    last = f"{model}: circuit open (or its one probe call in flight)"
                    break
                model_failed: bool | None = None  # None: the call said nothing about the model
                try:
                    async with asyncio.timeout(timeout):
                        value = await attempt(model, timeout)
                    model_failed = False
                except (openai.APIStatusError, anthropic.APIStatusError) as e:
                    failure = self._status_failure(model, e, budget)
                    model_failed = True
                except (openai.APIError, anthropic.APIError, ProviderBroke) as e:
                    failure = Failure(f"{model}: {type(e).__name__}: {e}")
                    model_failed = True
                except TimeoutError:
                    failure = Failure(f"{model}: no answer within {timeout:.3g} s", timed_out=True)
                    model_failed = True
                finally:
                    if breaker is not None:
                        if model_failed is None:
                            breaker.released()
                        elif model_failed:
                            breaker.failed()
                        else:
                            breaker.succeeded()
                if model_failed is False:
                    return Answer(value, model, index > 0)
                assert failure is not None  # every other way out of the call set it
                last = failure.what
        raise RouteError(
            503,
            "provider_unavailable",
            f"no model could answer (last: {last})",
            headers={"x-degraded": "unavailable"},
        )

    def _status_failure(
        self, model: str, e: openai.APIStatusError | anthropic.APIStatusError, budget: Budget | None
    ) -> Failure:
        status = e.status_code
        code = error_code(e)
        if status == 400 and (code == "context_length_exceeded" or _anthropic_too_long(e)):
            extra = {} if budget is None else {"input_tokens": budget[0], "max_input_tokens": budget[1]}
            message = f"{model} says the prompt is too long: {e.message}"
            raise RouteError(413, "input_too_long", message, extra=extra)
        if status == 429:
            return Failure(f"{model}: 429 {code}", True, retry_after_s(e.response.headers))
        if status >= 500:
            return Failure(f"{model}: {status} {code}")
        raise RouteError(502, "provider_error", f"the provider refused the call: {status} {e.message}")

    def retry_wait(self, retry: int, failure: Failure) -> float | None:
        """Seconds before retry number `retry` on the same model, or None: do not wait here."""
        b, r = self.behaviour, self.config.retry
        if failure.timed_out and b.bounded_retries:
            return None
        if failure.rate_limited and not b.honour_retry_after:
            return FLAW_WAIT_S
        if b.bounded_retries:
            # Full jitter above a floor of one base: never an immediate retry.
            ceiling = min(r.max_backoff_s, r.backoff_s * 2**retry)
            backoff = self._rng.uniform(min(r.backoff_s, ceiling), ceiling)
        else:
            backoff = FLAW_WAIT_S
        if failure.retry_after_s is None:
            return backoff
        if failure.retry_after_s > r.max_retry_after_s:
            return None
        return max(backoff, failure.retry_after_s)
