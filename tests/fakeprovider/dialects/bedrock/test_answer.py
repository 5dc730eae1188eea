"""Bedrock answers rendered with no sockets: the Converse body, the event-stream frames (decoded
by botocore's own `EventStreamBuffer`, CRCs checked), and errors with their exception names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.base import Usage
from fakeprovider.dialects.bedrock import BedrockConverse
from fakeprovider.dialects.bedrock.eventstream import event_headers, frame
from fakeprovider.errors import ProviderError, QuotaRefusal, context_length, model_not_found
from fakeprovider.generation.plan import Event, FinishReason, Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

CONVERSE = BedrockConverse()
META = CONVERSE.new_meta()
USAGE = Usage(12, 4, 3)


def _request(stream: bool = False) -> ChatRequest:
    info = DEFAULT_CATALOGUE.resolve("nova-pro")
    assert info is not None
    return ChatRequest("bedrock.converse", info, stream, [1, 2], include_usage=True)


def _plan(finish: FinishReason = "stop", tools: bool = False, text: bool = True) -> Plan:
    events: list[Event] = [TextDelta("Let me ", 1), TextDelta('check "it"', 2)] if text else []
    if tools:
        events += [
            ToolCallStart(0, "call_abc", "weather"),
            ToolArgsDelta(0, '{"city":', 2),
            ToolArgsDelta(0, '"Oslo"}', 1),
        ]
    return Plan(events=events, delays=[0.25] * len(events), finish=finish)


def _decode(data: bytes) -> list[tuple[dict[str, Any], Any]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(m.headers, json.loads(m.payload)) for m in buffer]


def _events(plan: Plan) -> list[tuple[str, Any]]:
    data = b"".join(c.data for c in CONVERSE.render_sse(_request(True), plan, USAGE, META))
    return [(h[":event-type"], p) for h, p in _decode(data)]


def test_a_whole_answer_has_the_converse_response_shape() -> None:
    body = json.loads(CONVERSE.render_body(_request(), _plan(), USAGE, META))
    assert body["output"]["message"] == {"role": "assistant", "content": [{"text": 'Let me check "it"'}]}
    assert body["stopReason"] == "end_turn"
    assert body["usage"] == {
        "inputTokens": 8,
        "outputTokens": 3,
        "totalTokens": 15,
        "cacheReadInputTokens": 4,
        "cacheWriteInputTokens": 0,
    }
    assert body["metrics"] == {"latencyMs": 500}


def test_a_tool_call_is_a_tool_use_block_with_its_input_object() -> None:
    body = json.loads(CONVERSE.render_body(_request(), _plan("tool_calls", tools=True), USAGE, META))
    use = body["output"]["message"]["content"][1]["toolUse"]
    assert use == {"toolUseId": "tooluse_abc", "name": "weather", "input": {"city": "Oslo"}}
    assert body["stopReason"] == "tool_use"


@pytest.mark.parametrize(
    ("finish", "reason"), [("length", "max_tokens"), ("content_filter", "content_filtered")]
)
def test_finish_reasons_are_bedrock_stop_reasons(finish: FinishReason, reason: str) -> None:
    assert json.loads(CONVERSE.render_body(_request(), _plan(finish), USAGE, META))["stopReason"] == reason


def test_a_stream_is_the_converse_event_sequence_in_valid_frames() -> None:
    events = _events(_plan("tool_calls", tools=True))
    assert [name for name, _ in events] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[1][1] == {"contentBlockIndex": 0, "delta": {"text": "Let me "}}
    assert events[4][1]["start"] == {"toolUse": {"toolUseId": "tooluse_abc", "name": "weather"}}
    assert events[5][1] == {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"city":'}}}
    assert events[8][1] == {"stopReason": "tool_use"}
    assert events[9][1]["usage"]["outputTokens"] == 3


def test_every_frame_carries_the_event_headers() -> None:
    data = b"".join(c.data for c in CONVERSE.render_sse(_request(True), _plan(), USAGE, META))
    for headers, _ in _decode(data):
        assert headers[":message-type"] == "event"
        assert headers[":content-type"] == "application/json"


def test_a_corrupted_frame_fails_botocores_checksum() -> None:
    data = bytearray(frame(event_headers("messageStart"), b'{"role":"assistant"}'))
    data[-6] ^= 1  # a payload byte
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(data))


def test_an_empty_answer_still_has_one_block() -> None:
    names = [name for name, _ in _events(_plan(text=False))]
    assert names == ["messageStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]


def test_a_cut_stream_stops_after_its_events() -> None:
    plan = _plan()
    plan.ending = "drop"
    assert [name for name, _ in _events(plan)] == ["messageStart", "contentBlockDelta", "contentBlockDelta"]


@pytest.mark.parametrize(
    ("error", "exception", "status"),
    [
        (ProviderError(429, "rate_limit", "slow down"), "ThrottlingException", 429),
        (ProviderError(503, "server", "x"), "ServiceUnavailableException", 503),
        (ProviderError(502, "server", "x"), "ServiceUnavailableException", 503),
        (ProviderError(500, "server", "x"), "InternalServerException", 500),
        (ProviderError(504, "server", "x"), "ModelTimeoutException", 408),
        (ProviderError(529, "overloaded", "x"), "ModelNotReadyException", 429),
        (ProviderError(404, "not_found", "No such thing"), "ResourceNotFoundException", 404),
        (ProviderError(400, "invalid_request", "bad"), "ValidationException", 400),
        (context_length("nova-pro", 300_000, 400_000), "ValidationException", 400),
        (ProviderError(413, "too_large", "big"), "ValidationException", 400),
        (model_not_found("mistral.x-v1:0"), "ValidationException", 400),
    ],
)
def test_an_error_is_the_bedrock_exception_with_its_status(
    error: ProviderError, exception: str, status: int
) -> None:
    headers: dict[str, str] = {}
    CONVERSE.error_headers(error, headers)
    assert headers["x-amzn-ErrorType"].split(":")[0] == exception
    assert CONVERSE.error_status(error) == status
    assert json.loads(CONVERSE.error_body(error)) == {"message": CONVERSE.error_message(error)}


def test_a_model_not_found_is_worded_as_an_invalid_model_identifier() -> None:
    assert CONVERSE.error_message(model_not_found("x")) == "The provided model identifier is invalid."


def test_a_token_quota_says_too_many_tokens() -> None:
    error = ProviderError(429, "quota", "", detail=QuotaRefusal("tokens", 100, 200, "key", "nova-pro", 3.0))
    assert CONVERSE.error_message(error) == "Too many tokens, please wait before trying again."


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (ProviderError(429, "rate_limit", ""), "throttlingException"),
        (ProviderError(500, "server", ""), "internalServerException"),
        (ProviderError(503, "server", ""), "serviceUnavailableException"),
        (ProviderError(529, "overloaded", ""), "modelStreamErrorException"),
    ],
)
def test_a_stream_ends_with_an_exception_message(error: ProviderError, name: str) -> None:
    [(headers, payload)] = _decode(CONVERSE.stream_error(error, _request(True), META))
    assert (headers[":message-type"], headers[":exception-type"]) == ("exception", name)
    assert payload["message"]
