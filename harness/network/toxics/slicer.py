"""`slicer`: splits each chunk into writes of about `average_size` ± `size_variation` bytes,
`delay` microseconds apart."""

from __future__ import annotations

import random
from typing import Self

from pydantic import Field, model_validator

from harness.network.stream import Chunk, Stub
from harness.network.toxics.base import INT64_MAX, Toxic, register


@register("slicer")
class Slicer(Toxic):
    average_size: int = Field(0, ge=0, le=INT64_MAX)  # bytes
    size_variation: int = Field(0, ge=0, le=INT64_MAX)  # bytes
    delay: int = Field(0, ge=0, le=INT64_MAX)  # µs

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        # Toxiproxy accepts these and then recurses forever (or panics) on the first chunk.
        if self.average_size < 1:
            raise ValueError("average_size must be at least 1")
        if self.size_variation >= self.average_size:
            raise ValueError("size_variation must be less than average_size")
        return self

    def offsets(self, start: int, end: int, rng: random.Random) -> list[int]:
        """[start, end) cut in halves (± size_variation) until each piece is small enough;
        returned as start/end pairs flattened: [0, 18, 18, 43, 43, 100]."""
        if (end - start) - self.average_size <= self.size_variation:
            return [start, end]
        mid = start + (end - start) // 2
        if self.size_variation > 0:
            mid += rng.randrange(self.size_variation * 2) - self.size_variation
        return self.offsets(start, mid, rng) + self.offsets(mid, end, rng)

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.next_chunk()) is not None:
            cuts = self.offsets(0, len(chunk.data), stub.rng)
            for i in range(1, len(cuts), 2):
                stub.write(Chunk(chunk.data[cuts[i - 1] : cuts[i]], chunk.ts))
                if not await stub.sleep(self.delay / 1_000_000):
                    stub.write(Chunk(chunk.data[cuts[i] :], chunk.ts))
                    return
