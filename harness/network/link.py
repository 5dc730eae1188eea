"""One direction of one proxied connection: source socket → chain of toxics → destination.

With no toxic the chain is empty and bytes go straight from `data_received` to the
destination's `write` (the cheap path); each toxic adds a `Stage`, a task between two channels.
Toxics join and leave live links as Toxiproxy's `ToxicLink` does: a new one goes at the end,
an updated one is interrupted and restarted, a removed one is interrupted, passes on what it
held and what was queued for it, and its neighbours are joined.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from harness.network.stream import Channel, Chunk, Output, Signal, Stub
from harness.network.toxics.base import Direction, ToxicWrapper, run

# Bytes queued inside a chain before the source socket is paused, and when it resumes: a slow
# toxic (bandwidth, latency) must not make the proxy buffer a fast sender without bound.
HIGH_WATER = 1 << 20
LOW_WATER = HIGH_WATER // 4


class Sink:
    """The end of a chain: the destination socket."""

    __slots__ = ("_on_close", "closed", "transport")

    def __init__(self, transport: asyncio.Transport, on_close: Callable[[], None]) -> None:
        self.transport = transport
        self.closed = False
        self._on_close = on_close

    def write(self, data: bytes | memoryview) -> None:
        if not self.closed:
            self.transport.write(data)

    def put(self, item: Chunk | Signal) -> None:
        if isinstance(item, Chunk):
            self.write(item.data)
        elif item is Signal.EOF:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_close()


class Stage:
    """One toxic running on one link."""

    def __init__(self, wrapper: ToxicWrapper, stub: Stub) -> None:
        self.wrapper = wrapper
        self.stub = stub
        self.task: asyncio.Task[None] | None = None

    def start(self, rng: random.Random) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(rng))

    async def _run(self, rng: random.Random) -> None:
        await run(self.wrapper, self.stub, rng)
        if self.stub.closed:
            self.stub.input.close()  # the stream ended here; nothing will read this again

    async def interrupt(self) -> bool:
        """Stop the toxic, keeping its stream; False when the toxic has already ended it."""
        task = self.task
        if task is not None and not task.done():
            self.stub.interrupt()
            # `wait`, not `await task`: a cancelled API request must not cancel the toxic.
            await asyncio.wait({task})
            self.stub.clear_interrupt()
        return not self.stub.closed

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


class Link:
    """A source socket's bytes on their way to a destination socket, through the toxics."""

    def __init__(
        self,
        direction: Direction,
        source: asyncio.Transport,
        dest: asyncio.Transport,
        rng: random.Random,
        *,
        on_end: Callable[[Link], None],
        on_reset: Callable[[], None],
    ) -> None:
        self.direction = direction
        self.source = source
        self.rng = rng
        self.sink = Sink(dest, self._end)
        self.head: Output = self.sink  # where the source's bytes go first
        self.stages: list[Stage] = []
        self._on_end = on_end
        self._on_reset = on_reset
        self._queued = 0
        self._holds: set[str] = set()  # why the source is paused: "dest" full, "chain" full

    # The source side ---------------------------------------------------------------------

    def feed(self, data: memoryview) -> bool:
        """Pass on bytes read from the source; True when the destination socket may still hold
        a reference to `data` (its buffer must then not be reused)."""
        head = self.head
        if head is self.sink:
            self.sink.write(data)
            return self.sink.transport.get_write_buffer_size() > 0
        head.put(Chunk(bytes(data), asyncio.get_running_loop().time()))
        return False

    def feed_eof(self) -> None:
        self.head.put(Signal.EOF)

    def hold_source(self, reason: str, hold: bool) -> None:
        """Pause the source while any reason holds; resume when none does."""
        before = bool(self._holds)
        if hold:
            self._holds.add(reason)
        else:
            self._holds.discard(reason)
        after = bool(self._holds)
        if before != after and not self.source.is_closing():
            if after:
                self.source.pause_reading()
            else:
                self.source.resume_reading()

    def _on_size(self, delta: int) -> None:
        self._queued += delta
        if self._queued > HIGH_WATER:
            self.hold_source("chain", True)
        elif self._queued < LOW_WATER and "chain" in self._holds:
            self.hold_source("chain", False)

    # The chain ---------------------------------------------------------------------------

    def add(self, wrapper: ToxicWrapper) -> None:
        """Append a toxic at the end of the chain (new connections and new toxics alike)."""
        if self.sink.closed:
            return
        stub = Stub(
            Channel(self._on_size),
            self.sink,
            self.rng,
            state=wrapper.toxic.new_state(),
            on_reset=self._on_reset,
        )
        if self.stages:
            self.stages[-1].stub.output = stub.input
        else:
            self.head = stub.input
        stage = Stage(wrapper, stub)
        self.stages.append(stage)
        stage.start(self.rng)

    async def update(self, wrapper: ToxicWrapper) -> None:
        stage = self._find(wrapper.name)
        if stage is None or self.sink.closed:
            return
        running = await stage.interrupt()
        stage.wrapper = wrapper
        if running:
            stage.start(self.rng)

    async def remove(self, name: str) -> None:
        stage = self._find(name)
        if stage is None or self.sink.closed:
            return
        if await stage.interrupt():
            stage.wrapper.toxic.cleanup(stage.stub)
        if stage not in self.stages:
            return
        i = self.stages.index(stage)
        stub = stage.stub
        if not stub.closed:
            # What was queued for the toxic goes on, in order, before anything newer.
            while (item := stub.input.pop()) is not None:
                if item is Signal.EOF:
                    stub.close()
                    break
                stub.output.put(item)
            if i == 0:
                self.head = stub.output
            else:
                self.stages[i - 1].stub.output = stub.output
        # When the toxic had ended the stream, its neighbours stay cut (as in Toxiproxy): what
        # comes after is dropped by the closed channel.
        stub.input.close()
        del self.stages[i]

    def _find(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.wrapper.name == name), None)

    # The end -----------------------------------------------------------------------------

    def dest_lost(self) -> None:
        """The destination socket closed under us: nothing more can be written."""
        if not self.sink.closed:
            self.sink.closed = True
            self._finish()

    def _end(self) -> None:
        self._on_end(self)
        self._finish()

    def _finish(self) -> None:
        # Deferred: the toxic that closed the sink may be the task running right now.
        asyncio.get_running_loop().call_soon(self.cancel)

    def cancel(self) -> None:
        for stage in self.stages:
            stage.cancel()
