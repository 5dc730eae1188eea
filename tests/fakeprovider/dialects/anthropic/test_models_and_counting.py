"""Anthropic model ids as strict as the API's, and `messages.count_tokens`, through the SDK."""

from __future__ import annotations

import typing
from typing import Any

import anthropic
import pytest
from anthropic.types.model_param import ModelParam

from fakeprovider import FakeProviderThread

# Every id the installed SDK names (its ModelParam literal), whatever the release.
SDK_MODEL_IDS = typing.get_args(typing.get_args(ModelParam)[0])
# Dated and aliased ids of known families, as Anthropic has published them.
DATED_IDS = (
    "claude-3-5-sonnet-20241022",
    "claude-3-5-sonnet-latest",
    "claude-3-7-sonnet-20250219",
    "claude-3-5-haiku-20241022",
    "claude-3-haiku-20240307",
    "claude-3-opus-20240229",
    "claude-sonnet-4-20250514",
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
)
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


def test_the_sdk_names_some_models() -> None:
    assert len(SDK_MODEL_IDS) >= 5


# The SDK warns about the deprecated ones it knows: still served until Anthropic retires them.
@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
@pytest.mark.parametrize("model", [*SDK_MODEL_IDS, *DATED_IDS])
def test_every_known_model_id_is_answered(anthropic_client: anthropic.Anthropic, model: str) -> None:
    message = anthropic_client.messages.create(model=model, max_tokens=5, messages=MESSAGES)
    assert message.model == model


@pytest.mark.parametrize(
    "model", ["claude-nope", "claude-3-opus-nonsense", "claude-sonnet-4-5-turbo", "claude-2.1", "gpt-4o"]
)
def test_an_unknown_model_id_is_the_apis_404(anthropic_client: anthropic.Anthropic, model: str) -> None:
    with pytest.raises(anthropic.NotFoundError) as e:
        anthropic_client.messages.create(model=model, max_tokens=5, messages=MESSAGES)
    assert e.value.status_code == 404
    assert isinstance(e.value.body, dict)
    assert e.value.body["error"]["type"] == "not_found_error"
    assert model in e.value.body["error"]["message"]


def test_count_tokens_is_what_the_call_bills(
    provider: FakeProviderThread, anthropic_client: anthropic.Anthropic
) -> None:
    kw: dict[str, Any] = {
        "model": "claude-sonnet-4",
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "Summarise the handbook in one line, please."}],
        "tools": [
            {
                "name": "lookup",
                "description": "look a rule up",
                "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
            }
        ],
    }
    counted = anthropic_client.messages.count_tokens(**kw)
    assert provider.state.ledger.records() == []  # counting is not a model call
    message = anthropic_client.messages.create(max_tokens=5, **kw)
    assert counted.input_tokens == message.usage.input_tokens > 20


def test_count_tokens_refuses_what_messages_refuses(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.count_tokens(model="claude-nope", messages=MESSAGES)
    with pytest.raises(anthropic.BadRequestError) as e:
        anthropic_client.messages.count_tokens(model="claude-sonnet-4", messages=[])
    assert e.value.status_code == 400
    assert isinstance(e.value.body, dict)
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "invalid_request_error"
