"""reset_peer: the client gets ECONNRESET (a real TCP RST), after `timeout` ms."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable

import pytest

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import Upstream, add_toxic, dial, make_proxy, wait_until


def _drain(conn: socket.socket) -> None:
    while conn.recv(65536):
        pass


def _read_until_reset(conn: socket.socket) -> OSError:
    with pytest.raises(ConnectionResetError) as e:
        _drain(conn)
    return e.value


def test_reset_peer_gives_the_client_econnreset(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "reset_peer", "attributes": {"timeout": 0}})
    with dial(listen) as conn:
        conn.sendall(b"hello")
        assert _read_until_reset(conn).errno == errno.ECONNRESET


def test_reset_peer_waits_its_timeout_after_the_first_data(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    upstream_errors: list[OSError] = []

    def hold(conn: socket.socket) -> None:
        conn.sendall(b"first")
        try:
            conn.recv(10)
        except OSError as e:
            upstream_errors.append(e)

    listen = make_proxy(server, upstream(hold).address)
    add_toxic(server, {"type": "reset_peer", "attributes": {"timeout": 200}})
    start = time.perf_counter()
    with dial(listen) as conn:
        error = _read_until_reset(conn)
    assert error.errno == errno.ECONNRESET
    assert time.perf_counter() - start >= 0.2
    # The upstream's socket is reset too, as Toxiproxy's SO_LINGER 0 on both sides does.
    wait_until(lambda: upstream_errors)
    assert [type(e) for e in upstream_errors] == [ConnectionResetError]
