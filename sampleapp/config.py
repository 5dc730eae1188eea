"""The sampleapp's configuration: models, retry policy and per-route budgets, with defaults.

A YAML file given with `--config` overrides any part of it; unknown fields are refused, and
every error names the file and the field path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sampleapp.errors import ConfigError, SampleAppError, describe


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    """Per route request, all models together."""

    max_attempts: int = Field(default=3, ge=1, description="total provider calls per route request")
    primary_attempts: int = Field(default=2, ge=1, description="of which on the primary model")
    backoff_s: float = Field(default=0.05, ge=0, description="base of exponential backoff, full jitter")
    max_backoff_s: float = Field(default=1.0, ge=0)
    max_retry_after_s: float = Field(default=2.0, ge=0, description="longer: go to the fallback now")
    call_timeout_s: float = Field(default=4.0, gt=0, description="per provider call")

    @model_validator(mode="after")
    def _primary_within_cap(self) -> RetryConfig:
        if self.primary_attempts > self.max_attempts:
            raise ValueError(
                f"primary_attempts ({self.primary_attempts}) cannot exceed max_attempts ({self.max_attempts})"
            )
        return self


class BreakerConfig(_Strict):
    """The circuit breaker each model has, shared by all requests of the app (`breaker.py`)."""

    failure_threshold: int = Field(default=5, ge=1, description="consecutive failures that open it")
    failure_rate: float = Field(
        default=0.8, gt=0, le=1, description="or this share of failed calls in the window opens it"
    )
    window_s: float = Field(default=10.0, gt=0, description="the window of the failure rate")
    min_calls: int = Field(default=20, ge=1, description="calls in the window before the rate counts")
    cooldown_s: float = Field(default=0.5, gt=0, description="open this long, then one probe call")


class SummarizeConfig(_Strict):
    timeout_s: float = Field(default=10.0, gt=0)
    max_input_tokens: int = Field(default=2000, ge=1)
    on_input_over_budget: Literal["reject", "trim"] = "reject"
    max_output_tokens: int = Field(default=120, ge=1)


class ExtractConfig(_Strict):
    timeout_s: float = Field(default=10.0, gt=0)
    max_input_tokens: int = Field(default=2000, ge=1)
    max_output_tokens: int = Field(default=200, ge=1)
    max_reasks: int = Field(default=2, ge=0)
    cache_ttl_s: float = Field(default=300, ge=0, description="how long an answer is reused; 0: no cache")
    cache_max_entries: int = Field(default=1000, ge=0, description="answers kept; 0: no cache")


class ChatConfig(_Strict):
    timeout_s: float = Field(default=30.0, gt=0)
    idle_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="once streaming, this long with no content (keep-alives do not count) is a stall: cut it",
    )
    max_input_tokens: int = Field(default=4000, ge=1)
    max_output_tokens: int = Field(default=300, ge=1)


class AnswerConfig(_Strict):
    timeout_s: float = Field(default=10.0, gt=0)
    max_input_tokens: int = Field(default=2000, ge=1)
    max_output_tokens: int = Field(default=120, ge=16, description="the Responses API's floor is 16")


class AskConfig(_Strict):
    """`/ask`: an OpenAI chat model, failing over to an Anthropic model (Messages API)."""

    timeout_s: float = Field(default=10.0, gt=0)
    primary_model: str = Field(default="gpt-4o", min_length=1, description="OpenAI chat completions")
    fallback_model: str = Field(
        default="claude-haiku-4-5", min_length=1, description="Anthropic messages, through its SDK"
    )
    primary_attempts: int = Field(default=2, ge=1, description="calls on the primary per route request")
    fallback_attempts: int = Field(
        default=2, ge=1, description="then calls on the fallback: its own blip gets a retry too"
    )
    max_input_tokens: int = Field(default=2000, ge=1)
    max_output_tokens: int = Field(default=120, ge=1)

    @model_validator(mode="after")
    def _two_models(self) -> AskConfig:
        if self.primary_model == self.fallback_model:
            raise ValueError(f"primary_model and fallback_model must differ (both {self.primary_model!r})")
        return self


class EmbedConfig(_Strict):
    timeout_s: float = Field(default=5.0, gt=0)
    max_texts: int = Field(default=64, ge=1)
    cache_ttl_s: float = Field(default=3600, ge=0)
    cache_max_entries: int = Field(default=10000, ge=0)


class RoutesConfig(_Strict):
    summarize: SummarizeConfig = Field(default_factory=SummarizeConfig)
    extract: ExtractConfig = Field(default_factory=ExtractConfig)
    chat: ChatConfig = Field(default_factory=ChatConfig)
    answer: AnswerConfig = Field(default_factory=AnswerConfig)
    ask: AskConfig = Field(default_factory=AskConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)


class AppConfig(_Strict):
    api_key: str = "sk-sampleapp"
    primary_model: str = Field(default="gpt-4o", min_length=1)
    fallback_model: str = Field(default="gpt-4o-mini", min_length=1)
    embedding_model: str = Field(default="text-embedding-3-small", min_length=1)
    default_tenant: str = Field(
        default="public", min_length=1, description="when the caller sends no X-Tenant"
    )
    retry: RetryConfig = Field(default_factory=RetryConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    routes: RoutesConfig = Field(default_factory=RoutesConfig)


ConfigSource = AppConfig | Path | str | dict[str, object] | None


def parse_config(data: object, source: str = "config") -> AppConfig:
    """Validate already-parsed data (a mapping, or None for all defaults)."""
    if data is None:
        return AppConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings, got {type(data).__name__}")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{source}: {describe(e)}") from None


def load_config(path: Path) -> AppConfig:
    """Read and validate a YAML config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file: {e.strerror or e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"{path}: not valid YAML{line}: {getattr(e, 'problem', None) or e}") from None
    return parse_config(data, str(path))


def config_from(source: ConfigSource) -> AppConfig:
    """A config given as a model, a file path, or a mapping of overrides."""
    if isinstance(source, AppConfig):
        return source
    if isinstance(source, str | Path):
        return load_config(Path(source))
    return parse_config(source)


def api_base(provider_url: str) -> str:
    """The SDK's base URL for a provider given as `http://HOST:PORT` (or already `.../v1`)."""
    if not provider_url.startswith(("http://", "https://")):
        raise SampleAppError(f"provider URL must start with http:// or https://, got {provider_url!r}")
    base = provider_url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def anthropic_base(provider_url: str) -> str:
    """The Anthropic SDK's base URL (it adds `/v1/messages` itself) for the same provider."""
    base = api_base(provider_url)
    return base.removesuffix("/v1")
