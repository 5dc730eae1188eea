"""Closed loop: N workers, never more than N requests in flight, bounded by time and count."""

from __future__ import annotations

import time
from itertools import pairwise

from harness.record import PhaseWindow

from .conftest import Target, run_load


async def test_closed_loop_never_has_more_than_concurrency_in_flight(target: Target) -> None:
    records = await run_load(
        target.url, path="/echo?delay=0.02", mode="closed", concurrency=3, duration_s=0.4
    )
    assert target.max_inflight == 3
    assert 6 <= len(records) <= 3 * (0.4 / 0.02 + 1)
    assert all(r.status == 200 for r in records)
    assert [r.seq for r in records] == list(range(len(records)))


async def test_closed_loop_sends_the_next_request_when_the_last_is_done(target: Target) -> None:
    records = await run_load(
        target.url, path="/echo?delay=0.05", mode="closed", concurrency=1, duration_s=0.3
    )
    for before, after in pairwise(records):
        assert before.end_s is not None
        assert after.scheduled_s >= before.end_s


async def test_closed_loop_stops_at_max_requests(target: Target) -> None:
    records = await run_load(target.url, mode="closed", concurrency=4, duration_s=5.0, max_requests=9)
    assert len(records) == 9
    assert len(target.ids) == 9


async def test_closed_loop_stops_when_the_phases_end(target: Target) -> None:
    phases = [PhaseWindow("warm", 0.0, 0.15), PhaseWindow("hot", 0.15, 0.3)]
    started = time.monotonic()
    records = await run_load(
        target.url, path="/echo?delay=0.01", mode="closed", concurrency=2, duration_s=None, phases=phases
    )
    assert time.monotonic() - started < 1.5
    assert all(r.scheduled_s < 0.3 for r in records)
    assert {r.phase for r in records} == {"warm", "hot"}
    assert all(r.phase == ("warm" if r.scheduled_s < 0.15 else "hot") for r in records)
