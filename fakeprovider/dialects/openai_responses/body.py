"""The Responses API's response object: its output items, usage and status, as JSON and bytes.

Apart from the stream encoder because the stream sends this object three times (created,
then completed or failed) and `GET /v1/responses/{id}` answers with it, so it is built here
once per shape; and because what a stored response keeps for a later turn is decided here.
A text answer (the common case) is filled into a byte template, the same bytes `orjson.dumps`
makes of `render_json`'s dict (a test holds them equal): the dicts cost a fifth of the
`responses` benchmark's gap to its target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import orjson

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.dialects.openai_responses.request import ECHOED, ResponsesRequest
from fakeprovider.dialects.openai_responses.store import ResponseStore, StoredResponse
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ChatRequest

# Why a complete plan ends short, in the API's words (`incomplete_details.reason`).
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
_REASONING = {"effort": None, "summary": None}
_DEFAULT_ECHO = orjson.dumps(ECHOED)[1:-1]
_COMPLETED = (b'"completed"', b"")
# A text response's `status` and `incomplete_details` bytes, by the plan's finish.
_TEXT_ENDS = {
    finish: (b'"incomplete"', b'{"reason":"%b"}' % reason.encode()) for finish, reason in _INCOMPLETE.items()
}
_TEXT_RESPONSE = (
    b'{"id":"%b","object":"response","created_at":%d,"status":%b,"background":false,"completed_at":%b,'
    b'"error":null,"incomplete_details":%b,%b,"model":%b,"output":[{"id":"msg_%b00","type":"message",'
    b'"status":%b,"role":"assistant","content":[{"type":"output_text","annotations":[],"logprobs":[],'
    b'"text":%b}]}],"reasoning":{"effort":null,"summary":null},"service_tier":"default","store":%b,'
    b'"usage":{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d,"cache_write_tokens":0},'
    b'"output_tokens":%d,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":%d}}'
)


@dataclass(slots=True)
class ResponsesMeta(ResponseMeta):
    """A response's ids, and how far its stream got: a mid-stream error continues the
    sequence numbers."""

    sequence: int = 0

    def item_id(self, prefix: str, index: int = 0) -> str:
        """The id of output item `index`: derived from the response id, so every event and the
        final object agree without keeping a table."""
        return f"{prefix}{self.response_id[5:]}{index:02d}"


def status_of(plan: Plan) -> tuple[str, dict[str, str] | None]:
    """`status` and `incomplete_details` of a plan that ran to its end."""
    reason = _INCOMPLETE.get(plan.finish)
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def message_item(meta: ResponsesMeta, text: str | None, status: str) -> dict[str, Any]:
    """The assistant message output item; `text` None while it has no content part yet."""
    content = [] if text is None else [text_part(text)]
    return {
        "id": meta.item_id("msg_"),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def call_item(meta: ResponsesMeta, index: int, call: tuple[str, str, str], status: str) -> dict[str, Any]:
    call_id, name, arguments = call
    return {
        "id": meta.item_id("fc_", index),
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def output_items(meta: ResponsesMeta, plan: Plan, status: str) -> list[dict[str, Any]]:
    text, calls = plan.content()
    if calls:
        return [call_item(meta, i, call, "completed") for i, call in enumerate(calls)]
    return [message_item(meta, text, status)]


def response_json(
    req: ResponsesRequest,
    meta: ResponsesMeta,
    status: str,
    output: list[dict[str, Any]],
    usage: Usage | None,
    **details: Any,
) -> dict[str, Any]:
    """The response object in `status`; `details` sets `error` or `incomplete_details`."""
    return {
        "id": meta.response_id,
        "object": "response",
        "created_at": meta.created,
        "status": status,
        "background": False,
        "completed_at": meta.created if status == "completed" else None,
        "error": details.get("error"),
        "incomplete_details": details.get("incomplete_details"),
        **req.echoed(),
        "model": req.model.id,
        "output": output,
        "reasoning": _REASONING,
        "service_tier": "default",
        "store": req.store,
        "usage": None if usage is None else usage_json(usage),
    }


def final_json(req: ResponsesRequest, plan: Plan, usage: Usage, meta: ResponsesMeta) -> dict[str, Any]:
    status, incomplete = status_of(plan)
    return response_json(
        req, meta, status, output_items(meta, plan, status), usage, incomplete_details=incomplete
    )


def remember(
    store: ResponseStore,
    req: ResponsesRequest,
    answer: tuple[str, list[tuple[str, str, str]]],
    response_id: str,
    body: bytes,
) -> None:
    """Keep a finished response (`answer`: its plan's `content()`) for `GET` and for a later
    turn, unless the caller said `store: false`."""
    if not req.store:
        return
    text, calls = answer
    stored = StoredResponse(body, req.previous_response_id, req.items, req.call_ids, text, tuple(calls))
    store.put(response_id, stored)


class ResponsesBody:
    """The whole-body side of `OpenAIResponses`: a plan rendered as one response object."""

    store: ResponseStore

    def render_json(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> dict[str, Any]:
        return final_json(cast(ResponsesRequest, req), plan, usage, cast(ResponsesMeta, meta))

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        r = cast(ResponsesRequest, req)
        answer = plan.content()
        text, calls = answer
        if calls:
            body = orjson.dumps(self.render_json(req, plan, usage, meta))
        else:
            body = text_response(r, text, plan.finish, usage, cast(ResponsesMeta, meta))
        remember(self.store, r, answer, meta.response_id, body)
        return body


def text_response(req: ResponsesRequest, text: str, finish: str, usage: Usage, meta: ResponsesMeta) -> bytes:
    """A whole response whose one output item is a message of `text`, ended by `finish`."""
    dumps = orjson.dumps
    status, details = _TEXT_ENDS.get(finish, _COMPLETED)
    # Ids are `resp_` and lowercase letters and digits: no JSON escaping, and the message id
    # is `item_id("msg_")` spelt in bytes.
    rid = meta.response_id.encode()
    i, o = usage.input_tokens, usage.output_tokens
    echo = req.echo
    return _TEXT_RESPONSE % (
        rid,
        meta.created,
        status,
        b"null" if details else b"%d" % meta.created,
        details or b"null",
        dumps({**ECHOED, **echo})[1:-1] if echo else _DEFAULT_ECHO,
        dumps(req.model.id),
        rid[5:],
        status,
        dumps(text),
        b"true" if req.store else b"false",
        i,
        usage.cached_tokens,
        o,
        i + o,
    )
