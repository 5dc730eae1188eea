"""`limit_data`: closes the connection once `bytes` bytes have gone through (counted per
connection, across updates of the toxic)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from harness.network.stream import Chunk, Stub
from harness.network.toxics.base import INT64_MAX, Toxic, register


@dataclass
class Transmitted:
    bytes: int = 0


@register("limit_data")
class LimitData(Toxic):
    bytes: int = Field(0, ge=0, le=INT64_MAX)

    def new_state(self) -> object:
        return Transmitted()

    async def pipe(self, stub: Stub) -> None:
        state = stub.state
        assert isinstance(state, Transmitted)
        while (chunk := await stub.next_chunk()) is not None:
            remaining = max(self.bytes - state.bytes, 0)
            data = chunk.data[:remaining]
            if data:
                stub.write(Chunk(data, chunk.ts))
                state.bytes += len(data)
            if self.bytes - state.bytes <= 0:
                stub.close()
                return
