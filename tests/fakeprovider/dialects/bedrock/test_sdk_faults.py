"""Bedrock Converse end to end under faults, quotas and botocore's retries: each fault reaches
boto3 as the exception Bedrock would cause, and the ledger counts every attempt."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EventStreamError, ReadTimeoutError
from urllib3.exceptions import ProtocolError

from tests.fakeprovider.dialects.bedrock.test_sdk import HELLO, NOVA, WEATHER, bedrock
from tests.fakeprovider.e2e import Served, faults, serve

LONG_ANSWERS = {"default": {"median_tokens": 40, "spread": 0}}
SCHEMA = '{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}'


def _converse(served: Served, stream: bool, **kwargs: Any) -> Any:
    """One call with no retries: the answer, or a stream's events read to the end."""
    client = bedrock(served)
    if stream:
        events = client.converse_stream(modelId=NOVA, messages=HELLO, **kwargs)["stream"]
        try:
            return list(events)
        finally:
            events.close()  # botocore leaves the connection open when a stream raises
    return client.converse(modelId=NOVA, messages=HELLO, **kwargs)


def _error_code(e: BaseException) -> str:
    response: Any = getattr(e, "response", {})
    return str(response["Error"]["Code"])


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fault", "exception", "status"),
    [
        ({"kind": "http_error", "status": 500}, "InternalServerException", 500),
        ({"kind": "http_error", "status": 502}, "ServiceUnavailableException", 503),
        ({"kind": "http_error", "status": 503}, "ServiceUnavailableException", 503),
        ({"kind": "http_error", "status": 504}, "ModelTimeoutException", 408),
        ({"kind": "http_error", "status": 529}, "ModelNotReadyException", 429),
        ({"kind": "rate_limit"}, "ThrottlingException", 429),
        ({"kind": "context_length"}, "ValidationException", 400),
    ],
)
def test_an_error_fault_is_the_bedrock_exception_on_both_operations(
    fault: dict[str, Any], exception: str, status: int, stream: bool
) -> None:
    with serve(faults({"match": {"api": "bedrock"}, "fault": fault})) as served:
        with pytest.raises(ClientError) as info:
            _converse(served, stream)
        assert _error_code(info.value) == exception
        record = served.last()
        assert (record.api, record.status, record.stream) == ("bedrock.converse", status, stream)
        assert record.fault is not None
        assert record.fault["kind"] == fault["kind"]


@pytest.mark.parametrize(
    ("fault", "stream", "error", "outcome", "billed"),
    [
        ({"kind": "connection_reset"}, False, ConnectionClosedError, "reset", 0),
        ({"kind": "connection_reset"}, True, ConnectionClosedError, "reset", 0),
        ({"kind": "partial", "after_tokens": 2, "mode": "drop"}, True, ProtocolError, "partial", 2),
        ({"kind": "partial", "after_tokens": 2, "mode": "reset"}, True, ProtocolError, "reset", 2),
        ({"kind": "partial", "after_tokens": 2, "mode": "drop"}, False, ConnectionClosedError, "partial", 0),
    ],
)
def test_a_cut_connection_is_botocores_connection_error(
    fault: dict[str, Any], stream: bool, error: type[Exception], outcome: str, billed: int
) -> None:
    with serve(faults(fault, answer_length=LONG_ANSWERS)) as served:
        with pytest.raises(error):
            _converse(served, stream)
        record = served.last()
        assert (record.outcome, record.output_tokens) == (outcome, billed)


def test_an_error_event_mid_stream_is_an_event_stream_error_after_the_tokens_sent() -> None:
    with serve(
        faults({"kind": "partial", "after_tokens": 2, "mode": "error_event"}, answer_length=LONG_ANSWERS)
    ) as s:
        with pytest.raises(EventStreamError) as info:
            _converse(s, stream=True)
        assert _error_code(info.value) == "internalServerException"
        record = s.last()
        assert (record.status, record.outcome, record.output_tokens) == (200, "partial", 2)


def test_a_hang_is_a_read_timeout_and_recorded_as_one() -> None:
    with serve(faults({"kind": "hang"})) as served:
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=served.url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
            config=bedrock(served).meta.config.merge(boto3.session.Config(read_timeout=0.3)),
        )
        served._closers.append(client)
        with pytest.raises(ReadTimeoutError):
            client.converse(modelId=NOVA, messages=HELLO)
        assert served.last().outcome == "timeout"


@pytest.mark.parametrize("stream", [False, True])
def test_a_length_cut_ends_with_max_tokens_and_bills_the_tokens_sent(stream: bool) -> None:
    with serve(
        faults({"kind": "partial", "after_tokens": 2, "mode": "length"}, answer_length=LONG_ANSWERS)
    ) as s:
        answer = _converse(s, stream)
        stop = answer[-2]["messageStop"]["stopReason"] if stream else answer["stopReason"]
        assert stop == "max_tokens"
        assert s.last().output_tokens == 2


@pytest.mark.parametrize("stream", [False, True])
def test_a_content_filter_stops_with_content_filtered(stream: bool) -> None:
    with serve(faults({"kind": "content_filter"}, answer_length=LONG_ANSWERS)) as served:
        answer = _converse(served, stream)
        stop = answer[-2]["messageStop"]["stopReason"] if stream else answer["stopReason"]
        assert stop == "content_filtered"


def test_a_malformed_tool_call_reaches_the_caller_as_input_that_is_not_an_object() -> None:
    with serve(faults({"kind": "malformed_tool_call", "mode": "invalid_json"})) as served:
        answer = _converse(served, stream=False, toolConfig=WEATHER)
        use = answer["output"]["message"]["content"][-1]["toolUse"]
        assert not isinstance(use["input"], dict)


def test_a_malformed_streamed_tool_call_does_not_parse() -> None:
    with serve(faults({"kind": "malformed_tool_call", "mode": "invalid_json"})) as served:
        events = _converse(served, stream=True, toolConfig=WEATHER)
        args = "".join(
            e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e
        )
        with pytest.raises(json.JSONDecodeError):
            json.loads(args)


def test_malformed_structured_output_is_not_json() -> None:
    output = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": SCHEMA}}}}
    with serve() as served:
        good = _converse(served, stream=False, outputConfig=output)
        assert isinstance(json.loads(good["output"]["message"]["content"][0]["text"])["a"], int)
    with serve(faults({"kind": "malformed_output", "mode": "invalid_json"})) as served:
        bad = _converse(served, stream=False, outputConfig=output)
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad["output"]["message"]["content"][0]["text"])


def test_a_slow_fault_delays_the_first_token() -> None:
    with serve(faults({"kind": "slow", "ttft_ms": 150})) as served:
        _converse(served, stream=True)
        record = served.last()
        assert record.ttft_ms is not None
        assert record.ttft_ms >= 150


@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_throttling_is_retried_by_botocore_and_every_attempt_is_in_the_ledger(mode: str) -> None:
    rule = {"match": {"api": "bedrock.converse"}, "first_attempts": 1, "fault": {"kind": "rate_limit"}}
    with serve(faults(rule)) as served:
        answer = bedrock(served, attempts=3, mode=mode).converse(modelId=NOVA, messages=HELLO)
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1
        records = served.records(2)
        assert [r.status for r in records] == [429, 200]
        assert [r.sdk_retry_count for r in records] == [0, 1]
        assert [r.attempt for r in records] == [1, 2]
        assert records[0].fingerprint == records[1].fingerprint


def test_a_probability_roll_is_the_same_on_every_run_of_the_same_requests() -> None:
    rule = {"probability": 0.5, "fault": {"kind": "http_error", "status": 500}}
    statuses = []
    for _ in range(2):
        with serve(faults(rule), seed=3) as served:
            client = bedrock(served)
            for i in range(8):
                with contextlib.suppress(client.exceptions.InternalServerException):
                    messages = [{"role": "user", "content": [{"text": f"Question {i}"}]}]
                    client.converse(modelId=NOVA, messages=messages)
            statuses.append([r.status for r in served.records(8)])
    assert statuses[0] == statuses[1]
    assert set(statuses[0]) == {200, 500}


def test_model_not_ready_is_retried_until_the_model_answers() -> None:
    rule = {"first_attempts": 2, "fault": {"kind": "http_error", "status": 529}}
    with serve(faults(rule)) as served:
        events = list(bedrock(served, attempts=3).converse_stream(modelId=NOVA, messages=HELLO)["stream"])
        assert "metadata" in events[-1]
        records = served.records(3)
        assert [r.status for r in records] == [429, 429, 200]
        assert [r.attempt for r in records] == [1, 2, 3]


def test_a_quota_throttles_per_access_key() -> None:
    with serve({"limits": [{"scope": "key", "match": {"api": "bedrock"}, "rpm": 1}]}) as served:
        client = bedrock(served)
        client.converse(modelId=NOVA, messages=HELLO)
        with pytest.raises(client.exceptions.ThrottlingException):
            client.converse(modelId=NOVA, messages=HELLO)
        other = boto3.client(
            "bedrock-runtime",
            endpoint_url=served.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDOTHER",
            aws_secret_access_key="secret",
            config=client.meta.config,
        )
        served._closers.append(other)
        other.converse(modelId=NOVA, messages=HELLO)
        assert [r.status for r in served.records(3)] == [200, 429, 200]
