"""The fault interface and registry.

A fault kind is a module in this package with one `FaultKind` subclass decorated by
`@register`. It has a typed `Params` model (validated when a scenario loads) and acts in one of
two ways: `answer` replaces the response before any plan is built (an error, a reset), or
`transform` rewrites the plan (re-time it, cut it, corrupt it). Matching, windows, probability,
attempts and hit counting are the engine's; a kind never decides whether it fires.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from fakeprovider.errors import ProviderError
from fakeprovider.generation.plan import Plan
from fakeprovider.generation.request import ChatRequest


class FaultParams(BaseModel):
    """Base of every kind's parameters; `kind` is the discriminator in scenario files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str


@dataclass(frozen=True, slots=True)
class CutConnection:
    """Answer by cutting the connection before any byte: `reset` sends a TCP RST."""

    mode: Literal["reset"] = "reset"


@dataclass(frozen=True, slots=True)
class Hold:
    """Send nothing for `seconds` (None: until the caller leaves), then answer normally."""

    seconds: float | None


Answer = ProviderError | CutConnection | Hold


@dataclass(slots=True)
class FaultContext:
    """What a fault may read about the call it acts on."""

    api: str  # the dialect's name: openai.chat | openai.responses | openai.embeddings | …
    model: str
    context_window: int
    input_tokens: int
    rng: random.Random  # seeded per request once a rule fires; `applies` must not draw from it
    req: ChatRequest | None = None  # None for embeddings


class FaultKind:
    """One kind of provider failure."""

    name: ClassVar[str]
    Params: ClassVar[type[FaultParams]]

    def __init__(self, params: FaultParams) -> None:
        self.params = params

    def applies(self, ctx: FaultContext) -> bool:
        """Whether this kind can act on the call at all (e.g. tool faults need tools)."""
        return True

    def answer(self, ctx: FaultContext) -> Answer | None:
        """An answer given instead of the plan, or None to go on to `transform`."""
        return None

    def transform(self, plan: Plan, ctx: FaultContext) -> Plan:
        """The plan, rewritten."""
        return plan


REGISTRY: dict[str, type[FaultKind]] = {}


def register(cls: type[FaultKind]) -> type[FaultKind]:
    """Class decorator: make a kind available by its `name` in scenario files."""
    if cls.name in REGISTRY:
        raise ValueError(f"fault kind {cls.name!r} registered twice")
    REGISTRY[cls.name] = cls
    return cls


def build(params: FaultParams) -> FaultKind:
    return REGISTRY[params.kind](params)
