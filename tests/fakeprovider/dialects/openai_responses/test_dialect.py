"""The Responses dialect with no sockets: requests read, plans rendered, the store's bounds."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.base import NO_PARAMS, Usage
from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.dialects.openai_responses.request import ResponsesRequest
from fakeprovider.dialects.openai_responses.store import ResponseStore, StoredResponse, Turn
from fakeprovider.errors import ProviderError
from fakeprovider.generation import tokens
from fakeprovider.generation.plan import Plan, build_plan
from tests.fakeprovider.faults.conftest import LONG_ANSWER, pool

GPT = "gpt-4o"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def dialect() -> OpenAIResponses:
    return OpenAIResponses(ResponseStore(max_responses=3))


def _parse(dialect: OpenAIResponses, **body: Any) -> ResponsesRequest:
    return dialect.parse({"model": GPT, **body}, DEFAULT_CATALOGUE, NO_PARAMS)


def _plan(req: ResponsesRequest) -> Plan:
    """A 200-token answer: past the 16-token caps the tests set."""
    return build_plan(req, pool(req.model.encoding), random.Random(0), None, False, LONG_ANSWER)


def _events(data: bytes) -> list[dict[str, Any]]:
    """The JSON of each `data:` line, checked against its `event:` line."""
    out = []
    for frame in data.decode().split("\n\n"):
        if frame:
            name, payload = frame.split("\n")
            out.append(json.loads(payload.removeprefix("data: ")))
            assert name == "event: " + out[-1]["type"]
    return out


def _stream(dialect: OpenAIResponses, req: ResponsesRequest, plan: Plan) -> list[dict[str, Any]]:
    meta = dialect.new_meta()
    usage = Usage(req.input_tokens, 0, plan.output_tokens)
    return _events(b"".join(c.data for c in dialect.render_sse(req, plan, usage, meta)))


def test_a_string_input_is_one_user_message_and_instructions_a_system_one(dialect: OpenAIResponses) -> None:
    bare = _parse(dialect, input="Hello")
    told = _parse(dialect, input="Hello", instructions="Be brief.")
    parts = _parse(dialect, input=[{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}])
    assert bare.input_tokens == parts.input_tokens
    assert told.input_tokens - bare.input_tokens == tokens.MESSAGE_OVERHEAD + 1 + tokens.count(
        "Be brief.", "o200k_base"
    )
    assert (bare.api, bare.last_text, bare.store) == ("openai.responses", "Hello", True)


def test_a_function_call_output_is_a_tool_result(dialect: OpenAIResponses) -> None:
    items = [
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]
    req = _parse(dialect, input=items, tools=[WEATHER])
    assert req.after_tool_result
    assert req.call_ids == frozenset({"call_1"})
    assert _plan(req).finish == "stop"  # an answer in text, not another call


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": [{"type": "function_call_output", "call_id": "call_x", "output": "?"}]}, "input"),
        ({"input": "Hi", "max_output_tokens": 15}, "max_output_tokens"),
        ({"input": 7}, "input"),
        ({"input": [{"role": "robot", "content": "Hi"}]}, "input[0].role"),
        ({"input": "Hi", "text": {"format": {"type": "json_schema"}}}, "text.format.schema"),
        (
            {"input": "Hi", "tools": [WEATHER], "tool_choice": {"type": "function", "name": "nope"}},
            "tool_choice",
        ),
        ({}, "input"),
    ],
)
def test_bad_fields_are_400s_naming_the_parameter(dialect: OpenAIResponses, body: Any, param: str) -> None:
    with pytest.raises(ProviderError) as info:
        _parse(dialect, **body)
    assert (info.value.status, info.value.param) == (400, param)


def test_an_unknown_previous_response_is_the_apis_404(dialect: OpenAIResponses) -> None:
    with pytest.raises(ProviderError) as info:
        _parse(dialect, input="Hi", previous_response_id="resp_gone")
    assert (info.value.status, info.value.code) == (404, "previous_response_not_found")


def test_a_chain_prepends_the_stored_turns_and_their_calls(dialect: OpenAIResponses) -> None:
    asked = (Turn("user", "Weather?"),)
    call = ("call_1", "get_weather", '{"city": "Oslo"}')
    dialect.store.put("resp_1", StoredResponse(b"{}", None, asked, frozenset(), "", (call,)))
    answer = {"type": "function_call_output", "call_id": "call_1", "output": "snow"}
    req = _parse(dialect, input=[answer], previous_response_id="resp_1")
    call = {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Oslo"}',
    }
    whole = _parse(dialect, input=[{"role": "user", "content": "Weather?"}, call, answer])
    assert req.input_tokens == whole.input_tokens
    assert req.after_tool_result


def test_the_store_keeps_the_newest_and_reads_a_chain_as_far_as_it_is_held() -> None:
    store = ResponseStore(max_responses=2)
    for i in range(3):
        store.put(
            f"r{i}", StoredResponse(b"", f"r{i - 1}" if i else None, (Turn("user", str(i)),), frozenset())
        )
    assert (len(store), store.get("r0")) == (2, None)
    assert [t.text for t in store.chain("r2")[0]] == ["1", "", "2", ""]
    assert store.delete("r2")
    assert not store.delete("r2")


def test_a_stream_is_numbered_in_order_and_ends_completed(dialect: OpenAIResponses) -> None:
    req = _parse(dialect, input="Hi", stream=True)
    plan = _plan(req)
    events = _stream(dialect, req, plan)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "response.completed"
    final = events[-1]["response"]
    assert final["output"][0]["content"][0]["text"] == plan.text()
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == plan.text()
    assert dialect.store.get(final["id"]) is not None


def test_a_tool_call_streams_its_arguments(dialect: OpenAIResponses) -> None:
    req = _parse(dialect, input="Weather?", tools=[WEATHER], tool_choice="required", store=False)
    events = _stream(dialect, req, _plan(req))
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert done["arguments"] == deltas
    assert "city" in json.loads(deltas)
    assert events[-1]["response"]["output"][0]["type"] == "function_call"
    assert len(dialect.store) == 0  # store: false


def test_a_cut_stream_stops_and_its_error_frames_continue_the_numbers(dialect: OpenAIResponses) -> None:
    req = _parse(dialect, input="Hi", stream=True)
    plan = _plan(req)
    plan.ending = "error_event"
    meta = dialect.new_meta()
    chunks = list(dialect.render_sse(req, plan, Usage(1, 0, 1), meta))
    events = _events(b"".join(c.data for c in chunks))
    assert events[-1]["type"] == "response.output_text.delta"
    failed, error = _events(dialect.stream_error(dialect.mid_stream_error(True), req, meta))
    assert failed["sequence_number"] == events[-1]["sequence_number"] + 1
    assert failed["response"]["status"] == "failed"
    assert error["error"]["type"] == "server_error"
    assert error["message"] == error["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"input": "Hi"},
        {"input": "A long story", "max_output_tokens": 16, "store": False},
        {"input": "Hi", "instructions": "Be brief.", "metadata": {"route": "x"}, "temperature": 0.2},
        {"input": "Hi", "tools": [WEATHER], "tool_choice": "required"},
    ],
)
def test_the_body_bytes_are_the_json_dumped(dialect: OpenAIResponses, body: dict[str, Any]) -> None:
    req = _parse(dialect, **body)
    plan, meta = _plan(req), dialect.new_meta()
    usage = Usage(req.input_tokens, 3, plan.output_tokens)
    assert dialect.render_body(req, plan, usage, meta) == orjson.dumps(
        dialect.render_json(req, plan, usage, meta)
    )


def test_the_body_is_the_json_and_an_incomplete_plan_says_why(dialect: OpenAIResponses) -> None:
    req = _parse(dialect, input="A long story", max_output_tokens=16)
    plan, meta = _plan(req), dialect.new_meta()
    usage = Usage(req.input_tokens, 0, plan.output_tokens)
    body = json.loads(dialect.render_body(req, plan, usage, meta))
    assert body == json.loads(json.dumps(dialect.render_json(req, plan, usage, meta)))
    assert (body["status"], body["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})
    assert body["output"][0]["status"] == "incomplete"
    assert body["usage"]["total_tokens"] == req.input_tokens + plan.output_tokens
