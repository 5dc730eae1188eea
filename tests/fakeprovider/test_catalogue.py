"""The model catalogue: every id the installed SDKs name resolves, family rules, overrides, cost."""

from __future__ import annotations

import typing
from typing import Any

import anthropic.types
import openai.types
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE, Catalogue
from fakeprovider.catalogue.info import ModelInfo, ModelOverride


def _literal_ids(annotation: Any) -> list[str]:
    """The string literals of a `Literal[...]` or a `Union[Literal[...], str]`."""
    if typing.get_origin(annotation) is typing.Literal:
        return [a for a in typing.get_args(annotation) if isinstance(a, str)]
    ids: list[str] = []
    for arg in typing.get_args(annotation):
        ids.extend(_literal_ids(arg))
    return ids


def _chat_model_literal() -> Any:
    chat_model = getattr(openai.types, "ChatModel", None)
    if chat_model is None:
        from openai.types import chat_model as module

        chat_model = module.ChatModel
    return chat_model


OPENAI_CHAT_IDS = _literal_ids(_chat_model_literal())
ANTHROPIC_IDS = _literal_ids(anthropic.types.ModelParam)
EMBEDDING_IDS = _literal_ids(openai.types.EmbeddingModel)


def test_sdk_literals_are_read() -> None:
    # Guards the readers above: an SDK restructuring its types must not make the checks vacuous.
    assert "gpt-4o" in OPENAI_CHAT_IDS
    assert len(OPENAI_CHAT_IDS) > 20
    assert any(i.startswith("claude-") for i in ANTHROPIC_IDS)
    assert "text-embedding-3-small" in EMBEDDING_IDS


def _assert_plausible_chat(info: ModelInfo | None, model_id: str, api: str) -> None:
    assert info is not None, f"{model_id} does not resolve"
    assert info.id == model_id
    assert info.api == api
    assert info.kind == "chat"
    assert info.input_per_m > 0
    assert info.output_per_m >= info.input_per_m
    assert 0 < info.cached_input_per_m <= info.input_per_m
    assert info.context_window >= 8_000
    assert 0 < info.max_output_tokens <= info.context_window
    assert info.ttft_ms > 0
    assert info.tokens_per_s > 0
    assert info.encoding in ("cl100k_base", "o200k_base")


@pytest.mark.parametrize("model_id", OPENAI_CHAT_IDS)
def test_every_openai_sdk_chat_model_resolves_with_plausible_prices(model_id: str) -> None:
    _assert_plausible_chat(DEFAULT_CATALOGUE.resolve(model_id), model_id, "openai")


@pytest.mark.parametrize("model_id", ANTHROPIC_IDS)
def test_every_anthropic_sdk_model_resolves_with_plausible_prices(model_id: str) -> None:
    _assert_plausible_chat(DEFAULT_CATALOGUE.resolve(model_id), model_id, "anthropic")


@pytest.mark.parametrize("model_id", EMBEDDING_IDS)
def test_every_openai_sdk_embedding_model_resolves_with_plausible_prices(model_id: str) -> None:
    info = DEFAULT_CATALOGUE.resolve(model_id)
    assert info is not None, f"{model_id} does not resolve"
    assert info.api == "openai"
    assert info.kind == "embedding"
    assert info.input_per_m > 0
    assert info.dimensions > 0
    assert info.context_window >= 8_000


@pytest.mark.parametrize(
    ("dated", "base"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4-32k-0314", "gpt-4-32k"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-opus-4-1-20250805", "claude-opus-4"),
    ],
)
def test_dated_id_resolves_to_its_base_prices(dated: str, base: str) -> None:
    info = DEFAULT_CATALOGUE.resolve(dated)
    want = DEFAULT_CATALOGUE.resolve(base)
    assert info is not None
    assert want is not None
    assert info.id == dated
    assert (info.input_per_m, info.output_per_m, info.cached_input_per_m) == (
        want.input_per_m,
        want.output_per_m,
        want.cached_input_per_m,
    )
    assert info.context_window == want.context_window


def test_dated_gpt_4o_costs_what_gpt_4o_costs() -> None:
    info = DEFAULT_CATALOGUE.resolve("gpt-4o-2024-08-06")
    assert info is not None
    assert (info.input_per_m, info.output_per_m, info.cached_input_per_m) == (2.50, 10.0, 1.25)


@pytest.mark.parametrize(
    ("new_id", "family"),
    [
        ("gpt-5.9-mini", "gpt-5-mini"),
        ("gpt-5.9-nano", "gpt-5-nano"),
        ("gpt-5.9", "gpt-5"),
        ("gpt-7.3-pro", "gpt-5-pro"),
        ("gpt-4.7-mini", "gpt-4.1-mini"),
        ("o9-mini", "o4-mini"),
        ("claude-opus-9-9", "claude-opus-4-5"),
        ("claude-opus-4-10", "claude-opus-4-5"),
        ("claude-haiku-9", "claude-haiku-4-5"),
        ("claude-sonnet-9-9", "claude-sonnet-4"),
        ("text-embedding-4-large", "text-embedding-3-small"),
    ],
)
def test_new_minor_version_resolves_to_its_family(new_id: str, family: str) -> None:
    info = DEFAULT_CATALOGUE.resolve(new_id)
    want = DEFAULT_CATALOGUE.resolve(family)
    assert info is not None
    assert want is not None
    assert info.id == new_id
    assert info == ModelInfo(**{**_fields(want), "id": new_id})


def _fields(info: ModelInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in ModelInfo.__slots__}


@pytest.mark.parametrize("model_id", ["no-such-model", "llama-3", "mistral-large-latest", "", "gpt"])
def test_unknown_id_resolves_to_none(model_id: str) -> None:
    assert DEFAULT_CATALOGUE.resolve(model_id) is None
    assert model_id not in DEFAULT_CATALOGUE


def test_cost_of_gpt_4o_call_bills_cached_tokens_at_cached_price() -> None:
    info = DEFAULT_CATALOGUE.resolve("gpt-4o")
    assert info is not None
    cost = info.cost_usd(input_tokens=1000, cached_tokens=400, output_tokens=200)
    assert cost == pytest.approx((600 * 2.50 + 400 * 1.25 + 200 * 10.0) / 1e6)


def test_cost_of_claude_call_by_hand() -> None:
    info = DEFAULT_CATALOGUE.resolve("claude-sonnet-4-5")
    assert info is not None
    cost = info.cost_usd(input_tokens=2048, cached_tokens=1024, output_tokens=300)
    assert cost == pytest.approx((1024 * 3.00 + 1024 * 0.30 + 300 * 15.0) / 1e6)


def test_cost_of_embedding_is_input_only() -> None:
    info = DEFAULT_CATALOGUE.resolve("text-embedding-3-small")
    assert info is not None
    assert info.cost_usd(1_000_000, 0, 0) == pytest.approx(0.02)


def test_override_adds_a_new_model_with_api() -> None:
    cat = DEFAULT_CATALOGUE.with_overrides(
        {"house-model": ModelOverride(api="openai", input_per_m=1.0, output_per_m=2.0, context_window=4096)}
    )
    info = cat.resolve("house-model")
    assert info is not None
    assert (info.api, info.input_per_m, info.output_per_m, info.context_window) == ("openai", 1.0, 2.0, 4096)
    assert DEFAULT_CATALOGUE.resolve("house-model") is None


def test_override_like_starts_from_the_named_model() -> None:
    cat = DEFAULT_CATALOGUE.with_overrides({"my-4o": ModelOverride(like="gpt-4o", output_per_m=12.0)})
    info = cat.resolve("my-4o")
    base = DEFAULT_CATALOGUE.resolve("gpt-4o")
    assert info is not None
    assert base is not None
    assert info.api == "openai"
    assert info.input_per_m == base.input_per_m
    assert info.output_per_m == 12.0
    assert info.encoding == base.encoding


def test_override_like_may_name_a_model_added_earlier_in_the_same_scenario() -> None:
    cat = DEFAULT_CATALOGUE.with_overrides(
        {
            "house": ModelOverride(api="anthropic", input_per_m=1.0, output_per_m=3.0),
            "house-fast": ModelOverride(like="house", tokens_per_s=500),
        }
    )
    info = cat.resolve("house-fast")
    assert info is not None
    assert (info.api, info.input_per_m, info.tokens_per_s) == ("anthropic", 1.0, 500)


def test_override_changes_a_known_model_and_its_dated_ids() -> None:
    cat = DEFAULT_CATALOGUE.with_overrides({"gpt-4o": ModelOverride(input_per_m=5.0)})
    dated = cat.resolve("gpt-4o-2024-08-06")
    assert dated is not None
    assert dated.input_per_m == 5.0
    assert dated.output_per_m == 10.0


def test_override_with_unknown_like_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"models\.x\.like: unknown model 'nope'"):
        DEFAULT_CATALOGUE.with_overrides({"x": ModelOverride(like="nope")})


def test_override_of_unknown_model_without_api_asks_for_api() -> None:
    with pytest.raises(ValueError, match=r"models\.house-model: unknown model; give `api`"):
        DEFAULT_CATALOGUE.with_overrides({"house-model": ModelOverride(input_per_m=1.0)})


def test_catalogue_lists_its_models_sorted() -> None:
    cat = Catalogue()
    assert cat.ids() == sorted(cat.ids())
    assert [m.id for m in cat.models()] == cat.ids()
