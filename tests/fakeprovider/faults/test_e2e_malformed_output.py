"""`malformed_output` end to end: structured output the SDKs' parse helpers reject, or nothing."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from tests.fakeprovider.e2e import CLAUDE, GPT, chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

ASK: list[Any] = [{"role": "user", "content": "Rate this film."}]


class Review(pydantic.BaseModel):
    title: str
    score: int


def _rule(mode: str) -> dict[str, Any]:
    return faults({"name": "bad-output", "fault": {"kind": "malformed_output", "mode": mode}})


def _errors(e: pydantic.ValidationError) -> set[str]:
    return {err["type"] for err in e.errors()}


def test_malformed_output_invalid_json_fails_openai_parse_as_invalid_json() -> None:
    with serve(_rule("invalid_json")) as s:
        with pytest.raises(pydantic.ValidationError) as info:
            s.openai().chat.completions.parse(model=GPT, messages=ASK, response_format=Review)
        assert _errors(info.value) == {"json_invalid"}
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "ok", "stop")
        assert r.fault == {"rule": "bad-output", "kind": "malformed_output"}


def test_malformed_output_invalid_json_fails_the_openai_stream_helper() -> None:
    with serve(_rule("invalid_json")) as s:
        client = s.openai()
        # The helper parses the content as it grows (jiter), and raises its plain ValueError.
        with (
            pytest.raises(ValueError, match="key must be a string"),
            client.chat.completions.stream(model=GPT, messages=ASK, response_format=Review) as st,
        ):
            st.get_final_completion()


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_output_schema_violation_fails_openai_parse_validation(stream: bool) -> None:
    with serve(_rule("schema_violation")) as s:
        client = s.openai()

        def ask() -> None:
            if stream:
                with client.chat.completions.stream(model=GPT, messages=ASK, response_format=Review) as st:
                    st.get_final_completion()
            else:
                client.chat.completions.parse(model=GPT, messages=ASK, response_format=Review)

        with pytest.raises(pydantic.ValidationError) as info:
            ask()
        assert _errors(info.value) <= {"missing", "int_parsing", "string_type", "int_type"}
        # Valid JSON all the same.
        assert s.last().output_tokens > 0


@pytest.mark.parametrize("mode", ["invalid_json", "schema_violation"])
def test_malformed_output_fails_anthropic_parse(mode: str) -> None:
    with serve(_rule(mode)) as s:
        with pytest.raises(pydantic.ValidationError) as info:
            s.anthropic().messages.parse(model=CLAUDE, max_tokens=256, messages=ASK, output_format=Review)
        assert (_errors(info.value) == {"json_invalid"}) == (mode == "invalid_json")
        assert s.last().fault == {"rule": "bad-output", "kind": "malformed_output"}


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_output_json_object_is_not_a_json_object(stream: bool) -> None:
    for mode in ("invalid_json", "schema_violation"):
        with serve(_rule(mode)) as s:
            fmt = {"type": "json_object"}
            if stream:
                chunks = chat(s.openai(), stream=True, messages=ASK, response_format=fmt)
                content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            else:
                content = chat(s.openai(), messages=ASK, response_format=fmt).choices[0].message.content
            if mode == "invalid_json":
                with pytest.raises(json.JSONDecodeError):
                    json.loads(content)
            else:
                assert not isinstance(json.loads(content), dict)


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_output_empty_gives_empty_content(stream: bool) -> None:
    with serve(_rule("empty")) as s:
        if stream:
            chunks = chat(s.openai(), stream=True, messages=ASK)
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""
            events = message(s.anthropic(), stream=True, messages=ASK)
            assert [e for e in events if e.type == "content_block_delta"] == []
        else:
            reply = chat(s.openai(), messages=ASK)
            assert reply.choices[0].message.content == ""
            assert reply.usage.completion_tokens == 0
            answer = message(s.anthropic(), messages=ASK)
            assert "".join(b.text for b in answer.content if b.type == "text") == ""
            assert answer.usage.output_tokens == 0
        for r in s.records(2):
            assert (r.status, r.outcome, r.output_tokens) == (200, "ok", 0)
            assert r.fault == {"rule": "bad-output", "kind": "malformed_output"}


def test_malformed_output_empty_leaves_openai_parse_without_a_parsed_value() -> None:
    with serve(_rule("empty")) as s:
        reply = s.openai().chat.completions.parse(model=GPT, messages=ASK, response_format=Review)
        assert reply.choices[0].message.content == ""
        assert reply.choices[0].message.parsed is None


def test_malformed_output_other_modes_leave_plain_text_answers_alone() -> None:
    with serve(_rule("invalid_json")) as s:
        assert chat(s.openai(), messages=ASK).choices[0].message.content
        assert s.last().fault is None
