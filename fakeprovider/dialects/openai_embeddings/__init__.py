"""OpenAI embeddings: `POST /v1/embeddings`, deterministic per text, model and dimensions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.base import EmbeddingRequest, EmbeddingsDialect
from fakeprovider.dialects.openai_embeddings import embed
from fakeprovider.dialects.openai_wire import OpenAIWire


class OpenAIEmbeddings(OpenAIWire, EmbeddingsDialect):
    api = "openai.embeddings"

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> EmbeddingRequest:
        return embed.parse(body, catalogue)

    def render_body(self, req: EmbeddingRequest, seed: int) -> bytes:
        return orjson.dumps(embed.render(req, seed))
