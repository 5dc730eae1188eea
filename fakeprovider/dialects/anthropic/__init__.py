"""Anthropic messages: `POST /v1/messages`, JSON and SSE with the full event sequence.

The `ChatProtocol` the server is given for this route, put together from its three sides: the
request reader (`anthropic_request`), the whole-body renderer (`anthropic_body`) and the stream
encoder (`anthropic_stream`). They are base classes, not objects it calls, so a call through the
protocol is one ordinary method call, as cheap as before the split (this is the request path).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.dialects.anthropic.body import AnthropicBody
from fakeprovider.dialects.anthropic.request import AnthropicRequest
from fakeprovider.dialects.anthropic.stream import AnthropicStream
from fakeprovider.dialects.base import ResponseMeta
from fakeprovider.dialects.common import tags_from
from fakeprovider.ids import random_id
from fakeprovider.request import Tags


class AnthropicMessages(AnthropicRequest, AnthropicBody, AnthropicStream):
    api = "anthropic.messages"
    family = "anthropic"

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        meta = body.get("metadata")
        user = meta.get("user_id") if isinstance(meta, dict) else None
        return tags_from(header_tags, meta, user)

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta(random_id("msg_01", 22), 0, "")
