"""An asyncio server run for synchronous code: on its own event loop in a daemon thread; and
the `listening on` loop of a server process. Shared by the fake provider and the Toxiproxy."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import signal
import sys
import threading
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen_error(e: OSError, host: str, port: int) -> str:
    """Why a server could not listen on `host:port`, as every `rehearse` server says it."""
    where = f"cannot listen on {host}:{port}"
    return f"{where}: the port is in use" if e.errno == errno.EADDRINUSE else f"{where}: {e.strerror or e}"


class AsyncServer(Protocol):
    @property
    def url(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class StartStop:
    """`async with` for a server with `start` and `stop`: started on entry, stopped on exit."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

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


S = TypeVar("S", bound=AsyncServer)


class ServerThread(Generic[S]):
    """`server` on its own event loop in a daemon thread; a context manager."""

    def __init__(self, server: S, name: str) -> None:
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def thread(self) -> threading.Thread:
        """The thread serving: log records of errors in the server carry its ident."""
        return self._thread

    def _run(self) -> None:
        # The loop is made (and always closed) here, so a handle never started leaks nothing.
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
        """Stop the server and wait until its ports are free."""
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


async def serve_forever(server: AsyncServer) -> None:
    """Run until SIGINT or SIGTERM, printing the `listening on` line first."""
    # Handlers go in before the `listening on` line, so a signal sent as soon as a supervisor
    # reads it still stops the server cleanly.
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
