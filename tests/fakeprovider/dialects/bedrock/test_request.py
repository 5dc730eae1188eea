"""Bedrock Converse requests read with no sockets: model ids, fields, tools, and the words of
Bedrock's validation errors."""

from __future__ import annotations

from typing import Any

import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.bedrock import BedrockConverse
from fakeprovider.dialects.bedrock.models import catalogue_id
from fakeprovider.errors import ProviderError

CONVERSE = BedrockConverse()
HELLO: list[Any] = [{"role": "user", "content": [{"text": "Say something, please."}]}]
SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0"
WEATHER: dict[str, Any] = {
    "tools": [
        {
            "toolSpec": {
                "name": "weather",
                "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
            }
        }
    ]
}


def _parse(body: dict[str, Any], model: str = SONNET, operation: str = "converse") -> Any:
    return CONVERSE.parse(body, DEFAULT_CATALOGUE, {"modelId": model, "operation": operation})


def _refusal(body: dict[str, Any], model: str = SONNET) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        _parse(body, model)
    return info.value


@pytest.mark.parametrize(
    ("model_id", "named"),
    [
        (SONNET, ("claude-3-5-sonnet-20240620", "anthropic")),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", ("claude-sonnet-4-20250514", "anthropic")),
        ("apac.amazon.nova-lite-v1:0", ("nova-lite", "bedrock")),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", ("claude-3-haiku-20240307", "anthropic")),
        ("meta.llama3-1-70b-instruct-v1:0", ("llama3-1-70b-instruct", "bedrock")),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0",
            ("nova-pro", "bedrock"),
        ),
        ("mistral.mistral-large-2402-v1:0", None),
        ("gpt-4o", None),
    ],
)
def test_bedrock_ids_name_a_catalogue_model_after_region_provider_and_version(
    model_id: str, named: tuple[str, str] | None
) -> None:
    assert catalogue_id(model_id) == named


def test_the_model_keeps_the_bedrock_id_and_is_priced_as_its_catalogue_model() -> None:
    req = _parse({"messages": HELLO}, "us.amazon.nova-pro-v1:0")
    assert req.model.id == "us.amazon.nova-pro-v1:0"
    assert (req.model.input_per_m, req.model.context_window) == (0.80, 300_000)
    assert req.api == "bedrock.converse"


def test_an_anthropic_id_answers_as_its_claude_family() -> None:
    assert _parse({"messages": HELLO}).model.input_per_m == 3.00


@pytest.mark.parametrize("model_id", ["mistral.mistral-large-2402-v1:0", "gpt-4o", "amazon.titan-x-v1:0", ""])
def test_an_unknown_model_is_a_validation_error_as_bedrock_gives_it(model_id: str) -> None:
    error = _refusal({"messages": HELLO}, model_id)
    assert (error.status, error.message) == (400, "The provided model identifier is invalid.")


def test_the_operation_in_the_path_makes_the_stream() -> None:
    assert not _parse({"messages": HELLO}).stream
    assert _parse({"messages": HELLO}, operation="converse-stream").stream


def test_max_tokens_and_the_system_prompt_are_read() -> None:
    plain = _parse({"messages": HELLO})
    req = _parse({"messages": HELLO, "system": [{"text": "Be brief."}], "inferenceConfig": {"maxTokens": 7}})
    assert req.max_tokens == 7
    assert req.input_tokens > plain.input_tokens


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Value null at 'messages' failed to satisfy constraint: Member must not be null"),
        ({"messages": HELLO, "inferenceConfig": {"maxTokens": 0}}, "at 'inferenceConfig.maxTokens'"),
        ({"messages": HELLO, "inferenceConfig": {"temperature": 1.5}}, "at 'inferenceConfig.temperature'"),
        ({"messages": [{"role": "robot", "content": []}]}, "at 'messages.1.member.role'"),
        ({"messages": [{"role": "user"}]}, "at 'messages.1.member.content'"),
        ({"messages": HELLO, "inferenceConfig": {"maxTokens": 999_999}}, "exceeds the model limit of 64000"),
        (
            {"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]},
            "must start with a user message",
        ),
        ({"messages": HELLO, "toolConfig": {"tools": [{"toolSpec": {}}]}}, "toolConfig.tools.1.member"),
        ({"messages": HELLO, "toolConfig": {**WEATHER, "toolChoice": {"tool": {"name": "x"}}}}, "toolChoice"),
        ({"messages": HELLO, "inferenceConfig": 5}, "at 'inferenceConfig' failed"),
        ({"messages": HELLO, "toolConfig": "weather"}, "at 'toolConfig' failed"),
        ({"messages": HELLO, "toolConfig": {**WEATHER, "toolChoice": "auto"}}, "at 'toolConfig.toolChoice'"),
        ({"messages": HELLO, "outputConfig": {"textFormat": {"structure": 1}}}, "textFormat.structure'"),
        (
            {"messages": HELLO, "outputConfig": {"textFormat": {"type": "json_schema"}}},
            "outputConfig.textFormat",
        ),
        (
            {"messages": HELLO, "toolConfig": {"tools": [{"toolSpec": {"name": "w", "inputSchema": []}}]}},
            "toolSpec.inputSchema'",
        ),
    ],
)
def test_a_bad_field_is_refused_naming_it(body: dict[str, Any], words: str) -> None:
    error = _refusal(body)
    assert error.status == 400
    assert words in error.message


@pytest.mark.parametrize(
    ("choice", "expected"),
    [(None, "auto"), ({"any": {}}, "required"), ({"tool": {"name": "weather"}}, "weather")],
)
def test_tool_choice_is_read(choice: dict[str, Any] | None, expected: str) -> None:
    config = {**WEATHER, "toolChoice": choice} if choice else WEATHER
    req = _parse({"messages": HELLO, "toolConfig": config})
    assert [t.name for t in req.tools] == ["weather"]
    assert req.tool_choice == expected


def test_a_tool_result_turn_is_an_answer_to_a_tool() -> None:
    messages = [
        *HELLO,
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "weather", "input": {}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"c": 21}}]}}]},
    ]
    req = _parse({"messages": messages, "toolConfig": WEATHER})
    assert req.after_tool_result
    assert req.last_text == '{"c":21}'


def test_structured_output_reads_the_schema_string() -> None:
    fmt = {"type": "json_schema", "structure": {"jsonSchema": {"schema": '{"type": "object"}', "name": "x"}}}
    req = _parse({"messages": HELLO, "outputConfig": {"textFormat": fmt}})
    assert (req.output, req.output_schema) == ("json_schema", {"type": "object"})


@pytest.mark.parametrize(
    ("headers", "count"),
    [
        ({"amz-sdk-request": "attempt=1; max=3"}, 0),
        ({"amz-sdk-request": "ttl=20261207T172852Z; attempt=3; max=3"}, 2),
        ({"amz-sdk-request": "max=3"}, None),
        ({}, None),
    ],
)
def test_the_sdk_attempt_header_gives_the_retry_count(headers: dict[str, str], count: int | None) -> None:
    assert CONVERSE.sdk_retry_count(headers) == count


def test_the_key_is_the_sigv4_access_key_id_or_a_bearer_api_key() -> None:
    sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/bedrock/aws4_request, Signature=ab"
    assert CONVERSE.api_key({"authorization": sigv4}) == "AKIDEXAMPLE"
    assert CONVERSE.api_key({"authorization": "Bearer bedrock-api-key"}) == "bedrock-api-key"
