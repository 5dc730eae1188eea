"""A Bedrock Converse request read into a `ChatRequest`, every field checked first.

Apart from the renderers because a bad request is refused before any plan exists, as Bedrock's
validator words it (`1 validation error detected: Value '0' at 'inferenceConfig.maxTokens'
failed to satisfy constraint: …`), and because the model comes from the path, not the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.bedrock.models import resolve
from fakeprovider.dialects.common import message_ids, text_ids
from fakeprovider.errors import ProviderError, invalid
from fakeprovider.generation import tokens
from fakeprovider.generation.request import ChatRequest, OutputMode, ToolSpec

# The path's operation (`/model/{modelId}/converse-stream`) is what makes a stream.
STREAM_OPERATION = "converse-stream"


def constraint(path: str, value: Any, rule: str) -> ProviderError:
    """Bedrock's validation error: which value, where, and what it must be."""
    shown = "null" if value is None else f"'{value}'"
    return invalid(
        f"1 validation error detected: Value {shown} at '{path}' failed to satisfy constraint: {rule}",
        param=path,
    )


def invalid_model() -> ProviderError:
    # Bedrock answers an id it does not serve with a ValidationException (documented in its
    # troubleshooting guide), not ResourceNotFoundException.
    return invalid("The provided model identifier is invalid.", param="modelId")


class BedrockRequest:
    """The request side of `BedrockConverse`: a body and the path's model in, a `ChatRequest` out."""

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        """The request as Bedrock understands it; a `ProviderError` names a bad field."""
        info = resolve(catalogue, match.get("modelId", ""))
        if info is None:
            raise invalid_model()
        max_tokens, output, schema = _inference(body, info.max_output_tokens)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise constraint("messages", None, "Member must not be null")
        enc = info.encoding
        prompt: list[int] = []
        for i, block in enumerate(_list(body, "system")):
            if not isinstance(block, dict):
                raise constraint(f"system.{i}", block, "Member must be a structure")
            if "text" in block:
                prompt.extend(message_ids("system", str(block["text"]), enc))
        last_text, after_tool = "", False
        for i, m in enumerate(messages):
            where = f"messages.{i + 1}.member"
            role = m.get("role") if isinstance(m, dict) else None
            if role not in ("user", "assistant"):
                raise constraint(
                    f"{where}.role", role, "Member must satisfy enum value set: [user, assistant]"
                )
            content = m.get("content")
            if not isinstance(content, list):
                raise constraint(f"{where}.content", None, "Member must not be null")
            last_text, images, after_tool = _content_text(content, f"{where}.content")
            prompt.extend(message_ids(role, last_text, enc))
            prompt.extend([-8] * images)
        if messages[0].get("role") != "user":
            raise invalid(
                "A conversation must start with a user message. Try again with a conversation that "
                "starts with a user message."
            )
        tools, choice = _tools(body)
        if tools:
            prompt.extend(text_ids(orjson.dumps(body["toolConfig"]["tools"]).decode(), enc))
        return ChatRequest(
            api="bedrock.converse",
            model=info,
            stream=match.get("operation") == STREAM_OPERATION,
            prompt_ids=prompt,
            last_text=last_text,
            after_tool_result=after_tool,
            max_tokens=max_tokens,
            include_usage=True,
            tools=tools,
            tool_choice=choice,
            output=output,
            output_schema=schema,
        )


def _object(value: Any, path: str) -> dict[str, Any]:
    """`value` where a structure is expected (None: an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise constraint(path, value, "Member must be a structure")
    return value


def _list(body: Mapping[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise constraint(name, value, "Member must be a list")
    return value


def _number(config: Mapping[str, Any], name: str, lo: float, hi: float) -> None:
    value = config.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise constraint(f"inferenceConfig.{name}", value, f"Member must have value between {lo} and {hi}")


def _inference(
    body: Mapping[str, Any], model_max: int
) -> tuple[int | None, OutputMode, dict[str, Any] | None]:
    """`inferenceConfig`'s output cap (checked against the model's) and `outputConfig`'s format."""
    config = _object(body.get("inferenceConfig"), "inferenceConfig")
    _number(config, "temperature", 0, 1)
    _number(config, "topP", 0, 1)
    max_tokens = config.get("maxTokens")
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise constraint(
                "inferenceConfig.maxTokens", max_tokens, "Member must have value greater than or equal to 1"
            )
        if max_tokens > model_max:
            raise invalid(
                f"The maximum tokens you requested exceeds the model limit of {model_max}. Try again "
                f"with a maximum tokens value that is lower than {model_max}.",
                param="inferenceConfig.maxTokens",
            )
    stops = config.get("stopSequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise constraint("inferenceConfig.stopSequences", stops, "Member must be a list of strings")
    output = _object(body.get("outputConfig"), "outputConfig")
    fmt = _object(output.get("textFormat"), "outputConfig.textFormat")
    if not fmt:
        return max_tokens, "text", None
    structure = _object(fmt.get("structure"), "outputConfig.textFormat.structure")
    raw = _object(structure.get("jsonSchema"), "outputConfig.textFormat.structure.jsonSchema").get("schema")
    try:
        schema = orjson.loads(raw) if isinstance(raw, str) else None
    except orjson.JSONDecodeError:
        schema = None
    if not isinstance(schema, dict) or fmt.get("type") != "json_schema":
        raise invalid(
            "outputConfig.textFormat: expected {type: json_schema, structure: {jsonSchema: "
            "{schema: <a JSON Schema as a string>}}}",
            param="outputConfig.textFormat",
        )
    return max_tokens, "json_schema", schema


def _content_text(content: list[Any], where: str) -> tuple[str, int, bool]:
    """A message's text as the model reads it, its image tokens, and whether it answers a tool."""
    texts: list[str] = []
    images = 0
    tool_result = False
    for i, block in enumerate(content):
        if not isinstance(block, dict):
            raise constraint(f"{where}.{i + 1}.member", block, "Member must be a structure")
        if "text" in block:
            texts.append(str(block["text"]))
        elif "toolUse" in block:
            use = block["toolUse"] if isinstance(block["toolUse"], dict) else {}
            texts.append(f"{use.get('name', '')}({orjson.dumps(use.get('input', {})).decode()})")
        elif "toolResult" in block:
            tool_result = True
            result = block["toolResult"] if isinstance(block["toolResult"], dict) else {}
            for part in result.get("content") or []:
                if isinstance(part, dict) and "text" in part:
                    texts.append(str(part["text"]))
                elif isinstance(part, dict) and "json" in part:
                    texts.append(orjson.dumps(part["json"]).decode())
        elif "image" in block or "document" in block:
            images += tokens.IMAGE_TOKENS
    return "\n".join(texts), images, tool_result


def _tools(body: Mapping[str, Any]) -> tuple[list[ToolSpec], str]:
    config = _object(body.get("toolConfig"), "toolConfig")
    if not config:
        return [], "auto"
    if not isinstance(config.get("tools"), list):
        raise constraint("toolConfig.tools", None, "Member must not be null")
    out: list[ToolSpec] = []
    for i, tool in enumerate(config["tools"]):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if spec is None:
            continue  # a cachePoint or system tool: nothing the model calls by name
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise constraint(
                f"toolConfig.tools.{i + 1}.member.toolSpec.name", None, "Member must not be null"
            )
        where = f"toolConfig.tools.{i + 1}.member.toolSpec.inputSchema"
        schema = _object(spec.get("inputSchema"), where).get("json") or {"type": "object", "properties": {}}
        if not isinstance(schema, dict):
            raise constraint(
                f"toolConfig.tools.{i + 1}.member.toolSpec.inputSchema.json",
                schema,
                "Member must be an object",
            )
        out.append(ToolSpec(spec["name"], schema))
    choice = _object(config.get("toolChoice"), "toolConfig.toolChoice")
    if not choice or "auto" in choice:
        return out, "auto"
    if "any" in choice:
        return out, "required"
    name = _object(choice.get("tool"), "toolConfig.toolChoice.tool").get("name")
    if name in {t.name for t in out}:
        return out, str(name)
    raise invalid(
        "toolConfig.toolChoice: expected {auto: {}}, {any: {}} or {tool: {name: <a tool in tools>}}",
        param="toolConfig.toolChoice",
    )
