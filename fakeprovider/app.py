"""The aiohttp application: each dialect's routes, model listing, control API, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from fakeprovider import control
from fakeprovider.dialects import DIALECTS, Dialect, azure, by_headers, gemini
from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.dialects.anthropic import routes as anthropic_routes
from fakeprovider.dialects.gemini import routes as gemini_routes
from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.dialects.openai_responses import routes as responses_routes
from fakeprovider.errors import ProviderError, model_not_found
from fakeprovider.serving.handler import json_response, serve
from fakeprovider.state import ProviderState
from fakeprovider.surfaces import SURFACES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATE_KEY: web.AppKey[ProviderState] = web.AppKey("state", ProviderState)


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
        dialect = by_headers(request.headers, by_key=True)
        message = f"Invalid URL ({request.method} {request.path})"
        error = ProviderError(status, "not_found" if status == 404 else "invalid_request", message)
        request_id = request.headers.get("x-request-id") or dialect.new_request_id()
        headers = {"x-request-id": request_id}  # first, whatever else the dialect names it
        headers.update(dialect.request_id_headers(request_id))
        dialect.error_headers(error, headers)  # where the error's name is a header (Bedrock's)
        return web.Response(
            status=status, body=dialect.error_body(error), content_type="application/json", headers=headers
        )

    return unmatched


def create_app(state: ProviderState) -> web.Application:
    app = web.Application(client_max_size=state.config.max_body_bytes)
    app[STATE_KEY] = state

    async def models(request: web.Request) -> web.Response:
        return list_models(request, state)

    async def model(request: web.Request) -> web.Response:
        return get_model(request, state)

    generate = DIALECTS["gemini.generate"]

    async def gemini_models(request: web.Request) -> web.Response:
        return list_models(request, state, generate)

    async def gemini_model(request: web.Request) -> web.Response:
        return get_model(request, state, generate)

    # Partials, not wrapping coroutines: the API routes are the hot path, one frame fewer.
    handlers: dict[str, Handler] = {
        name: partial(serve, state=state, dialect=DIALECTS[name]) for name in DIALECTS.names()
    }
    messages = DIALECTS["anthropic.messages"]
    assert isinstance(messages, AnthropicMessages)
    handlers["anthropic.count_tokens"] = anthropic_routes.count_tokens_handler(state, messages)
    # The Responses API keeps this state's responses: served by instances holding its store.
    for responses in (OpenAIResponses(state.responses), azure.AzureResponses(state.responses)):
        handlers.update(responses_routes.handlers(state, responses))
    handlers["models.list"] = models
    handlers["models.get"] = model
    assert isinstance(generate, gemini.GeminiGenerate)
    handlers["gemini.count_tokens"] = partial(gemini_routes.count_tokens, state=state, dialect=generate)
    handlers["gemini.models.list"] = gemini_models
    handlers["gemini.models.get"] = gemini_model
    for surface in SURFACES:  # every provider path, declared once (`surfaces.py`)
        if surface.method == "GET":  # HEAD too, as aiohttp's add_get does
            app.router.add_get(surface.path, handlers[surface.api])
        else:
            app.router.add_route(surface.method, surface.path, handlers[surface.api])
    control.add_routes(app, state)
    # Registered last: it answers only what no route above matched.
    catch_all = app.router.add_resource("/{tail:.*}")
    catch_all.add_route("*", _unmatched(catch_all))
    return app


def _headers(request: web.Request, dialect: Dialect) -> dict[str, str]:
    return dialect.request_id_headers(request.headers.get("x-request-id") or dialect.new_request_id())


def list_models(request: web.Request, state: ProviderState, dialect: Dialect | None = None) -> web.Response:
    """The catalogue's models of `dialect` (none given: the one the request's headers name)."""
    if dialect is None:
        dialect = by_headers(request.headers, by_key=False)
    created = int(state.started_at)
    data = [
        dialect.model_json(m, created) for m in state.catalogue.models() if m.api == dialect.catalogue_api
    ]
    return json_response(dialect.model_list(data), _headers(request, dialect))


def get_model(request: web.Request, state: ProviderState, dialect: Dialect | None = None) -> web.Response:
    """One model, as `dialect` (none given: the one the request's headers name) lists it."""
    if dialect is None:
        dialect = by_headers(request.headers, by_key=False)
    model_id = request.match_info["model"]
    info = state.catalogue.resolve(model_id)
    if info is None or info.api != dialect.catalogue_api:
        return web.Response(
            status=404,
            body=dialect.error_body(model_not_found(model_id)),
            content_type="application/json",
            headers=_headers(request, dialect),
        )
    return json_response(dialect.model_json(info, int(state.started_at)), _headers(request, dialect))
