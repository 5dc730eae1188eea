"""timeout: data is dropped; the connection closes after `timeout` ms, or never with 0."""

from __future__ import annotations

import time

import pytest

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import Upstream, add_toxic, dial, make_proxy, read_all, remove_toxic


def test_timeout_drops_data_and_closes_after_the_timeout(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "timeout", "stream": "upstream", "attributes": {"timeout": 200}})
    start = time.perf_counter()
    with dial(listen) as conn:
        conn.sendall(b"lost")
        assert read_all(conn) == b""
    assert time.perf_counter() - start >= 0.2
    assert echo_upstream.received == b""


def test_timeout_zero_holds_the_connection_open_until_removed_which_closes_it(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "timeout", "attributes": {"timeout": 0}})
    with dial(listen) as conn:
        conn.sendall(b"echoed but dropped on the way back")
        conn.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.recv(100)
        conn.settimeout(5)
        # The dropped bytes are gone for good, so removing the toxic ends the connection.
        remove_toxic(server, "timeout_downstream")
        assert read_all(conn) == b""
