"""The provider's paths, declared once: which method and path is which surface.

`app.py` serves each `Surface` with the handler its `api` names, and the recording proxy
(`replay/recorder.py`) builds its router from the same table, so a path the provider learns
is recorded under the right surface without a second list to keep in step.

`api` is a dialect's name (the ledger's `api`, a key of `DIALECTS`) for a model call; the other
routes (model listing, stored responses, token counts) have names of their own in the same
`provider.what` shape. Order matters: aiohttp tries routes in registration order, so a fixed
path comes before a pattern that would match it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakeprovider.dialects import azure, bedrock, gemini
from fakeprovider.dialects.bedrock.request import STREAM_OPERATION

GEMINI_STREAM_METHOD = "streamGenerateContent"


@dataclass(frozen=True, slots=True)
class Surface:
    """One route: `method` and aiohttp `path` pattern, the surface `api` it serves, and the path
    parameter that makes a call a stream (`streams_when`: name and value), if the path can."""

    method: str
    path: str
    api: str
    streams_when: tuple[str, str] | None = None

    def stream(self, body: Any, match: Mapping[str, str]) -> bool:
        """Whether a call asks for a stream: by its path where the surface says so, else the
        body's `stream: true`."""
        if self.streams_when is not None:
            name, value = self.streams_when
            return match.get(name) == value
        return isinstance(body, dict) and body.get("stream") is True


def _responses(prefix: str, api: str) -> tuple[Surface, ...]:
    """`POST {prefix}` first, then `input_tokens`, then the `{response_id}` pattern that would
    match it too."""
    return (
        Surface("POST", prefix, api),
        Surface("POST", prefix + "/input_tokens", api + ".input_tokens"),
        Surface("GET", prefix + "/{response_id}", api + ".get"),
        Surface("DELETE", prefix + "/{response_id}", api + ".delete"),
    )


SURFACES: tuple[Surface, ...] = (
    Surface("POST", "/v1/chat/completions", "openai.chat"),
    Surface("POST", "/v1/messages", "anthropic.messages"),
    Surface("POST", "/v1/messages/count_tokens", "anthropic.count_tokens"),
    Surface("POST", "/v1/embeddings", "openai.embeddings"),
    *(Surface("POST", path, api) for path, api in azure.ROUTES),
    Surface("POST", bedrock.ROUTE, "bedrock.converse", ("operation", STREAM_OPERATION)),
    *_responses("/v1/responses", "openai.responses"),
    *(s for path in azure.RESPONSES_PATHS for s in _responses(path, "azure.responses")),
    # `/v1/models` is OpenAI's and Anthropic's path: the request's headers tell which answers.
    Surface("GET", "/v1/models", "models.list"),
    Surface("GET", "/v1/models/{model}", "models.get"),
    Surface("POST", gemini.GENERATE_PATH, "gemini.generate", ("method", GEMINI_STREAM_METHOD)),
    Surface("POST", gemini.EMBED_PATH, "gemini.embed"),
    Surface("POST", gemini.COUNT_PATH, "gemini.count_tokens"),
    Surface("GET", "/v1beta/models", "gemini.models.list"),
    Surface("GET", "/v1beta/models/{model:[^{}/:]+}", "gemini.models.get"),
)

# Where a surface's path names the model: Gemini's `models/{model}`, Azure's deployment, Bedrock's.
MODEL_PARAMS = ("model", "deployment", "modelId")


def model_named(body: Any, match: Mapping[str, str]) -> str | None:
    """The model as the caller named it: the body's `model`, else the path's model or deployment."""
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str):
        return model
    for name in MODEL_PARAMS:
        if name in match:
            return match[name]
    return None
