"""A whole JSON answer written straight to the connection, laid out as aiohttp lays out a response.

For a non-streamed chat completion, aiohttp's `web.Response` (its header multidict, then the
prepare, serialise and write steps) costs about as much CPU as everything the provider does to
make the answer. A `DirectJSON` is handed to aiohttp the same way, as the handler's response,
and when aiohttp sends it, it writes the same bytes in one call: the status line, the handler's
headers in order, then Content-Type, Content-Length, Date, Server and the Connection header
where aiohttp adds one. A test holds the two byte for byte. (aiohttp's `on_response_prepare`
signal is not sent for a direct answer: the provider's app connects nothing to it.)
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import rfc822_formatted_time  # aiohttp's own cached Date value
from aiohttp.http import SERVER_SOFTWARE, HttpVersion10, HttpVersion11

# Headers aiohttp sets itself: a handler giving one of these gets a `web.Response` instead.
_AIOHTTP_HEADERS = frozenset(
    {"content-type", "content-length", "date", "server", "connection", "transfer-encoding"}
)


def json_answer(body: bytes, headers: dict[str, str]) -> web.StreamResponse:
    """A 200 JSON answer: written directly, or by aiohttp when a header would clash with its own."""
    if any(name.lower() in _AIOHTTP_HEADERS for name in headers):
        return web.Response(body=body, content_type="application/json", headers=headers)
    return DirectJSON(body, headers)


class DirectJSON(web.StreamResponse):
    """A 200 answer with a JSON body, sent in one write when aiohttp prepares it."""

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        super().__init__()
        self._direct_body = body
        self._direct_headers = headers
        self._direct_keep_alive: bool | None = None

    @property
    def keep_alive(self) -> bool | None:
        return self._direct_keep_alive

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self._direct_keep_alive is not None:
            return None  # already sent
        version = request.version
        keep_alive = self._direct_keep_alive = request.keep_alive
        headers = self._direct_headers
        lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
            raise ValueError("Newline or carriage return detected in headers.")  # as aiohttp refuses
        body = self._direct_body
        connection = ""
        if keep_alive:
            if version == HttpVersion10:
                connection = "Connection: keep-alive\r\n"
        elif version == HttpVersion11:
            connection = "Connection: close\r\n"
        head = (
            f"HTTP/{version.major}.{version.minor} 200 OK\r\n{lines}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nDate: {rfc822_formatted_time()}\r\n"
            f"Server: {SERVER_SOFTWARE}\r\n{connection}\r\n"
        )
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        transport.write(head.encode() + body)
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None  # the whole answer went out in `prepare`
