"""`connection_reset` end to end: a TCP reset before any byte, a connection error in both SDKs."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.fakeprovider.e2e import caused_by, chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")


@pytest.mark.parametrize("stream", [False, True])
def test_connection_reset_is_an_api_connection_error_in_openai_sdk(stream: bool) -> None:
    with serve(faults({"name": "rst", "fault": {"kind": "connection_reset"}})) as s:
        with pytest.raises(openai.APIConnectionError) as info:
            chat(s.openai(), stream=stream)
        assert not isinstance(info.value, openai.APITimeoutError)
        assert caused_by(info.value, ConnectionResetError)
        r = s.last()
        assert (r.status, r.outcome, r.stream) == (0, "reset", stream)
        assert r.fault == {"rule": "rst", "kind": "connection_reset"}
        assert (r.output_tokens, r.cost_usd, r.ttft_ms) == (0, 0.0, None)


@pytest.mark.parametrize("stream", [False, True])
def test_connection_reset_is_an_api_connection_error_in_anthropic_sdk(stream: bool) -> None:
    with serve(faults({"name": "rst", "fault": {"kind": "connection_reset"}})) as s:
        with pytest.raises(anthropic.APIConnectionError) as info:
            message(s.anthropic(), stream=stream)
        assert not isinstance(info.value, anthropic.APITimeoutError)
        assert caused_by(info.value, ConnectionResetError)
        r = s.last()
        assert (r.status, r.outcome, r.api) == (0, "reset", "anthropic.messages")


@pytest.mark.usefixtures("fast_retries")
def test_connection_reset_is_retried_by_the_sdk() -> None:
    rule = {"first_attempts": 1, "fault": {"kind": "connection_reset"}}
    with serve(faults(rule)) as s:
        reply = chat(s.openai(max_retries=1))
        assert reply.choices[0].message.content
        recs = s.records(2)
        assert [(r.attempt, r.sdk_retry_count, r.outcome, r.status) for r in recs] == [
            (1, 0, "reset", 0),
            (2, 1, "ok", 200),
        ]
