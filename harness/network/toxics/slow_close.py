"""`slow_close`: data flows as usual; the close is passed on `delay` milliseconds late."""

from __future__ import annotations

from pydantic import Field

from harness.network.stream import Signal, Stub
from harness.network.toxics.base import INT64_MAX, Toxic, register


@register("slow_close")
class SlowClose(Toxic):
    delay: int = Field(0, ge=0, le=INT64_MAX)  # ms

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.read()
            if chunk is Signal.INTERRUPT:
                return
            if chunk is Signal.EOF:
                if await stub.sleep(self.delay / 1000):
                    stub.close()
                else:
                    # Interrupted while holding the close: hand the EOF to whatever runs next.
                    stub.input.put(Signal.EOF)
                return
            if not isinstance(chunk, Signal):
                stub.write(chunk)
