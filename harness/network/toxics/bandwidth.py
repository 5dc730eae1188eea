"""`bandwidth`: at most `rate` KB/s (1 KB = 1000 bytes); 0 lets nothing through."""

from __future__ import annotations

from pydantic import Field

from harness.network.stream import Chunk, Stub
from harness.network.toxics.base import Toxic, register

SLICE_S = 0.1  # large chunks go out in slices of 100 ms worth of bytes, as in Toxiproxy


@register("bandwidth")
class Bandwidth(Toxic):
    rate: int = Field(0, ge=0, le=2**53)  # KB/s

    async def pipe(self, stub: Stub) -> None:
        # Time owed for the bytes sent so far; oversleeping is paid back on the next chunk,
        # so the average rate holds even though each sleep overshoots a little.
        owed = 0.0
        per_slice = self.rate * 100
        while (chunk := await stub.next_chunk()) is not None:
            if self.rate == 0:
                # Toxiproxy loops forever here sending nothing: the stream stalls until the
                # toxic is changed or removed.
                await stub.hold()
                stub.write(chunk)
                return
            owed += len(chunk.data) / (self.rate * 1000)
            data = chunk.data
            while len(data) > per_slice:
                if not await stub.sleep(SLICE_S):
                    stub.write(Chunk(data, chunk.ts))
                    return
                stub.write(Chunk(data[:per_slice], chunk.ts))
                data = data[per_slice:]
                owed -= SLICE_S
            start = stub.now()
            if not await stub.sleep(owed):
                stub.write(Chunk(data, chunk.ts))
                return
            owed -= stub.now() - start
            stub.write(Chunk(data, chunk.ts))
