"""OpenAI embeddings and model listing end to end, through the official openai SDK."""

from __future__ import annotations

import math

import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.generation import tokens
from tests.fakeprovider.dialects.conftest import post_json

CL100K = "cl100k_base"
SMALL = "text-embedding-3-small"


def _embed(client: openai.OpenAI, text: str | list[str] | list[int], **kw: object) -> list[list[float]]:
    reply = client.embeddings.create(model=SMALL, input=text, **kw)  # type: ignore[arg-type]
    return [d.embedding for d in reply.data]


def _norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def test_embedding_has_the_openai_shape(openai_client: openai.OpenAI) -> None:
    reply = openai_client.embeddings.create(model=SMALL, input="The quick brown fox")
    assert reply.object == "list"
    assert reply.model == SMALL
    assert len(reply.data) == 1
    assert reply.data[0].object == "embedding"
    assert reply.data[0].index == 0
    assert len(reply.data[0].embedding) == 1536


def test_float_and_base64_give_identical_vectors(openai_client: openai.OpenAI) -> None:
    as_base64 = _embed(openai_client, "identical either way")  # the SDK asks for base64 by default
    as_float = _embed(openai_client, "identical either way", encoding_format="float")
    assert as_base64 == as_float


def test_wire_format_follows_encoding_format(provider: FakeProviderThread) -> None:
    as_float = post_json(
        provider.url, "/v1/embeddings", {"model": SMALL, "input": "x", "encoding_format": "float"}
    )
    as_b64 = post_json(
        provider.url, "/v1/embeddings", {"model": SMALL, "input": "x", "encoding_format": "base64"}
    )
    assert isinstance(as_float.json()["data"][0]["embedding"], list)
    assert isinstance(as_b64.json()["data"][0]["embedding"], str)
    plain = post_json(provider.url, "/v1/embeddings", {"model": SMALL, "input": "x"})
    assert isinstance(plain.json()["data"][0]["embedding"], list)  # float when not asked


def test_vectors_have_unit_norm(openai_client: openai.OpenAI) -> None:
    for v in _embed(openai_client, ["one", "two words", "three whole words"], encoding_format="float"):
        assert _norm(v) == pytest.approx(1.0, abs=1e-5)


def test_vectors_are_deterministic_per_text_and_model(openai_client: openai.OpenAI) -> None:
    first = _embed(openai_client, "stable text")
    assert _embed(openai_client, "stable text") == first
    assert _embed(openai_client, "other text") != first
    large = openai_client.embeddings.create(model="text-embedding-3-large", input="stable text")
    assert len(large.data[0].embedding) == 3072
    assert large.data[0].embedding[:8] != first[0][:8]


def test_vectors_are_the_same_on_another_server_with_the_same_seed(provider: FakeProviderThread) -> None:
    with (
        FakeProviderThread(latency="none", seed=0) as twin,
        FakeProviderThread(latency="none", seed=1) as other,
    ):
        vectors = []
        for url in (provider.url, twin.url, other.url):
            with openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0) as client:
                vectors.append(_embed(client, "across servers"))
    assert vectors[0] == vectors[1]
    assert vectors[0] != vectors[2]


@pytest.mark.parametrize("dims", [1, 64, 256, 1536])
def test_dimensions_are_honoured(openai_client: openai.OpenAI, dims: int) -> None:
    (v,) = _embed(openai_client, "shorter please", dimensions=dims)
    assert len(v) == dims
    assert _norm(v) == pytest.approx(1.0, abs=1e-5)
    assert _embed(openai_client, "shorter please", dimensions=dims) == [v]


def test_shortened_vector_is_the_full_one_cut_and_renormalised(openai_client: openai.OpenAI) -> None:
    (full,) = _embed(openai_client, "matryoshka", encoding_format="float")
    (short,) = _embed(openai_client, "matryoshka", dimensions=256, encoding_format="float")
    head = full[:256]
    scale = _norm(head)
    assert short == pytest.approx([x / scale for x in head], abs=1e-6)


def test_dimensions_above_the_model_size_are_refused(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        _embed(openai_client, "too wide", dimensions=4096)
    assert err.value.status_code == 400
    assert err.value.param == "dimensions"


def test_batch_input_gives_one_vector_per_item_in_order(openai_client: openai.OpenAI) -> None:
    texts = ["alpha", "beta", "gamma", "alpha"]
    reply = openai_client.embeddings.create(model=SMALL, input=texts)
    assert [d.index for d in reply.data] == [0, 1, 2, 3]
    vectors = [d.embedding for d in reply.data]
    assert vectors[0] == vectors[3]
    assert len({tuple(v) for v in vectors}) == 3
    assert vectors[1] == _embed(openai_client, "beta")[0]
    assert reply.usage.prompt_tokens == sum(tokens.count(t, CL100K) for t in texts)


def test_token_id_input_embeds_like_the_text(openai_client: openai.OpenAI) -> None:
    text = "Token ids are what the model reads."
    ids = tokens.encoding(CL100K).encode_ordinary(text)
    reply = openai_client.embeddings.create(model=SMALL, input=ids)
    assert len(reply.data) == 1
    assert reply.usage.prompt_tokens == len(ids)
    assert reply.data[0].embedding == _embed(openai_client, text)[0]
    batch = openai_client.embeddings.create(model=SMALL, input=[ids, ids[:3]])
    assert len(batch.data) == 2
    assert batch.usage.prompt_tokens == len(ids) + 3


def test_token_ids_outside_the_vocabulary_are_refused(openai_client: openai.OpenAI) -> None:
    for bad in ([1, 2, 10_000_000], [-1, 5]):
        with pytest.raises(openai.BadRequestError) as err:
            openai_client.embeddings.create(model=SMALL, input=bad)
        assert err.value.param == "input"


def test_usage_counts_real_cl100k_tokens(openai_client: openai.OpenAI) -> None:
    text = "Embeddings are billed by the token, counted with cl100k_base: naïve café ☕."
    reply = openai_client.embeddings.create(model=SMALL, input=text)
    assert reply.usage.prompt_tokens == tokens.count(text, CL100K)
    assert reply.usage.total_tokens == reply.usage.prompt_tokens


def test_embedding_is_recorded_in_the_ledger(
    openai_client: openai.OpenAI, provider: FakeProviderThread
) -> None:
    reply = openai_client.embeddings.create(model=SMALL, input=["a b c", "d e"])
    (record,) = provider.state.ledger.records()
    assert record.api == "openai.embeddings"
    assert record.model == SMALL
    assert record.outcome == "ok"
    assert record.status == 200
    assert record.input_tokens == reply.usage.prompt_tokens
    assert record.output_tokens == 0
    assert record.cost_usd > 0


def test_a_chat_model_is_not_an_embedding_model(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        openai_client.embeddings.create(model="gpt-4o", input="hi")
    assert err.value.code == "model_not_found"


@pytest.mark.parametrize("bad", ["", [], [""], [[]], [1, "two"], [True, False]])
def test_empty_or_mixed_input_is_refused(openai_client: openai.OpenAI, bad: object) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.embeddings.create(model=SMALL, input=bad)  # type: ignore[arg-type]
    assert err.value.body is not None
    assert err.value.type == "invalid_request_error"


def test_input_over_the_context_window_is_refused(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.embeddings.create(model=SMALL, input="word " * 9000)
    assert err.value.code == "context_length_exceeded"


# --- model listing -----------------------------------------------------------------------------


def test_models_list_includes_chat_and_embedding_models(openai_client: openai.OpenAI) -> None:
    models = list(openai_client.models.list())
    ids = {m.id for m in models}
    assert {"gpt-4o", "text-embedding-3-small"} <= ids
    assert not any(i.startswith("claude") for i in ids)
    assert all(m.object == "model" and m.owned_by for m in models)
