"""Closed loop: `concurrency` workers, each sending its next request when the last one is done.

A request's `scheduled_s` is when its worker took it, so the phase it belongs to is the phase
it started in. No worker takes a request once `duration_s` has passed or `max_requests` have
been taken.
"""

from __future__ import annotations

import asyncio
import itertools

from harness.experiment.model import Load
from harness.load.client import Client


async def run(client: Client, load: Load, duration_s: float) -> None:
    """Run the workers until the time or the count is used up."""
    assert load.concurrency is not None
    numbers = itertools.count()

    async def worker() -> None:
        while True:
            scheduled_s = client.now()
            seq = next(numbers)
            if scheduled_s >= duration_s or seq >= load.max_requests:
                return
            request = client.prepare(seq)
            await client.send(client.record(seq, scheduled_s, request), request)

    workers = [asyncio.create_task(worker()) for _ in range(load.concurrency)]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
