"""OpenAI chat completions: `POST /v1/chat/completions`, JSON and SSE."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from fakeprovider import tokens
from fakeprovider.catalogue import Catalogue
from fakeprovider.ids import random_id, random_lower_id
from fakeprovider.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.protocols import Chunk, ResponseMeta, Usage
from fakeprovider.protocols.common import (
    openai_message_ids,
    optional,
    positive_int,
    require,
    tags_from,
    text_ids,
)
from fakeprovider.protocols.errors import ProviderError, invalid, model_not_found
from fakeprovider.protocols.openai_body import text_completion
from fakeprovider.request import ChatRequest, OutputMode, Tags, ToolSpec

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _content_text(content: Any, where: str) -> tuple[str, int]:
    """The text of a message's content parts and the image tokens they carry."""
    if not isinstance(content, list):
        raise invalid(f"Invalid type for '{where}': expected a string or an array.", param=where)
    texts: list[str] = []
    images = 0
    for i, part in enumerate(content):
        if not isinstance(part, dict) or "type" not in part:
            raise invalid(
                f"Invalid value for '{where}[{i}]': expected an object with 'type'.",
                param=f"{where}[{i}]",
            )
        if part["type"] == "text":
            texts.append(str(part.get("text", "")))
        elif part["type"] in ("image_url", "input_image"):
            images += tokens.IMAGE_TOKENS
        else:
            texts.append(orjson.dumps(part).decode())
    return "\n".join(texts), images


def _check_tool_turns(messages: list[dict[str, Any]]) -> None:
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


class OpenAIChat:
    api = "openai.chat"
    family = "openai"

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue) -> ChatRequest:
        model_id = require(body, "model", str, "a string")
        messages = require(body, "messages", list, "an array")
        if not messages:
            raise invalid(
                "Invalid 'messages': empty array. Expected an array with minimum length 1.",
                param="messages",
                code="empty_array",
            )
        info = catalogue.resolve(model_id)
        if info is None or info.kind != "chat":
            raise model_not_found(model_id, "openai")
        # Fields most requests leave out are looked at only when there (a check is a call).
        if "n" in body and optional(body, "n", int, "an integer") not in (None, 1):
            raise invalid("rehearsal's fake provider answers n=1 only.", param="n")
        completion_cap = (
            positive_int(body, "max_completion_tokens") if "max_completion_tokens" in body else None
        )
        legacy_cap = positive_int(body, "max_tokens")
        max_tokens = completion_cap or legacy_cap
        if max_tokens is not None and max_tokens > info.max_output_tokens:
            field = "max_completion_tokens" if completion_cap else "max_tokens"
            raise invalid(
                f"{field} is too large: {max_tokens}. This model supports at most "
                f"{info.max_output_tokens} completion tokens, whereas you provided {max_tokens}.",
                param=field,
                code="invalid_value",
            )
        stream = bool(optional(body, "stream", bool, "a boolean"))
        include_usage = "stream_options" in body and bool(
            (optional(body, "stream_options", dict, "an object") or {}).get("include_usage")
        )
        enc = info.encoding
        prompt: list[int] = []
        last_text = ""
        after_tool = False
        tool_turns = False
        for i, m in enumerate(messages):
            if not isinstance(m, dict):
                raise invalid(
                    f"Invalid type for 'messages[{i}]': expected an object.", param=f"messages[{i}]"
                )
            role = m.get("role")
            if role not in _ROLES:
                raise invalid(
                    f"Invalid value for 'messages[{i}].role': expected one of {', '.join(sorted(_ROLES))}.",
                    param=f"messages[{i}].role",
                )
            content = m.get("content")
            if content is None or isinstance(content, str):
                text, images = content or "", 0
            else:
                text, images = _content_text(content, f"messages[{i}].content")
            calls = m.get("tool_calls")
            if calls or role == "tool":
                tool_turns = True
            for call in calls or []:
                if isinstance(call, dict):
                    fn = call.get("function") or {}
                    text += f"\n{fn.get('name', '')}({fn.get('arguments', '')})"
            name = m.get("name")
            prompt.extend(openai_message_ids(role, text, name if isinstance(name, str) else None, enc))
            if images:
                prompt.extend([-8] * images)
            last_text = text
            after_tool = role in ("tool", "function")
        if tool_turns:
            _check_tool_turns(messages)
        tools = self._tools(body) if "tools" in body else []
        if tools:
            prompt.extend(text_ids(orjson.dumps(body["tools"]).decode(), enc))
        prompt.extend([-9] * tokens.REPLY_PRIMING)
        output, schema = self._response_format(body) if "response_format" in body else ("text", None)
        return ChatRequest(  # positional, in field order: cheaper than keywords
            "openai.chat",  # api
            info,  # model
            stream,
            prompt,  # prompt_ids
            last_text,
            after_tool,  # after_tool_result
            max_tokens,
            include_usage,
            tools,
            self._tool_choice(body, tools) if "tool_choice" in body else "auto",  # tool_choice
            output,
            schema,  # output_schema
        )

    def _tools(self, body: Mapping[str, Any]) -> list[ToolSpec]:
        raw = optional(body, "tools", list, "an array") or []
        out: list[ToolSpec] = []
        for i, t in enumerate(raw):
            fn = t.get("function") if isinstance(t, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise invalid(
                    f"Missing required parameter: 'tools[{i}].function.name'.",
                    param=f"tools[{i}].function.name",
                )
            params = fn.get("parameters") or {"type": "object", "properties": {}}
            if not isinstance(params, dict):
                raise invalid(
                    f"Invalid schema for function '{fn['name']}': parameters must be a JSON Schema object.",
                    param=f"tools[{i}].function.parameters",
                    code="invalid_function_parameters",
                )
            out.append(ToolSpec(fn["name"], params))
        return out

    def _tool_choice(self, body: Mapping[str, Any], tools: list[ToolSpec]) -> str:
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

    def _response_format(self, body: Mapping[str, Any]) -> tuple[OutputMode, dict[str, Any] | None]:
        fmt = optional(body, "response_format", dict, "an object")
        if fmt is None or fmt.get("type") == "text":
            return "text", None
        if fmt.get("type") == "json_object":
            return "json_object", None
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("schema", {}), dict):
                raise invalid(
                    "Missing required parameter: 'response_format.json_schema'.",
                    param="response_format.json_schema",
                )
            return "json_schema", spec.get("schema") or {"type": "object"}
        raise invalid(
            "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
            param="response_format.type",
        )

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        return tags_from(header_tags, body.get("metadata"), body.get("user"))

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta(random_id("chatcmpl-", 29), int(time.time()), random_lower_id("fp_", 10))

    def _usage(self, usage: Usage) -> dict[str, Any]:
        return {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "annotations": [],
        }
        text, calls = plan.content()
        if calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                for cid, name, args in calls
            ]
        else:
            message["content"] = text
        return {
            "id": meta.response_id,
            "object": "chat.completion",
            "created": meta.created,
            "model": req.model.id,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": plan.finish}],
            "usage": self._usage(usage),
            "service_tier": "default",
            "system_fingerprint": meta.fingerprint,
        }

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        text, calls = plan.content()
        if calls:
            return orjson.dumps(self.render_json(req, plan, usage, meta))
        return text_completion(req.model.id, text, plan.finish, usage, meta)

    def render_sse(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> Iterator[Chunk]:
        head = (
            b'data: {"id":"'
            + meta.response_id.encode()
            + b'","object":"chat.completion.chunk","created":'
            + str(meta.created).encode()
            + b',"model":'
            + orjson.dumps(req.model.id)
            + b',"service_tier":"default","system_fingerprint":"'
            + meta.fingerprint.encode()
            + b'","choices":[{"index":0,"delta":'
        )
        tail = (
            b',"logprobs":null,"finish_reason":null}]'
            + (b',"usage":null' if req.include_usage else b"")
            + b"}\n\n"
        )
        delays = plan.delays
        first_delay = delays[0] if delays else plan.tail_delay
        events = plan.events
        if events and isinstance(events[0], ToolCallStart):
            # OpenAI opens a tool-call reply with the role and the first call in one chunk, and
            # `content: null` (the SDK's stream helper would otherwise report content "").
            role: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [_call_start(events[0])],
                "refusal": None,
            }
            yield Chunk(first_delay, head + orjson.dumps(role) + tail, 0, content=True)
        else:
            yield Chunk(first_delay, head + b'{"role":"assistant","content":"","refusal":null}' + tail)
        # A text chunk is these two around the JSON string of its text.
        text_head = head + b'{"content":'
        text_tail = b"}" + tail
        dumps = orjson.dumps
        for i, event in enumerate(events):
            delay = delays[i] if i else 0.0
            if isinstance(event, TextDelta):
                data = text_head + dumps(event.text) + text_tail
                yield Chunk(delay, data, event.tokens, content=bool(event.text))
            elif isinstance(event, ToolCallStart):
                if i == 0:
                    continue
                data = head + orjson.dumps({"tool_calls": [_call_start(event)]}) + tail
                yield Chunk(delay, data, 0, content=True)
            elif isinstance(event, ToolArgsDelta):
                delta = {"tool_calls": [{"index": event.index, "function": {"arguments": event.text}}]}
                yield Chunk(delay, head + orjson.dumps(delta) + tail, event.tokens, content=bool(event.text))
        if plan.ending != "complete":
            return
        finish = (
            head
            + b"{}"
            + b',"logprobs":null,"finish_reason":"'
            + plan.finish.encode()
            + b'"}]'
            + (b',"usage":null' if req.include_usage else b"")
            + b"}\n\n"
        )
        yield Chunk(plan.tail_delay if plan.events else 0.0, finish)
        if req.include_usage:
            body = {
                "id": meta.response_id,
                "object": "chat.completion.chunk",
                "created": meta.created,
                "model": req.model.id,
                "service_tier": "default",
                "system_fingerprint": meta.fingerprint,
                "choices": [],
                "usage": self._usage(usage),
            }
            yield Chunk(0.0, b"data: " + orjson.dumps(body) + b"\n\n")
        yield Chunk(0.0, b"data: [DONE]\n\n")

    def stream_error(self, error: ProviderError) -> bytes:
        return b"data: " + orjson.dumps(error.openai_body()) + b"\n\n"


def _call_start(event: ToolCallStart) -> dict[str, Any]:
    return {
        "index": event.index,
        "id": event.call_id,
        "type": "function",
        "function": {"name": event.name, "arguments": ""},
    }
