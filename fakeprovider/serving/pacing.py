"""Writing a stream's chunks on time: one loop timer for every stream of a server.

Paced by a sleeping task, each chunk costs a future, a timer handle (kept in asyncio's heap, whose
order is a Python-level `__lt__`), a task step through the handler's frames, and aiohttp's writer.
With hundreds of slowed streams that is most of the server's CPU, and the busier the loop, the
later every chunk goes out. Here a stream is a `Playback` in one heap of (due time, order,
playback); one `loop.call_at` timer wakes for the earliest, writes every chunk that is due straight
to its connection (framed as aiohttp frames it; a stream's chunks due together in one write), and
sets itself for the next. Request handlers
call `catch_up` as they start, so a burst of new calls does not hold the due chunks up.

Deadlines are absolute, so a late tick does not delay the chunks after it. The handler awaits
its playback, so cancelling the handler (the caller left) stops the stream: nothing is written
after that, and `Progress.tokens` says what went out.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from aiohttp import web

from fakeprovider.dialects.base import Chunk

# A chunk due within this much of a tick goes out in that tick, rather than in a tick of its own.
_TOLERANCE_S = 1e-6
# The caller is not reading: look again after this long (asyncio's writer waits for a drain).
_FULL_RETRY_S = 0.005
_NO_CHUNKS: Iterator[Chunk] = iter(())
# Chunks due in the same tick go out in one write (one system call, not one per chunk), up to
# this many bytes at a time.
_BATCH_BYTES = 64 * 1024


@dataclass(slots=True)
class Progress:
    """What a stream has written: billed however it ends."""

    tokens: int = 0


class Playback:
    """One stream's chunks, written on time by a `Pacer`."""

    __slots__ = ("_chunks", "_high", "_on_content", "_pending", "_transport", "done", "due", "progress")

    def __init__(
        self,
        chunks: Iterator[Chunk],
        transport: asyncio.Transport,
        on_content: Callable[[], None],
        progress: Progress,
        start: float,
        done: asyncio.Future[None],
    ) -> None:
        self._chunks = chunks
        self._transport = transport
        self._high = transport.get_write_buffer_limits()[1]
        self._on_content: Callable[[], None] | None = on_content
        self.progress = progress
        self.due = start  # when the last chunk written was due
        self._pending: Chunk | None = None  # due at `due`, not written yet
        self.done = done  # set when the stream is over; cancelled when the handler is

    def release(self) -> None:
        """Let go of the connection and the chunks (and the request they hold) of a cancelled
        playback: its heap entry stays until its due time, which a stalled stream puts far off."""
        self._chunks = _NO_CHUNKS
        self._pending = None
        self._on_content = None
        del self._transport

    def step(self, now: float) -> float | None:
        """Write what is due by `now`: the time to call again, or None when the stream is over."""
        try:
            return self._write_due(now)
        except Exception as e:  # a bug of ours: the handler answers for it, the pacer goes on
            self.done.set_exception(e)
            return None

    def _write_due(self, now: float) -> float | None:
        frames: list[bytes] = []  # the chunks due together, framed, sent in one write
        try:
            return self._frame_due(now, frames)
        finally:
            if frames:
                self._transport.write(b"".join(frames))

    def _frame_due(self, now: float, frames: list[bytes]) -> float | None:
        """Frame into `frames` every chunk due by `now`: when to call again, or None when over."""
        transport = self._transport
        chunk = self._pending
        self._pending = None
        size = 0
        while True:
            if chunk is None:
                chunk = next(self._chunks, None)
                if chunk is None:
                    self.done.set_result(None)
                    return None
                if chunk.delay > 0:
                    due = self.due + chunk.delay
                    if due > now + _TOLERANCE_S:
                        self.due = due
                        self._pending = chunk
                        return due
                    self.due = now  # a whole gap behind: go on from here rather than burst
            if transport.is_closing():
                frames.clear()
                self.done.set_exception(ConnectionResetError("the caller closed the connection"))
                return None
            if size >= _BATCH_BYTES:  # a long burst: let the writer's buffer say if it fits
                transport.write(b"".join(frames))
                frames.clear()
                size = 0
            if transport.get_write_buffer_size() >= self._high:
                self._pending = chunk
                return now + _FULL_RETRY_S
            data = chunk.data
            frame = b"%x\r\n%b\r\n" % (len(data), data)
            frames.append(frame)
            size += len(frame)
            self.progress.tokens += chunk.tokens
            if chunk.content and self._on_content is not None:
                self._on_content()
                self._on_content = None
            chunk = None


class Pacer:
    """The heap and the one timer of every playback on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._heap: list[tuple[float, int, Playback]] = []
        self._order = itertools.count()  # ties in due time go first come, first served
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._ticking = False

    async def play(
        self,
        chunks: Iterator[Chunk],
        transport: asyncio.Transport,
        on_content: Callable[[], None],
        progress: Progress,
    ) -> None:
        """Write `chunks` (HTTP/1.1 chunked) at their delays; return once the last is written.

        Raises ConnectionResetError if the caller closes the connection first; cancelling
        stops the playback.
        """
        loop = self.loop
        playback = Playback(chunks, transport, on_content, progress, loop.time(), loop.create_future())
        self._schedule(playback, playback.step(playback.due))
        try:
            await playback.done
        finally:
            playback.done.cancel()  # no-op once over; else nothing more is written
            if playback.done.cancelled():
                playback.release()

    def catch_up(self) -> None:
        """Write what is overdue now. Request handlers call this as they start: the loop runs
        every handler that is ready before it looks at its timers, so a burst of new calls
        would otherwise hold every paced stream up for as long as they all take."""
        heap = self._heap
        if heap and not self._ticking and heap[0][0] <= self.loop.time():
            if self._timer is not None:
                self._timer.cancel()
            self._tick()

    def _schedule(self, playback: Playback, due: float | None) -> None:
        if due is None:
            return
        heapq.heappush(self._heap, (due, next(self._order), playback))
        if not self._ticking and due < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._arm(due)

    def _arm(self, when: float) -> None:
        self._timer = self.loop.call_at(when, self._tick)
        self._timer_at = when

    def _tick(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        heap = self._heap
        now = self.loop.time()
        limit = now + _TOLERANCE_S
        self._ticking = True
        try:
            while heap and heap[0][0] <= limit:
                playback = heapq.heappop(heap)[2]
                if not playback.done.done():  # done early: its handler was cancelled
                    self._schedule(playback, playback.step(now))
        finally:
            self._ticking = False
            if heap:
                self._arm(heap[0][0])


async def play_by_sleeping(
    chunks: Iterator[Chunk],
    resp: web.StreamResponse,
    sleep: Callable[[float], Awaitable[None]],
    now: Callable[[], float],
    on_content: Callable[[], None],
    progress: Progress,
) -> None:
    """The same schedule, one sleep per gap and aiohttp's writer: for an injected clock (tests'
    virtual time) and for answers that are not chunked."""
    first: Callable[[], None] | None = on_content
    due = now()
    for chunk in chunks:
        if chunk.delay > 0:
            due += chunk.delay
            wait = due - now()
            if wait > 0:
                await sleep(wait)
            else:
                due = now()  # a whole gap behind: go on from here rather than burst
        await resp.write(chunk.data)
        progress.tokens += chunk.tokens
        if chunk.content and first is not None:
            first()
            first = None
