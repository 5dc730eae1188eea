"""A Responses API request read into a `ResponsesRequest`, every field checked first.

The prompt is counted as the chat dialect counts messages: `instructions` as a system message
first, then the stored conversation `previous_response_id` continues, then `input`'s items, the
function tools, and the reply priming. The fields the response repeats back are kept as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from fakeprovider.catalogue.families import Catalogue
from fakeprovider.dialects.common import openai_message_ids, require, text_ids
from fakeprovider.dialects.openai_params import Check, check_params, decimal, integer, of_type
from fakeprovider.dialects.openai_responses.items import function_tools, input_items, text_format, tool_choice
from fakeprovider.dialects.openai_responses.store import ResponseStore, Turn
from fakeprovider.errors import ProviderError, invalid, model_not_found
from fakeprovider.generation import tokens
from fakeprovider.generation.request import ChatRequest

# The request fields a response object repeats, with the API's values when they are not sent.
ECHOED: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_p": 1.0,
    "text": {"format": {"type": "text"}, "verbosity": "medium"},
    "truncation": "disabled",
    "user": None,
}


_NO_CALLS: set[str] = set()  # read only

_BOOLEAN = of_type(bool, "a boolean")
_STRING = of_type(str, "a string")

# The optional parameters' checks (`openai_params.check_params`), with the API's own floor on
# `max_output_tokens`: it refuses caps below 16 tokens.
PARAMS: dict[str, Check] = {
    "temperature": decimal(0, 2),
    "top_p": decimal(0, 1),
    "max_output_tokens": integer(16),
    "stream": _BOOLEAN,
    "store": _BOOLEAN,
    "parallel_tool_calls": _BOOLEAN,
    "instructions": _STRING,
    "previous_response_id": _STRING,
    "user": _STRING,
}


@dataclass(slots=True)
class ResponsesRequest(ChatRequest):
    """A chat request, and what the Responses API adds: the store and the fields echoed back."""

    store: bool = True
    previous_response_id: str | None = None
    items: tuple[Turn, ...] = ()  # this turn's input items, kept for a later turn's chain
    call_ids: frozenset[str] = frozenset()
    echo: dict[str, Any] = field(default_factory=dict)  # the echoed fields the body set

    def echoed(self) -> dict[str, Any]:
        """Every field a response object repeats: as sent, else the API's default."""
        return {**ECHOED, **self.echo}


def previous_not_found(response_id: str) -> ProviderError:
    return ProviderError(
        404,
        "not_found",
        f"Previous response with id '{response_id}' not found.",
        code="previous_response_not_found",
        param="previous_response_id",
    )


class ResponsesReader:
    """The request side of `OpenAIResponses`: a request body in, a `ResponsesRequest` out."""

    api: ClassVar[str]
    store: ResponseStore

    def parse(
        self, body: Mapping[str, Any], catalogue: Catalogue, match: Mapping[str, str]
    ) -> ResponsesRequest:
        """The request `body` as the provider understands it; a `ProviderError` names a bad field."""
        check_params(body, PARAMS)
        model_id = require(body, "model", str, "a string")
        info = catalogue.resolve(model_id)
        if info is None or info.kind != "chat":
            raise model_not_found(model_id)
        get = body.get
        cap: int | None = get("max_output_tokens")
        if cap is not None and cap > info.max_output_tokens:
            raise invalid(
                f"max_output_tokens is too large: {cap}. This model supports at most "
                f"{info.max_output_tokens} output tokens, whereas you provided {cap}.",
                param="max_output_tokens",
                code="invalid_value",
            )
        # Types checked above (`PARAMS`): the values are read as sent.
        stream = get("stream") is True
        instructions: str | None = get("instructions")
        previous: str | None = get("previous_response_id")
        keep = get("store") is not False
        history: list[Turn] = []
        known_calls: set[str] = _NO_CALLS
        if previous:
            if self.store.get(previous) is None:
                raise previous_not_found(previous)
            history, known_calls = self.store.chain(previous)
        if "input" not in body and not previous:
            raise invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        items, call_ids = input_items(body.get("input", []), known_calls)
        enc = info.encoding
        prompt: list[int] = []
        if instructions:
            prompt.extend(openai_message_ids("system", instructions, None, enc))
        for turn in (*history, *items) if history else items:
            prompt.extend(openai_message_ids(turn.role, turn.text, None, enc))
            if turn.images:
                prompt.extend([-8] * turn.images)
        tools = function_tools(body) if "tools" in body else []
        if tools:
            prompt.extend(text_ids(orjson.dumps(body["tools"]).decode(), enc))
        prompt.extend([-9] * tokens.REPLY_PRIMING)
        output, schema = text_format(body) if "text" in body else ("text", None)
        last = items[-1] if items else (history[-1] if history else Turn("user", ""))
        # Over the body's few keys, not the echoed names: a request sends three or four.
        echo = {name: value for name, value in body.items() if name in ECHOED}
        return ResponsesRequest(  # positional, in field order: cheaper than keywords
            self.api,  # api (a surface built on this one keeps its own name)
            info,  # model
            stream,
            prompt,  # prompt_ids
            last.text,  # last_text
            last.role == "tool",  # after_tool_result
            cap,  # max_tokens
            False,  # include_usage
            tools,
            tool_choice(body, tools) if "tool_choice" in body else "auto",
            output,
            schema,  # output_schema
            None,  # deployment (the Responses API names models, not deployments)
            None,  # cache_breakpoints: OpenAI caches prefixes by itself
            keep,  # store
            previous or None,  # previous_response_id
            tuple(items),
            call_ids,
            echo,
        )
