"""`rehearse record`: a proxy in front of a real provider that writes every exchange to a cassette.

Each call goes to the upstream as it came (credentials too) and its answer back to the caller as
it arrives, chunk by chunk: aiohttp serves the caller, and the upstream side is `relay.py`, a
kept-alive connection pool on asyncio transports whose answers `httptools` parses; each body
piece is written to the caller's transport from inside the upstream's `data_received`, with a
timestamp and an append as the only other work. Once the answer has ended, the exchange is built
(the stream split into events, `frames.py`), redacted and written in a worker thread, one at a
time, so the caller never waits for the disk.

Which surface and model a call is comes from the provider's own route table (`surfaces.py`):
a path the fake provider serves is recorded under the same `api`. Paths it does not know are
proxied and recorded too, as `api: "passthrough"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import orjson
from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy

from fakeprovider.replay.cassette import (
    MAX_FILE_BYTES,
    CassetteError,
    CassetteWriter,
    ExchangeTooLarge,
    RecordedRequest,
    now_iso,
)
from fakeprovider.replay.exchange import build_exchange, request_body
from fakeprovider.replay.frames import Chunk
from fakeprovider.replay.relay import Answer, Relay, UpstreamError
from fakeprovider.surfaces import SURFACES, Surface
from fakeprovider.threaded import ServerThread, StartStop, listen_error

MAX_REQUEST_BYTES = 64 * 1024 * 1024  # a request body the proxy accepts (larger: 413)
MAX_PENDING_WRITES = 256  # exchanges waiting for the writer; past it a finished call waits
# While the writer thread holds the GIL, the event loop waits for it up to Python's switch
# interval (5 ms by default): the recorder lowers it for its life, so a chunk waits at most this.
SWITCH_INTERVAL_S = 0.0005
SHUTDOWN_TIMEOUT_S = 0.5
IDLE_TIMEOUT_S = 30.0
# Hop-by-hop headers (RFC 9110 §7.6.1) and what the proxy sets itself: never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# Not passed on either: the upstream is asked for identity, and the proxy already answered any
# `Expect: 100-continue` when it read the body.
NOT_FORWARDED = HOP_BY_HOP | {"accept-encoding", "expect"}


class RecorderError(RuntimeError):
    """The recorder could not start: a bad upstream URL, a cassette it cannot write, a port in use."""


def upstream_base(url: str) -> str:
    """`url` checked (http or https, a host, no query) and without its trailing slash."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RecorderError(f"--upstream {url!r}: expected an http:// or https:// URL with a host")
    if parts.query or parts.fragment:
        raise RecorderError(f"--upstream {url!r}: a base URL has no query or fragment")
    return url.rstrip("/")


def _joined(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> dict[str, str]:
    """Headers as one value each (repeated ones joined with `, `), hop-by-hop ones left out."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low not in HOP_BY_HOP:
            out[low] = f"{out[low]}, {value}" if low in out else value
    return out


class Recorder(StartStop):
    """The recording proxy: `async with Recorder(upstream, cassette) as r: r.url`."""

    def __init__(
        self,
        upstream: str,
        cassette: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log: TextIO | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        """`log`: where warnings go (default stderr): an unreachable upstream, a cap reached."""
        self.upstream = upstream_base(upstream)
        try:
            self.writer = CassetteWriter(cassette)
        except OSError as e:
            raise RecorderError(f"--cassette {cassette}: cannot create: {e.strerror or e}") from None
        except CassetteError as e:
            raise RecorderError(f"--cassette {e}") from None
        if not os.access(cassette, os.W_OK | os.X_OK):
            raise RecorderError(f"--cassette {cassette}: cannot write there (permission denied)")
        self.cassette = cassette
        self.host = host
        self.port = port
        self.recording = True  # False once the cassette is full or the disk refused a file
        self.written = 0  # exchanges written so far
        self._log = log
        self._idle_timeout_s = idle_timeout_s
        self._runner: web.AppRunner | None = None
        self._relay: Relay | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending: set[asyncio.Future[None]] = set()
        self._slots: asyncio.Semaphore | None = None  # MAX_PENDING_WRITES
        self._switch_interval: float | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def warn(self, message: str) -> None:
        print(f"rehearse record: {message}", file=self._log or sys.stderr, flush=True)

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        # The provider's own table: a path is recorded as the surface the provider serves there.
        for surface in SURFACES:
            app.router.add_route(surface.method, surface.path, partial(self._proxy, surface=surface))
        app.router.add_route("*", "/{tail:.*}", partial(self._proxy, surface=None))
        return app

    async def start(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL_S))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rehearsal-recorder")
        self._slots = asyncio.Semaphore(MAX_PENDING_WRITES)
        self._relay = Relay(self.upstream)
        runner = web.AppRunner(
            self._app(),
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            keepalive_timeout=self._idle_timeout_s,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            await self._close_clients()
            raise RecorderError(listen_error(e, self.host, self.port)) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def flush(self) -> None:
        """Wait until every finished exchange is on disk."""
        while self._pending:
            await asyncio.wait(set(self._pending))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.flush()
        await self._close_clients()

    async def _close_clients(self) -> None:
        if self._relay is not None:
            await self._relay.close()
            self._relay = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    # --- the hot path ---------------------------------------------------------------------------

    async def _proxy(self, request: web.Request, surface: Surface | None) -> web.StreamResponse:
        start = time.monotonic()
        recorded_at = now_iso()
        body = await request.read()
        # Identity upstream: the cassette gets plain text, and there is nothing to re-encode.
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED]
        headers.append(("Accept-Encoding", "identity"))
        assert self._relay is not None
        try:
            answer = await self._relay.exchange(
                request.method, request.rel_url.raw_path_qs, headers, body, start, self.recording
            )
        except UpstreamError as e:
            message = f"cannot reach the upstream {self.upstream}: {e}"
            self.warn(f"{request.method} {request.path}: {message}")
            error = {"error": {"type": "upstream_unreachable", "message": f"rehearse record: {message}"}}
            return web.Response(status=502, body=orjson.dumps(error), content_type="application/json")
        try:
            response = web.StreamResponse(status=answer.status, reason=answer.reason or None)
            for name, value in answer.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            if answer.content_length is not None:
                response.content_length = answer.content_length
            await response.prepare(request)
            request.writer.send_headers()  # out now: the body goes to the transport behind aiohttp
            transport = request.transport
            if transport is None:
                raise ConnectionResetError
            # aiohttp chose the framing (chunked when HTTP/1.1 and no length); its write_eof ends it.
            chunked = response.headers.get(hdrs.TRANSFER_ENCODING) == "chunked"
            answer.attach(transport, request.protocol, chunked)
            await answer.relayed(request.writer)
            if answer.caller_gone:
                raise ConnectionResetError
            if answer.complete:
                # A caller may close as soon as it has what it wanted (an SDK after `[DONE]`),
                # before the end of the chunks: the answer came whole, and is recorded.
                with contextlib.suppress(ConnectionResetError):
                    await response.write_eof()
        except ConnectionResetError:
            # The caller went away: nothing whole to record.
            return web.Response(status=499)
        finally:
            self._relay.release(answer)
        if answer.too_large:
            self.warn(
                f"{request.method} {request.path}: the answer passed {MAX_FILE_BYTES:,} "
                "bytes, the cap of one exchange; not recorded"
            )
        if answer.error is not None:
            self.warn(f"{request.method} {request.path}: the upstream cut the answer: {answer.error}")
            if request.transport is not None:
                request.transport.close()  # the caller sees the cut too
        if answer.keep and self.recording:
            await self._schedule(request, surface, body, answer, recorded_at)
        return response

    async def _schedule(
        self,
        request: web.Request,
        surface: Surface | None,
        body: bytes,
        answer: Answer,
        recorded_at: str,
    ) -> None:
        """Hand the exchange to the writer thread; wait only when `MAX_PENDING_WRITES` wait already."""
        assert self._executor is not None
        assert self._slots is not None
        slots = self._slots
        await slots.acquire()
        job = partial(
            self._write,
            surface,
            request.method,
            request.path,
            dict(request.query),
            _joined(request.headers),
            dict(request.match_info),
            body,
            answer.status,
            _joined(answer.headers),
            answer.chunks,
            recorded_at,
            answer.end_ms,
        )
        future = asyncio.get_running_loop().run_in_executor(self._executor, job)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        future.add_done_callback(lambda _: slots.release())

    # --- the writer thread ----------------------------------------------------------------------

    def _write(
        self,
        surface: Surface | None,
        method: str,
        path: str,
        query: dict[str, str],
        request_headers: dict[str, str],
        match: dict[str, str],
        body: bytes,
        status: int,
        response_headers: dict[str, str],
        chunks: list[Chunk],
        recorded_at: str,
        end_ms: float,
    ) -> None:
        if not self.recording:
            return
        try:
            exchange = build_exchange(
                surface,
                RecordedRequest(method, path, query, request_headers, request_body(body)),
                status,
                response_headers,
                chunks,
                match,
                recorded_at,
                end_ms,
            )
            self.writer.write(exchange)
            self.written += 1
        except ExchangeTooLarge as e:
            self.warn(str(e))
        except CassetteError as e:
            self.recording = False
            self.warn(f"{e}: recording stopped, still proxying")
        except OSError as e:
            self.recording = False
            self.warn(
                f"cannot write to {self.cassette}: {e.strerror or e}: recording stopped, still proxying"
            )
        except Exception as e:  # a bug of ours in one exchange: said, and the proxy goes on
            self.warn(f"{method} {path}: not recorded: {e!r}")


class RecorderThread(ServerThread[Recorder]):
    """The recorder on its own event loop in a daemon thread, for synchronous code and tests."""

    def __init__(self, upstream: str, cassette: Path, **kwargs: Any) -> None:
        super().__init__(Recorder(upstream, cassette, **kwargs), "rehearsal-recorder")

    @property
    def recorder(self) -> Recorder:
        return self.server

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every finished exchange is on disk."""
        loop = self._loop
        if loop is not None and self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.flush(), loop).result(timeout_s)
