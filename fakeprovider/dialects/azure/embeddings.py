"""Azure OpenAI embeddings: OpenAI's, reached through a deployment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.catalogue import Catalogue
from fakeprovider.dialects.azure.wire import AzureWire
from fakeprovider.dialects.base import EmbeddingRequest
from fakeprovider.dialects.openai_embeddings import OpenAIEmbeddings


class AzureEmbeddings(AzureWire, OpenAIEmbeddings):
    api = "azure.embeddings"
    operation = "Embeddings_Create"
    kind = "embedding"

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> EmbeddingRequest:
        body, _, deployment = self.deployment_body(body, catalogue, match)
        req = super().parse(body, catalogue, match)
        req.deployment = deployment
        return req
