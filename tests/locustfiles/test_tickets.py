"""Tickets: which requests a locust process sends and when, without gevent or sockets."""

from __future__ import annotations

import pytest

from harness.experiment.model import Load
from harness.load.open_loop import arrivals
from locustfiles.tickets import Ticket, Tickets


def _drain(tickets: Tickets, now_s: float = 0.0) -> list[Ticket]:
    out: list[Ticket] = []
    while (ticket := tickets.take(now_s)) is not None:
        out.append(ticket)
    return out


def test_open_loop_lanes_share_the_asyncio_arrivals_each_request_once() -> None:
    load = Load(engine="locust", mode="open", rate=50, arrival="poisson", users=4, max_requests=1000)
    expected = list(enumerate(arrivals(50, "poisson", 2.0, 1000, seed=7)))
    lanes = [_drain(Tickets(load, 2.0, seed=7, lane=i, lanes=3)) for i in range(3)]
    merged = sorted((t.seq, t.due_s) for lane in lanes for t in lane)
    assert merged == expected
    assert all(t.seq % 3 == i for i, lane in enumerate(lanes) for t in lane)


def test_open_loop_stops_at_max_requests() -> None:
    load = Load(engine="locust", mode="open", rate=100, users=2, max_requests=7)
    tickets = Tickets(load, 10.0, seed=0)
    assert [t.seq for t in _drain(tickets)] == list(range(7))
    assert tickets.exhausted


def test_closed_loop_tickets_are_due_when_taken_until_time_or_count_runs_out() -> None:
    load = Load(engine="locust", mode="closed", users=2, max_requests=5)
    lane = Tickets(load, 1.0, seed=0, lane=1, lanes=2)
    assert lane.take(0.1) == Ticket(1, None)
    assert lane.take(0.2) == Ticket(3, None)
    assert lane.take(0.3) is None  # seq 5 is past max_requests
    timed = Tickets(load, 1.0, seed=0)
    assert timed.take(0.5) == Ticket(0, None)
    assert timed.take(1.0) is None  # the duration is over
    assert timed.take(0.5) is None  # and stays over


def test_close_returns_the_open_loop_tickets_never_taken() -> None:
    load = Load(engine="locust", mode="open", rate=10, users=1)
    tickets = Tickets(load, 1.0, seed=0)
    assert tickets.take(0.0) == Ticket(0, 0.0)
    left = tickets.close()
    assert [t.seq for t in left] == list(range(1, 10))
    assert tickets.take(0.0) is None
    assert tickets.close() == []


def test_a_lane_outside_the_lanes_is_refused() -> None:
    load = Load(engine="locust", mode="closed", users=1)
    with pytest.raises(ValueError, match="lane 2 is not one of 2 lanes"):
        Tickets(load, 1.0, seed=0, lane=2, lanes=2)
