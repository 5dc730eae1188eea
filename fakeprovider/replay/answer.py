"""A recorded answer as neutral values: what a dialect reads back out of a cassette exchange.

Central idea 3: replay yields the same events a generated plan has, with the recorded timing,
so faults, quotas, the ledger and the clauses work on replayed answers as on generated ones.
A chat dialect's `read_answer(exchange)` gives one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fakeprovider.generation.events import Event
from fakeprovider.generation.plan import FinishReason

if TYPE_CHECKING:  # the dialects import this module: at run time it must not import them
    from fakeprovider.dialects.base import ResponseMeta, Usage


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    """The events of a recorded answer, when each arrived (ms from the request's start; a
    non-streamed answer's all arrive at `end_ms`), how it finished, its usage and its ids."""

    events: list[Event]
    offsets_ms: list[float]
    end_ms: float
    finish: FinishReason
    usage: Usage
    meta: ResponseMeta | None = None
