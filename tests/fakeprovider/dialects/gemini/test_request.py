"""Gemini requests read with no sockets: the path's model and method, contents and roles,
function calling modes, Gemini's schemas, JSON output, and the errors naming bad fields."""

from __future__ import annotations

from typing import Any

import pytest

from fakeprovider.catalogue.families import DEFAULT_CATALOGUE
from fakeprovider.dialects.gemini import GeminiGenerate
from fakeprovider.dialects.gemini.schema import json_schema
from fakeprovider.errors import ProviderError
from fakeprovider.generation import tokens

GEN = GeminiGenerate()
HELLO: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
WEATHER: dict[str, Any] = {
    "functionDeclarations": [
        {
            "name": "weather",
            "parameters": {
                "type": "OBJECT",
                "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER", "minimum": 1}},
                "required": ["city", "days"],
            },
        },
        {"name": "time", "parametersJsonSchema": {"type": "object", "properties": {}}},
    ]
}


def _parse(body: dict[str, Any], model: str = "gemini-2.5-flash", method: str = "generateContent") -> Any:
    return GEN.parse(body, DEFAULT_CATALOGUE, {"version": "v1beta", "model": model, "method": method})


def _refused(body: dict[str, Any], **kwargs: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        _parse(body, **kwargs)
    return info.value


def test_the_model_comes_from_the_path_and_the_method_decides_streaming() -> None:
    plain = _parse(HELLO)
    streamed = _parse(HELLO, method="streamGenerateContent")
    assert (plain.model.id, plain.stream, streamed.stream) == ("gemini-2.5-flash", False, True)
    assert plain.api == "gemini.generate"
    assert plain.include_usage


def test_the_prompt_counts_each_turns_text_and_one_mark_per_turn() -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Hello there"}]},
            {"role": "model", "parts": [{"text": "Hi."}]},
            {"role": "user", "parts": [{"text": "Again"}]},
        ],
    }
    req = _parse(body)
    texts = ["Be brief.", "Hello there", "Hi.", "Again"]
    assert req.input_tokens == sum(tokens.count(t, "o200k_base") for t in texts) + len(texts)
    assert req.last_text == "Again"


def test_snake_case_fields_are_read_as_the_api_reads_them() -> None:
    body = {**HELLO, "system_instruction": {"parts": [{"text": "Be brief."}]}}
    assert (
        _parse(body).input_tokens
        == _parse({**HELLO, "systemInstruction": body["system_instruction"]}).input_tokens
    )


@pytest.mark.parametrize(
    ("model", "status"), [("gpt-4o", 404), ("no-such-model", 404), ("gemini-embedding-001", 404)]
)
def test_a_model_gemini_does_not_generate_with_is_a_404(model: str, status: int) -> None:
    error = _refused(HELLO, model=model)
    assert error.status == status
    assert error.kind == "model_not_found"


def test_family_ids_resolve_to_their_tier() -> None:
    assert _parse(HELLO, model="gemini-2.5-flash-preview-09-2025").model.output_per_m == 2.50
    assert _parse(HELLO, model="gemini-2.0-flash-001").model.max_output_tokens == 8192


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "contents"),
        ({"contents": []}, "contents"),
        ({"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}, "contents[0].role"),
        ({"contents": [{"role": "user", "parts": []}]}, "contents[0]"),
        ({"contents": [{"role": "user", "parts": [{}]}]}, "contents[0].parts[0]"),
        ({**HELLO, "generationConfig": {"temperature": 3}}, "generation_config.temperature"),
        ({**HELLO, "generationConfig": {"maxOutputTokens": 10**6}}, "generation_config.max_output_tokens"),
        ({**HELLO, "generationConfig": {"candidateCount": 2}}, "generation_config.candidate_count"),
        (
            {**HELLO, "generationConfig": {"responseMimeType": "text/csv"}},
            "generation_config.response_mime_type",
        ),
        (
            {**HELLO, "generationConfig": {"responseSchema": {"type": "STRING"}}},
            "generation_config.response_mime_type",
        ),
        (
            {**HELLO, "tools": [{"functionDeclarations": [{"name": ""}]}]},
            "tools[0].function_declarations[0].name",
        ),
        (
            {**HELLO, "tools": [WEATHER], "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}},
            "tool_config.function_calling_config.mode",
        ),
        (
            {**HELLO, "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}},
            "tool_config.function_calling_config.mode",
        ),
        (
            {**HELLO, "tools": [WEATHER], "toolConfig": {"functionCallingConfig": "ANY"}},
            "tool_config.function_calling_config",
        ),
        (
            {
                **HELLO,
                "tools": [WEATHER],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["nope"]}},
            },
            "tool_config.function_calling_config.allowed_function_names",
        ),
    ],
)
def test_a_bad_field_is_a_400_naming_it(body: dict[str, Any], field: str) -> None:
    error = _refused(body)
    assert (error.status, error.param) == (400, field)


def test_a_function_response_must_answer_the_turn_before() -> None:
    answer = {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"t": 20}}}]}
    alone = _refused({"contents": [HELLO["contents"][0], answer]})
    assert "immediately after a function call turn" in alone.message
    call = {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Oslo"}}}]}
    twice = {"role": "user", "parts": [answer["parts"][0], answer["parts"][0]]}
    assert (
        "number of function response parts"
        in _refused({"contents": [HELLO["contents"][0], call, twice]}).message
    )
    req = _parse({"contents": [HELLO["contents"][0], call, answer]})
    assert req.after_tool_result


@pytest.mark.parametrize(
    ("config", "choice", "names"),
    [
        (None, "auto", ["weather", "time"]),
        ({"mode": "AUTO"}, "auto", ["weather", "time"]),
        ({"mode": "NONE"}, "none", ["weather", "time"]),
        ({"mode": "ANY"}, "required", ["weather", "time"]),
        ({"mode": "ANY", "allowedFunctionNames": ["time"]}, "time", ["time"]),
        ({"mode": "ANY", "allowedFunctionNames": ["time", "weather"]}, "required", ["weather", "time"]),
    ],
)
def test_function_calling_modes_become_tool_choices(config: Any, choice: str, names: list[str]) -> None:
    body: dict[str, Any] = {**HELLO, "tools": [WEATHER]}
    if config is not None:
        body["toolConfig"] = {"functionCallingConfig": config}
    req = _parse(body)
    assert (req.tool_choice, [t.name for t in req.tools]) == (choice, names)


def test_a_functions_gemini_schema_is_read_as_json_schema() -> None:
    req = _parse({**HELLO, "tools": [WEATHER]})
    assert req.tools[0].parameters == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
        "required": ["city", "days"],
    }


def test_gemini_schema_nullable_and_int64_strings_become_json_schema() -> None:
    schema = {
        "type": "ARRAY",
        "items": {"type": "STRING", "nullable": True},
        "minItems": "1",
        "maxItems": "3",
    }
    assert json_schema(schema, "s") == {
        "type": "array",
        "items": {"type": ["string", "null"]},
        "minItems": 1,
        "maxItems": 3,
    }
    with pytest.raises(ProviderError) as info:
        json_schema({"type": "WORD"}, "response_schema")
    assert info.value.param == "response_schema.type"


@pytest.mark.parametrize(
    ("config", "output", "schema"),
    [
        ({}, "text", None),
        ({"responseMimeType": "application/json"}, "json_object", None),
        (
            {"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT", "properties": {}}},
            "json_schema",
            {"type": "object", "properties": {}},
        ),
        (
            {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object", "title": "T"}},
            "json_schema",
            {"type": "object", "title": "T"},
        ),
    ],
)
def test_json_output_follows_the_mime_type_and_schema(
    config: dict[str, Any], output: str, schema: Any
) -> None:
    req = _parse({**HELLO, "generationConfig": config})
    assert (req.output, req.output_schema) == (output, schema)
