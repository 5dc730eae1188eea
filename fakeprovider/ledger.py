"""The ledger: one record per provider call, kept in memory (bounded) and optionally as JSONL.

Summaries are kept incrementally as records arrive, so reading one costs nothing per record.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import orjson

Outcome = Literal["ok", "error", "partial", "reset", "timeout", "client_cancelled"]


@dataclass(slots=True)
class LedgerRecord:
    seq: int
    ts_start: float
    ts_end: float
    api: str
    model: str | None
    stream: bool
    request_id: str
    idempotency_key: str | None
    sdk_retry_count: int | None
    fingerprint: str
    attempt: int
    tags: dict[str, str | None]
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float
    status: int
    fault: dict[str, str] | None
    outcome: Outcome
    ttft_ms: float | None
    duration_ms: float
    finish_reason: str | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class Totals:
    calls: int = 0
    retries: int = 0  # calls whose attempt was 2 or more
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)

    def add(self, r: LedgerRecord) -> None:
        self.calls += 1
        if r.attempt > 1:
            self.retries += 1
        self.input_tokens += r.input_tokens
        self.output_tokens += r.output_tokens
        self.cached_tokens += r.cached_tokens
        self.cost_usd += r.cost_usd
        self.outcomes[r.outcome] = self.outcomes.get(r.outcome, 0) + 1
        status = str(r.status)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if r.fault is not None:
            kind = r.fault.get("kind", "?")
            self.faults[kind] = self.faults.get(kind, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["cost_usd"] = round(self.cost_usd, 8)
        return out


_DIMENSIONS = ("route", "feature", "tenant")


class Ledger:
    """Bounded in-memory record store with an optional JSONL sink and running summaries."""

    def __init__(self, max_records: int = 100_000, path: Path | None = None) -> None:
        self._records: deque[LedgerRecord] = deque(maxlen=max_records)
        self._seq = 0
        self._path = path
        self._sink: IO[bytes] | None = path.open("ab") if path is not None else None
        self._totals = Totals()
        self._by: dict[tuple[str, str], Totals] = {}

    @property
    def last_seq(self) -> int:
        return self._seq

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, record: LedgerRecord) -> None:
        self._records.append(record)
        self._totals.add(record)
        by = self._by
        tags = record.tags
        for dim in _DIMENSIONS:
            key = (dim, tags.get(dim) or "")
            totals = by.get(key)
            if totals is None:
                totals = by[key] = Totals()
            totals.add(record)
        model_key = ("model", record.model or "")
        totals = by.get(model_key)
        if totals is None:
            totals = by[model_key] = Totals()
        totals.add(record)
        if self._sink is not None:
            self._sink.write(orjson.dumps(record.as_dict()) + b"\n")
            self._sink.flush()

    def records(self, since: int = 0, limit: int | None = None) -> list[LedgerRecord]:
        """Records with `seq > since`, oldest first."""
        recs = self._records
        if not recs or since >= recs[-1].seq:
            return []
        # seq grows monotonically, so the deque is sorted by it.
        start = bisect.bisect_right(_SeqView(recs), since)
        end = len(recs) if limit is None else min(len(recs), start + limit)
        return [recs[i] for i in range(start, end)]

    def summary(self) -> dict[str, Any]:
        by: dict[str, dict[str, Any]] = {"route": {}, "feature": {}, "tenant": {}, "model": {}}
        for (dim, value), totals in self._by.items():
            by[dim][value or "(untagged)"] = totals.as_dict()
        return {"totals": self._totals.as_dict(), "by": by, "last_seq": self._seq}

    def clear(self) -> None:
        self._records.clear()
        self._totals = Totals()
        self._by.clear()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


class _SeqView:
    """A read-only sequence of seq numbers over the record deque, for bisect."""

    def __init__(self, recs: deque[LedgerRecord]) -> None:
        self._recs = recs

    def __len__(self) -> int:
        return len(self._recs)

    def __getitem__(self, i: int) -> int:
        return self._recs[i].seq
