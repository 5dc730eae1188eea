"""`latency`: every chunk is delayed by `latency` ± `jitter` milliseconds from when it arrived."""

from __future__ import annotations

import random

from pydantic import Field

from harness.network.stream import Stub
from harness.network.toxics.base import INT64_MAX, Toxic, register


@register("latency")
class Latency(Toxic):
    latency: int = Field(0, ge=0, le=INT64_MAX)  # ms
    jitter: int = Field(0, ge=0, le=INT64_MAX)  # ms, uniform in [-jitter, +jitter)

    def delay(self, rng: random.Random) -> float:
        ms = self.latency
        if self.jitter > 0:
            ms += rng.randrange(2 * self.jitter) - self.jitter
        return ms / 1000

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.next_chunk()) is not None:
            # Measured from the chunk's arrival, so chunks in flight are delayed side by side
            # rather than one after another; the timestamp moves on so that a second latency
            # toxic adds its delay on top (Toxiproxy #94).
            sleep = self.delay(stub.rng) - (stub.now() - chunk.ts)
            if not await stub.sleep(sleep):
                stub.write(chunk)  # interrupted: pass it on now rather than drop it
                return
            chunk.ts += sleep
            stub.write(chunk)
