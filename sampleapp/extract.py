"""`POST /extract {"text"}`: contact fields through one forced tool call, validated, with a
capped number of re-asks when the model's call is malformed.

A re-ask sends the validation error back and asks again; it is a new provider call under the
same retry policy, and it stays on the fallback model once a call of this request needed it.

Answers are cached (`x-cache: hit|miss`): the same tenant sending the same text (whitespace
aside) within `cache_ttl_s` gets the earlier fields with no provider call. Only the primary
model's answers are kept - a degraded one is not worth pinning for the TTL - and keys carry
the tenant, the route and the model, so no tenant ever sees another's answer.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from aiohttp import web
from openai.types.chat import (
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
    ChatCompletionToolParam,
)
from pydantic import BaseModel, ConfigDict

from sampleapp.cache import TTLCache
from sampleapp.config import ExtractConfig
from sampleapp.errors import RouteError
from sampleapp.inbound import call_tags, json_response, read_body
from sampleapp.llm import LLM
from sampleapp.policy import Deadline
from sampleapp.prompt import Assembler, Turn

ROUTE, FEATURE = "extract", "contact-extraction"
TOOL_NAME = "record_contact"
CONTACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "the person's full name"},
        "email": {"type": "string", "description": "their email address"},
        "company": {"type": "string", "description": "the company they work for"},
    },
    "required": ["name", "email", "company"],
    "additionalProperties": False,
}
TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Record the contact found in the text.",
        "parameters": CONTACT_SCHEMA,
    },
}
TOOL_CHOICE: ChatCompletionToolChoiceOptionParam = {"type": "function", "function": {"name": TOOL_NAME}}
SYSTEM = Turn("system", f"Find the contact in the user's text and record it with {TOOL_NAME}.")
_VALIDATOR = jsonschema.Draft202012Validator(CONTACT_SCHEMA)


# (tenant, route, model, the text with its whitespace runs made single spaces)
CacheKey = tuple[str, str, str, str]


def normalised(text: str) -> str:
    """The text as the cache compares it: whitespace runs as one space, none at the ends."""
    return " ".join(text.split())


class ExtractIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str


def check_call(message: ChatCompletionMessage) -> tuple[dict[str, Any] | None, str]:
    """The contact fields of the model's tool call, or None and what is wrong with it."""
    calls = message.tool_calls or []
    if not calls:
        return None, f"you did not call {TOOL_NAME}"
    call = calls[0]
    if not isinstance(call, ChatCompletionMessageFunctionToolCall) or call.function.name != TOOL_NAME:
        name = call.function.name if isinstance(call, ChatCompletionMessageFunctionToolCall) else call.type
        return None, f"there is no tool {name!r}; the only tool is {TOOL_NAME}"
    try:
        fields = json.loads(call.function.arguments)
    except json.JSONDecodeError as e:
        return None, f"the arguments are not valid JSON ({e})"
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(fields))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the arguments"
        return None, f"{where}: {error.message}"
    assert isinstance(fields, dict)  # the schema says object
    return fields, ""


def reask(message: ChatCompletionMessage, problem: str) -> list[ChatCompletionMessageParam]:
    """The turns that show the model its mistake and ask again."""
    ask = f"Error: {problem}. Call {TOOL_NAME} again with name, email and company as strings."
    calls = [c for c in message.tool_calls or [] if isinstance(c, ChatCompletionMessageFunctionToolCall)]
    if not calls:
        return [{"role": "assistant", "content": message.content or ""}, {"role": "user", "content": ask}]
    turns: list[ChatCompletionMessageParam] = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.function.name, "arguments": c.function.arguments},
                }
                for c in calls
            ],
        }
    ]
    # Every call must be answered before the next turn (the API refuses the request otherwise).
    turns += [{"role": "tool", "tool_call_id": c.id, "content": ask} for c in calls]
    return turns


class Extract:
    def __init__(self, llm: LLM, config: ExtractConfig, assembler: Assembler) -> None:
        self.llm = llm
        self.config = config
        self.assembler = assembler
        self._tool_tokens = assembler.count_text(json.dumps([TOOL]))
        # `no_cache`: none, every request calls the provider.
        self.cache: TTLCache[CacheKey, dict[str, Any]] | None = (
            TTLCache(config.cache_ttl_s, config.cache_max_entries) if llm.behaviour.cache_responses else None
        )

    async def handle(self, request: web.Request) -> web.Response:
        body = await read_body(request, ExtractIn)
        prompt = self.assembler.check(
            [SYSTEM, Turn("user", body.text)], self.config.max_input_tokens, self._tool_tokens
        )
        tags, deadline = call_tags(request, ROUTE, FEATURE), Deadline(self.config.timeout_s)
        key: CacheKey = (tags.tenant, ROUTE, self.llm.config.primary_model, normalised(body.text))
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return json_response({**hit, "cached": True}, {"x-reasks": str(hit["reasks"]), "x-cache": "hit"})
        messages = prompt.messages()
        on_fallback = False
        reasks = 0
        while True:
            answer = await self.llm.complete(
                tags,
                deadline,
                messages,
                self.config.max_output_tokens,
                budget=(prompt.input_tokens, self.config.max_input_tokens),
                stages=self.llm.policy.chat_stages(on_fallback=on_fallback),
                tools=[TOOL],
                tool_choice=TOOL_CHOICE,
            )
            on_fallback = on_fallback or answer.fallback
            message = answer.value.choices[0].message
            fields, problem = check_call(message)
            if fields is not None:
                break
            if reasks >= self.config.max_reasks:
                raise RouteError(
                    502,
                    "malformed_output",
                    f"the model's {TOOL_NAME} call was still invalid after {reasks} re-asks: {problem}",
                    extra={"reasks": reasks},
                    headers={"x-reasks": str(reasks)},
                )
            reasks += 1
            messages = [*messages, *reask(message, problem)]
        degraded = self.llm.policy.signalled(on_fallback)
        headers = {"x-reasks": str(reasks)}
        if degraded:
            headers["x-degraded"] = "fallback"
        out: dict[str, Any] = {
            "fields": fields,
            "model": answer.model,
            "degraded": degraded,
            "reasks": reasks,
        }
        if self.cache is not None:
            headers["x-cache"] = "miss"
            if not on_fallback:
                self.cache.put(key, out)
        return json_response({**out, "cached": False}, headers)
