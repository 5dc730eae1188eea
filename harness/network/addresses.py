"""`host:port` strings as Toxiproxy (Go's net package) reads and writes them, and listeners."""

from __future__ import annotations

import asyncio
import socket

from harness.network.errors import ApiError, internal


def split_host_port(address: str) -> tuple[str, int]:
    """`"127.0.0.1:80"`, `"[::1]:80"`, `":80"` → (host, port); ValueError in Go's words."""
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise ValueError(f"address {address}: missing ']' in address")
        host, rest = address[1:end], address[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"address {address}: missing port in address")
        port_text = rest[1:]
    else:
        host, sep, port_text = address.rpartition(":")
        if not sep:
            raise ValueError(f"address {address}: missing port in address")
        if ":" in host:
            raise ValueError(f"address {address}: too many colons in address")
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"address {address}: invalid port {port_text!r}")
    return host, int(port_text)


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def bind(address: str) -> socket.socket:
    """A listening socket on `address` (port 0: a free one), or the 500 Toxiproxy answers."""
    try:
        host, port = split_host_port(address)
    except ValueError as e:
        raise internal(f"listen tcp {address}: {e}") from None
    # An empty host is every interface, as in Go; one socket, so port 0 means one port.
    candidates = [("::", socket.AF_INET6), ("0.0.0.0", socket.AF_INET)] if not host else []
    if host:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise internal(f"listen tcp {address}: lookup {host}: {e.strerror or e}") from None
        candidates = [(str(info[4][0]), info[0]) for info in infos[:1]]
    error: ApiError | None = None
    for ip, family in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go's listeners do
            if family == socket.AF_INET6 and not host:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((ip, port))
            sock.listen(512)
        except OSError as e:
            sock.close()
            reason = (e.strerror or str(e)).lower()
            error = internal(f"listen tcp {address}: bind: {reason}")
            continue
        sock.setblocking(False)
        return sock
    assert error is not None
    raise error


def bound_address(sock: socket.socket) -> str:
    """What Toxiproxy writes back into `listen`: the address actually bound."""
    name = sock.getsockname()
    return join_host_port(str(name[0]), int(name[1]))
