"""The data of one run: what was sent, what came back, what the provider recorded.

Contract clauses are pure functions of a `Run`; reports only read it. A `Run` round-trips
through JSON (the journal), so a saved run can be re-evaluated and re-rendered.

A leaf (ARCHITECTURE, central idea 2): this module imports nothing from the runner, the load
engines, the clauses or the reports, so each of them can import it without importing the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Self

from fakeprovider.accounting.ledger import LedgerRecord, record_fields

__all__ = [
    "TAIL_BYTES",
    "LedgerCall",
    "PhaseWindow",
    "RequestRecord",
    "Run",
    "RunStatus",
    "StreamEnd",
]

RunStatus = Literal["completed", "aborted", "error"]
StreamEnd = Literal["terminator", "error", "unterminated", "open"]
TAIL_BYTES = 2048  # how much of a body's end a RequestRecord keeps


@dataclass(slots=True)
class PhaseWindow:
    """A phase as it ran: seconds from the start of the load."""

    name: str
    start_s: float
    end_s: float


@dataclass(slots=True)
class RequestRecord:
    """One request the load generator sent to the target, client-side, raw."""

    id: str  # the X-Request-Id sent
    seq: int  # order of scheduling, from 0
    phase: str
    scheduled_s: float  # when it was due (open loop) or started (closed loop), from load start
    sent_s: float  # when it was actually sent
    status: int | None = None  # None: no HTTP answer (connection error, timeout)
    error: str | None = None  # "timeout", "connect: ...", "read: ..."
    headers: dict[str, str] = field(default_factory=dict)  # response headers, lower-cased
    body: Any = None  # parsed JSON body (non-streamed, size-capped), else None
    body_bytes: int = 0
    chunk_s: list[float] = field(default_factory=list)  # SSE: arrival of each non-empty data chunk
    first_content_s: float | None = None  # SSE: first non-empty content chunk
    end_s: float | None = None  # last byte (or the error)
    # The last bytes of the body as text (at most `TAIL_BYTES`, UTF-8, undecodable bytes replaced),
    # kept for streams and for bodies not parsed as JSON; None when there was none (or in a
    # journal saved before it was recorded).
    tail: str | None = None
    # How an SSE stream ended: "terminator" (its protocol's end: `data: [DONE]`, `message_stop`,
    # `response.completed`), "error" (it carried an error event), "unterminated" (a known
    # protocol's stream that ended without its terminator), "open" (a stream in no known
    # protocol: its end cannot be told); None for a response that was not a stream.
    stream_end: StreamEnd | None = None

    @property
    def latency_s(self) -> float | None:
        """E2E from the scheduled time (no coordinated omission)."""
        return None if self.end_s is None else self.end_s - self.scheduled_s

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_content_s is None else self.first_content_s - self.scheduled_s


_RECORD_FIELDS = frozenset(f.name for f in dataclasses.fields(LedgerRecord))


@dataclass(slots=True)
class LedgerCall(LedgerRecord):
    """One provider call as the harness reads it: the provider's `LedgerRecord` (its fields,
    their JSON names and what they mean are described there, once), read from JSON.

    Keys the record does not know are kept in `extra` and written back after its own (a merged
    ledger's `replica` and `replica_seq`), so a journal round-trips unchanged."""

    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        extra = {k: v for k, v in data.items() if k not in _RECORD_FIELDS}
        return cls(**record_fields(data), extra=extra)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


@dataclass(slots=True)
class Run:
    """Everything one experiment run produced."""

    experiment: dict[str, Any]  # the experiment as run (validated, overrides applied)
    source: str  # the file it came from
    started_at: float  # wall clock, seconds
    status: RunStatus = "completed"
    error: str | None = None
    phases: list[PhaseWindow] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    ledger: list[LedgerCall] = field(default_factory=list)  # the provider's records of the run
    # Wall clock at t=0 of the phase windows; places ledger calls not joined to a request in a
    # phase (`started_at` is used when absent, which is earlier by the start-up time).
    load_started_at: float | None = None
    # The provider's fault rules during the run (GET /control/faults), by the `name` the ledger
    # records in `fault.rule`: `retry_after_respected` reads a rate_limit rule's retry-after.
    fault_rules: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(dataclasses.replace(self, ledger=[]))
        data["ledger"] = [c.as_dict() for c in self.ledger]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        return cls(
            experiment=data["experiment"],
            source=data["source"],
            started_at=data["started_at"],
            status=data.get("status", "completed"),
            error=data.get("error"),
            phases=[PhaseWindow(**p) for p in data.get("phases", [])],
            # Journals saved before a field was added lack it: the record's default applies.
            requests=[RequestRecord(**r) for r in data.get("requests", [])],
            ledger=[LedgerCall.from_dict(c) for c in data.get("ledger", [])],
            load_started_at=data.get("load_started_at"),
            fault_rules=list(data.get("fault_rules", [])),
        )

    def phase(self, name: str) -> PhaseWindow | None:
        return next((p for p in self.phases if p.name == name), None)

    def requests_in(self, phase: str | None) -> list[RequestRecord]:
        if phase is None:
            return self.requests
        return [r for r in self.requests if r.phase == phase]
