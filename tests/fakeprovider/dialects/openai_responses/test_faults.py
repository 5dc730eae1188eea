"""Every fault kind on the Responses API, end to end: the openai SDK's error family, and what
the wire and the ledger say. As for chat, which exact class a release raises for a cut
connection is the SDK's choice; that the caller sees a failure of that family is ours."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.conftest import LONG_ANSWERS
from tests.fakeprovider.dialects.openai_responses.test_sdk import WEATHER, Forecast
from tests.fakeprovider.e2e import GPT, Served, faults, is_connection_failure, read_to_end, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

BODY = {"model": GPT, "input": "Tell me a long story, please."}


def _served(kind: str, **params: Any) -> Any:
    """A provider whose every call meets fault `kind`, answering at length (past the cuts)."""
    return serve(faults({"name": "chaos", "fault": {"kind": kind, **params}}, **LONG_ANSWERS))


def _create(s: Served, stream: bool = False, **kwargs: Any) -> Any:
    """One response; a stream is read to its end and its events returned."""
    client = s.openai()
    if stream:
        return list(client.responses.create(stream=True, **{**BODY, **kwargs}))
    return client.responses.create(**{**BODY, **kwargs})


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_error_is_an_api_status_error(stream: bool, status: int) -> None:
    with _served("http_error", status=status) as s:
        with pytest.raises(openai.APIStatusError) as info:
            _create(s, stream)
        assert info.value.status_code == status
        assert info.value.response.headers["x-request-id"]
        r = s.last()
        assert (r.api, r.status, r.outcome, r.fault) == (
            "openai.responses",
            status,
            "error",
            {"rule": "chaos", "kind": "http_error"},
        )


@pytest.mark.parametrize("stream", [False, True])
def test_rate_limit_is_a_429_with_retry_headers(stream: bool) -> None:
    with _served("rate_limit", retry_after_s=2) as s:
        with pytest.raises(openai.RateLimitError) as info:
            _create(s, stream)
        headers = info.value.response.headers
        assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "2000")
        assert info.value.code == "rate_limit_exceeded"
        assert s.last().status == 429


def test_quotas_refuse_past_the_limit_with_rate_limit_headers() -> None:
    with serve({"limits": [{"scope": "key", "rpm": 1}]}) as s:
        ok = s.openai().responses.with_raw_response.create(**BODY)
        assert ok.headers["x-ratelimit-remaining-requests"] == "0"
        with pytest.raises(openai.RateLimitError):
            _create(s)
        assert [r.status for r in s.records(2)] == [200, 429]


@pytest.mark.parametrize("mode", ["drop", "reset"])
def test_partial_drop_and_reset_are_connection_failures_billed_for_what_was_sent(mode: str) -> None:
    with _served("partial", mode=mode, after_tokens=5) as s:
        with pytest.raises(Exception) as info:  # noqa: PT011 - the family is checked below
            _create(s, stream=True)
        assert is_connection_failure(info.value)
        r = s.last()
        assert r.outcome == ("reset" if mode == "reset" else "partial")
        assert 0 < r.output_tokens <= 5
        wire = read_to_end(s.url, "/v1/responses", {**BODY, "stream": True})
        assert b"response.completed" not in wire.body
        assert wire.ended == ("reset" if mode == "reset" else "eof")


def test_partial_error_event_ends_the_stream_failed_and_the_sdk_raises() -> None:
    with _served("partial", mode="error_event", after_tokens=5) as s:
        seen: list[str] = []
        stream = s.openai().responses.create(stream=True, **BODY)
        with pytest.raises(openai.APIError) as info:
            seen.extend(event.type for event in stream)
        assert "server had an error" in info.value.message
        assert seen[-1] == "response.failed"
        r = s.last()
        assert (r.status, r.outcome, r.output_tokens) == (200, "partial", 5)
        body = read_to_end(s.url, "/v1/responses", {**BODY, "stream": True}).body
        frames = [line for line in body.split(b"\n") if line.startswith(b"data: ")]
        failed, error = (json.loads(f[6:]) for f in frames[-2:])
        assert failed["response"]["status"] == "failed"
        assert failed["response"]["error"]["code"] == "server_error"
        assert error["type"] == "error"
        assert error["error"]["type"] == "server_error"
        assert error["sequence_number"] == failed["sequence_number"] + 1


def test_partial_error_event_without_a_stream_is_a_500() -> None:
    with (
        _served("partial", mode="error_event", after_tokens=5) as s,
        pytest.raises(openai.InternalServerError),
    ):
        _create(s)


@pytest.mark.parametrize("stream", [False, True])
def test_partial_length_ends_incomplete(stream: bool) -> None:
    with _served("partial", mode="length", after_tokens=5) as s:
        got = _create(s, stream)
        r = got[-1].response if stream else got
        assert r.status == "incomplete"
        assert r.incomplete_details.reason == "max_output_tokens"
        assert r.usage.output_tokens <= 5


@pytest.mark.parametrize("stream", [False, True])
def test_content_filter_ends_incomplete_for_content_filter(stream: bool) -> None:
    with _served("content_filter") as s:
        got = _create(s, stream)
        r = got[-1].response if stream else got
        assert r.status == "incomplete"
        assert r.incomplete_details.reason == "content_filter"
        assert s.last().finish_reason == "content_filter"


def test_slow_delays_the_first_token() -> None:
    with _served("slow", ttft_ms=150, inter_token_ms=0) as s:
        _create(s, stream=True)
        ttft = s.last().ttft_ms
        assert ttft is not None
        assert ttft >= 150


def test_hang_answers_after_the_hold_and_times_out_without_one() -> None:
    with _served("hang", after_s=0.2) as s:
        assert _create(s).status == "completed"
        assert s.last().duration_ms >= 200
    with _served("hang") as s:
        with pytest.raises(openai.APITimeoutError):
            s.openai(timeout=0.3).responses.create(**BODY)
        assert s.last().outcome == "timeout"


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_tool_call_sends_arguments_that_are_not_json(stream: bool) -> None:
    with _served("malformed_tool_call", mode="invalid_json") as s:
        got = _create(s, stream, tools=[WEATHER], tool_choice="required")
        r = got[-1].response if stream else got
        call = r.output[0]
        assert call.type == "function_call"
        with pytest.raises(json.JSONDecodeError):
            json.loads(call.arguments)


def test_malformed_output_breaks_a_parsed_response() -> None:
    with _served("malformed_output", mode="invalid_json") as s, pytest.raises(ValueError, match=r"(?i)json"):
        s.openai().responses.parse(model=GPT, input="Weather", text_format=Forecast)


def test_context_length_is_a_400_context_length_exceeded() -> None:
    with _served("context_length") as s:
        with pytest.raises(openai.BadRequestError) as info:
            _create(s)
        assert info.value.code == "context_length_exceeded"


@pytest.mark.parametrize("stream", [False, True])
def test_connection_reset_is_a_connection_failure(stream: bool) -> None:
    with _served("connection_reset") as s:
        with pytest.raises(Exception) as info:  # noqa: PT011 - the family is checked below
            _create(s, stream)
        assert is_connection_failure(info.value)
        assert s.last().outcome == "reset"
