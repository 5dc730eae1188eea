"""A Gemini `generateContent` request read into a `ChatRequest`, every field checked first.

The model and the method come from the path (`models/{model}:generateContent`,
`:streamGenerateContent`): a stream is asked for by the method, not by the body. Google's
validator names a bad field by its path in the request (`contents[0].parts[1]`); so do these
errors. Fields are read in the REST API's camelCase (snake_case is accepted too, as the API does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.catalogue.info import ModelInfo
from fakeprovider.dialects.common import text_ids
from fakeprovider.dialects.gemini.schema import json_schema
from fakeprovider.errors import ProviderError, invalid, model_not_found
from fakeprovider.generation import tokens
from fakeprovider.generation.request import ChatRequest, OutputMode, ToolSpec

# A token that marks each turn's start (the prompt-prefix cache sees the boundaries); counted in
# the prompt, never decoded.
_TURN_MARK = {"user": -3, "model": -4, "system": -1, "function": -5}
_MODES = frozenset({"AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"})


def field_of(body: Mapping[str, Any], camel: str, snake: str) -> Any:
    """A field sent in camelCase, or in snake_case (the API reads either)."""
    value = body.get(camel)
    return body.get(snake) if value is None else value


def resolve_model(catalogue: Catalogue, match: Mapping[str, str], kind: str, method: str) -> ModelInfo:
    """The path's model: a Google model of `kind`, else Google's 404 for `method`."""
    model_id = match.get("model", "")
    info = catalogue.resolve(model_id)
    if info is None or info.api != "google":
        raise model_not_found(model_id)
    if info.kind != kind:
        raise ProviderError(
            404,
            "model_not_found",
            f"models/{model_id} is not found for API version {match.get('version', 'v1beta')}, or is "
            f"not supported for {method}. Call ListModels to see the list of available models and "
            "their supported methods.",
            param="model",
        )
    return info


@dataclass(slots=True)
class Prompt:
    """The contents as the model reads them: token ids, the last turn's text, and its tool parts."""

    ids: list[int] = field(default_factory=list)
    last_text: str = ""
    after_tool_result: bool = False


def read_contents(body: Mapping[str, Any], enc: str, where: str = "contents") -> Prompt:
    """`systemInstruction` and `contents`, checked and counted."""
    prompt = Prompt()
    system = field_of(body, "systemInstruction", "system_instruction")
    if system is not None:
        text, _, _ = _parts_text(system, "system_instruction")
        prompt.ids.append(_TURN_MARK["system"])
        prompt.ids.extend(text_ids(text, enc))
    contents = body.get("contents")
    if contents is None:
        raise invalid(f"* GenerateContentRequest.{where}: contents is not specified", param=where)
    if not isinstance(contents, list) or not contents:
        raise invalid(f"* GenerateContentRequest.{where}: contents must be a non-empty list", param=where)
    calls_before = 0
    for i, content in enumerate(contents):
        at = f"{where}[{i}]"
        if not isinstance(content, dict):
            raise invalid(f"* GenerateContentRequest.{at}: expected a Content object", param=at)
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise invalid(f"Please use a valid role: user, model. ({at}.role: {role!r})", param=f"{at}.role")
        text, calls, responses = _parts_text(content, at)
        if responses and responses != calls_before:
            raise invalid(
                "Please ensure that the number of function response parts is equal to the number of "
                "function call parts of the function call turn."
                if calls_before
                else "Please ensure that function response turn comes immediately after a function "
                "call turn.",
                param=at,
            )
        calls_before = calls
        prompt.ids.append(_TURN_MARK[role])
        prompt.ids.extend(text_ids(text, enc))
        prompt.ids.extend([-8] * (tokens.IMAGE_TOKENS * _media_parts(content)))
        prompt.last_text = text
        prompt.after_tool_result = responses > 0
    return prompt


def _media_parts(content: Mapping[str, Any]) -> int:
    parts = content.get("parts") or []
    return sum(1 for p in parts if isinstance(p, dict) and ("inlineData" in p or "fileData" in p))


def _parts_text(content: Any, at: str) -> tuple[str, int, int]:
    """The text of a content's parts (function calls and responses written out), and how many
    function calls and responses it holds."""
    if not isinstance(content, dict):
        raise invalid(f"* GenerateContentRequest.{at}: expected a Content object", param=at)
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise invalid(f"* GenerateContentRequest.{at}.parts: contents.parts must not be empty.", param=at)
    texts: list[str] = []
    calls = responses = 0
    for j, part in enumerate(parts):
        where = f"{at}.parts[{j}]"
        if not isinstance(part, dict) or not part:
            raise invalid(
                f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
                "initialized field",
                param=where,
            )
        if "text" in part:
            if not isinstance(part["text"], str):
                raise invalid(f"* GenerateContentRequest.{where}.text: expected a string", param=where)
            texts.append(part["text"])
            continue
        call = field_of(part, "functionCall", "function_call")
        if call is not None:
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise invalid(
                    f"* GenerateContentRequest.{where}.function_call.name: name is required", param=where
                )
            args = call.get("args", {})
            if not isinstance(args, dict):
                raise invalid(
                    f"* GenerateContentRequest.{where}.function_call.args: expected an object", param=where
                )
            texts.append(f"{call['name']}({orjson.dumps(args).decode()})")
            calls += 1
            continue
        response = field_of(part, "functionResponse", "function_response")
        if response is not None:
            if not isinstance(response, dict) or not isinstance(response.get("name"), str):
                raise invalid(
                    f"* GenerateContentRequest.{where}.function_response.name: name is required", param=where
                )
            texts.append(orjson.dumps(response.get("response", {})).decode())
            responses += 1
            continue
        if any(k in part for k in ("inlineData", "inline_data", "fileData", "file_data", "thoughtSignature")):
            continue
        texts.append(orjson.dumps(part).decode())
    return "\n".join(texts), calls, responses


class GeminiRequest:
    """The request side of `GeminiGenerate`: a body and the path's model and method in, a
    `ChatRequest` out."""

    api: ClassVar[str] = "gemini.generate"

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        """The request as Gemini understands it; a `ProviderError` names a bad field."""
        method = match.get("method", "generateContent")
        info = resolve_model(catalogue, match, "chat", method)
        config = field_of(body, "generationConfig", "generation_config") or {}
        if not isinstance(config, dict):
            raise invalid(
                "* GenerateContentRequest.generation_config: expected an object", param="generation_config"
            )
        max_tokens = _generation_checks(config, info)
        enc = info.encoding
        prompt = read_contents(body, enc)
        tools = _tools(body)
        if "tools" in body:
            prompt.ids.extend(text_ids(orjson.dumps(body["tools"]).decode(), enc))
        choice, tools = _tool_choice(body, tools)
        output, schema = _output(config)
        return ChatRequest(
            self.api,
            info,
            method == "streamGenerateContent",  # stream
            prompt.ids,
            prompt.last_text,
            prompt.after_tool_result,
            max_tokens,
            True,  # include_usage: every answer carries usageMetadata
            tools,
            choice,
            output,
            schema,
        )


def _generation_checks(config: Mapping[str, Any], info: ModelInfo) -> int | None:
    """Check `generationConfig`'s sampling fields; the output cap it sets, if any."""
    where = "generation_config"
    for camel, snake, lo, hi in (("temperature", "temperature", 0, 2), ("topP", "top_p", 0, 1)):
        value = field_of(config, camel, snake)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise invalid(
                f"* GenerateContentRequest.{where}.{snake}: {snake} must be a number in "
                f"[{lo}, {hi}], got {value!r}",
                param=f"{where}.{snake}",
            )
    count = field_of(config, "candidateCount", "candidate_count")
    if count is not None and count != 1:
        raise invalid(
            f"* GenerateContentRequest.{where}.candidate_count: rehearsal's fake provider answers "
            f"candidateCount=1 only (got {count!r}).",
            param=f"{where}.candidate_count",
        )
    cap = field_of(config, "maxOutputTokens", "max_output_tokens")
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= info.max_output_tokens:
        raise invalid(
            f"Unable to submit request because it has a maxOutputTokens value of {cap} but the "
            f"supported range is from 1 (inclusive) to {info.max_output_tokens + 1} (exclusive). "
            "Update the value and try again.",
            param=f"{where}.max_output_tokens",
        )
    return cap


def _tools(body: Mapping[str, Any]) -> list[ToolSpec]:
    raw = body.get("tools")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid("* GenerateContentRequest.tools: expected a list of Tool objects", param="tools")
    out: list[ToolSpec] = []
    for i, tool in enumerate(raw):
        if not isinstance(tool, dict):
            raise invalid(f"* GenerateContentRequest.tools[{i}]: expected a Tool object", param=f"tools[{i}]")
        declarations = field_of(tool, "functionDeclarations", "function_declarations") or []
        for j, fn in enumerate(declarations):
            at = f"tools[{i}].function_declarations[{j}]"
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
                raise invalid(
                    f"* GenerateContentRequest.{at}.name: name cannot be empty.", param=f"{at}.name"
                )
            given = field_of(fn, "parametersJsonSchema", "parameters_json_schema")
            if given is not None:
                if not isinstance(given, dict):
                    raise invalid(
                        f"* GenerateContentRequest.{at}.parameters_json_schema: expected an object",
                        param=f"{at}.parameters_json_schema",
                    )
                params = given
            elif fn.get("parameters") is not None:
                params = json_schema(fn["parameters"], f"{at}.parameters")
            else:
                params = {"type": "object", "properties": {}}
            out.append(ToolSpec(fn["name"], params))
    return out


def _tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> tuple[str, list[ToolSpec]]:
    """`functionCallingConfig` as a tool choice, and the tools the reply may call: `ANY` with
    `allowedFunctionNames` keeps only those (one name: that function is called)."""
    tool_config = field_of(body, "toolConfig", "tool_config") or {}
    config = (
        field_of(tool_config, "functionCallingConfig", "function_calling_config")
        if isinstance(tool_config, dict)
        else None
    )
    if not config:
        return "auto", tools
    where = "tool_config.function_calling_config"
    if not isinstance(config, dict):
        raise invalid(f"* GenerateContentRequest.{where}: expected an object", param=where)
    mode = config.get("mode", "AUTO")
    if mode not in _MODES:
        raise invalid(f'* GenerateContentRequest.{where}.mode: invalid value "{mode}"', param=f"{where}.mode")
    allowed = field_of(config, "allowedFunctionNames", "allowed_function_names")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(n, str) for n in allowed)):
        raise invalid(
            f"* GenerateContentRequest.{where}.allowed_function_names: expected a list of names",
            param=f"{where}.allowed_function_names",
        )
    if allowed and mode != "ANY":
        raise invalid(
            f"* GenerateContentRequest.{where}.allowed_function_names: allowed_function_names may be set "
            "only when the mode is ANY.",
            param=f"{where}.allowed_function_names",
        )
    if mode == "NONE":
        return "none", tools
    if mode != "ANY":
        return "auto", tools
    if not tools:
        raise invalid(
            f"* GenerateContentRequest.{where}.mode: function calling mode ANY needs function_declarations.",
            param=f"{where}.mode",
        )
    if not allowed:
        return "required", tools
    names = {t.name for t in tools}
    unknown = [n for n in allowed if n not in names]
    if unknown:
        raise invalid(
            f"* GenerateContentRequest.{where}.allowed_function_names: {unknown[0]!r} is not a "
            "declared function.",
            param=f"{where}.allowed_function_names",
        )
    kept = [t for t in tools if t.name in allowed]
    return (kept[0].name if len(kept) == 1 else "required"), kept


def _output(config: Mapping[str, Any]) -> tuple[OutputMode, dict[str, Any] | None]:
    """JSON output: `responseMimeType: application/json`, shaped by `responseSchema` (Gemini's
    schema) or `responseJsonSchema` (JSON Schema)."""
    where = "generation_config"
    mime = field_of(config, "responseMimeType", "response_mime_type") or "text/plain"
    schema = field_of(config, "responseSchema", "response_schema")
    given = field_of(config, "responseJsonSchema", "response_json_schema")
    if schema is not None and given is not None:
        raise invalid(
            f"* GenerateContentRequest.{where}: response_schema and response_json_schema cannot both be set.",
            param=f"{where}.response_json_schema",
        )
    if mime not in ("text/plain", "application/json", "text/x.enum"):
        raise invalid(
            f"* GenerateContentRequest.{where}.response_mime_type: allowed mimetypes are `text/plain`, "
            f"`application/json` and `text/x.enum`; got {mime!r}.",
            param=f"{where}.response_mime_type",
        )
    if mime == "text/x.enum":
        return "text", None  # an enum's answer is one of its values as plain text: not modelled
    if mime != "application/json":
        if schema is not None or given is not None:
            raise invalid(
                f"* GenerateContentRequest.{where}.response_mime_type: a response schema needs "
                "response_mime_type application/json.",
                param=f"{where}.response_mime_type",
            )
        return "text", None
    if given is not None:
        if not isinstance(given, dict):
            raise invalid(
                f"* GenerateContentRequest.{where}.response_json_schema: expected an object",
                param=f"{where}.response_json_schema",
            )
        return "json_schema", given
    if schema is not None:
        return "json_schema", json_schema(schema, f"{where}.response_schema")
    return "json_object", None
