"""A real Toxiproxy-compatible server per test, real upstream servers and raw sockets."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from harness.network import ToxiproxyServerThread
from harness.network.client import toxiproxy_client

IO_TIMEOUT_S = 5.0

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def server() -> Iterator[ToxiproxyServerThread]:
    with ToxiproxyServerThread(seed=1) as s:
        yield s


@pytest.fixture
def client(server: ToxiproxyServerThread) -> Any:
    """toxiproxy-python, pointed at this test's server."""
    return toxiproxy_client(server.url)


def http(method: str, url: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
    """(status, decoded JSON or text) of one API call; never raises on a 4xx/5xx."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with _opener.open(req, timeout=IO_TIMEOUT_S) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


class Upstream:
    """A TCP server on 127.0.0.1, a thread per connection running `handler(conn)`."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self._handler = handler
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self.received = bytearray()
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.settimeout(IO_TIMEOUT_S)
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the test closed it, or the proxy reset it
            self._handler(conn)

    def record(self, data: bytes) -> None:
        with self._lock:
            self.received += data

    def close(self) -> None:
        self._sock.close()
        with self._lock:
            for conn in self._conns:
                conn.close()


@pytest.fixture
def upstream() -> Iterator[Callable[[Callable[[socket.socket], None]], Upstream]]:
    """Start upstream servers with a given per-connection handler; all closed after the test."""
    started: list[Upstream] = []

    def start(handler: Callable[[socket.socket], None]) -> Upstream:
        started.append(Upstream(handler))
        return started[-1]

    yield start
    for u in started:
        u.close()


def echo(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)
    conn.close()


@pytest.fixture
def echo_upstream(upstream: Callable[[Callable[[socket.socket], None]], Upstream]) -> Upstream:
    return upstream(echo)


def dial(listen: str) -> socket.socket:
    host, port = listen.rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=IO_TIMEOUT_S)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def read_all(conn: socket.socket) -> bytes:
    """Everything until the peer closes."""
    out = bytearray()
    while data := conn.recv(65536):
        out += data
    return bytes(out)


def read_exactly(conn: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        data = conn.recv(n - len(out))
        if not data:
            break
        out += data
    return bytes(out)


def make_proxy(server: ToxiproxyServerThread, upstream_address: str, name: str = "p") -> str:
    """Create a proxy on a free loopback port; its bound `listen` address."""
    status, body = http("POST", server.url + "/proxies", {"name": name, "upstream": upstream_address})
    assert status == 201, body
    return str(body["listen"])


def add_toxic(server: ToxiproxyServerThread, toxic: dict[str, Any], proxy: str = "p") -> dict[str, Any]:
    status, body = http("POST", f"{server.url}/proxies/{proxy}/toxics", toxic)
    assert status == 200, body
    return dict(body)


def remove_toxic(server: ToxiproxyServerThread, name: str, proxy: str = "p") -> None:
    status, body = http("DELETE", f"{server.url}/proxies/{proxy}/toxics/{name}")
    assert status == 204, body


def sender(payload: bytes) -> Callable[[socket.socket], None]:
    """An upstream handler that sends `payload` as soon as a connection opens, then closes."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(payload)
        conn.close()

    return handle


def round_trip(conn: socket.socket, message: bytes = b"ping") -> float:
    """Seconds from sending `message` to having its echo back."""
    start = time.perf_counter()
    conn.sendall(message)
    assert read_exactly(conn, len(message)) == message
    return time.perf_counter() - start


def wait_until(condition: Callable[[], object], timeout_s: float = 2.0) -> None:
    """For what another thread does just after the proxy closed our socket."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(0.005)
