"""Bad input gets the provider's own 4xx, in its own shape: never a traceback, never a hang.

Each case goes over raw HTTP (so the SDKs' own checks cannot hide it) and, where an SDK will
send it at all, through the official SDK too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from fakeprovider import FakeProviderThread
from fakeprovider.generation import tokens
from tests.fakeprovider.dialects.conftest import CLAUDE, RawResponse, post_json, raw_request

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
EMBEDDINGS = "/v1/embeddings"
HI: list[Any] = [{"role": "user", "content": "hi"}]
OPENAI_PATHS = [CHAT, EMBEDDINGS]


def assert_openai_error(resp: RawResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The body is exactly OpenAI's error shape; returns the inner error object."""
    assert resp.status == status, resp.body
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-request-id"]
    body = resp.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in error["message"]
    assert error["type"] == "invalid_request_error"
    if code is not None:
        assert error["code"] == code
    return dict(error)


def assert_anthropic_error(resp: RawResponse, status: int, kind: str = "invalid_request_error") -> str:
    """The body is exactly Anthropic's error shape; returns the message."""
    assert resp.status == status, resp.body
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["request-id"]
    body = resp.json()
    assert set(body) == {"type", "error"}
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == kind
    assert "Traceback" not in body["error"]["message"]
    return str(body["error"]["message"])


# --- unparseable bodies ------------------------------------------------------------------------

UNPARSEABLE = [
    pytest.param(b"{not json", id="malformed"),
    pytest.param(b'{"model": "gpt-4o", "messages": [', id="truncated"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b"[" * 5000 + b"]" * 5000, id="too-deep"),
]


@pytest.mark.parametrize("body", UNPARSEABLE)
@pytest.mark.parametrize("path", OPENAI_PATHS)
def test_malformed_json_gets_openai_invalid_request_error(
    provider: FakeProviderThread, path: str, body: bytes
) -> None:
    error = assert_openai_error(raw_request(provider.url, path, body), 400)
    assert "JSON" in error["message"]


@pytest.mark.parametrize("body", UNPARSEABLE)
def test_malformed_json_on_messages_gets_the_anthropic_error_shape(
    provider: FakeProviderThread, body: bytes
) -> None:
    resp = raw_request(provider.url, MESSAGES, body)
    assert "JSON" in assert_anthropic_error(resp, 400)
    assert resp.headers["x-should-retry"] == "false"


NOT_AN_OBJECT = [b"[1, 2]", b'"text"', b"42", b"null", b"true", b""]


@pytest.mark.parametrize("body", NOT_AN_OBJECT)
def test_body_that_is_not_an_object_is_refused(provider: FakeProviderThread, body: bytes) -> None:
    for path in OPENAI_PATHS:
        error = assert_openai_error(raw_request(provider.url, path, body), 400)
        assert "object" in error["message"]
    assert "object" in assert_anthropic_error(raw_request(provider.url, MESSAGES, body), 400)


# --- missing fields and wrong types ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        pytest.param({"model": "gpt-4o"}, "messages", id="no-messages"),
        pytest.param({"messages": HI}, "model", id="no-model"),
        pytest.param({}, "model", id="empty-object"),
    ],
)
def test_missing_chat_fields_are_named(provider: FakeProviderThread, body: Any, param: str) -> None:
    error = assert_openai_error(post_json(provider.url, CHAT, body), 400, "missing_required_parameter")
    assert error["param"] == param
    assert param in error["message"]


def test_missing_embedding_input_is_named(provider: FakeProviderThread) -> None:
    error = assert_openai_error(post_json(provider.url, EMBEDDINGS, {"model": "text-embedding-3-small"}), 400)
    assert error["param"] == "input"


CHAT_WRONG_TYPES = [
    pytest.param({"messages": "hi"}, "messages", id="messages-a-string"),
    pytest.param({"messages": []}, "messages", id="messages-empty"),
    pytest.param({"messages": [42]}, "messages[0]", id="message-not-an-object"),
    pytest.param({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role", id="bad-role"),
    pytest.param({"messages": [{"role": "user", "content": 42}]}, "messages[0].content", id="content-int"),
    pytest.param(
        {"messages": [{"role": "user", "content": [{"text": "x"}]}]},
        "messages[0].content[0]",
        id="content-part-without-type",
    ),
    pytest.param({"model": 4}, "model", id="model-a-number"),
    pytest.param({"max_tokens": "ten"}, "max_tokens", id="max-tokens-a-string"),
    pytest.param({"max_tokens": 0}, "max_tokens", id="max-tokens-zero"),
    pytest.param({"max_tokens": -5}, "max_tokens", id="max-tokens-negative"),
    pytest.param({"max_tokens": True}, "max_tokens", id="max-tokens-a-boolean"),
    pytest.param({"max_tokens": 2.5}, "max_tokens", id="max-tokens-a-float"),
    pytest.param({"max_completion_tokens": 0}, "max_completion_tokens", id="max-completion-tokens-zero"),
    pytest.param({"max_tokens": 1_000_000}, "max_tokens", id="max-tokens-above-the-model"),
    pytest.param({"stream": "yes"}, "stream", id="stream-a-string"),
    pytest.param({"stream_options": "usage"}, "stream_options", id="stream-options-a-string"),
    pytest.param({"n": 3}, "n", id="n-above-one"),
    pytest.param({"tools": "get_weather"}, "tools", id="tools-a-string"),
    pytest.param({"tools": [{"type": "function"}]}, "tools[0].function.name", id="tool-without-name"),
    pytest.param(
        {
            "tools": [{"type": "function", "function": {"name": "a"}}],
            "tool_choice": {"type": "function", "function": {"name": "b"}},
        },
        "tool_choice",
        id="tool-choice-names-a-missing-tool",
    ),
    pytest.param(
        {"tools": [{"type": "function", "function": {"name": "a"}}], "tool_choice": "sometimes"},
        "tool_choice",
        id="tool-choice-unknown",
    ),
    pytest.param({"tool_choice": "required"}, "tool_choice", id="tool-choice-without-tools"),
    pytest.param({"response_format": {"type": "yaml"}}, "response_format.type", id="response-format-unknown"),
    pytest.param({"response_format": "json"}, "response_format", id="response-format-a-string"),
    pytest.param(
        {"response_format": {"type": "json_schema"}}, "response_format.json_schema", id="json-schema-missing"
    ),
]


@pytest.mark.parametrize(("patch", "param"), CHAT_WRONG_TYPES)
def test_wrong_chat_field_is_refused_and_named(
    provider: FakeProviderThread, patch: dict[str, Any], param: str
) -> None:
    body = {"model": "gpt-4o", "messages": HI, **patch}
    error = assert_openai_error(post_json(provider.url, CHAT, body), 400)
    assert error["param"] == param


MESSAGES_WRONG_TYPES = [
    pytest.param({"max_tokens": None}, "max_tokens", id="max-tokens-missing"),
    pytest.param({"max_tokens": "ten"}, "max_tokens", id="max-tokens-a-string"),
    pytest.param({"max_tokens": 0}, "max_tokens", id="max-tokens-zero"),
    pytest.param({"max_tokens": 10_000_000}, "max_tokens", id="max-tokens-above-the-model"),
    pytest.param({"messages": None}, "messages", id="messages-missing"),
    pytest.param({"messages": "hi"}, "messages", id="messages-a-string"),
    pytest.param({"messages": []}, "messages", id="messages-empty"),
    pytest.param({"messages": [{"role": "system", "content": "x"}]}, "messages.0.role", id="system-role"),
    pytest.param({"messages": [{"role": "user"}]}, "messages.0.content", id="content-missing"),
    pytest.param({"messages": [{"role": "user", "content": 42}]}, "messages.0.content", id="content-int"),
    pytest.param({"system": 42}, "system", id="system-a-number"),
    pytest.param({"model": None}, "model", id="model-missing"),
    pytest.param({"stream": "yes"}, "stream", id="stream-a-string"),
    pytest.param({"tools": [{"input_schema": {}}]}, "tools.0.name", id="tool-without-name"),
    pytest.param({"tool_choice": {"type": "tool", "name": "nope"}}, "tool_choice", id="tool-choice-unknown"),
    pytest.param({"tool_choice": {"type": "any"}}, "tool_choice", id="tool-choice-without-tools"),
]


@pytest.mark.parametrize(("patch", "field"), MESSAGES_WRONG_TYPES)
def test_wrong_messages_field_is_refused_and_named(
    provider: FakeProviderThread, patch: dict[str, Any], field: str
) -> None:
    body = {"model": CLAUDE, "max_tokens": 16, "messages": HI, **patch}
    body = {k: v for k, v in body.items() if v is not None}
    message = assert_anthropic_error(post_json(provider.url, MESSAGES, body), 400)
    assert field in message


def test_wrong_types_through_the_openai_sdk_raise_bad_request(openai_client: openai.OpenAI) -> None:
    bad: list[dict[str, Any]] = [{"max_tokens": "ten"}, {"max_tokens": 0}, {"n": 2}]
    for patch in bad:
        with pytest.raises(openai.BadRequestError) as err:
            openai_client.chat.completions.create(model="gpt-4o", messages=HI, **patch)
        assert err.value.status_code == 400
        assert err.value.type == "invalid_request_error"
        assert err.value.param == next(iter(patch))
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(model="gpt-4o", messages=[])


def test_wrong_types_through_the_anthropic_sdk_raise_bad_request(
    anthropic_client: anthropic.Anthropic,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as err:
        anthropic_client.messages.create(model=CLAUDE, max_tokens=0, messages=HI)
    assert err.value.status_code == 400
    assert isinstance(err.value.body, dict)
    assert err.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.create(model=CLAUDE, max_tokens=16, messages=[])


# --- tool turns out of step ---------------------------------------------------------------------

CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
CALL_2 = {"id": "call_2", "type": "function", "function": {"name": "f", "arguments": "{}"}}
F_TOOL = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        pytest.param(
            [*HI, {"role": "tool", "tool_call_id": "call_1", "content": "x"}],
            "must be a response to a preceeding message with 'tool_calls'",
            id="tool-without-call",
        ),
        pytest.param(
            [*HI, {"role": "assistant", "tool_calls": [CALL]}, {"role": "tool", "content": "x"}],
            "must have a 'tool_call_id'",
            id="tool-without-id",
        ),
        pytest.param(
            [
                *HI,
                {"role": "assistant", "tool_calls": [CALL]},
                {"role": "tool", "tool_call_id": "x", "content": "x"},
            ],
            "'tool_call_id' of 'x' not found",
            id="tool-answers-another-call",
        ),
        pytest.param(
            [
                *HI,
                {"role": "assistant", "tool_calls": [CALL, CALL_2]},
                {"role": "tool", "tool_call_id": "call_1", "content": "x"},
                *HI,
            ],
            "did not have response messages: call_2",
            id="one-call-unanswered",
        ),
        pytest.param(
            [*HI, {"role": "assistant", "tool_calls": [CALL]}],
            "did not have response messages: call_1",
            id="ends-on-unanswered-call",
        ),
    ],
)
def test_tool_messages_out_of_step_are_refused(
    openai_client: openai.OpenAI, messages: list[Any], words: str
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(model="gpt-4o", messages=messages, tools=F_TOOL)  # type: ignore[arg-type]
    assert words in err.value.message


def test_answered_parallel_tool_calls_are_accepted(openai_client: openai.OpenAI) -> None:
    messages: Any = [
        *HI,
        {"role": "assistant", "content": None, "tool_calls": [CALL, CALL_2]},
        {"role": "tool", "tool_call_id": "call_2", "content": "second"},
        {"role": "tool", "tool_call_id": "call_1", "content": "first"},
    ]
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=messages, tools=F_TOOL)
    assert reply.choices[0].message.content


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
ANSWER = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        pytest.param(
            [{"role": "user", "content": [ANSWER]}],
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
            id="result-without-use",
        ),
        pytest.param(
            [*HI, {"role": "assistant", "content": [TOOL_USE]}, {"role": "user", "content": "and?"}],
            "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
            id="use-without-result",
        ),
    ],
)
def test_anthropic_tool_turns_out_of_step_are_refused(
    anthropic_client: anthropic.Anthropic, messages: list[Any], words: str
) -> None:
    tools: Any = [{"name": "f", "input_schema": {"type": "object"}}]
    with pytest.raises(anthropic.BadRequestError) as err:
        anthropic_client.messages.create(model=CLAUDE, max_tokens=16, messages=messages, tools=tools)
    assert isinstance(err.value.body, dict)
    assert words in err.value.body["error"]["message"]


# --- schemas no value can be made for ----------------------------------------------------------

BAD_SCHEMAS = [
    pytest.param({"type": "object", "properties": {"x": {"type": "wizard"}}}, id="unknown-type"),
    pytest.param(
        {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}}, id="remote-ref"
    ),
    pytest.param({"$ref": "#/$defs/Missing"}, id="dangling-ref"),
    pytest.param({"type": "object", "properties": {"x": False}, "required": ["x"]}, id="unsatisfiable"),
    pytest.param({"type": "object", "properties": ["x"]}, id="properties-a-list"),
]


@pytest.mark.parametrize("schema", BAD_SCHEMAS)
def test_tool_schema_no_value_fits_is_a_400_not_a_crash(
    provider: FakeProviderThread, schema: dict[str, Any]
) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
    body = {"model": "gpt-4o", "messages": HI, "tools": tools, "tool_choice": "required"}
    error = assert_openai_error(post_json(provider.url, CHAT, body), 400, "invalid_function_parameters")
    assert error["param"] == "tools[0].function.parameters"
    assert "'f'" in error["message"]
    body = {
        "model": CLAUDE,
        "max_tokens": 64,
        "messages": HI,
        "tools": [{"name": "f", "input_schema": schema}],
        "tool_choice": {"type": "any"},
    }
    assert "Invalid schema" in assert_anthropic_error(post_json(provider.url, MESSAGES, body), 400)
    assert [(r.status, r.outcome) for r in provider.state.ledger.records()] == [(400, "error")] * 2


@pytest.mark.parametrize("parameters", ["an object, honest", [1, 2], 7])
def test_tool_parameters_that_are_not_a_schema_are_refused(
    openai_client: openai.OpenAI, parameters: Any
) -> None:
    tools: Any = [{"type": "function", "function": {"name": "f", "parameters": parameters}}]
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(model="gpt-4o", messages=HI, tools=tools, tool_choice="none")
    assert err.value.param == "tools[0].function.parameters"


@pytest.mark.parametrize("schema", BAD_SCHEMAS)
def test_response_format_schema_no_value_fits_is_a_400(
    openai_client: openai.OpenAI, schema: dict[str, Any]
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gpt-4o",
            messages=HI,
            response_format={"type": "json_schema", "json_schema": {"name": "out", "schema": schema}},
        )
    assert err.value.param == "response_format"


# --- unknown models ----------------------------------------------------------------------------


def test_unknown_model_is_404_model_not_found(provider: FakeProviderThread) -> None:
    body = {"model": "gpt-nonexistent-9", "messages": HI}
    error = assert_openai_error(post_json(provider.url, CHAT, body), 404, "model_not_found")
    assert error["param"] == "model"
    assert "gpt-nonexistent-9" in error["message"]
    body = {"model": "no-such-embedder", "input": "x"}
    assert_openai_error(post_json(provider.url, EMBEDDINGS, body), 404, "model_not_found")
    body = {"model": "mistral-large-2", "max_tokens": 5, "messages": HI}
    message = assert_anthropic_error(post_json(provider.url, MESSAGES, body), 404, "not_found_error")
    assert "mistral-large-2" in message


def test_unknown_model_raises_the_sdks_not_found_error(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.NotFoundError) as oerr:
        openai_client.chat.completions.create(model="gpt-nonexistent-9", messages=HI)
    assert oerr.value.status_code == 404
    assert oerr.value.code == "model_not_found"
    assert oerr.value.request_id
    with pytest.raises(anthropic.NotFoundError) as aerr:
        anthropic_client.messages.create(model="mistral-large-2", max_tokens=5, messages=HI)
    assert aerr.value.status_code == 404
    assert aerr.value.request_id
    assert isinstance(aerr.value.body, dict)
    assert aerr.value.body["error"]["type"] == "not_found_error"


def test_an_embedding_model_cannot_chat(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        openai_client.chat.completions.create(model="text-embedding-3-small", messages=HI)
    assert err.value.code == "model_not_found"


def test_a_gpt_model_is_unknown_to_the_anthropic_api(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client.messages.create(model="gpt-4o", max_tokens=5, messages=HI)


# --- context window ----------------------------------------------------------------------------

LONG_TEXT = "The ledger records every call and its tokens. " * 1000  # ~9,000 tokens


def test_prompt_over_the_context_window_is_context_length_exceeded(openai_client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": LONG_TEXT}], max_tokens=10
        )
    assert err.value.status_code == 400
    assert err.value.code == "context_length_exceeded"
    assert err.value.type == "invalid_request_error"
    assert err.value.param == "messages"
    # Counted with the real tokenizer: OpenAI's message framing plus the text's cl100k tokens.
    expected = 3 + 1 + tokens.count(LONG_TEXT, "cl100k_base") + 3
    assert "8192" in err.value.message
    assert str(expected) in err.value.message


def test_the_same_prompt_fits_a_model_with_a_larger_window(openai_client: openai.OpenAI) -> None:
    reply = openai_client.chat.completions.create(
        model="gpt-4-32k", messages=[{"role": "user", "content": LONG_TEXT}], max_tokens=3
    )
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 8192


def test_context_length_error_is_in_the_openai_shape(provider: FakeProviderThread) -> None:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": LONG_TEXT}]}
    assert_openai_error(post_json(provider.url, CHAT, body), 400, "context_length_exceeded")


@pytest.fixture
def small_window_provider() -> Iterator[FakeProviderThread]:
    scenario = {"models": {"claude-tiny": {"like": "claude-haiku-4-5", "context_window": 200}}}
    with FakeProviderThread(latency="none", seed=0, scenario=scenario) as p:
        yield p


def test_anthropic_prompt_over_the_context_window_is_refused(
    small_window_provider: FakeProviderThread,
) -> None:
    with anthropic.Anthropic(base_url=small_window_provider.url, api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.BadRequestError) as err:
            client.messages.create(
                model="claude-tiny", max_tokens=5, messages=[{"role": "user", "content": LONG_TEXT[:2000]}]
            )
        assert isinstance(err.value.body, dict)
        assert err.value.body["error"]["type"] == "invalid_request_error"
        assert "prompt is too long" in err.value.body["error"]["message"]
        ok = client.messages.create(model="claude-tiny", max_tokens=5, messages=HI)
        assert ok.usage.input_tokens < 200


# --- oversized bodies --------------------------------------------------------------------------

OVERSIZED = 9 * 1024 * 1024


def _oversized_chat() -> bytes:
    return json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "a" * OVERSIZED}]}
    ).encode()


def test_oversized_body_is_413_in_the_openai_shape(provider: FakeProviderThread) -> None:
    started = time.monotonic()
    resp = raw_request(provider.url, CHAT, _oversized_chat(), timeout=15)
    assert time.monotonic() - started < 10
    assert resp.status == 413
    body = resp.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert "Traceback" not in resp.body.decode()


def test_oversized_body_is_413_in_the_anthropic_shape(provider: FakeProviderThread) -> None:
    resp = raw_request(provider.url, MESSAGES, _oversized_chat(), timeout=15)
    assert resp.status == 413
    body = resp.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "request_too_large"


def test_oversized_body_through_the_sdks(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    huge = [{"role": "user", "content": "b" * OVERSIZED}]
    with pytest.raises(openai.APIStatusError) as oerr:
        openai_client.chat.completions.create(model="gpt-4o", messages=huge)  # type: ignore[arg-type]
    assert oerr.value.status_code == 413
    with pytest.raises(anthropic.APIStatusError) as aerr:
        anthropic_client.messages.create(model=CLAUDE, max_tokens=5, messages=huge)  # type: ignore[arg-type]
    assert aerr.value.status_code == 413


def test_server_keeps_serving_after_an_oversized_body(
    provider: FakeProviderThread, openai_client: openai.OpenAI
) -> None:
    raw_request(provider.url, CHAT, _oversized_chat(), timeout=15)
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=2)
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 2


# --- the ledger and the rest -------------------------------------------------------------------


def test_every_bad_request_is_recorded_as_an_error(provider: FakeProviderThread) -> None:
    url = provider.url
    sent = [
        raw_request(url, CHAT, b"{oops"),
        raw_request(url, MESSAGES, b"[]"),
        raw_request(url, EMBEDDINGS, b"{oops"),
        post_json(url, CHAT, {"model": "gpt-4o", "messages": "hi"}),
        post_json(url, CHAT, {"model": "gpt-4o", "messages": HI, "max_tokens": 0}),
        post_json(url, CHAT, {"model": "missing-model", "messages": HI}),
        post_json(url, MESSAGES, {"model": "mistral-large-2", "max_tokens": 5, "messages": HI}),
        post_json(url, CHAT, {"model": "gpt-4", "messages": [{"role": "user", "content": LONG_TEXT}]}),
        raw_request(url, CHAT, _oversized_chat(), timeout=15),
    ]
    records = provider.state.ledger.records()
    assert [r.status for r in records] == [r.status for r in sent]
    assert [r.status for r in sent] == [400, 400, 400, 400, 400, 404, 404, 400, 413]
    assert all(r.outcome == "error" for r in records)
    assert [r.api for r in records] == [
        "openai.chat",
        "anthropic.messages",
        "openai.embeddings",
        *["openai.chat"] * 3,
        "anthropic.messages",
        "openai.chat",
        "openai.chat",
    ]
    assert all(r.output_tokens == 0 and r.cost_usd == 0 for r in records)
    assert [r.request_id for r in records] == [
        s.headers.get("x-request-id") or s.headers.get("request-id") for s in sent
    ]


def test_sdk_does_not_retry_a_bad_request(provider: FakeProviderThread) -> None:
    with (
        openai.OpenAI(base_url=provider.url + "/v1", api_key="k", max_retries=3) as oai,
        anthropic.Anthropic(base_url=provider.url, api_key="k", max_retries=3) as ant,
    ):
        with pytest.raises(openai.BadRequestError):
            oai.chat.completions.create(model="gpt-4o", messages=HI, max_tokens=0)
        with pytest.raises(anthropic.BadRequestError):
            ant.messages.create(model=CLAUDE, max_tokens=0, messages=HI)
    assert [r.attempt for r in provider.state.ledger.records()] == [1, 1]


def test_unknown_route_is_404(provider: FakeProviderThread) -> None:
    for path in ("/v1/nothing-here", "/v2/chat/completions", "/"):
        resp = post_json(provider.url, path, {"model": "gpt-4o"})
        assert resp.status == 404
        assert b"Traceback" not in resp.body


def test_wrong_method_on_an_api_route_is_refused(provider: FakeProviderThread) -> None:
    resp = raw_request(provider.url, CHAT, method="GET")
    assert resp.status == 405
