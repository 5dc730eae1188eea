"""`context_length`: a 400 as if the prompt were longer than the model's context window."""

from __future__ import annotations

import pydantic
import pytest

from fakeprovider.errors import ProviderError
from tests.fakeprovider.faults.conftest import CLAUDE, GPT, context, fault, request
from tests.fakeprovider.wire import Rendered


def _answer(model_id: str) -> Rendered:
    req = request(model_id, prompt_tokens=40)
    err = fault("context_length").answer(context(req))
    assert isinstance(err, ProviderError)
    return Rendered(err, req.api)


def test_context_length_is_400_context_length_exceeded_on_openai() -> None:
    err = _answer(GPT)
    assert err.status == 400
    body = err.openai_body()["error"]
    assert body["code"] == "context_length_exceeded"
    assert body["type"] == "invalid_request_error"
    assert body["param"] == "messages"


def test_context_length_message_names_the_window_and_a_larger_count() -> None:
    message = _answer(GPT).message
    assert "128000" in message
    assert "128040" in message


def test_context_length_is_an_invalid_request_on_anthropic() -> None:
    err = _answer(CLAUDE)
    assert err.status == 400
    assert err.anthropic_body()["error"]["type"] == "invalid_request_error"
    assert "prompt is too long" in err.message
    assert "> 200000 maximum" in err.message


def test_context_length_takes_no_params() -> None:
    with pytest.raises(pydantic.ValidationError, match="extra"):
        fault("context_length", tokens=5)
