"""Answers that are not model calls: a stored response read back or deleted, and a prompt
counted without answering it (`POST /v1/messages/count_tokens`, `POST /v1/responses/input_tokens`:
the dialect reads the body as it would for a call, and the count is exactly what the call would
bill). No gate, no fault, no ledger record; errors in the dialect's words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from fakeprovider.dialects.base import Dialect
from fakeprovider.errors import ProviderError, invalid
from fakeprovider.generation.request import ChatRequest


def answer(request: web.Request, dialect: Dialect, data: Any, status: int = 200) -> web.Response:
    """A JSON answer (`data`, or bytes already JSON) with the dialect's request-id headers."""
    body = data if isinstance(data, bytes) else orjson.dumps(data)
    headers = dialect.request_id_headers(request.headers.get("x-request-id") or dialect.new_request_id())
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def error(request: web.Request, dialect: Dialect, e: ProviderError) -> web.Response:
    return answer(request, dialect, dialect.error_body(e), e.status)


async def count(
    request: web.Request,
    dialect: Dialect,
    read: Callable[[dict[str, Any]], ChatRequest],
    result: Callable[[int], dict[str, Any]],
) -> web.Response:
    """Read the body with `read` and answer `result(prompt tokens)`, or the error it raised."""
    try:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError as e:
            raise invalid(f"We could not parse the JSON body of your request. ({e.msg})") from None
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        req = read(body)
    except ProviderError as e:
        return error(request, dialect, e)
    return answer(request, dialect, result(req.input_tokens))
