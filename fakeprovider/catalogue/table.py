"""The built-in model table: prices per million tokens, context windows, latency profiles.

One row a model, in the order the catalogue lists them: OpenAI chat models, OpenAI embedding
models, Anthropic models, Google's Gemini models, then the models only AWS Bedrock serves (Amazon
Nova, Meta Llama).
"""

from __future__ import annotations

from fakeprovider.catalogue.info import Api, ModelInfo

_OAI: Api = "openai"
_ANT: Api = "anthropic"
_BR: Api = "bedrock"
_GOO: Api = "google"
_CL = "cl100k_base"
_O200K = "o200k_base"


def _chat(
    model_id: str,
    api: Api,
    input_per_m: float,
    output_per_m: float,
    cached_input_per_m: float,
    context_window: int,
    max_output_tokens: int,
    ttft_ms: float,
    tokens_per_s: float,
    encoding: str,
) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        api=api,
        input_per_m=input_per_m,
        output_per_m=output_per_m,
        cached_input_per_m=cached_input_per_m,
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        ttft_ms=ttft_ms,
        tokens_per_s=tokens_per_s,
        encoding=encoding,
    )


def _claude(
    model_id: str,
    input_per_m: float,
    output_per_m: float,
    context_window: int,
    max_output_tokens: int,
    ttft_ms: float,
    tokens_per_s: float,
    min_cache_tokens: int = 1024,
    cache_read_per_m: float | None = None,
    cache_write_per_m: float | None = None,
) -> ModelInfo:
    """An Anthropic model, priced as Anthropic prices prompt caching: a cache read at 0.1x the
    input price, a write at 1.25x (5-minute entry) or 2x (1-hour entry), unless the model's
    own price list says otherwise."""
    return ModelInfo(
        id=model_id,
        api=_ANT,
        input_per_m=input_per_m,
        output_per_m=output_per_m,
        cached_input_per_m=round(input_per_m * 0.1, 6) if cache_read_per_m is None else cache_read_per_m,
        cache_write_per_m=round(input_per_m * 1.25, 6) if cache_write_per_m is None else cache_write_per_m,
        cache_write_1h_per_m=round(input_per_m * 2, 6),
        min_cache_tokens=min_cache_tokens,
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        ttft_ms=ttft_ms,
        tokens_per_s=tokens_per_s,
        encoding=_CL,
    )


def _embedding(model_id: str, input_per_m: float, ttft_ms: float, dimensions: int) -> ModelInfo:
    """An OpenAI embedding model: billed for input only (cached input at the same price)."""
    return ModelInfo(
        id=model_id,
        api=_OAI,
        kind="embedding",
        input_per_m=input_per_m,
        output_per_m=0.0,
        cached_input_per_m=input_per_m,
        context_window=8191,
        max_output_tokens=1,
        ttft_ms=ttft_ms,
        jitter_ms=10,
        encoding=_CL,
        dimensions=dimensions,
    )


# Columns: id, API; US$ per million input, output and cached input tokens; context window, most
# output tokens; time to the first token (ms), output tokens per second; tokenizer.
_OPENAI_CHAT = (
    _chat("gpt-3.5-turbo", _OAI, 0.50, 1.50, 0.50, 16_385, 4096, 250, 110, _CL),
    _chat("gpt-4", _OAI, 30.0, 60.0, 30.0, 8_192, 8192, 600, 30, _CL),
    _chat("gpt-4-32k", _OAI, 60.0, 120.0, 60.0, 32_768, 8192, 700, 25, _CL),
    _chat("gpt-4-turbo", _OAI, 10.0, 30.0, 10.0, 128_000, 4096, 550, 40, _CL),
    _chat("gpt-4o", _OAI, 2.50, 10.0, 1.25, 128_000, 16_384, 400, 90, _O200K),
    _chat("gpt-4o-mini", _OAI, 0.15, 0.60, 0.075, 128_000, 16_384, 300, 120, _O200K),
    _chat("gpt-4.1", _OAI, 2.00, 8.00, 0.50, 1_047_576, 32_768, 450, 85, _O200K),
    _chat("gpt-4.1-mini", _OAI, 0.40, 1.60, 0.10, 1_047_576, 32_768, 320, 110, _O200K),
    _chat("gpt-4.1-nano", _OAI, 0.10, 0.40, 0.025, 1_047_576, 32_768, 250, 150, _O200K),
    _chat("o1", _OAI, 15.0, 60.0, 7.50, 200_000, 100_000, 3000, 60, _O200K),
    _chat("o1-mini", _OAI, 1.10, 4.40, 0.55, 128_000, 65_536, 1500, 90, _O200K),
    _chat("o3", _OAI, 2.00, 8.00, 0.50, 200_000, 100_000, 2500, 70, _O200K),
    _chat("o3-mini", _OAI, 1.10, 4.40, 0.55, 200_000, 100_000, 1500, 100, _O200K),
    _chat("o4-mini", _OAI, 1.10, 4.40, 0.275, 200_000, 100_000, 1400, 110, _O200K),
    _chat("gpt-5", _OAI, 1.25, 10.0, 0.125, 400_000, 128_000, 900, 70, _O200K),
    _chat("gpt-5-mini", _OAI, 0.25, 2.00, 0.025, 400_000, 128_000, 600, 100, _O200K),
    _chat("gpt-5-nano", _OAI, 0.05, 0.40, 0.005, 400_000, 128_000, 400, 140, _O200K),
    _chat("gpt-5-pro", _OAI, 15.0, 120.0, 15.0, 400_000, 272_000, 5000, 40, _O200K),
)

# Columns: id, US$ per million input tokens, time to the answer (ms), dimensions.
_OPENAI_EMBEDDINGS = (
    _embedding("text-embedding-3-small", 0.02, 60, 1536),
    _embedding("text-embedding-3-large", 0.13, 80, 3072),
    _embedding("text-embedding-ada-002", 0.10, 70, 1536),
)

# Columns as for OpenAI chat. Anthropic's tokenizer is not published; cl100k_base is the
# documented stand-in (within ~10-20% of Claude's counts on English prose), used for every
# Claude model.
_ANTHROPIC = (
    # Minimum cacheable prompt lengths as Anthropic documents them per model.
    _claude(
        "claude-3-haiku",
        0.25,
        1.25,
        200_000,
        4096,
        350,
        130,
        2048,
        cache_read_per_m=0.03,
        cache_write_per_m=0.30,
    ),
    _claude("claude-3-5-haiku", 0.80, 4.00, 200_000, 8192, 400, 110, min_cache_tokens=2048),
    _claude("claude-haiku-4-5", 1.00, 5.00, 200_000, 64_000, 380, 120, min_cache_tokens=4096),
    _claude("claude-sonnet-4", 3.00, 15.0, 200_000, 64_000, 700, 70),
    _claude("claude-opus-4", 15.0, 75.0, 200_000, 32_000, 1100, 40),
    _claude("claude-opus-4-5", 5.00, 25.0, 200_000, 64_000, 1000, 50, min_cache_tokens=4096),
)

# Models Bedrock serves under its own ids (`amazon.nova-pro-v1:0`, `meta.llama3-1-70b-instruct-v1:0`:
# the Bedrock dialect strips provider and version). Approximate: Bedrock's us-east-1 on-demand
# prices (Nova's cached input at its 75% discount; Llama has no prompt caching), the documented
# context windows and output caps, latency profiles typical of each size. cl100k_base stands in
# for their tokenizers (Llama 3's 128k vocabulary is tiktoken-based and counts close to it).
_BEDROCK = (
    _chat("nova-micro", _BR, 0.035, 0.14, 0.00875, 128_000, 10_000, 250, 200, _CL),
    _chat("nova-lite", _BR, 0.06, 0.24, 0.015, 300_000, 10_000, 300, 160, _CL),
    _chat("nova-pro", _BR, 0.80, 3.20, 0.20, 300_000, 10_000, 450, 100, _CL),
    _chat("nova-premier", _BR, 2.50, 12.50, 0.625, 1_000_000, 32_000, 800, 60, _CL),
    _chat("llama3-1-8b-instruct", _BR, 0.22, 0.22, 0.22, 128_000, 2048, 250, 150, _CL),
    _chat("llama3-1-70b-instruct", _BR, 0.72, 0.72, 0.72, 128_000, 2048, 500, 50, _CL),
    _chat("llama3-3-70b-instruct", _BR, 0.72, 0.72, 0.72, 128_000, 2048, 500, 50, _CL),
    _chat("llama4-scout-17b-instruct", _BR, 0.17, 0.66, 0.17, 3_500_000, 8192, 350, 120, _CL),
    _chat("llama4-maverick-17b-instruct", _BR, 0.24, 0.97, 0.24, 1_000_000, 8192, 400, 100, _CL),
)


# Columns as for OpenAI chat; prices are the Gemini API's paid tier for prompts up to 200k tokens
# (Google charges more above), cached input at the context-caching rate. Google publishes no
# offline tokenizer for Gemini (its count comes from `countTokens`, a network call):
# o200k_base stands in, an approximation whose error against Gemini's counts is not measured
# here (docs/provider.md, "Google Gemini").
_GEMINI = (
    _chat("gemini-2.0-flash-lite", _GOO, 0.075, 0.30, 0.01875, 1_048_576, 8192, 300, 220, _O200K),
    _chat("gemini-2.0-flash", _GOO, 0.10, 0.40, 0.025, 1_048_576, 8192, 350, 200, _O200K),
    _chat("gemini-2.5-flash-lite", _GOO, 0.10, 0.40, 0.01, 1_048_576, 65_536, 350, 250, _O200K),
    _chat("gemini-2.5-flash", _GOO, 0.30, 2.50, 0.03, 1_048_576, 65_536, 600, 180, _O200K),
    _chat("gemini-2.5-pro", _GOO, 1.25, 10.0, 0.125, 1_048_576, 65_536, 1500, 90, _O200K),
    _chat("gemini-3-pro-preview", _GOO, 2.00, 12.0, 0.20, 1_048_576, 65_536, 2000, 80, _O200K),
)

# Columns: id, US$ per million input tokens, time to the answer (ms), dimensions, most input tokens.
_GEMINI_EMBEDDINGS = (
    ModelInfo(
        id="gemini-embedding-001",
        api=_GOO,
        kind="embedding",
        input_per_m=0.15,
        cached_input_per_m=0.15,
        context_window=2048,
        max_output_tokens=1,
        ttft_ms=80,
        jitter_ms=10,
        encoding=_O200K,
        dimensions=3072,
    ),
    ModelInfo(
        id="text-embedding-004",
        api=_GOO,
        kind="embedding",
        input_per_m=0.0,
        cached_input_per_m=0.0,
        context_window=2048,
        max_output_tokens=1,
        ttft_ms=60,
        jitter_ms=10,
        encoding=_O200K,
        dimensions=768,
    ),
)

BUILT_IN_MODELS: tuple[ModelInfo, ...] = (
    _OPENAI_CHAT + _OPENAI_EMBEDDINGS + _ANTHROPIC + _GEMINI + _GEMINI_EMBEDDINGS + _BEDROCK
)
