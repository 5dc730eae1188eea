"""Anthropic messages: `POST /v1/messages`, JSON and SSE with the full event sequence.

The dialect put together from its sides: the request reader (`request`), the whole-body
renderer (`body`), the stream encoder (`stream`), the replay reader (`recorded`) and ids,
errors, headers and models (`wire`).
They are base classes, not objects it calls, so a call through the dialect is one ordinary
method call (this is the request path).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.dialects.anthropic.body import AnthropicBody
from fakeprovider.dialects.anthropic.recorded import AnthropicRecorded
from fakeprovider.dialects.anthropic.request import AnthropicRequest
from fakeprovider.dialects.anthropic.stream import AnthropicStream
from fakeprovider.dialects.anthropic.wire import AnthropicWire
from fakeprovider.dialects.base import ChatDialect, ResponseMeta
from fakeprovider.dialects.common import tags_from
from fakeprovider.generation.ids import random_id
from fakeprovider.generation.request import Tags


class AnthropicMessages(
    AnthropicRequest, AnthropicBody, AnthropicStream, AnthropicRecorded, AnthropicWire, ChatDialect
):
    api = "anthropic.messages"

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        meta = body.get("metadata")
        user = meta.get("user_id") if isinstance(meta, dict) else None
        return tags_from(header_tags, meta, user)

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta(random_id("msg_01", 22), 0, "")
