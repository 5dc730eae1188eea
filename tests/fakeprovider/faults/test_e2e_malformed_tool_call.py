"""`malformed_tool_call` end to end: what the caller's tool loop receives in each mode.

Anthropic's non-streamed `tool_use.input` is a JSON object by the API's own shape, so arguments
that are not JSON (`invalid_json`, `truncated_json`) reach a non-streamed Anthropic caller as
`{}`: an input missing every required field. Streamed, the raw `partial_json` is broken as on
OpenAI, and the SDK's `messages.stream()` helper raises ValueError on the invalid JSON.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import openai
import pydantic
import pytest

from tests.fakeprovider.e2e import CLAUDE, GPT, chat, faults, message, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
OPENAI_TOOLS: list[Any] = [{"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}]
ANTHROPIC_TOOLS: list[Any] = [{"name": "get_weather", "description": "Weather", "input_schema": SCHEMA}]
ASK: list[Any] = [{"role": "user", "content": "Weather in Lisbon for 3 days?"}]
MODES = ["invalid_json", "truncated_json", "unknown_tool", "missing_required", "wrong_type"]


def _rule(mode: str) -> dict[str, Any]:
    return faults({"name": "bad-call", "fault": {"kind": "malformed_tool_call", "mode": mode}})


def _openai_call(s: Any, stream: bool) -> tuple[str, str]:
    """(name, raw arguments) of the one tool call an OpenAI answer makes."""
    client = s.openai()
    if not stream:
        reply = chat(client, messages=ASK, tools=OPENAI_TOOLS)
        assert reply.choices[0].finish_reason == "tool_calls"
        (call,) = reply.choices[0].message.tool_calls
        return call.function.name, call.function.arguments
    name = ""
    args: list[str] = []
    finish = None
    for chunk in chat(client, stream=True, messages=ASK, tools=OPENAI_TOOLS):
        if not chunk.choices:
            continue
        finish = chunk.choices[0].finish_reason or finish
        for call in chunk.choices[0].delta.tool_calls or []:
            assert call.index == 0
            if call.function and call.function.name:
                name = call.function.name
            if call.function and call.function.arguments:
                args.append(call.function.arguments)
    assert finish == "tool_calls"
    return name, "".join(args)


def _anthropic_call(s: Any, stream: bool) -> tuple[str, Any]:
    """(name, input) of the one tool_use an Anthropic answer makes: the input object when not
    streamed, the joined raw `partial_json` when streamed."""
    client = s.anthropic()
    if not stream:
        reply = message(client, messages=ASK, tools=ANTHROPIC_TOOLS)
        assert reply.stop_reason == "tool_use"
        (block,) = [b for b in reply.content if b.type == "tool_use"]
        return block.name, block.input
    name = ""
    parts: list[str] = []
    for event in message(client, stream=True, messages=ASK, tools=ANTHROPIC_TOOLS):
        if event.type == "content_block_start" and event.content_block.type == "tool_use":
            name = event.content_block.name
        elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            parts.append(event.delta.partial_json)
        elif event.type == "message_delta":
            assert event.delta.stop_reason == "tool_use"
    return name, "".join(parts)


def _schema_errors(value: Any) -> set[str]:
    return {e.validator for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(value)}  # type: ignore[misc]


def _check(mode: str, name: str, args: Any) -> None:
    """`args` (raw text, or an object already decoded) is broken the way `mode` says."""
    if mode in ("invalid_json", "truncated_json"):
        assert name == "get_weather"
        if isinstance(args, str):
            with pytest.raises(json.JSONDecodeError):
                json.loads(args)
        else:
            # Anthropic non-streamed: not JSON cannot be an object; the input arrives empty.
            assert args == {}
            assert "required" in _schema_errors(args)
        return
    value = json.loads(args) if isinstance(args, str) else args
    if mode == "unknown_tool":
        assert name != "get_weather"
        assert name.startswith("get_weather")
        assert _schema_errors(value) == set()
    elif mode == "missing_required":
        assert name == "get_weather"
        assert _schema_errors(value) == {"required"}
    else:
        assert name == "get_weather"
        assert "type" in _schema_errors(value)
        assert "required" not in _schema_errors(value)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_malformed_tool_call_reaches_the_openai_caller(mode: str, stream: bool) -> None:
    with serve(_rule(mode)) as s:
        name, args = _openai_call(s, stream)
        _check(mode, name, args)
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "ok", "tool_calls")
        assert r.fault == {"rule": "bad-call", "kind": "malformed_tool_call"}
        assert r.output_tokens > 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_malformed_tool_call_reaches_the_anthropic_caller(mode: str, stream: bool) -> None:
    with serve(_rule(mode)) as s:
        name, args = _anthropic_call(s, stream)
        _check(mode, name, args)
        r = s.last()
        assert (r.status, r.outcome, r.finish_reason) == (200, "ok", "tool_calls")
        assert r.fault == {"rule": "bad-call", "kind": "malformed_tool_call"}


def test_malformed_tool_call_invalid_json_makes_the_anthropic_stream_helper_raise() -> None:
    with serve(_rule("invalid_json")) as s:
        client = s.anthropic()
        with (
            pytest.raises(ValueError, match="Unable to parse tool parameter JSON"),
            client.messages.stream(model=CLAUDE, max_tokens=256, messages=ASK, tools=ANTHROPIC_TOOLS) as st,
        ):
            st.until_done()


class Weather(pydantic.BaseModel):
    city: str
    days: int


@pytest.mark.parametrize("mode", ["invalid_json", "truncated_json", "missing_required", "wrong_type"])
def test_malformed_tool_call_makes_openai_parse_raise_a_validation_error(mode: str) -> None:
    with serve(_rule(mode)) as s, pytest.raises(pydantic.ValidationError):
        s.openai().chat.completions.parse(
            model=GPT, messages=ASK, tools=[openai.pydantic_function_tool(Weather, name="get_weather")]
        )


def test_malformed_tool_call_does_not_fire_without_tools_and_the_next_rule_is_tried() -> None:
    scenario = faults(
        {"name": "bad-call", "fault": {"kind": "malformed_tool_call"}},
        {"name": "outage", "fault": {"kind": "http_error", "status": 503}},
    )
    with serve(scenario) as s:
        with pytest.raises(openai.InternalServerError):
            chat(s.openai())
        assert s.last().fault == {"rule": "outage", "kind": "http_error"}
        name, args = _openai_call(s, stream=False)
        _check("invalid_json", name, args)
        assert s.last().fault == {"rule": "bad-call", "kind": "malformed_tool_call"}
        with pytest.raises(anthropic.InternalServerError):
            message(s.anthropic())
        assert s.last().fault == {"rule": "outage", "kind": "http_error"}
