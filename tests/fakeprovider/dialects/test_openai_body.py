"""The byte-template chat completion: the very bytes `orjson.dumps` makes of `render_json`'s dict."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.dialects.openai_chat import OpenAIChat
from fakeprovider.generation.plan import Event, FinishReason, Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.request import ChatRequest

META = ResponseMeta("chatcmpl-AbC123xyz", 1735689600, "fp_0123abcd")


def _request(model: ModelInfo | None = None) -> ChatRequest:
    info = model or DEFAULT_CATALOGUE.resolve("gpt-4o-mini")
    assert info is not None
    return ChatRequest(api="openai.chat", model=info, stream=False, prompt_ids=[1, 2, 3])


def _text_plan(pieces: list[str], finish: FinishReason = "stop") -> Plan:
    events: list[Event] = [TextDelta(p, 1) for p in pieces]
    return Plan(events=events, delays=[0.0] * len(events), finish=finish)


@pytest.mark.parametrize(
    "pieces",
    [
        ["Hello", " world", "."],
        [],
        ['Quotes " and \\ backslashes', "\n new lines \t tabs"],
        ["Unicode: é, 漢字, emoji 🎉", " and \u2028 separators", " control \x01"],
    ],
)
@pytest.mark.parametrize("finish", ["stop", "length", "content_filter"])
def test_a_text_completion_renders_the_bytes_of_its_json(pieces: list[str], finish: FinishReason) -> None:
    proto = OpenAIChat()
    req = _request()
    plan = _text_plan(pieces, finish)
    usage = Usage(input_tokens=1234, cached_tokens=1024, output_tokens=len(pieces))
    assert proto.render_body(req, plan, usage, META) == orjson.dumps(
        proto.render_json(req, plan, usage, META)
    )


def test_a_model_id_that_needs_escaping_is_escaped() -> None:
    base = DEFAULT_CATALOGUE.resolve("gpt-4o-mini")
    assert base is not None
    odd = dataclasses.replace(base, id='my "model"\\v1')
    proto = OpenAIChat()
    req = _request(odd)
    plan = _text_plan(["ok"])
    usage = Usage(3, 0, 1)
    body = proto.render_body(req, plan, usage, META)
    assert body == orjson.dumps(proto.render_json(req, plan, usage, META))
    assert orjson.loads(body)["model"] == 'my "model"\\v1'


def test_a_noted_text_renders_as_the_events_would() -> None:
    proto = OpenAIChat()
    req = _request()
    plan = _text_plan(["One", " two", "."])
    plan.note_text("One two.", 3)
    usage = Usage(3, 0, 3)
    assert proto.render_body(req, plan, usage, META) == orjson.dumps(
        proto.render_json(req, plan, usage, META)
    )
    assert (
        orjson.loads(proto.render_body(req, plan, usage, META))["choices"][0]["message"]["content"]
        == "One two."
    )


def test_a_tool_call_completion_renders_its_json() -> None:
    proto = OpenAIChat()
    req = _request()
    events: list[Event] = [
        ToolCallStart(0, "call_abc", "get_weather"),
        ToolArgsDelta(0, '{"city":', 3),
        ToolArgsDelta(0, '"Oslo"}', 3),
    ]
    plan = Plan(events=events, delays=[0.0] * 3, finish="tool_calls")
    usage = Usage(10, 0, 6)
    body = proto.render_body(req, plan, usage, META)
    assert body == orjson.dumps(proto.render_json(req, plan, usage, META))
    call = orjson.loads(body)["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
