"""The aiohttp application: provider API routes (OpenAI, Anthropic), control API, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from fakeprovider import control
from fakeprovider.calls import new_request_id
from fakeprovider.protocols.anthropic_messages import AnthropicMessages
from fakeprovider.protocols.errors import ProviderError, model_not_found
from fakeprovider.protocols.openai_chat import OpenAIChat
from fakeprovider.serving import json_response, serve_chat, serve_embeddings
from fakeprovider.state import ProviderState

STATE_KEY: web.AppKey[ProviderState] = web.AppKey("state", ProviderState)


def _family(request: web.Request) -> str:
    return (
        "anthropic" if "anthropic-version" in request.headers or "x-api-key" in request.headers else "openai"
    )


@web.middleware
async def provider_shaped_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unknown paths and wrong methods answer in the provider's shape, not aiohttp's text."""
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status not in (404, 405) or request.path.startswith("/control"):
            raise
        family = _family(request)
        message = f"Invalid URL ({request.method} {request.path})"
        error = ProviderError(e.status, "not_found" if e.status == 404 else "invalid_request", message)
        request_id = request.headers.get("x-request-id") or new_request_id(family)
        headers = {"x-request-id": request_id}
        if family == "anthropic":
            headers["request-id"] = request_id
        return web.Response(
            status=e.status, body=error.body_for(family), content_type="application/json", headers=headers
        )


def create_app(state: ProviderState) -> web.Application:
    app = web.Application(client_max_size=state.config.max_body_bytes, middlewares=[provider_shaped_errors])
    app[STATE_KEY] = state
    openai_chat = OpenAIChat()
    anthropic = AnthropicMessages()

    async def chat_completions(request: web.Request) -> web.StreamResponse:
        return await serve_chat(request, state, openai_chat)

    async def messages(request: web.Request) -> web.StreamResponse:
        return await serve_chat(request, state, anthropic)

    async def embed(request: web.Request) -> web.StreamResponse:
        return await serve_embeddings(request, state)

    async def models(request: web.Request) -> web.Response:
        return list_models(request, state)

    async def model(request: web.Request) -> web.Response:
        return get_model(request, state)

    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/embeddings", embed)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model}", model)
    control.add_routes(app, state)
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
