"""The Responses API end to end: the official openai SDK against a running fake provider."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest
from pydantic import BaseModel

from fakeprovider.generation import tokens
from tests.conftest import LONG_ANSWERS
from tests.fakeprovider.dialects.conftest import WEATHER_PARAMETERS
from tests.fakeprovider.e2e import GPT, Served, serve

pytestmark = pytest.mark.usefixtures("quiet_server")

WEATHER = {"type": "function", "name": "get_weather", "parameters": WEATHER_PARAMETERS, "strict": False}


class Forecast(BaseModel):
    city: str
    days: int
    sunny: bool


@pytest.fixture
def served() -> Any:
    with serve() as s:
        yield s


def test_create_answers_a_completed_message_with_usage_and_a_request_id(served: Served) -> None:
    raw = served.openai().responses.with_raw_response.create(
        model=GPT, input="Hello there", instructions="Be brief."
    )
    r = raw.parse()
    assert raw.headers["x-request-id"].startswith("req_")
    assert r.id.startswith("resp_")
    assert (r.object, r.status, r.model, r.instructions) == ("response", "completed", GPT, "Be brief.")
    [item] = r.output
    assert item.type == "message"
    assert item.status == "completed"
    assert r.output_text == item.content[0].text
    assert r.usage is not None
    assert r.usage.output_tokens == tokens.count(r.output_text, "o200k_base")
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.usage.output_tokens_details.reasoning_tokens == 0
    rec = served.last()
    assert (rec.api, rec.model, rec.stream, rec.status, rec.outcome) == (
        "openai.responses",
        GPT,
        False,
        200,
        "ok",
    )
    assert (rec.input_tokens, rec.output_tokens) == (r.usage.input_tokens, r.usage.output_tokens)
    assert rec.cost_usd > 0
    assert rec.finish_reason == "stop"


def test_instructions_are_counted_as_a_system_prompt(served: Served) -> None:
    client = served.openai()
    bare = client.responses.create(model=GPT, input="Hello").usage
    told = client.responses.create(model=GPT, input="Hello", instructions="Answer in French.").usage
    assert bare is not None
    assert told is not None
    assert told.input_tokens - bare.input_tokens == tokens.count("Answer in French.", "o200k_base") + 4


def test_stream_helper_accumulates_the_same_response(served: Served) -> None:
    client = served.openai()
    with client.responses.stream(model=GPT, input="Tell me a story") as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [e.type for e in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert final.output_text == deltas
    assert final.status == "completed"
    assert final.usage is not None
    rec = served.last()
    assert (rec.api, rec.stream, rec.output_tokens) == ("openai.responses", True, final.usage.output_tokens)
    assert rec.ttft_ms is not None


def test_parse_with_a_pydantic_model_gets_a_valid_instance(served: Served) -> None:
    r = served.openai().responses.parse(model=GPT, input="Weather, please", text_format=Forecast)
    assert isinstance(r.output_parsed, Forecast)


def test_a_tool_round_trip_calls_then_answers_in_text(served: Served) -> None:
    client = served.openai()
    first = client.responses.create(model=GPT, input="Weather in Paris?", tools=[WEATHER])
    [call] = first.output
    assert call.type == "function_call"
    assert call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), WEATHER_PARAMETERS)
    answer = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}
    again = client.responses.create(model=GPT, input=[answer], previous_response_id=first.id, tools=[WEATHER])
    assert again.output[0].type == "message"
    assert again.output_text
    assert again.previous_response_id == first.id


def test_a_tool_round_trip_works_without_the_store_when_the_call_is_sent_back(served: Served) -> None:
    client = served.openai()
    first = client.responses.create(model=GPT, input="Weather?", tools=[WEATHER], tool_choice="required")
    call = first.output[0]
    assert call.type == "function_call"
    items: list[Any] = [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "rain"},
    ]
    assert client.responses.create(model=GPT, input=items, tools=[WEATHER], store=False).output_text


def test_an_answer_to_an_unknown_call_is_a_400(served: Served) -> None:
    with pytest.raises(openai.BadRequestError, match="No tool call found"):
        served.openai().responses.create(
            model=GPT, input=[{"type": "function_call_output", "call_id": "call_nope", "output": "x"}]
        )


def test_previous_response_id_chains_count_the_whole_conversation(served: Served) -> None:
    client = served.openai()
    one = client.responses.create(model=GPT, input="First question")
    two = client.responses.create(model=GPT, input="Second question", previous_response_id=one.id)
    three = client.responses.create(model=GPT, input="Second question")
    assert one.usage is not None
    assert two.usage is not None
    assert three.usage is not None
    assert two.usage.input_tokens > three.usage.input_tokens + one.usage.output_tokens


def test_store_false_is_not_kept_chaining_on_it_is_a_404(served: Served) -> None:
    client = served.openai()
    r = client.responses.create(model=GPT, input="Hi", store=False)
    assert r.store is False
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.create(model=GPT, input="Again", previous_response_id=r.id)
    assert info.value.code == "previous_response_not_found"
    assert info.value.param == "previous_response_id"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_get_and_delete_a_stored_response(served: Served) -> None:
    client = served.openai()
    r = client.responses.create(model=GPT, input="Hi")
    got = client.responses.retrieve(r.id)
    assert (got.id, got.output_text, got.usage) == (r.id, r.output_text, r.usage)
    deleted = served.http().delete(f"/v1/responses/{r.id}")
    assert deleted.json() == {"id": r.id, "object": "response", "deleted": True}
    assert deleted.headers["x-request-id"]
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)


def test_a_streamed_response_is_stored_too(served: Served) -> None:
    client = served.openai()
    with client.responses.stream(model=GPT, input="Hi") as stream:
        final = stream.get_final_response()
    assert client.responses.retrieve(final.id).output_text == final.output_text


def test_input_tokens_counts_as_the_call_bills(served: Served) -> None:
    client = served.openai()
    kwargs: dict[str, Any] = {
        "model": GPT,
        "input": "How many tokens?",
        "instructions": "Count.",
        "tools": [WEATHER],
    }
    counted = client.responses.input_tokens.count(**kwargs)
    billed = client.responses.create(**kwargs).usage
    assert billed is not None
    assert counted.input_tokens == billed.input_tokens
    assert counted.object == "response.input_tokens"
    assert served.records() == served.records(1)[-1:]  # counting is no model call


@pytest.mark.parametrize("stream", [False, True])
def test_max_output_tokens_ends_incomplete(stream: bool) -> None:
    with serve(LONG_ANSWERS) as served:
        _ends_incomplete(served, stream)


def _ends_incomplete(served: Served, stream: bool) -> None:
    client = served.openai()
    if stream:
        events = list(
            client.responses.create(model=GPT, input="A long story", max_output_tokens=16, stream=True)
        )
        assert events[-1].type == "response.incomplete"
        r = events[-1].response
    else:
        r = client.responses.create(model=GPT, input="A long story", max_output_tokens=16)
    assert r.status == "incomplete"
    assert r.incomplete_details is not None
    assert r.incomplete_details.reason == "max_output_tokens"
    assert r.usage is not None
    assert r.usage.output_tokens <= 16
    assert served.last().finish_reason == "length"


def test_max_output_tokens_below_16_is_refused(served: Served) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        served.openai().responses.create(model=GPT, input="Hi", max_output_tokens=5)
    assert info.value.param == "max_output_tokens"


def test_unknown_model_is_a_404(served: Served) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        served.openai().responses.create(model="gpt-nope", input="Hi")
    assert info.value.code == "model_not_found"


def test_scripted_replies_and_rules_match_the_responses_api() -> None:
    scenario = {
        "responses": [
            {"match": {"api": "openai.responses"}, "reply": {"content": "Scripted for Responses."}}
        ],
        "faults": [{"match": {"api": "openai.chat"}, "fault": {"kind": "http_error", "status": 503}}],
    }
    with serve(scenario) as s:
        client = s.openai()
        assert client.responses.create(model=GPT, input="Hi").output_text == "Scripted for Responses."
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "Hi"}])


def test_metadata_tags_the_ledger_record(served: Served) -> None:
    served.openai().responses.create(model=GPT, input="Hi", metadata={"route": "search", "tenant": "acme"})
    assert served.last().tags == {"route": "search", "feature": None, "tenant": "acme"}


def test_control_reset_empties_the_store(served: Served) -> None:
    client = served.openai()
    r = client.responses.create(model=GPT, input="Hi")
    served.control("POST", "/reset").raise_for_status()
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)


def test_the_store_keeps_the_newest_responses_only() -> None:
    with serve() as s:
        s.provider.state.responses.max_responses = 2
        client = s.openai()
        first, *_ = [client.responses.create(model=GPT, input=f"Hi {i}") for i in range(3)]
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model=GPT, input="Again", previous_response_id=first.id)
