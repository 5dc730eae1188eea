"""The Responses API's routes beside `POST /v1/responses`: a stored response read back
(`GET`), forgotten (`DELETE`), and a prompt counted without an answer (`input_tokens`).

None of them is a model call, so none passes the gate, fires a fault or is written to the
ledger: they answer from the store and the tokenizer only, in the dialect's words.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.errors import ProviderError, invalid
from fakeprovider.state import ProviderState


def not_found(response_id: str) -> ProviderError:
    return ProviderError(404, "not_found", f"Response with id '{response_id}' not found.")


class _Routes:
    """The handlers of one app: its state and the dialect that holds the state's store."""

    def __init__(self, state: ProviderState, dialect: OpenAIResponses) -> None:
        self.state = state
        self.dialect = dialect

    def _answer(self, request: web.Request, data: Any, status: int = 200) -> web.Response:
        body = data if isinstance(data, bytes) else orjson.dumps(data)
        dialect = self.dialect
        headers = dialect.request_id_headers(request.headers.get("x-request-id") or dialect.new_request_id())
        return web.Response(status=status, body=body, content_type="application/json", headers=headers)

    def _error(self, request: web.Request, error: ProviderError) -> web.Response:
        return self._answer(request, self.dialect.error_body(error), error.status)

    async def get(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        stored = self.dialect.store.get(response_id)
        if stored is None:
            return self._error(request, not_found(response_id))
        return self._answer(request, stored.body)

    async def delete(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        if not self.dialect.store.delete(response_id):
            return self._error(request, not_found(response_id))
        return self._answer(request, {"id": response_id, "object": "response", "deleted": True})

    async def count(self, request: web.Request) -> web.Response:
        """The prompt's exact token count, as `POST /v1/responses` would bill it."""
        try:
            try:
                body = orjson.loads(await request.read())
            except orjson.JSONDecodeError as e:
                raise invalid(f"We could not parse the JSON body of your request. ({e.msg})") from None
            if not isinstance(body, dict):
                raise invalid("The request body must be a JSON object.")
            req = self.dialect.parse(body, self.state.catalogue, request.match_info)
        except ProviderError as e:
            return self._error(request, e)
        return self._answer(request, {"object": "response.input_tokens", "input_tokens": req.input_tokens})


def add_routes(
    app: web.Application, state: ProviderState, dialect: OpenAIResponses, prefix: str = "/v1/responses"
) -> None:
    """Register the Responses routes other than `POST {prefix}` (registered first: the router
    then tries it before the `{response_id}` pattern that shares its prefix)."""
    routes = _Routes(state, dialect)
    # `input_tokens` first: `{response_id}` would match it too.
    app.router.add_post(prefix + "/input_tokens", routes.count)
    app.router.add_get(prefix + "/{response_id}", routes.get)
    app.router.add_delete(prefix + "/{response_id}", routes.delete)
