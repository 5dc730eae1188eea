"""Sampling and shape parameters are checked as the real APIs check them: the tables alone (no
sockets), then each bad value through the official SDKs, answered 400 and recorded as such."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.dialects.anthropic.params import MESSAGES
from fakeprovider.dialects.anthropic.wire import anthropic_error_json
from fakeprovider.dialects.openai_params import CHAT, EMBEDDINGS, check_params
from fakeprovider.dialects.openai_wire import openai_error_json
from fakeprovider.errors import ProviderError
from tests.conftest import wait_for_record
from tests.fakeprovider.dialects.conftest import CLAUDE

HI: list[Any] = [{"role": "user", "content": "hi"}]

OPENAI_BAD = [
    pytest.param({"temperature": 2.5}, "temperature", "decimal_above_max_value", id="temperature-above"),
    pytest.param({"temperature": -0.1}, "temperature", "decimal_below_min_value", id="temperature-below"),
    pytest.param({"temperature": "hot"}, "temperature", "invalid_type", id="temperature-a-string"),
    pytest.param({"top_p": 1.5}, "top_p", "decimal_above_max_value", id="top-p-above"),
    pytest.param({"presence_penalty": -3}, "presence_penalty", "decimal_below_min_value", id="presence"),
    pytest.param({"frequency_penalty": 2.01}, "frequency_penalty", "decimal_above_max_value", id="frequency"),
    pytest.param({"n": 0}, "n", "integer_below_min_value", id="n-zero"),
    pytest.param({"logprobs": "yes"}, "logprobs", "invalid_type", id="logprobs-a-string"),
    pytest.param({"stream": "yes"}, "stream", "invalid_type", id="stream-a-string"),
    pytest.param({"seed": 1.5}, "seed", "invalid_type", id="seed-a-decimal"),
    pytest.param({"stop": 7}, "stop", "invalid_type", id="stop-a-number"),
    pytest.param({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length", id="stop-five"),
    pytest.param({"stop": ["a", 1]}, "stop[1]", "invalid_type", id="stop-item-a-number"),
    pytest.param({"logit_bias": "none"}, "logit_bias", "invalid_type", id="logit-bias-a-string"),
]
# Checked by the request reader, which also reads the cap (`common.positive_int`).
CAPS_BAD = [
    pytest.param({"max_tokens": 0}, "max_tokens", "integer_below_min_value", id="max-tokens-zero"),
    pytest.param(
        {"max_completion_tokens": -1}, "max_completion_tokens", "integer_below_min_value", id="max-completion"
    ),
]


def refusal(body: dict[str, Any], table: Any) -> ProviderError:
    with pytest.raises(ProviderError) as err:
        check_params(body, table)
    assert err.value.status == 400
    return err.value


@pytest.mark.parametrize(("patch", "param", "code"), OPENAI_BAD)
def test_openai_table_refuses_bad_value_naming_param(patch: dict[str, Any], param: str, code: str) -> None:
    error = refusal(patch, CHAT)
    assert (error.param, error.code) == (param, code)
    assert openai_error_json(error)["error"]["type"] == "invalid_request_error"


def test_openai_wording_is_the_apis() -> None:
    assert refusal({"temperature": 3}, CHAT).message == (
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."
    )
    assert refusal({"logprobs": "yes"}, CHAT).message == (
        "Invalid type for 'logprobs': expected a boolean, but got a string instead."
    )
    assert refusal({"n": 0}, CHAT).message == (
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."
    )


@pytest.mark.parametrize(
    "body",
    [
        {"temperature": 0, "top_p": 1, "presence_penalty": -2, "frequency_penalty": 2, "n": 1},
        {"temperature": 2.0, "seed": -5, "logprobs": True, "top_logprobs": 20, "stop": ["a", "b"]},
        {"stop": "\n", "logit_bias": {"50256": -100}, "temperature": None, "user": "u1"},
        {"model": "gpt-4o", "messages": HI, "max_tokens": 5},
    ],
)
def test_openai_table_passes_values_in_range_and_nulls(body: dict[str, Any]) -> None:
    check_params(body, CHAT)


def test_embeddings_table_checks_dimensions_and_format() -> None:
    assert refusal({"dimensions": 0}, EMBEDDINGS).param == "dimensions"
    assert refusal({"encoding_format": "int8"}, EMBEDDINGS).message == (
        "Invalid value: 'int8'. Supported values are: 'float' and 'base64'."
    )
    check_params({"dimensions": 256, "encoding_format": "base64"}, EMBEDDINGS)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"temperature": 1.5}, "temperature: range: 0..1"),
        ({"temperature": "hot"}, "temperature: Input should be a valid number"),
        ({"top_p": -0.5}, "top_p: range: 0..1"),
        ({"top_k": -1}, "top_k: Input should be greater than or equal to 0"),
        ({"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
        ({"stream": "yes"}, "stream: Input should be a valid boolean"),
        ({"stop_sequences": "END"}, "stop_sequences: Input should be a valid list"),
    ],
)
def test_anthropic_table_refuses_in_anthropic_words(patch: dict[str, Any], message: str) -> None:
    error = refusal(patch, MESSAGES)
    assert error.message == message
    assert anthropic_error_json(error) == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
    }


def test_anthropic_table_passes_its_ranges() -> None:
    check_params(
        {"temperature": 1, "top_p": 0.9, "top_k": 0, "max_tokens": 1, "stop_sequences": ["x"]}, MESSAGES
    )


# --- through the official SDKs ---------------------------------------------------------------


@pytest.mark.parametrize(("patch", "param", "code"), OPENAI_BAD + CAPS_BAD)
def test_openai_sdk_raises_bad_request_naming_param(
    provider: FakeProviderThread, openai_client: openai.OpenAI, patch: dict[str, Any], param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        # extra_body: the SDK's types would refuse some of these values before sending
        openai_client.chat.completions.create(model="gpt-4o", messages=HI, extra_body=patch)
    assert err.value.status_code == 400
    assert (err.value.type, err.value.param, err.value.code) == ("invalid_request_error", param, code)
    record = wait_for_record(provider)
    assert (record.status, record.outcome) == (400, "error")


def test_openai_sdk_embeddings_refuse_bad_dimensions(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.embeddings.create(model="text-embedding-3-small", input="hi", dimensions=0)
    assert err.value.param == "dimensions"
    assert wait_for_record(provider).status == 400


@pytest.mark.parametrize(
    "patch",
    [{"temperature": 1.5}, {"top_p": 2}, {"top_k": -1}, {"temperature": "hot"}],
    ids=["temperature", "top-p", "top-k", "temperature-a-string"],
)
def test_anthropic_sdk_raises_bad_request_naming_field(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic, patch: dict[str, Any]
) -> None:
    with pytest.raises(anthropic.BadRequestError) as err:
        anthropic_client.messages.create(model=CLAUDE, max_tokens=16, messages=HI, extra_body=patch)
    assert err.value.status_code == 400
    assert isinstance(err.value.body, dict)
    assert err.value.body["error"]["type"] == "invalid_request_error"
    assert err.value.body["error"]["message"].startswith(next(iter(patch)) + ":")
    assert wait_for_record(provider).status == 400
