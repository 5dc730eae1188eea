"""A lean HTTP/1.1 load client for the benchmarks: keep-alive connections, one request at a time.

aiohttp's `ClientSession` costs more CPU per request than a bare aiohttp server, so with it the
client, not the server, sets the pace. This client does only what a benchmark needs: send
pre-built request bytes on a kept-alive connection and read back one response at a time
(`Content-Length` or chunked), optionally noting when each chunk arrived. Loopback use only.

Two kinds of connection:

- `Connection`, an asyncio protocol; arrival times (if asked) are `time.perf_counter()` when the
  client's loop got to the data, so they are as late as the client is busy;
- `StampedConnection` (Linux), a socket read with `recvmsg` and `SO_TIMESTAMPNS`: each read
  carries the kernel's receive time, which on loopback is taken while the server's `send()`
  runs, so a busy client does not move it. Chunks that arrive before the client reads them
  come back from one read, all with the time of the last one (`Response.shared` counts them).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Response:
    status: int
    chunks: list[bytes]  # the body: one item, or one per HTTP chunk of a chunked body
    times: list[float] = field(default_factory=list)  # each chunk's arrival time, in seconds
    shared: list[bool] = field(default_factory=list)  # this chunk's time is a later chunk's too

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def request_bytes(
    host: str, port: int, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> bytes:
    """One request, ready to write."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class ResponseReader:
    """Turns the bytes of a connection into responses, one at a time."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._reset()

    def _reset(self) -> None:
        self._head_end = -1
        self._status = 0
        self._length = -1  # Content-Length, or -1 when chunked
        self._pos = 0  # chunked: where the next chunk-size line starts
        self._chunks: list[bytes] = []
        self._times: list[float] = []
        self._shared: list[bool] = []

    def feed(self, data: bytes, now: float) -> Response | None:
        """Add `data`, which arrived at `now`; the response, once it is complete."""
        self._buf += data
        return self._parse(now)

    def _add(self, chunk: bytes, now: float, first_of_read: bool) -> None:
        if not first_of_read:
            # An earlier chunk of the same read: it has the time of this one, not its own.
            self._shared[-1] = True
        self._chunks.append(chunk)
        self._times.append(now)
        self._shared.append(False)

    def _parse(self, now: float) -> Response | None:
        buf = self._buf
        first_of_read = True
        if self._head_end < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            self._head_end = self._pos = end + 4
            head = bytes(buf[:end]).lower()
            self._status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = head.find(b"\r\n", at + 2)
                self._length = int(head[at + 17 : line_end if line_end >= 0 else None])
            elif b"transfer-encoding: chunked" not in head:
                raise ValueError("response with neither Content-Length nor chunked encoding")
        if self._length >= 0:
            end = self._head_end + self._length
            if len(buf) < end:
                return None
            self._add(bytes(buf[self._head_end : end]), now, first_of_read)
            return self._finish(end)
        pos = self._pos
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            size = int(buf[pos:eol].split(b";", 1)[0], 16)
            end = eol + 2 + size + 2
            if len(buf) < end:
                break
            if size == 0:
                return self._finish(end)
            self._add(bytes(buf[eol + 2 : eol + 2 + size]), now, first_of_read)
            first_of_read = False
            pos = end
        self._pos = pos
        return None

    def _finish(self, end: int) -> Response:
        response = Response(self._status, self._chunks, self._times, self._shared)
        del self._buf[:end]
        self._reset()
        return response


class Connection(asyncio.Protocol):
    """One keep-alive connection: `await request(data)` sends it and returns the response."""

    def __init__(self, timestamps: bool = False) -> None:
        self._timestamps = timestamps
        self._transport: asyncio.Transport | None = None
        self._reader = ResponseReader()
        self._waiter: asyncio.Future[Response] | None = None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int, timestamps: bool = False) -> Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: cls(timestamps), host, port)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"connection closed mid-response: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        response = self._reader.feed(data, time.perf_counter() if self._timestamps else 0.0)
        if response is not None:
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(response)

    async def request(self, data: bytes) -> Response:
        if self.closed or self._transport is None:
            raise ConnectionError("connection closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


# Linux (asm-generic, so x86-64 and arm64): SO_TIMESTAMPNS, a struct timespec per read.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")


class StampedConnection:
    """A keep-alive connection whose chunks carry the kernel's receive time (Linux)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._reader = ResponseReader()
        self._waiter: asyncio.Future[Response] | None = None
        self._ancillary = socket.CMSG_SPACE(_TIMESPEC.size)
        self.closed = False
        self._loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    async def open(cls, host: str, port: int) -> StampedConnection:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    def _readable(self) -> None:
        try:
            data, ancillary, _, _ = self._sock.recvmsg(1 << 18, self._ancillary)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._lost(e)
            return
        if not data:
            self._lost(None)
            return
        now = time.time()  # CLOCK_REALTIME, as the kernel's stamp; only if it sent none
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                sec, nsec = _TIMESPEC.unpack_from(value)
                now = sec + nsec / 1e9
        response = self._reader.feed(data, now)
        if response is not None:
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(response)

    def _lost(self, exc: Exception | None) -> None:
        self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"connection closed mid-response: {exc!r}"))

    async def request(self, data: bytes) -> Response:
        if self.closed:
            raise ConnectionError("connection closed")
        self._waiter = self._loop.create_future()
        await self._loop.sock_sendall(self._sock, data)
        return await self._waiter

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
