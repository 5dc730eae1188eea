"""OpenAI chat completions: `POST /v1/chat/completions`, JSON and SSE.

The dialect put together from its sides: the request reader (`request`), the whole-body
renderer (`body`), the stream encoder (`stream`), the recorded-answer reader for replay
(`recorded`) and what every OpenAI surface shares (`openai_wire`). They are base classes, not
objects it calls, so a call through the dialect is one ordinary method call (this is the
request path).
"""

from __future__ import annotations

import time

from fakeprovider.dialects.base import ChatDialect, ResponseMeta
from fakeprovider.dialects.openai_chat.body import OpenAIBody
from fakeprovider.dialects.openai_chat.recorded import OpenAIChatRecorded
from fakeprovider.dialects.openai_chat.request import OpenAIRequest
from fakeprovider.dialects.openai_chat.stream import OpenAIStream
from fakeprovider.dialects.openai_wire import OpenAIWire
from fakeprovider.generation.ids import random_id, random_lower_id


class OpenAIChat(OpenAIRequest, OpenAIBody, OpenAIStream, OpenAIChatRecorded, OpenAIWire, ChatDialect):
    api = "openai.chat"

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta(random_id("chatcmpl-", 29), int(time.time()), random_lower_id("fp_", 10))
