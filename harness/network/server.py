"""Starting and stopping the Toxiproxy-compatible server: in-process (async or thread-backed)
and `rehearse toxiproxy`."""

from __future__ import annotations

import asyncio
import errno
import random
import signal
import sys
import threading
from types import TracebackType
from typing import Self

from aiohttp import web

from harness.network.api import create_app
from harness.network.collection import ProxyCollection
from harness.network.errors import NetworkError

DEFAULT_PORT = 8474  # Toxiproxy's
SHUTDOWN_TIMEOUT_S = 0.5


class ToxiproxyServer:
    """The server as an async context manager: `async with ToxiproxyServer() as s: s.url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None) -> None:
        """`seed`: makes toxicity rolls, jitter and slicer sizes reproducible."""
        self.host = host
        self.port = port
        self.collection = ProxyCollection(random.Random(seed))
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(
            create_app(self.collection), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            where = f"{self.host}:{self.port}"
            if e.errno == errno.EADDRINUSE:
                raise NetworkError(f"cannot listen on {where}: the port is in use") from None
            raise NetworkError(f"cannot listen on {where}: {e.strerror or e}") from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every proxy (listeners and connections), then the API."""
        await self.collection.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ToxiproxyServerThread:
    """The server on its own event loop in a daemon thread, for synchronous code and pytest."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None) -> None:
        self.server = ToxiproxyServer(host, port, seed=seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="rehearsal-toxiproxy", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as e:
                self._error = e
                return
            finally:
                self._started.set()
            loop.run_forever()
            loop.run_until_complete(self.server.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def start(self) -> Self:
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            self._thread.join(timeout=10)
            raise self._error
        return self

    def stop(self) -> None:
        """Stop the server, its proxies and their connections; wait until the ports are free."""
        loop = self._loop
        if self._thread.is_alive() and loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def serve_forever(server: ToxiproxyServer) -> None:
    """Run until SIGINT or SIGTERM, printing the `listening on` line first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    print(f"listening on {server.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
        print("stopped", file=sys.stderr, flush=True)
