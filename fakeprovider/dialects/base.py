"""The dialect interface: everything one wire protocol owns, and nothing else owns.

A dialect turns its provider's requests into neutral values and neutral answers back into
its provider's bytes; serving, faults, quotas and the ledger never name a provider.

- Request: `parse(body, catalogue, match)` (`match`: the URL's parameters) gives the neutral
  request or raises a neutral `ProviderError`; `tags`, `sdk_retry_count`, `api_key` read the
  caller's tags, retry count and key; `new_request_id`, `request_id_headers` name the call.
- Answer (`ChatDialect`): `new_meta`, then `render_body` (`render_json` as bytes) or
  `render_sse` (timed `Chunk`s, paced by serving); `stream_error` is the mid-stream error frame
  (given the stream's request and meta, which a numbered stream continues) and
  `mid_stream_error` the error a provider fails with mid-answer; `keepalive` is what the protocol
  sends to keep a silent stream open (a `stall` fault sends it), if it has such a thing.
- Errors: `error_status`, `error_message` (the words, also the ledger's), `error_body`, `error_headers`
  (retry-after and the like), `quota_headers` (a quota's limit/remaining/reset headers).
- Replay: `read_answer` reads a recorded answer (a cassette exchange) back as neutral events.
- Models: `model_json` (given the catalogue entry), `model_list` for `GET /v1/models[/{id}]`;
  `catalogue_api` says which catalogue models the dialect serves.

Concrete dialects compose these from base classes (request reader, body, stream, shared wire
pieces) rather than holding objects they call: a call through a dialect is one method call.
Register an instance in `fakeprovider.dialects` and route to it in `app.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from fakeprovider.accounting.limits import Headroom
from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ChatRequest, Tags

if TYPE_CHECKING:
    from fakeprovider.replay.answer import RecordedAnswer
    from fakeprovider.replay.cassette import Exchange

NO_PARAMS: Mapping[str, str] = {}


@dataclass(slots=True)
class Usage:
    input_tokens: int  # all of the prompt: read from the cache, written to it, and the rest
    cached_tokens: int  # read from the cache
    output_tokens: int
    written_5m: int = 0  # written to an explicit cache (Anthropic's), by time to live
    written_1h: int = 0


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


@dataclass(slots=True)
class EmbeddingRequest:
    """A neutral embeddings request: what to embed, with which model, in how many dimensions."""

    model: ModelInfo
    inputs: list[bytes]  # each input as the bytes the model reads (token ids decoded)
    dimensions: int
    base64: bool
    input_tokens: int
    deployment: str | None = None  # the deployment the caller named, where models have them


def ceil_clean(x: float) -> int:
    """`x` rounded up, ignoring float noise from subtracting times (`59.12000000001` is 59.12)."""
    return math.ceil(round(x, 6))


class Dialect:
    """What every wire protocol owns: ids, tags, errors, quota headers, model listing."""

    api: ClassVar[str]  # the ledger's `api` and the registry name: "openai.chat"
    catalogue_api: ClassVar[str]  # the catalogue models it serves: "openai" | "anthropic" | "google"
    # Headers that mark a request as this dialect's where the path does not (unknown paths,
    # model listing): `version_header` marks both, `key_header` unknown paths only.
    version_header: ClassVar[str | None] = None
    key_header: ClassVar[str | None] = None
    # Query parameters `parse` reads, handed to it in `match` beside the path's parameters.
    query_params: ClassVar[tuple[str, ...]] = ()
    # A query parameter that carries the API key when no header does (Google's `key=`).
    key_query_param: ClassVar[str | None] = None

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        """The tags headers gave, filled in from the body."""
        return header_tags

    def sdk_retry_count(self, headers: Mapping[str, str]) -> int | None:
        retry = headers.get("x-stainless-retry-count")
        return int(retry) if retry is not None and retry.isdigit() else None

    def api_key(self, headers: Mapping[str, str]) -> str:
        auth = headers.get("authorization", "")
        return auth[7:] if auth[:7].lower() == "bearer " else headers.get("x-api-key", "")

    def new_request_id(self) -> str:
        raise NotImplementedError

    def request_id_headers(self, request_id: str) -> dict[str, str]:
        return {"x-request-id": request_id}

    def error_status(self, error: ProviderError) -> int:
        """The HTTP status this provider answers `error` with (a provider whose errors each
        have their own status, as Bedrock's exceptions do, maps the neutral one onto it)."""
        return error.status

    def error_message(self, error: ProviderError) -> str:
        """The words this provider uses for `error` (its `message`, unless a detail is worded)."""
        return error.message

    def error_body(self, error: ProviderError) -> bytes:
        raise NotImplementedError

    def error_headers(self, error: ProviderError, headers: dict[str, str]) -> None:
        """Add what this provider sends with `error` (retry-after and the like) to `headers`."""

    def quota_headers(self, levels: list[Headroom]) -> dict[str, str]:
        """The limit/remaining/reset headers of the tightest buckets."""
        return {}

    def mid_stream_error(self, stream: bool) -> ProviderError:
        """The error this provider fails with mid-answer (`stream`: after a 200 went out)."""
        return ProviderError(500, "server", "Internal server error")

    def model_json(self, model: ModelInfo, created: int) -> dict[str, object]:
        """One catalogue model as this provider lists it (`model.id`: the id as requested)."""
        raise NotImplementedError

    def model_list(self, data: list[dict[str, object]]) -> dict[str, object]:
        raise NotImplementedError


class ChatDialect(Dialect):
    """A chat surface: a request becomes a plan of neutral events, rendered whole or streamed."""

    # What `render_sse`'s bytes are: SSE, or another framing (Bedrock's AWS event stream).
    stream_content_type: ClassVar[str] = "text/event-stream; charset=utf-8"

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        raise NotImplementedError

    def new_meta(self) -> ResponseMeta:
        raise NotImplementedError

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        raise NotImplementedError

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        """`render_json` as the bytes sent."""
        raise NotImplementedError

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        raise NotImplementedError

    def stream_error(self, error: ProviderError, req: ChatRequest, meta: ResponseMeta) -> bytes:
        """The frame(s) that end the stream `render_sse(req, …, meta)` began with `error`."""
        raise NotImplementedError

    def read_answer(self, exchange: Exchange) -> RecordedAnswer:
        """A recorded 2xx answer of this surface (whole body or stream events) as neutral
        events with their recorded offsets, finish, usage and ids (`fakeprovider.replay`)."""
        raise NotImplementedError(f"replaying {self.api} answers")

    def keepalive(self) -> bytes | None:
        """What this protocol sends on an open stream that has nothing to say, so that proxies
        and clients keep it open; None when the protocol has no such message."""
        return None


class EmbeddingsDialect(Dialect):
    """An embeddings surface: a request becomes vectors, fixed by input, model and seed."""

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> EmbeddingRequest:
        raise NotImplementedError

    def render_body(self, req: EmbeddingRequest, seed: int) -> bytes:
        raise NotImplementedError
