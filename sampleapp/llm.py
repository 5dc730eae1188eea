"""The kinds of provider call the app makes: chat completion (plain or with a forced tool call),
chat stream, a Responses API answer, embeddings, and a chat answer that fails over from an
OpenAI model to an Anthropic one (the Messages API through the `anthropic` SDK).
Each one shapes its request (tags, output cap, per-call timeout) and hands it to the one
degradation policy (`policy.py`) as an `attempt(model, timeout_s)`.

Kept apart from the policy so that adding a call kind never touches the retry loop, and the
loop is tested once for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import anthropic
import openai
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI, AsyncStream
from openai.types import CreateEmbeddingResponse
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
)
from openai.types.responses import Response

from sampleapp.policy import Answer, Budget, Deadline, Policy, ProviderBroke, Stage


@dataclass(frozen=True, slots=True)
class CallTags:
    """Who a route request's provider calls are for: attribution tags and the request id."""

    route: str
    feature: str
    tenant: str
    request_id: str


# The Messages API requires `max_tokens`: without a cap (`no_token_cap`) the app sends the
# ceiling of the Anthropic models it uses, which is no cap in practice.
UNCAPPED_ANTHROPIC_MAX_TOKENS = 64_000


@dataclass(frozen=True, slots=True)
class OpenedStream:
    stream: AsyncStream[ChatCompletionChunk]
    first: ChatCompletionChunk


class LLM:
    """The app's provider client, built once per app; its config and behaviour (flaws) are the
    policy's, so the calls and the policy never disagree about them."""

    def __init__(
        self, client: AsyncOpenAI, policy: Policy, anthropic_client: AsyncAnthropic | None = None
    ) -> None:
        self.client = client
        self.anthropic = anthropic_client
        self.policy = policy
        self.config = policy.config
        self.behaviour = policy.behaviour

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
        """One chat completion; `stages` defaults to primary then fallback."""
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

        return await self.policy.run(deadline, stages or self.policy.chat_stages(), attempt, budget)

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

        return await self.policy.run(deadline, self.policy.chat_stages(), attempt, budget)

    async def respond(
        self,
        tags: CallTags,
        deadline: Deadline,
        instructions: str,
        question: str,
        max_output_tokens: int,
        *,
        budget: Budget | None = None,
    ) -> Answer[Response]:
        """One Responses API answer, kept nowhere provider-side (`store: false`)."""
        headers, cap = self.headers(tags), self.output_cap(max_output_tokens)

        async def attempt(model: str, timeout_s: float) -> Response:
            return await self.client.responses.create(
                model=model,
                instructions=instructions,
                input=question,
                max_output_tokens=cap,
                store=False,
                extra_headers=headers,
                timeout=timeout_s,
            )

        return await self.policy.run(deadline, self.policy.chat_stages(), attempt, budget)

    async def embed(
        self, tags: CallTags, deadline: Deadline, texts: list[str]
    ) -> Answer[CreateEmbeddingResponse]:
        """Embeddings from the one embedding model: no fallback, all attempts on it."""
        headers = self.headers(tags)

        async def attempt(model: str, timeout_s: float) -> CreateEmbeddingResponse:
            return await self.client.embeddings.create(
                model=model, input=texts, extra_headers=headers, timeout=timeout_s
            )

        return await self.policy.run(deadline, self.policy.single_stage(self.config.embedding_model), attempt)

    async def ask_across(
        self,
        tags: CallTags,
        deadline: Deadline,
        system: str,
        question: str,
        max_output_tokens: int,
        *,
        primary: tuple[str, int],
        fallback: tuple[str, int],
        budget: Budget | None = None,
    ) -> Answer[str]:
        """An answer's text from `primary` (an OpenAI chat model and its calls), failing over to
        `fallback` (an Anthropic model, Messages API); the same policy, tags and cap on both."""
        if self.anthropic is None:
            raise RuntimeError("ask_across needs the LLM built with an Anthropic client")
        anthropic_client = self.anthropic
        headers, cap = self.headers(tags), self.output_cap(max_output_tokens)

        async def attempt(model: str, timeout_s: float) -> str:
            if model == fallback[0]:
                message = await anthropic_client.messages.create(
                    model=model,
                    system=system,
                    messages=[{"role": "user", "content": question}],
                    max_tokens=UNCAPPED_ANTHROPIC_MAX_TOKENS if isinstance(cap, openai.Omit) else cap,
                    extra_headers=headers,
                    timeout=timeout_s,
                )
                return "".join(b.text for b in message.content if isinstance(b, anthropic.types.TextBlock))
            completion = await self.client.chat.completions.create(
                model=model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
                max_tokens=cap,
                extra_headers=headers,
                timeout=timeout_s,
            )
            return completion.choices[0].message.content or ""

        stages = self.policy.failover_stages(primary, fallback)
        return await self.policy.run(deadline, stages, attempt, budget)
