"""The pieces a toxic works with: chunks, the channel between two toxics, and the stub.

Toxiproxy runs each toxic as a goroutine between two Go channels and stops it through an
interrupt channel. Here a toxic is a task between two `Channel`s; every wait goes through the
`Stub` (`read`, `sleep`, `hold`), so an interrupt (a toxic added, updated or removed on a live
connection) wakes whatever the toxic is waiting on, and the toxic passes on what it holds.
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol


class Signal(enum.Enum):
    """What `Stub.read` returns instead of a chunk."""

    EOF = "eof"  # the source closed: the toxic decides when to pass the close on
    INTERRUPT = "interrupt"  # the chain is changing: pass on what is held and return
    TIMEOUT = "timeout"  # `read(within=...)` saw no data in time


class Chunk:
    """Bytes read from the source in one go, and when (loop time, seconds)."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes, ts: float) -> None:
        self.data = data
        self.ts = ts


class Output(Protocol):
    """Where a stub writes: the next toxic's channel or the destination socket."""

    def put(self, item: Chunk | Signal) -> None: ...


class Channel:
    """An unbounded FIFO between two toxics with at most one waiting reader.

    Unbounded because writes must never block a toxic (that is what lets an interrupt finish
    at once); the link bounds it instead by pausing its source socket (`on_size`).
    """

    __slots__ = ("_items", "_waiter", "closed", "on_size")

    def __init__(self, on_size: Callable[[int], None] | None = None) -> None:
        self._items: deque[Chunk | Signal] = deque()
        self._waiter: asyncio.Future[Chunk | Signal] | None = None
        self.closed = False
        self.on_size = on_size  # called with +n / -n as bytes enter and leave the queue

    def put(self, item: Chunk | Signal) -> None:
        if self.closed:
            return  # the toxic reading this channel has ended the stream: late data goes nowhere
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(item)
            return
        self._items.append(item)
        if self.on_size is not None and isinstance(item, Chunk):
            self.on_size(len(item.data))

    def pop(self) -> Chunk | Signal | None:
        """The next item, or None when empty."""
        if not self._items:
            return None
        item = self._items.popleft()
        if self.on_size is not None and isinstance(item, Chunk):
            self.on_size(-len(item.data))
        return item

    def wait_with(self, waiter: asyncio.Future[Any] | None) -> None:
        """The reader's future: the next `put` resolves it instead of queueing."""
        self._waiter = waiter

    def close(self) -> None:
        """Drop what is queued and everything put from now on."""
        self.closed = True
        while self.pop() is not None:
            pass

    def __len__(self) -> int:
        return len(self._items)


class Stub:
    """One toxic's place in one connection's chain: its input, its output, its state."""

    def __init__(
        self,
        input: Channel,
        output: Output,
        rng: random.Random,
        *,
        state: object = None,
        on_reset: Callable[[], None] | None = None,
    ) -> None:
        self.input = input
        self.output = output  # rewired when the toxic after this one is added or removed
        self.rng = rng
        self.state = state  # per connection, kept across interrupts (limit_data counts bytes)
        self.closed = False
        self._on_reset = on_reset
        self._loop = asyncio.get_running_loop()
        self._interrupted = False
        # The one future a waiting toxic sleeps on, and what an interrupt resolves it with.
        self._waiter: asyncio.Future[Any] | None = None
        self._waiter_interrupt_value: object = False

    def now(self) -> float:
        return self._loop.time()

    async def read(self, within: float | None = None) -> Chunk | Signal:
        """The next chunk, `Signal.EOF`, `Signal.INTERRUPT`, or `Signal.TIMEOUT` when nothing came
        `within` seconds."""
        if self._interrupted:
            return Signal.INTERRUPT
        item = self.input.pop()
        if item is not None:
            return item
        fut: asyncio.Future[Chunk | Signal] = self._loop.create_future()
        handle = (
            None if within is None else self._loop.call_later(max(within, 0.0), _resolve, fut, Signal.TIMEOUT)
        )
        self.input.wait_with(fut)
        self._waiter, self._waiter_interrupt_value = fut, Signal.INTERRUPT
        try:
            return await fut
        finally:
            self.input.wait_with(None)
            self._waiter = None
            if handle is not None:
                handle.cancel()

    async def next_chunk(self) -> Chunk | None:
        """The next chunk, or None when the toxic is to return: interrupted, or the stream
        ended (the EOF is passed on first). The loop most toxics run on."""
        while True:
            item = await self.read()
            if isinstance(item, Chunk):
                return item
            if item is Signal.EOF:
                self.close()
                return None
            if item is Signal.INTERRUPT:
                return None

    async def sleep(self, seconds: float, *, interruptible: bool = True) -> bool:
        """Wait; False if interrupted first (the toxic then passes on what it holds)."""
        if interruptible and self._interrupted:
            return False
        if seconds <= 0:
            return True
        if not interruptible:
            await asyncio.sleep(seconds)
            return True
        fut: asyncio.Future[bool] = self._loop.create_future()
        handle = self._loop.call_later(seconds, _resolve, fut, True)
        self._waiter, self._waiter_interrupt_value = fut, False
        try:
            return await fut
        finally:
            self._waiter = None
            handle.cancel()

    async def hold(self) -> None:
        """Wait until interrupted (a toxic that holds the stream until it is removed)."""
        while await self.sleep(3600.0):
            pass

    def write(self, chunk: Chunk) -> None:
        if chunk.data:
            self.output.put(chunk)

    def close(self) -> None:
        """End the stream here: the rest of the chain sees EOF, then the socket closes."""
        if not self.closed:
            self.closed = True
            self.output.put(Signal.EOF)

    def reset(self) -> None:
        """End the stream with a TCP RST on both sockets instead of a FIN."""
        if self._on_reset is not None:
            self._on_reset()
        self.close()

    def interrupt(self) -> None:
        self._interrupted = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(self._waiter_interrupt_value)

    def clear_interrupt(self) -> None:
        self._interrupted = False


def _resolve(fut: asyncio.Future[Any], value: Any) -> None:
    if not fut.done():
        fut.set_result(value)
