"""limit_data: the connection closes after exactly N bytes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import Upstream, add_toxic, dial, make_proxy, read_all, sender, wait_until


def test_limit_data_closes_downstream_after_exactly_n_bytes(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    payload = bytes(range(256)) * 20
    listen = make_proxy(server, upstream(sender(payload)).address)
    add_toxic(server, {"type": "limit_data", "attributes": {"bytes": 1000}})
    with dial(listen) as conn:
        assert read_all(conn) == payload[:1000]


def test_limit_data_counts_across_chunks_upstream(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    got: list[bytes] = []

    def receive(conn: socket.socket) -> None:
        got.append(read_all(conn))
        conn.close()

    listen = make_proxy(server, upstream(receive).address)
    add_toxic(server, {"type": "limit_data", "stream": "upstream", "attributes": {"bytes": 10}})
    with dial(listen) as conn:
        for part in (b"abcd", b"efgh", b"ijklmnop"):
            try:
                conn.sendall(part)
            except OSError:
                break  # the proxy may already have closed us
            time.sleep(0.02)  # separate chunks
        assert read_all(conn) == b""
    wait_until(lambda: got)
    assert got == [b"abcdefghij"]
