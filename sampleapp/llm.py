"""Every provider call the app makes goes through `LLM`: its tags, its timeout, and the one
retry / backoff / retry-after / fallback policy.

Retryable: 5xx, 429, timeouts, connection errors (and a stream that breaks before its first
chunk). Up to `primary_attempts` calls on the primary model with jittered exponential backoff
(a 429's retry-after is waited, unless it is longer than `max_retry_after_s` or the time left:
then the fallback is tried at once), then the rest of `max_attempts` on the fallback model. A
call that timed out is not repeated on the same model: it has already spent a whole call
timeout, and a model that hangs once usually hangs again, so the fallback is tried at once.
Other 4xx are not retried; a context-length 400 becomes the route's 413.
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

import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types import CreateEmbeddingResponse
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
)

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
class CallTags:
    """Who a route request's provider calls are for: attribution tags and the request id."""

    route: str
    feature: str
    tenant: str
    request_id: str


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    value: T
    model: str  # the model that answered
    fallback: bool  # whether that was the fallback model


@dataclass(frozen=True, slots=True)
class OpenedStream:
    stream: AsyncStream[ChatCompletionChunk]
    first: ChatCompletionChunk


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


class LLM:
    """The app's provider client, built once per app from its config and behaviour (flaws)."""

    def __init__(
        self,
        client: AsyncOpenAI,
        config: AppConfig,
        behaviour: Behaviour,
        *,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.client = client
        self.config = config
        self.behaviour = behaviour
        self._rng = rng or random.Random()
        self._sleep = sleep

    # --- tagging ---------------------------------------------------------------------------

    def headers(self, tags: CallTags) -> dict[str, str]:
        b = self.behaviour
        out: dict[str, str] = {}
        if b.attribution:
            out |= {"X-Route": tags.route, "X-Feature": tags.feature, "X-Tenant": tags.tenant}
        if b.forward_request_id:
            out["X-Request-Id"] = tags.request_id
        return out

    def output_cap(self, max_output_tokens: int) -> int | openai.Omit:
        return max_output_tokens if self.behaviour.cap_tokens else openai.omit

    def signalled(self, fallback: bool) -> bool:
        """Whether the caller is told it got the fallback (`silent_fallback` hides it)."""
        return fallback and self.behaviour.signal_degraded

    # --- the policy ------------------------------------------------------------------------

    def chat_stages(self, *, on_fallback: bool = False) -> list[Stage]:
        """Primary then fallback; `on_fallback` starts where an earlier call of the same route
        request ended up (its fallback share of the attempts only)."""
        r = self.config.retry
        if not self.behaviour.bounded_retries:
            return [(self.config.primary_model, None)]
        stages: list[Stage] = [
            (self.config.primary_model, r.primary_attempts),
            (self.config.fallback_model, r.max_attempts - r.primary_attempts),
        ]
        return stages[1:] if on_fallback else stages

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
            failure: Failure | None = None
            for k in itertools.count() if attempts is None else range(attempts):
                if failure is not None:
                    wait = self.retry_wait(k, failure)
                    if wait is None or wait >= deadline.remaining():
                        break  # too long to wait here: the next model, at once
                    await self._sleep(wait)
                timeout = min(self.config.retry.call_timeout_s, deadline.remaining())
                if timeout <= 0:
                    break
                try:
                    async with asyncio.timeout(timeout):
                        value = await attempt(model, timeout)
                except openai.APIStatusError as e:
                    failure = self._status_failure(model, e, budget)
                except (openai.APIError, ProviderBroke) as e:
                    failure = Failure(f"{model}: {type(e).__name__}: {e}")
                except TimeoutError:
                    failure = Failure(f"{model}: no answer within {timeout:.3g} s", timed_out=True)
                else:
                    return Answer(value, model, index > 0)
                last = failure.what
        raise RouteError(
            503,
            "provider_unavailable",
            f"no model could answer (last: {last})",
            headers={"x-degraded": "unavailable"},
        )

    def _status_failure(self, model: str, e: openai.APIStatusError, budget: Budget | None) -> Failure:
        status = e.status_code
        code = e.code if isinstance(e.code, str) else None
        if status == 400 and code == "context_length_exceeded":
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

    # --- the calls -------------------------------------------------------------------------

    async def complete(
        self,
        tags: CallTags,
        deadline: Deadline,
        messages: list[ChatCompletionMessageParam],
        max_output_tokens: int,
        *,
        budget: Budget | None = None,
        stages: list[Stage] | None = None,
        tools: list[ChatCompletionToolParam] | openai.Omit = openai.omit,
        tool_choice: ChatCompletionToolChoiceOptionParam | openai.Omit = openai.omit,
    ) -> Answer[ChatCompletion]:
        headers, cap = self.headers(tags), self.output_cap(max_output_tokens)

        async def attempt(model: str, timeout_s: float) -> ChatCompletion:
            return await self.client.chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=cap,
                tools=tools,
                tool_choice=tool_choice,
                extra_headers=headers,
                timeout=timeout_s,
            )

        return await self.run(deadline, stages or self.chat_stages(), attempt, budget)

    async def open_stream(
        self,
        tags: CallTags,
        deadline: Deadline,
        messages: list[ChatCompletionMessageParam],
        max_output_tokens: int,
        *,
        budget: Budget | None = None,
    ) -> Answer[OpenedStream]:
        """A chat stream opened and its first chunk read (the policy applies up to there)."""
        headers, cap = self.headers(tags), self.output_cap(max_output_tokens)

        async def attempt(model: str, timeout_s: float) -> OpenedStream:
            stream = await self.client.chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=cap,
                stream=True,
                stream_options={"include_usage": True},
                extra_headers=headers,
                timeout=timeout_s,
            )
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                await stream.close()
                raise ProviderBroke("the stream ended before its first chunk") from None
            except BaseException:
                await stream.close()
                raise
            return OpenedStream(stream, first)

        return await self.run(deadline, self.chat_stages(), attempt, budget)

    async def embed(
        self, tags: CallTags, deadline: Deadline, texts: list[str]
    ) -> Answer[CreateEmbeddingResponse]:
        headers = self.headers(tags)

        async def attempt(model: str, timeout_s: float) -> CreateEmbeddingResponse:
            return await self.client.embeddings.create(
                model=model, input=texts, extra_headers=headers, timeout=timeout_s
            )

        return await self.run(deadline, self.single_stage(self.config.embedding_model), attempt)
