"""The Responses API's `input` items, function `tools`, `tool_choice` and `text.format`, read.

Apart from the request reader because these follow the Responses API's own item and tool
shapes (flat function tools, typed input items), which differ from chat's messages and change
on their own schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from fakeprovider.dialects.common import optional
from fakeprovider.dialects.openai_chat.tools import function_spec
from fakeprovider.dialects.openai_responses.store import Turn
from fakeprovider.errors import invalid
from fakeprovider.generation import tokens
from fakeprovider.generation.request import OutputMode, ToolSpec

_ROLES = frozenset({"user", "system", "developer", "assistant"})
_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text"})
_NO_CALLS: frozenset[str] = frozenset()
_SKIPPED = frozenset({"reasoning", "item_reference"})  # nothing a prompt would show again


def input_items(raw: Any, known_calls: set[str]) -> tuple[list[Turn], frozenset[str]]:
    """`input` as conversation items, and the ids of the function calls it shows; a
    `function_call_output` must answer a call shown here or earlier in the chain."""
    if isinstance(raw, str):
        return [Turn("user", raw)], _NO_CALLS
    if not isinstance(raw, list):
        raise invalid("Invalid type for 'input': expected a string or an array.", param="input")
    turns: list[Turn] = []
    calls: set[str] = set()
    for i, item in enumerate(raw):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise invalid(f"Invalid type for '{where}': expected an object.", param=where)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in _ROLES:
                raise invalid(
                    f"Invalid value for '{where}.role': expected one of {', '.join(sorted(_ROLES))}.",
                    param=f"{where}.role",
                )
            text, images = _content(item.get("content"), f"{where}.content")
            turns.append(Turn(role, text, images))
        elif kind == "function_call":
            call_id = _string(item, "call_id", where)
            calls.add(call_id)
            turns.append(Turn("assistant", f"{_string(item, 'name', where)}({item.get('arguments', '')})"))
        elif kind == "function_call_output":
            call_id = _string(item, "call_id", where)
            if call_id not in calls and call_id not in known_calls:
                raise invalid(f"No tool call found for function call output with call_id {call_id}.", "input")
            output = item.get("output", "")
            text, images = (output, 0) if isinstance(output, str) else _content(output, f"{where}.output")
            turns.append(Turn("tool", text, images))
        elif kind not in _SKIPPED:
            turns.append(Turn("user", orjson.dumps(item).decode()))
    return turns, frozenset(calls)


def _string(item: Mapping[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise invalid(
            f"Missing required parameter: '{where}.{name}'.",
            param=f"{where}.{name}",
            code="missing_required_parameter",
        )
    return value


def _content(content: Any, where: str) -> tuple[str, int]:
    """The text of an item's content (a string or typed parts) and the image tokens it carries."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise invalid(f"Invalid type for '{where}': expected a string or an array.", param=where)
    texts: list[str] = []
    images = 0
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS:
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        elif kind == "input_image":
            images += tokens.IMAGE_TOKENS
        elif kind is None:
            raise invalid(
                f"Invalid value for '{where}[{i}]': expected an object with 'type'.", f"{where}[{i}]"
            )
        else:
            texts.append(orjson.dumps(part).decode())
    return "\n".join(texts), images


def function_tools(body: Mapping[str, Any]) -> list[ToolSpec]:
    """The function tools offered (hosted tools, which the fake cannot run, are left out)."""
    out: list[ToolSpec] = []
    for i, tool in enumerate(optional(body, "tools", list, "an array") or []):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            continue
        name = _string(tool, "name", f"tools[{i}]")
        out.append(function_spec(name, tool.get("parameters"), f"tools[{i}].parameters"))
    return out


def tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> str:
    """`auto`, `none`, `required`, or the name of the one function the reply must call."""
    choice = body.get("tool_choice")
    if choice is None or choice in ("auto", "none", "required"):
        return choice or "auto"
    if not isinstance(choice, dict):
        raise invalid(
            "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or an object.",
            param="tool_choice",
        )
    if choice.get("type") == "allowed_tools":
        return "required" if choice.get("mode") == "required" else "auto"
    if choice.get("type") != "function":
        return "auto"  # a hosted tool: the fake answers as if free to choose
    name = choice.get("name")
    if name not in {t.name for t in tools}:
        raise invalid(f"Tool choice 'function' not found in 'tools' parameter: {name!r}.", "tool_choice")
    return str(name)


def text_format(body: Mapping[str, Any]) -> tuple[OutputMode, dict[str, Any] | None]:
    """`text.format`: plain text, any JSON object, or JSON valid against a schema."""
    fmt = (optional(body, "text", dict, "an object") or {}).get("format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt is None or kind == "text":
        return "text", None
    if kind == "json_object":
        return "json_object", None
    if kind == "json_schema":
        assert isinstance(fmt, dict)
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise invalid("Missing required parameter: 'text.format.schema'.", param="text.format.schema")
        return "json_schema", schema
    raise invalid(
        "Invalid value for 'text.format.type': expected 'text', 'json_object' or 'json_schema'.",
        param="text.format.type",
    )
