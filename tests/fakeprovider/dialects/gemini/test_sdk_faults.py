"""Gemini end to end under faults, quotas and scripted replies: what `google-genai` raises or
returns for each fault kind (the table in docs/faults.md), and what the ledger records."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import types

from tests.fakeprovider.dialects.gemini.test_sdk import FLASH, WEATHER, gemini
from tests.fakeprovider.e2e import Served, faults, serve

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def _generate(
    served: Served, stream: bool, config: types.GenerateContentConfig | None = None, **options: Any
) -> Any:
    models = gemini(served, **options).models
    if stream:
        return list(models.generate_content_stream(model=FLASH, contents="Say something.", config=config))
    return models.generate_content(model=FLASH, contents="Say something.", config=config)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ({"kind": "http_error", "status": 503}, genai.errors.ServerError, 503),
        ({"kind": "http_error", "status": 500}, genai.errors.ServerError, 500),
        ({"kind": "rate_limit"}, genai.errors.ClientError, 429),
        ({"kind": "context_length"}, genai.errors.ClientError, 400),
        ({"kind": "partial", "after_tokens": 2, "mode": "error_event"}, genai.errors.ServerError, 200),
        ({"kind": "partial", "after_tokens": 2, "mode": "drop"}, httpx2.RemoteProtocolError, 200),
        ({"kind": "partial", "after_tokens": 2, "mode": "reset"}, httpx2.ReadError, 200),
        ({"kind": "connection_reset"}, httpx2.ReadError, 0),
    ],
)
def test_a_fault_reaches_the_sdk_as_its_exception(
    fault: dict[str, Any], error: type[Exception], status: int, stream: bool
) -> None:
    with serve(faults({"match": {"api": "gemini.generate"}, "fault": fault})) as served:
        with pytest.raises(error):
            _generate(served, stream)
        record = served.last()
        # Not streamed, a cut has sent no status (0) and an error event is the error's own 500.
        whole = {"drop": 0, "reset": 0, "error_event": 500}
        expected = status if stream else whole.get(fault.get("mode", ""), status)
        assert (record.api, record.status) == ("gemini.generate", expected)
        assert record.fault is not None
        assert record.fault["kind"] == fault["kind"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_hang_is_the_clients_read_timeout(stream: bool) -> None:
    with serve(faults({"kind": "hang"})) as served:
        with pytest.raises(httpx2.ReadTimeout):
            _generate(served, stream, timeout=300)
        assert served.last().outcome == "timeout"


@pytest.mark.parametrize("stream", [False, True])
def test_slow_answers_late_but_whole(stream: bool) -> None:
    with serve(faults({"kind": "slow", "ttft_ms": 150})) as served:
        _generate(served, stream)
        record = served.last()
        assert record.outcome == "ok"
        assert record.ttft_ms is not None
        assert record.ttft_ms >= 150


@pytest.mark.parametrize("stream", [False, True])
def test_a_content_filter_is_a_safety_stop_naming_the_category(stream: bool) -> None:
    with serve(faults({"kind": "content_filter"})) as served:
        answer = _generate(served, stream)
        last = answer[-1] if stream else answer
        candidate = last.candidates[0]
        assert candidate.finish_reason == types.FinishReason.SAFETY
        assert any(r.blocked for r in candidate.safety_ratings or [])
        assert served.last().finish_reason == "content_filter"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("mode", ["invalid_json", "truncated_json"])
def test_a_malformed_tool_call_is_a_malformed_function_call(stream: bool, mode: str) -> None:
    config = types.GenerateContentConfig(
        tools=[WEATHER],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode=types.FunctionCallingConfigMode.ANY)
        ),
    )
    with serve(faults({"kind": "malformed_tool_call", "mode": mode})) as served:
        answer = _generate(served, stream, config)
        last = answer[-1] if stream else answer
        assert last.candidates[0].finish_reason == types.FinishReason.MALFORMED_FUNCTION_CALL
        assert not last.function_calls


def test_a_wrong_type_argument_arrives_as_a_call_that_breaks_the_schema() -> None:
    config = types.GenerateContentConfig(
        tools=[WEATHER],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode=types.FunctionCallingConfigMode.ANY)
        ),
    )
    with serve(faults({"kind": "malformed_tool_call", "mode": "wrong_type"})) as served:
        calls = _generate(served, False, config).function_calls
        assert calls is not None
        assert not isinstance(calls[0].args.get("days"), int) or not isinstance(
            calls[0].args.get("city"), str
        )


@pytest.mark.parametrize("mode", ["invalid_json", "empty"])
def test_malformed_output_leaves_nothing_parsed(mode: str) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json",
        response_json_schema={"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
    )
    with serve(faults({"kind": "malformed_output", "mode": mode})) as served:
        response = _generate(served, False, config)
        assert response.parsed is None


def test_a_stream_cut_for_length_stops_with_max_tokens_and_bills_what_was_sent() -> None:
    with serve(faults({"kind": "partial", "after_tokens": 2, "mode": "length"})) as served:
        chunks = _generate(served, True)
        assert chunks[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
        assert served.last().output_tokens == 2


def test_a_rate_limit_carries_its_retry_delay_in_retry_info() -> None:
    with serve(faults({"kind": "rate_limit", "retry_after_s": 7})) as served:
        with pytest.raises(genai.errors.ClientError) as info:
            _generate(served, False)
        assert (info.value.code, info.value.status) == (429, "RESOURCE_EXHAUSTED")
        details = info.value.details["error"]["details"]
        assert [d["retryDelay"] for d in details if d["@type"] == RETRY_INFO] == ["7s"]


def test_the_sdks_retry_options_retry_a_429_on_their_own_backoff_not_the_retry_delay() -> None:
    # google-genai's HttpRetryOptions wait by exponential backoff and never read RetryInfo:
    # told to wait 30 s, the retry comes after the SDK's own 0.05 s.
    rule = {"kind": "rate_limit", "retry_after_s": 30}
    options = types.HttpRetryOptions(attempts=2, initial_delay=0.05, max_delay=0.05, jitter=0)
    with serve(faults({"fault": rule, "first_attempts": 1})) as served:
        response = _generate(served, False, retry_options=options)
        assert response.text
        first, second = served.records(2)
        assert (first.status, second.status, second.attempt) == (429, 200, 2)
        assert 0.04 <= second.ts_start - first.ts_end < 5


def test_without_retry_options_the_sdk_does_not_retry() -> None:
    with serve(faults({"kind": "http_error", "status": 503})) as served:
        with pytest.raises(genai.errors.ServerError):
            _generate(served, False)
        assert len(served.records()) == 1


def test_a_quota_answers_resource_exhausted_with_quota_failure_and_retry_info() -> None:
    with serve({"limits": [{"scope": "key", "match": {"api": "gemini.generate"}, "rpm": 1}]}) as served:
        _generate(served, False)
        with pytest.raises(genai.errors.ClientError) as info:
            _generate(served, True)
        assert info.value.code == 429
        types_sent = [d["@type"].rsplit(".", 1)[-1] for d in info.value.details["error"]["details"]]
        assert types_sent == ["QuotaFailure", "Help", "RetryInfo"]
        assert served.last().outcome == "error"


def test_scripted_replies_answer_text_and_function_calls() -> None:
    scenario = {
        "responses": [
            {"match": {"api": "gemini.generate", "route": "faq"}, "reply": {"content": "Scripted."}},
            {
                "match": {"api": "gemini.generate", "route": "tools"},
                "reply": {"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo", "days": 2}}]},
            },
        ]
    }
    with serve(scenario) as served:
        faq = _generate(served, False, headers={"X-Route": "faq"})
        assert faq.text == "Scripted."
        config = types.GenerateContentConfig(tools=[WEATHER])
        called = _generate(served, True, config, headers={"X-Route": "tools"})
        calls = [c for chunk in called for c in chunk.function_calls or []]
        assert [(c.name, c.args) for c in calls] == [("weather", {"city": "Oslo", "days": 2})]
        assert served.last().tags["route"] == "tools"


def test_a_rule_on_gemini_embed_leaves_generation_alone() -> None:
    rule = {"match": {"api": "gemini.embed"}, "fault": {"kind": "http_error", "status": 503}}
    with serve(faults(rule)) as served:
        client = gemini(served)
        assert client.models.generate_content(model=FLASH, contents="hi").text
        with pytest.raises(genai.errors.ServerError) as info:
            client.models.embed_content(model="gemini-embedding-001", contents="hi")
        assert info.value.status == "UNAVAILABLE"
        assert served.last().api == "gemini.embed"


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ({"kind": "http_error", "status": 503}, genai.errors.ServerError, 503),
        ({"kind": "rate_limit", "retry_after_s": 2}, genai.errors.ClientError, 429),
        ({"kind": "context_length"}, genai.errors.ClientError, 400),
        ({"kind": "connection_reset"}, httpx2.ReadError, 0),
    ],
)
def test_a_fault_on_embeddings_reaches_the_sdk_in_googles_shape(
    fault: dict[str, Any], error: type[Exception], status: int
) -> None:
    with serve(faults({"match": {"api": "gemini.embed"}, "fault": fault})) as served:
        with pytest.raises(error):
            gemini(served).models.embed_content(model="gemini-embedding-001", contents=["a", "b"])
        record = served.last()
        assert (record.api, record.status) == ("gemini.embed", status)


def test_a_token_quota_on_embeddings_is_resource_exhausted() -> None:
    scenario = {"limits": [{"scope": "key", "match": {"api": "gemini"}, "tpm": 5}]}
    with serve(scenario) as served:
        client = gemini(served)
        client.models.embed_content(model="gemini-embedding-001", contents="one two three")
        with pytest.raises(genai.errors.ClientError) as info:
            client.models.embed_content(model="gemini-embedding-001", contents="four five six")
        assert (info.value.code, info.value.status) == (429, "RESOURCE_EXHAUSTED")
        violation = info.value.details["error"]["details"][0]["violations"][0]
        assert violation["quotaMetric"].endswith("input_token_count")
