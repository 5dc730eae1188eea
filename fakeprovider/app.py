"""The aiohttp application: provider API routes (OpenAI, Anthropic), control API, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from fakeprovider import control
from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.dialects.openai_chat import OpenAIChat
from fakeprovider.errors import ProviderError, model_not_found
from fakeprovider.serving.call import new_request_id
from fakeprovider.serving.handler import json_response, serve_chat, serve_embeddings
from fakeprovider.state import ProviderState

STATE_KEY: web.AppKey[ProviderState] = web.AppKey("state", ProviderState)


def _family(request: web.Request) -> str:
    return (
        "anthropic" if "anthropic-version" in request.headers or "x-api-key" in request.headers else "openai"
    )


async def _allowed_methods(request: web.Request, catch_all: web.AbstractResource) -> set[str]:
    """The methods the routes other than `catch_all` accept at this request's path."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not catch_all:
            _, methods = await resource.resolve(request)
            allowed |= methods
    return allowed


def _unmatched(catch_all: web.AbstractResource) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The last route: unknown paths and wrong methods answer in the provider's shape, not
    aiohttp's text. A route rather than a middleware, so matched calls pay nothing for it."""

    async def unmatched(request: web.Request) -> web.StreamResponse:
        allowed = await _allowed_methods(request, catch_all)
        if request.path.startswith("/control"):
            if allowed:
                raise web.HTTPMethodNotAllowed(request.method, allowed)
            raise web.HTTPNotFound()
        status = 405 if allowed else 404
        family = _family(request)
        message = f"Invalid URL ({request.method} {request.path})"
        error = ProviderError(status, "not_found" if status == 404 else "invalid_request", message)
        request_id = request.headers.get("x-request-id") or new_request_id(family)
        headers = {"x-request-id": request_id}
        if family == "anthropic":
            headers["request-id"] = request_id
        return web.Response(
            status=status, body=error.body_for(family), content_type="application/json", headers=headers
        )

    return unmatched


def create_app(state: ProviderState) -> web.Application:
    app = web.Application(client_max_size=state.config.max_body_bytes)
    app[STATE_KEY] = state

    async def models(request: web.Request) -> web.Response:
        return list_models(request, state)

    async def model(request: web.Request) -> web.Response:
        return get_model(request, state)

    # Partials, not wrapping coroutines: the API routes are the hot path, one frame fewer.
    app.router.add_post("/v1/chat/completions", partial(serve_chat, state=state, protocol=OpenAIChat()))
    app.router.add_post("/v1/messages", partial(serve_chat, state=state, protocol=AnthropicMessages()))
    app.router.add_post("/v1/embeddings", partial(serve_embeddings, state=state))
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model}", model)
    control.add_routes(app, state)
    # Registered last: it answers only what no route above matched.
    catch_all = app.router.add_resource("/{tail:.*}")
    catch_all.add_route("*", _unmatched(catch_all))
    return app


def _model_json(family: str, model_id: str, created: int) -> dict[str, object]:
    if family == "anthropic":
        return {
            "type": "model",
            "id": model_id,
            "display_name": model_id,
            "created_at": "2025-01-01T00:00:00Z",
        }
    return {"id": model_id, "object": "model", "created": created, "owned_by": "rehearsal"}


def _headers(request: web.Request, family: str) -> dict[str, str]:
    request_id = request.headers.get("x-request-id") or new_request_id(family)
    if family == "anthropic":
        return {"request-id": request_id, "x-request-id": request_id}
    return {"x-request-id": request_id}


def list_models(request: web.Request, state: ProviderState) -> web.Response:
    family = "anthropic" if "anthropic-version" in request.headers else "openai"
    created = int(state.started_at)
    data = [_model_json(family, m.id, created) for m in state.catalogue.models() if m.api == family]
    if family == "anthropic":
        page = {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
        return json_response(page, _headers(request, family))
    return json_response({"object": "list", "data": data}, _headers(request, family))


def get_model(request: web.Request, state: ProviderState) -> web.Response:
    family = "anthropic" if "anthropic-version" in request.headers else "openai"
    model_id = request.match_info["model"]
    info = state.catalogue.resolve(model_id)
    if info is None or info.api != family:
        error = model_not_found(model_id, family)
        return web.Response(
            status=404,
            body=error.body_for(family),
            content_type="application/json",
            headers=_headers(request, family),
        )
    return json_response(_model_json(family, model_id, int(state.started_at)), _headers(request, family))
