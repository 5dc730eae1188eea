"""The pacer: chunks written on time by one loop timer, on an in-memory transport (no sockets).

Times are only ever checked as lower bounds (a chunk never goes out before it is due) or as an
order: how late a busy machine runs the loop is not a test's business.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
import weakref
from collections.abc import Iterator

import pytest

from fakeprovider.clock import VirtualTime
from fakeprovider.dialects.base import Chunk
from fakeprovider.serving.pacing import Pacer, Progress
from fakeprovider.state import ProviderConfig, ProviderState

pytestmark = pytest.mark.timeout(10)


class MemoryTransport(asyncio.Transport):
    """Keeps what is written, frame by frame, and when (loop time); its buffer fill is set by
    the test. `calls` counts the writes (one may carry several frames)."""

    def __init__(self, high: int = 65536) -> None:
        super().__init__()
        self.writes: list[tuple[float, bytes]] = []
        self.calls = 0
        self.closing = False
        self.buffered = 0
        self.high = high

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls += 1
        now = asyncio.get_running_loop().time()
        rest = bytes(data)
        while rest:  # one HTTP chunk frame each: size in hex, CRLF, data, CRLF
            size, _, after = rest.partition(b"\r\n")
            end = int(size, 16) + 2
            self.writes.append((now, size + b"\r\n" + after[:end]))
            rest = after[end:]

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.high // 4, self.high

    def bodies(self) -> list[bytes]:
        """The chunks written, unframed."""
        out = []
        for _, frame in self.writes:
            size, _, rest = frame.partition(b"\r\n")
            assert rest.endswith(b"\r\n")
            assert int(size, 16) == len(rest) - 2
            out.append(rest[:-2])
        return out


def chunks(delays: list[float], tag: str = "c") -> list[Chunk]:
    return [Chunk(d, f"data: {tag}{i}\n\n".encode(), tokens=1, content=True) for i, d in enumerate(delays)]


async def play(
    pacer: Pacer, items: list[Chunk] | Iterator[Chunk], transport: MemoryTransport
) -> tuple[Progress, list[float]]:
    progress = Progress()
    contents: list[float] = []
    await pacer.play(iter(items), transport, lambda: contents.append(time.monotonic()), progress)
    return progress, contents


async def test_chunks_are_written_in_order_framed_as_http_chunks_and_counted() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    items = chunks([0.0, 0.002, 0.0, 0.003])
    progress, contents = await play(pacer, items, transport)
    assert transport.bodies() == [c.data for c in items]
    assert progress.tokens == 4
    assert len(contents) == 1  # the first content chunk marks the time to first token, once


async def test_chunks_due_together_go_out_in_one_write() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    items = chunks([0.0] * 50 + [0.002] + [0.0] * 9)
    progress, _ = await play(pacer, items, transport)
    assert transport.bodies() == [c.data for c in items]
    assert transport.calls == 2  # the first 50 at once, then the last 10 when they fall due
    assert progress.tokens == 60


async def test_a_long_burst_is_written_in_pieces_the_writer_buffer_can_refuse() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    big = [Chunk(0.0, b"data: " + b"x" * 10_000 + b"\n\n", tokens=1, content=True) for _ in range(20)]
    await play(pacer, big, transport)
    assert transport.bodies() == [c.data for c in big]
    assert 3 <= transport.calls <= 4  # 200 kB in pieces of about 64 kB


async def test_no_chunk_goes_out_before_it_is_due() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    delays = [0.005, 0.002, 0.0, 0.004, 0.003]
    started = asyncio.get_running_loop().time()
    await play(pacer, chunks(delays), transport)
    # A late write only ever moves the schedule later, so each chunk's planned time is a floor.
    for (at, _), planned in zip(transport.writes, itertools.accumulate(delays), strict=True):
        assert at >= started + planned - 1e-6


async def test_streams_interleave_in_order_of_due_time() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    slow, fast = MemoryTransport(), MemoryTransport()
    await asyncio.gather(
        play(pacer, chunks([0.06, 0.06], "slow"), slow),
        play(pacer, chunks([0.003, 0.003, 0.003], "fast"), fast),
    )
    # Due at 3, 6, 9 ms against 60 and 120 ms (a margin a busy machine's timers keep): every fast
    # chunk is written before the first slow one.
    assert max(at for at, _ in fast.writes) <= min(at for at, _ in slow.writes)
    assert len(slow.writes) == 2


async def test_a_late_loop_sends_one_chunk_early_rather_than_a_burst() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    task = asyncio.create_task(play(pacer, chunks([0.0] + [0.02] * 4), transport))
    await asyncio.sleep(0.005)
    # Hold the loop up past the next three due times (20, 40, 60 ms).
    time.sleep(0.07)  # noqa: ASYNC251  (blocking the loop is the point)
    await task
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(transport.writes)]
    # The chunk due during the hold-up goes out with the next one; the rest keep their 20 ms
    # rather than all going out at once.
    assert sum(1 for g in gaps if g < 0.01) == 1


async def test_catching_up_writes_overdue_chunks_before_the_timers_turn() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    task = asyncio.create_task(play(pacer, chunks([0.0, 0.002]), transport))
    await asyncio.sleep(0)  # the first chunk goes out; the second is due 2 ms later
    assert len(transport.writes) == 1
    time.sleep(0.005)  # noqa: ASYNC251  (the loop is held up past the due time)
    pacer.catch_up()
    assert len(transport.writes) == 2  # written now, not when the loop gets to its timers
    await task


async def test_a_closed_connection_ends_the_playback_and_counts_what_was_written() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    progress = Progress()

    def items() -> Iterator[Chunk]:
        yield from chunks([0.0, 0.001])
        transport.closing = True
        yield from chunks([0.001, 0.001])

    with pytest.raises(ConnectionResetError):
        await pacer.play(items(), transport, lambda: None, progress)
    assert len(transport.writes) == 2
    assert progress.tokens == 2


async def test_cancelling_the_handler_stops_the_stream() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    progress = Progress()
    underway = asyncio.Event()

    def items() -> Iterator[Chunk]:
        for i, chunk in enumerate(chunks([0.0] + [0.005] * 20)):
            if i == 3:
                underway.set()
            yield chunk

    task = asyncio.create_task(pacer.play(items(), transport, lambda: None, progress))
    await underway.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    written = len(transport.writes)
    await asyncio.sleep(0.03)
    assert len(transport.writes) == written < 21
    assert progress.tokens == written


async def test_a_full_buffer_holds_the_stream_until_the_caller_reads() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport(high=1000)
    transport.buffered = 1000
    task = asyncio.create_task(play(pacer, chunks([0.0, 0.001, 0.001]), transport))
    await asyncio.sleep(0.02)
    assert transport.writes == []
    transport.buffered = 0
    progress, _ = await task
    assert progress.tokens == 3
    assert len(transport.writes) == 3


async def test_an_error_in_one_stream_reaches_its_handler_and_the_others_go_on() -> None:
    pacer = Pacer(asyncio.get_running_loop())
    broken, fine = MemoryTransport(), MemoryTransport()

    def failing() -> Iterator[Chunk]:
        yield from chunks([0.0, 0.002])
        raise RuntimeError("renderer bug")

    results = await asyncio.gather(
        play(pacer, failing(), broken), play(pacer, chunks([0.001] * 5), fine), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError)
    assert len(broken.writes) == 2
    assert len(fine.writes) == 5


async def test_real_time_streams_share_the_loops_pacer_and_virtual_time_has_none() -> None:
    state = ProviderState(ProviderConfig(latency="none"))
    assert state.pacer() is state.pacer() is not None
    vt = VirtualTime()
    virtual = ProviderState(ProviderConfig(latency="none"), sleep=vt.sleep, time_source=vt)
    assert virtual.pacer() is None


async def test_a_cancelled_stream_lets_go_of_its_connection_and_chunks_at_once() -> None:
    # A stream cancelled while its next chunk is a minute away must not keep the caller's
    # connection, its chunks (and the request they were made from) until that minute is up.
    pacer = Pacer(asyncio.get_running_loop())
    transport = MemoryTransport()
    items = (c for c in chunks([0.0, 60.0, 0.0]))
    transport_ref, items_ref = weakref.ref(transport), weakref.ref(items)
    task = asyncio.create_task(pacer.play(items, transport, lambda: None, Progress()))
    await asyncio.sleep(0)
    assert len(transport.writes) == 1  # the second chunk is a minute away
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled()
    del task, transport, items
    gc.collect()
    assert transport_ref() is None
    assert items_ref() is None
