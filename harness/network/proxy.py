"""A proxy: a listener that connects each client to the upstream through the proxy's toxics.

As Toxiproxy's `Proxy`: starting binds `listen` and rewrites it to the address bound (so a
proxy created on port 0 keeps its port across disable/enable); stopping closes the listener and
drops every connection; changing `listen` or `upstream` restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

from harness.network.addresses import bind, bound_address, split_host_port
from harness.network.chain import ToxicChain
from harness.network.connection import Connection, ReadBuffer, Side

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 2.0


class Proxy:
    """One named proxy and its connections."""

    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics = ToxicChain()
        self._rng = rng
        self._server: asyncio.Server | None = None
        self._connecting: set[asyncio.Task[None]] = set()
        self._waiting: set[Side] = set()  # accepted clients whose upstream is being dialled
        self.connections: set[Connection] = set()
        self._buffer = ReadBuffer()
        self.lock = asyncio.Lock()  # start/stop/update one at a time

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": self.toxics.to_json(),
        }

    async def start(self) -> None:
        """Bind and accept; raises the API's 500 when the address cannot be bound."""
        if self.enabled:
            return
        sock = await bind(self.listen or "127.0.0.1:0")
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: Side(self._buffer, self._accepted), sock=sock)
        except BaseException:
            sock.close()
            raise
        self.listen = bound_address(sock)
        self.enabled = True

    async def stop(self) -> None:
        if not self.enabled:
            return
        self.enabled = False
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._connecting):
            task.cancel()
        for side in list(self._waiting):
            if side.transport is not None:
                side.transport.abort()
        for conn in list(self.connections):
            conn.abort()
        if server is not None:
            # 3.12+ waits here for the aborted connections to go; do not hang if one lingers.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT_S)

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        if listen != self.listen or upstream != self.upstream:
            await self.stop()
            self.listen, self.upstream = listen, upstream
        if enabled and not self.enabled:
            await self.start()
        elif not enabled:
            await self.stop()

    def differs(self, other: Proxy) -> bool:
        return self.listen != other.listen or self.upstream != other.upstream

    # Accepting ---------------------------------------------------------------------------

    def _accepted(self, client: Side) -> None:
        self._waiting.add(client)
        task = asyncio.get_running_loop().create_task(self._dial(client))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    async def _dial(self, client: Side) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = split_host_port(self.upstream)
            _, upstream = await loop.create_connection(lambda: Side(self._buffer), host, port)
        except (OSError, ValueError) as e:
            log.warning("proxy %s: unable to open connection to upstream %s: %s", self.name, self.upstream, e)
            self._drop(client)
            return
        except asyncio.CancelledError:
            self._drop(client)
            raise
        self._waiting.discard(client)
        if client.lost or not self.enabled:
            if upstream.transport is not None:
                upstream.transport.abort()
            self._drop(client)
            return
        conn = Connection(client, upstream, self.toxics, self._rng, self.connections.discard)
        self.connections.add(conn)

    def _drop(self, client: Side) -> None:
        self._waiting.discard(client)
        if client.transport is not None:
            client.transport.close()
