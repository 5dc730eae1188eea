"""The Responses API's routes beside `POST /v1/responses`: a stored response read back
(`GET`), forgotten (`DELETE`), and a prompt counted without an answer (`input_tokens`).

None of them is a model call, so none passes the gate, fires a fault or is written to the
ledger: they answer from the store and the tokenizer only, in the dialect's words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from fakeprovider.dialects.openai_responses import OpenAIResponses
from fakeprovider.errors import ProviderError
from fakeprovider.serving import side_answers
from fakeprovider.serving.handler import serve
from fakeprovider.state import ProviderState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def not_found(response_id: str) -> ProviderError:
    return ProviderError(404, "not_found", f"Response with id '{response_id}' not found.")


class _Routes:
    """The handlers of one app: its state and the dialect that holds the state's store."""

    def __init__(self, state: ProviderState, dialect: OpenAIResponses) -> None:
        self.state = state
        self.dialect = dialect

    async def get(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        stored = self.dialect.store.get(response_id)
        if stored is None:
            return side_answers.error(request, self.dialect, not_found(response_id))
        return side_answers.answer(request, self.dialect, stored.body)

    async def delete(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        if not self.dialect.store.delete(response_id):
            return side_answers.error(request, self.dialect, not_found(response_id))
        return side_answers.answer(
            request, self.dialect, {"id": response_id, "object": "response", "deleted": True}
        )

    async def count(self, request: web.Request) -> web.Response:
        """The prompt's exact token count, as `POST /v1/responses` would bill it."""
        match = request.match_info
        return await side_answers.count(
            request,
            self.dialect,
            lambda body: self.dialect.parse(body, self.state.catalogue, match),
            lambda n: {"object": "response.input_tokens", "input_tokens": n},
        )


def handlers(state: ProviderState, dialect: OpenAIResponses) -> dict[str, Handler]:
    """The handlers of `dialect`'s surfaces (`surfaces.SURFACES` names them after its `api`):
    `POST` itself, served by `dialect` (which holds the state's store), and the routes beside it."""
    routes = _Routes(state, dialect)
    api = dialect.api
    return {
        api: partial(serve, state=state, dialect=dialect),
        api + ".input_tokens": routes.count,
        api + ".get": routes.get,
        api + ".delete": routes.delete,
    }
