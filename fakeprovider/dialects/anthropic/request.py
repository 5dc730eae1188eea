"""An Anthropic messages request read into a `ChatRequest`, every field checked first.

Apart from the renderers because a bad request is refused before any plan exists, in the words
Anthropic's validator uses (`messages.1.content: ...`), and because the prompt's token count
(tools, system prompt, content blocks, images, tool use and results) is decided here only. The
prompt is laid out in Anthropic's cache order (tools, then system, then messages), and each
`cache_control` breakpoint is the token offset where its block ends.
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

# Anthropic takes at most four breakpoints, each with a TTL of 5 minutes (the default) or 1 hour.
MAX_BREAKPOINTS = 4
_TTL_S = {"5m": 300.0, "1h": 3600.0}


@dataclass(slots=True)
class _Content:
    """One content value as the provider reads it: text, image tokens, the tool ids it holds,
    and its `cache_control` breakpoints (characters of `text` up to each, and the TTL)."""

    text: str
    images: int = 0
    tool_uses: list[str] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    marks: list[tuple[int, float]] = field(default_factory=list)


class _Prompt:
    """The prompt's token ids as they are laid out, with the breakpoints marked on them."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.ids: list[int] = []
        self.breakpoints: list[tuple[int, float]] = []

    def add(self, role: str, content: _Content) -> None:
        start = len(self.ids) + tokens.MESSAGE_OVERHEAD
        self.ids.extend(message_ids(role, content.text, self.encoding))
        for chars, ttl in content.marks:
            # The text before a breakpoint, counted alone: the tokenizer's pre-split cuts at the
            # newline that joins blocks, so these are the first ids of the whole text.
            self.mark(start + len(text_ids(content.text[:chars], self.encoding)), ttl)
        self.ids.extend([-8] * content.images)

    def mark(self, offset: int, ttl: float) -> None:
        if len(self.breakpoints) == MAX_BREAKPOINTS:
            raise invalid(
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {MAX_BREAKPOINTS + 1}."
            )
        self.breakpoints.append((offset, ttl))


def _cache_ttl(block: Mapping[str, Any], where: str) -> float | None:
    """The TTL of a block's `cache_control` breakpoint, or None when it has none."""
    control = block.get("cache_control")
    if control is None:
        return None
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        raise invalid(f"{where}.cache_control.type: Input should be 'ephemeral'")
    ttl = control.get("ttl", "5m")
    if ttl not in _TTL_S:
        raise invalid(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")
    return _TTL_S[ttl]


class AnthropicRequest:
    """The request side of `AnthropicMessages`: a request body in, a `ChatRequest` out."""

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        """The request `body` as the provider understands it; a `ProviderError` names a bad field."""
        return self.read(body, catalogue)

    def read(self, body: Mapping[str, Any], catalogue: Catalogue, *, counting: bool = False) -> ChatRequest:
        """`parse`; with `counting`, a `count_tokens` body (no `max_tokens`, nothing to answer)."""
        check_params(body, MESSAGES)
        model_id = require(body, "model", str, "a string")
        max_tokens = positive_int(body, "max_tokens")
        if max_tokens is None and not counting:
            raise invalid("max_tokens: Field required")
        messages = require(body, "messages", list, "a list")
        if not messages:
            raise invalid("messages: at least one message is required")
        info = catalogue.resolve(model_id)
        if info is None or info.api != "anthropic" or info.kind != "chat":
            raise model_not_found(model_id)
        if max_tokens is not None and max_tokens > info.max_output_tokens:
            raise invalid(
                f"max_tokens: {max_tokens} > {info.max_output_tokens}, which is the maximum allowed "
                f"number of output tokens for {info.id}"
            )
        prompt = _Prompt(info.encoding)
        tools = _tools(body)
        if tools:
            prompt.ids.extend(text_ids(orjson.dumps(body["tools"]).decode(), info.encoding))
            # A breakpoint on any tool caches the tools as a whole (they are counted as one text).
            ttls = [t for i, tool in enumerate(body["tools"]) if (t := _cache_ttl(tool, f"tools.{i}"))]
            if ttls:
                prompt.mark(len(prompt.ids), max(ttls))
        system = body.get("system")
        if system is not None:
            prompt.add("system", _blocks_text(system, "system"))
        turns: list[_Content] = []
        for i, m in enumerate(messages):
            where = f"messages.{i}"
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                raise invalid(f"{where}.role: Input should be 'user' or 'assistant'")
            if "content" not in m:
                raise invalid(f"{where}.content: Field required")
            turn = _blocks_text(m["content"], f"{where}.content")
            prompt.add(m["role"], turn)
            turns.append(turn)
        _check_tool_turns(turns)
        last_text, after_tool = turns[-1].text, bool(turns[-1].tool_results)
        output, schema = _output(body)
        return ChatRequest(
            api="anthropic.messages",
            model=info,
            stream=bool(optional(body, "stream", bool, "a boolean")),
            prompt_ids=prompt.ids,
            last_text=last_text,
            after_tool_result=after_tool,
            max_tokens=max_tokens,
            include_usage=True,
            tools=tools,
            tool_choice=_tool_choice(body, tools),
            output=output,
            output_schema=schema,
            cache_breakpoints=tuple(prompt.breakpoints),  # none: nothing is cached
        )


def _blocks_text(content: Any, where: str) -> _Content:
    if isinstance(content, str):
        return _Content(content)
    if not isinstance(content, list):
        raise invalid(f"{where}: Input should be a valid string or list of content blocks")
    texts: list[str] = []
    out = _Content("")
    chars = -1  # characters of the joined text so far (-1: no block yet, none to join with)
    for i, block in enumerate(content):
        if not isinstance(block, dict) or "type" not in block:
            raise invalid(f"{where}.{i}: Input should be a content block object with a 'type'")
        ttl = _cache_ttl(block, f"{where}.{i}")
        joined = len(texts)
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
        if len(texts) > joined:  # an image adds tokens, not text
            chars += 1 + len(texts[-1])
        if ttl is not None:
            out.marks.append((max(chars, 0), ttl))
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
