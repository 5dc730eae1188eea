"""`timeout`: drops all data; closes the connection after `timeout` ms without data (0: never).

Removing it from a live connection closes that connection: the data it dropped is gone, so
the stream cannot carry on (Toxiproxy's `Cleanup`).
"""

from __future__ import annotations

from pydantic import Field

from harness.network.stream import Signal, Stub
from harness.network.toxics.base import INT64_MAX, Toxic, register


@register("timeout")
class Timeout(Toxic):
    timeout: int = Field(0, ge=0, le=INT64_MAX)  # ms

    async def pipe(self, stub: Stub) -> None:
        # The clock restarts with every dropped chunk, as Toxiproxy's per-iteration timer does.
        wait = self.timeout / 1000 if self.timeout > 0 else None
        while True:
            item = await stub.read(within=wait)
            if item is Signal.INTERRUPT:
                return
            if item is Signal.EOF or item is Signal.TIMEOUT:
                stub.close()
                return
            # A chunk: dropped on the floor.

    def cleanup(self, stub: Stub) -> None:
        stub.close()
