"""Open loop: requests arrive at `rate` per second (or at a trace's times) whatever the target does.

Each request is due at a fixed offset from load start (every 1/rate s, Poisson arrivals from
the seeded generator, or a trace's arrivals at its `speed`) and is sent by a timer set for that
absolute time, so a slow answer never delays the next send, and latency counts from the due
time (no coordinated omission). If the client falls behind, requests go out late and
`sent_s - scheduled_s` shows by how much; none is skipped.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Iterable, Iterator

from harness.experiment.model import Load
from harness.load.client import Client
from harness.load.trace import Trace

# Requests are rendered and their timers set this far ahead of their due time, so rendering
# (Faker can take a few hundred µs) happens before the send, not between due time and send.
LEAD_S = 0.005
# The scheduler wakes about once per TICK_S and then sets every timer due within LEAD_S: one
# wake-up for several requests at high rates, instead of one each.
TICK_S = 0.002


def arrivals(rate: float, arrival: str, duration_s: float, max_requests: int, seed: int) -> Iterator[float]:
    """Due times in seconds from load start: fewer than `max_requests`, all before `duration_s`."""
    if arrival == "constant":
        for i in range(max_requests):
            due = i / rate
            if due >= duration_s:
                return
            yield due
        return
    rng = random.Random(seed)
    due = 0.0
    for _ in range(max_requests):
        due += rng.expovariate(rate)
        if due >= duration_s:
            return
        yield due


def schedule(load: Load, duration_s: float, seed: int, trace: Trace | None = None) -> Iterator[float]:
    """An open (or trace) load's due times in seconds from load start, bounded by `duration_s`
    and `max_requests`: one schedule for both engines."""
    if load.mode == "trace":
        if trace is None:
            raise ValueError("a trace load is scheduled from its trace (harness.load.trace.trace_of)")
        return trace.due_times(load.speed, duration_s, load.max_requests)
    if load.rate is None:
        raise ValueError(f"a {load.mode} load has no arrival schedule")
    return arrivals(load.rate, load.arrival, duration_s, load.max_requests, seed)


async def run(client: Client, due_times: Iterable[float]) -> None:
    """Send request `seq` at `t0 + due_times[seq]`, then wait for the answers; returns when the
    last one is done."""
    loop = asyncio.get_running_loop()
    timers: deque[asyncio.TimerHandle] = deque()  # set and not yet fired
    t0 = client.t0
    scheduled = unyielded = 0
    try:
        for seq, due_s in enumerate(due_times):
            due = t0 + due_s
            wait = due - LEAD_S - loop.time()
            if wait > 0:
                # Everything due within LEAD_S is set: sleep, then set the next TICK_S at once.
                await asyncio.sleep(wait + TICK_S)
                while len(timers) > scheduled - client.launched:
                    timers.popleft()
                unyielded = 0
            elif unyielded >= 16:
                await asyncio.sleep(0)  # behind: let the sends already due start
                unyielded = 0
            request = client.prepare(seq)
            timers.append(loop.call_at(due, client.launch, seq, due_s, request))
            scheduled += 1
            unyielded += 1
        await client.launched_all(scheduled)
    finally:
        for timer in timers:  # stopped early: what is not due yet is not sent
            timer.cancel()
    await client.drain()
