"""Cassettes: recorded provider exchanges, one JSON file each, and how a request finds its own.

A cassette is a directory. `rehearse record` writes one file per exchange into it; `rehearse serve
--replay` answers from it, `rehearse profile` fits latency from it, and a `mode: trace` load
replays its arrivals. The format (docs/replay.md, "The cassette format") is pretty-printed JSON
with a fixed key order, so a cassette diffs line by line under version control:

    {
      "rehearsal_cassette": 1,
      "api": "openai.chat",          the surface (a dialect's ledger `api`)
      "model": "gpt-4o-mini",        as the caller named it (body, path or deployment)
      "stream": true,
      "key": "…",                    the match key: see `match_key`
      "recorded_at": "2026-12-07T19:30:00.123Z",
      "request": {"method", "path", "query", "headers", "body"},
      "response": {"status", "headers", "body" | "text" | "events", "end_ms"}
    }

`events` is a stream, one entry per event as it arrived: `t_ms` (from the request's start),
`event` (the SSE `event:` name, or the AWS event stream's `:event-type`), `data` (parsed JSON
where it is JSON, else the text) or `comment` (an SSE comment line). Secret headers and query
parameters are written as `<redacted>`; the credentials themselves never reach the file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

FORMAT = 1
IGNORED_FIELDS = frozenset({"user", "metadata", "stream_options"})  # left out of the match
REDACTED = "<redacted>"
# Headers and query parameters that carry credentials or session secrets.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "x-amz-security-token",
        "cookie",
        "set-cookie",
    }
)
_SECRET_WORDS = re.compile(r"(secret|token|password|credential|signature)", re.IGNORECASE)
SECRET_QUERY = frozenset({"key", "api_key", "api-key", "sig", "signature", "token", "access_token"})

MAX_EXCHANGES = 100_000  # files a cassette may hold
MAX_FILE_BYTES = 16 * 1024 * 1024  # one exchange file
MAX_EVENTS = 200_000  # events in one recorded stream


class CassetteError(ValueError):
    """A cassette that cannot be used; the message names the file and what is wrong."""


class ExchangeTooLarge(CassetteError):
    """One exchange whose file would pass `MAX_FILE_BYTES`: not written, the cassette goes on."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One event of a recorded stream, `t_ms` after the request started."""

    t_ms: float
    event: str | None = None
    data: Any = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """What came back: a JSON `body`, a non-JSON `text`, or a stream's `events`."""

    status: int
    headers: dict[str, str]
    body: Any = None
    text: str | None = None
    events: tuple[RecordedEvent, ...] | None = None
    end_ms: float = 0.0  # when the last byte arrived


@dataclass(frozen=True, slots=True)
class Exchange:
    """One recorded call: the surface, the request as sent and the answer as received."""

    api: str
    model: str | None
    stream: bool
    request: RecordedRequest
    response: RecordedResponse
    recorded_at: str = ""
    key: str = ""
    source: str = ""  # the file it was read from (for messages)

    def with_key(self) -> Exchange:
        key = match_key(self.api, self.model, self.stream, self.request.body)
        return Exchange(
            self.api, self.model, self.stream, self.request, self.response, self.recorded_at, key, self.source
        )


def normalised(body: Any) -> Any:
    """The request body as matching sees it: top-level `IGNORED_FIELDS` left out."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    return body


def match_key(api: str, model: str | None, stream: bool, body: Any) -> str:
    """What a replayed request must share with a recorded one: surface, model, streaming, and the
    normalised body (keys sorted, so key order in the JSON does not matter)."""
    canonical = orjson.dumps(
        [api, model, stream, normalised(body)], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()[:32]


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as a cassette keeps them: names lower-cased, secrets replaced by `REDACTED`."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        secret = low in SECRET_HEADERS or _SECRET_WORDS.search(low) is not None
        out[low] = REDACTED if secret else value
    return out


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SECRET_QUERY else v) for k, v in query.items()}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- writing ------------------------------------------------------------------------------------


def exchange_json(x: Exchange) -> dict[str, Any]:
    """The file's content, keys in the documented order."""
    response: dict[str, Any] = {"status": x.response.status, "headers": x.response.headers}
    if x.response.events is not None:
        response["events"] = [_event_json(e) for e in x.response.events]
    elif x.response.text is not None:
        response["text"] = x.response.text
    else:
        response["body"] = x.response.body
    response["end_ms"] = x.response.end_ms
    r = x.request
    return {
        "rehearsal_cassette": FORMAT,
        "api": x.api,
        "model": x.model,
        "stream": x.stream,
        "key": x.key or match_key(x.api, x.model, x.stream, r.body),
        "recorded_at": x.recorded_at,
        "request": {
            "method": r.method,
            "path": r.path,
            "query": r.query,
            "headers": r.headers,
            "body": r.body,
        },
        "response": response,
    }


def _event_json(e: RecordedEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"t_ms": e.t_ms}
    if e.event is not None:
        out["event"] = e.event
    if e.comment is not None:
        out["comment"] = e.comment
    else:
        out["data"] = e.data
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(seq: int, x: Exchange) -> str:
    """`000042-openai.chat-gpt-4o-mini-1a2b3c4d.json`: order, surface, model, key."""
    model = _UNSAFE.sub("_", x.model or "none")[:60]
    key = x.key or match_key(x.api, x.model, x.stream, x.request.body)
    return f"{seq:06d}-{x.api}-{model}-{key[:8]}.json"


class CassetteWriter:
    """Writes exchanges into a directory, numbered on from what it already holds; each file is
    written whole to a temporary name and renamed, so a reader never sees half of one."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        existing = [p.name for p in directory.glob("*.json")]
        self._seq = max((int(n[:6]) for n in existing if n[:6].isdigit()), default=0)
        if len(existing) >= MAX_EXCHANGES:
            raise CassetteError(f"{directory}: already holds {len(existing):,} exchanges (the cap)")

    def write(self, x: Exchange) -> Path:
        """Write `x` as the next file. `CassetteError` when the cassette is full,
        `ExchangeTooLarge` (nothing written, the number not used) when its file would be."""
        if self._seq >= MAX_EXCHANGES:
            raise CassetteError(f"{self.directory}: {MAX_EXCHANGES:,} exchanges recorded (the cap)")
        data = orjson.dumps(exchange_json(x), option=orjson.OPT_INDENT_2) + b"\n"
        if len(data) > MAX_FILE_BYTES:
            raise ExchangeTooLarge(
                f"{x.request.method} {x.request.path}: {len(data):,} bytes, more than the "
                f"{MAX_FILE_BYTES:,} an exchange file may hold; not recorded"
            )
        self._seq += 1
        path = self.directory / file_name(self._seq, x)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path


# --- reading ------------------------------------------------------------------------------------


def _need(cond: bool, source: str, what: str) -> None:
    if not cond:
        raise CassetteError(f"{source}: {what}")


def _str_map(value: Any, source: str, where: str) -> dict[str, str]:
    _need(
        isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
        source,
        f"{where}: expected an object of strings",
    )
    return dict(value)


def parse_exchange(data: Any, source: str) -> Exchange:
    """One file's JSON as an `Exchange`, or `CassetteError` naming the file and field."""
    _need(isinstance(data, dict), source, "expected a JSON object")
    version = data.get("rehearsal_cassette")
    _need(version == FORMAT, source, f"rehearsal_cassette: expected {FORMAT}, got {version!r}")
    api, model, stream = data.get("api"), data.get("model"), data.get("stream")
    _need(isinstance(api, str), source, "api: expected a string")
    _need(model is None or isinstance(model, str), source, "model: expected a string or null")
    _need(isinstance(stream, bool), source, "stream: expected true or false")
    req, resp = data.get("request"), data.get("response")
    _need(isinstance(req, dict), source, "request: expected an object")
    _need(isinstance(resp, dict), source, "response: expected an object")
    method, path = req.get("method"), req.get("path")
    _need(isinstance(method, str), source, "request.method: expected a string")
    _need(isinstance(path, str), source, "request.path: expected a string")
    request = RecordedRequest(
        method,
        path,
        _str_map(req.get("query", {}), source, "request.query"),
        _str_map(req.get("headers", {}), source, "request.headers"),
        req.get("body"),
    )
    status = resp.get("status")
    _need(
        isinstance(status, int) and 100 <= status <= 599, source, "response.status: expected an HTTP status"
    )
    end_ms = resp.get("end_ms", 0.0)
    _need(isinstance(end_ms, int | float) and end_ms >= 0, source, "response.end_ms: expected a number >= 0")
    events: tuple[RecordedEvent, ...] | None = None
    raw_events = resp.get("events")
    if raw_events is not None:
        _need(isinstance(raw_events, list), source, "response.events: expected a list")
        _need(len(raw_events) <= MAX_EVENTS, source, f"response.events: more than {MAX_EVENTS:,} events")
        events = tuple(_parse_event(e, source, i) for i, e in enumerate(raw_events))
    text = resp.get("text")
    _need(text is None or isinstance(text, str), source, "response.text: expected a string")
    x = Exchange(
        api,
        model,
        stream,
        request,
        RecordedResponse(
            status,
            _str_map(resp.get("headers", {}), source, "response.headers"),
            resp.get("body"),
            text,
            events,
            float(end_ms),
        ),
        str(data.get("recorded_at", "")),
        "",
        source,
    )
    return x.with_key()  # the key is always recomputed: a hand-edited body still matches


def _parse_event(e: Any, source: str, i: int) -> RecordedEvent:
    where = f"response.events.{i}"
    _need(isinstance(e, dict), source, f"{where}: expected an object")
    t_ms = e.get("t_ms")
    _need(isinstance(t_ms, int | float) and t_ms >= 0, source, f"{where}.t_ms: expected a number >= 0")
    name, comment = e.get("event"), e.get("comment")
    _need(name is None or isinstance(name, str), source, f"{where}.event: expected a string")
    _need(comment is None or isinstance(comment, str), source, f"{where}.comment: expected a string")
    return RecordedEvent(float(t_ms), name, e.get("data"), comment)


def read_exchange(path: Path) -> Exchange:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CassetteError(
                f"{path}: {size:,} bytes, more than the {MAX_FILE_BYTES:,} an exchange may hold"
            )
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise CassetteError(f"{path}: not JSON: {e}") from None
    except OSError as e:
        raise CassetteError(f"{path}: cannot read: {e.strerror or e}") from None
    return parse_exchange(data, str(path))


def exchange_paths(directory: Path) -> list[Path]:
    """The exchange files of a cassette, in recording order (their names start with it)."""
    if not directory.is_dir():
        raise CassetteError(f"{directory}: no such cassette directory")
    paths = sorted(directory.glob("*.json"))
    if len(paths) > MAX_EXCHANGES:
        raise CassetteError(
            f"{directory}: {len(paths):,} exchange files, more than the cap of {MAX_EXCHANGES:,}"
        )
    return paths


def iter_exchanges(directory: Path) -> Iterator[Exchange]:
    for path in exchange_paths(directory):
        yield read_exchange(path)


@dataclass(slots=True)
class Cassette:
    """A cassette read whole: its exchanges in recording order, and by match key."""

    directory: Path
    exchanges: list[Exchange]
    by_key: dict[str, list[Exchange]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> Cassette:
        exchanges = list(iter_exchanges(directory))
        by_key: dict[str, list[Exchange]] = {}
        for x in exchanges:
            by_key.setdefault(x.key, []).append(x)
        return cls(directory, exchanges, by_key)
