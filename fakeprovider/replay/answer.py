"""A recorded answer as neutral values: what a dialect reads back out of a cassette exchange.

Central idea 3: replay yields the same events a generated plan has, with the recorded timing,
so faults, quotas, the ledger and the clauses work on replayed answers as on generated ones.
A chat dialect's `read_answer(exchange)` gives one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fakeprovider.generation import tokens
from fakeprovider.generation.events import Event, TextDelta, ToolArgsDelta, ToolCallStart
from fakeprovider.generation.plan import FinishReason

if TYPE_CHECKING:  # the dialects import this module: at run time it must not import them
    from fakeprovider.dialects.base import ResponseMeta, Usage

NOT_RECORDED = -1  # `Usage.input_tokens` of a recording without usage: the server counts the prompt


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


def openai_usage(data: Any, prompt: str, completion: str) -> Usage | None:
    """An OpenAI `usage` object (chat's `prompt_tokens`/`completion_tokens`, the Responses API's
    `input_tokens`/`output_tokens`, each with `…_details.cached_tokens`) as neutral usage, or
    None when it has no counts."""
    from fakeprovider.dialects.base import Usage  # here: see the import above

    if not isinstance(data, dict):
        return None
    i, o = data.get(prompt), data.get(completion)
    if not isinstance(i, int) or not isinstance(o, int):
        return None
    details = data.get(prompt + "_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(i, cached if isinstance(cached, int) else 0, o)


def fit_tokens(counts: list[int], total: int) -> list[int]:
    """`counts` (each piece's own token count, or a guess) rescaled to sum to `total`, the
    recording's output tokens, so a replayed stream bills exactly what was recorded however far
    it gets. Largest remainders get the rounding; pieces keep their order and proportions."""
    have = sum(counts)
    if have == total or not counts:
        return list(counts)
    if have == 0:
        counts = [1] * len(counts)
        have = len(counts)
    shares = [c * total / have for c in counts]
    fitted = [int(s) for s in shares]
    short = total - sum(fitted)
    by_remainder = sorted(range(len(counts)), key=lambda i: shares[i] - fitted[i], reverse=True)
    for i in by_remainder[:short]:
        fitted[i] += 1
    return fitted


def offsets_to_delays(offsets_ms: list[float], end_ms: float, speed: float) -> tuple[list[float], float]:
    """A plan's `delays` (seconds before each event) and `tail_delay` (after the last, before the
    end) from a recording's offsets (ms from the request's start), played `speed` times faster."""
    scale = 1 / (1000 * speed)
    delays: list[float] = []
    last = 0.0
    for t in offsets_ms:
        delays.append(max(0.0, t - last) * scale)
        last = max(last, t)
    return delays, max(0.0, end_ms - last) * scale


class AnswerBuilder:
    """Collects a recorded answer's pieces (text, tool-call starts, argument pieces) with their
    arrival times, then makes the `RecordedAnswer`: the pieces as events whose tokens sum to the
    recorded output. Whole bodies add their text with `split=True`: cut into token pieces, so a
    fault can cut a replayed answer mid-way as it cuts a generated one."""

    def __init__(self, encoding: str = "o200k_base") -> None:
        self.encoding = encoding
        self._pieces: list[tuple[int, int, str, str, float]] = []  # kind, index, id/name, text, t_ms
        self._counts: list[int] = []
        self._call_index: dict[object, int] = {}  # the recording's call key: ordinal from 0

    def text(self, text: str, t_ms: float, *, split: bool = False) -> None:
        if not text:
            return
        if split:
            for piece, n in tokens.pieces(text, self.encoding):
                self._pieces.append((0, 0, "", piece, t_ms))
                self._counts.append(n)
        else:
            self._pieces.append((0, 0, "", text, t_ms))
            self._counts.append(-1)  # counted when the total is not recorded

    def call(self, key: object, call_id: str, name: str, t_ms: float) -> None:
        """A tool call opens; `key` is how the recording names it (an index, an item id)."""
        index = self._call_index.setdefault(key, len(self._call_index))
        self._pieces.append((1, index, call_id, name, t_ms))
        self._counts.append(0)

    def args(self, key: object, text: str, t_ms: float, *, split: bool = False) -> None:
        index = self._call_index.get(key)
        if index is None or not text:
            return  # arguments of a call never opened: nothing to attach them to
        if split:
            for piece, n in tokens.pieces(text, self.encoding):
                self._pieces.append((2, index, "", piece, t_ms))
                self._counts.append(n)
        else:
            self._pieces.append((2, index, "", text, t_ms))
            self._counts.append(-1)

    @property
    def has_calls(self) -> bool:
        return bool(self._call_index)

    def build(
        self, finish: FinishReason, usage: Usage | None, end_ms: float, meta: ResponseMeta | None
    ) -> RecordedAnswer:
        from fakeprovider.dialects.base import Usage  # here: see the imports above

        counts = self._counts
        if usage is None or -1 in counts:
            counts = [
                tokens.count(p[3], self.encoding) if c < 0 else c
                for c, p in zip(counts, self._pieces, strict=True)
            ]
        if usage is None:
            usage = Usage(NOT_RECORDED, 0, sum(counts))
        else:
            text_counts = [c for c, p in zip(counts, self._pieces, strict=True) if p[0] != 1]
            fitted = iter(fit_tokens(text_counts, usage.output_tokens))
            counts = [0 if p[0] == 1 else next(fitted) for p in self._pieces]
        events: list[Event] = []
        for (kind, index, ident, text, _), n in zip(self._pieces, counts, strict=True):
            if kind == 0:
                events.append(TextDelta(text, n))
            elif kind == 1:
                events.append(ToolCallStart(index, ident, text))
            else:
                events.append(ToolArgsDelta(index, text, n))
        offsets = [p[4] for p in self._pieces]
        return RecordedAnswer(events, offsets, end_ms, finish, usage, meta)
