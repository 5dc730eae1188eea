"""`context_length` end to end: the SDKs raise their 400 as for a prompt that does not fit."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.fakeprovider.e2e import chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")


@pytest.mark.parametrize("stream", [False, True])
def test_context_length_is_a_bad_request_with_its_code_in_openai_sdk(stream: bool) -> None:
    with serve(faults({"name": "too-long", "fault": {"kind": "context_length"}})) as s:
        with pytest.raises(openai.BadRequestError) as info:
            chat(s.openai(), stream=stream)
        err = info.value
        assert err.status_code == 400
        assert err.code == "context_length_exceeded"
        assert err.type == "invalid_request_error"
        assert err.param == "messages"
        assert "maximum context length is 128000 tokens" in err.message
        r = s.last()
        assert (r.status, r.outcome) == (400, "error")
        assert r.fault == {"rule": "too-long", "kind": "context_length"}
        assert r.input_tokens > 0


@pytest.mark.parametrize("stream", [False, True])
def test_context_length_is_prompt_too_long_in_anthropic_sdk(stream: bool) -> None:
    with serve(faults({"name": "too-long", "fault": {"kind": "context_length"}})) as s:
        with pytest.raises(anthropic.BadRequestError) as info:
            message(s.anthropic(), stream=stream)
        err = info.value
        assert err.type == "invalid_request_error"
        assert (err.api_message or "").startswith("prompt is too long: ")
        assert err.response.headers["x-should-retry"] == "false"
        r = s.last()
        assert (r.status, r.outcome) == (400, "error")


def test_context_length_is_not_retried_by_the_sdk() -> None:
    with serve(faults({"kind": "context_length"})) as s:
        with pytest.raises(openai.BadRequestError):
            chat(s.openai(max_retries=2))
        with pytest.raises(anthropic.BadRequestError):
            message(s.anthropic(max_retries=2))
        assert len(s.records(2)) == 2
