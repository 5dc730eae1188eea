"""The model catalogue: context windows, prices, latency profiles, and family resolution.

Prices are US dollars per million tokens. Ids not listed resolve through family rules (a dated
id to its base, a new minor version to its family), so a new SDK release does not break users.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Api = Literal["openai", "anthropic"]
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

    def cost_usd(self, input_tokens: int, cached_tokens: int, output_tokens: int) -> float:
        """Cost of one call; `input_tokens` includes `cached_tokens`."""
        uncached = max(0, input_tokens - cached_tokens)
        micros = (
            uncached * self.input_per_m
            + cached_tokens * self.cached_input_per_m
            + output_tokens * self.output_per_m
        )
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


_OAI: Api = "openai"
_ANT: Api = "anthropic"
_CL = "cl100k_base"


def _m(model_id: str, api: Api, inp: float, out: float, cached: float, **kw: object) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        api=api,
        input_per_m=inp,
        output_per_m=out,
        cached_input_per_m=cached,
        **kw,  # type: ignore[arg-type]
    )


# Anthropic's tokenizer is not published; cl100k_base is the documented stand-in (within
# ~10-20% of Claude's counts on English prose), used for every Claude model.
_BASE: tuple[ModelInfo, ...] = (
    _m(
        "gpt-3.5-turbo",
        _OAI,
        0.50,
        1.50,
        0.50,
        context_window=16_385,
        max_output_tokens=4096,
        ttft_ms=250,
        tokens_per_s=110,
        encoding=_CL,
    ),
    _m(
        "gpt-4",
        _OAI,
        30.0,
        60.0,
        30.0,
        context_window=8_192,
        max_output_tokens=8192,
        ttft_ms=600,
        tokens_per_s=30,
        encoding=_CL,
    ),
    _m(
        "gpt-4-32k",
        _OAI,
        60.0,
        120.0,
        60.0,
        context_window=32_768,
        max_output_tokens=8192,
        ttft_ms=700,
        tokens_per_s=25,
        encoding=_CL,
    ),
    _m(
        "gpt-4-turbo",
        _OAI,
        10.0,
        30.0,
        10.0,
        context_window=128_000,
        max_output_tokens=4096,
        ttft_ms=550,
        tokens_per_s=40,
        encoding=_CL,
    ),
    _m("gpt-4o", _OAI, 2.50, 10.0, 1.25, ttft_ms=400, tokens_per_s=90),
    _m("gpt-4o-mini", _OAI, 0.15, 0.60, 0.075, ttft_ms=300, tokens_per_s=120),
    _m(
        "gpt-4.1",
        _OAI,
        2.00,
        8.00,
        0.50,
        context_window=1_047_576,
        max_output_tokens=32_768,
        ttft_ms=450,
        tokens_per_s=85,
    ),
    _m(
        "gpt-4.1-mini",
        _OAI,
        0.40,
        1.60,
        0.10,
        context_window=1_047_576,
        max_output_tokens=32_768,
        ttft_ms=320,
        tokens_per_s=110,
    ),
    _m(
        "gpt-4.1-nano",
        _OAI,
        0.10,
        0.40,
        0.025,
        context_window=1_047_576,
        max_output_tokens=32_768,
        ttft_ms=250,
        tokens_per_s=150,
    ),
    _m(
        "o1",
        _OAI,
        15.0,
        60.0,
        7.50,
        context_window=200_000,
        max_output_tokens=100_000,
        ttft_ms=3000,
        tokens_per_s=60,
    ),
    _m(
        "o1-mini",
        _OAI,
        1.10,
        4.40,
        0.55,
        context_window=128_000,
        max_output_tokens=65_536,
        ttft_ms=1500,
        tokens_per_s=90,
    ),
    _m(
        "o3",
        _OAI,
        2.00,
        8.00,
        0.50,
        context_window=200_000,
        max_output_tokens=100_000,
        ttft_ms=2500,
        tokens_per_s=70,
    ),
    _m(
        "o3-mini",
        _OAI,
        1.10,
        4.40,
        0.55,
        context_window=200_000,
        max_output_tokens=100_000,
        ttft_ms=1500,
        tokens_per_s=100,
    ),
    _m(
        "o4-mini",
        _OAI,
        1.10,
        4.40,
        0.275,
        context_window=200_000,
        max_output_tokens=100_000,
        ttft_ms=1400,
        tokens_per_s=110,
    ),
    _m(
        "gpt-5",
        _OAI,
        1.25,
        10.0,
        0.125,
        context_window=400_000,
        max_output_tokens=128_000,
        ttft_ms=900,
        tokens_per_s=70,
    ),
    _m(
        "gpt-5-mini",
        _OAI,
        0.25,
        2.00,
        0.025,
        context_window=400_000,
        max_output_tokens=128_000,
        ttft_ms=600,
        tokens_per_s=100,
    ),
    _m(
        "gpt-5-nano",
        _OAI,
        0.05,
        0.40,
        0.005,
        context_window=400_000,
        max_output_tokens=128_000,
        ttft_ms=400,
        tokens_per_s=140,
    ),
    _m(
        "gpt-5-pro",
        _OAI,
        15.0,
        120.0,
        15.0,
        context_window=400_000,
        max_output_tokens=272_000,
        ttft_ms=5000,
        tokens_per_s=40,
    ),
    _m(
        "text-embedding-3-small",
        _OAI,
        0.02,
        0.0,
        0.02,
        kind="embedding",
        context_window=8191,
        max_output_tokens=1,
        ttft_ms=60,
        jitter_ms=10,
        encoding=_CL,
        dimensions=1536,
    ),
    _m(
        "text-embedding-3-large",
        _OAI,
        0.13,
        0.0,
        0.13,
        kind="embedding",
        context_window=8191,
        max_output_tokens=1,
        ttft_ms=80,
        jitter_ms=10,
        encoding=_CL,
        dimensions=3072,
    ),
    _m(
        "text-embedding-ada-002",
        _OAI,
        0.10,
        0.0,
        0.10,
        kind="embedding",
        context_window=8191,
        max_output_tokens=1,
        ttft_ms=70,
        jitter_ms=10,
        encoding=_CL,
        dimensions=1536,
    ),
    _m(
        "claude-3-haiku",
        _ANT,
        0.25,
        1.25,
        0.03,
        context_window=200_000,
        max_output_tokens=4096,
        ttft_ms=350,
        tokens_per_s=130,
        encoding=_CL,
    ),
    _m(
        "claude-3-5-haiku",
        _ANT,
        0.80,
        4.00,
        0.08,
        context_window=200_000,
        max_output_tokens=8192,
        ttft_ms=400,
        tokens_per_s=110,
        encoding=_CL,
    ),
    _m(
        "claude-haiku-4-5",
        _ANT,
        1.00,
        5.00,
        0.10,
        context_window=200_000,
        max_output_tokens=64_000,
        ttft_ms=380,
        tokens_per_s=120,
        encoding=_CL,
    ),
    _m(
        "claude-sonnet-4",
        _ANT,
        3.00,
        15.0,
        0.30,
        context_window=200_000,
        max_output_tokens=64_000,
        ttft_ms=700,
        tokens_per_s=70,
        encoding=_CL,
    ),
    _m(
        "claude-opus-4",
        _ANT,
        15.0,
        75.0,
        1.50,
        context_window=200_000,
        max_output_tokens=32_000,
        ttft_ms=1100,
        tokens_per_s=40,
        encoding=_CL,
    ),
    _m(
        "claude-opus-4-5",
        _ANT,
        5.00,
        25.0,
        0.50,
        context_window=200_000,
        max_output_tokens=64_000,
        ttft_ms=1000,
        tokens_per_s=50,
        encoding=_CL,
    ),
)

_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$")

# Ordered family rules: (pattern on the undated id, catalogue base id).
_FAMILIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), base)
    for p, base in (
        (r"^gpt-3\.5-turbo", "gpt-3.5-turbo"),
        (r"^gpt-4-32k", "gpt-4-32k"),
        (r"^gpt-4-(turbo|\d{4}-preview|1106|vision)", "gpt-4-turbo"),
        (r"^gpt-4(-\d{4})?$", "gpt-4"),
        (r"^(chatgpt-)?gpt-4o-mini|^gpt-audio-mini|^gpt-4o-mini", "gpt-4o-mini"),
        (r"^(chatgpt-)?(gpt-)?4o|^gpt-4o|^gpt-audio|^chatgpt-4o", "gpt-4o"),
        (r"^gpt-4\.\d+-nano", "gpt-4.1-nano"),
        (r"^gpt-4\.\d+-mini", "gpt-4.1-mini"),
        (r"^gpt-4\.\d+", "gpt-4.1"),
        (r"^o1-mini", "o1-mini"),
        (r"^o1", "o1"),
        (r"^o\d+-mini|^codex-mini", "o4-mini"),
        (r"^o\d+", "o3"),
        (r"^gpt-\d+(\.\d+)?(-[a-z]+)*-nano", "gpt-5-nano"),
        (r"^gpt-\d+(\.\d+)?(-[a-z]+)*-mini", "gpt-5-mini"),
        (r"^gpt-\d+(\.\d+)?(-[a-z]+)*-pro", "gpt-5-pro"),
        (r"^gpt-([5-9]|\d{2,})(\.\d+)?(-[a-z0-9]+)*$", "gpt-5"),
        (r"^text-embedding-3-large", "text-embedding-3-large"),
        (r"^text-embedding-", "text-embedding-3-small"),
        (r"^claude-3-haiku", "claude-3-haiku"),
        (r"^claude-3-[57]-haiku|^claude-haiku-(3|4-[0-4]$)", "claude-3-5-haiku"),
        (r"^claude-(haiku|3-5-haiku)", "claude-haiku-4-5"),
        (r"^claude-(3-opus|opus-4(-[01])?$)", "claude-opus-4"),
        (r"^claude-opus", "claude-opus-4-5"),
        # Sonnet, and new Claude families whose tier the id does not say: the mid tier.
        (r"^claude-", "claude-sonnet-4"),
    )
)


class Catalogue:
    """Known models plus family rules; `resolve` answers an id as the provider would."""

    def __init__(self, models: Iterable[ModelInfo] = _BASE) -> None:
        self._models: dict[str, ModelInfo] = {m.id: m for m in models}
        self._resolved: dict[str, ModelInfo | None] = {}

    def __contains__(self, model_id: str) -> bool:
        return self.resolve(model_id) is not None

    def ids(self) -> list[str]:
        return sorted(self._models)

    def models(self) -> list[ModelInfo]:
        return [self._models[i] for i in self.ids()]

    def resolve(self, model_id: str) -> ModelInfo | None:
        """The model answering for `model_id` (its own id kept), or None when unknown."""
        try:
            return self._resolved[model_id]
        except KeyError:
            pass
        found = self._lookup(model_id)
        info = None if found is None else replace(found, id=model_id)
        if len(self._resolved) < 10_000:
            self._resolved[model_id] = info
        return info

    def _lookup(self, model_id: str) -> ModelInfo | None:
        if model_id in self._models:
            return self._models[model_id]
        undated = _DATE_SUFFIX.sub("", model_id)
        if undated in self._models:
            return self._models[undated]
        for pattern, base in _FAMILIES:
            if pattern.search(undated):
                return self._models[base]
        return None

    def with_overrides(self, overrides: Mapping[str, ModelOverride]) -> Catalogue:
        """A new catalogue with scenario-file models added or changed."""
        models = dict(self._models)
        for model_id, o in overrides.items():
            if o.like is not None:
                # Models added earlier in the same scenario may be named too.
                start = models.get(o.like) or self.resolve(o.like)
                if start is None:
                    raise ValueError(f"models.{model_id}.like: unknown model {o.like!r}")
            else:
                start = models.get(model_id) or self.resolve(model_id)
            if start is None:
                if o.api is None:
                    raise ValueError(
                        f"models.{model_id}: unknown model; give `api` (openai|anthropic) "
                        "or `like: <known model>`"
                    )
                start = ModelInfo(id=model_id, api=o.api)
            changes = o.model_dump(exclude_none=True, exclude={"like"})
            models[model_id] = replace(start, id=model_id, **changes)
        return Catalogue(models.values())


DEFAULT_CATALOGUE = Catalogue()
