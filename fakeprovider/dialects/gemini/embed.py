"""Gemini embeddings: `models/{model}:embedContent` (one content) and `:batchEmbedContents`
(`requests`, each one content), answered with deterministic unit vectors.

The vectors are those OpenAI's embeddings surface gives for the same text, model, dimensions and
seed (`openai_embeddings.embed.vector`); `outputDimensionality` shortens them as Gemini's
Matryoshka embeddings are shortened. An input longer than the model's limit is cut to it (the
API truncates by default), and billed for what was embedded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.base import EmbeddingRequest, EmbeddingsDialect
from fakeprovider.dialects.gemini.request import field_of, resolve_model
from fakeprovider.dialects.gemini.wire import GeminiWire
from fakeprovider.dialects.openai_embeddings.embed import vector
from fakeprovider.errors import invalid
from fakeprovider.generation import tokens

MAX_BATCH = 100  # requests in one batchEmbedContents call, as the API allows


@dataclass(slots=True)
class GeminiEmbeddingRequest(EmbeddingRequest):
    """An embeddings request with each input's own dimensions, and whether it was a batch."""

    batch: bool = False
    input_dimensions: list[int] = field(default_factory=list)


class GeminiEmbed(GeminiWire, EmbeddingsDialect):
    api = "gemini.embed"

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> GeminiEmbeddingRequest:
        method = match.get("method", "embedContent")
        info = resolve_model(catalogue, match, "embedding", method)
        batch = method == "batchEmbedContents"
        if batch:
            requests = body.get("requests")
            if not isinstance(requests, list) or not requests:
                raise invalid(
                    "* BatchEmbedContentsRequest.requests: requests must be a non-empty list",
                    param="requests",
                )
            if len(requests) > MAX_BATCH:
                raise invalid(
                    f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in "
                    "one batch.",
                    param="requests",
                )
            where = "BatchEmbedContentsRequest.requests"
        else:
            requests = [body]
            where = "EmbedContentRequest"
        inputs: list[bytes] = []
        dims: list[int] = []
        n_tokens = 0
        enc = tokens.encoding(info.encoding)
        for i, one in enumerate(requests):
            at = f"{where}[{i}]" if batch else where
            if not isinstance(one, dict):
                raise invalid(f"* {at}: expected an object", param=at)
            model = one.get("model")
            if batch and model is not None and model != f"models/{match.get('model')}":
                raise invalid(
                    f"* {at}.model: each request's model must be the batch's, models/{match.get('model')}.",
                    param=f"{at}.model",
                )
            text = _content_text(one.get("content"), f"{at}.content")
            ids = enc.encode_ordinary(text)
            if len(ids) > info.context_window:
                ids = ids[: info.context_window]
                text = b"".join(enc.decode_single_token_bytes(t) for t in ids).decode(errors="replace")
            n_tokens += len(ids)
            inputs.append(text.encode())
            dims.append(_dimensions(one, info, at))
        return GeminiEmbeddingRequest(info, inputs, dims[0], False, n_tokens, None, batch, dims)

    def render_body(self, req: EmbeddingRequest, seed: int) -> bytes:
        assert isinstance(req, GeminiEmbeddingRequest)
        vectors = [
            {"values": vector(key, req.model.id, dims, seed)}
            for key, dims in zip(req.inputs, req.input_dimensions, strict=True)
        ]
        if req.batch:
            return orjson.dumps({"embeddings": vectors})
        return orjson.dumps({"embedding": vectors[0]})


def _content_text(content: Any, at: str) -> str:
    if not isinstance(content, dict):
        raise invalid(f"* {at}: content is required", param=at)
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise invalid(f"* {at}.parts: contents.parts must not be empty.", param=f"{at}.parts")
    texts = []
    for j, part in enumerate(parts):
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise invalid(
                f"* {at}.parts[{j}].text: only text parts can be embedded", param=f"{at}.parts[{j}]"
            )
        texts.append(part["text"])
    text = "\n".join(texts)
    if not text:
        raise invalid(f"* {at}.parts: the text to embed is empty.", param=f"{at}.parts")
    return text


def _dimensions(one: Mapping[str, Any], info: ModelInfo, at: str) -> int:
    dims = field_of(one, "outputDimensionality", "output_dimensionality")
    if dims is None:
        return info.dimensions
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= info.dimensions:
        raise invalid(
            f"* {at}.output_dimensionality: must be between 1 and {info.dimensions}, got {dims!r}.",
            param=f"{at}.output_dimensionality",
        )
    return dims
