"""`POST /embed`: only uncached texts go to the provider, and the cache is per tenant."""

from __future__ import annotations

from sampleapp import SampleApp
from sampleapp.prompt import Assembler
from tests.sampleapp.conftest import QUICK, Rig


def _tokens(text: str) -> int:
    return Assembler("text-embedding-3-small").count_text(text)


async def test_a_second_request_for_the_same_texts_is_a_cache_hit(rig: Rig, app: SampleApp) -> None:
    texts = {"texts": ["alpha beta", "gamma"]}
    first = await rig.post(app, "/embed", texts, {"X-Tenant": "acme", "X-Request-Id": "r-e1"})
    assert first.status == 200, first.text
    assert first.headers["x-cache"] == "miss"
    body = first.json()
    assert (body["model"], body["cached"]) == ("text-embedding-3-small", 0)
    assert len(body["embeddings"]) == 2
    assert len(body["embeddings"][0]) > 100
    [call] = rig.calls()
    assert (call.api, call.request_id) == ("openai.embeddings", "r-e1")
    assert call.tags == {"route": "embed", "feature": "search-index", "tenant": "acme"}

    second = await rig.post(app, "/embed", texts, {"X-Tenant": "acme"})
    assert second.headers["x-cache"] == "hit"
    assert second.json()["cached"] == 2
    assert second.json()["embeddings"] == body["embeddings"]
    assert len(rig.calls()) == 1  # no provider call


async def test_only_the_uncached_texts_go_to_the_provider_in_one_call(rig: Rig, app: SampleApp) -> None:
    await rig.post(app, "/embed", {"texts": ["alpha beta"]})
    reply = await rig.post(
        app, "/embed", {"texts": ["alpha beta", "a brand new sentence here", "alpha beta"]}
    )
    assert reply.headers["x-cache"] == "partial"
    body = reply.json()
    assert body["cached"] == 2
    assert body["embeddings"][0] == body["embeddings"][2] != body["embeddings"][1]
    _, second = rig.calls()
    assert second.input_tokens == _tokens("a brand new sentence here")


async def test_the_cache_is_per_tenant(rig: Rig, app: SampleApp) -> None:
    one = await rig.post(app, "/embed", {"text": "shared words"}, {"X-Tenant": "acme"})
    other = await rig.post(app, "/embed", {"text": "shared words"}, {"X-Tenant": "globex"})
    assert (one.headers["x-cache"], other.headers["x-cache"]) == ("miss", "miss")
    assert [c.tags["tenant"] for c in rig.calls()] == ["acme", "globex"]


async def test_the_configured_embedding_model_is_the_one_called_and_reported(rig: Rig) -> None:
    async with rig.app({**QUICK, "embedding_model": "text-embedding-3-large"}) as app:
        reply = await rig.post(app, "/embed", {"text": "words"})
    assert reply.json()["model"] == "text-embedding-3-large"
    assert [c.model for c in rig.calls()] == ["text-embedding-3-large"]


async def test_too_many_texts_is_400_without_a_call(rig: Rig) -> None:
    async with rig.app({**QUICK, "routes": {"embed": {"max_texts": 2}}}) as app:
        reply = await rig.post(app, "/embed", {"texts": ["a", "b", "c"]})
    assert reply.status == 400
    error = reply.json()["error"]
    assert (error["code"], error["max_texts"]) == ("too_many_texts", 2)
    assert rig.calls() == []


async def test_a_bad_embed_body_is_400(rig: Rig, app: SampleApp) -> None:
    for body in ({}, {"texts": []}, {"texts": ["ok", ""]}, {"texts": ["a"], "text": "b"}, {"texts": "a"}):
        reply = await rig.post(app, "/embed", body)
        assert reply.status == 400, body
        assert reply.json()["error"]["code"] == "bad_request"
    assert rig.calls() == []


async def test_an_embedding_outage_uses_every_attempt_on_the_one_model_then_503(
    rig: Rig, app: SampleApp
) -> None:
    await rig.fault(fault={"kind": "http_error", "status": 500})
    reply = await rig.post(app, "/embed", {"text": "words"})
    assert reply.status == 503
    assert reply.headers["x-degraded"] == "unavailable"
    assert [c.model for c in rig.calls()] == ["text-embedding-3-small"] * 3
