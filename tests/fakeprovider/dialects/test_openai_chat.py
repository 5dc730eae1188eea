"""OpenAI chat completions end to end: the official openai SDK against the running fake provider."""

from __future__ import annotations

import json
import time
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import jsonschema
import openai
import pytest
from pydantic import BaseModel, Field

from fakeprovider import FakeProviderThread
from fakeprovider.generation import tokens
from tests.conftest import wait_for_record
from tests.fakeprovider.dialects.conftest import WEATHER_PARAMETERS, raw_request

O200K = "o200k_base"
USER_HI: list[Any] = [{"role": "user", "content": "Tell me something about the weather."}]


def _text_tokens(text: str) -> int:
    return tokens.count(text, O200K)


# --- plain completions -------------------------------------------------------------------------


def test_completion_has_the_openai_shape(openai_client: openai.OpenAI) -> None:
    before = int(time.time())
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI)
    assert reply.id.startswith("chatcmpl-")
    assert reply.object == "chat.completion"
    assert before - 1 <= reply.created <= int(time.time()) + 1
    assert reply.system_fingerprint
    assert reply.system_fingerprint.startswith("fp_")
    assert reply.model == "gpt-4o"
    assert len(reply.choices) == 1
    choice = reply.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.message.tool_calls is None


def test_completion_echoes_the_requested_model_id(openai_client: openai.OpenAI) -> None:
    for model in ("gpt-4o-mini", "gpt-3.5-turbo", "gpt-4o-2024-08-06"):
        reply = openai_client.chat.completions.create(model=model, messages=USER_HI, max_tokens=5)
        assert reply.model == model


def test_usage_counts_the_real_tokens_of_the_returned_text(openai_client: openai.OpenAI) -> None:
    for i in range(5):
        reply = openai_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"Question number {i}?"}]
        )
        usage = reply.usage
        assert usage is not None
        content = reply.choices[0].message.content
        assert content is not None
        assert usage.completion_tokens == _text_tokens(content)
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
        assert usage.prompt_tokens_details is not None
        assert usage.prompt_tokens_details.cached_tokens == 0


def test_prompt_tokens_follow_openai_message_counting(openai_client: openai.OpenAI) -> None:
    # OpenAI's documented rule: 3 tokens per message plus its role and content, 1 more for a
    # name, and 3 to prime the reply. "Hello!" alone is the classic 9.
    reply = openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hello!"}], max_tokens=1
    )
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 9
    messages: list[Any] = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?", "name": "alice"},
    ]
    expected = 3
    for m in messages:
        expected += 3 + sum(_text_tokens(v) for v in m.values()) + (1 if "name" in m else 0)
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=1)
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == expected


@pytest.mark.usefixtures("long_answers")
@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
@pytest.mark.parametrize("limit", [1, 7, 25])
def test_token_cap_ends_with_length_and_exactly_that_many_tokens(
    openai_client: openai.OpenAI, field: str, limit: int
) -> None:
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI, **{field: limit})
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == limit
    content = reply.choices[0].message.content
    assert content is not None
    assert _text_tokens(content) == limit


def test_a_cap_above_the_natural_length_finishes_with_stop(openai_client: openai.OpenAI) -> None:
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI, max_tokens=4000)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.completion_tokens < 4000


@pytest.mark.usefixtures("long_answers")
def test_completion_is_recorded_in_the_ledger(
    openai_client: openai.OpenAI, provider: FakeProviderThread
) -> None:
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI, max_tokens=12)
    (record,) = provider.state.ledger.records()
    assert reply.usage is not None
    assert record.api == "openai.chat"
    assert record.model == "gpt-4o"
    assert record.stream is False
    assert record.status == 200
    assert record.outcome == "ok"
    assert record.input_tokens == reply.usage.prompt_tokens
    assert record.output_tokens == reply.usage.completion_tokens == 12
    assert record.finish_reason == "length"
    assert record.cost_usd > 0


# --- streaming ---------------------------------------------------------------------------------


def test_stream_chunks_concatenate_to_the_text(openai_client: openai.OpenAI) -> None:
    stream = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI, stream=True)
    with stream:
        chunks = list(stream)
    assert chunks
    ids = {c.id for c in chunks}
    assert len(ids) == 1
    assert ids.pop().startswith("chatcmpl-")
    assert all(c.object == "chat.completion.chunk" and c.model == "gpt-4o" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert all(f is None for f in finishes[:-1])
    assert all(c.usage is None for c in chunks)


@pytest.mark.usefixtures("long_answers")
def test_stream_ends_with_done_and_usage_chunk(openai_client: openai.OpenAI) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=USER_HI,
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=9,
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    with raw.parse() as stream:
        chunks = list(stream)
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens == 9
    assert last.usage.total_tokens == last.usage.prompt_tokens + 9
    assert all(c.usage is None for c in chunks[:-1])
    with_choice = [c for c in chunks if c.choices]
    assert with_choice[-1].choices[0].finish_reason == "length"
    text = "".join(c.choices[0].delta.content or "" for c in with_choice)
    assert _text_tokens(text) == 9


def test_stream_wire_format_is_data_lines_ending_with_done(provider: FakeProviderThread) -> None:
    body = {
        "model": "gpt-4o",
        "messages": USER_HI,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    resp = raw_request(provider.url, "/v1/chat/completions", json.dumps(body).encode())
    assert resp.status == 200
    events = [e for e in resp.body.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(e[6:]) for e in events[:-1]]
    assert payloads[-1]["choices"] == []
    assert payloads[-1]["usage"]["completion_tokens"] > 0
    # While usage is asked for, every other chunk carries `usage: null`, as OpenAI sends it.
    assert all("usage" in p and p["usage"] is None for p in payloads[:-1])


def test_stream_and_json_report_the_same_tokens(openai_client: openai.OpenAI) -> None:
    # Identical bodies apart from `stream` give different content seeds; compare each with itself.
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=USER_HI, stream=True, stream_options={"include_usage": True}
    )
    with stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == _text_tokens(text)


def test_stream_helper_accumulates_the_final_completion(openai_client: openai.OpenAI) -> None:
    deltas: list[str] = []
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=USER_HI, stream_options={"include_usage": True}
    ) as stream:
        for event in stream:
            if event.type == "content.delta":
                deltas.append(event.delta)
        final = stream.get_final_completion()
    content = final.choices[0].message.content
    assert content
    assert content == "".join(deltas)
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.completion_tokens == _text_tokens(content)


@pytest.mark.usefixtures("long_answers")
def test_stream_helper_sees_a_length_cut_as_the_sdk_reports_it(openai_client: openai.OpenAI) -> None:
    # The helper refuses to hand out a completion cut by the token cap, as with the real API.
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=USER_HI, max_completion_tokens=20
    ) as stream:
        events = list(stream)
        with pytest.raises(openai.LengthFinishReasonError):
            stream.get_final_completion()
    text = "".join(e.delta for e in events if e.type == "content.delta")
    assert _text_tokens(text) == 20


@pytest.mark.usefixtures("long_answers")
def test_streamed_call_is_recorded_with_its_tokens(
    openai_client: openai.OpenAI, provider: FakeProviderThread
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=USER_HI, stream=True, max_tokens=15
    )
    with stream:
        list(stream)
    record = wait_for_record(provider)
    assert record.stream is True
    assert record.outcome == "ok"
    assert record.output_tokens == 15
    assert record.finish_reason == "length"
    assert record.ttft_ms is not None


# --- tools -------------------------------------------------------------------------------------


def _arguments(call: Any) -> Any:
    return json.loads(call.function.arguments)


@pytest.mark.parametrize("tool_choice", ["auto", "required"])
def test_tool_call_arguments_are_valid_against_the_parameters(
    openai_client: openai.OpenAI, weather_tool: dict[str, Any], tool_choice: str
) -> None:
    for i in range(8):
        reply = openai_client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"Weather in city #{i}?"}],
            tools=[weather_tool],
            tool_choice=tool_choice,  # type: ignore[arg-type]
        )
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        calls = choice.message.tool_calls
        assert calls is not None
        assert len(calls) == 1
        call = calls[0]
        assert call.type == "function"
        assert call.id.startswith("call_")
        assert call.function.name == "get_weather"
        jsonschema.validate(_arguments(call), WEATHER_PARAMETERS)


def test_tool_call_usage_counts_the_argument_tokens(
    openai_client: openai.OpenAI, weather_tool: dict[str, Any]
) -> None:
    reply = openai_client.chat.completions.create(
        model="gpt-4o", messages=USER_HI, tools=[weather_tool], tool_choice="required"
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert reply.usage is not None
    assert reply.usage.completion_tokens == _text_tokens(calls[0].function.arguments)


def test_named_tool_choice_calls_that_tool(
    openai_client: openai.OpenAI, weather_tool: dict[str, Any], search_tool: dict[str, Any]
) -> None:
    for name, tool in (("search", search_tool), ("get_weather", weather_tool)):
        for i in range(4):
            reply = openai_client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"Please {i}"}],
                tools=[weather_tool, search_tool],
                tool_choice={"type": "function", "function": {"name": name}},
            )
            calls = reply.choices[0].message.tool_calls
            assert calls is not None
            assert [c.function.name for c in calls] == [name]
            jsonschema.validate(_arguments(calls[0]), tool["function"]["parameters"])


def test_tool_choice_none_answers_with_text(
    openai_client: openai.OpenAI, weather_tool: dict[str, Any]
) -> None:
    reply = openai_client.chat.completions.create(
        model="gpt-4o", messages=USER_HI, tools=[weather_tool], tool_choice="none"
    )
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].message.content


def test_conversation_ending_in_a_tool_result_gets_a_text_answer(
    openai_client: openai.OpenAI, weather_tool: dict[str, Any]
) -> None:
    first = openai_client.chat.completions.create(
        model="gpt-4o", messages=USER_HI, tools=[weather_tool], tool_choice="auto"
    )
    calls = first.choices[0].message.tool_calls
    assert calls is not None
    call = calls[0]
    messages: list[Any] = [
        *USER_HI,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21, "sky": "clear"}'},
    ]
    second = openai_client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=[weather_tool], tool_choice="auto"
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.tool_calls is None
    assert second.choices[0].message.content
    assert second.usage is not None
    assert first.usage is not None
    assert second.usage.prompt_tokens > first.usage.prompt_tokens


def test_streamed_tool_call_reassembles_to_valid_json(
    openai_client: openai.OpenAI, search_tool: dict[str, Any]
) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o",
        messages=USER_HI,
        tools=[search_tool],
        tool_choice="required",
        stream=True,
        stream_options={"include_usage": True},
    )
    ids: list[str] = []
    names: list[str] = []
    arguments = ""
    finish = None
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        assert not choice.delta.content
        for delta in choice.delta.tool_calls or []:
            assert delta.index == 0
            if delta.id:
                ids.append(delta.id)
            if delta.function and delta.function.name:
                names.append(delta.function.name)
            if delta.function and delta.function.arguments:
                arguments += delta.function.arguments
    assert len(ids) == 1
    assert ids[0].startswith("call_")
    assert names == ["search"]
    assert finish == "tool_calls"
    jsonschema.validate(json.loads(arguments), search_tool["function"]["parameters"])
    assert usage is not None
    assert usage.completion_tokens == _text_tokens(arguments)


def test_stream_helper_reassembles_tool_calls(
    openai_client: openai.OpenAI, weather_tool: dict[str, Any]
) -> None:
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=USER_HI, tools=[weather_tool], tool_choice="required"
    ) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    assert len(done) == 1
    message = final.choices[0].message
    assert message.tool_calls is not None
    assert message.content is None
    jsonschema.validate(json.loads(message.tool_calls[0].function.arguments), WEATHER_PARAMETERS)
    assert done[0].arguments == message.tool_calls[0].function.arguments


class Unit(StrEnum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Forecast(BaseModel):
    model_config = {"extra": "forbid"}

    city: str
    days: int = Field(ge=1, le=14)
    unit: Unit


def test_pydantic_function_tool_parses_its_arguments(openai_client: openai.OpenAI) -> None:
    completion = openai_client.chat.completions.parse(
        model="gpt-4o",
        messages=USER_HI,
        tools=[openai.pydantic_function_tool(Forecast)],
        tool_choice="required",
    )
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    parsed = calls[0].function.parsed_arguments
    assert isinstance(parsed, Forecast)
    assert 1 <= parsed.days <= 14


# --- structured output -------------------------------------------------------------------------


def test_json_object_format_gives_json_content(openai_client: openai.OpenAI) -> None:
    reply = openai_client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Answer in JSON."}],
        response_format={"type": "json_object"},
    )
    content = reply.choices[0].message.content
    assert content is not None
    assert isinstance(json.loads(content), dict)
    assert reply.usage is not None
    assert reply.usage.completion_tokens == _text_tokens(content)


def test_streamed_json_object_concatenates_to_json(openai_client: openai.OpenAI) -> None:
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=USER_HI, response_format={"type": "json_object"}, stream=True
    )
    with stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert isinstance(json.loads(text), dict)


RECIPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 3, "maxLength": 40},
        "servings": {"type": "integer", "minimum": 1, "maximum": 12},
        "vegetarian": {"type": "boolean"},
        "difficulty": {"type": "string", "enum": ["easy", "medium", "hard"]},
        "rating": {"type": ["number", "null"], "minimum": 0, "maximum": 5},
        "created": {"type": "string", "format": "date"},
        "ingredients": {
            "type": "array",
            "minItems": 2,
            "maxItems": 6,
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "grams": {"type": "number", "minimum": 0}},
                "required": ["name", "grams"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["title", "servings", "vegetarian", "difficulty", "rating", "created", "ingredients"],
    "additionalProperties": False,
}


def test_json_schema_format_gives_content_valid_against_the_schema(openai_client: openai.OpenAI) -> None:
    for i in range(6):
        reply = openai_client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"Recipe {i}"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "recipe", "schema": RECIPE_SCHEMA, "strict": True},
            },
        )
        content = reply.choices[0].message.content
        assert content is not None
        jsonschema.validate(json.loads(content), RECIPE_SCHEMA, format_checker=jsonschema.FormatChecker())


class Priority(StrEnum):
    low = "low"
    high = "high"


class Address(BaseModel):
    street: str
    city: str
    postcode: str | None


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=120)
    addresses: list[Address]


class Ticket(BaseModel):
    title: str
    priority: Priority
    reporter: Person
    assignee: Person | None
    tags: list[str]
    estimate_hours: float | None
    subtasks: list[Subtask]


class Subtask(BaseModel):
    title: str
    done: bool


Ticket.model_rebuild()


def test_parse_fills_a_nested_pydantic_model(openai_client: openai.OpenAI) -> None:
    for i in range(5):
        completion = openai_client.chat.completions.parse(
            model="gpt-4o-2024-08-06",
            messages=[{"role": "user", "content": f"File ticket {i}"}],
            response_format=Ticket,
        )
        message = completion.choices[0].message
        assert isinstance(message.parsed, Ticket)
        assert isinstance(message.parsed.priority, Priority)
        assert message.parsed.reporter.addresses
        assert completion.choices[0].finish_reason == "stop"


class Category(BaseModel):
    """Recursive twice over: a tree of categories, each with an optional parent link."""

    name: str
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    parent: Category | None
    children: list[Category]


class Card(BaseModel):
    kind: Literal["card"]
    last4: str = Field(pattern=r"^\d{4}$")


class Transfer(BaseModel):
    kind: Literal["transfer"]
    iban: str = Field(pattern=r"^[A-Z]{2}\d{2}[A-Z0-9]{10,20}$")


class Order(BaseModel):
    placed_at: datetime
    quantity: int = Field(gt=0, lt=10)
    discount: float = Field(ge=0, le=0.5)
    payment: Card | Transfer = Field(discriminator="kind")
    category: Category


def test_parse_handles_recursive_models_patterns_and_unions(openai_client: openai.OpenAI) -> None:
    for i in range(10):
        completion = openai_client.chat.completions.parse(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"Order {i}"}],
            response_format=Order,
        )
        order = completion.choices[0].message.parsed
        assert isinstance(order, Order)
        assert 0 < order.quantity < 10


def test_tool_arguments_honour_patterns_and_recursion(openai_client: openai.OpenAI) -> None:
    tool = openai.pydantic_function_tool(Order, name="place_order")
    schema = tool["function"]["parameters"]
    for i in range(10):
        reply = openai_client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": f"Place order {i}"}],
            tools=[tool],
            tool_choice="required",
        )
        calls = reply.choices[0].message.tool_calls
        assert calls is not None
        arguments = json.loads(calls[0].function.arguments)
        jsonschema.validate(arguments, schema)
        Order.model_validate(arguments)


def test_stream_helper_parses_a_pydantic_model(openai_client: openai.OpenAI) -> None:
    with openai_client.chat.completions.stream(
        model="gpt-4o", messages=USER_HI, response_format=Ticket
    ) as stream:
        final = stream.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, Ticket)


# --- headers -----------------------------------------------------------------------------------


def test_response_carries_a_generated_request_id(openai_client: openai.OpenAI) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=USER_HI, max_tokens=3
    )
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.request_id == raw.headers["x-request-id"]
    assert raw.parse().choices[0].message.content


def test_response_echoes_the_callers_request_id(
    openai_client: openai.OpenAI, provider: FakeProviderThread
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=USER_HI,
        max_tokens=3,
        extra_headers={"X-Request-Id": "rehearsal-req-42"},
    )
    assert raw.headers["x-request-id"] == "rehearsal-req-42"
    (record,) = provider.state.ledger.records()
    assert record.request_id == "rehearsal-req-42"


def test_streamed_response_echoes_the_callers_request_id(openai_client: openai.OpenAI) -> None:
    with openai_client.chat.completions.with_streaming_response.create(
        model="gpt-4o",
        messages=USER_HI,
        stream=True,
        extra_headers={"X-Request-Id": "stream-7"},
    ) as resp:
        assert resp.headers["x-request-id"] == "stream-7"
        lines = [line for line in resp.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"


# --- determinism -------------------------------------------------------------------------------


def _ask(url: str, **extra: Any) -> openai.types.chat.ChatCompletion:
    with openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0) as client:
        return client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Same question"}], **extra
        )


def test_same_seed_and_request_give_the_same_reply_on_two_servers() -> None:
    with FakeProviderThread(latency="none", seed=3) as a, FakeProviderThread(latency="none", seed=3) as b:
        first, second = _ask(a.url), _ask(b.url)
        assert first.choices[0].message.content == second.choices[0].message.content
        assert first.usage == second.usage
        tools: Any = [
            {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMETERS}}
        ]
        call_a = _ask(a.url, tools=tools, tool_choice="required").choices[0].message.tool_calls
        call_b = _ask(b.url, tools=tools, tool_choice="required").choices[0].message.tool_calls
        assert call_a is not None
        assert call_b is not None
        assert call_a[0].function.arguments == call_b[0].function.arguments
        assert call_a[0].id == call_b[0].id


def test_a_different_seed_gives_a_different_reply() -> None:
    with FakeProviderThread(latency="none", seed=3) as a, FakeProviderThread(latency="none", seed=4) as b:
        assert _ask(a.url).choices[0].message.content != _ask(b.url).choices[0].message.content


def test_the_same_server_repeats_itself_for_the_same_request(openai_client: openai.OpenAI) -> None:
    first = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI)
    second = openai_client.chat.completions.create(model="gpt-4o", messages=USER_HI)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.id != second.id


# --- scripted replies --------------------------------------------------------------------------

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
        },
        {"last_message": "greet me", "reply": {"content": "Grüße, 世界! 🎉 Ça va? naïve café"}},
    ]
}


@pytest.fixture
def scripted_client() -> Any:
    with (
        FakeProviderThread(latency="none", seed=0, scenario=SCRIPTED) as p,
        openai.OpenAI(base_url=p.url + "/v1", api_key="sk-test", max_retries=0) as client,
    ):
        yield client


def test_scripted_parallel_tool_calls_come_back_in_order(
    scripted_client: openai.OpenAI, weather_tool: dict[str, Any], search_tool: dict[str, Any]
) -> None:
    reply = scripted_client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "call both tools please"}],
        tools=[weather_tool, search_tool],
    )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert [c.function.name for c in calls] == ["get_weather", "search"]
    assert len({c.id for c in calls}) == 2
    assert json.loads(calls[0].function.arguments) == {"city": "Oslo", "unit": "celsius", "days": 2}
    assert reply.choices[0].finish_reason == "tool_calls"


def test_streamed_parallel_tool_calls_reassemble_through_the_helper(
    scripted_client: openai.OpenAI, weather_tool: dict[str, Any], search_tool: dict[str, Any]
) -> None:
    with scripted_client.chat.completions.stream(
        model="gpt-4o",
        messages=[{"role": "user", "content": "call both tools please"}],
        tools=[weather_tool, search_tool],
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert calls is not None
    assert [c.index for c in calls] == [0, 1]
    assert json.loads(calls[1].function.arguments)["query"] == "umbrellas"


def test_scripted_unicode_text_streams_whole_characters_with_real_counts(
    scripted_client: openai.OpenAI,
) -> None:
    expected = "Grüße, 世界! 🎉 Ça va? naïve café"
    stream = scripted_client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "greet me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    with stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == _text_tokens(expected)
