"""`POST /v1/messages/count_tokens`: a messages body counted, not answered.

The body is read as `POST /v1/messages` reads it (every field checked, `max_tokens` not needed),
and `input_tokens` is the prompt's exact count: what the call would bill, cached or not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from fakeprovider.dialects.anthropic import AnthropicMessages
from fakeprovider.serving import side_answers
from fakeprovider.state import ProviderState


def count_tokens_handler(
    state: ProviderState, dialect: AnthropicMessages
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def count_tokens(request: web.Request) -> web.Response:
        return await side_answers.count(
            request,
            dialect,
            lambda body: dialect.read(body, state.catalogue, counting=True),
            lambda n: {"input_tokens": n},
        )

    return count_tokens
