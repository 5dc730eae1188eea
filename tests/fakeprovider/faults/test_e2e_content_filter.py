"""`content_filter` end to end: the answer stops early with the provider's filter reason."""

from __future__ import annotations

import openai
import pydantic
import pytest

from tests.fakeprovider.e2e import chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")


@pytest.mark.parametrize("stream", [False, True])
def test_content_filter_finishes_openai_answers_with_content_filter(stream: bool) -> None:
    with serve(faults({"name": "filter", "fault": {"kind": "content_filter"}})) as s:
        if stream:
            chunks = chat(s.openai(), stream=True, stream_options={"include_usage": True})
            finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            assert finish == ["content_filter"]
            completion_tokens = chunks[-1].usage.completion_tokens
        else:
            reply = chat(s.openai())
            assert reply.choices[0].finish_reason == "content_filter"
            completion_tokens = reply.usage.completion_tokens
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "ok", "content_filter")
        assert r.fault == {"rule": "filter", "kind": "content_filter"}
        assert r.output_tokens == completion_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_content_filter_stops_anthropic_answers_with_refusal(stream: bool) -> None:
    with serve(faults({"kind": "content_filter"})) as s:
        client = s.anthropic()
        if stream:
            with client.messages.stream(
                model="claude-sonnet-4", max_tokens=256, messages=[{"role": "user", "content": "hi"}]
            ) as st:
                reply = st.get_final_message()
        else:
            reply = message(client)
        assert reply.stop_reason == "refusal"
        assert s.last().finish_reason == "content_filter"
        assert s.last().output_tokens == reply.usage.output_tokens


def test_content_filter_makes_openai_parse_raise_its_finish_reason_error() -> None:
    class Answer(pydantic.BaseModel):
        title: str

    with serve(faults({"kind": "content_filter"})) as s, pytest.raises(openai.ContentFilterFinishReasonError):
        s.openai().chat.completions.parse(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], response_format=Answer
        )
