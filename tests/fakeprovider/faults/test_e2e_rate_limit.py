"""`rate_limit` end to end: 429s the SDKs raise and retry, with retry-after as configured."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import anthropic
import openai
import pytest

from tests.fakeprovider.e2e import chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")


def _openai_429(params: dict[str, Any], stream: bool = False) -> openai.RateLimitError:
    with serve(faults({"name": "throttle", "fault": {"kind": "rate_limit", **params}})) as s:
        with pytest.raises(openai.RateLimitError) as info:
            chat(s.openai(), stream=stream)
        r = s.last()
        assert (r.status, r.outcome, r.stream) == (429, "error", stream)
        assert r.fault == {"rule": "throttle", "kind": "rate_limit"}
        return info.value


def _anthropic_429(params: dict[str, Any], stream: bool = False) -> anthropic.RateLimitError:
    with serve(faults({"name": "throttle", "fault": {"kind": "rate_limit", **params}})) as s:
        with pytest.raises(anthropic.RateLimitError) as info:
            message(s.anthropic(), stream=stream)
        r = s.last()
        assert (r.status, r.outcome, r.stream) == (429, "error", stream)
        assert r.fault == {"rule": "throttle", "kind": "rate_limit"}
        return info.value


@pytest.mark.parametrize("stream", [False, True])
def test_rate_limit_is_a_rate_limit_error_with_both_retry_headers_in_openai_sdk(stream: bool) -> None:
    err = _openai_429({"retry_after_s": 2}, stream)
    assert err.status_code == 429
    assert err.code == "rate_limit_exceeded"
    assert err.type == "requests"
    assert err.response.headers["retry-after"] == "2"
    assert err.response.headers["retry-after-ms"] == "2000"


@pytest.mark.parametrize("stream", [False, True])
def test_rate_limit_is_a_rate_limit_error_with_retry_after_in_anthropic_sdk(stream: bool) -> None:
    err = _anthropic_429({"retry_after_s": 2}, stream)
    assert err.status_code == 429
    assert err.body == {"type": "error", "error": {"type": "rate_limit_error", "message": err.api_message}}
    assert err.response.headers["retry-after"] == "2"
    assert "retry-after-ms" not in err.response.headers
    assert err.response.headers["x-should-retry"] == "true"


def test_rate_limit_ms_sends_retry_after_ms_alone_to_openai() -> None:
    headers = _openai_429({"retry_after_ms": 250}).response.headers
    assert headers["retry-after-ms"] == "250"
    assert "retry-after" not in headers


def test_rate_limit_ms_sends_whole_seconds_to_anthropic() -> None:
    headers = _anthropic_429({"retry_after_ms": 250}).response.headers
    assert headers["retry-after"] == "1"
    assert "retry-after-ms" not in headers


def test_rate_limit_fractional_seconds_are_whole_seconds_on_anthropic() -> None:
    assert _anthropic_429({"retry_after_s": 1.2}).response.headers["retry-after"] == "2"


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_rate_limit_date_is_an_http_date_ahead(api: str) -> None:
    before = time.time()
    err = _openai_429 if api == "openai" else _anthropic_429
    headers = err({"retry_after_date": True, "retry_after_s": 30}).response.headers
    when = email.utils.parsedate_to_datetime(headers["retry-after"]).timestamp()
    assert before + 29 <= when <= time.time() + 30
    assert "retry-after-ms" not in headers


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_rate_limit_omit_sends_no_retry_header(api: str) -> None:
    err = _openai_429 if api == "openai" else _anthropic_429
    headers = err({"omit_retry_after": True}).response.headers
    assert "retry-after" not in headers
    assert "retry-after-ms" not in headers


def test_rate_limit_insufficient_quota_code_reaches_the_openai_caller() -> None:
    err = _openai_429({"code": "insufficient_quota"})
    assert err.code == "insufficient_quota"
    assert err.type == "insufficient_quota"
    assert "quota" in err.message


def test_rate_limit_insufficient_quota_is_a_rate_limit_error_in_anthropic_sdk() -> None:
    err = _anthropic_429({"code": "insufficient_quota"})
    assert err.type == "rate_limit_error"
    assert "quota" in (err.api_message or "")


def test_openai_sdk_retries_honouring_retry_after_ms() -> None:
    with serve(faults({"name": "throttle", "fault": {"kind": "rate_limit", "retry_after_ms": 10}})) as s:
        started = time.monotonic()
        with pytest.raises(openai.RateLimitError):
            chat(s.openai(max_retries=2), extra_headers={"X-Request-Id": "req-throttled"})
        assert time.monotonic() - started < 2  # 10 ms waits, not the SDK's own 0.5 s back-off
        recs = s.records(3)
        assert [(r.request_id, r.attempt, r.sdk_retry_count, r.status) for r in recs] == [
            ("req-throttled", 1, 0, 429),
            ("req-throttled", 2, 1, 429),
            ("req-throttled", 3, 2, 429),
        ]
        assert all(r.fault == {"rule": "throttle", "kind": "rate_limit"} for r in recs)


@pytest.mark.usefixtures("fast_retries")
def test_anthropic_sdk_retries_a_429() -> None:
    # Anthropic's retry-after is whole seconds; 0 leaves the (shortened) SDK back-off in charge.
    with serve(faults({"kind": "rate_limit", "retry_after_s": 0})) as s:
        with pytest.raises(anthropic.RateLimitError):
            message(s.anthropic(max_retries=2))
        recs = s.records(3)
        assert [(r.attempt, r.sdk_retry_count, r.status, r.outcome) for r in recs] == [
            (1, 0, 429, "error"),
            (2, 1, 429, "error"),
            (3, 2, 429, "error"),
        ]
        # The same request each time: one fingerprint.
        assert len({r.fingerprint for r in recs}) == 1
