"""The scenario clock and the virtual time that stands in for the wall clock in tests."""

from __future__ import annotations

import asyncio

import pytest

from fakeprovider.clock import ScenarioClock, VirtualTime


def test_a_scenario_clock_starts_at_zero() -> None:
    clock = ScenarioClock(VirtualTime(start=500.0))
    assert clock.now() == 0.0


def test_a_scenario_clock_follows_its_time_source() -> None:
    t = VirtualTime()
    clock = ScenarioClock(t)
    t.advance(12.5)
    assert clock.now() == 12.5
    assert clock.monotonic() == t()


def test_start_restarts_the_scenario_clock_at_zero() -> None:
    t = VirtualTime()
    clock = ScenarioClock(t)
    t.advance(30)
    clock.start()
    assert clock.now() == 0.0
    t.advance(4)
    assert clock.now() == 4.0
    assert clock.monotonic() == 1_034.0  # the source itself is not reset


def test_a_scenario_clock_defaults_to_real_monotonic_time() -> None:
    clock = ScenarioClock()
    assert 0.0 <= clock.now() < 5.0


def test_virtual_time_moves_only_when_told() -> None:
    t = VirtualTime(start=10.0)
    assert t() == 10.0
    assert t() == 10.0
    t.advance(2.5)
    assert t() == 12.5


@pytest.mark.timeout(5)
async def test_virtual_sleep_advances_instead_of_waiting_and_records() -> None:
    t = VirtualTime()
    loop = asyncio.get_running_loop()
    before = loop.time()
    await t.sleep(3600)
    await t.sleep(0.25)
    await t.sleep(-1)  # recorded as asked, but time never runs backwards
    assert loop.time() - before < 1.0
    assert t.slept == [3600, 0.25, -1]
    assert t() == 1_000.0 + 3600.25


@pytest.mark.timeout(5)
async def test_virtual_sleep_yields_to_other_tasks_and_can_be_cancelled() -> None:
    t = VirtualTime()
    order: list[str] = []

    async def sleeper() -> None:
        for _ in range(3):
            await t.sleep(1)
            order.append("sleeper")

    async def other() -> None:
        order.append("other")

    await asyncio.gather(sleeper(), other())
    assert order.index("other") < 2
    task = asyncio.create_task(t.sleep(5))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
