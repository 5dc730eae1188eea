"""slow_close: data arrives at once, the close `delay` ms later."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import Upstream, add_toxic, dial, make_proxy, read_exactly, sender


def test_slow_close_delays_the_close_not_the_data(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    listen = make_proxy(server, upstream(sender(b"hello")).address)
    add_toxic(server, {"type": "slow_close", "attributes": {"delay": 300}})
    start = time.perf_counter()
    with dial(listen) as conn:
        assert read_exactly(conn, 5) == b"hello"
        data_at = time.perf_counter() - start
        assert conn.recv(10) == b""
        closed_at = time.perf_counter() - start
    assert data_at < 0.2
    assert closed_at >= 0.3
