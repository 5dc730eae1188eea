"""OpenAI Responses API: `POST /v1/responses` (JSON and SSE) and the stored responses' routes.

The dialect put together, as the chat dialect is, from its sides: the request reader (`request`,
with `items`), the response object (`body`), the stream encoder (`stream`), the recorded-answer
reader for replay (`recorded`) and what every OpenAI surface shares (`openai_wire`). It reads
and fills a `ResponseStore` (`store`):
`previous_response_id` continues a stored conversation, a finished response is kept. The store
is the provider state's (`ProviderState.responses`), handed over when the app is built: the
instance in `DIALECTS` is shared by every server, so it keeps nothing. `routes` serves
`GET`/`DELETE /v1/responses/{id}` and `POST /v1/responses/input_tokens`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fakeprovider.dialects.base import ChatDialect
from fakeprovider.dialects.common import tags_from
from fakeprovider.dialects.openai_responses.body import ResponsesBody, ResponsesMeta
from fakeprovider.dialects.openai_responses.recorded import ResponsesRecorded
from fakeprovider.dialects.openai_responses.request import ResponsesReader
from fakeprovider.dialects.openai_responses.store import ResponseStore
from fakeprovider.dialects.openai_responses.stream import ResponsesStream
from fakeprovider.dialects.openai_wire import OpenAIWire
from fakeprovider.generation.ids import random_lower_id
from fakeprovider.generation.request import Tags


class OpenAIResponses(
    ResponsesReader, ResponsesBody, ResponsesStream, ResponsesRecorded, OpenAIWire, ChatDialect
):
    api = "openai.responses"

    def __init__(self, store: ResponseStore | None = None) -> None:
        # No store given (the shared instance): one that keeps nothing, so no state leaks
        # between servers through it.
        self.store = ResponseStore(0) if store is None else store

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        user = body.get("user") or body.get("safety_identifier")
        return tags_from(header_tags, body.get("metadata"), user)

    def new_meta(self) -> ResponsesMeta:
        return ResponsesMeta(random_lower_id("resp_", 48), int(time.time()), "")
