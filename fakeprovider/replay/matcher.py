"""Finding a request's recording in a cassette, and the one nearest it when there is none.

A request matches a recording with the same match key (`cassette.match_key`: surface, model as
named, stream flag, normalised body). Several recordings of one key are served in recording
order, one per matching request, and cycle back to the first after the last, so a cassette that
recorded three tries of one prompt replays them in turn, again and again.

On a miss the matcher names the nearest recording: among the recordings of the same surface
(else all), at most `NEAREST_CANDIDATES` of them, those with the same model and stream flag
first, the one whose normalised body shares the most top-level fields, ties to the earliest;
and the first difference between the bodies as a dotted path (`messages.0.content differs`).
The work is bounded: a candidate costs one comparison of top-level fields, the chosen one a
walk of at most `MAX_DIFF_STEPS` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fakeprovider.replay.cassette import Cassette, Exchange, match_key, normalised

MissPolicy = Literal["generate", "error"]
MISS_POLICIES: tuple[MissPolicy, ...] = ("generate", "error")
NEAREST_CANDIDATES = 1_000  # recordings compared field by field on a miss
MAX_DIFF_STEPS = 10_000  # values walked to find the first difference


@dataclass(frozen=True, slots=True)
class Nearest:
    """The recording nearest a request that matched none, and how they first differ."""

    exchange: Exchange
    difference: str

    def describe(self) -> str:
        name = Path(self.exchange.source).name or "(unnamed)"
        return f"the nearest recording is {name}: {self.difference}"


@dataclass(slots=True)
class Matcher:
    """A cassette's recordings by key, each key's next one to serve, and hit/miss counts."""

    cassette: Cassette
    hits: int = 0
    misses: int = 0
    _next: dict[str, int] = field(default_factory=dict)

    def find(self, api: str, model: str | None, stream: bool, body: Any) -> Exchange | None:
        """The recording to answer this request with (the next in turn of its key), or None."""
        key = match_key(api, model, stream, body)
        found = self.cassette.by_key.get(key)
        if not found:
            self.misses += 1
            return None
        self.hits += 1
        turn = self._next.get(key, 0)
        self._next[key] = (turn + 1) % len(found)
        return found[turn]

    def rewind(self) -> None:
        """Every key back to its first recording; counts to zero."""
        self._next.clear()
        self.hits = self.misses = 0

    def nearest(self, api: str, model: str | None, stream: bool, body: Any) -> Nearest | None:
        """The recording most like this request (see the module's doc), or None if the cassette
        holds none."""
        exchanges = self.cassette.exchanges
        pool = [x for x in exchanges if x.api == api] or exchanges
        if not pool:
            return None
        pool = pool[:NEAREST_CANDIDATES]
        want = normalised(body)
        best: Exchange | None = None
        best_score = (-1, -1, -1)
        for i, x in enumerate(pool):
            score = (int(x.model == model and x.stream == stream), _shared_fields(want, x), -i)
            if score > best_score:
                best, best_score = x, score
        assert best is not None
        return Nearest(best, _difference(api, model, stream, want, best))


def _shared_fields(want: Any, x: Exchange) -> int:
    got = normalised(x.request.body)
    if not isinstance(want, dict) or not isinstance(got, dict):
        return int(want == got)
    return sum(1 for k, v in want.items() if k in got and got[k] == v)


def _difference(api: str, model: str | None, stream: bool, want: Any, x: Exchange) -> str:
    if x.api != api:
        return f"surface {x.api}, not {api}"
    if x.model != model:
        return f"model {x.model!r}, not {model!r}"
    if x.stream != stream:
        return f"stream {str(x.stream).lower()}, not {str(stream).lower()}"
    path = _first_difference(want, normalised(x.request.body))
    return f"{path or 'the body'} differs" if path is not None else "the bodies are the same"


def _first_difference(a: Any, b: Any) -> str | None:
    """The dotted path of the first place `a` and `b` differ ('' for the values themselves),
    or None when they are equal (or the walk ran out of steps: then '' is returned)."""
    steps = 0
    stack: list[tuple[str, Any, Any]] = [("", a, b)]
    while stack:
        path, x, y = stack.pop()
        steps += 1
        if steps > MAX_DIFF_STEPS:
            return path
        if isinstance(x, dict) and isinstance(y, dict):
            keys = sorted(set(x) | set(y))
            missing = [k for k in keys if (k in x) != (k in y)]
            if missing:
                return _join(path, str(missing[0]))
            stack.extend((_join(path, str(k)), x[k], y[k]) for k in reversed(keys))
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                common = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), None)
                return _join(path, str(common if common is not None else min(len(x), len(y))))
            stack.extend((_join(path, str(i)), x[i], y[i]) for i in reversed(range(len(x))))
        elif x != y or type(x) is not type(y):
            return path
    return None


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part
