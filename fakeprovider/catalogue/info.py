"""What the provider knows about one model, and how a scenario file changes it.

Prices are US dollars per million tokens. Latency is `ttft_ms` ± `jitter_ms` and `tokens_per_s`
(± 20 %), or, where a model has them (`rehearse profile` writes them), distributions fitted from
recorded traffic: `ttft` and `itl` given as quantiles and drawn as log-normals (`Spread`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Api = Literal["openai", "anthropic", "google", "bedrock"]  # bedrock: models only Bedrock serves
Kind = Literal["chat", "embedding"]


# The standard normal's 90th and 99th percentiles: a log-normal's p90 is exp(mu + Z90 * sigma).
Z90 = 1.2815515655446004
Z99 = 2.3263478740408408
MAX_SPREAD_MS = 600_000.0  # a quantile past ten minutes is no latency to rehearse with
DRAW_CAP = 10.0  # a drawn delay is at most this many times the p99


@dataclass(frozen=True, slots=True)
class Spread:
    """A latency distribution: the quantiles it was given and the log-normal fitted to them
    (`mu`, `sigma` of the delay's natural log, in ms); `cap_s` bounds one draw."""

    p50_ms: float
    p90_ms: float
    p99_ms: float
    mu: float
    sigma: float
    cap_s: float

    @classmethod
    def fit(cls, p50_ms: float, p90_ms: float, p99_ms: float) -> Spread:
        """The log-normal through p50 (its median) nearest, on the log scale, to p90 and p99
        (least squares: sigma = (Z90 a + Z99 b) / (Z90² + Z99²), a, b their logs over p50's)."""
        mu = math.log(p50_ms)
        a, b = math.log(p90_ms) - mu, math.log(p99_ms) - mu
        sigma = (Z90 * a + Z99 * b) / (Z90 * Z90 + Z99 * Z99)
        return cls(p50_ms, p90_ms, p99_ms, mu, sigma, DRAW_CAP * p99_ms / 1000)

    def draw(self, rng: random.Random) -> float:
        """One delay in seconds."""
        return min(self.cap_s, rng.lognormvariate(self.mu, self.sigma) / 1000)


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
    # Fitted latency (`rehearse profile`): time to first token and between tokens; where given,
    # realistic pacing draws from them instead of `ttft_ms` ± `jitter_ms` and `tokens_per_s`.
    ttft: Spread | None = None
    itl: Spread | None = None

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


class SpreadSpec(BaseModel):
    """A latency distribution as a scenario writes it: three quantiles in milliseconds,
    0 < p50 <= p90 <= p99 <= 600,000; drawn as the log-normal `Spread.fit` fits to them."""

    model_config = ConfigDict(extra="forbid")

    p50_ms: float = Field(gt=0, le=MAX_SPREAD_MS)
    p90_ms: float = Field(gt=0, le=MAX_SPREAD_MS)
    p99_ms: float = Field(gt=0, le=MAX_SPREAD_MS)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.p50_ms <= self.p90_ms <= self.p99_ms:
            raise ValueError(
                f"expected p50_ms <= p90_ms <= p99_ms, got {self.p50_ms:g}, {self.p90_ms:g}, {self.p99_ms:g}"
            )
        return self

    def fitted(self) -> Spread:
        return Spread.fit(self.p50_ms, self.p90_ms, self.p99_ms)


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
    ttft: SpreadSpec | None = Field(default=None, description="time to first token, fitted")
    itl: SpreadSpec | None = Field(default=None, description="time between tokens, fitted")
