"""Starting and stopping the Toxiproxy-compatible server: in-process (async or thread-backed)
and `rehearse toxiproxy`."""

from __future__ import annotations

import random

from aiohttp import web

from fakeprovider.threaded import ServerThread, StartStop, listen_error
from fakeprovider.threaded import serve_forever as serve_forever  # `rehearse toxiproxy`
from harness.network.api import create_app
from harness.network.collection import ProxyCollection
from harness.network.errors import NetworkError

DEFAULT_PORT = 8474  # Toxiproxy's
SHUTDOWN_TIMEOUT_S = 0.5


class ToxiproxyServer(StartStop):
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
            raise NetworkError(listen_error(e, self.host, self.port)) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every proxy (listeners and connections), then the API."""
        await self.collection.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class ToxiproxyServerThread(ServerThread[ToxiproxyServer]):
    """The server on its own event loop in a daemon thread, for synchronous code and pytest."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None) -> None:
        super().__init__(ToxiproxyServer(host, port, seed=seed), "rehearsal-toxiproxy")

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port
