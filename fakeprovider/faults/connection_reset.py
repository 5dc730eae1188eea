"""`connection_reset`: reset the connection (TCP RST) before any byte of the answer."""

from __future__ import annotations

from typing import Literal

from fakeprovider.faults.base import Answer, CutConnection, FaultContext, FaultKind, FaultParams, register


class ConnectionResetParams(FaultParams):
    kind: Literal["connection_reset"] = "connection_reset"


@register
class ConnectionReset(FaultKind):
    name = "connection_reset"
    Params = ConnectionResetParams

    def answer(self, ctx: FaultContext) -> Answer | None:
        return CutConnection()
