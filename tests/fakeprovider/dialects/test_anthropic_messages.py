"""Anthropic messages end to end: the official anthropic SDK against the running fake provider."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import anthropic
import jsonschema
import pytest
from pydantic import BaseModel

from fakeprovider import FakeProviderThread
from fakeprovider.generation import tokens
from tests.conftest import wait_for_record
from tests.fakeprovider.dialects.conftest import (
    CLAUDE,
    CLAUDE_SMALL,
    SEARCH_PARAMETERS,
    WEATHER_PARAMETERS,
)

CL100K = "cl100k_base"  # the catalogue's documented stand-in for Claude's tokenizer
HELLO: list[Any] = [{"role": "user", "content": "Tell me about the sea."}]

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Forecast for a city",
    "input_schema": WEATHER_PARAMETERS,
}
SEARCH_TOOL: dict[str, Any] = {"name": "search", "description": "Search", "input_schema": SEARCH_PARAMETERS}


def _text(message: anthropic.types.Message) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


# --- messages.create ---------------------------------------------------------------------------


def test_message_has_the_anthropic_shape(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(model=CLAUDE, max_tokens=1024, messages=HELLO)
    assert message.id.startswith("msg_")
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == CLAUDE
    assert len(message.content) == 1
    block = message.content[0]
    assert block.type == "text"
    assert block.text
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens == tokens.count(block.text, CL100K)


def test_max_tokens_stops_with_max_tokens_and_that_many_tokens(anthropic_client: anthropic.Anthropic) -> None:
    for cap in (1, 5, 16):
        message = anthropic_client.messages.create(model=CLAUDE_SMALL, max_tokens=cap, messages=HELLO)
        assert message.stop_reason == "max_tokens"
        assert message.usage.output_tokens == cap
        assert tokens.count(_text(message), CL100K) == cap


def test_system_prompt_as_string_and_as_blocks_counts_the_same(
    anthropic_client: anthropic.Anthropic,
) -> None:
    system = "You are a terse assistant who answers in one sentence."
    bare = anthropic_client.messages.create(model=CLAUDE, max_tokens=4, messages=HELLO)
    as_string = anthropic_client.messages.create(model=CLAUDE, max_tokens=4, system=system, messages=HELLO)
    as_blocks = anthropic_client.messages.create(
        model=CLAUDE, max_tokens=4, system=[{"type": "text", "text": system}], messages=HELLO
    )
    assert as_string.usage.input_tokens > bare.usage.input_tokens
    assert as_string.usage.input_tokens == as_blocks.usage.input_tokens
    assert as_string.usage.input_tokens - bare.usage.input_tokens >= tokens.count(system, CL100K)


def test_multi_turn_conversation_is_answered(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model=CLAUDE,
        max_tokens=200,
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello, how can I help?"}]},
            {"role": "user", "content": [{"type": "text", "text": "Tell me a story."}]},
        ],
    )
    assert _text(message)
    assert message.usage.input_tokens > 10


@pytest.mark.usefixtures("long_answers")
def test_message_is_recorded_in_the_ledger(
    anthropic_client: anthropic.Anthropic, provider: FakeProviderThread
) -> None:
    message = anthropic_client.messages.create(model=CLAUDE, max_tokens=8, messages=HELLO)
    (record,) = provider.state.ledger.records()
    assert record.api == "anthropic.messages"
    assert record.model == CLAUDE
    assert record.status == 200
    assert record.outcome == "ok"
    assert record.input_tokens == message.usage.input_tokens
    assert record.output_tokens == message.usage.output_tokens == 8
    assert record.finish_reason == "length"


def test_request_id_header_is_sent_and_echoed(
    anthropic_client: anthropic.Anthropic, provider: FakeProviderThread
) -> None:
    raw = anthropic_client.messages.with_raw_response.create(model=CLAUDE, max_tokens=4, messages=HELLO)
    assert raw.headers["request-id"].startswith("req_")
    assert raw.request_id == raw.headers["request-id"]
    assert raw.parse()._request_id == raw.headers["request-id"]
    raw = anthropic_client.messages.with_raw_response.create(
        model=CLAUDE, max_tokens=4, messages=HELLO, extra_headers={"X-Request-Id": "trace-99"}
    )
    assert raw.headers["request-id"] == "trace-99"
    assert provider.state.ledger.records()[-1].request_id == "trace-99"


# --- streaming ---------------------------------------------------------------------------------


def _sse_events(lines: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) pairs of an SSE body, checking each event names its data's type."""
    events: list[tuple[str, dict[str, Any]]] = []
    name: str | None = None
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
            assert name == data["type"]
            events.append((name, data))
            name = None
    return events


def test_stream_sends_the_full_event_sequence_in_order(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.with_streaming_response.create(
        model=CLAUDE, max_tokens=300, messages=HELLO, stream=True
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["request-id"]
        events = _sse_events(list(resp.iter_lines()))
    names = [n for n, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    middle = names[3:-3]
    assert middle
    assert set(middle) == {"content_block_delta"}
    start = events[0][1]["message"]
    assert start["id"].startswith("msg_")
    assert start["content"] == []
    assert start["stop_reason"] is None
    assert start["usage"]["input_tokens"] > 0
    assert events[1][1]["content_block"] == {"type": "text", "text": ""}
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert all(d["type"] == "text_delta" and d["text"] for d in deltas)
    message_delta = events[-2][1]
    assert message_delta["delta"]["stop_reason"] == "end_turn"
    text = "".join(d["text"] for d in deltas)
    assert message_delta["usage"]["output_tokens"] == tokens.count(text, CL100K)


@pytest.mark.usefixtures("long_answers")
def test_raw_stream_events_through_the_sdk(anthropic_client: anthropic.Anthropic) -> None:
    stream = anthropic_client.messages.create(model=CLAUDE, max_tokens=12, messages=HELLO, stream=True)
    with stream:
        events = list(stream)
    types = [e.type for e in events]  # the SDK drops `ping`
    assert types[0] == "message_start"
    assert types[1] == "content_block_start"
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    last_delta = events[-2]
    assert last_delta.type == "message_delta"
    assert last_delta.delta.stop_reason == "max_tokens"
    assert last_delta.usage.output_tokens == 12
    text = "".join(
        e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"
    )
    assert tokens.count(text, CL100K) == 12


def test_stream_helper_text_stream_and_final_message_agree(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(model=CLAUDE, max_tokens=1024, messages=HELLO) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert pieces
    assert _text(final) == "".join(pieces)
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == tokens.count("".join(pieces), CL100K)
    assert final.id.startswith("msg_")


@pytest.mark.usefixtures("long_answers")
def test_stream_helper_get_final_text(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(model=CLAUDE_SMALL, max_tokens=10, messages=HELLO) as stream:
        text = stream.get_final_text()
    assert tokens.count(text, CL100K) == 10


@pytest.mark.usefixtures("long_answers")
def test_streamed_message_is_recorded_with_its_tokens(
    anthropic_client: anthropic.Anthropic, provider: FakeProviderThread
) -> None:
    with anthropic_client.messages.stream(model=CLAUDE, max_tokens=7, messages=HELLO) as stream:
        final = stream.get_final_message()
    record = wait_for_record(provider)
    assert record.stream is True
    assert record.outcome == "ok"
    assert record.output_tokens == final.usage.output_tokens == 7


# --- tools -------------------------------------------------------------------------------------


def _tool_uses(message: anthropic.types.Message) -> list[anthropic.types.ToolUseBlock]:
    return [b for b in message.content if b.type == "tool_use"]


def test_tool_use_block_input_is_valid_against_the_input_schema(
    anthropic_client: anthropic.Anthropic,
) -> None:
    for i in range(6):
        message = anthropic_client.messages.create(
            model=CLAUDE,
            max_tokens=1024,
            tools=[WEATHER_TOOL],
            messages=[{"role": "user", "content": f"Weather in place {i}?"}],
        )
        assert message.stop_reason == "tool_use"
        (use,) = _tool_uses(message)
        assert use.id.startswith("toolu_")
        assert use.name == "get_weather"
        assert isinstance(use.input, dict)
        jsonschema.validate(use.input, WEATHER_PARAMETERS)
        assert message.usage.output_tokens > 0


@pytest.mark.parametrize("choice", [{"type": "tool", "name": "search"}, {"type": "any"}])
def test_tool_choice_forces_a_tool_use(anthropic_client: anthropic.Anthropic, choice: Any) -> None:
    for i in range(4):
        message = anthropic_client.messages.create(
            model=CLAUDE,
            max_tokens=1024,
            tools=[WEATHER_TOOL, SEARCH_TOOL],
            tool_choice=choice,
            messages=[{"role": "user", "content": f"Go {i}"}],
        )
        assert message.stop_reason == "tool_use"
        (use,) = _tool_uses(message)
        if choice["type"] == "tool":
            assert use.name == "search"
        schema = SEARCH_PARAMETERS if use.name == "search" else WEATHER_PARAMETERS
        jsonschema.validate(use.input, schema)


def test_tool_choice_none_answers_with_text(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model=CLAUDE, max_tokens=50, tools=[WEATHER_TOOL], tool_choice={"type": "none"}, messages=HELLO
    )
    assert not _tool_uses(message)
    assert _text(message)


def test_tool_result_turn_gets_a_text_answer(anthropic_client: anthropic.Anthropic) -> None:
    first = anthropic_client.messages.create(
        model=CLAUDE, max_tokens=1024, tools=[WEATHER_TOOL], messages=HELLO
    )
    (use,) = _tool_uses(first)
    second = anthropic_client.messages.create(
        model=CLAUDE,
        max_tokens=1024,
        tools=[WEATHER_TOOL],
        messages=[
            *HELLO,
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},  # type: ignore[misc]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "21C and sunny"}],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    assert not _tool_uses(second)
    assert _text(second)
    assert second.usage.input_tokens > first.usage.input_tokens


def test_streamed_tool_input_json_deltas_reassemble(anthropic_client: anthropic.Anthropic) -> None:
    stream = anthropic_client.messages.create(
        model=CLAUDE,
        max_tokens=1024,
        tools=[SEARCH_TOOL],
        tool_choice={"type": "tool", "name": "search"},
        messages=HELLO,
        stream=True,
    )
    with stream:
        events = list(stream)
    starts = [e for e in events if e.type == "content_block_start"]
    assert len(starts) == 1
    block = starts[0].content_block
    assert block.type == "tool_use"
    assert block.name == "search"
    assert block.id.startswith("toolu_")
    assert block.input == {}
    partial = "".join(
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    )
    jsonschema.validate(json.loads(partial), SEARCH_PARAMETERS)
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.delta.stop_reason == "tool_use"
    assert delta.usage.output_tokens == tokens.count(partial, CL100K)


def test_stream_helper_accumulates_tool_input(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model=CLAUDE, max_tokens=1024, tools=[WEATHER_TOOL], tool_choice={"type": "any"}, messages=HELLO
    ) as stream:
        json_events = [e for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert json_events
    (use,) = _tool_uses(final)
    jsonschema.validate(use.input, WEATHER_PARAMETERS)
    assert json_events[-1].snapshot == use.input
    assert final.stop_reason == "tool_use"


# --- structured output -------------------------------------------------------------------------


class Mood(StrEnum):
    calm = "calm"
    stormy = "stormy"


class Shore(BaseModel):
    name: str
    length_km: float


class SeaReport(BaseModel):
    sea: str
    mood: Mood
    depth_m: int | None
    shores: list[Shore]


def test_parse_fills_a_pydantic_output_format(anthropic_client: anthropic.Anthropic) -> None:
    for _ in range(3):
        message = anthropic_client.messages.parse(
            model=CLAUDE, max_tokens=1024, messages=HELLO, output_format=SeaReport
        )
        assert isinstance(message.parsed_output, SeaReport)
        assert isinstance(message.parsed_output.mood, Mood)
        assert message.stop_reason == "end_turn"


# --- models and determinism --------------------------------------------------------------------


def test_models_list_gives_only_claude_models(anthropic_client: anthropic.Anthropic) -> None:
    models = list(anthropic_client.models.list())
    ids = [m.id for m in models]
    assert ids
    assert all(i.startswith("claude-") for i in ids)
    assert "claude-haiku-4-5" in ids
    assert all(m.type == "model" for m in models)


def _ask(url: str) -> anthropic.types.Message:
    with anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0) as client:
        return client.messages.create(model=CLAUDE, max_tokens=500, messages=HELLO)


def test_same_seed_and_request_give_the_same_message_on_two_servers() -> None:
    with FakeProviderThread(latency="none", seed=11) as a, FakeProviderThread(latency="none", seed=11) as b:
        first, second = _ask(a.url), _ask(b.url)
    assert _text(first) == _text(second)
    assert first.usage == second.usage


def test_a_different_seed_gives_a_different_message() -> None:
    with FakeProviderThread(latency="none", seed=11) as a, FakeProviderThread(latency="none", seed=12) as b:
        assert _text(_ask(a.url)) != _text(_ask(b.url))


SCRIPTED: dict[str, Any] = {
    "responses": [
        {
            "last_message": "both tools",
            "reply": {
                "tool_calls": [
                    {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius", "days": 2}},
                    {"name": "search", "arguments": {"query": "umbrellas", "filters": [], "limit": 3}},
                ]
            },
        }
    ]
}


def test_scripted_parallel_tool_uses_stream_as_separate_blocks() -> None:
    with (
        FakeProviderThread(latency="none", seed=0, scenario=SCRIPTED) as p,
        anthropic.Anthropic(base_url=p.url, api_key="k", max_retries=0) as client,
    ):
        request: dict[str, Any] = {
            "model": CLAUDE,
            "max_tokens": 1024,
            "tools": [WEATHER_TOOL, SEARCH_TOOL],
            "messages": [{"role": "user", "content": "call both tools"}],
        }
        plain = client.messages.create(**request)
        with client.messages.stream(**request) as stream:
            events = list(stream)
            streamed = stream.get_final_message()
    for message in (plain, streamed):
        uses = _tool_uses(message)
        assert [u.name for u in uses] == ["get_weather", "search"]
        assert uses[0].input == {"city": "Oslo", "unit": "celsius", "days": 2}
        assert message.stop_reason == "tool_use"
    starts = [e.index for e in events if e.type == "content_block_start"]
    stops = [e.index for e in events if e.type == "content_block_stop"]
    assert starts == stops == [0, 1]
