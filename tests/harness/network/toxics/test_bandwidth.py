"""bandwidth: the rate holds within 10 %, both ways."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import (
    Upstream,
    add_toxic,
    dial,
    make_proxy,
    read_all,
    remove_toxic,
    sender,
    wait_until,
)

RATE_KB_S = 200
SIZE = 100_000  # 0.5 s at 200 KB/s (Toxiproxy's KB is 1000 bytes)


def test_bandwidth_limits_downstream_rate_within_ten_percent(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    listen = make_proxy(server, upstream(sender(b"x" * SIZE)).address)
    add_toxic(server, {"type": "bandwidth", "attributes": {"rate": RATE_KB_S}})
    start = time.perf_counter()
    with dial(listen) as conn:
        assert len(read_all(conn)) == SIZE
    rate = SIZE / (time.perf_counter() - start)
    assert abs(rate - RATE_KB_S * 1000) <= 0.1 * RATE_KB_S * 1000, rate


def test_bandwidth_limits_upstream_rate_within_ten_percent(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    done: list[float] = []

    def receive(conn: socket.socket) -> None:
        got = 0
        while data := conn.recv(65536):
            got += len(data)
            if got >= SIZE:
                done.append(time.perf_counter())
        conn.close()

    listen = make_proxy(server, upstream(receive).address)
    add_toxic(server, {"type": "bandwidth", "stream": "upstream", "attributes": {"rate": RATE_KB_S}})
    with dial(listen) as conn:
        start = time.perf_counter()
        conn.sendall(b"y" * SIZE)
        conn.shutdown(socket.SHUT_WR)
        assert read_all(conn) == b""
    # The proxy closes the client once the upstream socket is closed, which can be just
    # before the upstream's thread has read the last bytes.
    wait_until(lambda: done)
    rate = SIZE / (done[0] - start)
    assert abs(rate - RATE_KB_S * 1000) <= 0.1 * RATE_KB_S * 1000, rate


def test_bandwidth_zero_stalls_until_the_toxic_is_removed(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    listen = make_proxy(server, upstream(sender(b"z" * 1000)).address)
    add_toxic(server, {"type": "bandwidth", "attributes": {"rate": 0}})
    with dial(listen) as conn:
        conn.settimeout(0.3)
        try:
            stalled = conn.recv(10) == b""
        except TimeoutError:
            stalled = True
        assert stalled
        conn.settimeout(5)
        remove_toxic(server, "bandwidth_downstream")
        assert read_all(conn) == b"z" * 1000
