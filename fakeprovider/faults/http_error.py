"""`http_error`: answer with a 5xx in the call's own wire shape (529: overloaded)."""

from __future__ import annotations

from typing import Literal

from fakeprovider.errors import ProviderError
from fakeprovider.faults.base import Answer, FaultContext, FaultKind, FaultParams, register

_MESSAGES = {
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The server is overloaded or not ready yet.",
    504: "Gateway timeout.",
    529: "Overloaded",
}


class HttpErrorParams(FaultParams):
    kind: Literal["http_error"] = "http_error"
    status: Literal[500, 502, 503, 504, 529] = 503
    message: str | None = None


@register
class HttpError(FaultKind):
    name = "http_error"
    Params = HttpErrorParams

    def answer(self, ctx: FaultContext) -> Answer | None:
        p = self.params
        assert isinstance(p, HttpErrorParams)
        if p.status == 529:
            return ProviderError(529, "overloaded", p.message or _MESSAGES[529])
        return ProviderError(p.status, "server", p.message or _MESSAGES[p.status])
