"""Azure answers rendered with no sockets: content-filter results, the gateway's error bodies
and headers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.azure import AzureChat
from fakeprovider.dialects.azure.filters import FILTERED_CATEGORY
from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.errors import ProviderError, QuotaRefusal, RateLimited, RetryAfter, context_length
from fakeprovider.generation.plan import Event, FinishReason, Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

CHAT = AzureChat()
META = ResponseMeta("chatcmpl-AbC123xyz", 1735689600, "fp_0123abcd")
USAGE = Usage(12, 0, 3)


def _request(stream: bool = False) -> ChatRequest:
    info = DEFAULT_CATALOGUE.resolve("gpt-4o")
    assert info is not None
    return ChatRequest("azure.chat", info, stream, [1, 2], include_usage=stream, deployment="gpt-4o")


def _plan(finish: FinishReason = "stop", tools: bool = False) -> Plan:
    events: list[Event] = (
        [ToolCallStart(0, "call_1", "lookup"), ToolArgsDelta(0, '{"q": "x"}', 3)]
        if tools
        else [TextDelta('a "quoted" finish_reason', 1), TextDelta(" b", 1), TextDelta(" c", 1)]
    )
    return Plan(events=events, delays=[0.0] * len(events), finish=finish)


def _filtered(results: dict[str, Any]) -> list[str]:
    return [name for name, r in results.items() if r["filtered"]]


@pytest.mark.parametrize("tools", [False, True])
@pytest.mark.parametrize("finish", ["stop", "length", "content_filter"])
def test_a_completion_carries_prompt_and_choice_filter_results(finish: FinishReason, tools: bool) -> None:
    plan = _plan(finish, tools)
    body = orjson.loads(CHAT.render_body(_request(), plan, USAGE, META))
    assert body == CHAT.render_json(_request(), plan, USAGE, META)
    assert body["prompt_filter_results"][0]["prompt_index"] == 0
    assert not _filtered(body["prompt_filter_results"][0]["content_filter_results"])
    choice = body["choices"][0]
    assert choice["finish_reason"] == finish
    expected = [FILTERED_CATEGORY] if finish == "content_filter" else []
    assert _filtered(choice["content_filter_results"]) == expected


@pytest.mark.parametrize("finish", ["stop", "content_filter"])
def test_a_stream_opens_with_the_prompts_results_and_annotates_each_choice(finish: FinishReason) -> None:
    chunks = list(CHAT.render_sse(_request(stream=True), _plan(finish), USAGE, META))
    datas = [c.data.removeprefix(b"data: ").strip() for c in chunks]
    assert datas[-1] == b"[DONE]"
    values = [orjson.loads(d) for d in datas[:-1]]
    assert values[0]["choices"] == []
    assert values[0]["prompt_filter_results"]
    with_choice = [v["choices"][0] for v in values[1:] if v["choices"]]
    assert all("content_filter_results" in c for c in with_choice)
    assert _filtered(with_choice[-1]["content_filter_results"]) == (
        [FILTERED_CATEGORY] if finish == "content_filter" else []
    )
    assert not any(_filtered(c["content_filter_results"]) for c in with_choice[:-1])
    assert values[-1]["usage"]["completion_tokens"] == 3
    assert sum(c.tokens for c in chunks) == 3


def _error(error: ProviderError) -> tuple[dict[str, Any], dict[str, str]]:
    headers: dict[str, str] = {}
    CHAT.error_headers(error, headers)
    return orjson.loads(CHAT.error_body(error)), headers


def test_a_rate_limit_is_the_gateways_429_with_retry_after_in_seconds_and_ms() -> None:
    error = ProviderError(
        429, "rate_limit", "", retry_after=RetryAfter(2.5, "exact"), detail=RateLimited("gpt-4o", 2.5)
    )
    body, headers = _error(error)
    assert body["error"]["code"] == "429"
    assert body["error"]["message"].startswith("Requests to the ChatCompletions_Create Operation")
    assert "Please retry after 2 seconds" in body["error"]["message"]
    assert headers == {"retry-after": "2.5", "retry-after-ms": "2500"}


def test_a_quota_refusal_names_the_token_rate_limit() -> None:
    refusal = QuotaRefusal("tokens", 1000, 1500, "tenant", "gpt-4o", 1.0)
    body, _ = _error(ProviderError(429, "rate_limit", "", detail=refusal))
    assert "exceeded token rate limit" in body["error"]["message"]
    assert "retry after 1 second." in body["error"]["message"]


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "InternalServerError"), (502, "BadGateway"), (503, "ServiceUnavailable"), (504, "GatewayTimeout")],
)
def test_an_outage_is_the_gateways_error(status: int, code: str) -> None:
    body, headers = _error(ProviderError(status, "server", "Service unavailable"))
    assert body["error"]["code"] == code
    assert headers == {}


def test_an_unknown_path_is_resource_not_found() -> None:
    body, _ = _error(ProviderError(404, "not_found", "Invalid URL (POST /openai/nope)"))
    assert body == {"error": {"code": "404", "message": "Resource not found"}}


def test_a_prompt_over_the_window_is_the_models_openai_shaped_400() -> None:
    body, _ = _error(context_length("gpt-4o", 128000, 130000))
    assert body["error"]["code"] == "context_length_exceeded"
    assert body["error"]["type"] == "invalid_request_error"
    assert "maximum context length is 128000 tokens" in body["error"]["message"]
