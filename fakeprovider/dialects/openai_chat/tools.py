"""OpenAI chat requests' tools: the `tools` specs, `tool_choice`, and the rule on tool messages.

Apart from the message parsing in `openai_request` because these checks follow OpenAI's rules
for function calling, which change on their own schedule, and most requests never reach them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.dialects.common import optional
from fakeprovider.errors import invalid
from fakeprovider.generation.request import ToolSpec


def tool_specs(body: Mapping[str, Any]) -> list[ToolSpec]:
    """The functions `tools` offers, each with its JSON Schema parameters."""
    raw = optional(body, "tools", list, "an array") or []
    out: list[ToolSpec] = []
    for i, t in enumerate(raw):
        fn = t.get("function") if isinstance(t, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise invalid(
                f"Missing required parameter: 'tools[{i}].function.name'.",
                param=f"tools[{i}].function.name",
            )
        out.append(function_spec(fn["name"], fn.get("parameters"), f"tools[{i}].function.parameters"))
    return out


def function_spec(name: str, parameters: Any, where: str) -> ToolSpec:
    """One function tool; its `parameters` (absent: none) must be a JSON Schema object, found at
    `where` in the request (chat nests functions, the Responses API does not)."""
    params = parameters or {"type": "object", "properties": {}}
    if not isinstance(params, dict):
        raise invalid(
            f"Invalid schema for function '{name}': parameters must be a JSON Schema object.",
            param=where,
            code="invalid_function_parameters",
        )
    return ToolSpec(name, params)


def tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> str:
    """`auto`, `none`, `required`, or the name of the one tool the reply must call."""
    choice = body.get("tool_choice")
    if choice is None:
        return "auto"
    if not tools:
        raise invalid(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise invalid(
                "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or an object.",
                param="tool_choice",
            )
        return choice
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    if not isinstance(name, str) or name not in {t.name for t in tools}:
        raise invalid(
            f"Invalid value for 'tool_choice': no tool named {name!r} in 'tools'.",
            param="tool_choice",
        )
    return name


def check_tool_turns(messages: list[dict[str, Any]]) -> None:
    """Tool messages answer, each one, the tool calls of the assistant message before them, as
    OpenAI insists (a common bug in a route's tool loop)."""
    calls: set[str] | None = None  # the ids of the last assistant turn's tool calls
    pending: set[str] = set()  # those not answered yet
    for i, m in enumerate(messages):
        if m["role"] == "tool":
            call_id = m.get("tool_call_id")
            if not isinstance(call_id, str):
                raise invalid(
                    "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
                    param=f"messages.[{i}].tool_call_id",
                )
            if calls is None:
                raise invalid(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    param=f"messages.[{i}].role",
                )
            if call_id not in calls:
                raise invalid(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in 'tool_calls' of "
                    "previous message.",
                    param=f"messages.[{i}].tool_call_id",
                )
            pending.discard(call_id)
            continue
        _no_unanswered(pending, i - 1)
        calls = None
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = {str(c.get("id")) for c in m["tool_calls"] if isinstance(c, dict)}
            pending = set(calls)
    _no_unanswered(pending, len(messages) - 1)


def _no_unanswered(pending: set[str], index: int) -> None:
    if pending:
        raise invalid(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to "
            "each 'tool_call_id'. The following tool_call_ids did not have response messages: "
            + ", ".join(sorted(pending)),
            param=f"messages.[{index}].role",
        )
