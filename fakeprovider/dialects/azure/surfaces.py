"""Azure OpenAI's surfaces: OpenAI's chat completions (annotated with content-filter results),
embeddings and the Responses API, each reached through a deployment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.azure.filters import (
    PROMPT_CHUNK,
    PROMPT_RESULTS,
    annotate_choice,
    annotate_completion,
    choice_results,
)
from fakeprovider.dialects.azure.wire import AzureWire
from fakeprovider.dialects.base import Chunk, EmbeddingRequest, ResponseMeta, Usage
from fakeprovider.dialects.openai_chat import OpenAIChat
from fakeprovider.dialects.openai_chat.body import text_completion
from fakeprovider.dialects.openai_embeddings import OpenAIEmbeddings
from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.dialects.openai_responses.request import ResponsesRequest
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ChatRequest


class AzureChat(AzureWire, OpenAIChat):
    api = "azure.chat"
    operation = "ChatCompletions_Create"
    kind = "chat"

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        body, deployment = self.deployment_body(body, catalogue, match)
        req = super().parse(body, catalogue, match)
        req.deployment = deployment
        return req

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        completion = super().render_json(req, plan, usage, meta)
        for choice in completion["choices"]:
            choice["content_filter_results"] = choice_results(choice["finish_reason"])
        completion["prompt_filter_results"] = PROMPT_RESULTS
        return completion

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        text, calls = plan.content()
        if calls:
            return orjson.dumps(self.render_json(req, plan, usage, meta))
        body = text_completion(req.model.id, text, plan.finish, usage, meta)
        return annotate_completion(body, plan.finish)

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        chunks = super().render_sse(req, plan, usage, meta)
        first = next(chunks)
        yield Chunk(first.delay, PROMPT_CHUNK)
        first.delay = 0.0
        yield _annotated(first, None)
        # The choice's last chunk is the one naming its finish reason; a text delta's escaped
        # quotes (`\"`) cannot spell this.
        finish = b'"finish_reason":"' + plan.finish.encode()
        for chunk in chunks:
            last = finish in chunk.data
            yield _annotated(chunk, plan.finish if last else None)


class AzureEmbeddings(AzureWire, OpenAIEmbeddings):
    api = "azure.embeddings"
    operation = "Embeddings_Create"
    kind = "embedding"

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> EmbeddingRequest:
        body, deployment = self.deployment_body(body, catalogue, match)
        req = super().parse(body, catalogue, match)
        req.deployment = deployment
        return req


def _annotated(chunk: Chunk, finish: str | None) -> Chunk:
    chunk.data = annotate_choice(chunk.data, finish)
    return chunk


class AzureResponses(AzureWire, OpenAIResponses):
    """The Responses API on Azure: the deployment is the body's `model` (the SDK posts to
    `/openai/responses?api-version=…`, or to the v1 API's `/openai/v1/responses`)."""

    api = "azure.responses"
    operation = "Responses_Create"
    kind = "chat"

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> ResponsesRequest:
        body, deployment = self.deployment_body(body, catalogue, match)
        req = super().parse(body, catalogue, match)
        req.deployment = deployment
        return req
