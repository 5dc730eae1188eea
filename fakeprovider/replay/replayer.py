"""Serving from a cassette: `rehearse serve --replay DIR`, `FakeProvider(replay=…)`.

`Replay` holds the loaded cassette's matcher, what a miss does (`generate` as usual, or `error`:
a 400 naming the nearest recording) and the speed recorded timing is played at. A recorded
answer is read back by its dialect (`read_answer`) once, the first time it is served, and kept
with its delays at this speed, so serving it again costs no more than building a plan.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from fakeprovider.dialects.base import ChatDialect, ResponseMeta, Usage
from fakeprovider.errors import ProviderError, invalid
from fakeprovider.generation.events import Event
from fakeprovider.generation.plan import FinishReason
from fakeprovider.replay.answer import offsets_to_delays
from fakeprovider.replay.cassette import Cassette, CassetteError, Exchange
from fakeprovider.replay.matcher import MISS_POLICIES, Matcher, MissPolicy

# Recorded response headers a replayed error answer carries again (the rest are the server's own).
_ERROR_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What `--replay`, `--replay-miss` and `--replay-speed` say."""

    directory: Path
    miss: MissPolicy = "generate"
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.miss not in MISS_POLICIES:
            raise CassetteError(f"replay miss: expected one of {', '.join(MISS_POLICIES)}, got {self.miss!r}")
        if not (isinstance(self.speed, int | float) and math.isfinite(self.speed) and self.speed > 0):
            raise CassetteError(f"replay speed: expected a number > 0, got {self.speed!r}")


@dataclass(frozen=True, slots=True)
class TimedAnswer:
    """A recorded 2xx chat answer as a plan's parts, at the replay's speed."""

    events: list[Event]
    delays: list[float]
    tail_delay: float
    finish: FinishReason
    usage: Usage
    meta: ResponseMeta | None

    def new_meta(self) -> ResponseMeta | None:
        """The recorded ids, as a copy (a Responses stream numbers its events on its meta)."""
        return None if self.meta is None else copy.copy(self.meta)


@dataclass(frozen=True, slots=True)
class RecordedError:
    """A recorded non-2xx answer, replayed as it came: status, body, the retry headers."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]
    message: str


@dataclass(frozen=True, slots=True)
class RecordedEmbedding:
    body: bytes
    input_tokens: int


class Replay:
    """A cassette being served: which recording answers a request, and what it answers."""

    def __init__(self, options: ReplayOptions, realistic: bool = True) -> None:
        """Load the cassette (`CassetteError` names the file and field that is wrong).
        `realistic` False (`--latency none`) plays recorded answers with no delay at all."""
        self.options = options
        self.miss = options.miss
        self.speed = options.speed
        self.realistic = realistic
        self.matcher = Matcher(Cassette.load(options.directory))
        self._answers: dict[int, TimedAnswer | RecordedError | RecordedEmbedding] = {}

    @property
    def directory(self) -> Path:
        return self.options.directory

    def find(self, api: str, model: str | None, stream: bool, body: Any) -> Exchange | None:
        return self.matcher.find(api, model, stream, body)

    def miss_error(self, api: str, model: str | None, stream: bool, body: Any) -> ProviderError:
        """The 400 a miss is refused with under `--replay-miss error`, naming the nearest."""
        near = self.matcher.nearest(api, model, stream, body)
        where = near.describe() if near is not None else "the cassette holds no recordings"
        return invalid(
            f"No recorded {api} request matches this one (model {model!r}, stream "
            f"{str(stream).lower()}) in the cassette {self.directory}; {where}.",
            code="replay_miss",
        )

    def chat_answer(self, dialect: ChatDialect, x: Exchange) -> TimedAnswer | RecordedError:
        """What recording `x` answers, read once and kept."""
        found = self._answers.get(id(x))
        if found is None:
            found = self._recorded_error(x) or self._timed(dialect, x)
            self._answers[id(x)] = found
        assert not isinstance(found, RecordedEmbedding)
        return found

    def embedding_answer(self, x: Exchange) -> RecordedEmbedding | RecordedError:
        """The recorded embeddings body, answered as it is; its `usage.prompt_tokens` billed."""
        found = self._answers.get(id(x))
        if found is None:
            found = self._recorded_error(x) or self._embedding(x)
            self._answers[id(x)] = found
        assert not isinstance(found, TimedAnswer)
        return found

    def delay_s(self, x: Exchange) -> float:
        """How long a recorded whole answer took, at this speed (0 without latency)."""
        return x.response.end_ms / (1000 * self.speed) if self.realistic else 0.0

    def stats(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "recordings": len(self.matcher.cassette.exchanges),
            "miss": self.miss,
            "speed": self.speed,
            "hits": self.matcher.hits,
            "misses": self.matcher.misses,
        }

    def rewind(self) -> None:
        self.matcher.rewind()

    def _timed(self, dialect: ChatDialect, x: Exchange) -> TimedAnswer:
        try:
            answer = dialect.read_answer(x)
        except CassetteError:
            raise
        except (ValueError, KeyError, TypeError) as e:
            raise CassetteError(f"{x.source}: cannot read the recorded {x.api} answer: {e}") from None
        if self.realistic:
            delays, tail = offsets_to_delays(answer.offsets_ms, answer.end_ms, self.speed)
        else:
            delays, tail = [0.0] * len(answer.events), 0.0
        return TimedAnswer(answer.events, delays, tail, answer.finish, answer.usage, answer.meta)

    @staticmethod
    def _recorded_error(x: Exchange) -> RecordedError | None:
        r = x.response
        if 200 <= r.status < 300:
            return None
        if r.text is not None:
            body, content_type, message = r.text.encode(), "text/plain", r.text
        else:
            body, content_type = orjson.dumps(r.body), "application/json"
            message = _error_message(r.body) or body.decode(errors="replace")
        headers = {name: r.headers[name] for name in _ERROR_HEADERS if name in r.headers}
        return RecordedError(r.status, body, content_type, headers, message[:500])

    @staticmethod
    def _embedding(x: Exchange) -> RecordedEmbedding:
        body = x.response.body
        usage = body.get("usage") if isinstance(body, dict) else None
        tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        return RecordedEmbedding(orjson.dumps(body), tokens if isinstance(tokens, int) else 0)


def _error_message(body: Any) -> str | None:
    """The message of an error body in any provider's shape (`{"error": {"message"}}`,
    `{"message"}`, Gemini's `{"error": {"message"}}`, Bedrock's `{"Message"}`)."""
    if not isinstance(body, dict):
        return None
    inner = body.get("error")
    if isinstance(inner, dict) and isinstance(inner.get("message"), str):
        return str(inner["message"])
    for name in ("message", "Message"):
        if isinstance(body.get(name), str):
            return str(body[name])
    return None
