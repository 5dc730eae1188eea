"""Open loop: the schedule, its bounds, and sends that never wait for answers."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest

from harness.experiment.model import Load
from harness.load import drive
from harness.load.open_loop import arrivals
from harness.record import PhaseWindow, RequestRecord

from .conftest import Target, make_factory, run_load


def test_constant_arrivals_are_evenly_spaced_and_bounded_by_duration() -> None:
    due = list(arrivals(100.0, "constant", 1.0, 10**6, seed=0))
    assert len(due) == 100
    assert due[0] == 0.0
    assert due[-1] < 1.0
    assert all(b - a == pytest.approx(0.01) for a, b in pairwise(due))


def test_arrivals_are_bounded_by_max_requests() -> None:
    assert len(list(arrivals(1000.0, "constant", 10.0, 25, seed=0))) == 25
    assert len(list(arrivals(1000.0, "poisson", 10.0, 25, seed=0))) == 25


def test_poisson_arrivals_repeat_per_seed_and_average_the_rate() -> None:
    first = list(arrivals(200.0, "poisson", 10.0, 10**6, seed=4))
    assert first == list(arrivals(200.0, "poisson", 10.0, 10**6, seed=4))
    assert first != list(arrivals(200.0, "poisson", 10.0, 10**6, seed=5))
    assert 1800 <= len(first) <= 2200  # 2,000 expected; the Poisson s.d. is ~45
    gaps = [b - a for a, b in pairwise(first)]
    assert len(set(gaps)) > len(gaps) // 2  # not a constant spacing
    assert all(0 < d < 10.0 for d in first)


async def test_open_loop_sends_rate_times_duration_on_schedule(target: Target) -> None:
    records = await run_load(target.url, mode="open", rate=40, duration_s=0.5)
    assert len(records) == 20
    assert [r.seq for r in records] == list(range(20))
    assert [r.scheduled_s for r in records] == pytest.approx([i / 40 for i in range(20)])
    assert all(r.status == 200 and r.error is None for r in records)
    assert all(r.sent_s >= r.scheduled_s for r in records)
    assert max(r.sent_s - r.scheduled_s for r in records) < 0.2  # generous: a shared CI machine


async def test_open_loop_stops_at_max_requests(target: Target) -> None:
    records = await run_load(target.url, mode="open", rate=200, duration_s=5.0, max_requests=7)
    assert len(records) == 7
    assert len(target.ids) == 7


async def test_poisson_load_sends_the_seeded_schedule(target: Target) -> None:
    records = await run_load(target.url, mode="open", rate=50, arrival="poisson", duration_s=0.4, seed=9)
    assert [r.scheduled_s for r in records] == list(arrivals(50.0, "poisson", 0.4, 10_000, seed=9))


async def test_open_loop_does_not_wait_for_answers(target: Target) -> None:
    started = time.monotonic()
    records = await run_load(target.url, path="/echo?delay=0.3", mode="open", rate=20, duration_s=0.5)
    elapsed = time.monotonic() - started
    assert len(records) == 10
    assert target.max_inflight >= 5  # sends went out while earlier answers were pending
    assert all(r.sent_s - r.scheduled_s < 0.2 for r in records)
    assert all(r.latency_s is not None and r.latency_s >= 0.29 for r in records)
    assert elapsed < 0.5 + 0.3 + 1.0


async def test_late_sends_are_sent_late_and_recorded_never_skipped(target: Target) -> None:
    stalled: list[RequestRecord] = []

    def stall_once(record: RequestRecord) -> None:
        if not stalled:
            stalled.append(record)
            time.sleep(0.08)  # blocks the event loop: the sends due meanwhile go out late

    records = await drive(
        target.url,
        make_factory(),
        Load(mode="open", rate=200, duration_s=0.3),
        [PhaseWindow("all", 0.0, 0.3)],
        stream=False,
        timeout_s=5.0,
        seed=0,
        on_record=stall_once,
    )
    assert len(records) == 60
    assert sorted(target.ids) == sorted(r.id for r in records)
    lags = [r.sent_s - r.scheduled_s for r in records]
    assert max(lags) >= 0.05
    assert sum(lag > 0.02 for lag in lags) >= 5
