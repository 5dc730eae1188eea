"""`countTokens`: the prompt's token count as a `generateContent` call would bill it.

Not a ledger call: Google does not bill `countTokens`, and it is not a generation, so no fault,
quota or scripted reply applies to it (rules and quotas that match `api: gemini.generate` are
about generations). A bad request or unknown model is refused as `generateContent` refuses it.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from fakeprovider.dialects.gemini import GeminiGenerate
from fakeprovider.dialects.gemini.request import read_contents, resolve_model
from fakeprovider.errors import ProviderError, invalid
from fakeprovider.state import ProviderState


async def count_tokens(request: web.Request, state: ProviderState, dialect: GeminiGenerate) -> web.Response:
    """`{"totalTokens", "promptTokensDetails"}` for `contents`, or for a whole
    `generateContentRequest` (its system instruction and tools counted too)."""
    request_id = request.headers.get("x-request-id") or dialect.new_request_id()
    headers = dialect.request_id_headers(request_id)
    try:
        try:
            body: Any = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise invalid("Invalid JSON payload received.") from None
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received. Expected an object.")
        match = request.match_info
        inner = body.get("generateContentRequest")
        if inner is not None:
            if not isinstance(inner, dict):
                raise invalid("* CountTokensRequest.generate_content_request: expected an object")
            n = dialect.parse(inner, state.catalogue, match).input_tokens
        else:
            info = resolve_model(state.catalogue, match, "chat", "countTokens")
            n = len(read_contents(body, info.encoding).ids)
    except ProviderError as e:
        return web.Response(
            status=e.status, body=dialect.error_body(e), content_type="application/json", headers=headers
        )
    answer = {"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]}
    return web.Response(body=orjson.dumps(answer), content_type="application/json", headers=headers)
