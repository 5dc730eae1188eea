"""The connection under a call: cutting it on purpose, and the signal that it was cut."""

from __future__ import annotations

import contextlib
import socket
import struct

from aiohttp import web


class ConnectionCut(Exception):
    """The answer ends by cutting the connection (already done when this is raised)."""


def cut_connection(request: web.Request, reset: bool) -> None:
    """Close the client's connection: a TCP RST when `reset`, else an orderly close (FIN)."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
