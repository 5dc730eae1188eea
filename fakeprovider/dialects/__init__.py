"""Wire protocols as dialects (see `base`): each registered here by its ledger `api` name.

Adding a surface: a package beside these, one `DIALECTS.add` line below, its routes in
`surfaces.py` (docs/provider.md, "Adding a dialect").
"""

from __future__ import annotations

from collections.abc import Mapping

from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.dialects.azure import AzureChat, AzureEmbeddings, AzureResponses
from fakeprovider.dialects.base import ChatDialect, Dialect, EmbeddingsDialect
from fakeprovider.dialects.bedrock import BedrockConverse
from fakeprovider.dialects.gemini import GeminiEmbed, GeminiGenerate
from fakeprovider.dialects.openai_chat import OpenAIChat
from fakeprovider.dialects.openai_embeddings import OpenAIEmbeddings
from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.registry import Registry

__all__ = ["DIALECTS", "ChatDialect", "Dialect", "EmbeddingsDialect", "by_headers"]

DIALECTS: Registry[Dialect] = Registry("dialect")
DIALECTS.add(OpenAIChat.api, OpenAIChat())  # the first one answers what no header claims
DIALECTS.add(OpenAIResponses.api, OpenAIResponses())  # keeps nothing: app.py serves the state's store
DIALECTS.add(OpenAIEmbeddings.api, OpenAIEmbeddings())
DIALECTS.add(AnthropicMessages.api, AnthropicMessages())
DIALECTS.add(AzureChat.api, AzureChat())
DIALECTS.add(AzureEmbeddings.api, AzureEmbeddings())
DIALECTS.add(AzureResponses.api, AzureResponses())  # keeps nothing: app.py serves the state's store
DIALECTS.add(BedrockConverse.api, BedrockConverse())
DIALECTS.add(GeminiGenerate.api, GeminiGenerate())
DIALECTS.add(GeminiEmbed.api, GeminiEmbed())


def by_headers(headers: Mapping[str, str], *, by_key: bool) -> Dialect:
    """The dialect a request with no surface of its own speaks (model listing, unknown paths),
    told by its headers: a dialect's version header, or with `by_key` its key header too."""
    for dialect in DIALECTS:
        marks = (dialect.version_header, dialect.key_header) if by_key else (dialect.version_header,)
        if any(mark is not None and mark in headers for mark in marks):
            return dialect
    return DIALECTS[OpenAIChat.api]
