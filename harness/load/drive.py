"""`drive`: the load of one experiment against one target, bounded in time and count."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator

from harness.errors import InvalidExperiment
from harness.experiment.model import Load
from harness.experiment.templates import RequestFactory
from harness.load import closed_loop, open_loop
from harness.load.client import Client, OnRecord, connections_for
from harness.load.trace import Trace
from harness.record import PhaseWindow, RequestRecord


async def drive(
    base_url: str,
    factory: RequestFactory,
    load: Load,
    phases: list[PhaseWindow],
    *,
    stream: bool,
    timeout_s: float,
    seed: int,
    on_record: OnRecord | None = None,
    stop: asyncio.Event | None = None,
    trace: Trace | None = None,
) -> list[RequestRecord]:
    """Send the load to `base_url` and return one record per request, in seq order.

    Load starts when this is called; it ends when `duration_s` (or the phases) have passed or
    `max_requests` were sent, and every answer is in. Setting `stop` ends it at once: nothing
    more is sent and requests in flight are recorded with error "cancelled". A `mode: trace`
    load needs its `trace` (the same one `factory` fills the templates from).
    """
    duration_s = load.duration_s
    if duration_s is None:
        duration_s = max((p.end_s for p in phases), default=0.0)
    if duration_s <= 0:
        raise InvalidExperiment("load.duration_s: give `duration_s` or phases")
    rate = load.rate
    if load.mode == "trace":
        if trace is None:
            raise InvalidExperiment("load.mode: trace: the trace was not read (harness.load.trace.trace_of)")
        rate = trace.peak_rate(load.speed)
    connections = connections_for(rate if load.mode != "closed" else None, load.concurrency, timeout_s)
    client = Client(
        base_url,
        factory,
        phases,
        stream=stream,
        timeout_s=timeout_s,
        connections=connections,
        on_record=on_record,
    )
    with _young_collections_only():
        async with client:
            await _run(client, load, duration_s, seed, stop, trace)
    return client.result()


async def _run(
    client: Client, load: Load, duration_s: float, seed: int, stop: asyncio.Event | None, trace: Trace | None
) -> None:
    client.start()
    if load.mode != "closed":
        due_times = open_loop.schedule(load, duration_s, seed, trace)
        work = asyncio.ensure_future(open_loop.run(client, due_times))
    else:
        work = asyncio.ensure_future(closed_loop.run(client, load, duration_s))
    stopped = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        await asyncio.wait({work} if stopped is None else {work, stopped}, return_when="FIRST_COMPLETED")
    finally:
        if stopped is not None:
            stopped.cancel()
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        await client.cancel()
    if not work.cancelled():
        work.result()  # a bug in the scheduler is raised, not hidden


_loads_running = 0  # drives in progress in this process: only the outermost touches the gc
_saved_thresholds = gc.get_threshold()


@contextlib.contextmanager
def _young_collections_only() -> Iterator[None]:
    """No full garbage collections while the load runs.

    A full collection walks every object alive, the records kept so far included, and stalls
    the send loop for tens of milliseconds, late by that much for every request due meanwhile.
    The young generations are still collected, and the load leaves little cyclic garbage (a
    few hundred objects per 10,000 requests), so memory stays bounded; the thresholds are
    restored afterwards, when the next full collection finds what there is.
    """
    global _loads_running, _saved_thresholds
    if _loads_running == 0:
        _saved_thresholds = gc.get_threshold()
        gc.freeze()  # what existed before the load (modules, Faker) is not scanned during it
        gc.set_threshold(_saved_thresholds[0], _saved_thresholds[1], 1 << 30)
    _loads_running += 1
    try:
        yield
    finally:
        _loads_running -= 1
        if _loads_running == 0:
            gc.set_threshold(*_saved_thresholds)
            gc.unfreeze()
