"""AWS Bedrock Converse: `POST /model/{modelId}/converse` (JSON) and
`POST /model/{modelId}/converse-stream` (AWS event stream framing), as botocore's
`bedrock-runtime` client speaks them.

The dialect put together from its sides: the request reader (`request`, with Bedrock's model
ids mapped in `models`), the whole-body renderer (`body`), the event-stream encoder (`stream`
over `eventstream`'s framing), the replay reader (`recorded`) and ids, errors and headers
(`wire`). Both operations are one dialect, `bedrock.converse`; the ledger's `stream` tells
them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.dialects.base import ChatDialect, ResponseMeta
from fakeprovider.dialects.bedrock.body import BedrockBody
from fakeprovider.dialects.bedrock.eventstream import CONTENT_TYPE
from fakeprovider.dialects.bedrock.recorded import BedrockRecorded
from fakeprovider.dialects.bedrock.request import BedrockRequest
from fakeprovider.dialects.bedrock.stream import BedrockStream
from fakeprovider.dialects.bedrock.wire import BedrockWire
from fakeprovider.dialects.common import tags_from
from fakeprovider.generation.request import Tags

__all__ = ["ROUTE", "BedrockConverse"]

# Both operations on one route: `{operation}` tells `parse` which (a model id is URL-encoded by
# botocore, `:` as `%3A` and an ARN's `/` as `%2F`, so it may hold a `/` once decoded).
ROUTE = "/model/{modelId:.+}/{operation:converse|converse-stream}"


class BedrockConverse(BedrockRequest, BedrockBody, BedrockStream, BedrockRecorded, BedrockWire, ChatDialect):
    api = "bedrock.converse"
    stream_content_type = CONTENT_TYPE

    def tags(self, body: Mapping[str, Any], header_tags: Tags) -> Tags:
        # Converse's own `requestMetadata` (string pairs) fills the tags headers did not give.
        return tags_from(header_tags, body.get("requestMetadata"), None)

    def new_meta(self) -> ResponseMeta:
        return ResponseMeta("", 0, "")
