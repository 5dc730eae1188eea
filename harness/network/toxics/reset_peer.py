"""`reset_peer`: on the first data (or close) seen, waits `timeout` ms, then resets the
connection with a TCP RST (SO_LINGER 0) on both sockets."""

from __future__ import annotations

from pydantic import Field

from harness.network.stream import Signal, Stub
from harness.network.toxics.base import INT64_MAX, Toxic, register


@register("reset_peer")
class ResetPeer(Toxic):
    timeout: int = Field(0, ge=0, le=INT64_MAX)  # ms

    async def pipe(self, stub: Stub) -> None:
        item = await stub.read()
        if item is Signal.INTERRUPT:
            return
        # Once triggered the reset happens whatever the API does meanwhile, as in Toxiproxy,
        # whose wait here does not listen for interrupts; the data seen is dropped.
        await stub.sleep(self.timeout / 1000, interruptible=False)
        stub.reset()
