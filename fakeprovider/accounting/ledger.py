"""The ledger: one record per provider call, kept in memory (bounded) and optionally as JSONL.

Summaries are kept incrementally as records arrive, so reading one costs nothing per record
(only per distinct combination of tags and model).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import orjson

from fakeprovider.accounting.cardinality import BoundedValues
from fakeprovider.accounting.ledger_file import LedgerFile

Outcome = Literal["ok", "error", "partial", "reset", "timeout", "client_cancelled", "server_stopped"]

# Outcomes of a call whose answer was cut off before its end: `partial` (a stream dropped or
# ended by an error event mid-answer), `reset` (TCP reset), `timeout` (the provider stalled until
# its caller gave up) and `server_stopped`. `client_cancelled` is not a cut: the caller left on
# its own (a hedge that lost, or the user going away).
CUT_OUTCOMES: frozenset[str] = frozenset({"partial", "reset", "timeout", "server_stopped"})


@dataclass(slots=True)
class LedgerRecord:
    """One provider call, as the provider records it and as `GET /control/ledger` (and a
    `--ledger` JSONL file, and a run's journal) carry it: the one description of a ledger record.

    The request path builds it with `blank()` and assignments; readers of its JSON use
    `from_dict`."""

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
    deployment: str | None = None  # the deployment the caller named (Azure), else null
    # Prompt tokens written to an explicit cache (Anthropic's cache_control); part of input_tokens.
    cache_creation_tokens: int = 0

    @classmethod
    def blank(cls) -> LedgerRecord:
        """A record with no field set yet, for the request path to fill by name (`Call.end`)."""
        return object.__new__(cls)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A record read back from its JSON. Keys it does not know are ignored; a key it lacks (a
        record written before the field existed) takes a neutral default (0, "", None)."""
        return cls(**record_fields(data))

    @property
    def fault_rule(self) -> str | None:
        """The name of the fault rule that fired on this call, if one did."""
        return None if self.fault is None else self.fault.get("rule")

    @property
    def fault_kind(self) -> str | None:
        """The kind of the fault that fired on this call (`rate_limit`, `partial`, …), if one did."""
        return None if self.fault is None else self.fault.get("kind")

    @property
    def cut(self) -> bool:
        """The call's answer was cut off (see `CUT_OUTCOMES`)."""
        return self.outcome in CUT_OUTCOMES


def record_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The `LedgerRecord` fields in a record's JSON, by name, typed; defaults for those missing.

    Not on the request path: readers of saved or fetched records only."""
    ts_start = float(data.get("ts_start", 0.0))
    ttft_ms = data.get("ttft_ms")
    return {
        "seq": int(data.get("seq", 0)),
        "ts_start": ts_start,
        "ts_end": float(data.get("ts_end", ts_start)),
        "api": str(data.get("api", "")),
        "model": data.get("model"),
        "stream": bool(data.get("stream", False)),
        "request_id": str(data.get("request_id", "")),
        "idempotency_key": data.get("idempotency_key"),
        "sdk_retry_count": data.get("sdk_retry_count"),
        "fingerprint": str(data.get("fingerprint", "")),
        "attempt": int(data.get("attempt", 1)),
        "tags": dict(data.get("tags") or {}),
        "input_tokens": int(data.get("input_tokens", 0)),
        "output_tokens": int(data.get("output_tokens", 0)),
        "cached_tokens": int(data.get("cached_tokens") or 0),
        "cost_usd": float(data.get("cost_usd", 0.0)),
        "status": int(data.get("status", 0)),
        "fault": data.get("fault") or None,
        "outcome": str(data.get("outcome", "")),
        "ttft_ms": None if ttft_ms is None else float(ttft_ms),
        "duration_ms": float(data.get("duration_ms", 0.0)),
        "finish_reason": data.get("finish_reason"),
        "error": data.get("error"),
        "deployment": data.get("deployment"),
        "cache_creation_tokens": int(data.get("cache_creation_tokens") or 0),
    }


@dataclass(slots=True)
class Totals:
    calls: int = 0
    retries: int = 0  # calls whose attempt was 2 or more
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    # Calls by (outcome, status, fault kind): one count per call, the breakdowns when read.
    kinds: dict[tuple[str, int, str | None], int] = field(default_factory=dict)

    def add(self, r: LedgerRecord) -> None:
        self.calls += 1
        if r.attempt > 1:
            self.retries += 1
        self.input_tokens += r.input_tokens
        self.output_tokens += r.output_tokens
        self.cached_tokens += r.cached_tokens
        self.cost_usd += r.cost_usd
        key = (r.outcome, r.status, None if r.fault is None else r.fault.get("kind", "?"))
        kinds = self.kinds
        kinds[key] = kinds.get(key, 0) + 1

    def merge(self, other: Totals) -> None:
        self.calls += other.calls
        self.retries += other.retries
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_tokens += other.cached_tokens
        self.cost_usd += other.cost_usd
        for key, n in other.kinds.items():
            self.kinds[key] = self.kinds.get(key, 0) + n

    def as_dict(self) -> dict[str, Any]:
        outcomes: dict[str, int] = {}
        statuses: dict[str, int] = {}
        faults: dict[str, int] = {}
        for (outcome, status, fault), n in self.kinds.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
            statuses[str(status)] = statuses.get(str(status), 0) + n
            if fault is not None:
                faults[fault] = faults.get(fault, 0) + n
        return {
            "calls": self.calls,
            "retries": self.retries,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "outcomes": outcomes,
            "statuses": statuses,
            "faults": faults,
        }


_DIMENSIONS = ("route", "feature", "tenant", "model")


class Ledger:
    """Bounded in-memory record store with an optional JSONL sink and running summaries."""

    def __init__(self, max_records: int = 100_000, path: Path | None = None) -> None:
        self._records: deque[LedgerRecord] = deque(maxlen=max_records)
        self._seq = 0
        self._path = path
        self._sink = LedgerFile(path) if path is not None else None
        # One Totals per (route, feature, tenant, model) seen; the totals and the per-dimension
        # breakdowns are merged from these when a summary is read, so a call adds to one Totals.
        self._groups: dict[tuple[str | None, str | None, str | None, str | None], Totals] = {}
        # Bounded per tag (and model, which an unknown-model call sets to what it asked for).
        self._bounded = tuple(BoundedValues() for _ in _DIMENSIONS)

    @property
    def last_seq(self) -> int:
        return self._seq

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, record: LedgerRecord) -> None:
        self._records.append(record)
        tags = record.tags
        # None and "" both mean untagged: told apart here, merged when a summary is read.
        route, feature, tenant, model = self._bounded
        key = (
            route(tags.get("route")),
            feature(tags.get("feature")),
            tenant(tags.get("tenant")),
            model(record.model),
        )
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Totals()
        group.add(record)
        if self._sink is not None:
            self._sink.write(orjson.dumps(record.as_dict()) + b"\n")

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
        """Totals, and totals by route, feature, tenant and model (in order of first use)."""
        merged: dict[str, dict[str, Totals]] = {dim: {} for dim in _DIMENSIONS}
        overall = Totals()
        for key, group in self._groups.items():
            overall.merge(group)
            for dim, tag in zip(_DIMENSIONS, key, strict=True):
                value = tag or ""
                totals = merged[dim].get(value)
                if totals is None:
                    totals = merged[dim][value] = Totals()
                totals.merge(group)
        by = {
            dim: {value or "(untagged)": totals.as_dict() for value, totals in values.items()}
            for dim, values in merged.items()
        }
        return {"totals": overall.as_dict(), "by": by, "last_seq": self._seq}

    def clear(self) -> None:
        self._records.clear()
        self._groups.clear()
        for values in self._bounded:
            values.clear()

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
