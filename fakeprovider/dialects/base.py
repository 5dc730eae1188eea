"""Wire protocols: parse a provider request into a `ChatRequest`, render a `Plan` back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fakeprovider.catalogue import Catalogue
from fakeprovider.errors import ProviderError
from fakeprovider.plan import Plan
from fakeprovider.request import ChatRequest, Tags


@dataclass(slots=True)
class Usage:
    input_tokens: int
    cached_tokens: int
    output_tokens: int


@dataclass(slots=True)
class ResponseMeta:
    """Identity of one response: ids and timestamps the client sees."""

    response_id: str
    created: int
    fingerprint: str


@dataclass(slots=True)
class Chunk:
    """One piece of a stream: wait `delay` seconds, write `data`; it carries `tokens`."""

    delay: float
    data: bytes
    tokens: int = 0
    content: bool = False  # a non-empty content chunk (the first one marks TTFT)


class ChatProtocol(Protocol):
    """One chat wire protocol (OpenAI chat completions, Anthropic messages)."""

    api: str  # ledger api name
    family: str  # "openai" | "anthropic"

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue) -> ChatRequest: ...

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags: ...

    def new_meta(self) -> ResponseMeta: ...

    def render_json(
        self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta
    ) -> dict[str, Any]: ...

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        """`render_json` as the bytes sent."""
        ...

    def render_sse(
        self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta
    ) -> Iterator[Chunk]: ...

    def stream_error(self, error: ProviderError) -> bytes: ...
