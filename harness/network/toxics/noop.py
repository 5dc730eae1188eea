"""`noop`: passes everything through unchanged (what a connection gets when toxicity says no)."""

from __future__ import annotations

from harness.network.stream import Stub
from harness.network.toxics.base import Toxic, passthrough, register


@register("noop")
class Noop(Toxic):
    async def pipe(self, stub: Stub) -> None:
        await passthrough(stub)
