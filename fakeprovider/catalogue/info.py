"""What the provider knows about one model, and how a scenario file changes it.

Prices are US dollars per million tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Api = Literal["openai", "anthropic", "google", "bedrock"]  # bedrock: models only Bedrock serves
Kind = Literal["chat", "embedding"]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Everything the provider needs to answer as one model."""

    id: str
    api: Api
    kind: Kind = "chat"
    context_window: int = 128_000
    max_output_tokens: int = 16_384
    input_per_m: float = 0.0
    output_per_m: float = 0.0
    cached_input_per_m: float = 0.0
    ttft_ms: float = 400.0
    tokens_per_s: float = 80.0
    jitter_ms: float = 40.0
    encoding: str = "o200k_base"
    dimensions: int = 0  # embeddings only
    # Explicit prompt caching (Anthropic's `cache_control`): what writing a prefix to the cache
    # costs for a 5-minute and a 1-hour entry, and the shortest prefix that is cached at all.
    cache_write_per_m: float = 0.0
    cache_write_1h_per_m: float = 0.0
    min_cache_tokens: int = 1024

    def cost_usd(
        self,
        input_tokens: int,
        cached_tokens: int,
        output_tokens: int,
        written_5m: int = 0,
        written_1h: int = 0,
    ) -> float:
        """Cost of one call; `input_tokens` includes the tokens read from the cache
        (`cached_tokens`) and written to it (`written_5m`, `written_1h`)."""
        uncached = max(0, input_tokens - cached_tokens - written_5m - written_1h)
        micros = (
            uncached * self.input_per_m
            + cached_tokens * self.cached_input_per_m
            + output_tokens * self.output_per_m
        )
        if written_5m or written_1h:
            micros += written_5m * self.cache_write_per_m + written_1h * self.cache_write_1h_per_m
        return micros / 1_000_000


class ModelOverride(BaseModel):
    """A catalogue entry as written in a scenario file: a new model or changes to one."""

    model_config = ConfigDict(extra="forbid")

    api: Api | None = None
    kind: Kind | None = None
    like: str | None = Field(default=None, description="start from this catalogue model")
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    input_per_m: float | None = Field(default=None, ge=0)
    output_per_m: float | None = Field(default=None, ge=0)
    cached_input_per_m: float | None = Field(default=None, ge=0)
    ttft_ms: float | None = Field(default=None, ge=0)
    tokens_per_s: float | None = Field(default=None, gt=0)
    jitter_ms: float | None = Field(default=None, ge=0)
    encoding: Literal["cl100k_base", "o200k_base"] | None = None
    dimensions: int | None = Field(default=None, gt=0)
    cache_write_per_m: float | None = Field(default=None, ge=0)
    cache_write_1h_per_m: float | None = Field(default=None, ge=0)
    min_cache_tokens: int | None = Field(default=None, ge=1)
