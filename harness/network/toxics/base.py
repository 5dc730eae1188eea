"""The toxic interface, the registry by name, the shared wrapper and the toxicity roll.

As in Toxiproxy (`toxics/toxic.go`): a toxic's own parameters are its typed attributes (here
the pydantic fields of its class), the shared fields (name, type, stream, toxicity) live in one
`ToxicWrapper`, and whether a toxic acts on a connection is rolled in exactly one place, `run`.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from harness.network.stream import Stub

log = logging.getLogger(__name__)

# Toxiproxy's attributes are Go int64s; larger numbers are refused the way Go's decoder does.
INT64_MAX = 2**63 - 1


class Direction(enum.IntEnum):
    """Upstream: client to upstream server. Downstream: upstream server to client."""

    UPSTREAM = 0
    DOWNSTREAM = 1

    @classmethod
    def parse(cls, stream: str) -> Direction | None:
        """Toxiproxy's `ParseDirection`: case-insensitive, None when neither."""
        return {"upstream": cls.UPSTREAM, "downstream": cls.DOWNSTREAM}.get(stream.lower())


class Toxic(BaseModel):
    """One kind of network fault; its fields are its attributes, validated like Go's decoder
    (strict types, unknown keys ignored) plus ranges Toxiproxy leaves unchecked."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    type_name: ClassVar[str] = ""

    async def pipe(self, stub: Stub) -> None:
        """Move data from `stub.input` to `stub.output` until EOF (then `stub.close()`) or an
        interrupt (then pass on anything held and return)."""
        raise NotImplementedError

    def new_state(self) -> object:
        """Per-connection state kept across interrupts; None for stateless toxics."""
        return None

    def cleanup(self, stub: Stub) -> None:
        """Called when the toxic is removed from a live connection, after its interrupt."""


_REGISTRY: dict[str, type[Toxic]] = {}

T = TypeVar("T", bound=type[Toxic])


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make a toxic available under its Toxiproxy type name."""

    def add(cls: T) -> T:
        if name in _REGISTRY:
            raise ValueError(f"toxic type {name!r} is registered twice")
        cls.type_name = name
        _REGISTRY[name] = cls
        return cls

    return add


def toxic_class(name: str) -> type[Toxic] | None:
    return _REGISTRY.get(name)


def toxic_types() -> list[str]:
    return sorted(_REGISTRY)


@dataclass
class ToxicWrapper:
    """A toxic as a proxy holds it: shared fields around the typed attributes."""

    name: str
    type: str
    stream: str  # as the client sent it (Toxiproxy echoes the raw string)
    toxicity: float
    toxic: Toxic
    direction: Direction

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.model_dump(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }


async def passthrough(stub: Stub) -> None:
    """The noop toxic's pipe: what a connection gets when the toxicity roll says no."""
    while (chunk := await stub.next_chunk()) is not None:
        stub.write(chunk)


async def run(wrapper: ToxicWrapper, stub: Stub, rng: random.Random) -> None:
    """Run one toxic on one connection's stub until it returns.

    Rolled each time the toxic (re)starts on a connection, as Toxiproxy's `ToxicStub.Run`
    does: once when the connection opens or the toxic is added, again after an update.
    """
    try:
        if rng.random() < wrapper.toxicity:
            await wrapper.toxic.pipe(stub)
        else:
            await passthrough(stub)
    except Exception:
        # A toxic that fails must not leave the connection half-alive: end it.
        log.exception("toxic %s (%s) failed; closing the connection", wrapper.name, wrapper.type)
        stub.reset()
