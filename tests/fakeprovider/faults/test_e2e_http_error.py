"""`http_error` end to end: each 5xx through the real server, raised by the official SDKs."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.fakeprovider.e2e import chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

STATUSES = [500, 502, 503, 504, 529]

# What anthropic raises per status (classes newer SDKs added fall back to their base class).
ANTHROPIC_CLASS: dict[int, type[anthropic.APIStatusError]] = {
    500: anthropic.InternalServerError,
    502: anthropic.InternalServerError,
    503: getattr(anthropic, "ServiceUnavailableError", anthropic.InternalServerError),
    504: getattr(anthropic, "GatewayTimeoutError", anthropic.InternalServerError),
    529: getattr(anthropic, "OverloadedError", anthropic.InternalServerError),
}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", STATUSES)
def test_http_error_raises_internal_server_error_in_openai_sdk(status: int, stream: bool) -> None:
    with serve(faults({"name": "outage", "fault": {"kind": "http_error", "status": status}})) as s:
        with pytest.raises(openai.InternalServerError) as info:
            chat(s.openai(), stream=stream)
        assert info.value.status_code == status
        body = info.value.body
        assert isinstance(body, dict)
        assert body["type"] == "server_error"
        assert body["message"]
        r = s.last()
        assert (r.status, r.outcome, r.stream) == (status, "error", stream)
        assert r.fault == {"rule": "outage", "kind": "http_error"}
        assert (r.output_tokens, r.cost_usd) == (0, 0.0)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", STATUSES)
def test_http_error_raises_the_status_class_in_anthropic_sdk(status: int, stream: bool) -> None:
    with serve(faults({"name": "outage", "fault": {"kind": "http_error", "status": status}})) as s:
        with pytest.raises(anthropic.APIStatusError) as info:
            message(s.anthropic(), stream=stream)
        assert type(info.value) is ANTHROPIC_CLASS[status]
        assert info.value.status_code == status
        expected_type = "overloaded_error" if status == 529 else "api_error"
        assert info.value.body == {
            "type": "error",
            "error": {"type": expected_type, "message": info.value.body["error"]["message"]},  # type: ignore[index]
        }
        assert info.value.request_id == s.last().request_id
        r = s.last()
        assert (r.status, r.outcome, r.api) == (status, "error", "anthropic.messages")
        assert r.fault == {"rule": "outage", "kind": "http_error"}


def test_http_error_message_is_the_configured_one() -> None:
    rule = {"fault": {"kind": "http_error", "status": 502, "message": "upstream fell over"}}
    with serve(faults(rule)) as s:
        with pytest.raises(openai.InternalServerError, match="upstream fell over"):
            chat(s.openai())
        with pytest.raises(anthropic.InternalServerError, match="upstream fell over"):
            message(s.anthropic())
        assert [r.fault for r in s.records(2)] == [{"rule": "http_error-1", "kind": "http_error"}] * 2


@pytest.mark.usefixtures("fast_retries")
def test_http_error_is_retried_by_both_sdks_and_every_attempt_recorded() -> None:
    with serve(faults({"kind": "http_error", "status": 503})) as s:
        with pytest.raises(openai.InternalServerError):
            chat(s.openai(max_retries=2))
        with pytest.raises(anthropic.InternalServerError):
            message(s.anthropic(max_retries=2))
        recs = s.records(6)
        assert [(r.api, r.attempt, r.sdk_retry_count, r.status) for r in recs] == [
            (api, n + 1, n, 503) for api in ("openai.chat", "anthropic.messages") for n in range(3)
        ]
