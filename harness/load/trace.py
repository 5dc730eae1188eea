"""Traces: recorded arrivals a `load: {mode: trace}` replays (SPEC §9, docs/experiments.md).

A trace is a list of arrivals, each a time in seconds and the template values of that request
(`{{ trace.tenant }}`). Three formats, told apart by `load.format` or else by the path:

- a CSV file (`*.csv`, or text whose first character is not `{`): a header row with a `t_s`
  column, seconds from load start as written (>= 0); every other column is a template value;
- a ledger JSONL (`*.jsonl`, `*.ndjson`, or text starting with `{`), as `rehearse serve --ledger`
  writes it: one call per line, its arrival `ts_start`, times made relative to the earliest call;
  retries (`attempt` > 1) are left out, since the route under test makes its own;
- a cassette directory (`rehearse record --cassette DIR`): one arrival per exchange at its
  `recorded_at`, relative to the earliest; an SDK's retries (`x-stainless-retry-count` > 0)
  are left out, as the ledger's are.

Arrivals are sorted by time (a stable sort: ties keep the file's order), so a log written as
calls ended still replays in the order they began; request `seq` is the arrival's place in
that order. A trace is read whole before the load starts and holds at most `MAX_ARRIVALS`.
"""

from __future__ import annotations

import csv
import math
import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from harness.errors import InvalidExperiment
from harness.experiment.model import Load

TraceFormat = Literal["csv", "ledger", "cassette"]
MAX_ARRIVALS = 1_000_000  # arrivals a trace may hold (rows, ledger calls, exchanges)
MAX_TRACE_BYTES = 256 * 1024 * 1024  # a CSV or ledger file
MAX_VALUE_CHARS = 100_000  # one template value
# Ledger fields offered as template values, and where each comes from.
LEDGER_COLUMNS = (
    "api", "model", "stream", "route", "feature", "tenant", "input_tokens", "output_tokens",
    "cached_tokens", "status", "outcome", "finish_reason", "request_id", "seq",
)  # fmt: skip
CASSETTE_COLUMNS = ("api", "model", "stream", "method", "path", "body", "route", "feature", "tenant")
_TAG_HEADERS = {"route": "x-route", "feature": "x-feature", "tenant": "x-tenant"}


class TraceError(InvalidExperiment):
    """A trace that cannot be replayed; the message names the file, the line and what is wrong."""


Value = str | None  # None: this arrival has no such value (a ledger call without a tenant tag)


class TraceValues:
    """One arrival's template values: `trace.NAME` or `trace['NAME']` in a template. No methods
    of its own, so a column may be named anything (`keys`, `items`, ...)."""

    __slots__ = ("_index", "_row")

    def __init__(self, index: Mapping[str, int], row: tuple[Value, ...]) -> None:
        self._index = index
        self._row = row

    def __getitem__(self, name: str) -> str:
        value = self._row[self._index[name]]
        if value is None:
            raise KeyError(name)
        return value


@dataclass(slots=True)
class Trace:
    """Arrivals sorted by time: `times[i]` seconds and `rows[i]` values (by `columns`)."""

    source: str
    format: TraceFormat
    columns: tuple[str, ...]
    times: array[float]
    rows: list[tuple[Value, ...]]
    lines: array[int]  # where each arrival is in the file: its line, or its cassette file's index
    files: list[str] | None = None  # a cassette's exchange files
    index: dict[str, int] = field(init=False)  # column name -> place in a row

    def __post_init__(self) -> None:
        self.index = {name: i for i, name in enumerate(self.columns)}

    def __len__(self) -> int:
        return len(self.times)

    def where(self, i: int) -> str:
        """`FILE: line N` (or the exchange's file) of arrival `i`, for messages."""
        if self.files is not None:
            return self.files[self.lines[i]]
        return f"{self.source}: line {self.lines[i]}"

    def values(self, i: int) -> TraceValues:
        return TraceValues(self.index, self.rows[i])

    def due_times(self, speed: float, duration_s: float, max_requests: int) -> Iterator[float]:
        """Due times from load start (`t_s / speed`): at most `max_requests`, all before
        `duration_s` (arrivals past the end of the load are not sent)."""
        for i, t in enumerate(self.times):
            due = t / speed
            if i >= max_requests or due >= duration_s:
                return
            yield due

    def peak_rate(self, speed: float) -> float:
        """The most arrivals in any one second of the replay (for sizing the connection pool)."""
        times, peak, start = self.times, 0, 0
        for end, t in enumerate(times):
            while (t - times[start]) / speed >= 1.0:
                start += 1
            peak = max(peak, end - start + 1)
        return float(peak)

    def check_columns(self, used: Mapping[str, str]) -> None:
        """Every value a template uses (`used`: name -> the field using it) is in every arrival."""
        index = self.index
        for name, field_path in sorted(used.items()):
            if name not in index:
                have = ", ".join(self.columns) or "(none)"
                raise TraceError(
                    f"{self.source}: {field_path} uses trace.{name}, which this trace lacks (it has: {have})"
                )
            column = index[name]
            for i, row in enumerate(self.rows):
                if row[column] is None:
                    raise TraceError(f"{self.where(i)}: no value for trace.{name}, which {field_path} uses")


def detect_format(path: Path) -> TraceFormat:
    """A directory is a cassette; `.csv` a CSV; `.jsonl`/`.ndjson`/`.json` a ledger; other
    files by their first character (`{`: a ledger, else a CSV)."""
    if path.is_dir():
        return "cassette"
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "ledger"
    try:
        with path.open("rb") as f:
            head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as e:
        raise TraceError(f"{path}: cannot read the trace: {e.strerror or e}") from None
    return "ledger" if head.startswith(b"{") else "csv"


def read_trace(path: Path, fmt: TraceFormat | Literal["auto"] = "auto") -> Trace:
    """The trace at `path`, read whole and sorted; `TraceError` names the file and line."""
    if not path.exists():
        raise TraceError(f"{path}: no such trace file or cassette directory")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "cassette":
        return _read_cassette(path)
    if not path.is_file():
        raise TraceError(f"{path}: a {fmt} trace is a file, not a directory")
    size = path.stat().st_size
    if size > MAX_TRACE_BYTES:
        raise TraceError(f"{path}: {size:,} bytes: more than the {MAX_TRACE_BYTES:,} a trace file may hold")
    builder = _Builder(str(path), fmt)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            if fmt == "csv":
                _read_csv(f, builder)
            else:
                _read_ledger(f, builder)
    except OSError as e:
        raise TraceError(f"{path}: cannot read the trace: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise TraceError(f"{path}: not UTF-8 text (byte {e.start})") from None
    if not builder.times:
        raise TraceError(f"{path}: a trace with no arrivals")
    return builder.build(relative=fmt == "ledger")


class _Builder:
    """Arrivals as they are read, then sorted into a `Trace`."""

    def __init__(self, source: str, fmt: TraceFormat) -> None:
        self.source = source
        self.format: TraceFormat = fmt
        self.columns: tuple[str, ...] = ()
        self.times: array[float] = array("d")
        self.rows: list[tuple[Value, ...]] = []
        self.lines: array[int] = array("q")
        self.files: list[str] | None = None

    def add(self, t: float, row: Sequence[Value], line: int) -> None:
        if len(self.times) >= MAX_ARRIVALS:
            raise TraceError(f"{self.where(line)}: more than the {MAX_ARRIVALS:,} arrivals a trace may hold")
        present = [v for v in row if v is not None]
        longest = max(map(len, present), default=0)
        if longest > MAX_VALUE_CHARS:
            raise TraceError(
                f"{self.where(line)}: a value of {longest:,} characters; at most {MAX_VALUE_CHARS:,}"
            )
        self.times.append(t)
        # Interned: a million rows of a few tenants and models share their strings.
        if len(present) == len(row):
            self.rows.append(tuple(map(sys.intern, present)))
        else:
            self.rows.append(tuple(None if v is None else sys.intern(v) for v in row))
        self.lines.append(line)

    def where(self, line: int) -> str:
        return self.files[line] if self.files is not None else f"{self.source}: line {line}"

    def build(self, relative: bool = False) -> Trace:
        times, rows, lines = self.times, self.rows, self.lines
        if any(times[i] < times[i - 1] for i in range(1, len(times))):
            order = sorted(range(len(times)), key=times.__getitem__)  # stable: ties keep file order
            times = array("d", (times[i] for i in order))
            rows = [rows[i] for i in order]
            lines = array("q", (lines[i] for i in order))
        if relative and times:
            first = times[0]
            times = array("d", (t - first for t in times))
        return Trace(self.source, self.format, self.columns, times, rows, lines, self.files)


def _read_csv(f: Any, builder: _Builder) -> None:
    reader = csv.reader(f)
    try:
        header = next(reader, None)
        if header is None:
            raise TraceError(f"{builder.source}: an empty CSV: it needs a header row with a `t_s` column")
        names = [h.strip() for h in header]
        if "t_s" not in names:
            raise TraceError(f"{builder.source}: line 1: no `t_s` column in the header ({', '.join(names)})")
        for name in names:
            if not name:
                raise TraceError(f"{builder.source}: line 1: a column without a name")
            if names.count(name) > 1:
                raise TraceError(f"{builder.source}: line 1: two columns named {name!r}")
        at = names.index("t_s")
        builder.columns = tuple(n for n in names if n != "t_s")
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if len(row) != len(names):
                raise TraceError(
                    f"{builder.source}: line {line}: {len(row)} fields, but the header has {len(names)}"
                )
            builder.add(_seconds(row[at], builder, line), row[:at] + row[at + 1 :], line)
    except csv.Error as e:
        raise TraceError(f"{builder.source}: line {reader.line_num}: not CSV: {e}") from None


def _seconds(text: str, builder: _Builder, line: int) -> float:
    try:
        t = float(text)
    except ValueError:
        raise TraceError(f"{builder.where(line)}: t_s: expected seconds (a number), got {text!r}") from None
    if not math.isfinite(t) or t < 0:
        raise TraceError(f"{builder.where(line)}: t_s: expected seconds >= 0, got {text!r}")
    return t


def _read_ledger(f: Any, builder: _Builder) -> None:
    builder.columns = LEDGER_COLUMNS
    for line, text in enumerate(f, 1):
        if not text.strip():
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise TraceError(f"{builder.where(line)}: not a JSON ledger record: {e}") from None
        if not isinstance(data, dict):
            raise TraceError(f"{builder.where(line)}: a ledger record is a JSON object")
        start = data.get("ts_start")
        if isinstance(start, bool) or not isinstance(start, int | float) or not math.isfinite(start):
            raise TraceError(f"{builder.where(line)}: ts_start: expected a time in seconds, got {start!r}")
        attempt = data.get("attempt", 1)
        if isinstance(attempt, int) and attempt > 1:
            continue  # a retry: the route under test makes its own
        tags = data.get("tags")
        if not isinstance(tags, dict):
            tags = {}
        row = tuple(_text(tags.get(c) if c in _TAG_HEADERS else data.get(c)) for c in LEDGER_COLUMNS)
        builder.add(float(start), row, line)


def _text(value: Any) -> Value:
    """A value as a template sees it: text; numbers and booleans as JSON writes them."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _read_cassette(directory: Path) -> Trace:
    from fakeprovider.replay.cassette import CassetteError, exchange_paths, read_exchange

    builder = _Builder(str(directory), "cassette")
    builder.columns = CASSETTE_COLUMNS
    builder.files = []
    try:
        paths = exchange_paths(directory)
        for path in paths:
            x = read_exchange(path)
            builder.files.append(str(path))
            index = len(builder.files) - 1
            try:
                at = datetime.fromisoformat(x.recorded_at.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise TraceError(
                    f"{path}: recorded_at: expected an ISO 8601 time, got {x.recorded_at!r}"
                ) from None
            headers = x.request.headers
            if headers.get("x-stainless-retry-count", "0") not in ("", "0"):
                continue  # an SDK's retry (the official SDKs count them): not a new arrival
            body = x.request.body
            metadata = body.get("metadata") if isinstance(body, dict) else None
            tags = {
                tag: headers.get(header) or (_text(metadata.get(tag)) if isinstance(metadata, dict) else None)
                for tag, header in _TAG_HEADERS.items()
            }
            row = (
                x.api, x.model, _text(x.stream), x.request.method, x.request.path,
                None if body is None else orjson.dumps(body).decode(),
                tags["route"], tags["feature"], tags["tenant"],
            )  # fmt: skip
            builder.add(at, row, index)
    except CassetteError as e:
        raise TraceError(str(e)) from None
    if not builder.times:
        raise TraceError(f"{directory}: a cassette with no exchanges (*.json files) to replay")
    return builder.build(relative=True)


def trace_of(load: Load, folder: Path | None = None) -> Trace | None:
    """The trace a `mode: trace` load replays (its `file` from `folder`, if relative), else None."""
    if load.mode != "trace" or load.file is None:
        return None
    path = Path(load.file)
    if folder is not None:
        path = folder / path  # an absolute `file` stays as it is
    return read_trace(path, load.format)
