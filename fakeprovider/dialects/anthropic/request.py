"""An Anthropic messages request read into a `ChatRequest`, every field checked first.

Apart from the renderers because a bad request is refused before any plan exists, in the words
Anthropic's validator uses (`messages.1.content: ...`), and because the prompt's token count
(system prompt, content blocks, images, tool use and results, tools) is decided here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.anthropic.params import MESSAGES
from fakeprovider.dialects.common import message_ids, optional, positive_int, require, text_ids
from fakeprovider.dialects.openai_params import check_params
from fakeprovider.errors import invalid, model_not_found
from fakeprovider.generation import tokens
from fakeprovider.generation.request import ChatRequest, OutputMode, ToolSpec


@dataclass(slots=True)
class _Content:
    """One content value as the provider reads it: text, image tokens, and the tool ids it holds."""

    text: str
    images: int = 0
    tool_uses: list[str] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)


class AnthropicRequest:
    """The request side of `AnthropicMessages`: a request body in, a `ChatRequest` out."""

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        """The request `body` as the provider understands it; a `ProviderError` names a bad field."""
        check_params(body, MESSAGES)
        model_id = require(body, "model", str, "a string")
        max_tokens = positive_int(body, "max_tokens")
        if max_tokens is None:
            raise invalid("max_tokens: Field required")
        messages = require(body, "messages", list, "a list")
        if not messages:
            raise invalid("messages: at least one message is required")
        info = catalogue.resolve(model_id)
        if info is None or info.api != "anthropic" or info.kind != "chat":
            raise model_not_found(model_id)
        if max_tokens > info.max_output_tokens:
            raise invalid(
                f"max_tokens: {max_tokens} > {info.max_output_tokens}, which is the maximum allowed "
                f"number of output tokens for {info.id}"
            )
        enc = info.encoding
        prompt: list[int] = []
        system = body.get("system")
        if system is not None:
            prompt.extend(message_ids("system", _blocks_text(system, "system").text, enc))
        turns: list[_Content] = []
        for i, m in enumerate(messages):
            where = f"messages.{i}"
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                raise invalid(f"{where}.role: Input should be 'user' or 'assistant'")
            if "content" not in m:
                raise invalid(f"{where}.content: Field required")
            turn = _blocks_text(m["content"], f"{where}.content")
            prompt.extend(message_ids(m["role"], turn.text, enc))
            prompt.extend([-8] * turn.images)
            turns.append(turn)
        _check_tool_turns(turns)
        last_text, after_tool = turns[-1].text, bool(turns[-1].tool_results)
        tools = _tools(body)
        if tools:
            prompt.extend(text_ids(orjson.dumps(body["tools"]).decode(), enc))
        output, schema = _output(body)
        return ChatRequest(
            api="anthropic.messages",
            model=info,
            stream=bool(optional(body, "stream", bool, "a boolean")),
            prompt_ids=prompt,
            last_text=last_text,
            after_tool_result=after_tool,
            max_tokens=max_tokens,
            include_usage=True,
            tools=tools,
            tool_choice=_tool_choice(body, tools),
            output=output,
            output_schema=schema,
        )


def _blocks_text(content: Any, where: str) -> _Content:
    if isinstance(content, str):
        return _Content(content)
    if not isinstance(content, list):
        raise invalid(f"{where}: Input should be a valid string or list of content blocks")
    texts: list[str] = []
    out = _Content("")
    for i, block in enumerate(content):
        if not isinstance(block, dict) or "type" not in block:
            raise invalid(f"{where}.{i}: Input should be a content block object with a 'type'")
        kind = block["type"]
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "image":
            out.images += tokens.IMAGE_TOKENS
        elif kind == "tool_use":
            out.tool_uses.append(str(block.get("id", "")))
            texts.append(f"{block.get('name', '')}({orjson.dumps(block.get('input', {})).decode()})")
        elif kind == "tool_result":
            out.tool_results.append(str(block.get("tool_use_id", "")))
            inner = _blocks_text(block.get("content", ""), f"{where}.{i}.content")
            texts.append(inner.text)
            out.images += inner.images
        else:
            texts.append(orjson.dumps(block).decode())
    out.text = "\n".join(texts)
    return out


def _check_tool_turns(turns: list[_Content]) -> None:
    """Every `tool_use` is answered by a `tool_result` in the next message, and every
    `tool_result` answers a `tool_use` of the message before, as Anthropic insists."""
    for i, turn in enumerate(turns):
        before = turns[i - 1].tool_uses if i else []
        unexpected = [r for r in turn.tool_results if r not in before]
        if unexpected:
            raise invalid(
                f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{unexpected[0]}. Each `tool_result` block must have a corresponding `tool_use` "
                "block in the previous message."
            )
        if turn.tool_uses and i + 1 < len(turns):
            missing = [u for u in turn.tool_uses if u not in turns[i + 1].tool_results]
            if missing:
                raise invalid(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message."
                )


def _tools(body: Mapping[str, Any]) -> list[ToolSpec]:
    raw = optional(body, "tools", list, "a list") or []
    out: list[ToolSpec] = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str):
            raise invalid(f"tools.{i}.name: Field required")
        schema = t.get("input_schema") or {"type": "object", "properties": {}}
        if not isinstance(schema, dict):
            raise invalid(f"tools.{i}.input_schema: Input should be a valid dictionary")
        out.append(ToolSpec(t["name"], schema))
    return out


def _tool_choice(body: Mapping[str, Any], tools: list[ToolSpec]) -> str:
    choice = body.get("tool_choice")
    if choice is None:
        return "auto"
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind in ("any", "tool") and not tools:
        raise invalid("tool_choice: tool_choice may only be specified while providing tools.")
    if kind == "any":
        return "required"
    if kind in ("auto", "none"):
        return str(kind)
    if kind == "tool" and choice.get("name") in {t.name for t in tools}:
        return str(choice["name"])
    raise invalid("tool_choice: expected {type: auto|any|none} or {type: tool, name: <a tool in tools>}")


def _output(body: Mapping[str, Any]) -> tuple[OutputMode, dict[str, Any] | None]:
    # Structured outputs: `output_config.format` (GA, what `messages.parse` sends), or the
    # beta's top-level `output_format`.
    config = optional(body, "output_config", dict, "an object") or {}
    fmt = config.get("format") or body.get("output_format")
    if fmt is None:
        return "text", None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise invalid("output_config.format.type: Input should be 'json_schema'")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise invalid("output_config.format.schema: Field required")
    return "json_schema", schema
