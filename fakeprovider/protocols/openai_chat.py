"""OpenAI chat completions: `POST /v1/chat/completions`, JSON and SSE."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from fakeprovider import tokens
from fakeprovider.catalogue import Catalogue
from fakeprovider.plan import Plan, TextDelta, ToolArgsDelta, ToolCallStart, random_id
from fakeprovider.protocols import Chunk, ResponseMeta, Usage
from fakeprovider.protocols.common import message_ids, optional, positive_int, require, tags_from
from fakeprovider.protocols.errors import ProviderError, invalid, model_not_found
from fakeprovider.request import ChatRequest, OutputMode, Tags, ToolSpec

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _content_text(content: Any, where: str) -> tuple[str, int]:
    """The text of a message's content and the image tokens it carries."""
    if content is None or isinstance(content, str):
        return content or "", 0
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
        n = optional(body, "n", int, "an integer")
        if n not in (None, 1):
            raise invalid("rehearsal's fake provider answers n=1 only.", param="n")
        max_tokens = positive_int(body, "max_completion_tokens") or positive_int(body, "max_tokens")
        stream = bool(optional(body, "stream", bool, "a boolean"))
        stream_options = optional(body, "stream_options", dict, "an object") or {}
        enc = info.encoding
        prompt: list[int] = []
        last_text = ""
        after_tool = False
        for i, m in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(m, dict):
                raise invalid(f"Invalid type for '{where}': expected an object.", param=where)
            role = m.get("role")
            if role not in _ROLES:
                raise invalid(
                    f"Invalid value for '{where}.role': expected one of {', '.join(sorted(_ROLES))}.",
                    param=f"{where}.role",
                )
            text, images = _content_text(m.get("content"), f"{where}.content")
            for call in m.get("tool_calls") or []:
                if isinstance(call, dict):
                    fn = call.get("function") or {}
                    text += f"\n{fn.get('name', '')}({fn.get('arguments', '')})"
            extra = tokens.NAME_OVERHEAD if m.get("name") else 0
            prompt.extend(message_ids(role, text, enc, extra))
            prompt.extend([-8] * images)
            last_text = text
            after_tool = role in ("tool", "function")
        tools = self._tools(body)
        if tools:
            prompt.extend(tokens.encoding(enc).encode_ordinary(orjson.dumps(body["tools"]).decode()))
        prompt.extend([-9] * tokens.REPLY_PRIMING)
        output, schema = self._response_format(body)
        return ChatRequest(
            api="openai.chat",
            model=info,
            stream=stream,
            prompt_ids=prompt,
            last_text=last_text,
            after_tool_result=after_tool,
            max_tokens=max_tokens,
            include_usage=bool(stream_options.get("include_usage")),
            tools=tools,
            tool_choice=self._tool_choice(body, tools),
            output=output,
            output_schema=schema,
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
            out.append(ToolSpec(fn["name"], params))
        return out

    def _tool_choice(self, body: Mapping[str, Any], tools: list[ToolSpec]) -> str:
        choice = body.get("tool_choice")
        if choice is None:
            return "auto"
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
        return ResponseMeta(random_id("chatcmpl-", 29), int(time.time()), "fp_" + random_id("", 10).lower())

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
        calls = plan.tool_calls()
        if calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                for cid, name, args in calls
            ]
        else:
            message["content"] = plan.text()
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
        yield Chunk(first_delay, head + b'{"role":"assistant","content":"","refusal":null}' + tail)
        for i, event in enumerate(plan.events):
            delay = delays[i] if i else 0.0
            if isinstance(event, TextDelta):
                data = head + b'{"content":' + orjson.dumps(event.text) + b"}" + tail
                yield Chunk(delay, data, event.tokens, content=bool(event.text))
            elif isinstance(event, ToolCallStart):
                call = {
                    "index": event.index,
                    "id": event.call_id,
                    "type": "function",
                    "function": {"name": event.name, "arguments": ""},
                }
                yield Chunk(delay, head + orjson.dumps({"tool_calls": [call]}) + tail, 0, content=True)
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
