"""Proxies on real sockets: bytes intact, live toxic changes, order, toxicity, disabling."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import pytest

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import (
    Upstream,
    add_toxic,
    dial,
    http,
    make_proxy,
    read_all,
    read_exactly,
    remove_toxic,
    round_trip,
    sender,
)

SLACK_S = 0.15


def _transfer(listen: str, payload: bytes) -> bytes:
    """Send `payload` to the echo upstream and read it back (written from a thread)."""
    with dial(listen) as conn:
        writer = threading.Thread(target=conn.sendall, args=(payload,))
        writer.start()
        echoed = read_exactly(conn, len(payload))
        writer.join()
    return echoed


@pytest.mark.parametrize("toxic", [None, {"type": "noop"}, {"type": "noop", "stream": "upstream"}])
def test_a_mebibyte_goes_through_intact(
    server: ToxiproxyServerThread, echo_upstream: Upstream, toxic: dict[str, str] | None
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    if toxic is not None:
        add_toxic(server, toxic)
    payload = os.urandom(1 << 20)
    assert _transfer(listen, payload) == payload


def test_toxics_added_and_removed_act_on_a_live_connection(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    with dial(listen) as conn:
        assert round_trip(conn) < SLACK_S
        add_toxic(server, {"type": "latency", "attributes": {"latency": 200}})
        assert round_trip(conn) >= 0.2
        remove_toxic(server, "latency_downstream")
        assert round_trip(conn) < SLACK_S


def test_data_held_by_a_removed_toxic_is_passed_on_not_dropped(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "latency", "attributes": {"latency": 5000}})
    with dial(listen) as conn:
        start = time.perf_counter()
        conn.sendall(b"one")
        time.sleep(0.1)  # echoed, now held by the latency toxic
        conn.sendall(b"two")
        time.sleep(0.1)
        remove_toxic(server, "latency_downstream")
        assert read_exactly(conn, 6) == b"onetwo"
        assert time.perf_counter() - start < 2


def test_updating_a_toxic_changes_it_on_live_connections(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "latency", "attributes": {"latency": 300}})
    with dial(listen) as conn:
        assert round_trip(conn) >= 0.3
        status, _ = http(
            "PATCH", server.url + "/proxies/p/toxics/latency_downstream", {"attributes": {"latency": 0}}
        )
        assert status == 200
        assert round_trip(conn) < SLACK_S


def test_toxics_act_in_the_order_added(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    def close_time(first: dict[str, object], second: dict[str, object]) -> tuple[bytes, float]:
        listen = make_proxy(server, upstream(sender(b"0123456789")).address, name="order")
        add_toxic(server, first, proxy="order")
        add_toxic(server, second, proxy="order")
        start = time.perf_counter()
        with dial(listen) as conn:
            data = read_all(conn)
        assert http("DELETE", server.url + "/proxies/order")[0] == 204
        return data, time.perf_counter() - start

    limit = {"type": "limit_data", "attributes": {"bytes": 4}}
    slow = {"type": "slow_close", "attributes": {"delay": 300}}
    # limit_data closes first, then slow_close holds that close; the other way round,
    # limit_data's close comes after slow_close and is not delayed.
    data, took = close_time(limit, slow)
    assert (data, took >= 0.3) == (b"0123", True)
    data, took = close_time(slow, limit)
    assert (data, took < 0.3) == (b"0123", True)


def test_a_slow_toxic_pushes_back_on_the_sender_instead_of_buffering_everything(
    server: ToxiproxyServerThread, upstream: Callable[..., Upstream]
) -> None:
    total = 64 << 20
    sent = [0]
    stop = threading.Event()

    def flood(conn: socket.socket) -> None:
        block = bytes(64 << 10)
        conn.settimeout(0.1)
        while sent[0] < total and not stop.is_set():
            try:
                sent[0] += conn.send(block)
            except TimeoutError:
                continue
        conn.close()

    listen = make_proxy(server, upstream(flood).address)
    add_toxic(server, {"type": "bandwidth", "attributes": {"rate": 1}})
    with dial(listen):
        time.sleep(1.0)
        stop.set()
    # Without back-pressure the proxy would read all 64 MiB at loopback speed within a moment;
    # with it, the sender stalls once the socket buffers and the chain's 1 MiB are full.
    assert sent[0] < total // 2, sent[0]


def test_two_latency_toxics_add_up(server: ToxiproxyServerThread, echo_upstream: Upstream) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "latency", "name": "a", "attributes": {"latency": 100}})
    add_toxic(server, {"type": "latency", "name": "b", "attributes": {"latency": 100}})
    with dial(listen) as conn:
        assert 0.2 <= round_trip(conn) < 0.2 + SLACK_S


def test_toxicity_is_rolled_once_per_connection(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 150}})
    results: dict[int, list[float]] = {}

    def measure(i: int) -> None:
        with dial(listen) as conn:
            results[i] = [round_trip(conn) for _ in range(3)]

    threads = [threading.Thread(target=measure, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 16
    slow = {i for i, trips in results.items() if all(t >= 0.15 for t in trips)}
    fast = {i for i, trips in results.items() if all(t < 0.15 for t in trips)}
    # Every connection is either toxic throughout or not at all, and both kinds occur.
    assert slow | fast == set(results), results
    assert slow
    assert fast


def test_toxicity_zero_never_acts(server: ToxiproxyServerThread, echo_upstream: Upstream) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "timeout", "toxicity": 0.0, "attributes": {"timeout": 0}})
    for _ in range(5):
        with dial(listen) as conn:
            assert round_trip(conn) < SLACK_S


def _closed(conn: socket.socket) -> bool:
    try:
        return conn.recv(10) == b""
    except ConnectionResetError:
        return True


def test_disabling_a_proxy_closes_its_connections_and_its_listener(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    with dial(listen) as conn:
        round_trip(conn)
        assert http("PATCH", server.url + "/proxies/p", {"enabled": False})[0] == 200
        assert _closed(conn)
    with pytest.raises(ConnectionRefusedError):
        dial(listen)
    assert http("PATCH", server.url + "/proxies/p", {"enabled": True})[1]["listen"] == listen
    with dial(listen) as conn:
        assert round_trip(conn) < SLACK_S


def test_deleting_a_proxy_closes_its_connections(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    with dial(listen) as conn:
        round_trip(conn)
        assert http("DELETE", server.url + "/proxies/p")[0] == 204
        assert _closed(conn)


def test_an_unreachable_upstream_closes_the_client(server: ToxiproxyServerThread) -> None:
    with socket.create_server(("127.0.0.1", 0)) as gone:
        address = f"127.0.0.1:{gone.getsockname()[1]}"
    listen = make_proxy(server, address)
    with dial(listen) as conn:
        assert _closed(conn)


def test_stopping_the_server_closes_proxies_and_connections(echo_upstream: Upstream) -> None:
    with ToxiproxyServerThread() as s:
        listen = make_proxy(s, echo_upstream.address)
        conn = dial(listen)
        round_trip(conn)
    with conn:
        assert _closed(conn)
    with pytest.raises(ConnectionRefusedError):
        dial(listen)
