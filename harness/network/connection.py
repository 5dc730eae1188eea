"""A proxied connection: the client's socket, the upstream's socket and a link each way.

Closing follows Toxiproxy: when a link's chain passes on EOF its destination socket is closed
outright (not half-closed); the other link then sees its source go and winds down in turn.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from harness.network.link import Link
from harness.network.toxics.base import Direction

if TYPE_CHECKING:
    from harness.network.chain import ToxicChain

_LINGER_ZERO = struct.pack("ii", 1, 0)

READ_SIZE = 1 << 20  # large reads: fewer callbacks per byte on the direct path


# From 3.12 a socket transport that cannot send at once queues the caller's buffer itself
# (zero-copy writes) instead of copying it into its own.
TRANSPORTS_KEEP_VIEWS = sys.version_info >= (3, 12)


class ReadBuffer:
    """The buffer every socket of a proxy reads into, one read at a time (all on one loop).

    Reading into it and writing a view of it on saves a copy and an allocation per read on the
    direct path. When a transport may have kept a view of it, it is given up to that transport
    and a fresh one used.
    """

    __slots__ = ("view",)

    def __init__(self) -> None:
        self.view = memoryview(bytearray(READ_SIZE))

    def give_up(self) -> None:
        self.view = memoryview(bytearray(READ_SIZE))


class Side(asyncio.BufferedProtocol):
    """One socket of a proxied connection, reading into one link and written by the other."""

    def __init__(self, buffer: ReadBuffer, on_made: Callable[[Side], None] | None = None) -> None:
        self._buffer = buffer
        self._on_made = on_made
        self.transport: asyncio.Transport | None = None
        self.reads_into: Link | None = None
        self.writes_from: Link | None = None
        self.connection: Connection | None = None
        self.lost = False
        self.eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # Nothing is read until both sockets and both links exist.
        transport.pause_reading()
        if self._on_made is not None:
            self._on_made(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer.view

    def buffer_updated(self, nbytes: int) -> None:
        link = self.reads_into
        if link is not None and link.feed(self._buffer.view[:nbytes]) and TRANSPORTS_KEEP_VIEWS:
            self._buffer.give_up()

    def eof_received(self) -> bool:
        self.eof = True
        if self.reads_into is not None:
            self.reads_into.feed_eof()
        return True  # keep the socket: it closes when the link writing to it ends

    def connection_lost(self, exc: Exception | None) -> None:
        was_open, self.lost = not self.lost, True
        if not was_open:
            return
        if self.reads_into is not None and not self.eof:
            self.eof = True
            self.reads_into.feed_eof()
        if self.writes_from is not None:
            self.writes_from.dest_lost()
        if self.connection is not None:
            self.connection.side_lost()

    def pause_writing(self) -> None:
        if self.writes_from is not None:
            self.writes_from.hold_source("dest", True)

    def resume_writing(self) -> None:
        if self.writes_from is not None:
            self.writes_from.hold_source("dest", False)


class Connection:
    """Both sockets and both links of one client connection through a proxy."""

    def __init__(
        self,
        client: Side,
        upstream: Side,
        chain: ToxicChain,
        rng: random.Random,
        on_done: Callable[[Connection], None],
    ) -> None:
        assert client.transport is not None
        assert upstream.transport is not None
        self.client = client
        self.upstream = upstream
        self.reset = False  # a reset_peer toxic fired: close both sockets with RST
        self._chain = chain
        self._on_done = on_done
        self.up = Link(
            Direction.UPSTREAM,
            client.transport,
            upstream.transport,
            rng,
            on_end=self._link_ended,
            on_reset=self._mark_reset,
        )
        self.down = Link(
            Direction.DOWNSTREAM,
            upstream.transport,
            client.transport,
            rng,
            on_end=self._link_ended,
            on_reset=self._mark_reset,
        )
        client.reads_into, client.writes_from = self.up, self.down
        upstream.reads_into, upstream.writes_from = self.down, self.up
        client.connection = upstream.connection = self
        chain.attach(self.up)
        chain.attach(self.down)
        client.transport.resume_reading()
        upstream.transport.resume_reading()

    def _mark_reset(self) -> None:
        self.reset = True

    def _link_ended(self, link: Link) -> None:
        """A link passed on EOF: close its destination socket (with RST after a reset_peer)."""
        transport = link.sink.transport
        if self.reset:
            for side in (self.client, self.upstream):
                if side.transport is not None:
                    _linger_zero(side.transport)
            transport.abort()
        else:
            transport.close()

    def side_lost(self) -> None:
        if self.client.lost and self.upstream.lost:
            self._chain.detach(self.up)
            self._chain.detach(self.down)
            self.up.cancel()
            self.down.cancel()
            self._on_done(self)

    def abort(self) -> None:
        """Drop both sockets now (the proxy is disabled or deleted)."""
        for side in (self.client, self.upstream):
            if side.transport is not None:
                side.transport.abort()


def _linger_zero(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
