"""Scenario files: validation errors name the field path; scripted responses answer by rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.generation.request import Tags
from fakeprovider.scenario import (
    CompiledScenario,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_json,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed: 1\nbogus: 2\n", r"^f\.yaml: bogus: unknown field$"),
        ("seed: abc\n", r"^f\.yaml: seed: Input should be a valid integer"),
        ("models: {m: {input_per_m: -1}}", r"models\.m\.input_per_m: Input should be greater than or equal"),
        ("models: {m: {encoding: p50k}}", r"models\.m\.encoding: Input should be 'cl100k_base' or"),
        (
            "responses: [{match: {modle: x}, reply: {content: a}}]",
            r"responses\.0\.match\.modle: unknown field",
        ),
        ("responses: [{match: {stream: maybe}, reply: {content: a}}]", r"responses\.0\.match\.stream: "),
        ("responses: [{reply: {}}]", r"responses\.0\.reply: give exactly one of `content`, `json`"),
        ("responses: [{reply: {content: a, json: {}}}]", r"responses\.0\.reply: give exactly one of"),
        ("responses: [{}]", r"responses\.0\.reply: Field required"),
        ("- 1\n", r"^f\.yaml: expected a mapping at the top level, got list$"),
    ],
)
def test_invalid_scenario_error_names_the_field_path(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(text, "f.yaml")


def test_bad_regex_in_last_message_names_the_field() -> None:
    text = 'responses:\n  - last_message: "(unclosed"\n    reply: {content: x}\n'
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "f.yaml")
    message = str(info.value)
    assert message.startswith("f.yaml: responses.0.last_message: invalid regular expression")
    assert "Value error" not in message


def test_invalid_yaml_error_gives_the_line_number() -> None:
    text = "seed: 1\nmodels: x: y\n"
    with pytest.raises(ScenarioError, match=r"^f\.yaml: invalid YAML \(line 2, column 10\): mapping values"):
        parse_scenario(text, "f.yaml")


def test_tab_indented_yaml_error_gives_its_line() -> None:
    with pytest.raises(ScenarioError, match=r"invalid YAML \(line 2, column 1\)"):
        parse_scenario("seed: 1\n\tmodels: {}\n", "f.yaml")


def test_empty_scenario_is_valid() -> None:
    assert parse_scenario("") == Scenario()
    assert parse_scenario("# nothing here\n") == Scenario()


def test_json_text_is_accepted() -> None:
    s = parse_scenario(json.dumps({"seed": 3, "responses": [{"reply": {"content": "hi"}}]}))
    assert s.seed == 3
    assert s.responses[0].reply.content == "hi"


def test_scenario_round_trips_through_json() -> None:
    text = "seed: 9\nresponses:\n  - match: {model: gpt-4o}\n    reply: {json: {a: 1}}\n"
    s = parse_scenario(text)
    assert parse_scenario(scenario_json(s)) == s


def test_load_scenario_names_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(ScenarioError, match=r"missing\.yaml: cannot read scenario: No such file"):
        load_scenario(path)


def test_model_override_errors_name_the_source_and_field() -> None:
    s = parse_scenario("models: {house: {input_per_m: 1}}")
    with pytest.raises(ScenarioError, match=r"^s\.yaml: models\.house: unknown model; give `api`"):
        CompiledScenario(s, DEFAULT_CATALOGUE, "s.yaml")
    s = parse_scenario("models: {house: {like: nothing-like-it}}")
    with pytest.raises(
        ScenarioError, match=r"^s\.yaml: models\.house\.like: unknown model 'nothing-like-it'"
    ):
        CompiledScenario(s, DEFAULT_CATALOGUE, "s.yaml")


def test_scripted_rules_are_tried_in_order() -> None:
    s = parse_scenario(
        """
responses:
  - {match: {route: search}, last_message: "refund", reply: {content: first}}
  - {match: {route: search}, reply: {content: second}}
  - {match: {api: anthropic}, reply: {content: third}}
"""
    )
    c = CompiledScenario(s, DEFAULT_CATALOGUE)
    search = Tags(route="search")

    def text(api: str, tags: Tags, last: str) -> str | None:
        reply = c.scripted(api, "gpt-4o", tags, False, last)
        return None if reply is None else reply.text

    assert text("openai.chat", search, "I want a refund") == "first"
    assert text("openai.chat", search, "hello") == "second"
    assert text("anthropic.messages", Tags(), "hello") == "third"
    assert text("openai.chat", Tags(), "hello") is None


SCRIPTED = """
responses:
  - name: by-model
    match: {model: gpt-4o-mini}
    reply: {content: "scripted for mini"}
  - name: by-tag
    match: {route: extract}
    reply:
      json: {title: "Login outage", priority: 1, tags: [auth]}
  - name: by-regex
    last_message: "(?i)weather in \\\\w+"
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris, unit: celsius}
  - name: anthropic-tool
    match: {api: anthropic, feature: tools}
    reply:
      tool_calls: [{name: lookup, arguments: {id: 7}}]
"""


@pytest.fixture
def scripted() -> Iterator[FakeProviderThread]:
    with FakeProviderThread(latency="none", scenario=SCRIPTED) as p:
        yield p


@pytest.fixture
def client(scripted: FakeProviderThread) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=scripted.url + "/v1", api_key="sk-test", max_retries=0)
    yield c
    c.close()


def test_scripted_content_matched_by_model(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "scripted for mini"
    assert reply.choices[0].finish_reason == "stop"


def test_scripted_content_is_streamed_too(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "scripted for mini"


def test_scripted_json_matched_by_tag(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "file a ticket"}],
        response_format={"type": "json_object"},
        extra_headers={"X-Route": "extract"},
    )
    content = reply.choices[0].message.content
    assert content is not None
    assert json.loads(content) == {"title": "Login outage", "priority": 1, "tags": ["auth"]}


def test_scripted_tool_call_matched_by_regex_on_last_message(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "weather in Rome is irrelevant here"},
            {"role": "user", "content": "What's the Weather in Paris?"},
        ],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                    },
                },
            }
        ],
    )
    assert reply.choices[0].finish_reason == "tool_calls"
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "unit": "celsius"}  # type: ignore[union-attr]


def test_unmatched_request_gets_generated_prose(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
    content = reply.choices[0].message.content
    assert content
    assert content != "scripted for mini"


def test_scripted_tool_use_through_the_anthropic_sdk(scripted: FakeProviderThread) -> None:
    client = anthropic.Anthropic(base_url=scripted.url, api_key="sk-ant-test", max_retries=0)
    try:
        msg = client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": "look it up"}],
            extra_headers={"X-Feature": "tools"},
        )
    finally:
        client.close()
    assert msg.stop_reason == "tool_use"
    (block,) = [b for b in msg.content if b.type == "tool_use"]
    assert block.name == "lookup"
    assert block.input == {"id": 7}


def test_scenario_seed_overrides_the_server_seed() -> None:
    with FakeProviderThread(latency="none", seed=1, scenario={"seed": 42}) as p:
        assert p.state.seed == 42


def test_a_scenario_error_lists_the_first_few_mistakes_and_clips_what_it_echoes() -> None:
    long_key = "k" * 500
    text = "seed: 1\n" + "".join(f"{long_key}{i}: 1\n" for i in range(20))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    message = str(info.value)
    assert message.count("unknown field") == 5
    assert message.endswith("and 15 more")
    assert len(message) < 600


def test_a_file_with_no_scenario_key_is_not_a_scenario_and_is_not_echoed() -> None:
    with pytest.raises(ScenarioError, match=r"^s\.yaml: not a scenario file \(no top-level key") as info:
        parse_scenario("root: x\ndaemon: y\n", "s.yaml")
    assert "root" not in str(info.value)
