"""Gemini answers rendered with no sockets: bodies, streams, finish reasons, usage, and Google's
error bodies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.dialects.gemini import GeminiEmbed, GeminiGenerate
from fakeprovider.dialects.gemini.body import FILTERED_CATEGORY
from fakeprovider.errors import (
    ProviderError,
    QuotaRefusal,
    RateLimited,
    RetryAfter,
    context_length,
    model_not_found,
)
from fakeprovider.generation.plan import Event, FinishReason, Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

GEN = GeminiGenerate()
META = ResponseMeta("resp123", 0, "")
USAGE = Usage(12, 4, 3)


def _request(stream: bool = False) -> ChatRequest:
    info = DEFAULT_CATALOGUE.resolve("gemini-2.5-flash")
    assert info is not None
    return ChatRequest("gemini.generate", info, stream, [1, 2], include_usage=True)


def _plan(finish: FinishReason = "stop", args: str | None = None, ending: Any = "complete") -> Plan:
    events: list[Event] = (
        [
            TextDelta("a", 1),
            ToolCallStart(0, "c1", "lookup"),
            ToolArgsDelta(0, '{"q": ', 1),
            ToolArgsDelta(0, '"x"}', 2),
        ]
        if args is None and finish == "tool_calls"
        else [ToolCallStart(0, "c1", "lookup"), ToolArgsDelta(0, args, 3)]
        if args is not None
        else [TextDelta('a "quoted"', 1), TextDelta(" b", 1), TextDelta(" c", 1)]
    )
    return Plan(events=events, delays=[0.0] * len(events), finish=finish, ending=ending)


def _events(chunks: list[Any]) -> list[dict[str, Any]]:
    out = []
    for c in chunks:
        assert c.data.startswith(b"data: ")
        assert c.data.endswith(b"\r\n\r\n")
        out.append(orjson.loads(c.data[6:]))
    return out


def test_a_response_has_one_candidate_its_finish_and_usage() -> None:
    body = orjson.loads(GEN.render_body(_request(), _plan(), USAGE, META))
    assert body == GEN.render_json(_request(), _plan(), USAGE, META)
    cand = body["candidates"][0]
    assert cand["content"] == {"parts": [{"text": 'a "quoted" b c'}], "role": "model"}
    assert (cand["finishReason"], cand["index"]) == ("STOP", 0)
    assert body["usageMetadata"] == {
        "promptTokenCount": 12,
        "candidatesTokenCount": 3,
        "totalTokenCount": 15,
        "cachedContentTokenCount": 4,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
    }
    assert (body["modelVersion"], body["responseId"]) == ("gemini-2.5-flash", "resp123")


def test_a_length_stop_is_max_tokens() -> None:
    body = GEN.render_json(_request(), _plan("length"), USAGE, META)
    assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_a_function_call_is_a_part_with_args_as_an_object() -> None:
    body = GEN.render_json(_request(), _plan("tool_calls"), USAGE, META)
    parts = body["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "a"}, {"functionCall": {"name": "lookup", "args": {"q": "x"}}}]
    assert body["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("args", ['{"q": ', "[1, 2]"])
def test_unparsable_arguments_are_a_malformed_function_call(args: str) -> None:
    cand = GEN.render_json(_request(), _plan("tool_calls", args), USAGE, META)["candidates"][0]
    assert cand["finishReason"] == "MALFORMED_FUNCTION_CALL"
    assert "content" not in cand


def test_a_safety_stop_withholds_the_content_and_names_the_category() -> None:
    cand = GEN.render_json(_request(), _plan("content_filter"), USAGE, META)["candidates"][0]
    assert cand["finishReason"] == "SAFETY"
    assert "content" not in cand
    assert [r["category"] for r in cand["safetyRatings"] if r.get("blocked")] == [FILTERED_CATEGORY]


def test_a_stream_sends_each_piece_then_the_finish_with_the_full_usage() -> None:
    chunks = list(GEN.render_sse(_request(True), _plan(), USAGE, META))
    events = _events(chunks)
    texts = [e["candidates"][0]["content"]["parts"][0]["text"] for e in events]
    assert texts == ['a "quoted"', " b", " c", ""]
    assert [c.tokens for c in chunks] == [1, 1, 1, 0]
    assert all("finishReason" not in e["candidates"][0] for e in events[:-1])
    assert events[0]["usageMetadata"] == {
        "promptTokenCount": 12,
        "totalTokenCount": 12,
        "cachedContentTokenCount": 4,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
    }
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"]["candidatesTokenCount"] == 3
    assert {e["responseId"] for e in events} == {"resp123"}


def test_a_streamed_function_call_is_sent_whole_with_its_tokens() -> None:
    chunks = list(GEN.render_sse(_request(True), _plan("tool_calls"), USAGE, META))
    events = _events(chunks)
    assert events[1]["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"name": "lookup", "args": {"q": "x"}}}
    ]
    assert [c.tokens for c in chunks] == [1, 3, 0]


def test_a_streamed_malformed_call_ends_the_stream_as_malformed() -> None:
    chunks = list(GEN.render_sse(_request(True), _plan("tool_calls", '{"q": '), USAGE, META))
    events = _events(chunks)
    assert len(events) == 1
    assert events[0]["candidates"][0]["finishReason"] == "MALFORMED_FUNCTION_CALL"
    assert chunks[0].tokens == 3


def test_a_cut_stream_stops_after_its_events_and_sends_no_half_call() -> None:
    plan = _plan("tool_calls", ending="drop")
    events = _events(list(GEN.render_sse(_request(True), plan, USAGE, META)))
    assert [e["candidates"][0]["content"]["parts"][0] for e in events] == [{"text": "a"}]


def test_a_mid_stream_error_is_a_data_event_the_sdk_raises() -> None:
    frame = GEN.stream_error(GEN.mid_stream_error(True), _request(True), META)
    assert frame.startswith(b'data: {"error":')
    error = orjson.loads(frame[6:])["error"]
    assert (error["code"], error["status"]) == (500, "INTERNAL")


def _error(e: ProviderError) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(GEN.error_body(e))["error"]
    assert body["code"] == e.status
    return body


def test_a_rate_limit_is_resource_exhausted_with_the_retry_delay() -> None:
    e = ProviderError(
        429, "rate_limit", "", retry_after=RetryAfter(2.5), detail=RateLimited("gemini-2.5-flash", 2.5)
    )
    body = _error(e)
    assert body["status"] == "RESOURCE_EXHAUSTED"
    retry = [d for d in body["details"] if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}]
    assert "Please retry in 2.5s" in body["message"]
    headers: dict[str, str] = {}
    GEN.error_headers(e, headers)
    assert headers == {}  # Google gives the wait in the body only


def test_a_quota_refusal_names_the_metric_and_its_limit() -> None:
    refusal = QuotaRefusal("requests", 5, 1, "key", "gemini-2.5-flash", 12.0)
    body = _error(ProviderError(429, "quota", "", retry_after=RetryAfter(12, "rounded_up"), detail=refusal))
    types = [d["@type"].rsplit(".", 1)[-1] for d in body["details"]]
    assert types == ["QuotaFailure", "Help", "RetryInfo"]
    assert body["details"][0]["violations"][0]["quotaValue"] == "5"
    assert body["details"][2]["retryDelay"] == "12s"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ProviderError(503, "server", "The model is overloaded."), "UNAVAILABLE"),
        (ProviderError(500, "server", "boom"), "INTERNAL"),
        (ProviderError(504, "server", "late"), "DEADLINE_EXCEEDED"),
        (model_not_found("gemini-9"), "NOT_FOUND"),
        (context_length("gemini-2.5-flash", 100, 120), "INVALID_ARGUMENT"),
    ],
)
def test_errors_carry_googles_canonical_status(error: ProviderError, status: str) -> None:
    assert _error(error)["status"] == status


def test_error_words_are_googles() -> None:
    assert (
        "models/gemini-9 is not found for API version v1beta"
        in _error(model_not_found("gemini-9"))["message"]
    )
    overflow = _error(context_length("gemini-2.5-flash", 100, 120))["message"]
    assert overflow == "The input token count (120) exceeds the maximum number of tokens allowed (100)."


def test_a_model_is_listed_with_its_limits_and_methods() -> None:
    info = DEFAULT_CATALOGUE.resolve("gemini-2.5-pro")
    assert info is not None
    listed = GEN.model_json(info, 0)
    assert listed["name"] == "models/gemini-2.5-pro"
    assert (listed["inputTokenLimit"], listed["outputTokenLimit"]) == (1_048_576, 65_536)
    assert GEN.model_list([listed]) == {"models": [listed]}


EMBED = GeminiEmbed()


def _embed(body: dict[str, Any], method: str = "embedContent", model: str = "gemini-embedding-001") -> Any:
    return EMBED.parse(body, DEFAULT_CATALOGUE, {"model": model, "method": method})


def test_one_embedding_and_a_batch_of_them() -> None:
    one = orjson.loads(EMBED.render_body(_embed({"content": {"parts": [{"text": "hi"}]}}), seed=1))
    assert len(one["embedding"]["values"]) == 3072
    requests = [
        {
            "model": "models/gemini-embedding-001",
            "content": {"parts": [{"text": t}]},
            "outputDimensionality": 8,
        }
        for t in ("hi", "there")
    ]
    batch = orjson.loads(EMBED.render_body(_embed({"requests": requests}, "batchEmbedContents"), seed=1))
    assert [len(e["values"]) for e in batch["embeddings"]] == [8, 8]
    assert batch["embeddings"][0]["values"] != batch["embeddings"][1]["values"]


@pytest.mark.parametrize(
    ("body", "method", "field"),
    [
        ({"content": {"parts": []}}, "embedContent", "EmbedContentRequest.content.parts"),
        (
            {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 5000},
            "embedContent",
            "EmbedContentRequest.output_dimensionality",
        ),
        ({"requests": []}, "batchEmbedContents", "requests"),
        (
            {"requests": [{"model": "models/other", "content": {"parts": [{"text": "x"}]}}]},
            "batchEmbedContents",
            "BatchEmbedContentsRequest.requests[0].model",
        ),
    ],
)
def test_a_bad_embeddings_request_names_the_field(body: dict[str, Any], method: str, field: str) -> None:
    with pytest.raises(ProviderError) as info:
        _embed(body, method)
    assert (info.value.status, info.value.param) == (400, field)


def test_embedding_with_a_chat_model_is_a_404() -> None:
    with pytest.raises(ProviderError) as info:
        _embed({"content": {"parts": [{"text": "x"}]}}, model="gemini-2.5-flash")
    assert info.value.status == 404


def test_a_malformed_calls_wait_and_tokens_move_to_the_chunk_after_it() -> None:
    events: list[Event] = [ToolCallStart(0, "c1", "lookup"), ToolArgsDelta(0, '{"q": ', 3)]
    plan = Plan(events=events, delays=[0.2, 0.3], finish="tool_calls", tail_delay=0.1)
    chunks = list(GEN.render_sse(_request(True), plan, USAGE, META))
    assert [(round(c.delay, 6), c.tokens) for c in chunks] == [(0.6, 3)]
