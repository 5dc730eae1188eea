"""`http_error`: a 5xx in each provider's own error shape; 529 is Anthropic's overloaded."""

from __future__ import annotations

import pydantic
import pytest

from fakeprovider.errors import ProviderError
from tests.fakeprovider.faults.conftest import CLAUDE, GPT, context, fault, request
from tests.fakeprovider.wire import Rendered


def _answer(model_id: str, **params: object) -> Rendered:
    req = request(model_id)
    err = fault("http_error", **params).answer(context(req))
    assert isinstance(err, ProviderError)
    return Rendered(err, req.api)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_error_answers_a_server_error_with_its_status(status: int) -> None:
    err = _answer(GPT, status=status)
    assert err.status == status
    assert err.openai_body()["error"]["type"] == "server_error"
    assert err.anthropic_body() == {"type": "error", "error": {"type": "api_error", "message": err.message}}


def test_http_error_529_is_overloaded_in_both_shapes() -> None:
    err = _answer(CLAUDE, status=529)
    assert err.status == 529
    assert err.kind == "overloaded"
    assert err.anthropic_body()["error"]["type"] == "overloaded_error"
    assert err.openai_body()["error"]["type"] == "server_error"


def test_http_error_defaults_to_503() -> None:
    assert _answer(GPT).status == 503


def test_http_error_uses_the_given_message() -> None:
    err = _answer(CLAUDE, status=502, message="upstream fell over")
    assert err.anthropic_body()["error"]["message"] == "upstream fell over"
    assert err.openai_body()["error"]["message"] == "upstream fell over"


def test_http_error_has_a_default_message_for_every_status() -> None:
    for status in (500, 502, 503, 504, 529):
        assert _answer(GPT, status=status).message


def test_http_error_answers_before_any_plan() -> None:
    # An answer replaces the plan, so `transform` never gets to change anything.
    kind = fault("http_error", status=500)
    assert kind.applies(context(request()))
    assert kind.answer(context(request())) is not None


@pytest.mark.parametrize("status", [400, 429, 501, 599, "503"])
def test_http_error_refuses_other_statuses(status: object) -> None:
    with pytest.raises(pydantic.ValidationError, match="status"):
        fault("http_error", status=status)
