"""The recorder's way to the upstream: HTTP/1.1 written by hand on asyncio transports, the answer
parsed by `httptools` (llhttp), each piece of its body written to the caller's transport from
inside the upstream connection's `data_received`.

Why not an HTTP client: on a streamed answer the client's read path (a stream reader, a task
woken per chunk, the handler's write) costs about a millisecond per event at the tail, more than
the recorder may add (SPEC §9). Here a chunk goes from one socket to the other in the callback
that received it; the only other work is a timestamp and an append (`Answer.on_body`).

Connections are kept alive and reused, `MAX_UPSTREAM_CONNECTIONS` at most (a call beyond waits
for one). A connection is reused only after an answer that ended cleanly with keep-alive; one
that went stale in the pool (the upstream closed it) is retried once on a fresh connection when
not a byte of the answer came back.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.parse
from collections.abc import Sequence

import httptools
from aiohttp.abc import AbstractStreamWriter
from aiohttp.base_protocol import BaseProtocol
from multidict import CIMultiDict

from fakeprovider.replay.cassette import MAX_FILE_BYTES
from fakeprovider.replay.frames import Chunk

MAX_UPSTREAM_CONNECTIONS = 256  # open to the upstream, busy or idle; calls beyond wait for one
CONNECT_TIMEOUT_S = 10.0
UPSTREAM_IDLE_S = 15.0  # a pooled connection unused longer is closed instead of reused
_NO_REQUEST_BODY = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # no Content-Length when empty


class UpstreamError(Exception):
    """No answer from the upstream: it could not be reached, or closed before its status line."""


class Answer:
    """One upstream answer as `httptools` parses it (the parser's callbacks), relayed to the
    caller as it comes and kept for the cassette (`chunks`, at most `MAX_FILE_BYTES`)."""

    def __init__(self, connection: Connection, method: str, start: float, keep: bool) -> None:
        self.connection = connection
        self.parser = httptools.HttpResponseParser(self)
        self.head_only = method == "HEAD"
        self.start = start
        self.keep = keep  # recording this one: False once the answer passed MAX_FILE_BYTES
        self.too_large = False
        self.chunks: list[Chunk] = []
        self.size = 0
        self.status = 0
        self.reason = ""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.content_length: int | None = None
        self.received = False  # a byte of the answer came back
        self.head_done = False  # the final status and headers are in
        self.complete = False  # the answer ended as HTTP says
        self.reusable = False  # complete, and the upstream keeps the connection open
        self.error: str | None = None  # why it ended early: the upstream cut it
        self.caller_gone = False
        self.end_ms = 0.0
        self._until_close = False  # a body that ends when the upstream closes
        self._informational = False  # a 1xx before the final answer
        self._sink: asyncio.Transport | None = None  # the caller's, once its headers are out
        self._caller: BaseProtocol | None = None
        self._chunked = False  # the caller's answer is chunked: each piece framed
        self._early: list[bytes] = []  # body that came with the headers, before the caller's were out
        self._paused = False  # upstream reading paused: the caller is not taking bytes
        self._wake: asyncio.Future[None] | None = None

    @property
    def ended(self) -> bool:
        return self.complete or self.error is not None or self.caller_gone

    # --- httptools callbacks (from Connection.data_received) ------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:
            raise UpstreamError("bytes after the end of the answer")

    def on_status(self, status: bytes) -> None:
        self.reason = status.decode("utf-8", "surrogateescape")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.add(name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status == 101:
            self.fail("it switched protocols (101), which the recorder does not relay")
            self.connection.close()
            return
        if 100 <= status < 200:
            self._informational = True  # 100 Continue, 103 Early Hints: the answer follows
            self.headers = CIMultiDict()
            return
        self.status = status
        length = self.headers.get("content-length")
        self.content_length = int(length) if length is not None and length.isdigit() else None
        chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self._until_close = not (
            self.head_only or chunked or self.content_length is not None or status in (204, 304)
        )
        self.head_done = True
        if self.head_only:  # httptools cannot be told a HEAD has no body: it ends here
            self._end()
        else:
            self.connection.pause_reading()  # until the caller's headers are out (`attach`)
        self._notify()

    def on_body(self, data: bytes) -> None:
        """The hot path: a stamp, an append, and the bytes on to the caller."""
        t = time.monotonic()
        if self.keep:
            self.size += len(data)
            if self.size > MAX_FILE_BYTES:
                self.keep = False
                self.too_large = True
                self.chunks.clear()
            else:
                self.chunks.append((round((t - self.start) * 1000.0, 3), data))
        if self._sink is None:
            self._early.append(data)
        else:
            self._send(data)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        if not self.complete:
            self.reusable = self.parser.should_keep_alive()
            self._end()

    # --- the connection's news --------------------------------------------------------------------

    def connection_lost(self, exc: BaseException | None) -> None:
        """The upstream connection closed: the end of an until-close body, else a cut."""
        if self.ended:
            return
        if self.head_done and self._until_close and exc is None:
            self._end()
            return
        why = (
            "the connection closed before the answer's end"
            if self.head_done
            else "it closed without an answer"
        )
        self.fail(why + (f" ({exc})" if exc else ""))

    def fail(self, message: str) -> None:
        if not self.ended:
            self.error = message
            self.end_ms = (time.monotonic() - self.start) * 1000.0
            self._notify()

    def _end(self) -> None:
        self.complete = True
        self.end_ms = (time.monotonic() - self.start) * 1000.0
        self._notify()

    # --- the caller's side ------------------------------------------------------------------------

    def attach(self, sink: asyncio.Transport, caller: BaseProtocol, chunked: bool) -> None:
        """From now on the body goes straight to `sink`: what came early first."""
        self._sink = sink
        self._caller = caller
        self._chunked = chunked
        early, self._early = self._early, []
        for data in early:
            self._send(data)
        if not self._paused:
            self.connection.resume_reading()

    def _send(self, data: bytes) -> None:
        sink = self._sink
        assert sink is not None
        if self.caller_gone:
            return
        if sink.is_closing():  # the caller went away: the upstream's answer is not worth reading
            self.caller_gone = True
            self.connection.close()
            self._notify()
            return
        sink.write(b"%x\r\n%b\r\n" % (len(data), data) if self._chunked else data)
        if self._caller is not None and self._caller.writing_paused and not self._paused:
            self._paused = True  # bounded memory: no more from the upstream until the caller drains
            self.connection.pause_reading()
            self._notify()

    async def relayed(self, writer: AbstractStreamWriter) -> None:
        """Wait until the answer has ended, resuming the upstream whenever the caller drained."""
        loop = asyncio.get_running_loop()
        while not self.ended:
            if self._paused:
                await writer.drain()
                self._paused = False
                self.connection.resume_reading()
                continue
            self._wake = loop.create_future()
            await self._wake

    async def headed(self) -> None:
        """Wait for the final status and headers, or the end."""
        loop = asyncio.get_running_loop()
        while not (self.head_done or self.ended):
            self._wake = loop.create_future()
            await self._wake

    def _notify(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)


class Connection(asyncio.Protocol):
    """One upstream connection; `answer` parses what comes back while a request is out."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.answer: Answer | None = None
        self.lost = False
        self.idle_since = 0.0
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # socket released

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        answer = self.answer
        if answer is None or answer.ended:  # bytes nobody asked for: not a connection to reuse
            self.close()
            return
        answer.received = True
        try:
            answer.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.close()  # a 101: already failed in on_headers_complete
        except httptools.HttpParserError as e:
            self.close()
            if not answer.complete:
                answer.fail(f"its answer is not valid HTTP/1.1: {e}")

    def eof_received(self) -> bool:
        return False  # closes the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.closed.done():
            self.closed.set_result(None)
        if self.answer is not None:
            self.answer.connection_lost(exc)

    def send(self, payload: bytes, method: str, start: float, keep: bool) -> Answer:
        assert self.transport is not None
        self.answer = Answer(self, method, start, keep)
        self.transport.write(payload)
        return self.answer

    def pause_reading(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.resume_reading()

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


class Relay:
    """The pool of kept-alive connections to one upstream base URL (`http://` or `https://`)."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        assert parts.hostname is not None
        self.base = base
        self.host = parts.hostname
        secure = parts.scheme == "https"
        default_port = 443 if secure else 80
        self.port = parts.port or default_port
        self.prefix = parts.path.rstrip("/")
        name = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = name if self.port == default_port else f"{name}:{self.port}"
        self._ssl = ssl.create_default_context() if secure else None
        self._slots = asyncio.Semaphore(MAX_UPSTREAM_CONNECTIONS)
        self._idle: list[Connection] = []  # most recently used last
        self._open: set[Connection] = set()  # every connection until its socket is released

    def request_head(self, method: str, target: str, headers: Sequence[tuple[str, str]], size: int) -> bytes:
        """The request line and headers: the caller's (as given), `Host` the upstream's, the body's length."""
        lines = [f"{method} {self.prefix}{target} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if size or method not in _NO_REQUEST_BODY:
            lines.append(f"Content-Length: {size}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")

    async def exchange(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        start: float,
        keep: bool,
    ) -> Answer:
        """Send the request; return once the answer's status and headers are in (or it ended).
        The caller then owes `release(answer)`. `UpstreamError` when nothing came back."""
        payload = self.request_head(method, target, headers, len(body)) + body
        await self._slots.acquire()
        try:
            connection = self._take_idle()
            reused = connection is not None
            if connection is None:
                connection = await self._connect()
            while True:
                answer = connection.send(payload, method, start, keep)
                try:
                    await answer.headed()
                except BaseException:
                    connection.close()
                    raise
                if answer.head_done:
                    return answer
                connection.close()
                if not (reused and not answer.received):
                    raise UpstreamError(answer.error or "no answer")
                # A pooled connection the upstream had closed: once more on a fresh one.
                reused = False
                connection = await self._connect()
        except BaseException:
            self._slots.release()
            raise

    def release(self, answer: Answer) -> None:
        """The exchange is over: its connection back to the pool if the answer ended cleanly."""
        connection = answer.connection
        if answer.complete and answer.reusable and not connection.lost:
            connection.answer = None
            connection.resume_reading()  # paused for a slow caller as the answer ended, maybe
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        self._slots.release()

    async def close(self) -> None:
        """Every connection closed, the idle ones and any still busy, and their sockets released."""
        connections = list(self._open)
        for connection in connections:
            connection.close()
        self._idle.clear()
        if connections:
            await asyncio.wait([c.closed for c in connections], timeout=1.0)

    def _take_idle(self) -> Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.lost and now - connection.idle_since < UPSTREAM_IDLE_S:
                return connection
            connection.close()
        return None

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                _, connection = await loop.create_connection(
                    Connection,
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl is not None else None,
                )
        except TimeoutError:
            raise UpstreamError(f"no connection within {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as e:
            raise UpstreamError(str(e) or repr(e)) from None
        self._open.add(connection)
        connection.closed.add_done_callback(lambda _: self._open.discard(connection))
        return connection
