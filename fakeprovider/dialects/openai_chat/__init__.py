"""OpenAI chat completions: `POST /v1/chat/completions`, JSON and SSE.

The `ChatProtocol` the server is given for this route, put together from its three sides: the
request reader (`openai_request`), the whole-body renderer (`openai_body`) and the stream
encoder (`openai_stream`). They are base classes, not objects it calls, so a call through the
protocol is one ordinary method call, as cheap as before the split (this is the request path).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fakeprovider.dialects.base import ResponseMeta
from fakeprovider.dialects.common import tags_from
from fakeprovider.dialects.openai_chat.body import OpenAIBody
from fakeprovider.dialects.openai_chat.request import OpenAIRequest
from fakeprovider.dialects.openai_chat.stream import OpenAIStream
from fakeprovider.ids import random_id, random_lower_id
from fakeprovider.request import Tags


class OpenAIChat(OpenAIRequest, OpenAIBody, OpenAIStream):
    api = "openai.chat"
    family = "openai"

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        return tags_from(header_tags, body.get("metadata"), body.get("user"))

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta(random_id("chatcmpl-", 29), int(time.time()), random_lower_id("fp_", 10))
