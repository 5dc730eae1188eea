"""Google Gemini: `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent`
(`?alt=sse`), `:countTokens`, `:embedContent`, `:batchEmbedContents`, and `GET /v1beta/models`;
the same under `/v1/`.

The generate dialect is put together from its sides, as Anthropic's is: the request reader
(`request`, with Gemini's schemas read in `schema`), the whole-body renderer (`body`), the
stream encoder (`stream`), the replay reader (`recorded`) and keys, errors and models
(`wire`). Embeddings are `embed`; `countTokens` and the model listing are plain routes
(`routes`), outside the ledger.
"""

from __future__ import annotations

from fakeprovider.dialects.base import ChatDialect, ResponseMeta
from fakeprovider.dialects.gemini.body import GeminiBody
from fakeprovider.dialects.gemini.embed import GeminiEmbed
from fakeprovider.dialects.gemini.recorded import GeminiRecorded
from fakeprovider.dialects.gemini.request import GeminiRequest
from fakeprovider.dialects.gemini.stream import GeminiStream
from fakeprovider.dialects.gemini.wire import GeminiWire
from fakeprovider.generation.ids import random_id

__all__ = ["COUNT_PATH", "EMBED_PATH", "GENERATE_PATH", "GeminiEmbed", "GeminiGenerate"]

# The versions served, and a model segment that stops at the `:` before the method. The method
# is in `match` (`{method:…}` matches only the methods named), so one route serves both
# generate methods and the dialect reads which one was called.
_MODELS = "/{version:v1beta|v1}/models"
_MODEL = _MODELS + "/{model:[^{}/:]+}"
GENERATE_PATH = _MODEL + ":{method:generateContent|streamGenerateContent}"
EMBED_PATH = _MODEL + ":{method:embedContent|batchEmbedContents}"
COUNT_PATH = _MODEL + ":countTokens"


class GeminiGenerate(GeminiRequest, GeminiBody, GeminiStream, GeminiRecorded, GeminiWire, ChatDialect):
    api = "gemini.generate"

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta(random_id("", 22), 0, "")
