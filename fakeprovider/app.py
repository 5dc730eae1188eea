"""The aiohttp application: each dialect's routes, model listing, control API, metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from fakeprovider import control
from fakeprovider.dialects import DIALECTS, Dialect, azure, bedrock, by_headers, gemini
from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.dialects.anthropic import routes as anthropic_routes
from fakeprovider.dialects.gemini import routes as gemini_routes
from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.dialects.openai_responses import routes as responses_routes
from fakeprovider.errors import ProviderError, model_not_found
from fakeprovider.serving.handler import json_response, serve
from fakeprovider.state import ProviderState

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
    app.router.add_post("/v1/chat/completions", partial(serve, state=state, dialect=DIALECTS["openai.chat"]))
    messages = DIALECTS["anthropic.messages"]
    assert isinstance(messages, AnthropicMessages)
    app.router.add_post("/v1/messages", partial(serve, state=state, dialect=messages))
    anthropic_routes.add_routes(app, state, messages)
    app.router.add_post("/v1/embeddings", partial(serve, state=state, dialect=DIALECTS["openai.embeddings"]))
    for path, name in azure.ROUTES:
        app.router.add_post(path, partial(serve, state=state, dialect=DIALECTS[name]))
    app.router.add_post(bedrock.ROUTE, partial(serve, state=state, dialect=DIALECTS["bedrock.converse"]))
    # The Responses API keeps this state's responses: served by an instance holding its store.
    responses = OpenAIResponses(state.responses)
    app.router.add_post("/v1/responses", partial(serve, state=state, dialect=responses))
    responses_routes.add_routes(app, state, responses)  # after POST /v1/responses: same prefix
    on_azure = azure.AzureResponses(state.responses)
    for path in azure.RESPONSES_PATHS:
        app.router.add_post(path, partial(serve, state=state, dialect=on_azure))
        responses_routes.add_routes(app, state, on_azure, prefix=path)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model}", model)
    assert isinstance(generate, gemini.GeminiGenerate)
    app.router.add_post(gemini.GENERATE_PATH, partial(serve, state=state, dialect=generate))
    app.router.add_post(gemini.EMBED_PATH, partial(serve, state=state, dialect=DIALECTS["gemini.embed"]))
    app.router.add_post(gemini.COUNT_PATH, partial(gemini_routes.count_tokens, state=state, dialect=generate))
    # `/v1/models` is OpenAI's path too: there the `x-goog-api-key` header tells a Gemini caller.
    app.router.add_get("/v1beta/models", gemini_models)
    app.router.add_get("/v1beta/models/{model:[^{}/:]+}", gemini_model)
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
