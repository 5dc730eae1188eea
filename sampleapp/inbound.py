"""What every incoming request gets: a request id (the caller's `X-Request-Id`, else a new one,
echoed as `x-request-id`), a tenant, a typed body, and errors as the JSON contract."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from sampleapp.errors import RouteError, bad_request, describe
from sampleapp.llm import CallTags

Body = TypeVar("Body", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_ID = web.RequestKey("request_id", str)
TENANT = web.RequestKey("tenant", str)
DEFAULT_TENANT = web.AppKey("default_tenant", str)

log = logging.getLogger("sampleapp")


@web.middleware
async def contract(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request its id and tenant; turn `RouteError` into its JSON answer."""
    request[REQUEST_ID] = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    request[TENANT] = request.headers.get("X-Tenant") or request.app[DEFAULT_TENANT]
    try:
        return await handler(request)
    except RouteError as e:
        return json_response(e.body(), e.headers, e.status)
    except web.HTTPException:
        raise
    except Exception:
        # A bug, not a provider failure: logged (rare by construction), answered as JSON.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_response(
            RouteError(500, "internal_error", "the app failed unexpectedly").body(), status=500
        )


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every answer, streamed or not, carries the request id."""
    rid = request.get(REQUEST_ID)
    if rid is not None:
        response.headers["x-request-id"] = rid


def call_tags(request: web.Request, route: str, feature: str) -> CallTags:
    return CallTags(route, feature, request[TENANT], request[REQUEST_ID])


async def read_body(request: web.Request, model: type[Body]) -> Body:
    """The JSON body as `model`, or 400 `bad_request` naming what is wrong."""
    raw = await request.read()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise bad_request(f"the body is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise bad_request(describe(e)) from None


def json_response(body: object, headers: dict[str, str] | None = None, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
    )
