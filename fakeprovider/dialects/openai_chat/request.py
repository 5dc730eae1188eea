"""An OpenAI chat completions request read into a `ChatRequest`, every field checked first.

Apart from the renderers because a bad request is refused before any plan exists, with the
message, `param` and `code` OpenAI itself would give, and because the prompt's token count
(OpenAI's per-message framing, images, tools) is decided here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.common import openai_message_ids, optional, positive_int, require, text_ids
from fakeprovider.dialects.openai_chat.tools import check_tool_turns, tool_choice, tool_specs
from fakeprovider.dialects.openai_params import CHAT, check_params
from fakeprovider.errors import invalid, model_not_found
from fakeprovider.generation import tokens
from fakeprovider.generation.request import ChatRequest, OutputMode

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class OpenAIRequest:
    """The request side of `OpenAIChat`: a request body in, a `ChatRequest` out."""

    api: ClassVar[str]

    def parse(self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]) -> ChatRequest:
        """The request `body` as the provider understands it; a `ProviderError` names a bad field."""
        check_params(body, CHAT)
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
            raise model_not_found(model_id)
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
            check_tool_turns(messages)
        tools = tool_specs(body) if "tools" in body else []
        if tools:
            prompt.extend(text_ids(orjson.dumps(body["tools"]).decode(), enc))
        prompt.extend([-9] * tokens.REPLY_PRIMING)
        output, schema = _response_format(body) if "response_format" in body else ("text", None)
        return ChatRequest(  # positional, in field order: cheaper than keywords
            self.api,  # the ledger's name of the dialect parsing: this one, or one built on it
            info,  # model
            stream,
            prompt,  # prompt_ids
            last_text,
            after_tool,  # after_tool_result
            max_tokens,
            include_usage,
            tools,
            tool_choice(body, tools) if "tool_choice" in body else "auto",  # tool_choice
            output,
            schema,  # output_schema
        )


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


def _response_format(body: Mapping[str, Any]) -> tuple[OutputMode, dict[str, Any] | None]:
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
