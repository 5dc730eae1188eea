"""`POST /embed {"texts": [...]}` (or `{"text"}`): embeddings, cached per tenant and model version.

Only the texts not in the cache go to the provider, in one call. The route has no fallback
model: vectors of another model are not comparable with the ones already stored, so all of
`max_attempts` go to the embedding model.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from sampleapp.cache import EmbeddingCache, Vector
from sampleapp.config import EmbedConfig
from sampleapp.errors import RouteError
from sampleapp.inbound import TENANT, call_tags, json_response, read_body
from sampleapp.llm import LLM
from sampleapp.policy import Deadline

ROUTE, FEATURE = "embed", "search-index"


class EmbedIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    texts: list[str] | None = None
    text: str | None = None

    @field_validator("texts")
    @classmethod
    def _no_empty_text(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one text")
            for i, t in enumerate(v):
                if not t:
                    raise ValueError(f"text {i} is empty")
        return v

    @model_validator(mode="after")
    def _one_of(self) -> EmbedIn:
        if (self.texts is None) == (self.text is None):
            raise ValueError('give exactly one of "texts" (a list of strings) or "text"')
        if self.text == "":
            raise ValueError("text must not be empty")
        return self

    def all(self) -> list[str]:
        return self.texts if self.texts is not None else [self.text or ""]


class Embed:
    def __init__(self, llm: LLM, config: EmbedConfig) -> None:
        self.llm = llm
        self.config = config
        self.model_version = llm.config.embedding_model
        self.cache = EmbeddingCache(config.cache_ttl_s, config.cache_max_entries)

    async def handle(self, request: web.Request) -> web.Response:
        texts = (await read_body(request, EmbedIn)).all()
        if len(texts) > self.config.max_texts:
            raise RouteError(
                400,
                "too_many_texts",
                f"{len(texts)} texts; this route takes at most {self.config.max_texts} per request",
                extra={"max_texts": self.config.max_texts},
            )
        tenant, version = request[TENANT], self.model_version
        vectors: list[Vector | None] = [self.cache.get((tenant, version, t)) for t in texts]
        cached = sum(v is not None for v in vectors)
        missing = list(dict.fromkeys(t for t, v in zip(texts, vectors, strict=True) if v is None))
        model = version
        if missing:
            answer = await self.llm.embed(
                call_tags(request, ROUTE, FEATURE), Deadline(self.config.timeout_s), missing
            )
            model = answer.model
            fresh: dict[str, Vector] = {}
            for item in sorted(answer.value.data, key=lambda d: d.index):
                text = missing[item.index]
                fresh[text] = item.embedding
                self.cache.put((tenant, version, text), item.embedding)
            vectors = [v if v is not None else fresh[t] for t, v in zip(texts, vectors, strict=True)]
        state = "hit" if not missing else "miss" if cached == 0 else "partial"
        return json_response({"embeddings": vectors, "model": model, "cached": cached}, {"x-cache": state})
