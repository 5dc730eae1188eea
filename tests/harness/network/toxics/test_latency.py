"""latency: each chunk is delayed by latency ± jitter from when it arrived, both ways."""

from __future__ import annotations

import threading
import time

from harness.network import ToxiproxyServerThread
from tests.harness.network.conftest import Upstream, add_toxic, dial, make_proxy, read_exactly, round_trip

SLACK_S = 0.15  # scheduling noise allowed on a busy 2-core machine


def test_latency_delays_each_round_trip_downstream_and_upstream(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    with dial(listen) as conn:
        assert round_trip(conn) < SLACK_S
        add_toxic(server, {"type": "latency", "attributes": {"latency": 120}})
        assert 0.12 <= round_trip(conn) < 0.12 + SLACK_S
        add_toxic(server, {"type": "latency", "stream": "upstream", "attributes": {"latency": 80}})
        assert 0.2 <= round_trip(conn) < 0.2 + SLACK_S


def test_latency_applies_per_chunk_from_its_arrival_not_one_after_another(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "latency", "attributes": {"latency": 150}})
    sent: list[float] = []
    with dial(listen) as conn:

        def send() -> None:
            for i in range(3):
                sent.append(time.perf_counter())
                conn.sendall(b"m%d" % i)
                time.sleep(0.02)

        writer = threading.Thread(target=send)
        writer.start()
        delays = []
        for i in range(3):
            assert read_exactly(conn, 2) == b"m%d" % i
            delays.append(time.perf_counter() - sent[i])
        writer.join()
    # One after another would give 150, 280, 410 ms; side by side each is 150 ms.
    assert all(0.15 <= d < 0.25 for d in delays), delays


def test_jitter_spreads_delays_within_latency_plus_or_minus_jitter(
    server: ToxiproxyServerThread, echo_upstream: Upstream
) -> None:
    listen = make_proxy(server, echo_upstream.address)
    add_toxic(server, {"type": "latency", "attributes": {"latency": 60, "jitter": 40}})
    with dial(listen) as conn:
        delays = [round_trip(conn) for _ in range(10)]
    assert all(0.02 <= d < 0.1 + SLACK_S for d in delays), delays
    assert max(delays) - min(delays) > 0.02, delays
