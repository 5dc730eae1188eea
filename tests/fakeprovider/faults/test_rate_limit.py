"""`rate_limit`: 429 with retry-after in seconds, milliseconds, as an HTTP date, or none at all."""

from __future__ import annotations

import email.utils
import time

import pydantic
import pytest

from fakeprovider.errors import ProviderError
from tests.fakeprovider.faults.conftest import CLAUDE, GPT, context, fault, request
from tests.fakeprovider.wire import Rendered


def _answer(model_id: str, **params: object) -> Rendered:
    req = request(model_id)
    err = fault("rate_limit", **params).answer(context(req))
    assert isinstance(err, ProviderError)
    assert err.status == 429
    return Rendered(err, req.api)


def test_rate_limit_seconds_sets_retry_after_and_retry_after_ms_on_openai() -> None:
    err = _answer(GPT, retry_after_s=2)
    assert err.headers == {"retry-after": "2", "retry-after-ms": "2000"}


def test_rate_limit_fractional_seconds_keep_their_fraction() -> None:
    err = _answer(GPT, retry_after_s=1.5)
    assert err.headers == {"retry-after": "1.5", "retry-after-ms": "1500"}


def test_rate_limit_seconds_sets_only_retry_after_on_anthropic() -> None:
    err = _answer(CLAUDE, retry_after_s=7)
    assert err.headers == {"retry-after": "7"}


def test_rate_limit_ms_sets_only_retry_after_ms_on_openai() -> None:
    err = _answer(GPT, retry_after_ms=250)
    assert err.headers == {"retry-after-ms": "250"}


def test_rate_limit_ms_rounds_up_to_whole_seconds_on_anthropic() -> None:
    assert _answer(CLAUDE, retry_after_ms=250).headers == {"retry-after": "1"}
    assert _answer(CLAUDE, retry_after_ms=2001).headers == {"retry-after": "3"}


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
def test_rate_limit_date_is_an_http_date_the_given_seconds_ahead(model_id: str) -> None:
    before = time.time()
    err = _answer(model_id, retry_after_date=True, retry_after_s=30)
    assert set(err.headers) == {"retry-after"}
    when = email.utils.parsedate_to_datetime(err.headers["retry-after"]).timestamp()
    assert before + 30 - 1 <= when <= time.time() + 30


def test_rate_limit_date_alone_is_about_a_second_ahead() -> None:
    before = time.time()
    err = _answer(GPT, retry_after_date=True)
    when = email.utils.parsedate_to_datetime(err.headers["retry-after"]).timestamp()
    assert before - 1 <= when <= time.time() + 1


@pytest.mark.parametrize("model_id", [GPT, CLAUDE])
def test_rate_limit_omit_sends_no_retry_header(model_id: str) -> None:
    assert _answer(model_id, omit_retry_after=True).headers == {}


def test_rate_limit_default_is_one_second() -> None:
    assert _answer(GPT).headers == {"retry-after": "1", "retry-after-ms": "1000"}
    assert _answer(CLAUDE).headers == {"retry-after": "1"}


def test_rate_limit_has_the_providers_rate_limit_types() -> None:
    err = _answer(GPT, retry_after_s=1)
    body = err.openai_body()["error"]
    assert body["code"] == "rate_limit_exceeded"
    assert body["type"] == "requests"
    assert "gpt-4o" in body["message"]
    assert _answer(CLAUDE).anthropic_body()["error"]["type"] == "rate_limit_error"


def test_rate_limit_insufficient_quota_has_its_own_code_and_type() -> None:
    err = _answer(GPT, code="insufficient_quota")
    body = err.openai_body()["error"]
    assert body["code"] == "insufficient_quota"
    assert body["type"] == "insufficient_quota"
    assert "quota" in body["message"]


def test_rate_limit_insufficient_quota_is_a_rate_limit_error_on_anthropic() -> None:
    err = _answer(CLAUDE, code="insufficient_quota")
    assert err.anthropic_body()["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize(
    "params",
    [
        {"omit_retry_after": True, "retry_after_s": 2},
        {"omit_retry_after": True, "retry_after_ms": 200},
        {"omit_retry_after": True, "retry_after_date": True},
        {"retry_after_ms": 200, "retry_after_s": 2},
        {"retry_after_ms": 200, "retry_after_date": True},
        {"retry_after_s": -1},
        {"retry_after_ms": -5},
        {"code": "quota_exceeded"},
    ],
)
def test_rate_limit_refuses_contradictory_or_out_of_range_params(params: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        fault("rate_limit", **params)


def test_rate_limit_validation_error_names_the_conflict() -> None:
    with pytest.raises(pydantic.ValidationError, match="omit_retry_after excludes"):
        fault("rate_limit", omit_retry_after=True, retry_after_s=2)
