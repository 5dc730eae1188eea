"""The non-streamed OpenAI chat completion: the JSON value, and the bytes sent.

Apart from the stream encoder because a whole completion is one object, and a text reply (the
common case) is filled into a byte template: the same bytes `orjson.dumps` makes of
`render_json`'s dict (a test holds them equal), at a fraction of the cost: no dicts to build,
one `%` and three string escapes per answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from fakeprovider.dialects.base import ResponseMeta, Usage
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ChatRequest

_USAGE = (
    b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
    b'"prompt_tokens_details":{"cached_tokens":%d,"audio_tokens":0},'
    b'"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,'
    b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
)

_COMPLETION = (
    b'{"id":%b,"object":"chat.completion","created":%d,"model":%b,"choices":[{"index":0,'
    b'"message":{"role":"assistant","content":%b,"refusal":null,"annotations":[]},'
    b'"logprobs":null,"finish_reason":%b}],"usage":' + _USAGE + b',"service_tier":"default",'
    b'"system_fingerprint":%b}'
)


def usage_json(usage: Usage) -> dict[str, Any]:
    """The `usage` object of a completion (and of a stream's last chunk), as `_USAGE` spells it."""
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


class OpenAIBody:
    """The whole-body side of `OpenAIChat`: a plan rendered as one chat completion."""

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
            "usage": usage_json(usage),
            "service_tier": "default",
            "system_fingerprint": meta.fingerprint,
        }

    def render_body(self, req: ChatRequest, plan: Plan, usage: Usage, meta: ResponseMeta) -> bytes:
        text, calls = plan.content()
        if calls:
            return orjson.dumps(self.render_json(req, plan, usage, meta))
        return text_completion(req.model.id, text, plan.finish, usage, meta)


def text_completion(model: str, text: str, finish: str, usage: Usage, meta: ResponseMeta) -> bytes:
    """A whole chat completion whose message is `text` (no tool calls)."""
    dumps = orjson.dumps
    i, o = usage.input_tokens, usage.output_tokens
    return _COMPLETION % (
        dumps(meta.response_id),
        meta.created,
        dumps(model),
        dumps(text),
        dumps(finish),
        i,
        o,
        i + o,
        usage.cached_tokens,
        dumps(meta.fingerprint),
    )
