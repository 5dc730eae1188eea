"""Toxics on in-memory streams (no sockets): stubs, interrupts, state and the toxicity roll."""

from __future__ import annotations

import asyncio
import random

from harness.network.stream import Channel, Chunk, Signal, Stub
from harness.network.toxics import Direction, ToxicWrapper
from harness.network.toxics.base import run
from harness.network.toxics.latency import Latency
from harness.network.toxics.limit_data import LimitData
from harness.network.toxics.slow_close import SlowClose
from harness.network.toxics.timeout import Timeout


class Collected:
    """An output that keeps what it is given."""

    def __init__(self) -> None:
        self.items: list[bytes | Signal] = []

    def put(self, item: Chunk | Signal) -> None:
        self.items.append(item.data if isinstance(item, Chunk) else item)


def _stub(toxic: object = None) -> tuple[Stub, Collected]:
    out = Collected()
    state = toxic.new_state() if hasattr(toxic, "new_state") else None
    return Stub(Channel(), out, random.Random(0), state=state), out


def _wrapper(toxic: Latency | LimitData | SlowClose | Timeout, toxicity: float = 1.0) -> ToxicWrapper:
    return ToxicWrapper("t", toxic.type_name, "downstream", toxicity, toxic, Direction.DOWNSTREAM)


def _chunk(data: bytes) -> Chunk:
    return Chunk(data, asyncio.get_running_loop().time())


async def test_limit_data_keeps_its_count_across_an_interrupt() -> None:
    toxic = LimitData(bytes=6)
    stub, out = _stub(toxic)
    task = asyncio.create_task(run(_wrapper(toxic), stub, random.Random(0)))
    stub.input.put(_chunk(b"abcd"))
    await asyncio.sleep(0)
    stub.interrupt()
    await task
    stub.clear_interrupt()
    task = asyncio.create_task(run(_wrapper(toxic), stub, random.Random(0)))
    stub.input.put(_chunk(b"efgh"))
    await asyncio.wait_for(task, 1)
    assert out.items == [b"abcd", b"ef", Signal.EOF]


async def test_an_interrupted_latency_passes_on_the_chunk_it_holds_at_once() -> None:
    toxic = Latency(latency=10_000)
    stub, out = _stub()
    task = asyncio.create_task(run(_wrapper(toxic), stub, random.Random(0)))
    stub.input.put(_chunk(b"held"))
    await asyncio.sleep(0.01)
    assert out.items == []
    stub.interrupt()
    await asyncio.wait_for(task, 1)
    assert out.items == [b"held"]


async def test_an_interrupted_slow_close_leaves_the_eof_for_what_runs_next() -> None:
    stub, out = _stub()
    task = asyncio.create_task(run(_wrapper(SlowClose(delay=10_000)), stub, random.Random(0)))
    stub.input.put(_chunk(b"data"))
    stub.input.put(Signal.EOF)
    await asyncio.sleep(0.01)
    stub.interrupt()
    await asyncio.wait_for(task, 1)
    assert out.items == [b"data"]
    assert stub.input.pop() is Signal.EOF


async def test_timeout_restarts_its_clock_with_each_dropped_chunk() -> None:
    stub, out = _stub()
    loop = asyncio.get_running_loop()
    start = loop.time()
    task = asyncio.create_task(run(_wrapper(Timeout(timeout=80)), stub, random.Random(0)))
    for _ in range(3):
        await asyncio.sleep(0.05)
        stub.input.put(_chunk(b"dropped"))
    await asyncio.wait_for(task, 1)
    assert out.items == [Signal.EOF]
    assert loop.time() - start >= 0.15 + 0.08


async def test_toxicity_zero_passes_everything_through_unchanged() -> None:
    stub, out = _stub()
    task = asyncio.create_task(run(_wrapper(Timeout(timeout=0), toxicity=0.0), stub, random.Random(0)))
    stub.input.put(_chunk(b"kept"))
    stub.input.put(Signal.EOF)
    await asyncio.wait_for(task, 1)
    assert out.items == [b"kept", Signal.EOF]


async def test_a_closed_channel_drops_what_is_put_and_counts_queued_bytes() -> None:
    sizes: list[int] = []
    channel = Channel(sizes.append)
    channel.put(_chunk(b"abc"))
    channel.put(Signal.EOF)
    assert len(channel) == 2
    channel.close()
    channel.put(_chunk(b"late"))
    assert (len(channel), sizes) == (0, [3, -3])
